"""From a config to the objects a run needs: the kind's setup (data, players, game, batches), dynamics, optimizers.

Nothing here knows a game kind: the kind named by `config.game` (gankit.kinds) builds what is its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim import Optimizer

from gankit import distributed
from gankit.config import DynamicsConfig, RunConfig
from gankit.dynamics import Alternating, Dynamics, Extragradient, Optimistic, Simultaneous, Unrolled
from gankit.dynamics.precision import Precision
from gankit.errors import ConfigError
from gankit.game import Game
from gankit.kinds import GameKind, PlayerOptimizer, Setup, get_kind
from gankit.optim import Extrapolation, make_optimizer, set_base_lr

__all__ = [
    "Experiment", "apply_optimizer_settings", "build_dynamics", "build_experiment", "build_optimizers",
    "configure_performance", "resolve_device",
]


@dataclass
class Experiment:
    config: RunConfig
    device: torch.device
    kind: GameKind
    setup: Setup
    dynamics: Dynamics
    optimizers: dict[str, Optimizer]

    @property
    def game(self) -> Game:
        return self.setup.game

    @property
    def batches(self) -> Any:
        return self.setup.batches

    @property
    def data(self) -> Any:
        """The kind's own data (for the gan kind: gankit.kinds.gan.GANData)."""
        return self.setup.data


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


def build_dynamics(cfg: DynamicsConfig, steps: dict[str, int], unrolled_roles: tuple[str, str] | None) -> Dynamics:
    """The update rule the config names; options of another rule are refused rather than ignored.

    `steps` are the updates per step of each player (alternating); `unrolled_roles` the kind's
    (leader, follower) for unrolled dynamics.
    """
    defaults = DynamicsConfig()
    owners = {"steps": "alternating", "unroll_steps": "unrolled", "unroll_lr": "unrolled"}
    for key, owner in owners.items():
        if cfg.name != owner and getattr(cfg, key) != getattr(defaults, key):
            raise ConfigError(f"dynamics.{key} applies to dynamics.name {owner!r} only, not {cfg.name!r}; remove it")
    if cfg.name == "simultaneous":
        return Simultaneous()
    if cfg.name == "alternating":
        return Alternating(steps=steps)
    if cfg.name == "extragradient":
        return Extragradient()
    if cfg.name == "optimistic":
        return Optimistic()
    leader, follower = unrolled_roles
    return Unrolled(unroll_steps=cfg.unroll_steps, leader=leader, follower=follower, unroll_lr=cfg.unroll_lr)


def build_optimizers(
    cfg: RunConfig, game: Game, settings: dict[str, PlayerOptimizer]
) -> dict[str, Optimizer]:
    """One optimizer per player with its own settings (TTUR: own learning rates), wrapped for extragradient."""
    missing = sorted(set(game.players) - set(settings))
    if missing:
        raise ValueError(f"no optimizer settings for player(s) {missing}")
    optimizers: dict[str, Optimizer] = {
        player: make_optimizer(cfg.optim.name, game.parameters(player), s.lr, s.betas) for player, s in settings.items()
    }
    if cfg.dynamics.name == "extragradient":
        optimizers = {player: Extrapolation(opt) for player, opt in optimizers.items()}
    return optimizers


def apply_optimizer_settings(
    optimizers: dict[str, Optimizer], settings: dict[str, PlayerOptimizer], *, rollbacks: int = 0,
    lr_factor: float = 1.0,
) -> None:
    """Set every optimizer's learning rate and betas to `settings`, the rate lowered by `lr_factor` once per
    NaN rollback (`rollbacks`), multiplied in the order the rollbacks applied it.

    Resuming a run loads the optimizers' states, which hold the rates they ran at; this makes the run go
    on at the rates its config.yaml records (a changed config included).
    """
    for player, optimizer in optimizers.items():
        lr = settings[player].lr
        for _ in range(rollbacks):
            lr *= lr_factor
        set_base_lr(optimizer, lr)  # times the schedule factor of the step it resumes at (optim.decay)
        for group in optimizer.param_groups:
            if "betas" in group:
                group["betas"] = settings[player].betas


def build_experiment(cfg: RunConfig) -> Experiment:
    """Seed everything from `cfg.seed`, let the config's kind build its setup, add dynamics and optimizers.

    Nothing is written to disk.
    """
    kind = get_kind(cfg.game)
    kind.check(cfg)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    topology = distributed.current()
    device = resolve_device(distributed.local_device(cfg.device, topology))
    setup = kind.build(cfg, device)
    dynamics = build_dynamics(cfg.dynamics, kind.dynamics_steps(cfg), kind.unrolled_roles)
    configure_performance(cfg, device, setup.game, dynamics, kind.double_backward(cfg))
    _configure_data_parallel(cfg, device, setup.game, topology)
    optimizers = build_optimizers(cfg, setup.game, kind.optimizer_settings(cfg))
    optimizers = kind.wrap_optimizers(cfg, setup, optimizers, device)
    if topology.distributed:
        setup.batches = distributed.ShardedBatches(setup.batches, topology)
    return Experiment(cfg, device, kind, setup, dynamics, optimizers)


def _configure_data_parallel(cfg: RunConfig, device: torch.device, game: Game, topology: distributed.Topology) -> None:
    """Under torchrun: refuse what cannot be split over ranks, sync BatchNorm if asked, align the weights.

    In one process there is nothing to do (train.sync_batchnorm then has no effect).
    """
    if not topology.distributed:
        return
    distributed.local_batch_size(cfg.train.batch_size, topology)
    if cfg.dynamics.name == "unrolled":
        raise ConfigError("dynamics.name unrolled differentiates through the follower's unrolled updates on one "
                          "rank's batch, so ranks would disagree; run it in one process (without torchrun)")
    if cfg.train.sync_batchnorm:
        if device.type != "cuda":
            raise ConfigError("train.sync_batchnorm needs CUDA (PyTorch's SyncBatchNorm has no CPU kernel); set it false")
        for name, player in list(game.players.items()):
            synced = nn.SyncBatchNorm.convert_sync_batchnorm(player)
            if synced is not player:  # a top-level BatchNorm cannot be replaced in place
                raise ConfigError(f"the {name} is a bare BatchNorm; train.sync_batchnorm needs it inside a model")
    distributed.broadcast_players(game.players)


def configure_performance(
    cfg: RunConfig, device: torch.device, game: Game, dynamics: Dynamics, double_backward: list[str] | None = None
) -> None:
    """Apply train.precision, channels_last, compile and cudnn_benchmark; refuse what cannot work here.

    `double_backward` names the kind's settings that differentiate twice (a gradient penalty). Sets
    `dynamics.precision`, converts conv players to channels_last and compiles the players' forward
    passes in place (class, attributes and state_dict keys unchanged).
    """
    train = cfg.train
    _check_precision(cfg, device, dynamics)
    if train.compile:
        double_backward = [*(double_backward or []), *(["dynamics.name unrolled"] if cfg.dynamics.name == "unrolled"
                                                        else [])]
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


def _check_precision(cfg: RunConfig, device: torch.device, dynamics: Dynamics) -> None:
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


