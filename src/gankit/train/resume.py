"""Resuming a run: the saved config, refused silent changes, and a record of allowed ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gankit.atomic import atomic_write_text
from gankit.config import RunConfig, config_to_yaml, load_config
from gankit.errors import ConfigError
from gankit.train.run_dir import RunDir

__all__ = ["config_diff", "record_config_change", "resume_config"]


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_diff(old: RunConfig, new: RunConfig) -> list[str]:
    """`key: old -> new` for every key whose resolved value differs, in config order."""
    before, after = _flatten(old.model_dump(mode="json")), _flatten(new.model_dump(mode="json"))
    keys = list(before) + [k for k in after if k not in before]
    return [f"{k}: {before.get(k)!r} -> {after.get(k)!r}" for k in keys if before.get(k) != after.get(k)]


def resume_config(
    run_dir: str | Path, overrides: list[str], *, steps: int | None = None, seed: int | None = None,
    allow_change: bool = False,
) -> tuple[RunConfig, list[str]]:
    """The config to resume `run_dir` with and its changes: the saved one, plus overrides only when `allow_change`."""
    run = RunDir.open(run_dir)
    saved = load_config(str(run.config_path))
    config = load_config(str(run.config_path), overrides, steps=steps, seed=seed)
    changes = config_diff(saved, config)
    if changes and not allow_change:
        raise ConfigError(
            f"resuming {run.path} with a changed config ({'; '.join(changes)}); resume without the changes, or pass "
            "--allow-config-change to record and apply them"
        )
    return config, changes


def record_config_change(run: RunDir, step: int, changes: list[str], config: RunConfig) -> None:
    """Append the allowed changes to RUN/config_changes.jsonl and make `config` the run's config.yaml."""
    with (run.path / "config_changes.jsonl").open("a") as handle:
        handle.write(json.dumps({"step": step, "changes": changes}) + "\n")
    atomic_write_text(run.config_path, config_to_yaml(config))
