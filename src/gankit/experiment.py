"""From a Config to the objects a run needs: data, players, game, dynamics, optimizers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from gankit import data, distributed, losses
from gankit.config import Config, DataConfig, DynamicsConfig, ModelConfig
from gankit.dynamics import Alternating, Dynamics, Extragradient, Optimistic, Simultaneous, Unrolled
from gankit.dynamics.precision import Precision
from gankit.errors import ConfigError, DataError
from gankit.game import ConditionalGANGame, GANGame, InfoGANGame
from gankit.nn import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from gankit.nn.conditional import ConditionalDiscriminator, ConditionalGenerator, ConditionEncoder, ConditionSpec
from gankit.nn.infogan import InfoCodes, InfoGANDiscriminator, InfoGANGenerator
from gankit.optim import Extrapolation, TrustRegion, make_optimizer
from gankit.penalties import smoothed_real_target
from gankit.sampling import eval_forward, generator_inputs

__all__ = [
    "Experiment", "RealData", "build_dynamics", "build_experiment", "build_game", "build_optimizers",
    "build_players", "condition_spec", "configure_performance", "eval_forward", "load_real_data", "resolve_device",
]


@dataclass
class RealData:
    """The training samples; for 2D mixtures the mixture they came from; labels or conditions when known.

    `labels` are int64 class labels (N,) or float condition vectors (N, D); `scale` undoes the
    standardization of tabular features.
    """

    samples: Tensor
    mixture: data.Mixture | None = None
    labels: Tensor | None = None
    scale: data.Standardized | None = None


@dataclass
class Experiment:
    config: Config
    device: torch.device
    real: RealData
    game: GANGame
    dynamics: Dynamics
    optimizers: dict[str, Optimizer]
    batches: data.InfiniteBatches
    condition: ConditionSpec | None = None


def resolve_device(name: str) -> torch.device:
    """`auto` is CUDA when present, else CPU; an unavailable CUDA request is a ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for but CUDA is not available here; use device: auto or cpu")
    return device


def load_real_data(cfg: DataConfig, seed: int) -> RealData:
    """Load (or, for mixtures, draw) the real samples the config names."""
    if cfg.name in data.MIXTURES:
        mixture = data.MIXTURES[cfg.name]()
        return RealData(mixture.sample(cfg.n_samples, torch.Generator().manual_seed(seed)), mixture)
    if cfg.labels is not None and cfg.name != "npy":
        raise ConfigError(f"data.labels applies to data.name npy; {cfg.name!r} brings its own labels, remove it")
    if cfg.name == "mnist":
        images, labels = data.load_mnist_sample(cfg.image_size or 28, with_labels=True)
        return RealData(images, labels=labels)
    if cfg.name == "stacked_mnist":
        return RealData(data.stacked_mnist(cfg.n_samples, seed)[0])
    if cfg.name == "digits":
        images, labels = data.load_digits(cfg.image_size or 8, with_labels=True)
        return RealData(images, labels=labels)
    if cfg.name in data.TABULAR:
        table, labels = data.load_tabular(cfg.name)
        return RealData(table.features, labels=labels, scale=table)
    if cfg.path is None:
        raise ConfigError(f"data.name {cfg.name!r} needs data.path (e.g. --set data.path=...)")
    if cfg.name == "folder":
        if cfg.image_size is None:
            raise ConfigError("data.name 'folder' needs data.image_size (28, 32 or 64 for DCGAN)")
        return RealData(data.load_image_folder(cfg.path, cfg.image_size, cfg.channels))
    samples = data.load_npy(cfg.path)
    labels = None if cfg.labels is None else data.load_condition_file(cfg.labels, len(samples))
    return RealData(samples, labels=labels)


def condition_spec(config: Config, real: RealData) -> ConditionSpec | None:
    """What the conditional model is conditioned on, read off the data; None for an unconditional run."""
    kind = config.condition.kind
    if kind == "none":
        return None
    labels = real.labels
    if labels is None:
        hint = " (set data.labels to a .npy of labels)" if config.data.name == "npy" else ""
        raise DataError(f"condition.kind {kind!r} needs labels, but data {config.data.name!r} has none{hint}")
    if kind == "label":
        if labels.dim() != 1 or labels.is_floating_point():
            raise DataError("condition.kind 'label' needs integer class labels (N,); these are vectors, "
                            "use condition.kind vector")
        present = labels.unique()
        if len(present) < 2:
            raise DataError(f"the data has a single class ({int(present[0])}); a conditional GAN needs at least two")
        return ConditionSpec(n_classes=int(labels.max()) + 1)
    if labels.dim() != 2:
        raise DataError("condition.kind 'vector' needs condition vectors (N, D); these are class labels, "
                        "use condition.kind label")
    return ConditionSpec(dim=labels.shape[1])


def build_players(
    config: Config, sample_shape: tuple[int, ...], condition: ConditionSpec | None = None
) -> tuple[nn.Module, nn.Module]:
    """Generator and discriminator for samples of `sample_shape` (without the batch dimension).

    With a `condition` the players are conditional (see gankit.nn.conditional); with InfoGAN codes
    in the config they are InfoGAN players.
    """
    cfg, extra_latent, extra_input = config.model, 0, 0
    encoders: dict[str, ConditionEncoder] = {}
    codes = InfoCodes(config.infogan.categorical, config.infogan.continuous) if config.infogan.enabled else None
    if condition is not None:
        encoders = {p: ConditionEncoder(condition, config.condition.embed_dim) for p in ("g", "d")}
        extra_latent = encoders["g"].out_dim
        extra_input = encoders["d"].out_dim if config.condition.discriminator == "concat" else 0
    elif codes is not None:
        extra_latent = codes.dim
    generator, discriminator = _base_players(cfg, sample_shape, cfg.latent_dim + extra_latent, extra_input)
    if condition is not None:
        aux = condition.n_classes if config.condition.aux_weight > 0 else None
        return (
            ConditionalGenerator(generator, encoders["g"], cfg.latent_dim),
            ConditionalDiscriminator(discriminator, encoders["d"], config.condition.discriminator, aux,
                                     spectral_norm=cfg.spectral_norm),
        )
    if codes is not None:
        return InfoGANGenerator(generator, codes, cfg.latent_dim), InfoGANDiscriminator(discriminator, codes)
    return generator, discriminator


def _base_players(
    cfg: ModelConfig, sample_shape: tuple[int, ...], latent_dim: int, extra_input: int
) -> tuple[nn.Module, nn.Module]:
    """The MLP or DCGAN pair; D takes `extra_input` more columns (vectors) or channels (images)."""
    if cfg.arch == "mlp":
        if len(sample_shape) != 1:
            raise ConfigError(f"model.arch 'mlp' takes vector data, got samples of shape {sample_shape}; use dcgan")
        dim = sample_shape[0]
        return (
            MLPGenerator(latent_dim, dim, hidden=cfg.g_width, depth=cfg.depth),
            MLPDiscriminator(dim + extra_input, hidden=cfg.d_width, depth=cfg.depth, spectral_norm=cfg.spectral_norm),
        )
    if len(sample_shape) != 3 or sample_shape[1] != sample_shape[2] or sample_shape[1] not in (28, 32, 64):
        raise ConfigError(
            f"model.arch 'dcgan' takes square images of 28, 32 or 64 pixels, got samples of shape {sample_shape}; "
            "set data.image_size to 28, 32 or 64 (or use model.arch mlp for vectors)"
        )
    channels, size = sample_shape[0], sample_shape[1]
    return (
        DCGANGenerator(latent_dim, channels=channels, image_size=size, width=cfg.g_width),
        DCGANDiscriminator(channels=channels + extra_input, image_size=size, width=cfg.d_width,
                           spectral_norm=cfg.spectral_norm),
    )


def build_dynamics(cfg: DynamicsConfig) -> Dynamics:
    """The update rule the config names; options of another rule are refused rather than ignored."""
    defaults = DynamicsConfig()
    owners = {"d_steps": "alternating", "unroll_steps": "unrolled", "unroll_lr": "unrolled"}
    for key, owner in owners.items():
        if cfg.name != owner and getattr(cfg, key) != getattr(defaults, key):
            raise ConfigError(f"dynamics.{key} applies to dynamics.name {owner!r} only, not {cfg.name!r}; remove it")
    if cfg.trust_region is not None and cfg.name in ("extragradient", "unrolled"):
        raise ConfigError(
            f"dynamics.trust_region works with simultaneous, alternating and optimistic dynamics, not {cfg.name!r} "
            "(its generator step is not a single step from one evaluated point); remove dynamics.trust_region"
        )
    if cfg.name == "simultaneous":
        return Simultaneous()
    if cfg.name == "alternating":
        return Alternating(steps={"discriminator": cfg.d_steps})
    if cfg.name == "extragradient":
        return Extragradient()
    if cfg.name == "optimistic":
        return Optimistic()
    return Unrolled(unroll_steps=cfg.unroll_steps, leader="generator", follower="discriminator",
                    unroll_lr=cfg.unroll_lr)


def build_optimizers(
    cfg: Config, game: GANGame, device: torch.device, probe_conditions: Tensor | None = None
) -> dict[str, Optimizer]:
    """One optimizer per player (TTUR: own learning rates), wrapped as the dynamics and trust region need.

    `probe_conditions` are the conditions of the trust region's output probe for a vector-conditional
    generator (labels and InfoGAN codes are drawn).
    """
    betas = (cfg.optim.beta1, cfg.optim.beta2)
    optimizers: dict[str, Optimizer] = {
        "generator": make_optimizer(cfg.optim.name, game.parameters("generator"), cfg.optim.lr_g, betas),
        "discriminator": make_optimizer(cfg.optim.name, game.parameters("discriminator"), cfg.optim.lr_d, betas),
    }
    if cfg.dynamics.name == "extragradient":
        optimizers = {player: Extrapolation(opt) for player, opt in optimizers.items()}
    region = cfg.dynamics.trust_region
    if region is not None:
        probe = None
        if region.measure == "outputs":
            rng = torch.Generator().manual_seed(cfg.seed + 2)
            n = 256 if probe_conditions is None else len(probe_conditions)
            inputs = generator_inputs(game.generator, n, rng, probe_conditions)
            probe = _probe(game.generator, [x.to(device) for x in inputs])
        optimizers["generator"] = TrustRegion(
            optimizers["generator"], radius=region.radius, measure=region.measure, probe=probe,
            min_radius=region.min_radius, max_radius=region.max_radius,
        )
    return optimizers


def _probe(generator: nn.Module, inputs: list[Tensor]) -> Callable[[], Tensor]:
    """The generator's outputs on a fixed batch of inputs."""
    return lambda: eval_forward(generator, *inputs)


def build_experiment(cfg: Config) -> Experiment:
    """Seed everything from `cfg.seed`, load data and assemble the game; nothing is written to disk."""
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    topology = distributed.current()
    device = resolve_device(distributed.local_device(cfg.device, topology))
    real = load_real_data(cfg.data, cfg.seed)
    if cfg.train.batch_size > len(real.samples):
        raise DataError(
            f"train.batch_size {cfg.train.batch_size} exceeds the {len(real.samples)} samples in the data; lower it"
        )
    condition = condition_spec(cfg, real)
    generator, discriminator = build_players(cfg, tuple(real.samples.shape[1:]), condition)
    game = build_game(cfg, generator.to(device), discriminator.to(device))
    dynamics = build_dynamics(cfg.dynamics)
    configure_performance(cfg, device, game, dynamics)
    _configure_data_parallel(cfg, device, game, topology)
    vectors = condition is not None and not condition.is_label
    optimizers = build_optimizers(cfg, game, device, real.labels[:256] if vectors else None)
    labels = real.labels if condition is not None else None
    batches = data.InfiniteBatches(real.samples, cfg.train.batch_size, seed=cfg.seed, device=device, labels=labels)
    if topology.distributed:
        batches = distributed.ShardedBatches(batches, topology)
    return Experiment(cfg, device, real, game, dynamics, optimizers, batches, condition)


def _configure_data_parallel(cfg: Config, device: torch.device, game: GANGame, topology: distributed.Topology) -> None:
    """Under torchrun: refuse what cannot be split over ranks, sync BatchNorm if asked, align the weights.

    In one process there is nothing to do (train.sync_batchnorm then has no effect).
    """
    if not topology.distributed:
        return
    distributed.local_batch_size(cfg.train.batch_size, topology)
    for refused, why in ((cfg.dynamics.name == "unrolled", "dynamics.name unrolled differentiates through D's "
                          "unrolled updates on one rank's batch"),
                         (cfg.dynamics.trust_region is not None, "dynamics.trust_region tests each step on one "
                          "rank's loss")):
        if refused:
            raise ConfigError(f"{why}, so ranks would disagree; run it in one process (without torchrun)")
    if cfg.train.sync_batchnorm:
        if device.type != "cuda":
            raise ConfigError("train.sync_batchnorm needs CUDA (PyTorch's SyncBatchNorm has no CPU kernel); set it false")
        for name, player in list(game.players.items()):
            synced = nn.SyncBatchNorm.convert_sync_batchnorm(player)
            if synced is not player:  # a top-level BatchNorm cannot be replaced in place
                raise ConfigError(f"the {name} is a bare BatchNorm; train.sync_batchnorm needs it inside a model")
    distributed.broadcast_players(game.players)


def configure_performance(cfg: Config, device: torch.device, game: GANGame, dynamics: Dynamics) -> None:
    """Apply train.precision, channels_last, compile and cudnn_benchmark; refuse what cannot work here.

    Sets `dynamics.precision`, converts conv players to channels_last and compiles the players'
    forward passes in place (class, attributes and state_dict keys unchanged).
    """
    train = cfg.train
    _check_precision(cfg, device, dynamics)
    if train.compile:
        double_backward = [key for key, on in (("loss.gp_weight", cfg.loss.gp_weight > 0),
                                               ("loss.r1_gamma", cfg.loss.r1_gamma > 0),
                                               ("dynamics.name unrolled", cfg.dynamics.name == "unrolled")) if on]
        if double_backward:
            raise ConfigError(
                f"train.compile cannot differentiate twice, which {' and '.join(double_backward)} needs "
                "(torch.compile has no double backward); set train.compile false"
            )
    dynamics.precision = Precision(train.precision, device.type)
    if device.type == "cuda" and train.cudnn_benchmark:
        torch.backends.cudnn.benchmark = True
    for player in game.players.values():
        is_conv = any(p.dim() == 4 for p in player.parameters())
        if train.channels_last is True or (train.channels_last == "auto" and is_conv and device.type == "cuda"):
            player.to(memory_format=torch.channels_last)
        if train.compile:
            player.compile()


def _check_precision(cfg: Config, device: torch.device, dynamics: Dynamics) -> None:
    precision = cfg.train.precision
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError(
            f"train.precision fp16 needs CUDA, this run is on {device.type}: float16 with loss scaling only pays "
            "off on GPUs; use bf16 (on a CPU with AVX-512 BF16 or AMX) or fp32"
        )
    if precision == "bf16" and device.type == "cpu" and not torch.cpu._is_avx512_bf16_supported():
        raise ConfigError(
            "train.precision bf16 needs a CPU with AVX-512 BF16 (or AMX) instructions, which this one lacks: "
            "bfloat16 would be emulated and run slower than fp32; use fp32"
        )
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError(f"train.precision bf16 is not supported by {torch.cuda.get_device_name(device)}; use fp16")
    if precision == "fp16" and not dynamics.supports_loss_scaling:
        raise ConfigError(
            f"train.precision fp16 needs loss scaling, which dynamics.name {cfg.dynamics.name!r} cannot use (its "
            "updates are not plain optimizer steps); use bf16 or fp32, or simultaneous/alternating dynamics"
        )
    if precision != "fp32" and cfg.dynamics.trust_region is not None:
        raise ConfigError(
            f"dynamics.trust_region compares loss values before and after each step, which train.precision "
            f"{precision} rounding swamps; use train.precision fp32 with a trust region"
        )


def build_game(cfg: Config, generator: nn.Module, discriminator: nn.Module) -> GANGame:
    """The game the config describes: plain, conditional (players from build_players) or InfoGAN."""
    loss = losses.get(cfg.loss.name)
    if cfg.loss.label_smoothing and not loss.supports_label_smoothing:
        raise ConfigError(f"loss.label_smoothing needs a BCE or least-squares loss, not {loss.name}; set it to 0")
    regularizers = dict(
        gp_weight=cfg.loss.gp_weight, r1_gamma=cfg.loss.r1_gamma, r1_every=cfg.loss.r1_every,
        clip_value=cfg.loss.clip_value, real_target=smoothed_real_target(cfg.loss.label_smoothing),
    )
    if isinstance(generator, ConditionalGenerator):
        return ConditionalGANGame(generator, discriminator, loss, cfg.model.latent_dim,
                                  aux_weight=cfg.condition.aux_weight, **regularizers)
    if isinstance(generator, InfoGANGenerator):
        return InfoGANGame(generator, discriminator, loss, cfg.model.latent_dim, codes=generator.codes,
                           info_weight=cfg.infogan.weight, continuous_weight=cfg.infogan.continuous_weight,
                           **regularizers)
    return GANGame(generator, discriminator, loss, cfg.model.latent_dim, **regularizers)
