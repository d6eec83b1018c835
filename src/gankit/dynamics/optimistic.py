"""Optimistic gradient descent-ascent: simultaneous moves with the gradient 2·g_t − g_{t−1}."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor

from gankit.dynamics.simultaneous import Simultaneous

__all__ = ["Optimistic"]


class Optimistic(Simultaneous):
    """OGDA (Popov 1980; Daskalakis et al. 2018), one gradient evaluation per step.

    All players' gradients g_t at the current point, as in simultaneous
    dynamics; each parameter's ``.grad`` is then replaced by the optimistic
    gradient 2·g_t − g_{t−1} before its optimizer steps. There is no g_{−1}:
    it is taken equal to g_0, so the first step is a plain simultaneous step.

    With SGD this is x_{t+1} = x_t − η(2g_t − g_{t−1}). With Adam it is Adam fed
    the optimistic gradient, which is *not* Daskalakis et al.'s "Optimistic
    Adam" (that one applies optimism to Adam's update, 2·u_t − u_{t−1} with
    u = m̂/(√v̂+ε)). On the bilinear game min_x max_y xy with SGD step η it
    converges exactly for 0 < η < 1/√3 (see ``bilinear_spectral_radius``).

    The previous gradients g_{t−1} are state: save them with :meth:`state_dict`
    next to the optimizers' to resume a run exactly. float16 is refused: g_{t−1} would mix loss
    scales, and an overflowed g_t would poison the next step after the scaler's check.
    """

    supports_loss_scaling = False

    def __init__(self) -> None:
        self.previous: dict[str, list[Tensor | None]] = {}

    def adjust_gradients(self, player: str, params: Sequence[Tensor]) -> None:
        """Replace each gradient g_t by 2·g_t − g_{t−1} and remember g_t."""
        current = [None if p.grad is None else p.grad.detach().clone() for p in params]
        previous = self.previous.get(player, current)
        if len(previous) != len(params):
            raise ValueError(
                f"Optimistic holds {len(previous)} previous gradient(s) for player {player!r}, which has "
                f"{len(params)} parameter(s): the state was loaded from a different game"
            )
        for param, grad, old in zip(params, current, previous, strict=True):
            if grad is not None and old is not None:
                param.grad = 2 * grad - old.to(grad)
        self.previous[player] = current

    def state_dict(self) -> dict[str, dict[str, list[Tensor | None]]]:
        """The previous gradients g_{t−1}, per player and parameter (tensors, None where a parameter had none)."""
        return {"previous_gradients": {player: list(grads) for player, grads in self.previous.items()}}

    def load_state_dict(self, state: Mapping[str, Mapping[str, list[Tensor | None]]]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.previous = {player: list(grads) for player, grads in state["previous_gradients"].items()}
