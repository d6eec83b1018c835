"""gankit: generative adversarial networks as games, on PyTorch.

The public API, re-exported from the modules that own it::

    import gankit
    loss = gankit.losses.get("hinge")
    game = gankit.GANGame(generator, discriminator, loss, latent_dim=100)
    gankit.Trainer(game, gankit.Alternating(), optimizers, batches, steps=1000).fit()
"""

from gankit import data, losses, nn, penalties
from gankit.config import GANConfig, RunConfig, load_config
from gankit.dynamics import (
    Alternating, BilinearGame, Dynamics, Extragradient, Optimistic, Simultaneous, Unrolled,
)
from gankit.errors import CheckpointError, ConfigError, DataError, GankitError
from gankit.game import ConditionalGANGame, Game, GameOutput, GANGame, InfoGANGame
from gankit.optim import ExponentialMovingAverage, ExtraAdam, Extrapolation, TrustRegion
from gankit.train.trainer import Callback, Trainer

__version__ = "0.1.0"

__all__ = [
    "data", "losses", "nn", "penalties",
    "GANConfig", "RunConfig", "load_config",
    "Alternating", "BilinearGame", "Dynamics", "Extragradient", "Optimistic", "Simultaneous", "Unrolled",
    "CheckpointError", "ConfigError", "DataError", "GankitError",
    "ConditionalGANGame", "Game", "GameOutput", "GANGame", "InfoGANGame",
    "ExponentialMovingAverage", "ExtraAdam", "Extrapolation", "TrustRegion",
    "Callback", "Trainer",
]
