"""Conditional players: a generator told what to draw, and discriminators that judge it.

A condition is either a class label (int64, shape (N,)) or a vector of real numbers
(float, shape (N, dim)). The generator receives it by concatenation to z (a learned
embedding for labels, the raw vector otherwise). The discriminator uses it in one of
three ways (Mirza & Osindero 2014; Miyato & Koyama 2018; Odena et al. 2017):

- ``concat``: the condition is joined to D's *input* (as extra constant channels for
  images), so every layer can check that x fits it;
- ``projection``: logit = ψ(φ(x)) + ⟨embed(c), φ(x)⟩, with φ the base D's features;
- ``unconditional``: D sees x only; with ``aux_classes`` it gets an auxiliary classifier
  head on φ(x) (AC-GAN), which is also allowed on top of ``projection``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from gankit.penalties import apply_spectral_norm

__all__ = [
    "ConditionSpec",
    "ConditionalDiscriminator",
    "ConditionalGenerator",
    "ConditionEncoder",
    "DiscriminatorConditioning",
]

DiscriminatorConditioning = Literal["concat", "projection", "unconditional"]


@dataclass(frozen=True)
class ConditionSpec:
    """What a conditional model is conditioned on: `n_classes` labels, or vectors of `dim` numbers."""

    n_classes: int | None = None
    dim: int | None = None

    def __post_init__(self) -> None:
        if (self.n_classes is None) == (self.dim is None):
            raise ValueError("a ConditionSpec has exactly one of n_classes (labels) or dim (vectors)")
        if self.n_classes is not None and self.n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {self.n_classes}")
        if self.dim is not None and self.dim < 1:
            raise ValueError(f"dim must be >= 1, got {self.dim}")

    @property
    def is_label(self) -> bool:
        return self.n_classes is not None

    def to_dict(self) -> dict[str, int]:
        """Plain values for a checkpoint's metadata."""
        return {"n_classes": self.n_classes} if self.is_label else {"dim": self.dim}

    @classmethod
    def from_dict(cls, values: dict[str, int]) -> ConditionSpec:
        return cls(n_classes=values.get("n_classes"), dim=values.get("dim"))


class ConditionEncoder(nn.Module):
    """Labels -> a learned embedding of `embed_dim` numbers; vectors pass through unchanged.

    `out_dim` is the width of the encoding (embed_dim for labels, the vector's dim otherwise).
    """

    def __init__(self, spec: ConditionSpec, embed_dim: int) -> None:
        super().__init__()
        self.spec = spec
        self.embedding = nn.Embedding(spec.n_classes, embed_dim) if spec.is_label else None
        self.out_dim = embed_dim if spec.is_label else int(spec.dim)

    def forward(self, condition: Tensor) -> Tensor:
        """(N,) int64 labels or (N, dim) vectors -> (N, out_dim) floats."""
        if self.embedding is not None:
            return self.embedding(condition)
        return condition.float()


class ConditionalGenerator(nn.Module):
    """G(z, c) = base([z, encode(c)]); `base` must take latents of `latent_dim + encoder.out_dim` numbers."""

    def __init__(self, base: nn.Module, encoder: ConditionEncoder, latent_dim: int) -> None:
        super().__init__()
        self.base = base
        self.encoder = encoder
        self.latent_dim = latent_dim
        self.spec = encoder.spec

    def forward(self, z: Tensor, condition: Tensor) -> Tensor:
        return self.base(torch.cat([z, self.encoder(condition)], dim=1))


def join_condition(x: Tensor, encoded: Tensor) -> Tensor:
    """Append an encoded condition (N, E) to samples: as E columns of vectors, or E constant image channels."""
    if x.dim() == 2:
        return torch.cat([x, encoded], dim=1)
    maps = encoded[:, :, None, None].expand(-1, -1, *x.shape[2:])
    return torch.cat([x, maps], dim=1)


class ConditionalDiscriminator(nn.Module):
    """D(x, c) -> logits (N,), higher = more real; `scores` also returns auxiliary class logits (AC-GAN).

    `base` is an MLP/DCGAN discriminator (with `features` and `logit_from_features`); for
    ``concat`` it must take inputs widened by `encoder.out_dim` columns or channels. The
    projection embedding and the auxiliary classifier act on `base.features(x)`.
    """

    def __init__(
        self,
        base: nn.Module,
        encoder: ConditionEncoder,
        conditioning: DiscriminatorConditioning,
        aux_classes: int | None = None,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if aux_classes is not None and conditioning == "concat":
            raise ValueError("an auxiliary classifier on a concat discriminator would see the label it must predict")
        self.base = base
        self.encoder = encoder if conditioning == "concat" else None
        self.conditioning = conditioning
        self.projection: nn.Module | None = None
        if conditioning == "projection":
            spec = encoder.spec
            self.projection = (
                nn.Embedding(spec.n_classes, base.feature_dim)
                if spec.is_label
                else nn.Linear(int(spec.dim), base.feature_dim, bias=False)
            )
            nn.init.normal_(self.projection.weight, 0.0, 0.02)
        self.classifier = nn.Linear(base.feature_dim, aux_classes) if aux_classes is not None else None
        if spectral_norm:
            for head in (self.projection, self.classifier):
                if isinstance(head, nn.Linear):
                    apply_spectral_norm(head)

    def scores(self, x: Tensor, condition: Tensor) -> tuple[Tensor, Tensor | None]:
        """(logits (N,), auxiliary class logits (N, K) or None) from one pass of the body."""
        if self.encoder is not None:
            x = join_condition(x, self.encoder(condition))
        features = self.base.features(x)
        logits = self.base.logit_from_features(features)
        if self.projection is not None:
            labels = isinstance(self.projection, nn.Embedding)
            embedded = self.projection(condition if labels else condition.float())
            logits = logits + (embedded * features).sum(dim=1)
        aux = self.classifier(features) if self.classifier is not None else None
        return logits, aux

    def forward(self, x: Tensor, condition: Tensor) -> Tensor:
        return self.scores(x, condition)[0]
