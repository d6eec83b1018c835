"""The configs of the other game kinds: the bilinear toy game, paired and unpaired image-to-image games."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from gankit import losses
from gankit.data.degradations import parse_degradation
from gankit.data.translations import parse_translation
from gankit.config.gan import GANDynamicsConfig, GANOptimConfig
from gankit.config.sections import DynamicsConfig, OptimConfig, RunConfig, _OptimBase, _Section

__all__ = ["BilinearConfig", "BilinearSection", "PairedConfig", "PairedDataConfig", "PairedLossConfig",
           "PairedModelConfig", "UnpairedConfig", "UnpairedDataConfig", "UnpairedLossConfig", "UnpairedModelConfig",
           "UnpairedOptimConfig"]


class BilinearSection(_Section):
    """min_x max_y x·y from (x0, y0): the toy game whose every dynamics rule has a closed form."""

    x0: float = 1.0
    y0: float = 0.0


class BilinearConfig(RunConfig):
    """The bilinear toy game trained as a run (game: bilinear): players `x` and `y`, SGD by default."""

    PLAYERS: ClassVar[tuple[str, ...]] = ("x", "y")
    game: Literal["bilinear"] = "bilinear"
    bilinear: BilinearSection = BilinearSection()
    optim: OptimConfig = OptimConfig(name="sgd", lr={"x": 0.1, "y": 0.1})
    dynamics: DynamicsConfig = DynamicsConfig(name="simultaneous")

    @model_validator(mode="after")
    def _players_named(self) -> BilinearConfig:
        _check_players("optim.lr", self.optim.lr, self.PLAYERS, every=True)
        _check_players("dynamics.steps", self.dynamics.steps, self.PLAYERS)
        return self


def _check_players(key: str, values: dict[str, Any], players: tuple[str, ...], every: bool = False) -> None:
    unknown = [p for p in values if p not in players]
    if unknown:
        raise ValueError(f"{key}.{unknown[0]} names no player; this kind's players are {', '.join(players)}")
    missing = [p for p in players if p not in values]
    if every and missing:
        raise ValueError(f"{key} needs a value for every player; missing {', '.join(missing)}")


class PairedDataConfig(_Section):
    """Pairs (input, target): clean images of a source made into inputs by a named degradation, or two folders."""

    name: Literal["mnist", "digits", "skimage", "phantoms", "folder", "paired_folders"] = "mnist"
    path: str | None = None  # folder: the clean images
    n_images: int = Field(2000, gt=1)  # phantoms: how many random CT phantoms (gankit.data.phantoms) to draw
    inputs: str | None = None  # paired_folders: the input images (file names matching the targets')
    targets: str | None = None  # paired_folders: the target images
    image_size: int | None = Field(None, gt=0)  # targets' size (None: the source's native size; skimage 128, phantoms 64)
    channels: Literal[1, 3] = 1  # folder, paired_folders and skimage
    degradation: str | None = None  # makes inputs: downsample:S, noise:SIGMA, blur:SIGMA, jpeg:Q, mask:P, CT's
    # sparse_view:N, limited_angle:DEG, photons:I0 (chain: +)
    crop: int | None = Field(None, gt=0)  # training crops of this many target pixels (None: whole images)
    test_fraction: float = Field(0.2, gt=0, lt=1)  # images held out for evaluation (skimage: its fixed split)

    @model_validator(mode="after")
    def _sources_named(self) -> PairedDataConfig:
        if self.name == "paired_folders" and (self.inputs is None or self.targets is None):
            raise ValueError("data.name paired_folders needs data.inputs and data.targets (two folders)")
        if self.name == "folder" and self.path is None:
            raise ValueError("data.name folder needs data.path (a folder of images)")
        if (self.name == "paired_folders") == (self.degradation is not None):
            raise ValueError("data.degradation makes the inputs of mnist, digits, skimage, phantoms and folder data "
                             "(e.g. downsample:4); paired_folders bring their own inputs, so give it for those only")
        if self.name != "phantoms" and self.n_images != 2000:
            raise ValueError("data.n_images counts the phantoms of data.name phantoms; remove it for other sources")
        return self

    @field_validator("degradation")
    @classmethod
    def _parsable(cls, text: str | None) -> str | None:
        if text is not None:
            parse_degradation(text)
        return text


class PairedModelConfig(_Section):
    """An image-to-image generator and a PatchGAN discriminator (gankit.nn.image2image)."""

    generator: Literal["srresnet", "unet"] = "srresnet"
    blocks: int = Field(8, gt=0)  # srresnet: residual blocks
    depth: int = Field(2, gt=0)  # unet: down/up stages (image sides divisible by 2**depth)
    g_width: int = Field(64, gt=0)
    d_width: int = Field(64, gt=0)
    d_layers: int | None = Field(None, gt=0, le=5)  # PatchGAN stride-2 layers (None: the largest that fits)
    discriminator: Literal["output", "pair"] = "output"  # D(output) as SRGAN, or D(input, output) as pix2pix
    spectral_norm: bool = False  # on the discriminator's convolutions


class PairedLossConfig(_Section):
    """Content loss + adversarial_weight · adversarial loss (0: the content-only network, no discriminator)."""

    name: str = "nonsaturating"  # the adversarial loss (any of gankit.losses)
    adversarial_weight: float = Field(1e-3, ge=0)  # SRGAN: 1e-3; 0 trains SRResNet / the L1-only baseline
    content: Literal["l1", "l2", "features"] = "l1"
    features: str | None = None  # content features: mnist or digits (a shipped classifier) or a TorchScript .pt
    gp_weight: float = Field(0.0, ge=0)
    r1_gamma: float = Field(0.0, ge=0)
    r1_every: int = Field(1, gt=0)

    @field_validator("name")
    @classmethod
    def _known_loss(cls, name: str) -> str:
        losses.get(name)
        return name

    @model_validator(mode="after")
    def _features_named(self) -> PairedLossConfig:
        if (self.content == "features") != (self.features is not None):
            raise ValueError("loss.content features needs loss.features (mnist, digits or a TorchScript .pt file), "
                             "and loss.features needs loss.content features")
        return self


class PairedConfig(RunConfig):
    """An image-to-image run (game: paired): super-resolution (SRGAN) or restoration (pix2pix)."""

    game: Literal["paired"] = "paired"
    data: PairedDataConfig = PairedDataConfig(degradation="downsample:4")
    model: PairedModelConfig = PairedModelConfig()
    loss: PairedLossConfig = PairedLossConfig()
    optim: GANOptimConfig = GANOptimConfig(lr_g=1e-4, lr_d=1e-4, beta1=0.9)
    dynamics: GANDynamicsConfig = GANDynamicsConfig()




class UnpairedDataConfig(_Section):
    """Two unpaired domains: MNIST digits (A) and a known translation of other digits (B), CT-like and MR-like
    renderings of different CT phantoms, or two folders."""

    name: Literal["mnist", "phantoms", "folders"] = "mnist"
    translation: str | None = None  # mnist: domain B is this translation (invert, the default; dilate:R) of
    # images A never has
    n_images: int = Field(2000, gt=1)  # phantoms: how many random CT phantoms (gankit.data.phantoms) to draw
    a: str | None = None  # folders: the images of domain A
    b: str | None = None  # folders: the images of domain B
    image_size: int | None = Field(None, gt=0)  # folders: side of the images (mnist: 28, phantoms: 64); a multiple of 4
    channels: Literal[1, 3] = 1  # folders
    test_fraction: float = Field(0.2, gt=0, lt=1)  # images of each domain held out for evaluation

    @model_validator(mode="after")
    def _sources_named(self) -> UnpairedDataConfig:
        if self.name == "folders" and (self.a is None or self.b is None or self.image_size is None):
            raise ValueError("data.name folders needs data.a and data.b (two folders of images) and data.image_size")
        if self.name != "mnist" and self.translation is not None:
            raise ValueError(f"data.translation makes domain B of mnist (invert or dilate:R); {self.name} bring their "
                             "own domain B, so remove it")
        if self.name != "phantoms" and self.n_images != 2000:
            raise ValueError("data.n_images counts the phantoms of data.name phantoms; remove it for other sources")
        if self.image_size is not None and self.image_size % 4:
            raise ValueError(f"data.image_size {self.image_size} must be a multiple of 4 (the translator halves the "
                             f"image twice); use {self.image_size - self.image_size % 4 or 4}")
        return self

    @field_validator("translation")
    @classmethod
    def _parsable(cls, text: str | None) -> str | None:
        if text is not None:
            parse_translation(text)
        return text


class UnpairedModelConfig(_Section):
    """Two ResNet translators (A→B, B→A) and two PatchGAN critics with instance normalization."""

    blocks: int = Field(6, gt=0)  # residual blocks of each translator (CycleGAN: 6 at 128 px, 9 at 256 px)
    g_width: int = Field(32, gt=0)
    d_width: int = Field(64, gt=0)
    d_layers: int | None = Field(None, gt=0, le=5)  # PatchGAN stride-2 layers (None: the largest that fits)


class UnpairedLossConfig(_Section):
    """CycleGAN's objective: adversarial (least squares) + cycle_weight · cycle L1 + identity · cycle_weight · identity L1."""

    name: str = "least_squares"  # the adversarial loss (any of gankit.losses)
    cycle_weight: float = Field(10.0, ge=0)  # λ of ‖F(G(a)) − a‖₁ + ‖G(F(b)) − b‖₁
    identity_weight: float = Field(0.5, ge=0)  # × cycle_weight on ‖G(b) − b‖₁ + ‖F(a) − a‖₁ (0: none)
    pool_size: int = Field(50, ge=0)  # generated images each critic draws its fakes from (0: the current batch only)

    @field_validator("name")
    @classmethod
    def _known_loss(cls, name: str) -> str:
        losses.get(name)
        return name


class UnpairedOptimConfig(_OptimBase):
    """Adam for each player: lr_g for both translators, lr_d for both critics; CycleGAN's linear decay by default."""

    lr_g: float = Field(2e-4, gt=0)
    lr_d: float = Field(2e-4, gt=0)
    decay: Literal["constant", "linear"] = "linear"  # CycleGAN: constant, then linearly to 0 over the second half


class UnpairedConfig(RunConfig):
    """Unpaired translation (game: unpaired): CycleGAN's two translators and two critics."""

    PLAYERS: ClassVar[tuple[str, ...]] = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")
    game: Literal["unpaired"] = "unpaired"
    data: UnpairedDataConfig = UnpairedDataConfig()
    model: UnpairedModelConfig = UnpairedModelConfig()
    loss: UnpairedLossConfig = UnpairedLossConfig()
    optim: UnpairedOptimConfig = UnpairedOptimConfig()
    dynamics: DynamicsConfig = DynamicsConfig()

    @model_validator(mode="after")
    def _players_named(self) -> UnpairedConfig:
        _check_players("dynamics.steps", self.dynamics.steps, self.PLAYERS)
        return self
