"""From `--grid key=v1,v2 ... --seeds N` to member configs, each validated by the normal config path."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gankit.config import GANConfig, load_config
from gankit.errors import ConfigError
from gankit.sweep.support import check_kind, member_value

__all__ = ["GridAxis", "Member", "expand_members", "parse_grid"]


@dataclass(frozen=True)
class GridAxis:
    """One swept config key and the texts of its values, in the order given."""

    key: str
    texts: tuple[str, ...]


@dataclass(frozen=True)
class Member:
    """One run of the sweep: its position, seed, grid values (as resolved by the config) and config."""

    index: int
    seed: int
    values: dict[str, Any]
    config: GANConfig

    @property
    def name(self) -> str:
        """The member's folder name under the sweep's --out."""
        return f"member_{self.index:03d}"


def parse_grid(items: Sequence[str]) -> list[GridAxis]:
    """Parse `key=v1,v2,...` items; each key once, at least one value, never the seed."""
    axes: list[GridAxis] = []
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--grid {item!r} is not KEY=V1,V2,...; write e.g. --grid optim.lr_d=1e-4,4e-4")
        if key == "seed":
            raise ConfigError("--grid seed=... is what --seeds N does; use --seeds (members get seeds seed..seed+N-1)")
        texts = tuple(part.strip() for part in text.split(","))
        if not all(texts):
            raise ConfigError(f"--grid {item!r} has an empty value; give comma-separated values, e.g. {key}=1e-4,4e-4")
        if len(set(texts)) != len(texts):
            raise ConfigError(f"--grid {item!r} repeats a value; give each value once")
        if any(axis.key == key for axis in axes):
            raise ConfigError(f"--grid {key} is given twice; put all its values in one --grid {key}=V1,V2,...")
        axes.append(GridAxis(key, texts))
    return axes


def expand_members(
    source: str | None,
    axes: Sequence[GridAxis],
    seeds: int,
    overrides: Sequence[str] = (),
    *,
    steps: int | None = None,
    seed: int | None = None,
) -> list[Member]:
    """Every combination of grid values (first key slowest) × `seeds` seeds, as validated configs.

    Seeds run from the config's seed (or `seed`) upwards. A wrong key or value fails here with the
    config's own ConfigError (nearest valid key, the value's problem), prefixed by the grid item.
    """
    if seeds < 1:
        raise ConfigError(f"--seeds must be at least 1, got {seeds}")
    base = load_config(source, overrides, steps=steps, seed=seed)
    check_kind(base)
    for axis in axes:  # one check per value first, so the error names the grid item at fault
        for text in axis.texts:
            try:
                load_config(source, [*overrides, f"{axis.key}={text}"], steps=steps, seed=seed)
            except ConfigError as err:
                raise ConfigError(f"--grid {axis.key}={text}: {err}") from None
    members = []
    for combination in itertools.product(*(axis.texts for axis in axes)):
        items = [f"{axis.key}={text}" for axis, text in zip(axes, combination, strict=True)]
        for offset in range(seeds):
            config = load_config(source, [*overrides, *items], steps=steps, seed=base.seed + offset)
            values = {axis.key: member_value(config, axis.key) for axis in axes}
            members.append(Member(len(members), config.seed, values, config))
    return members
