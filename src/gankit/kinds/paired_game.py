"""The paired kind's games: G maps an input image to an output; content loss + weighted adversarial loss.

`PairedGame` is a `GANGame` through its hooks: the generator takes the batch's `inputs`, the critic
judges the output alone (SRGAN) or beside the input (pix2pix), and the generator's extra loss is the
content loss against the batch's `targets`. `ContentGame` is the same generator with the content loss
alone (SRResNet, the L1-only baseline): one player, no critic.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.game import Game, GameOutput, GANGame
from gankit.losses import GANLoss

__all__ = ["INPUTS", "TARGETS", "ContentGame", "PairedGame", "content_loss", "upsampled"]

INPUTS, TARGETS = "inputs", "targets"  # the names of a paired batch's tensors

ContentLoss = Callable[[Tensor, Tensor], Tensor]


def content_loss(kind: str, features: nn.Module | None = None) -> ContentLoss:
    """‖output − target‖₁ (`l1`), mean squared error (`l2`), or the MSE of a frozen network's features."""
    if kind == "l1":
        return lambda output, target: (output - target).abs().mean()
    if kind == "l2":
        return lambda output, target: (output - target).pow(2).mean()
    if features is None:
        raise ValueError("a feature content loss needs the feature network")
    features.eval().requires_grad_(False)
    return lambda output, target: (features(output) - features(target)).pow(2).mean()


def upsampled(inputs: Tensor, size: tuple[int, int]) -> Tensor:
    """Bicubic upsampling of `inputs` to `size` (the SR baseline, and a pair critic's view of the input)."""
    if tuple(inputs.shape[-2:]) == tuple(size):
        return inputs
    return F.interpolate(inputs, size=size, mode="bicubic", align_corners=False).clamp(-1, 1)


class PairedGame(GANGame):
    """Generator (input → output) vs critic; the generator also minimizes the content loss to the target."""

    def __init__(
        self, generator: nn.Module, discriminator: nn.Module, loss: GANLoss, *, content: ContentLoss,
        adversarial_weight: float, pair_critic: bool, **regularizers: float | None,
    ) -> None:
        super().__init__(generator, discriminator, loss, latent_dim=0, adversarial_weight=adversarial_weight,
                         **regularizers)
        self.content = content
        self.pair_critic = pair_critic

    def split_batch(self, batch: Mapping[str, Tensor]) -> tuple[Tensor, Tensor | None]:
        """(targets, the critic's view of the inputs): for a pair critic the inputs upsampled to the targets'
        size, once per batch (D judges real, fake and the penalties' points beside them); else None."""
        targets = batch[TARGETS]
        return targets, upsampled(batch[INPUTS], targets.shape[-2:]) if self.pair_critic else None

    def generator_inputs(
        self, batch: Mapping[str, Tensor], context: Tensor | None, n: int
    ) -> tuple[tuple[Tensor], Tensor | None]:
        return (batch[INPUTS],), context

    def discriminate(self, x: Tensor, context: Tensor | None) -> tuple[Tensor, None]:
        if context is not None:  # pix2pix: the critic sees the upsampled input beside the output
            x = torch.cat([context, x], dim=1)
        return self.discriminator(x), None

    def extra_loss(
        self, player: str, *, real: Tensor, fake: Tensor, batch: object, stats: dict[str, Tensor]
    ) -> Tensor | None:
        if player != "generator":
            return None
        content = self.content(fake, real)
        stats["content"] = content.detach()
        return content


class ContentGame(Game):
    """The generator alone, minimizing the content loss (SRResNet, the L1-only baseline of pix2pix)."""

    def __init__(self, generator: nn.Module, content: ContentLoss) -> None:
        self.generator = generator
        self.content = content
        self.players = {"generator": generator}

    def losses(self, batch: Mapping[str, Tensor], *, players: Collection[str], step: int) -> GameOutput:
        loss = self.content(self.generator(batch[INPUTS]), batch[TARGETS])
        return GameOutput(losses={"generator": loss}, stats={"content": loss.detach()})
