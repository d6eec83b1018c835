"""`gankit rebalance`: fill up the small classes of a labelled data set with a conditional GAN's samples.

    DIR/data/train_x.npy, train_y.npy   the (imbalanced) training part the GAN trains on
                                        (tabular: standardized, the scale in data/scale.json)
    DIR/data/split.npz                  row indices of the training part and the held-out real test set
    DIR/gan/                            the GAN's run directory (not with --generator)
    DIR/rebalanced.npz                  x, y, synthetic (bool), class_names: real rows first, as given
    DIR/rebalanced.csv                  CSV input only: the input's columns plus synthetic (0/1)
    DIR/rebalance.json                  counts before/after, settings, timings and the evaluation

Everything the user gives is checked before DIR is created; a failure after that removes DIR again.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from gankit.atomic import atomic_write, atomic_write_text
from gankit.config import GANConfig, config_from_dict, load_config
from gankit.data import TABULAR, load_tabular, standardize
from gankit.errors import ConfigError, DataError
from gankit.nn.conditional import ConditionSpec
from gankit.output_dir import check_output_dir, removed_on_failure
from gankit.rebalance.evaluation import CLASSIFIERS, class_memorization, evaluate_downstream, format_table
from gankit.rebalance.inputs import (
    LabeledData, apply_imbalance, load_labeled, parse_class_fractions, stratified_split, target_counts,
)
from gankit.sampling import ConditionInputs, draw

__all__ = ["Plan", "RebalanceResult", "gan_config", "make_plan", "rebalance"]

Scale = tuple[np.ndarray, np.ndarray]  # (mean, std) of standardized features


@dataclass
class RebalanceResult:
    """Where the outputs went, the contents of rebalance.json, and the evaluation as a Markdown table."""

    out: Path
    summary: dict[str, object]
    table: str | None


@dataclass
class Plan:
    """The checked inputs: data, split, cut, counts per class before and after, the tabular scale."""

    data: LabeledData
    train: np.ndarray  # row indices of the (imbalanced) training part
    test: np.ndarray  # row indices of the held-out real test set
    fractions: dict[int, float]  # --imbalance: class index -> fraction kept
    real_counts: np.ndarray
    wanted: np.ndarray
    scale: Scale | None  # tabular: (mean, std) of the training part
    settings: dict[str, object]


def make_plan(source: str, labels: str | None, target: str, imbalance: str | None, test_fraction: float,
              seed: int) -> Plan:
    """Load the data, split off the real test set, cut the training part, resolve the target counts."""
    data = load_labeled(source, labels)
    train, test = stratified_split(data.y, test_fraction, seed)
    fractions = parse_class_fractions(imbalance, data.class_names) if imbalance else {}
    train = apply_imbalance(train, data.y, fractions, seed)
    real_counts = np.bincount(data.y[train], minlength=data.n_classes)
    wanted = target_counts(target, real_counts, data.class_names)
    scale = _scale_of(data.x[train]) if data.kind == "tabular" else None
    settings = {"labels": labels, "target": target, "test_fraction": test_fraction, "seed": seed,
                "imbalance": {data.class_names[c]: f for c, f in sorted(fractions.items())}}
    return Plan(data, train, test, fractions, real_counts, wanted, scale, settings)


def rebalance(
    source: str,
    *,
    out: str | Path,
    labels: str | None = None,
    target: str = "balanced",
    imbalance: str | None = None,
    test_fraction: float = 0.2,
    generator: str | Path | None = None,
    config: str | None = None,
    steps: int | None = None,
    seed: int = 0,
    overrides: list[str] | tuple[str, ...] = (),
    evaluate: bool = True,
    progress: bool = False,
    classifier: str | None = None,
) -> RebalanceResult:
    """Split off a real test set, train (or reuse) a conditional GAN on the rest, write a rebalanced set, score it."""
    started = time.perf_counter()
    out = Path(out)
    check_output_dir(out)
    if generator is not None and (config is not None or steps is not None or overrides):
        raise ConfigError("--generator reuses a trained run; --config, --steps and --set only apply when training "
                          "a new one: drop them")
    plan = make_plan(source, labels, target, imbalance, test_fraction, seed)
    data, train = plan.data, plan.train
    classifier = _classifier_for(data, classifier)
    gan_cfg, model, space = None, None, None
    if generator is not None:
        model, space = _reuse_generator(Path(generator), data)
    else:
        gan_cfg = gan_config(data, config, overrides, steps, seed, out / "data", len(train))
    plan.settings.update(generator=str(generator or out / "gan"), config=config, overrides=list(overrides),
                         gan_steps=gan_cfg.train.steps if gan_cfg else None, classifier=classifier)

    with removed_on_failure(out):
        gan_seconds = None
        if model is None:
            from gankit.train.run import train as train_gan

            _write_training_data(out / "data", plan)
            tick = time.perf_counter()
            train_gan(gan_cfg, out / "gan", progress=progress)
            gan_seconds = round(time.perf_counter() - tick, 1)
            model, space = _class_sampler(out / "gan"), plan.scale
        extra = plan.wanted - plan.real_counts
        synthetic_x = _generate(model, data, space, extra, seed + 1)
        x = np.concatenate([data.x[train], synthetic_x])
        y = np.concatenate([data.y[train], np.repeat(np.arange(data.n_classes), extra)])
        synthetic = np.repeat([False, True], [len(train), len(synthetic_x)])
        names = np.array(data.class_names)
        atomic_write(out / "rebalanced.npz",
                     lambda h: np.savez(h, x=x, y=y, synthetic=synthetic, class_names=names))
        if data.label_column is not None:
            atomic_write_text(out / "rebalanced.csv", _csv_text(data, train, synthetic_x, y[len(train):]))
        evaluation = _evaluate(plan, x, y, model, space, seed + 2, classifier) if evaluate else None
        seconds = {"gan_training": gan_seconds, "total": round(time.perf_counter() - started, 1)}
        summary = _summary(plan, out, seconds, evaluation)
        atomic_write_text(out / "rebalance.json", json.dumps(summary, indent=2) + "\n")
    return RebalanceResult(out, summary, format_table(evaluation) if evaluation else None)


def gan_config(data: LabeledData, source: str | None, overrides: list[str] | tuple[str, ...], steps: int | None,
               seed: int, folder: Path, n_train: int) -> GANConfig:
    """The preset (default: mnist, digits or ct_lesion_cgan for images, tabular for vectors) with data.* pointing
    at `folder`."""
    for item in overrides:
        key, _, value = item.partition("=")
        if key.strip().split(".")[0] == "data":
            raise ConfigError(f"--set {item}: rebalance sets data.* itself (to the training part it writes); "
                              "remove it")
        if key.strip() == "condition.kind" and value.strip() != "label":
            raise ConfigError(f"--set {item}: rebalancing needs a label-conditional GAN (condition.kind label); "
                              "remove it")
    if source is None:
        source = {"digits": "digits", "phantoms": "ct_lesion_cgan"}.get(data.source, "mnist")
        source = "tabular" if data.kind == "tabular" else source
    loaded = load_config(source, overrides, steps=steps, seed=seed)
    if loaded.game != "gan":
        raise ConfigError(f"--config {source} is a {loaded.game} game; rebalancing trains a label-conditional GAN, "
                          "give a gan config")
    raw = loaded.model_dump(mode="json")
    raw["data"] = {"name": "npy", "path": str((folder / "train_x.npy").resolve()),
                   "labels": str((folder / "train_y.npy").resolve())}
    raw["condition"]["kind"] = "label"
    cfg = config_from_dict(raw)
    arch = "dcgan" if data.kind == "image" else "mlp"
    if cfg.model.arch != arch:
        raise ConfigError(f"{data.kind} data needs model.arch {arch}, the config has {cfg.model.arch}; "
                          f"use --set model.arch={arch} or another --config")
    if cfg.train.batch_size > n_train:
        raise DataError(f"train.batch_size {cfg.train.batch_size} exceeds the {n_train} training rows; "
                        f"lower it, e.g. --set train.batch_size={max(1, n_train // 4)}")
    return cfg


def _scale_of(x: np.ndarray) -> Scale:
    table = standardize(x.astype(np.float64))
    return table.mean, table.std


@dataclass
class ClassSampler:
    """A label-conditional generator of a finished run and what it takes."""

    generator: nn.Module
    inputs: ConditionInputs

    def draw(self, labels: Tensor, seed: int) -> Tensor:
        return draw(self.generator, self.inputs, len(labels), seed=seed, conditions=labels)


def _class_sampler(run_dir: Path) -> ClassSampler:
    """The generator of a label-conditional gan run, or one ConfigError saying what the run is instead."""
    from gankit.runs import restore_run

    run = restore_run(run_dir)
    cfg = run.config
    condition = run.meta.get("condition") if cfg.game == "gan" else None
    spec = ConditionSpec.from_dict(condition) if condition else None
    if spec is None or not spec.is_label:
        what = f"condition.kind {cfg.condition.kind!r}" if cfg.game == "gan" else f"a {cfg.game} game"
        raise ConfigError(f"--generator {run_dir} is not label-conditional ({what}); "
                          "give a run trained with condition.kind=label, or leave out --generator to train one")
    return ClassSampler(run.players["generator"], ConditionInputs(cfg.model.latent_dim, spec))


def _reuse_generator(run_dir: Path, data: LabeledData) -> tuple[ClassSampler, Scale | None]:
    """A trained run's generator, checked against the data, and the scale its samples are in (tabular)."""
    model = _class_sampler(run_dir)
    cfg = load_config(str(run_dir / "config.yaml"))
    n_classes = model.inputs.spec.n_classes
    if n_classes != data.n_classes:
        raise ConfigError(f"--generator {run_dir} draws {n_classes} classes but {data.source} has "
                          f"{data.n_classes} ({', '.join(data.class_names)}); give a run trained on these classes")
    shape = tuple(model.draw(torch.zeros(1, dtype=torch.long), seed=0).shape[1:])
    if shape != data.x.shape[1:]:
        raise ConfigError(f"--generator {run_dir} draws samples of shape {shape}, but {data.source} holds "
                          f"{tuple(data.x.shape[1:])}; give a run trained on this kind of data")
    if data.kind == "image":
        return model, None
    if cfg.data.name in TABULAR:  # trained on a builtin table, standardized over all its rows
        table = load_tabular(cfg.data.name)[0]
        return model, (table.mean, table.std)
    scale_file = Path(cfg.data.path or "").parent / "scale.json"
    if cfg.data.name == "npy" and scale_file.is_file():  # the training part of an earlier rebalance
        stored = json.loads(scale_file.read_text())
        return model, (np.array(stored["mean"]), np.array(stored["std"]))
    return model, None  # trained on unscaled vectors: its samples are in the data's units


def _write_training_data(folder: Path, plan: Plan) -> None:
    """The GAN's data set (images as given; tabular rows standardized) and the split, as plain .npy/.json."""
    data, train = plan.data, plan.train
    if plan.scale is None:
        x = data.x[train]
    else:
        mean, std = plan.scale
        x = ((data.x[train] - mean) / std).astype(np.float32)
        atomic_write_text(folder / "scale.json", json.dumps({"mean": mean.tolist(), "std": std.tolist()}) + "\n")
    atomic_write(folder / "train_x.npy", lambda h: np.save(h, x))
    atomic_write(folder / "train_y.npy", lambda h: np.save(h, data.y[train]))
    atomic_write(folder / "split.npz", lambda h: np.savez(h, train_index=train, test_index=plan.test))


def _generate(model: ClassSampler, data: LabeledData, space: Scale | None, counts: np.ndarray, seed: int) -> np.ndarray:
    """counts[c] samples of each class c, in the input's value range (tabular: original units)."""
    labels = torch.from_numpy(np.repeat(np.arange(len(counts)), counts))
    if len(labels) == 0:
        return data.x[:0].copy()
    samples = model.draw(labels, seed=seed).numpy().astype(np.float64)
    if data.kind == "tabular" and space is not None:
        samples = samples * space[1] + space[0]
    return data.from_model(samples)


def _features(data: LabeledData, x: np.ndarray, scale: Scale) -> np.ndarray:
    """What the downstream classifier sees: images (N, C, H, W) in [-1, 1] (the data's window stretched to it,
    where it has one), or columns standardized by `scale`."""
    if data.kind == "image":
        images = data.to_model(x)
        if data.window is not None:
            low, high = data.window
            images = np.clip((images - low) / (high - low) * 2 - 1, -1, 1)
        return images
    return (x - scale[0]) / scale[1]


def _classifier_for(data: LabeledData, classifier: str | None) -> str:
    """The downstream classifier: the one named, else the data's own (cnn for phantoms, logistic otherwise)."""
    if classifier is None:
        return data.classifier
    if classifier not in CLASSIFIERS:
        raise ConfigError(f"unknown --classifier {classifier!r}; use {' or '.join(CLASSIFIERS)}")
    if classifier == "cnn" and data.kind != "image":
        raise ConfigError(f"--classifier cnn reads images; {data.source} is a table: use --classifier logistic")
    return classifier


def _evaluate(plan: Plan, x: np.ndarray, y: np.ndarray, model: ClassSampler, space: Scale | None,
              seed: int, classifier: str) -> dict[str, object]:
    """(a) real imbalanced, (b) real + synthetic, (c) a balanced synthetic set as large as (b), (d) (b)'s counts
    reached by repeating real rows instead: all tested on the held-out real rows; and whether the synthetic rows
    of each class copy its real training rows."""
    data, train, k = plan.data, plan.train, plan.data.n_classes
    rng = np.random.default_rng(seed)
    repeated = np.concatenate([train] + [rng.choice(train[data.y[train] == c], n)
                                         for c, n in enumerate(plan.wanted - plan.real_counts)])
    per_class = np.full(k, len(y) // k) + (np.arange(k) < len(y) % k)
    tstr_x = _generate(model, data, space, per_class, seed)
    tstr_y = np.repeat(np.arange(k), per_class)
    scale = plan.scale or _scale_of(data.x[train])  # images: unused
    counts = plan.real_counts
    minority = sorted(set(plan.fractions) | {c for c in range(k) if counts[c] < counts.max() / 2})
    sets = {
        "real": (_features(data, data.x[train], scale), data.y[train]),
        "real+synthetic": (_features(data, x, scale), y),
        "synthetic": (_features(data, tstr_x, scale), tstr_y),
        "real+oversampled": (_features(data, data.x[repeated], scale), data.y[repeated]),
    }
    test_x = _features(data, data.x[plan.test], scale)
    evaluation = evaluate_downstream(sets, test_x, data.y[plan.test], data.class_names, minority, classifier, seed)
    real_x, real_y = sets["real"]
    synthetic_x, synthetic_y = sets["real+synthetic"][0][len(train):], y[len(train):]
    evaluation["memorization"] = class_memorization(real_x, real_y, synthetic_x, synthetic_y, data.class_names)
    return evaluation


def _csv_text(data: LabeledData, train: np.ndarray, synthetic_x: np.ndarray, synthetic_y: np.ndarray) -> str:
    """The input's columns (real rows verbatim, synthetic rows in original units) plus a synthetic 0/1 column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*data.columns, "synthetic"])
    for i in train:
        writer.writerow([*data.cells[i], "0"])
    label_at = data.columns.index(data.label_column)
    whole = data.integer_columns
    for row, label in zip(synthetic_x, synthetic_y):
        cells = [str(int(v)) if whole[j] else repr(float(v)) for j, v in enumerate(row)]
        cells.insert(label_at, data.class_names[label])
        writer.writerow([*cells, "1"])
    return buffer.getvalue()


def _summary(plan: Plan, out: Path, seconds: dict[str, float | None],
             evaluation: dict[str, object] | None) -> dict[str, object]:
    """The contents of rebalance.json."""
    data, names = plan.data, plan.data.class_names

    def per_class(counts: np.ndarray) -> dict[str, int]:
        return dict(zip(names, np.asarray(counts).tolist()))

    summary: dict[str, object] = {
        "data": data.source,
        "kind": data.kind,
        "classes": names,
        "settings": plan.settings,
        "counts": {
            "input": per_class(np.bincount(data.y, minlength=len(names))),
            "test": per_class(np.bincount(data.y[plan.test], minlength=len(names))),
            "before": per_class(plan.real_counts),
            "synthetic": per_class(plan.wanted - plan.real_counts),
            "after": per_class(plan.wanted),
        },
        "outputs": sorted(p.name for p in out.iterdir()) + ["rebalance.json"],
        "seconds": seconds,
        "evaluation": evaluation,
    }
    if data.kind == "image":
        summary["value_range"] = data.value_range
    if plan.scale is not None:
        summary["scale"] = {"mean": plan.scale[0].tolist(), "std": plan.scale[1].tolist()}
    return summary

