"""The gan kind's config: data, players, objective, conditioning and InfoGAN codes (game: gan)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from gankit import losses
from gankit.config.sections import DynamicsConfig, RunConfig, TrustRegionConfig, _OptimBase, _Section

__all__ = ["ConditionConfig", "DataConfig", "GANConfig", "GANDynamicsConfig", "GANOptimConfig", "InfoGANConfig",
           "LossConfig", "ModelConfig"]


class DataConfig(_Section):
    """Where the real samples come from."""

    name: Literal[
        "mnist", "digits", "stacked_mnist", "phantoms", "ring8", "grid25", "folder", "npy", "breast_cancer", "wine"
    ] = "mnist"
    path: str | None = None  # folder of images or .npy file
    labels: str | None = None  # npy only: a .npy of integer class labels (N,) or condition vectors (N, D)
    image_size: int | None = Field(None, gt=0)  # None: the source's native size (mnist 28, digits 8)
    channels: Literal[1, 3] = 1  # folder only
    n_samples: int = Field(20_000, gt=0)  # 2D mixtures, stacked_mnist and phantoms: how many samples to draw
    # (phantoms: CT slices labelled by whether they hold a lesion, gankit.data.phantoms.lesion_phantoms)
    held_out: int = Field(0, ge=0)  # samples kept out of training (a split seeded by `seed`): invert's test images


class ModelConfig(_Section):
    """Architectures of the two players."""

    arch: Literal["dcgan", "mlp"] = "dcgan"
    latent_dim: int = Field(100, gt=0)
    g_width: int = Field(64, gt=0)  # DCGAN base channels or MLP hidden units
    d_width: int = Field(64, gt=0)
    depth: int = Field(3, gt=0)  # MLP hidden layers
    spectral_norm: bool = False  # on the discriminator's layers


class LossConfig(_Section):
    """The objective and the discriminator's regularizers."""

    name: str = "nonsaturating"
    gp_weight: float = Field(0.0, ge=0)  # WGAN-GP weight λ
    r1_gamma: float = Field(0.0, ge=0)  # R1 weight γ; the penalty enters as γ/2·R1
    r1_every: int = Field(1, gt=0)  # lazy R1: apply every N steps, scaled by N
    clip_value: float | None = Field(None, gt=0)  # original WGAN weight clipping
    label_smoothing: float = Field(0.0, ge=0, lt=1)  # one-sided: real target 1 - s

    @field_validator("name")
    @classmethod
    def _known_loss(cls, name: str) -> str:
        losses.get(name)
        return name


class GANOptimConfig(_OptimBase):
    """One optimizer per player; lr_g != lr_d is the two time-scale update rule (TTUR).

    `lr_g` and `lr_d` are the gan kind's names of `optim.lr.generator` and `optim.lr.discriminator`;
    either spelling is accepted (the per-player one wins), the resolved config uses these.
    """

    lr_g: float = Field(2e-4, gt=0)
    lr_d: float = Field(2e-4, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _player_names(cls, raw: Any) -> Any:
        return _fold_player_keys(raw, "lr", {"generator": "lr_g", "discriminator": "lr_d"}, "optim")


GAN_PLAYERS = ("discriminator", "generator")


def _fold_player_keys(raw: Any, key: str, names: dict[str, str], section: str) -> Any:
    """Move `key.<player>` entries of a raw gan section to the kind's own names (`lr.generator` -> `lr_g`).

    The per-player spelling wins over the kind's name (a preset's `lr_d` is overridden by `lr.discriminator`);
    a player without an own name stays under `key`; a name that is not a player is refused, naming the players.
    """
    if not isinstance(raw, dict) or key not in raw:
        return raw
    raw = dict(raw)
    per_player = raw.pop(key)
    if not isinstance(per_player, dict):
        spelled = ", ".join(f"{section}.{own}" for own in names.values())
        raise ValueError(f"{section}.{key} takes one value per player ({section}.{key}.generator=..., "
                         f"{section}.{key}.discriminator=...), not {per_player!r}; or set {spelled}")
    rest = {}
    for player, value in per_player.items():
        if player not in GAN_PLAYERS:
            raise ValueError(f"{section}.{key}.{player} names no player; the gan kind's players are "
                             f"{', '.join(GAN_PLAYERS)}")
        own = names.get(player)
        if own is None:
            rest[player] = value
        else:
            raw[own] = value
    if rest:
        raw[key] = rest
    return raw


class GANDynamicsConfig(DynamicsConfig):
    """The gan kind's dynamics: `d_steps` names `steps.discriminator`; a trust region on G's updates."""

    d_steps: int = Field(1, gt=0)  # alternating: discriminator updates per generator update
    trust_region: TrustRegionConfig | None = None  # on the generator's updates

    @model_validator(mode="before")
    @classmethod
    def _player_names(cls, raw: Any) -> Any:
        return _fold_player_keys(raw, "steps", {"discriminator": "d_steps"}, "dynamics")


class ConditionConfig(_Section):
    """Conditional GAN: on the data's class labels or condition vectors (docs/conditional.md)."""

    kind: Literal["none", "label", "vector"] = "none"  # what to condition on (data labels or condition vectors)
    discriminator: Literal["projection", "concat", "unconditional"] = "projection"
    aux_weight: float = Field(0.0, ge=0)  # AC-GAN: weight of an auxiliary classifier's cross-entropy
    embed_dim: int = Field(16, gt=0)  # size of the label embedding joined to z (and to D's input for concat)

    @model_validator(mode="after")
    def _consistent(self) -> ConditionConfig:
        if self.aux_weight > 0 and self.kind != "label":
            raise ValueError("aux_weight (AC-GAN) needs condition.kind: label")
        if self.aux_weight > 0 and self.discriminator == "concat":
            raise ValueError("aux_weight (AC-GAN) needs discriminator projection or unconditional, not concat "
                             "(its classifier would see the label it must predict)")
        if self.kind != "none" and self.discriminator == "unconditional" and self.aux_weight == 0:
            raise ValueError("an unconditional discriminator needs aux_weight > 0 (AC-GAN) to learn the condition")
        return self


class InfoGANConfig(_Section):
    """InfoGAN latent codes and the weight λ of the mutual-information term (0 codes: off)."""

    categorical: int = Field(0, ge=0)  # categories of one categorical code (0: none)
    continuous: int = Field(0, ge=0)  # continuous codes ~ U(-1, 1)
    weight: float = Field(1.0, ge=0)  # λ
    continuous_weight: float = Field(0.1, ge=0)  # relative weight of the continuous codes' term

    @property
    def enabled(self) -> bool:
        return self.categorical > 0 or self.continuous > 0

    @field_validator("categorical")
    @classmethod
    def _not_one(cls, value: int) -> int:
        if value == 1:
            raise ValueError("a categorical code needs at least 2 categories (0 turns it off)")
        return value


class GANConfig(RunConfig):
    """A GAN run (game: gan): plain, conditional (condition.*) or InfoGAN (infogan.*)."""

    game: Literal["gan"] = "gan"
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    loss: LossConfig = LossConfig()
    optim: GANOptimConfig = GANOptimConfig()
    dynamics: GANDynamicsConfig = GANDynamicsConfig()
    condition: ConditionConfig = ConditionConfig()
    infogan: InfoGANConfig = InfoGANConfig()

    @model_validator(mode="after")
    def _one_kind_of_control(self) -> GANConfig:
        if self.condition.kind != "none" and self.infogan.enabled:
            raise ValueError("choose a conditional GAN (condition.kind) or InfoGAN codes (infogan.*), not both")
        return self


