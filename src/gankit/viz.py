"""Pictures of samples: image grids (Pillow) and 2D scatter plots over the true modes (matplotlib)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image
from torch import Tensor

from gankit.atomic import atomic_write

__all__ = ["image_grid", "save_image", "save_image_grid", "save_scatter"]


def image_grid(images: Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile (N,C,H,W) images in [−1,1] into one uint8 array (H', W') or (H', W', 3)."""
    images = images.detach().float().cpu().clamp(-1, 1)
    n, c, h, w = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol = math.ceil(n / nrow)
    canvas = np.zeros((c, ncol * (h + padding) + padding, nrow * (w + padding) + padding), dtype=np.uint8)
    pixels = ((images.numpy() + 1.0) * 127.5).round().astype(np.uint8)
    for i in range(n):
        row, col = divmod(i, nrow)
        top, left = padding + row * (h + padding), padding + col * (w + padding)
        canvas[:, top : top + h, left : left + w] = pixels[i]
    return canvas[0] if c == 1 else canvas.transpose(1, 2, 0)


def save_image_grid(images: Tensor, path: str | Path, nrow: int | None = None, scale: int = 2) -> None:
    """Save a PNG grid of (N,C,H,W) images in [−1,1], enlarged `scale` times (nearest neighbour)."""
    grid = Image.fromarray(image_grid(images, nrow))
    if scale > 1:
        grid = grid.resize((grid.width * scale, grid.height * scale), Image.NEAREST)
    _save_png(grid, path)


def save_image(image: Tensor, path: str | Path) -> None:
    """Save one (C,H,W) image in [−1,1] as a PNG at its own size (grayscale or RGB)."""
    _save_png(Image.fromarray(image_grid(image[None], nrow=1, padding=0)), path)


def _save_png(picture: Image.Image, path: str | Path) -> None:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()))


def save_scatter(points: Tensor, path: str | Path, means: np.ndarray | None = None, title: str = "") -> None:
    """Save a PNG scatter of 2D samples, with the true mixture means marked when given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = points.detach().float().cpu().numpy()
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.scatter(pts[:, 0], pts[:, 1], s=3, alpha=0.5, color="tab:blue", label="generated")
    if means is not None:
        ax.scatter(means[:, 0], means[:, 1], s=60, marker="x", color="tab:red", label="true modes")
        span = np.abs(means).max() * 1.5 + 0.5
        ax.set_xlim(-span, span)
        ax.set_ylim(-span, span)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()))
