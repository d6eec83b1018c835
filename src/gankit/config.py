"""Typed run configuration: presets, YAML files and command-line overrides.

Every section rejects unknown keys with a message naming the key and the
nearest valid one. The fully resolved config is what a run directory stores.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gankit import losses
from gankit.errors import ConfigError

__all__ = ["Config", "load_config", "preset_names", "config_to_yaml", "config_from_dict"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Section):
    """Where the real samples come from."""

    name: Literal[
        "mnist", "digits", "stacked_mnist", "ring8", "grid25", "folder", "npy", "breast_cancer", "wine"
    ] = "mnist"
    path: str | None = None  # folder of images or .npy file
    labels: str | None = None  # npy only: a .npy of integer class labels (N,) or condition vectors (N, D)
    image_size: int | None = Field(None, gt=0)  # None: the source's native size (mnist 28, digits 8)
    channels: Literal[1, 3] = 1  # folder only
    n_samples: int = Field(20_000, gt=0)  # 2D mixtures and stacked_mnist: how many samples to draw


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


class OptimConfig(_Section):
    """One optimizer per player; lr_g != lr_d is the two time-scale update rule (TTUR)."""

    name: Literal["adam", "sgd", "rmsprop"] = "adam"
    lr_g: float = Field(2e-4, gt=0)
    lr_d: float = Field(2e-4, gt=0)
    beta1: float = Field(0.5, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)


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


class DynamicsConfig(_Section):
    """How the players move (see docs/dynamics.md for when to pick which)."""

    name: Literal["simultaneous", "alternating", "extragradient", "optimistic", "unrolled"] = "alternating"
    d_steps: int = Field(1, gt=0)  # alternating: discriminator updates per generator update
    unroll_steps: int = Field(5, gt=0)  # unrolled: K discriminator steps the generator looks through
    unroll_lr: float | None = Field(None, gt=0)  # unrolled: SGD step of the unroll (default optim.lr_d)
    trust_region: TrustRegionConfig | None = None  # on the generator's updates


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


# Metrics a run can keep its best checkpoint by, and the eval_metrics entry that computes each.
BEST_METRICS = {
    "fid": "fid", "kid": "kid", "is": "is", "precision": "prdc", "recall": "prdc", "density": "prdc",
    "coverage": "prdc", "modes": "modes", "hq_fraction": "modes", "mode_kl": "modes",
    "class_accuracy": "class_accuracy", "code_accuracy": "code_accuracy",
}
LOWER_IS_BETTER = frozenset({"fid", "kid", "mode_kl"})


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
    eval_metrics: list[
        Literal["fid", "kid", "is", "prdc", "modes", "memorization", "per_class", "class_accuracy", "code_accuracy"]
    ] = ["fid", "prdc", "modes", "class_accuracy", "code_accuracy"]
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

    @model_validator(mode="after")
    def _best_metric_is_evaluated(self) -> TrainConfig:
        if self.best_metric is None:
            return self
        if self.best_metric not in BEST_METRICS:
            raise ValueError(f"best_metric {self.best_metric!r} is not one of {', '.join(BEST_METRICS)}")
        producer = BEST_METRICS[self.best_metric]
        if self.eval_every is None or producer not in self.eval_metrics:
            raise ValueError(
                f"best_metric {self.best_metric!r} needs evaluation during training: set eval_every and include "
                f"{producer!r} in eval_metrics"
            )
        return self


class Config(_Section):
    """A whole run."""

    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    loss: LossConfig = LossConfig()
    optim: OptimConfig = OptimConfig()
    dynamics: DynamicsConfig = DynamicsConfig()
    condition: ConditionConfig = ConditionConfig()
    infogan: InfoGANConfig = InfoGANConfig()
    train: TrainConfig = TrainConfig()

    @model_validator(mode="after")
    def _one_kind_of_control(self) -> Config:
        if self.condition.kind != "none" and self.infogan.enabled:
            raise ValueError("choose a conditional GAN (condition.kind) or InfoGAN codes (infogan.*), not both")
        return self


def preset_names() -> list[str]:
    """Names of the presets shipped inside the package."""
    folder = resources.files("gankit") / "presets"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_config(
    source: str | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    *,
    steps: int | None = None,
    seed: int | None = None,
) -> Config:
    """Resolve a preset name or YAML path (default preset: mnist), then apply `key.path=value` overrides."""
    raw = _read_source(source or "mnist")
    for item in overrides:
        _apply_override(raw, item)
    if steps is not None:
        raw.setdefault("train", {})["steps"] = steps
    if seed is not None:
        raw["seed"] = seed
    return config_from_dict(raw)


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Validate a nested dict; the first problem becomes one ConfigError line."""
    try:
        return Config.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_describe(err)) from None


def config_to_yaml(config: Config) -> str:
    """The fully resolved config as YAML text."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


def _read_source(source: str) -> dict[str, Any]:
    path = Path(source)
    if source.endswith((".yaml", ".yml")) or path.is_file():
        if not path.is_file():
            raise ConfigError(f"config file not found: {source}; give an existing YAML file or a preset name")
        text = path.read_text()
    else:
        presets = preset_names()
        if source not in presets:
            hint = difflib.get_close_matches(source, presets, n=1)
            did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"unknown preset {source!r}{did_you_mean}; presets: {', '.join(presets)}")
        text = (resources.files("gankit") / "presets" / f"{source}.yaml").read_text()
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{source} is not valid YAML ({_first_line(err)}); fix the file") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source} must hold a mapping of config sections, not {type(raw).__name__}")
    return raw


def _apply_override(raw: dict[str, Any], item: str) -> None:
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise ConfigError(f"override {item!r} is not KEY=VALUE; write e.g. --set optim.lr_d=1e-4")
    *parents, leaf = key.strip().split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {item!r}: {part!r} is a value, not a section")
    try:
        node[leaf] = yaml.safe_load(text)
    except yaml.YAMLError:
        node[leaf] = text


def _describe(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = [str(p) for p in first["loc"]]
    where = ".".join(loc)
    if first["type"] == "extra_forbidden":
        valid = _field_names(loc[:-1])
        hint = difflib.get_close_matches(loc[-1], valid, n=1)
        did_you_mean = f"did you mean {'.'.join(loc[:-1] + hint)!r}? " if hint else ""
        return f"unknown config key {where!r}; {did_you_mean}valid keys here: {', '.join(valid)}"
    message = first["msg"].removeprefix("Value error, ")
    if not loc:  # a rule across sections
        return f"invalid config: {message}"
    if isinstance(first.get("input"), dict):  # a rule across the keys of one section: the message names them
        return f"invalid config section {where!r}: {message}"
    return f"invalid config value for {where!r} ({first.get('input')!r}): {message}"


def _field_names(section_path: list[str]) -> list[str]:
    model: type[BaseModel] = Config
    for part in section_path:
        annotation = model.model_fields[part].annotation
        sections = [a for a in (annotation, *get_args(annotation)) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not sections:
            break
        model = sections[0]
    return list(model.model_fields)


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0]
