"""Shared by the dynamics tests: SGD per player and the one-step map read off the real classes."""

import numpy as np
import torch

from gankit.dynamics import BilinearGame
from gankit.optim import Extrapolation


def sgd(game, lr, *, extrapolating=False):
    """One SGD optimizer per player (wrapped for extragradient when asked)."""
    optimizers = {p: torch.optim.SGD(game.parameters(p), lr=lr) for p in game.players}
    return {p: Extrapolation(opt) for p, opt in optimizers.items()} if extrapolating else optimizers


def one_step_matrix(dynamics, lr, *, extrapolating=False):
    """The linear map (x, y) -> (x', y') of one step of `dynamics`, read off by running it on unit vectors."""
    columns = []
    for start in ([1.0, 0.0], [0.0, 1.0]):
        game = BilinearGame(torch.tensor([start[0]]), torch.tensor([start[1]]))
        dynamics.step(game, sgd(game, lr, extrapolating=extrapolating), lambda: None, step=0)
        columns.append([game.x.value.item(), game.y.value.item()])
    return np.array(columns).T
