"""The unpaired kind's data: two domains with held-out images, and batches of one image set of each.

From MNIST, domain A is half of the training digits and domain B a known translation (invert,
dilate:R) of the *other* half, so no image of A has its counterpart in B; the held-out digits and
their translations give the true translation both ways, and their labels judge whether the digit
survived. From CT phantoms, domain A is the CT-like rendering of half of the training phantoms and B the
MR-like rendering of the other half (gankit.data.modalities); the held-out phantoms rendered both ways give
the truth, and their tissue maps judge whether the anatomy survived. From two folders, the domains are the
folders and there is no ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from gankit import data
from gankit.config import UnpairedDataConfig
from gankit.data import InfiniteBatches, ZippedBatches
from gankit.data.modalities import render
from gankit.data.phantoms import make_phantoms
from gankit.data.translations import Translation, parse_translation
from gankit.kinds.paired_data import complement, held_out
from gankit.kinds.unpaired_game import A, B

__all__ = ["UnpairedData", "load_unpaired_data", "unpaired_batches"]


@dataclass
class UnpairedData:
    """Training images of each domain; held-out images of each, with their true translations where known."""

    train_a: Tensor
    train_b: Tensor
    test_a: Tensor
    test_b: Tensor
    tag: str  # names the task in protocols, e.g. mnist_invert
    translation: Translation | None = None  # the true map A → B (None: two folders, no ground truth)
    truth_ab: Tensor | None = None  # the true translation of test_a
    truth_ba: Tensor | None = None  # the true translation of test_b
    labels: Tensor | None = None  # the digit of each held-out image (test_a[i], test_b[i] show the same digit)
    tissues: Tensor | None = None  # phantoms: the tissue map (N, S, S) of each held-out phantom
    modalities: tuple[str, str] | None = None  # phantoms: the contrast tables of A and B (gankit.data.modalities)

    @property
    def channels(self) -> int:
        return self.train_a.shape[1]

    @property
    def image_size(self) -> int:
        return self.train_a.shape[-1]


def load_unpaired_data(cfg: UnpairedDataConfig, seed: int) -> UnpairedData:
    """Load or make the two domains; held-out images never reach training."""
    if cfg.name == "folders":
        domains = [data.load_image_folder(path, cfg.image_size, cfg.channels) for path in (cfg.a, cfg.b)]
        splits = [_split(images, cfg.test_fraction, seed + i) for i, images in enumerate(domains)]
        (train_a, test_a), (train_b, test_b) = splits
        return UnpairedData(train_a, train_b, test_a, test_b, tag="folders")
    if cfg.name == "phantoms":  # one fixed set of phantoms for every run seed, as the digits are
        phantoms = make_phantoms(cfg.n_images, cfg.image_size or 64, seed=0)
        ct, mr = render(phantoms.tissues, "ct"), render(phantoms.tissues, "mr")
        test, rows_a, rows_b = _disjoint_halves(len(phantoms), cfg.test_fraction, seed)
        return UnpairedData(ct[rows_a], mr[rows_b], ct[test], mr[test], tag="phantoms_ct_mr", truth_ab=mr[test],
                            truth_ba=ct[test], tissues=phantoms.tissues[test], modalities=("ct", "mr"))
    translation = parse_translation(cfg.translation or "invert")
    images, labels = data.load_mnist_sample(cfg.image_size or 28, with_labels=True)
    test, rows_a, rows_b = _disjoint_halves(len(images), cfg.test_fraction, seed)
    originals = images[test]
    translated = translation(originals)
    return UnpairedData(
        images[rows_a], translation(images[rows_b]), originals, translated,
        tag=f"mnist_{translation.spec.replace(':', '')}", translation=translation, truth_ab=translated,
        truth_ba=originals, labels=labels[test],
    )


def _disjoint_halves(n: int, fraction: float, seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """Held-out rows, and the rest shuffled and cut in two: the rows of domain A and of domain B."""
    test = held_out(n, fraction, seed)
    train = complement(n, test)
    train = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(seed + 11))]
    half = len(train) // 2
    return test, train[:half], train[half:]


def _split(images: Tensor, fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    test = held_out(len(images), fraction, seed)
    return images[complement(len(images), test)], images[test]


def unpaired_batches(unpaired: UnpairedData, batch_size: int, seed: int, device: torch.device) -> ZippedBatches:
    """Endless `{a, b}` batches, each domain shuffled on its own (resumable exactly)."""
    return ZippedBatches({
        A: InfiniteBatches(unpaired.train_a, batch_size, seed=seed, device=device),
        B: InfiniteBatches(unpaired.train_b, batch_size, seed=seed + 1, device=device),
    })
