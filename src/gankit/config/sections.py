"""Sections every game kind shares: how players move, how long and how a run trains; the base of kind configs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, field_validator, model_validator

from gankit.metrics import names as metric_names

__all__ = ["DynamicsConfig", "OptimConfig", "RunConfig", "TrainConfig", "TrustRegionConfig"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class _OptimBase(_Section):
    name: Literal["adam", "sgd", "rmsprop"] = "adam"
    beta1: float = Field(0.5, ge=0, lt=1)  # Adam only
    beta2: float = Field(0.999, ge=0, lt=1)
    decay: Literal["constant", "linear"] = "constant"  # linear: rates fall linearly to 0 after decay_start
    decay_start: float = Field(0.5, ge=0, lt=1)  # the fraction of train.steps run at the full rate

    @model_validator(mode="after")
    def _decay_start_needs_decay(self) -> _OptimBase:
        if self.decay == "constant" and self.decay_start != 0.5:
            raise ValueError("decay_start applies to decay: linear only; set optim.decay linear or remove it")
        return self


class OptimConfig(_OptimBase):
    """One optimizer per player, each with its own learning rate (`optim.lr.<player>`)."""

    lr: dict[str, PositiveFloat] = {}


class TrustRegionConfig(_Section):
    """Limit each generator update to a radius adapted by the predicted/actual improvement ratio."""

    radius: float = Field(0.1, gt=0)  # initial radius
    measure: Literal["parameters", "outputs"] = "parameters"  # ‖Δθ‖, or RMS change of G on a probe batch
    min_radius: float = Field(1e-4, gt=0)
    max_radius: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> TrustRegionConfig:
        if not self.min_radius <= self.radius <= self.max_radius:
            raise ValueError("need min_radius <= radius <= max_radius")
        return self


DynamicsName = Literal["simultaneous", "alternating", "extragradient", "optimistic", "unrolled"]


class DynamicsConfig(_Section):
    """How the players move (see docs/dynamics.md for when to pick which)."""

    name: DynamicsName = "alternating"
    steps: dict[str, PositiveInt] = {}  # alternating: updates per step of each named player (default 1)
    unroll_steps: int = Field(5, gt=0)  # unrolled: K follower steps the leader looks through
    unroll_lr: float | None = Field(None, gt=0)  # unrolled: SGD step of the unroll (default: the follower's lr)


class TrainConfig(_Section):
    """Length of the run and how often it logs, draws and saves."""

    steps: int = Field(2000, gt=0)
    batch_size: int = Field(64, gt=0)
    ema_decay: float | None = Field(None, gt=0, lt=1)  # EMA of generator weights
    log_every: int = Field(10, gt=0)
    sample_every: int = Field(250, gt=0)
    checkpoint_every: int = Field(500, gt=0)
    keep_checkpoints: int = Field(3, gt=0)
    best_metric: str | None = None  # also keep checkpoints/best.pt at the best evaluation of this metric (see BEST_METRICS)
    grid_size: int = Field(64, gt=0)  # samples in each grid
    diagnostics: bool = True  # diag/* columns and alarms (docs/diagnostics.md)
    tensorboard: bool = True  # TensorBoard event files in RUN/tb
    nan_retries: int = Field(3, ge=0)  # rollbacks to the last good state on NaN/Inf before stopping (0: stop at once)
    nan_lr_factor: float = Field(0.5, gt=0, lt=1)  # learning rates are multiplied by this at each rollback
    keep_good_every: int = Field(100, gt=0)  # how often the in-memory good state for rollbacks is refreshed
    eval_every: int | None = Field(None, gt=0)  # evaluate during training (a multiple of log_every)
    eval_n: int = Field(1000, gt=1)  # samples per side for evaluation during training
    eval_metrics: list[str] = ["fid", "prdc", "modes", "class_accuracy", "code_accuracy"]  # families of metrics.names
    # Speed (docs/training.md, "Performance"); what a device or dynamics cannot do is refused when the run is built.
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"  # autocast of forward passes and losses; fp16: CUDA only
    compile: bool = False  # torch.compile the players' forward passes (slower on CPU, see docs/benchmarks.md)
    channels_last: bool | Literal["auto"] = "auto"  # NHWC conv weights; auto: on for conv players on CUDA
    cudnn_benchmark: bool = True  # CUDA only: let cuDNN time and pick the fastest convolution algorithms
    sync_batchnorm: bool = False  # under torchrun on CUDA: BatchNorm statistics over the global batch

    @model_validator(mode="after")
    def _eval_on_log_steps(self) -> TrainConfig:
        if self.eval_every is not None and self.eval_every % self.log_every:
            raise ValueError(f"eval_every ({self.eval_every}) must be a multiple of log_every ({self.log_every})")
        return self

    @field_validator("eval_metrics")
    @classmethod
    def _known_families(cls, names: list[str]) -> list[str]:
        unknown = [name for name in names if name not in metric_names.FAMILIES]
        if unknown:
            raise ValueError(f"unknown metric {unknown[0]!r}; choose from {', '.join(metric_names.FAMILIES)}")
        return names

    @model_validator(mode="after")
    def _best_metric_is_evaluated(self) -> TrainConfig:
        if self.best_metric is None:
            return self
        if self.best_metric not in metric_names.SCORES:
            raise ValueError(f"best_metric {self.best_metric!r} is not one of {', '.join(metric_names.SCORES)}")
        producer = metric_names.family_of(self.best_metric)
        if self.eval_every is None or producer not in self.eval_metrics:
            raise ValueError(
                f"best_metric {self.best_metric!r} needs evaluation during training: set eval_every and include "
                f"{producer!r} in eval_metrics"
            )
        return self


class RunConfig(_Section):
    """What every run has, whatever its game kind: seed, device, how players move, how long it trains."""

    game: str
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    train: TrainConfig = TrainConfig()


