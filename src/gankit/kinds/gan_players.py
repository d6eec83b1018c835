"""The gan kind's parts: its data, its players (MLP or DCGAN; conditional or InfoGAN wrappers), its game,
and what its generator takes. Only the gan kind (kinds/gan.py) and code that restores gan runs use this."""

from __future__ import annotations

import torch
from torch import nn

from gankit import data, losses
from gankit.config import DataConfig, GANConfig, ModelConfig
from gankit.data import RealData
from gankit.errors import ConfigError, DataError
from gankit.game import ConditionalGANGame, GANGame, InfoGANGame
from gankit.nn import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from gankit.nn.conditional import ConditionalDiscriminator, ConditionalGenerator, ConditionEncoder, ConditionSpec
from gankit.nn.infogan import InfoCodes, InfoGANDiscriminator, InfoGANGenerator
from gankit.penalties import smoothed_real_target
from gankit.sampling import CodeInputs, ConditionInputs, LatentInputs

__all__ = ["build_game", "build_players", "condition_spec", "generator_inputs", "held_out_rows", "info_codes",
           "load_real_data"]


def load_real_data(cfg: DataConfig, seed: int, part: str = "train") -> RealData:
    """Load (or, for mixtures, draw) the real samples the config names: the training part, the `held_out` part
    (`data.held_out` samples set aside by `held_out_rows`) or all of them."""
    real = _load_all(cfg, seed)
    if part == "all" or (cfg.held_out == 0 and part == "train"):
        return real
    n = len(real.samples)
    if cfg.held_out >= n:
        raise ConfigError(f"data.held_out {cfg.held_out} leaves no training samples: the data set {cfg.name!r} has "
                          f"{n}; choose fewer than {n}")
    held = held_out_rows(n, cfg.held_out, seed)
    rows = held if part == "held_out" else torch.ones(n, dtype=torch.bool).index_fill_(0, held, False).nonzero()[:, 0]
    labels = None if real.labels is None else real.labels[rows]
    return RealData(real.samples[rows], real.mixture, labels, real.scale)


def held_out_rows(n: int, held_out: int, seed: int) -> torch.Tensor:
    """Indices (sorted) of the `held_out` of `n` samples kept out of training: a permutation seeded by `seed`."""
    permutation = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return permutation[:held_out].sort().values


def _load_all(cfg: DataConfig, seed: int) -> RealData:
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
    if cfg.name == "phantoms":
        from gankit.data.phantoms import lesion_phantoms

        images, labels = lesion_phantoms(cfg.n_samples, cfg.image_size or 64)
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


def condition_spec(config: GANConfig, real: RealData) -> ConditionSpec | None:
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


def info_codes(config: GANConfig) -> InfoCodes | None:
    """The InfoGAN codes the config asks for; None without."""
    return InfoCodes(config.infogan.categorical, config.infogan.continuous) if config.infogan.enabled else None


def generator_inputs(config: GANConfig, condition: ConditionSpec | None) -> LatentInputs:
    """What the config's generator takes: z, (z, condition) or (z, InfoGAN codes)."""
    latent = config.model.latent_dim
    if condition is not None:
        return ConditionInputs(latent, condition)
    codes = info_codes(config)
    return CodeInputs(latent, codes) if codes is not None else LatentInputs(latent)


def build_players(
    config: GANConfig, sample_shape: tuple[int, ...], condition: ConditionSpec | None = None
) -> tuple[nn.Module, nn.Module]:
    """Generator and discriminator for samples of `sample_shape` (without the batch dimension).

    With a `condition` the players are conditional (see gankit.nn.conditional); with InfoGAN codes
    in the config they are InfoGAN players.
    """
    cfg, extra_latent, extra_input = config.model, 0, 0
    encoders: dict[str, ConditionEncoder] = {}
    codes = info_codes(config)
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


def build_game(config: GANConfig, generator: nn.Module, discriminator: nn.Module) -> GANGame:
    """The game the config describes: plain, conditional (condition.kind) or InfoGAN (infogan.*)."""
    loss = losses.get(config.loss.name)
    if config.loss.label_smoothing and not loss.supports_label_smoothing:
        raise ConfigError(f"loss.label_smoothing needs a BCE or least-squares loss, not {loss.name}; set it to 0")
    regularizers = dict(
        gp_weight=config.loss.gp_weight, r1_gamma=config.loss.r1_gamma, r1_every=config.loss.r1_every,
        clip_value=config.loss.clip_value, real_target=smoothed_real_target(config.loss.label_smoothing),
    )
    latent = config.model.latent_dim
    if config.condition.kind != "none":
        return ConditionalGANGame(generator, discriminator, loss, latent, aux_weight=config.condition.aux_weight,
                                  **regularizers)
    codes = info_codes(config)
    if codes is not None:
        return InfoGANGame(generator, discriminator, loss, latent, codes=codes, info_weight=config.infogan.weight,
                           continuous_weight=config.infogan.continuous_weight, **regularizers)
    return GANGame(generator, discriminator, loss, latent, **regularizers)
