"""Typed run configuration: presets, YAML files and command-line overrides.

Every section rejects unknown keys with a message naming the key and the
nearest valid one. The fully resolved config is what a run directory stores.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

import yaml
from pydantic import (
    BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError, field_validator, model_validator,
)

from gankit import losses
from gankit.metrics import names as metric_names
from gankit.errors import ConfigError

__all__ = [
    "KIND_CONFIGS", "BilinearConfig", "GANConfig", "RunConfig", "config_from_dict", "config_to_yaml", "load_config",
    "preset_names",
]


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


class _OptimBase(_Section):
    name: Literal["adam", "sgd", "rmsprop"] = "adam"
    beta1: float = Field(0.5, ge=0, lt=1)  # Adam only
    beta2: float = Field(0.999, ge=0, lt=1)


class OptimConfig(_OptimBase):
    """One optimizer per player, each with its own learning rate (`optim.lr.<player>`)."""

    lr: dict[str, PositiveFloat] = {}


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


# The typed config of each game kind, by the name `game:` gives it (a union discriminated by `game`).
KIND_CONFIGS: dict[str, type[RunConfig]] = {"gan": GANConfig, "bilinear": BilinearConfig}


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
) -> RunConfig:
    """Resolve a preset name or YAML path (default preset: mnist), then apply `key.path=value` overrides."""
    raw = _read_source(source or "mnist")
    for item in overrides:
        _apply_override(raw, item)
    if steps is not None:
        raw.setdefault("train", {})["steps"] = steps
    if seed is not None:
        raw["seed"] = seed
    return config_from_dict(raw)


def config_from_dict(raw: dict[str, Any]) -> RunConfig:
    """Validate a nested dict as the config of its game kind (`game`, default gan); the first problem
    becomes one ConfigError line."""
    model = config_class(raw.get("game", "gan"))
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_describe(err, model)) from None


def config_class(game: object) -> type[RunConfig]:
    """The typed config of game kind `game`, or one ConfigError naming the kinds."""
    model = KIND_CONFIGS.get(game) if isinstance(game, str) else None
    if model is None:
        hint = difflib.get_close_matches(str(game), list(KIND_CONFIGS), n=1)
        did_you_mean = f"did you mean {hint[0]!r}? " if hint else ""
        raise ConfigError(f"unknown game kind {game!r}; {did_you_mean}kinds: {', '.join(KIND_CONFIGS)}")
    return model


def config_to_yaml(config: RunConfig) -> str:
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


def _describe(err: ValidationError, model: type[BaseModel]) -> str:
    first = err.errors()[0]
    loc = [str(p) for p in first["loc"]]
    where = ".".join(loc)
    if first["type"] == "extra_forbidden":
        valid = _field_names(model, loc[:-1])
        hint = difflib.get_close_matches(loc[-1], valid, n=1)
        did_you_mean = f"did you mean {'.'.join(loc[:-1] + hint)!r}? " if hint else ""
        return f"unknown config key {where!r}; {did_you_mean}valid keys here: {', '.join(valid)}"
    message = first["msg"].removeprefix("Value error, ")
    if not loc:  # a rule across sections
        return f"invalid config: {message}"
    if isinstance(first.get("input"), dict):  # a rule across the keys of one section: the message names them
        return f"invalid config section {where!r}: {message}"
    return f"invalid config value for {where!r} ({first.get('input')!r}): {message}"


def _field_names(model: type[BaseModel], section_path: list[str]) -> list[str]:
    for part in section_path:
        annotation = model.model_fields[part].annotation
        sections = [a for a in (annotation, *get_args(annotation)) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not sections:
            break
        model = sections[0]
    return list(model.model_fields)


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0]
