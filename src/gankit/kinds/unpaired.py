"""The `unpaired` kind: CycleGAN translation between two image domains that come without pairs, judged
against the true translation where one is known, with the identity and histogram matching as baselines
(docs/image2image.md, "Unpaired translation")."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gankit import losses
from gankit.config import UnpairedConfig
from gankit.data.modalities import segment as segment_tissues
from gankit.data.phantoms import TISSUES
from gankit.data.translations import match_histograms
from gankit.errors import ConfigError
from gankit.kinds.base import GameKind, PlayerOptimizer, Preview, Setup, critic_outputs
from gankit.kinds.paired import apply_generator, translate_images
from gankit.kinds.unpaired_data import (
    UnpairedData,
    load_unpaired_data,
    unpaired_batches,
)
from gankit.kinds.unpaired_game import CRITICS, TRANSLATORS, CycleGame
from gankit.metrics.evaluate import FeatureOptions, protocol_suffix
from gankit.metrics.translation import cycle_error, translation_scores
from gankit.nn.image2image import (
    PatchGANDiscriminator,
    ResNetTranslator,
    patchgan_layers_for,
)
from gankit.sampling import eval_forward
from gankit.viz import save_image_grid

__all__ = ["TranslationReference", "UnpairedKind", "build_cycle_players", "evaluate_translation",
           "translation_reference"]

PREVIEW_IMAGES = 4  # held-out images of each domain in the grids: input | translation | round trip (| truth)


class UnpairedKind(GameKind):
    name = "unpaired"

    def check(self, config: UnpairedConfig) -> None:
        if config.train.ema_decay is not None:
            raise ConfigError("train.ema_decay averages one generator's weights; an unpaired run has two translators "
                              "and keeps no average (CycleGAN uses none): remove it")
        super().check(config)

    def build(self, config: UnpairedConfig, device: torch.device) -> Setup:
        unpaired = load_unpaired_data(config.data, config.seed)
        meta = {"channels": unpaired.channels, "d_layers": _critic_layers(config, unpaired.image_size)}
        players = {name: module.to(device) for name, module in build_cycle_players(config, meta).items()}
        game = CycleGame(
            *(players[name] for name in (*TRANSLATORS, *CRITICS)), losses.get(config.loss.name),
            cycle_weight=config.loss.cycle_weight, identity_weight=config.loss.identity_weight,
            pool_size=config.loss.pool_size, seed=config.seed,
        )
        batches = unpaired_batches(unpaired, config.train.batch_size, config.seed, device)
        return Setup(game, batches, unpaired, meta)

    def optimizer_settings(self, config: UnpairedConfig) -> dict[str, PlayerOptimizer]:
        betas = (config.optim.beta1, config.optim.beta2)
        return {**{name: PlayerOptimizer(config.optim.lr_g, betas) for name in TRANSLATORS},
                **{name: PlayerOptimizer(config.optim.lr_d, betas) for name in CRITICS}}

    def preview(self, config: UnpairedConfig, setup: Setup, drawn: dict[str, nn.Module]) -> Preview:
        unpaired: UnpairedData = setup.data
        device = next(drawn[TRANSLATORS[0]].parameters()).device
        shown = torch.linspace(0, len(unpaired.test_a) - 1, PREVIEW_IMAGES).long().unique()
        inputs_a, inputs_b = unpaired.test_a[shown].to(device), unpaired.test_b[shown].to(device)
        forward, backward = drawn[TRANSLATORS[0]], drawn[TRANSLATORS[1]]
        truths = None
        if unpaired.truth_ab is not None:
            truths = torch.cat([unpaired.truth_ab[shown], unpaired.truth_ba[shown]])

        def draw() -> Tensor:
            return torch.cat([eval_forward(forward, inputs_a), eval_forward(backward, inputs_b)])

        def save(outputs: Tensor, path: Path) -> None:
            half = len(outputs) // 2
            round_trip = torch.cat([eval_forward(backward, outputs[:half]), eval_forward(forward, outputs[half:])])
            columns = [torch.cat([inputs_a, inputs_b]), outputs, round_trip]
            if truths is not None:
                columns.append(truths.to(device))
            rows = torch.stack([c.cpu().clamp(-1, 1) for c in columns], dim=1).flatten(0, 1)
            save_image_grid(rows, path, nrow=len(columns))

        game: CycleGame = setup.game
        critic_view = critic_outputs(_CriticOfB(game), unpaired.test_b[shown].to(device), None, [inputs_a], None)
        return Preview(draw=draw, save=save, real_batch=torch.cat([unpaired.test_b, unpaired.test_a]),
                       critic_outputs=critic_view, columns=4 if truths is not None else 3)

    def evaluator(
        self, config: UnpairedConfig, setup: Setup, drawn: dict[str, nn.Module]
    ) -> Callable[[int], dict[str, float]]:
        unpaired: UnpairedData = setup.data
        reference = translation_reference(unpaired)  # the baselines once, not at every evaluation
        return lambda step: evaluate_translation(drawn, unpaired, reference)

    def restore(self, config: UnpairedConfig, meta: dict[str, Any]) -> dict[str, nn.Module]:
        return build_cycle_players(config, meta)

    def sample(
        self, config: UnpairedConfig, players: dict[str, nn.Module], meta: dict[str, Any], n: int, *, seed: int,
        conditions: Tensor | None,
    ) -> tuple[Tensor, int | None, Callable[[Tensor, Path, int | None], None]]:
        raise ConfigError("an unpaired run translates images rather than drawing from noise; run it on images with "
                          "gankit apply RUN INPUT --out OUT (--reverse for B → A)")

    def translate(
        self, config: UnpairedConfig, players: dict[str, nn.Module], meta: dict[str, Any], images: Tensor, *,
        reverse: bool = False,
    ) -> Tensor:
        return translate_images(players[TRANSLATORS[1] if reverse else TRANSLATORS[0]], images, meta["channels"])

    def evaluate(
        self, config: UnpairedConfig, players: dict[str, nn.Module], meta: dict[str, Any], metrics: Collection[str], *,
        n: int, seed: int, features: FeatureOptions,
    ) -> dict[str, float]:
        """Translation PSNR/SSIM both ways, classes or tissues kept and cycle error of the model and its baselines."""
        unpaired = load_unpaired_data(config.data, config.seed)
        return evaluate_translation(players, unpaired, translation_reference(unpaired))


def build_cycle_players(config: UnpairedConfig, meta: dict[str, Any]) -> dict[str, nn.Module]:
    """Two ResNet translators and two PatchGAN critics (instance normalization, as CycleGAN's)."""
    model, channels = config.model, meta["channels"]
    translators = {name: ResNetTranslator(channels, channels, blocks=model.blocks, width=model.g_width)
                   for name in TRANSLATORS}
    critics = {name: PatchGANDiscriminator(channels, layers=meta["d_layers"], width=model.d_width, norm="instance")
               for name in CRITICS}
    return {**translators, **critics}


@dataclass
class TranslationReference:
    """What an unpaired model is compared with, computed once per run: the scores of the baselines (identity,
    histogram matching, the truth's own classes or tissues) and, per direction, how its outputs are read: the
    classifier (None without digit labels) and the segmentation (None without tissue maps)."""

    baseline_scores: dict[str, float]
    classify: dict[str, Callable[[Tensor], Tensor] | None]
    segment: dict[str, Callable[[Tensor], Tensor] | None]

    def score(self, unpaired: UnpairedData, outputs: dict[str, Tensor], direction: str) -> dict[str, float]:
        """:func:`translation_scores` of named outputs of one direction, read as this reference reads them."""
        truth = unpaired.truth_ab if direction == "ab" else unpaired.truth_ba
        return translation_scores(outputs, direction=direction, tag=unpaired.tag, truth=truth,
                                  classify=self.classify[direction], labels=unpaired.labels,
                                  segment=self.segment[direction], tissues=unpaired.tissues, tissue_names=TISSUES)


def translation_reference(unpaired: UnpairedData) -> TranslationReference:
    """Score the baselines of both directions on the held-out images, and load the digit classifier once."""
    classifier = None
    if unpaired.labels is not None and unpaired.channels == 1 and unpaired.image_size == 28:
        from gankit.metrics.features import load_classifier

        classifier = load_classifier("mnist")

    def reader(view: Callable[[Tensor], Tensor] | None) -> Callable[[Tensor], Tensor] | None:
        """The classifier's logits, on domain-B images first seen as domain A (`view`) where asked."""
        if classifier is None:
            return None
        return lambda images: eval_forward(classifier, view(images) if view is not None else images)

    classify = {"ab": reader(unpaired.translation.as_domain_a if unpaired.translation else None), "ba": reader(None)}
    segment: dict[str, Callable[[Tensor], Tensor] | None] = {"ab": None, "ba": None}
    if unpaired.modalities is not None:  # outputs of A → B are read in B's contrast table, and back
        modality_a, modality_b = unpaired.modalities
        segment = {"ab": partial(segment_tissues, modality=modality_b),
                   "ba": partial(segment_tissues, modality=modality_a)}
    reference = TranslationReference({}, classify, segment)
    for direction, inputs, truth, train_other in (
        ("ab", unpaired.test_a, unpaired.truth_ab, unpaired.train_b),
        ("ba", unpaired.test_b, unpaired.truth_ba, unpaired.train_a),
    ):
        methods = {"identity": inputs, "histmatch": match_histograms(inputs, train_other)}
        if truth is not None:
            methods["true"] = truth
        reference.baseline_scores |= reference.score(unpaired, methods, direction)
    return reference


def evaluate_translation(
    players: dict[str, nn.Module], unpaired: UnpairedData, reference: TranslationReference
) -> dict[str, float]:
    """Both directions on the held-out images: the model's scores beside its baselines' (from `reference`), and
    the cycle error of each round trip."""
    forward, backward = players[TRANSLATORS[0]], players[TRANSLATORS[1]]
    fake_b, fake_a = apply_generator(forward, unpaired.test_a), apply_generator(backward, unpaired.test_b)
    results = dict(reference.baseline_scores)
    for direction, outputs in (("ab", fake_b), ("ba", fake_a)):
        results |= reference.score(unpaired, {"": outputs}, direction)
    suffix = protocol_suffix(unpaired.tag, len(unpaired.test_a))
    results[f"cycle_aba_{suffix}"] = cycle_error(apply_generator(backward, fake_b), unpaired.test_a)
    results[f"cycle_bab_{suffix}"] = cycle_error(apply_generator(forward, fake_a), unpaired.test_b)
    return results


def _critic_layers(config: UnpairedConfig, image_size: int) -> int:
    try:
        return config.model.d_layers or patchgan_layers_for(image_size)
    except ValueError as err:
        raise ConfigError(f"the critics see {image_size}-pixel images: {err}; use images of at least 16 pixels") from None


class _CriticOfB:
    """D_B and G: A→B seen as a GAN's discriminator and generator (for the preview's critic histograms)."""

    def __init__(self, game: CycleGame) -> None:
        self.generator, self.discriminator = game.generator_ab, game.critic_b

    def discriminate(self, x: Tensor, context: object) -> tuple[Tensor, None]:
        return self.discriminator(x), None
