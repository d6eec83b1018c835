"""The paired kind's data: (input, target) images split by image into training and held-out sets, and batches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from gankit import data
from gankit.config import PairedDataConfig
from gankit.data.degradations import parse_degradation
from gankit.data.phantoms import TISSUES, make_phantoms, shepp_logan
from gankit.data.pairs import SKIMAGE_SPLIT, load_paired_folders, random_crops, skimage_images
from gankit.errors import ConfigError, DataError
from gankit.kinds.paired_game import INPUTS, TARGETS

__all__ = ["CropBatches", "PairedData", "complement", "held_out", "load_paired_data"]


@dataclass
class PairedData:
    """Training and held-out pairs, the scale from input to target, and a tag naming the task in protocols."""

    train_inputs: Tensor
    train_targets: Tensor
    test_inputs: Tensor
    test_targets: Tensor
    scale: int
    tag: str  # e.g. mnist_downsample4: the data set and how its inputs were made
    test_regions: dict[str, Tensor] = field(default_factory=dict)  # masks (N, 1, H, W) scored apart, e.g. organs
    fixed_tests: dict[str, tuple[Tensor, Tensor]] = field(default_factory=dict)  # tag → (inputs, targets) of fixed
    # test images scored apart from the held-out split (phantoms: Shepp–Logan, tag shepp_logan_<degradation>)

    @property
    def channels(self) -> int:
        return self.train_targets.shape[1]

    def test_sets(self) -> dict[str, tuple[Tensor, Tensor, dict[str, Tensor]]]:
        """Every set a run is scored on, by tag: (inputs, targets, region masks) of the held-out pairs, then of
        each fixed test image."""
        return {self.tag: (self.test_inputs, self.test_targets, self.test_regions),
                **{tag: (inputs, targets, {}) for tag, (inputs, targets) in self.fixed_tests.items()}}


def load_paired_data(cfg: PairedDataConfig, seed: int) -> PairedData:
    """Load the config's images and make their pairs; the held-out images never reach training."""
    if cfg.name == "paired_folders":
        inputs, targets = load_paired_folders(cfg.inputs, cfg.targets, None, cfg.channels)
        scale = _scale_of(inputs, targets)
        test = held_out(len(targets), cfg.test_fraction, seed)
        train = complement(len(targets), test)
        return PairedData(inputs[train], targets[train], inputs[test], targets[test], scale, "paired_folders")
    degradation = parse_degradation(cfg.degradation)
    how = degradation.spec.replace(':', '').replace('+', '_').replace('.', 'p')
    tag = f"{cfg.name}_{how}"
    if cfg.name == "skimage":  # a fixed split by image, as the SR literature's named test sets
        size = cfg.image_size or 128
        train_targets = skimage_images(SKIMAGE_SPLIT["train"], cfg.channels, size)
        test_targets = skimage_images(SKIMAGE_SPLIT["test"], cfg.channels, size)
        return PairedData(degradation(train_targets, seed), train_targets, degradation(test_targets, seed + 1),
                          test_targets, degradation.scale, tag)
    targets, regions = _clean_images(cfg)
    inputs = degradation(targets, seed)
    test = held_out(len(targets), cfg.test_fraction, seed)
    train = complement(len(targets), test)
    fixed = {}
    if cfg.name == "phantoms":  # the field's fixed test image, scanned as the phantoms are
        head = shepp_logan(targets.shape[-1])
        fixed[f"shepp_logan_{how}"] = (degradation(head, seed + 1), head)
    return PairedData(inputs[train], targets[train], inputs[test], targets[test], degradation.scale, tag,
                      {name: mask[test] for name, mask in regions.items()}, fixed)


def _clean_images(cfg: PairedDataConfig) -> tuple[Tensor, dict[str, Tensor]]:
    """The source's clean images, and the masks of the regions it scores apart (phantoms: their organs)."""
    if cfg.name == "phantoms":  # one fixed set of phantoms for every run seed, as the digits are
        phantoms = make_phantoms(cfg.n_images, cfg.image_size or 64, seed=0)
        organs = (phantoms.tissues == TISSUES.index("organ")) | (phantoms.tissues == TISSUES.index("lesion"))
        return phantoms.images(), {"organs": organs[:, None]}
    return _plain_images(cfg), {}


def _plain_images(cfg: PairedDataConfig) -> Tensor:
    if cfg.name == "mnist":
        return data.load_mnist_sample(cfg.image_size or 28)
    if cfg.name == "digits":
        return data.load_digits(cfg.image_size or 8)
    if cfg.image_size is None:
        raise ConfigError("data.name folder needs data.image_size (the size of the target images)")
    return data.load_image_folder(cfg.path, cfg.image_size, cfg.channels)


def _scale_of(inputs: Tensor, targets: Tensor) -> int:
    (h, w), (th, tw) = inputs.shape[-2:], targets.shape[-2:]
    if th % h or tw % w or th // h != tw // w:
        raise DataError(f"the targets ({th}x{tw}) are not a whole multiple of the inputs ({h}x{w}) in both sides; "
                        "give pairs whose sizes differ by one integer scale (or are equal)")
    return th // h


def held_out(n: int, fraction: float, seed: int) -> Tensor:
    """A seeded random `fraction` of the n images (at least one, and at least one left to train on)."""
    if n < 2:
        raise DataError(f"the data hold {n} image; an image-to-image run needs at least 2 (one to train on, one held out)")
    count = min(max(1, round(fraction * n)), n - 1)
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed + 7))[:count].sort().values


def complement(n: int, rows: Tensor) -> Tensor:
    keep = torch.ones(n, dtype=torch.bool)
    keep[rows] = False
    return keep.nonzero().flatten()


class CropBatches:
    """Endless batches of aligned random crops `{inputs, targets}` (target side `crop`), resumable exactly."""

    def __init__(self, paired: PairedData, crop: int, batch_size: int, seed: int, device: torch.device) -> None:
        self.inputs, self.targets = paired.train_inputs, paired.train_targets
        self.crop, self.scale, self.batch_size, self.device = crop // paired.scale, paired.scale, batch_size, device
        random_crops(self.inputs[:1], self.targets[:1], self.crop, self.scale, torch.Generator(), 1)  # sizes fit
        self._generator = torch.Generator().manual_seed(seed)

    def __iter__(self) -> CropBatches:
        return self

    def __next__(self) -> dict[str, Tensor]:
        inputs, targets = random_crops(self.inputs, self.targets, self.crop, self.scale, self._generator,
                                       self.batch_size)
        return {INPUTS: inputs.to(self.device), TARGETS: targets.to(self.device)}

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self._generator.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._generator.set_state(state["generator"].cpu())
