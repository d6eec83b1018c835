"""The fields kind's config (docs/microstructures.md): `game: fields`, a spatial GAN of two-phase media and facies
trained on fields drawn from a named source (gankit.fields.sources)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gankit.config.design import _CriticGeneratorConfig
from gankit.config.sections import _Section

__all__ = ["FieldsConfig", "FieldsSection"]


class FieldsSection(_Section):
    """The training images (a source, its parameters and porosity), and the spatial players' shapes and objective."""

    source: Literal["blobs", "disks", "gaussian", "channels"] = "blobs"
    parameters: dict[str, float | str] = {}  # the source's own (gankit.fields.sources.SOURCE_PARAMETERS)
    porosity: float | tuple[float, float] = 0.4  # share of phase 1; [low, high]: each image's drawn uniformly
    dims: Literal[2, 3] = 2
    size: int = Field(64, ge=4)  # training fields: cells per axis
    images: int = Field(2000, gt=0)  # training fields drawn from the source
    conditional: bool = False  # condition both players on each field's porosity
    latent_channels: int = Field(16, gt=0)  # per latent cell: 16 let latent optimization honour hard data
    width: int = Field(64, ge=8)  # channels of the widest layer of each player
    layers: int = Field(3, ge=1, le=6)  # the generator doubles the size `layers` times: stride 2^layers
    latent_layers: int = Field(0, ge=0, le=8)  # generator convolutions at the latent size: see farther, join features
    critic_layers: int | None = Field(None, ge=1, le=7)  # the critic's halvings (None: `layers`); more see farther
    loss: str = "nonsaturating"  # the objective (gankit.losses.names())
    gradient_penalty: float = Field(0.0, ge=0)  # WGAN-GP weight on the critic (0: none)
    r1_gamma: float = Field(1.0, ge=0)  # R1 weight γ (entering as γ/2 · R1; 0: none)

    @model_validator(mode="after")
    def _consistent(self) -> FieldsSection:
        from gankit import losses
        from gankit.fields.spatial import nearest_sizes

        if self.loss not in losses.names():
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {', '.join(losses.names())}")
        low, high = (self.porosity, self.porosity) if isinstance(self.porosity, float) else self.porosity
        if not 0 < low <= high < 1:
            raise ValueError(f"fields.porosity must lie in (0, 1) (a range as [low, high]), got {self.porosity}")
        if self.critic_layers is not None and 2**self.critic_layers > self.size:
            raise ValueError(f"fields.critic_layers {self.critic_layers} halves a {self.size}-cell field below one "
                             f"cell; use at most {self.size.bit_length() - 1}")
        stride = 2**self.layers
        if self.size % stride:
            below, above = nearest_sizes(self.size, stride)
            raise ValueError(f"fields.size {self.size} is not a multiple of the generator's stride {stride} "
                             f"(2^fields.layers); use {below} or {above}, or change fields.layers")
        return self


class FieldsConfig(_CriticGeneratorConfig):
    """Spatial GAN of two-phase fields (game: fields): players `critic` and `generator`."""

    game: Literal["fields"] = "fields"
    fields: FieldsSection = FieldsSection()
