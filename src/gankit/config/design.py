"""The design kinds' configs (docs/design.md): `game: design`, a physics-informed conditional generator of
textures of a target friction; `game: circuits`, a graph GAN of gene circuits that show a behaviour."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from gankit.config.kinds import _check_players
from gankit.config.sections import DynamicsConfig, OptimConfig, RunConfig, _Section

__all__ = ["CircuitsConfig", "CircuitsSection", "ContactSection", "DesignConfig", "DesignSection"]


class ContactSection(_Section):
    """The contact model (gankit.design.contact): materials, load and what the process can make. MPa and μm."""

    modulus: float = Field(1000.0, gt=0)  # plane-strain modulus E*
    shear_strength: float = Field(5.0, gt=0)  # τ of the junctions
    hardness: float = Field(60.0, gt=0)  # H: the peak pressure must stay under it
    pressure: float = Field(10.0, gt=0)  # nominal pressure p̄
    ploughing: bool = False  # add Bowden & Tabor's ploughing term to the adhesive friction
    amplitude: tuple[float, float] = (0.05, 2.0)  # manufacturable amplitude A
    wavelength: tuple[float, float] = (2.0, 50.0)  # manufacturable wavelength λ
    max_aspect: float = Field(0.1, gt=0)  # largest A / λ

    @model_validator(mode="after")
    def _ordered(self) -> ContactSection:
        for key, (low, high) in (("amplitude", self.amplitude), ("wavelength", self.wavelength)):
            if not 0 < low < high:
                raise ValueError(f"contact.{key} must be [low, high] with 0 < low < high, got [{low}, {high}]")
        return self


class DesignSection(_Section):
    """The catalogue the critic learns from, the players' sizes, and the weights of the physics in G's loss."""

    catalogue: int = Field(5000, gt=0)  # textures drawn from the process model (gankit.design.catalogue)
    latent_dim: int = Field(8, gt=0)
    width: int = Field(64, gt=0)  # hidden units of the generator's and the critic's MLPs (3 layers each)
    physics_weight: float = Field(10.0, ge=0)  # weight of the squared physics miss in G's loss
    physics_miss: Literal["friction", "aspect"] = "friction"  # how the miss is read (gankit.design.physics)
    physics_norm: Literal["squared", "absolute"] = "squared"  # miss² or |miss| (gankit.design.physics)
    chart: Literal["amplitude", "aspect"] = "amplitude"  # the players' coordinates (gankit.design.space.DesignSpace)
    feasibility_weight: float = Field(10.0, ge=0)  # weight of the feasibility hinge in G's loss
    adversarial_weight: float = Field(1.0, ge=0)  # weight of the data critic's (non-saturating) term in G's loss
    tolerance: float = Field(0.01, gt=0)  # |μ − μ*| of a hit
    balance: bool = False  # resample the catalogue to equal shares of every friction (kinds.design.feasible_catalogue)


class _CriticGeneratorConfig(RunConfig):
    """A run of two players, `critic` and `generator`, under alternating updates by default."""

    PLAYERS: ClassVar[tuple[str, ...]] = ("critic", "generator")
    optim: OptimConfig = OptimConfig(beta1=0.5, lr={"critic": 1e-3, "generator": 1e-3})
    dynamics: DynamicsConfig = DynamicsConfig(name="alternating")

    @model_validator(mode="after")
    def _players_named(self) -> _CriticGeneratorConfig:
        _check_players("optim.lr", self.optim.lr, self.PLAYERS, every=True)
        _check_players("dynamics.steps", self.dynamics.steps, self.PLAYERS)
        return self


class DesignConfig(_CriticGeneratorConfig):
    """Physics-informed conditional GAN of textures (game: design): players `critic` and `generator`."""

    game: Literal["design"] = "design"
    contact: ContactSection = ContactSection()
    design: DesignSection = DesignSection()


class CircuitsSection(_Section):
    """The circuits a circuit GAN learns (gankit.design.library), the simulator's constants and the players."""

    genes: int = Field(3, ge=2, le=5)  # genes per circuit: 3^(genes²) signed graphs (5 genes: 8.5e11)
    behaviour: Literal["oscillation", "bistability", "adaptation"] = "oscillation"
    draws: int = Field(20000, gt=0)  # candidates: every graph when there are at most this many, else random ones
    held_out: float = Field(0.5, gt=0, lt=1)  # share of the behaving isomorphism classes kept out of training
    alpha: float = Field(10.0, gt=0)  # maximal production of the Hill ODE (gankit.design.circuits)
    hill: float = Field(3.0, gt=0)  # Hill coefficient
    latent_dim: int = Field(16, gt=0)
    width: int = Field(64, gt=0)  # hidden units of the generator's MLP and the critic's node states
    layers: int = Field(3, gt=0)  # message-passing rounds of the critic
    temperature: float = Field(1.0, gt=0)  # Gumbel-softmax temperature
    hard: bool = True  # straight-through: the critic sees one-hot circuits
    loss: str = "wasserstein"  # the objective (gankit.losses.names())
    gradient_penalty: float = Field(10.0, ge=0)  # WGAN-GP weight on the critic (0: none)

    @model_validator(mode="after")
    def _known_loss(self) -> CircuitsSection:
        from gankit import losses

        if self.loss not in losses.names():
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {', '.join(losses.names())}")
        return self


class CircuitsConfig(_CriticGeneratorConfig):
    """Graph GAN of gene circuits (game: circuits): players `critic` and `generator`."""

    game: Literal["circuits"] = "circuits"
    circuits: CircuitsSection = CircuitsSection()
