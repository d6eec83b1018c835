"""Evaluation metrics."""

from gankit.metrics.modes import ModeStats, mixture_mode_stats

__all__ = ["ModeStats", "mixture_mode_stats"]
