"""Typed run configuration: presets, YAML files and command-line overrides.

Every section rejects unknown keys with a message naming the key and the
nearest valid one. The fully resolved config is what a run directory stores.
Each game kind has its own config class (config/gan.py, config/kinds.py, config/domain.py), on the
sections all share (config/sections.py); `game:` picks the class.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from gankit.config.design import CircuitsConfig, CircuitsSection, ContactSection, DesignConfig, DesignSection
from gankit.config.domain import DomainConfig, DomainDataConfig, DomainLossConfig, DomainModelConfig
from gankit.config.fields import FieldsConfig, FieldsSection
from gankit.config.gan import (
    ConditionConfig, DataConfig, GANConfig, GANDynamicsConfig, GANOptimConfig, InfoGANConfig, LossConfig, ModelConfig,
)
from gankit.config.kinds import (
    BilinearConfig, BilinearSection, PairedConfig, PairedDataConfig, PairedLossConfig, PairedModelConfig, UnpairedConfig,
    UnpairedDataConfig, UnpairedLossConfig, UnpairedModelConfig, UnpairedOptimConfig,
)
from gankit.config.sections import DynamicsConfig, OptimConfig, RunConfig, TrainConfig, TrustRegionConfig
from gankit.errors import ConfigError

__all__ = [
    "KIND_CONFIGS", "BilinearConfig", "BilinearSection", "CircuitsConfig", "CircuitsSection", "ConditionConfig", "ContactSection", "DataConfig",
    "DesignConfig", "DesignSection", "DomainConfig",
    "DomainDataConfig", "DomainLossConfig", "DomainModelConfig", "DynamicsConfig", "FieldsConfig", "FieldsSection",
    "GANConfig",
    "GANDynamicsConfig", "GANOptimConfig", "InfoGANConfig", "LossConfig", "ModelConfig", "OptimConfig", "PairedConfig",
    "PairedDataConfig", "PairedLossConfig", "PairedModelConfig", "RunConfig", "TrainConfig", "TrustRegionConfig",
    "UnpairedConfig", "UnpairedDataConfig", "UnpairedLossConfig", "UnpairedModelConfig", "UnpairedOptimConfig",
    "config_class", "config_from_dict", "config_to_yaml", "load_config", "preset_names",
]


# The typed config of each game kind, by the name `game:` gives it (a union discriminated by `game`).
KIND_CONFIGS: dict[str, type[RunConfig]] = {
    "gan": GANConfig, "bilinear": BilinearConfig, "paired": PairedConfig, "unpaired": UnpairedConfig,
    "domain": DomainConfig, "design": DesignConfig, "circuits": CircuitsConfig, "fields": FieldsConfig,
}


def preset_names() -> list[str]:
    """Names of the presets shipped inside the package."""
    folder = resources.files("gankit") / "presets"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_config(
    source: str | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    *,
    steps: int | None = None,
    seed: int | None = None,
) -> RunConfig:
    """Resolve a preset name or YAML path (default preset: mnist), then apply `key.path=value` overrides."""
    raw = _read_source(source or "mnist")
    for item in overrides:
        _apply_override(raw, item)
    if steps is not None:
        raw.setdefault("train", {})["steps"] = steps
    if seed is not None:
        raw["seed"] = seed
    return config_from_dict(raw)


def config_from_dict(raw: dict[str, Any]) -> RunConfig:
    """Validate a nested dict as the config of its game kind (`game`, default gan); the first problem
    becomes one ConfigError line."""
    model = config_class(raw.get("game", "gan"))
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_describe(err, model)) from None


def config_class(game: object) -> type[RunConfig]:
    """The typed config of game kind `game`, or one ConfigError naming the kinds."""
    model = KIND_CONFIGS.get(game) if isinstance(game, str) else None
    if model is None:
        hint = difflib.get_close_matches(str(game), list(KIND_CONFIGS), n=1)
        did_you_mean = f"did you mean {hint[0]!r}? " if hint else ""
        raise ConfigError(f"unknown game kind {game!r}; {did_you_mean}kinds: {', '.join(KIND_CONFIGS)}")
    return model


def config_to_yaml(config: RunConfig) -> str:
    """The fully resolved config as YAML text."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


def _read_source(source: str) -> dict[str, Any]:
    path = Path(source)
    if source.endswith((".yaml", ".yml")) or path.is_file():
        if not path.is_file():
            raise ConfigError(f"config file not found: {source}; give an existing YAML file or a preset name")
        text = path.read_text()
    else:
        presets = preset_names()
        if source not in presets:
            hint = difflib.get_close_matches(source, presets, n=1)
            did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"unknown preset {source!r}{did_you_mean}; presets: {', '.join(presets)}")
        text = (resources.files("gankit") / "presets" / f"{source}.yaml").read_text()
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{source} is not valid YAML ({_first_line(err)}); fix the file") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source} must hold a mapping of config sections, not {type(raw).__name__}")
    return raw


def _apply_override(raw: dict[str, Any], item: str) -> None:
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise ConfigError(f"override {item!r} is not KEY=VALUE; write e.g. --set optim.lr_d=1e-4")
    *parents, leaf = key.strip().split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {item!r}: {part!r} is a value, not a section")
    try:
        node[leaf] = yaml.safe_load(text)
    except yaml.YAMLError:
        node[leaf] = text


def _describe(err: ValidationError, model: type[BaseModel]) -> str:
    first = err.errors()[0]
    loc = [str(p) for p in first["loc"]]
    where = ".".join(loc)
    if first["type"] == "extra_forbidden":
        valid = _field_names(model, loc[:-1])
        hint = difflib.get_close_matches(loc[-1], valid, n=1)
        did_you_mean = f"did you mean {'.'.join(loc[:-1] + hint)!r}? " if hint else ""
        return f"unknown config key {where!r}; {did_you_mean}valid keys here: {', '.join(valid)}"
    message = first["msg"].removeprefix("Value error, ")
    if not loc:  # a rule across sections
        return f"invalid config: {message}"
    if isinstance(first.get("input"), dict):  # a rule across the keys of one section: the message names them
        return f"invalid config section {where!r}: {message}"
    return f"invalid config value for {where!r} ({first.get('input')!r}): {message}"


def _field_names(model: type[BaseModel], section_path: list[str]) -> list[str]:
    for part in section_path:
        annotation = model.model_fields[part].annotation
        sections = [a for a in (annotation, *get_args(annotation)) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not sections:
            break
        model = sections[0]
    return list(model.model_fields)


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0]
