"""Errors that mean "the user asked for something wrong"; the CLI prints them in one line."""


class GankitError(Exception):
    """Base class for user mistakes: the message says what was wrong and how to fix it."""


class ConfigError(GankitError):
    """An unknown preset, an unknown or invalid config key, or a bad override."""


class DataError(GankitError):
    """Data that cannot be used: missing file, empty folder, unreadable image, NaN, wrong rank."""


class CheckpointError(GankitError):
    """A missing, corrupt or incompatible checkpoint or run directory."""
