"""The embedding figure of docs/domain.md: the encoder's features of the held-out images of both domains.

    python scripts/domain_figures.py OUT.png "source only=runs/m2d_src_s0" "DANN=runs/m2d_dann_s0"

One row per LABEL=RUN: a t-SNE map (scikit-learn, seed 0) of the features of every held-out image of the
source and target domains, coloured by domain, then the same map coloured by digit. Aligned features mix the
two domains in the left panel while the digits stay apart in the right one.
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.manifold import TSNE

from gankit.kinds.domain import embed
from gankit.kinds.domain_data import load_domain_data
from gankit.runs import restore_run


def main(out: str, arguments: list[str]) -> None:
    figure, axes = plt.subplots(len(arguments), 2, figsize=(9, 4.2 * len(arguments)), squeeze=False)
    for row, argument in zip(axes, arguments, strict=True):
        label, _, path = argument.partition("=")
        run = restore_run(path)
        domains = load_domain_data(run.config.data, run.config.seed)
        features = torch.cat([embed(run.players, images) for images in domains.test_images]).numpy()
        which = np.repeat([0, 1], [len(images) for images in domains.test_images])
        digits = torch.cat(domains.test_labels).numpy()
        points = TSNE(init="pca", random_state=0, perplexity=30).fit_transform(features)
        for index, name in enumerate(domains.names):
            chosen = which == index
            row[0].scatter(*points[chosen].T, s=3, alpha=0.6, label=f"{name} ({'source' if index == 0 else 'target'})")
        row[0].legend(markerscale=4, fontsize=8)
        shown = row[1].scatter(*points.T, c=digits, cmap="tab10", s=3, alpha=0.7)
        figure.colorbar(shown, ax=row[1], ticks=range(10), label="digit")
        row[0].set_title(f"{label}: by domain", fontsize=10)
        row[1].set_title(f"{label}: by digit", fontsize=10)
        for axis in row:
            axis.set_xticks([])
            axis.set_yticks([])
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
