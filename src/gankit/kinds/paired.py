"""The `paired` kind: image-to-image GANs on (input, target) pairs: super-resolution (SRGAN) and restoration
(pix2pix), judged by PSNR/SSIM against the field's baseline on held-out images (docs/image2image.md)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gankit import losses
from gankit.config import PairedConfig
from gankit.data import InfiniteBatches
from gankit.errors import ConfigError
from gankit.game import Game
from gankit.kinds.base import GameKind, PlayerOptimizer, Preview, Setup, critic_outputs, penalty_keys
from gankit.kinds.paired_baselines import pair_baselines
from gankit.kinds.paired_data import CropBatches, PairedData, load_paired_data
from gankit.kinds.paired_game import INPUTS, TARGETS, ContentGame, PairedGame, content_loss, upsampled
from gankit.metrics.evaluate import FeatureOptions, FeatureSpace, feature_space
from gankit.metrics.restoration import restoration_scores
from gankit.nn.image2image import PatchGANDiscriminator, SRResNetGenerator, UNetGenerator, patchgan_layers_for
from gankit.sampling import eval_forward
from gankit.viz import save_image_grid

__all__ = ["PairedKind", "apply_generator", "build_pair_players", "evaluate_pairs", "translate_images"]

PREVIEW_PAIRS = 8  # held-out pairs shown in the sample grids: input | output | target per row


class PairedKind(GameKind):
    name = "paired"
    averaged_player = "generator"
    unrolled_roles = ("generator", "discriminator")

    def check(self, config: PairedConfig) -> None:
        super().check(config)
        if config.dynamics.trust_region is not None:
            raise ConfigError("dynamics.trust_region is a gan-kind option; remove it for a paired run")
        if config.loss.adversarial_weight == 0 and config.dynamics.name == "unrolled":
            raise ConfigError("loss.adversarial_weight 0 trains the generator alone; unrolled dynamics need a critic "
                              "to unroll, choose another rule")

    def double_backward(self, config: PairedConfig) -> list[str]:
        return penalty_keys(config.loss)

    def build(self, config: PairedConfig, device: torch.device) -> Setup:
        paired = load_paired_data(config.data, config.seed)
        crop = config.data.crop
        if crop is not None and crop % paired.scale:
            raise ConfigError(f"data.crop {crop} must be a multiple of the scale {paired.scale}; use "
                              f"{crop - crop % paired.scale or paired.scale}")
        players = build_pair_players(config, paired.channels, paired.scale, _critic_size(config, paired))
        content = content_loss(config.loss.content, _features(config, device))
        game = _game(config, {name: module.to(device) for name, module in players.items()}, content)
        batch = config.train.batch_size
        if config.data.crop is not None:
            batches = CropBatches(paired, config.data.crop, batch, config.seed, device)
        else:
            batches = InfiniteBatches({INPUTS: paired.train_inputs, TARGETS: paired.train_targets}, batch,
                                      seed=config.seed, device=device)
        meta = {"channels": paired.channels, "scale": paired.scale, "critic_size": _critic_size(config, paired)}
        return Setup(game, batches, paired, meta)

    def optimizer_settings(self, config: PairedConfig) -> dict[str, PlayerOptimizer]:
        betas = (config.optim.beta1, config.optim.beta2)
        settings = {"generator": PlayerOptimizer(config.optim.lr_g, betas)}
        if config.loss.adversarial_weight > 0:
            settings["discriminator"] = PlayerOptimizer(config.optim.lr_d, betas)
        return settings

    def dynamics_steps(self, config: PairedConfig) -> dict[str, int]:
        return {"discriminator": config.dynamics.d_steps, **config.dynamics.steps}

    def preview(self, config: PairedConfig, setup: Setup, drawn: dict[str, nn.Module]) -> Preview:
        paired: PairedData = setup.data
        device = next(setup.game.players["generator"].parameters()).device
        shown_rows = torch.linspace(0, len(paired.test_targets) - 1, PREVIEW_PAIRS).long().unique()  # spread out
        inputs = paired.test_inputs[shown_rows].to(device)
        targets = paired.test_targets[shown_rows]
        generator = drawn["generator"]
        shown = upsampled(inputs, targets.shape[-2:]).cpu()

        def save(outputs: Tensor, path: Path) -> None:
            rows = torch.stack([shown, outputs.cpu().clamp(-1, 1), targets], dim=1).flatten(0, 1)
            save_image_grid(rows, path, nrow=3)

        return Preview(draw=lambda: eval_forward(generator, inputs), save=save, real_batch=paired.test_targets,
                       critic_outputs=_critic_outputs(setup.game, inputs, targets.to(device)), columns=3)

    def evaluator(
        self, config: PairedConfig, setup: Setup, drawn: dict[str, nn.Module]
    ) -> Callable[[int], dict[str, float]]:
        paired: PairedData = setup.data
        space, baselines = _space(config, paired), pair_baselines(paired)  # the baselines once, not every time
        return lambda step: evaluate_pairs(drawn["generator"], paired, space, baselines)

    def restore(self, config: PairedConfig, meta: dict[str, Any]) -> dict[str, nn.Module]:
        return build_pair_players(config, meta["channels"], meta["scale"], meta["critic_size"])

    def sample(
        self, config: PairedConfig, players: dict[str, nn.Module], meta: dict[str, Any], n: int, *, seed: int,
        conditions: Tensor | None,
    ) -> tuple[Tensor, int | None, Callable[[Tensor, Path, int | None], None]]:
        raise ConfigError("a paired run maps images to images rather than drawing from noise; run it on images with "
                          "gankit apply RUN INPUT --out OUT")

    def translate(
        self, config: PairedConfig, players: dict[str, nn.Module], meta: dict[str, Any], images: Tensor, *,
        reverse: bool = False,
    ) -> Tensor:
        if reverse:
            raise ConfigError("--reverse runs an unpaired run's B → A translator; a paired run has one direction, "
                              "drop --reverse")
        return translate_images(players["generator"], images, meta["channels"])

    def evaluate(
        self, config: PairedConfig, players: dict[str, nn.Module], meta: dict[str, Any], metrics: Collection[str], *,
        n: int, seed: int, features: FeatureOptions,
    ) -> dict[str, float]:
        """PSNR/SSIM of the model and of the baselines on the run's held-out pairs (and FID on digit images)."""
        paired = load_paired_data(config.data, config.seed)
        return evaluate_pairs(players["generator"], paired, _space(config, paired), pair_baselines(paired))


def build_pair_players(config: PairedConfig, channels: int, scale: int, critic_size: int) -> dict[str, nn.Module]:
    """The generator (SRResNet or U-Net) and, with an adversarial weight, the PatchGAN critic."""
    model = config.model
    if model.generator == "srresnet":
        generator: nn.Module = SRResNetGenerator(channels, scale=scale, blocks=model.blocks, width=model.g_width)
    else:
        if scale != 1:
            raise ConfigError(f"model.generator unet keeps the image size; this task upscales by {scale}: use srresnet")
        generator = UNetGenerator(channels, channels, depth=model.depth, width=model.g_width)
    players = {"generator": generator}
    if config.loss.adversarial_weight > 0:
        try:
            layers = model.d_layers or patchgan_layers_for(critic_size)
        except ValueError as err:
            raise ConfigError(f"the critic sees {critic_size}-pixel images: {err}; train on larger images or crops, "
                              "or set loss.adversarial_weight 0") from None
        in_channels = 2 * channels if model.discriminator == "pair" else channels
        players["discriminator"] = PatchGANDiscriminator(in_channels, layers=layers, width=model.d_width,
                                                         spectral_norm=model.spectral_norm)
    return players


def evaluate_pairs(
    generator: nn.Module, paired: PairedData, space: FeatureSpace | None, baselines: dict[str, dict[str, Tensor]]
) -> dict[str, float]:
    """The model's and the baselines' scores on every test set of the run (baselines: :func:`pair_baselines`):
    the held-out pairs (with FID where a feature space is known, and their regions) and each fixed test image."""
    scores: dict[str, float] = {}
    for tag, (inputs, targets, regions) in paired.test_sets().items():
        scores |= restoration_scores(apply_generator(generator, inputs), baselines[tag], targets, tag=tag,
                                     crop=paired.scale if paired.scale > 1 else 0,
                                     space=space if tag == paired.tag else None, regions=regions)
    return scores


def apply_generator(generator: nn.Module, inputs: Tensor, batch_size: int = 64) -> Tensor:
    """The generator's outputs (eval mode, on its device, in batches), on the CPU, clamped to [-1, 1]."""
    device = next(generator.parameters()).device
    outputs = [eval_forward(generator, chunk.to(device)).cpu() for chunk in inputs.split(batch_size)]
    return torch.cat(outputs).clamp(-1, 1)


def translate_images(generator: nn.Module, images: Tensor, channels: int) -> Tensor:
    """:func:`apply_generator` for gankit apply: images of another channel count, or a size the generator's
    architecture cannot take, are one ConfigError line."""
    if images.shape[1] != channels:
        raise ConfigError(f"this model takes {channels}-channel images, the input has {images.shape[1]}; "
                          f"convert it to {'grayscale' if channels == 1 else 'RGB'}")
    try:
        return apply_generator(generator, images)
    except ValueError as err:  # a U-Net's or a translator's size rule
        raise ConfigError(f"the input does not fit this model: {err}; crop or pad it") from None


def _game(config: PairedConfig, players: dict[str, nn.Module], content: Callable[[Tensor, Tensor], Tensor]) -> Game:
    if "discriminator" not in players:
        return ContentGame(players["generator"], content)
    return PairedGame(
        players["generator"], players["discriminator"], losses.get(config.loss.name), content=content,
        adversarial_weight=config.loss.adversarial_weight, pair_critic=config.model.discriminator == "pair",
        gp_weight=config.loss.gp_weight, r1_gamma=config.loss.r1_gamma, r1_every=config.loss.r1_every,
    )


def _critic_size(config: PairedConfig, paired: PairedData) -> int:
    """The side of the images the critic sees in training: the crop, or the whole target."""
    return config.data.crop or min(paired.train_targets.shape[-2:])


def _features(config: PairedConfig, device: torch.device) -> nn.Module | None:
    """The frozen network of a feature content loss: a shipped classifier's features or a TorchScript file."""
    name = config.loss.features
    if name is None:
        return None
    if name in ("mnist", "digits"):
        from gankit.metrics.features import load_classifier

        classifier = load_classifier(name).to(device)
        return _Features(classifier)
    if not Path(name).is_file():
        raise ConfigError(f"loss.features {name!r} is neither mnist, digits nor a file; give a TorchScript .pt file "
                          "(torch.jit.save of your feature network)")
    try:
        return torch.jit.load(name, map_location=device)
    except RuntimeError as err:
        raise ConfigError(f"loss.features {name} is not a TorchScript module ({str(err).splitlines()[0]}); save it "
                          "with torch.jit.save(torch.jit.script(net), path)") from None


class _Features(nn.Module):
    """A shipped classifier's penultimate features, as a module (for the feature content loss)."""

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier.features(x)


def _space(config: PairedConfig, paired: PairedData) -> FeatureSpace | None:
    """The shipped digit classifier's features for FID on digit images; None elsewhere (no CPU features)."""
    if config.data.name not in ("mnist", "digits") or paired.channels != 1:
        return None
    return feature_space(config.data.name, tuple(paired.test_targets.shape[1:]))


def _critic_outputs(game: Game, inputs: Tensor, targets: Tensor) -> Callable[[], tuple[Tensor, Tensor]] | None:
    """The critic's logits on held-out targets and on the generator's outputs for them (eval mode)."""
    if not isinstance(game, PairedGame):
        return None
    view = upsampled(inputs, targets.shape[-2:]) if game.pair_critic else None  # the critic's view of the inputs
    return critic_outputs(game, targets, view, [inputs], view)
