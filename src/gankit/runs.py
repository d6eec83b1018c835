"""Finished runs, restored in one place: their players from a checkpoint, samples drawn, eval.json written,
an image-to-image generator applied to new images.

Both the command line and the workflows (rebalancing, sweeps) restore runs through here; the game
kind named in the run's config.yaml rebuilds its players, and knows how to sample and score them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gankit.atomic import atomic_write, atomic_write_text
from gankit.config import RunConfig, load_config
from gankit.errors import ConfigError
from gankit.experiment import resolve_device
from gankit.kinds import GameKind, get_kind
from gankit.metrics.evaluate import FeatureOptions
from gankit.train.checkpoint import load_checkpoint, load_module_state
from gankit.train.run_dir import RunDir

__all__ = [
    "RestoredRun", "apply_run", "load_generator", "restore_run", "sample_from_run", "traverse_run", "write_evaluation",
]

_FIX = "the run's config.yaml no longer matches its checkpoints; restore the config it was trained with"


@dataclass
class RestoredRun:
    """A run's players at one checkpoint (eval mode; the averaged player's EMA weights where the run kept them)."""

    path: Path
    config: RunConfig
    kind: GameKind
    players: dict[str, nn.Module]
    meta: dict[str, Any]
    step: int


def restore_run(run_dir: str | Path, device: str = "cpu", checkpoint: str = "latest") -> RestoredRun:
    """Load a run's players from its checkpoint: `latest`, `best` (train.best_metric) or a step number."""
    run = RunDir.open(run_dir)
    config = load_config(str(run.config_path))
    kind = get_kind(config.game)
    path = run.find_checkpoint(checkpoint)
    state = load_checkpoint(path)
    meta = state["meta"]
    players = kind.restore(config, meta)
    for name, module in players.items():
        weights = state["players"].get(name, {})
        if name == kind.averaged_player and meta.get("ema"):
            weights = state["callbacks"].get("EMACallback") or weights
        load_module_state(module, weights, f"the {name} in {path}", _FIX)
        module.to(resolve_device(device)).eval()
    return RestoredRun(run.path, config, kind, players, meta, int(state["step"]))


def load_generator(
    run_dir: str | Path, device: str = "cpu", checkpoint: str = "latest"
) -> tuple[nn.Module, RunConfig, int]:
    """The generator of a run's checkpoint (its EMA weights when the run kept them), config and step."""
    run = restore_run(run_dir, device, checkpoint)
    if "generator" not in run.players:
        raise ConfigError(f"{run.path} is a {run.kind.name} run, which has no generator")
    return run.players["generator"], run.config, run.step


def sample_from_run(
    run_dir: str | Path, n: int, out: str | Path, seed: int = 0, conditions: Tensor | None = None,
    checkpoint: str = "latest", *, size: int | None = None, porosity: float | None = None,
    points: str | Path | None = None,
) -> Tensor:
    """Draw `n` samples from a run and write them to `out`: a .png grid (or 2D scatter) or a .npy array.

    `conditions` are the label(s) or condition vector(s) of a conditional run; without them a
    label-conditional run draws one row per class. A fields run draws fields of `size` cells per axis,
    conditioned on a `porosity` target and on the observed cells of a `points` CSV file.
    """
    out = Path(out)
    if out.suffix not in (".png", ".npy"):
        raise ConfigError(f"--out {out} must end in .png (a grid) or .npy (an array)")
    hard = None
    if points is not None:
        from gankit.fields.conditioning import read_hard_data

        hard = read_hard_data(points)
    run = restore_run(run_dir, checkpoint=checkpoint)
    if size is not None or porosity is not None or hard is not None:
        samples, columns, save_picture = run.kind.sample_fields(run.config, run.players, run.meta, n, seed=seed,
                                                                size=size, porosity=porosity, hard=hard)
    else:
        samples, columns, save_picture = run.kind.sample(run.config, run.players, run.meta, n, seed=seed,
                                                         conditions=conditions)
    if out.suffix == ".npy":
        atomic_write(out, lambda handle: np.save(handle, samples.numpy()))
    else:
        save_picture(samples, out, columns)
    return samples


def traverse_run(
    run_dir: str | Path, index: int, out: str | Path, *, steps: int = 9, seed: int = 0, checkpoint: str = "latest"
) -> Tensor:
    """Write an InfoGAN latent-traversal grid of continuous code `index` (see sampling.traversal_inputs)."""
    from gankit.viz import save_image_grid

    run = restore_run(run_dir, checkpoint=checkpoint)
    traverse = getattr(run.kind, "traverse", None)
    if traverse is None:
        raise ConfigError(f"--traverse needs an InfoGAN run; {run_dir} is a {run.kind.name} run")
    images = traverse(run.config, run.players, run.meta, index, steps=steps, seed=seed)
    if Path(out).suffix != ".png":
        raise ConfigError(f"--out {out} must end in .png for a traversal grid")
    save_image_grid(images, out, nrow=steps)
    return images


def write_evaluation(
    run_dir: str | Path, metrics: Collection[str], *, n: int, seed: int = 0,
    features: FeatureOptions = FeatureOptions(), checkpoint: str = "latest",
) -> dict[str, float]:
    """Evaluate a run's checkpoint (latest, best or a step) and write `eval.json` (atomically) beside its config."""
    run = restore_run(run_dir, checkpoint=checkpoint)
    if features != FeatureOptions() and not run.kind.takes_feature_options:
        raise ConfigError(f"--inception-weights and --quantize apply to gan runs' samples; a {run.kind.name} run is "
                          "scored by its own protocols: drop them")
    results = run.kind.evaluate(run.config, run.players, run.meta, metrics, n=n, seed=seed, features=features)
    finite = {k: (v if math.isfinite(v) else None) for k, v in results.items()}  # JSON has no inf: null
    report = {"step": run.step, "checkpoint": checkpoint, "seed": seed, "metrics": finite}
    atomic_write_text(Path(run_dir) / "eval.json", json.dumps(report, indent=2) + "\n")
    return results


def apply_run(
    run_dir: str | Path, source: str | Path, out: str | Path, checkpoint: str = "latest", *, reverse: bool = False
) -> int:
    """Run an image-to-image run's generator (`reverse`: an unpaired run's B → A one) on an image file, a folder
    of images or a .npy of images.

    An image file gives a .png at `out`; a folder gives one .png per image in the new folder `out`; a .npy
    of (N, C, H, W) images in [-1, 1] (or [0, 1], or uint8) gives a .npy. Returns the number of images.
    Everything is read and checked before anything is written.
    """
    from gankit.data import load_npy
    from gankit.data.images import IMAGE_EXTENSIONS, read_image
    from gankit.viz import save_image

    run = restore_run(run_dir, checkpoint=checkpoint)
    source, out = Path(source), Path(out)
    channels = run.meta.get("channels", 1)

    def translate(images: Tensor) -> Tensor:
        return run.kind.translate(run.config, run.players, run.meta, images, reverse=reverse)

    def read(file: Path) -> Tensor:
        _check_image_channels(file, channels)
        return torch.from_numpy(read_image(file, channels).copy()).permute(2, 0, 1)[None].float() / 127.5 - 1

    if source.suffix == ".npy":
        if out.suffix != ".npy":
            raise ConfigError(f"--out {out}: a .npy input gives a .npy output; name it OUT.npy")
        images = load_npy(source)
        if images.dim() != 4:
            raise ConfigError(f"{source} holds an array of shape {tuple(images.shape)}; give (N, C, H, W) images")
        outputs = translate(images)
        atomic_write(out, lambda handle: np.save(handle, outputs.numpy()))
        return len(outputs)
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if not files:
            raise ConfigError(f"no images in {source} (looked for {', '.join(IMAGE_EXTENSIONS)})")
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ConfigError(f"--out {out} exists and is not an empty folder; give a new folder")
        outputs = [translate(read(file))[0] for file in files]  # every image first: a bad one writes nothing
        out.mkdir(parents=True, exist_ok=True)
        for file, image in zip(files, outputs, strict=True):
            save_image(image, out / f"{file.stem}.png")
        return len(files)
    if not source.is_file():
        raise ConfigError(f"no such input: {source}; give an image file, a folder of images or a .npy")
    if out.suffix != ".png":
        raise ConfigError(f"--out {out} must end in .png for an image input")
    save_image(translate(read(source))[0], out)
    return 1


def _check_image_channels(file: Path, channels: int) -> None:
    """Refuse a colour image for a grayscale model (a grayscale one is widened for an RGB model)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            colour = image.mode not in ("1", "L", "LA", "I", "I;16", "F")
    except (UnidentifiedImageError, OSError) as err:
        raise ConfigError(f"cannot read image {file} ({err}); fix or remove it") from None
    if colour and channels == 1:
        raise ConfigError(f"{file} is a colour image and this model takes grayscale images; convert it first")
