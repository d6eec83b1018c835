"""A fields run's real fields: training images and independent realizations drawn from the config's source.

Training images come from seed `config.seed`; independent realizations — the floor a generator is judged against,
and the fields hard data are read from — from seeds offset by `INDEPENDENT_SEED` (a different stream of the same
source), at any size.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gankit.config import FieldsConfig
from gankit.errors import ConfigError
from gankit.fields.sources import draw_fields

__all__ = ["DEFAULT_PARAMETERS", "INDEPENDENT_SEED", "as_tensor", "real_fields", "source_parameters"]

#: each source's parameters when the config names none (fields.parameters overrides them key by key)
DEFAULT_PARAMETERS: dict[str, dict[str, float | str]] = {
    "blobs": {"length": 3.0},
    "disks": {"radius": 4.0},
    "gaussian": {"length": 6.0, "model": "gaussian"},
    "channels": {"width": 6.0, "wavelength": 48.0, "amplitude": 6.0},
}
INDEPENDENT_SEED = 10_000  # seed offset of independent realizations


def source_parameters(config: FieldsConfig) -> dict[str, float | str]:
    """The source's parameters: its defaults updated by `fields.parameters`."""
    return {**DEFAULT_PARAMETERS[config.fields.source], **config.fields.parameters}


def real_fields(config: FieldsConfig, n: int, size: int | None = None, *, independent: bool = False) -> np.ndarray:
    """(n, *spatial) int8 fields of `size` cells per axis (default `fields.size`) from the config's source: the
    training images, or independent realizations."""
    section = config.fields
    shape = (size or section.size,) * section.dims
    seed = config.seed + (INDEPENDENT_SEED if independent else 0)
    try:
        return draw_fields(section.source, n, shape, seed=seed, porosity=section.porosity, **source_parameters(config))
    except ValueError as error:
        raise ConfigError(f"fields.parameters: {error}") from None


def as_tensor(fields: np.ndarray) -> Tensor:
    """(n, *spatial) 0/1 fields ↦ (n, 1, *spatial) float32 in {−1, +1}."""
    return torch.from_numpy(2 * fields.astype(np.float32) - 1).unsqueeze(1)
