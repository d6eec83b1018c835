"""The real samples a run trains on, with what is known about them."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from gankit.data.mixtures import Mixture
from gankit.data.tabular import Standardized

__all__ = ["RealData"]


@dataclass
class RealData:
    """The training samples; for 2D mixtures the mixture they came from; labels or conditions when known.

    `labels` are int64 class labels (N,) or float condition vectors (N, D); `scale` undoes the
    standardization of tabular features.
    """

    samples: Tensor
    mixture: Mixture | None = None
    labels: Tensor | None = None
    scale: Standardized | None = None
