"""The labelled data a rebalancing run reads: builtin sets, .npy arrays and CSV tables.

Every source becomes a :class:`LabeledData`: the samples exactly as given (`x`, original dtype
and units), class indices 0..K-1 (`y`) and the class names they stand for. The split into a
training part and a held-out real test set, the `--imbalance` cut and the `--target` counts are
pure functions of those arrays, so everything is checked before anything is written.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from gankit import data as sources
from gankit.errors import ConfigError, DataError

__all__ = [
    "BUILTIN", "SOFT_TISSUE_WINDOW", "LabeledData", "apply_imbalance", "load_labeled", "parse_class_fractions", "resolve_class",
    "stratified_split", "target_counts",
]

BUILTIN = ("mnist", "digits", "phantoms", "breast_cancer", "wine")
SOFT_TISSUE_WINDOW = (-0.16, 0.24)  # 40 ± 200 HU as HU / 1000: what a reader of abdominal CT looks at
DCGAN_SIZES = (28, 32, 64)


@dataclass
class LabeledData:
    """Samples as given, class indices 0..K-1 and the class names.

    `kind` is ``image`` ((N, C, H, W)) or ``tabular`` ((N, D)). Images keep their value range
    (`value_range`: ``uint8`` 0..255, ``unit`` [0, 1] or ``signed`` [-1, 1]); a CSV keeps its header
    and raw cells (`columns`, `label_column`, `cells`) so real rows can be written back verbatim.
    """

    x: np.ndarray
    y: np.ndarray
    class_names: list[str]
    kind: Literal["image", "tabular"]
    source: str
    value_range: str | None = None
    columns: list[str] = field(default_factory=list)
    label_column: str | None = None
    cells: list[list[str]] = field(default_factory=list)
    integer_columns: np.ndarray | None = None  # CSV: feature columns holding only whole numbers
    window: tuple[float, float] | None = None  # images: the value interval the downstream classifier sees,
    # stretched to [-1, 1] (phantoms: a CT soft-tissue window)
    classifier: str = "logistic"  # the downstream classifier when the user names none (phantoms: cnn)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def feature_columns(self) -> list[str]:
        return [c for c in self.columns if c != self.label_column]

    def to_model(self, x: np.ndarray) -> np.ndarray:
        """Images in [-1, 1] as float32 (what the GAN sees); tabular rows as float64 in original units."""
        if self.kind == "tabular":
            return x.astype(np.float64)
        if self.value_range == "uint8":
            return x.astype(np.float32) / 255.0 * 2 - 1
        if self.value_range == "unit":
            return x.astype(np.float32) * 2 - 1
        return x.astype(np.float32)

    def from_model(self, samples: np.ndarray) -> np.ndarray:
        """Generated samples back in the input's value range and dtype (tabular: units already restored)."""
        if self.kind == "tabular":
            if self.integer_columns is not None and self.integer_columns.any():
                samples = samples.copy()
                samples[:, self.integer_columns] = np.round(samples[:, self.integer_columns])
            return samples.astype(self.x.dtype if self.x.dtype.kind == "f" else np.float64)
        samples = np.clip(samples, -1.0, 1.0)
        if self.value_range == "uint8":
            return np.round((samples + 1) * 127.5).astype(np.uint8)
        if self.value_range == "unit":
            return ((samples + 1) / 2).astype(self.x.dtype)
        return samples.astype(self.x.dtype)


def load_labeled(source: str, labels: str | None = None) -> LabeledData:
    """A builtin name (mnist, digits, breast_cancer, wine), an .npy array (+ labels .npy) or a .csv (+ label column)."""
    if source in BUILTIN:
        if labels is not None:
            raise DataError(f"{source} brings its own labels; remove --labels")
        found = _builtin(source)
    elif source.endswith(".csv"):
        if labels is None:
            raise DataError(f"{source} needs --labels COLUMN naming its label column")
        found = _csv(Path(source), labels)
    elif source.endswith(".npy"):
        if labels is None:
            raise DataError(f"{source} needs --labels LABELS.npy holding one integer class label per row")
        found = _npy(Path(source), Path(labels))
    else:
        raise DataError(f"unknown data {source!r}; give a builtin name ({', '.join(BUILTIN)}), an .npy file "
                        "with --labels LABELS.npy, or a .csv file with --labels COLUMN")
    if found.n_classes < 2:
        raise DataError(f"{source} holds a single class ({found.class_names[0]!r}); rebalancing needs at least two")
    return found


def _builtin(name: str) -> LabeledData:
    if name == "phantoms":  # 2,000 64-pixel CT slices, a conspicuous lesion in half of them
        from gankit.data.phantoms import LESION_CLASSES, lesion_phantoms

        images, lesion = lesion_phantoms()
        return LabeledData(images.numpy(), lesion.numpy(), list(LESION_CLASSES), "image", name, "signed",
                           window=SOFT_TISSUE_WINDOW, classifier="cnn")
    if name == "mnist":
        images, labels = sources.load_mnist_sample(28, with_labels=True)
    elif name == "digits":  # 8x8, upsampled to the smallest DCGAN size
        images, labels = sources.load_digits(28, with_labels=True)
    else:
        from sklearn import datasets

        bunch = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}[name]()
        return LabeledData(bunch.data.astype(np.float64), bunch.target.astype(np.int64),
                           [str(n) for n in bunch.target_names], "tabular", name)
    y = labels.numpy()
    return LabeledData(images.numpy(), y, [str(i) for i in range(int(y.max()) + 1)], "image", name, "signed")


def _npy(path: Path, labels_path: Path) -> LabeledData:
    sources.load_npy(path)  # shape, dtype, NaN and range checks with their messages
    raw = np.load(path, allow_pickle=False)
    labels = sources.load_condition_file(labels_path, len(raw))
    if labels.dim() != 1 or labels.is_floating_point():
        raise DataError(f"{labels_path} holds condition vectors of shape {tuple(labels.shape)}; "
                        "rebalancing needs one integer class label per row (N,)")
    values, y = np.unique(labels.numpy(), return_inverse=True)
    names = [str(int(v)) for v in values]
    if raw.ndim == 2:
        return LabeledData(raw, y.astype(np.int64), names, "tabular", str(path))
    if raw.shape[2] != raw.shape[3] or raw.shape[2] not in DCGAN_SIZES:
        raise DataError(f"{path} holds {raw.shape[2]}x{raw.shape[3]} images; the rebalancing DCGAN takes square "
                        f"images of {', '.join(map(str, DCGAN_SIZES))} pixels: resize them (e.g. to 28x28)")
    if raw.dtype == np.uint8:
        value_range = "uint8"
    else:  # load_npy read floats all in [0, 1] as [0, 1], any others (already checked) as [-1, 1]
        value_range = "unit" if raw.min() >= 0 and raw.max() <= 1 else "signed"
    return LabeledData(raw, y.astype(np.int64), names, "image", str(path), value_range)


def _csv(path: Path, label_column: str) -> LabeledData:
    if not path.is_file():
        raise DataError(f"no such file: {path}; give an existing .csv file with a header row")
    try:
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {path} as CSV ({exc}); save it as UTF-8 text with a header row") from None
    if len(rows) < 2:
        raise DataError(f"{path} needs a header row and at least one data row")
    columns, cells = [c.strip() for c in rows[0]], [r for r in rows[1:] if r]
    if label_column not in columns:
        raise DataError(f"{path} has no column {label_column!r}; its columns are: {', '.join(columns)}")
    if "synthetic" in columns:
        raise DataError(f"{path} already has a column named 'synthetic', which the output adds; rename it")
    if len(columns) < 2:
        raise DataError(f"{path} has only the label column; it needs at least one numeric feature column")
    for number, row in enumerate(cells, start=2):
        if len(row) != len(columns):
            raise DataError(f"{path} line {number} has {len(row)} fields, the header has {len(columns)}; fix that row")
    label_at = columns.index(label_column)
    features = [i for i in range(len(columns)) if i != label_at]
    x = np.empty((len(cells), len(features)), dtype=np.float64)
    for j, column in enumerate(features):
        for i, row in enumerate(cells):
            x[i, j] = _number(row[column], path, columns[column], i + 2)
    raw_labels = [row[label_at].strip() for row in cells]
    if "" in raw_labels:
        line = raw_labels.index("") + 2
        raise DataError(f"{path} line {line} has an empty {label_column!r} label; give every row a class")
    try:  # integer labels: classes in numeric order, named by their value
        as_int = {v: int(v) for v in set(raw_labels)}
        ordered = sorted(set(as_int.values()))
        names = [str(i) for i in ordered]
        lookup = {v: ordered.index(i) for v, i in as_int.items()}
    except ValueError:  # string labels: sorted by name
        names = sorted(set(raw_labels))
        lookup = {v: names.index(v) for v in names}
    y = np.array([lookup[v] for v in raw_labels], dtype=np.int64)
    whole = np.all(x == np.round(x), axis=0)
    return LabeledData(x, y, names, "tabular", str(path), columns=columns, label_column=label_column,
                       cells=cells, integer_columns=whole)


def _number(text: str, path: Path, column: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        if text.strip() == "":
            raise DataError(f"{path} column {column!r} is empty on line {line}; fill in or drop rows with missing "
                            "values") from None
        raise DataError(f"{path} column {column!r} is not numeric ({text!r} on line {line}); drop the column or "
                        "encode it as numbers") from None
    if not math.isfinite(value):
        raise DataError(f"{path} column {column!r} holds {text.strip()} on line {line}; fill in or drop rows with "
                        "NaN/Inf")
    return value


def resolve_class(key: str, class_names: list[str], option: str) -> int:
    """The index of a class given by name or, failing that, by index 0..K-1."""
    key = str(key).strip()
    if key in class_names:
        return class_names.index(key)
    if key.lstrip("-").isdigit() and 0 <= int(key) < len(class_names):
        return int(key)
    raise ConfigError(f"{option}: unknown class {key!r}; the classes are {', '.join(class_names)} "
                      f"(or indices 0..{len(class_names) - 1})")


def parse_class_fractions(text: str, class_names: list[str]) -> dict[int, float]:
    """`CLASS=FRACTION,...` -> {class index: fraction in (0, 1]}."""
    fractions: dict[int, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        try:
            fraction = float(value)
        except ValueError:
            fraction = math.nan
        if not sep or not 0 < fraction <= 1:
            raise ConfigError(f"--imbalance {item!r} is not CLASS=FRACTION with a fraction in (0, 1]; "
                              "write e.g. --imbalance 3=0.02,5=0.02")
        fractions[resolve_class(key, class_names, "--imbalance")] = fraction
    return fractions


def stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted row indices of a seeded, stratified (training part, held-out test set) split."""
    from sklearn.model_selection import train_test_split

    if not 0 < test_fraction < 1:
        raise ConfigError(f"--test-fraction must lie strictly between 0 and 1, got {test_fraction}")
    counts = np.bincount(y)
    if counts.min() < 2:
        small = int(np.argmin(counts))
        raise DataError(f"class index {small} has {counts[small]} sample(s); a held-out test set needs at least "
                        "2 per class (one to train on, one to test)")
    try:
        train, test = train_test_split(np.arange(len(y)), test_size=test_fraction, stratify=y, random_state=seed)
    except ValueError as exc:
        raise DataError(f"cannot split {len(y)} samples of {len(counts)} classes with --test-fraction "
                        f"{test_fraction} ({exc}); raise --test-fraction or give more data") from None
    return np.sort(train), np.sort(test)


def apply_imbalance(train: np.ndarray, y: np.ndarray, fractions: dict[int, float], seed: int) -> np.ndarray:
    """Keep fraction x count (rounded half up, at least 1) of each listed class's training rows, chosen by `seed`."""
    rng = np.random.default_rng(seed)
    keep = np.ones(len(train), dtype=bool)
    for label, fraction in sorted(fractions.items()):
        rows = np.flatnonzero(y[train] == label)
        kept = max(1, math.floor(fraction * len(rows) + 0.5))
        keep[rng.permutation(rows)[kept:]] = False
    return train[keep]


def target_counts(target: str, counts: np.ndarray, class_names: list[str]) -> np.ndarray:
    """Wanted rows per class: ``balanced`` (all up to the largest class) or a JSON file {class: count}."""
    if target == "balanced":
        return np.full_like(counts, counts.max())
    path = Path(target)
    if not path.is_file():
        raise ConfigError(f"--target {target!r} is neither 'balanced' nor an existing counts .json file")
    try:
        wanted = json.loads(path.read_text())
    except (ValueError, OSError) as exc:
        raise ConfigError(f"--target {path} is not JSON ({exc}); write e.g. {{\"3\": 400, \"5\": 400}}") from None
    if not isinstance(wanted, dict):
        raise ConfigError(f"--target {path} must hold an object {{class: count}}, not {type(wanted).__name__}")
    result = counts.copy()
    for key, count in wanted.items():
        label = resolve_class(key, class_names, f"--target {path}")
        if isinstance(count, bool) or not isinstance(count, int):
            raise ConfigError(f"--target {path}: the count of class {key!r} must be a whole number, got {count!r}")
        if count < counts[label]:
            raise ConfigError(f"--target {path}: class {key!r} asks for {count} rows but the training part already "
                              f"has {counts[label]} real ones; give at least {counts[label]} (real rows are never "
                              "dropped)")
        result[label] = count
    return result
