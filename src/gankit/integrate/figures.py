"""The integration figure: each method's embedding in two dimensions, coloured by batch and by cell type."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gankit.integrate.inputs import Cells

__all__ = ["PROJECTIONS", "embedding_figure", "project"]

MAX_PLOTTED = 5000  # cells drawn per panel (a seeded subsample beyond that)
PROJECTIONS = ("tsne", "pca")


def project(embedding: np.ndarray, how: str, seed: int) -> np.ndarray:
    """`embedding` in 2-d: a t-SNE (perplexity 30 or less for few cells, PCA initialization, seeded) or its
    first two principal components (fast)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if how == "pca":
        return PCA(2, random_state=seed).fit_transform(embedding)
    perplexity = min(30.0, (len(embedding) - 1) / 3)
    return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(embedding)


def _scatter(ax, points: np.ndarray, groups: np.ndarray, title: str, legend: bool) -> None:  # noqa: ANN001
    import matplotlib.pyplot as plt

    names = sorted(set(groups.tolist()))
    colours = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    for i, name in enumerate(names):
        mine = groups == name
        ax.scatter(points[mine, 0], points[mine, 1], s=3, color=colours(i % colours.N), label=name, linewidths=0)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    if legend:
        ax.legend(fontsize=6, markerscale=3, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)


def embedding_figure(embeddings: dict[str, np.ndarray], cells: Cells, path: Path, seed: int, how: str = "tsne") -> None:
    """One column per method, projected by `how` (`project`); the first row coloured by batch, the second (with
    labels) by cell type."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = np.arange(len(cells.x))
    if len(rows) > MAX_PLOTTED:
        rows = np.sort(np.random.default_rng(seed).choice(rows, MAX_PLOTTED, replace=False))
    colourings = [("batch", cells.batch[rows])]
    if cells.cell_type is not None:
        colourings.append(("cell type", np.array([t or "unknown" for t in cells.cell_type[rows]])))
    fig, axes = plt.subplots(len(colourings), len(embeddings), figsize=(3.2 * len(embeddings) + 1.5,
                                                                        3.0 * len(colourings)), squeeze=False)
    for column, (method, embedding) in enumerate(embeddings.items()):
        points = project(embedding[rows], how, seed)
        for row, (what, groups) in enumerate(colourings):
            _scatter(axes[row, column], points, groups, f"{method}: by {what}", legend=column == len(embeddings) - 1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
