"""What the vectorized engine runs, and which members can share one batched computation.

MLP players on the 2D mixtures (scored by modes) and DCGAN players on the image data sets whose
feature extractor ships with gankit (scored by FID) are vectorized.
Members whose configs differ only in *per-member numbers* (seed, learning rates, Adam betas,
R1 / gradient-penalty weights) are stacked into one group; anything that changes shapes or
control flow (widths, batch size, loss, dynamics, ...) starts another group. Unsupported settings
are refused with a ConfigError that names them and says what to do instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gankit.config import GANConfig, RunConfig
from gankit.data import MIXTURES
from gankit.errors import ConfigError

__all__ = ["IMAGE_DATA", "PER_MEMBER_KEYS", "check_kind", "check_supported", "group_members"]

# Image data sets whose FID features come from a classifier shipped with gankit (no Inception weights needed).
IMAGE_DATA = ("digits", "mnist", "stacked_mnist")

# Keys that may differ between the members of one batched group (everything else must match).
PER_MEMBER_KEYS = ("seed", "optim.lr_g", "optim.lr_d", "optim.beta1", "optim.beta2", "loss.r1_gamma",
                   "loss.gp_weight")

_INSTEAD = "run these configs one by one with gankit train"


def check_kind(config: RunConfig) -> None:
    """Only GANs are swept (the stacked engine is a GAN step)."""
    if config.game != "gan":
        raise ConfigError(f"gankit sweep stacks GAN members (game: gan); a {config.game} game is not swept: "
                          f"{_INSTEAD}")


def check_supported(config: RunConfig) -> None:
    """Raise ConfigError naming the first setting the vectorized engine does not run."""
    check_kind(config)
    problems = []
    data, arch = config.data.name, config.model.arch
    if data in MIXTURES and arch != "mlp":
        problems.append(f"model.arch {arch!r} on {data} (the 2D mixtures are swept with mlp players)")
    elif data in IMAGE_DATA and arch != "dcgan":
        problems.append(f"model.arch {arch!r} on {data} (images are swept with dcgan players)")
    elif data not in MIXTURES and data not in IMAGE_DATA:
        problems.append(f"data.name {data!r} (sweeps score modes of {' and '.join(sorted(MIXTURES))}, or FID "
                        f"with a shipped CPU classifier on {', '.join(IMAGE_DATA)})")
    if config.model.spectral_norm:
        problems.append("model.spectral_norm (its power iteration is not vectorized)")
    if config.dynamics.name not in ("simultaneous", "alternating"):
        problems.append(f"dynamics.name {config.dynamics.name!r} (only simultaneous and alternating are vectorized)")
    if config.dynamics.trust_region is not None:
        problems.append("dynamics.trust_region (not vectorized)")
    if config.optim.decay != "constant":
        problems.append(f"optim.decay {config.optim.decay} (the vectorized optimizers keep constant rates)")
    if config.condition.kind != "none":
        problems.append("condition.kind (conditional GANs are not vectorized)")
    if config.infogan.enabled:
        problems.append("infogan codes (not vectorized)")
    if config.train.eval_every is not None:
        problems.append("train.eval_every (a sweep scores modes itself every --eval-every steps; remove it)")
    precision = getattr(config.train, "precision", "fp32")
    if precision != "fp32":
        problems.append(f"train.precision {precision} (the vectorized engine runs float32; set train.precision fp32)")
    if getattr(config.train, "compile", False):
        problems.append("train.compile (the batched step is not compiled; set train.compile false)")
    if problems:
        raise ConfigError(f"gankit sweep cannot vectorize {problems[0]}; change it, or {_INSTEAD}")


def _get(raw: dict[str, Any], dotted: str) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        node = node[part]
    return node


def _drop(raw: dict[str, Any], dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    node = raw
    for part in parents:
        node = node[part]
    node.pop(leaf)


def group_key(config: GANConfig) -> str:
    """Configs with equal keys can be stacked: they differ at most in PER_MEMBER_KEYS.

    Whether R1 and the gradient penalty are on at all stays in the key (it changes the computation).
    """
    raw = config.model_dump(mode="json")
    flags = {"r1_on": config.loss.r1_gamma > 0, "gp_on": config.loss.gp_weight > 0}
    for key in PER_MEMBER_KEYS:
        _drop(raw, key)
    return json.dumps({**raw, **flags}, sort_keys=True)


def group_members(configs: Sequence[GANConfig]) -> list[list[int]]:
    """Indices of `configs` in groups that one batched computation can run, in first-seen order."""
    names = list(dict.fromkeys(config.data.name for config in configs))
    if len(names) > 1:
        raise ConfigError(f"the members of one sweep must share data.name (got {', '.join(names)}): their scores "
                          "compare only on one data set; sweep each data set on its own")
    groups: dict[str, list[int]] = {}
    for index, config in enumerate(configs):
        check_supported(config)
        groups.setdefault(group_key(config), []).append(index)
    return list(groups.values())


def member_value(config: GANConfig, dotted: str) -> Any:
    """The resolved value of a dotted key in a config (after validation)."""
    return _get(config.model_dump(mode="json"), dotted)
