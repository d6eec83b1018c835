"""The figures of docs/medical.md from finished runs.

    python scripts/medical_figures.py ct RUN OUT.png          # a ct_sparse60-style paired run
    python scripts/medical_figures.py modality RUN OUT.png    # a ct_mr_cycle run
    python scripts/medical_figures.py lesions DIR OUT.png     # a gankit rebalance phantoms output directory

ct: for two held-out phantoms and Shepp–Logan: the sinogram, FBP (with its streaks), FBP + TV, the network's
output, the phantom, and the error maps of FBP and of the network in HU. Images are shown in a soft-tissue
window (−200 to 300 HU) so streaks and organs are visible. modality: CT input, its translation, the true MR
rendering, the segmentation of the translation and the true tissue map, and the same MR → CT. lesions: the
real lesion slices the GAN trained on beside synthetic ones, in the same window.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from gankit.data.ct import Scan  # noqa: E402
from gankit.data.modalities import segment  # noqa: E402
from gankit.data.phantoms import TISSUES  # noqa: E402
from gankit.kinds.paired import apply_generator  # noqa: E402
from gankit.kinds.paired_baselines import pair_baselines  # noqa: E402
from gankit.kinds.paired_data import load_paired_data  # noqa: E402
from gankit.kinds.unpaired_data import load_unpaired_data  # noqa: E402
from gankit.runs import restore_run  # noqa: E402

WINDOW = (-0.2, 0.3)  # HU / 1000


def _show(axis, image, title, **style):
    axis.imshow(image, cmap=style.pop("cmap", "gray"), **style)
    axis.set_title(title, fontsize=8)
    axis.axis("off")


def ct_figure(run_dir: Path, out: Path) -> None:
    run = restore_run(run_dir)
    paired = load_paired_data(run.config.data, run.config.seed)
    baselines = pair_baselines(paired)
    rows = []
    for tag, (inputs, targets, _) in paired.test_sets().items():
        picks = [0, 1] if tag == paired.tag else [0]
        outputs = apply_generator(run.players["generator"], inputs[picks])
        for k, i in enumerate(picks):
            rows.append((tag, inputs[i, 0], baselines[tag]["tv"][i, 0], outputs[k, 0], targets[i, 0]))
    scan = Scan(views=int(paired.tag.rsplit("sparse_view", 1)[1].split("_")[0]))
    figure, axes = plt.subplots(len(rows), 7, figsize=(14, 2.2 * len(rows)))
    for axis_row, (tag, fbp, tv, output, target) in zip(axes, rows):
        _show(axis_row[0], scan.sinogram(target.double().numpy()), f"sinogram ({scan.views} views)", aspect="auto")
        for axis, image, title in zip(axis_row[1:5], (fbp, tv, output, target),
                                      ("FBP", "FBP + TV", "network", "phantom" if "phantoms" in tag else "Shepp–Logan")):
            _show(axis, image.numpy(), title, vmin=WINDOW[0], vmax=WINDOW[1])
        for axis, image, title in ((axis_row[5], fbp, "|FBP − truth| (HU)"), (axis_row[6], output, "|network − truth| (HU)")):
            _show(axis, 1000 * (image - target).abs().numpy(), title, cmap="magma", vmin=0, vmax=150)
    figure.tight_layout()
    figure.savefig(out, dpi=110)


def modality_figure(run_dir: Path, out: Path) -> None:
    run = restore_run(run_dir)
    data = load_unpaired_data(run.config.data, run.config.seed)
    picks = [0, 1, 2]
    fake_mr = apply_generator(run.players["generator_ab"], data.test_a[picks])
    fake_ct = apply_generator(run.players["generator_ba"], data.test_b[picks])
    figure, axes = plt.subplots(len(picks), 10, figsize=(17, 1.9 * len(picks)))
    labels = {"vmin": 0, "vmax": len(TISSUES) - 1, "cmap": "tab10"}
    for k, axis_row in enumerate(axes):
        i = picks[k]
        _show(axis_row[0], data.test_a[i, 0].numpy(), "CT (input)", vmin=-1, vmax=1)
        _show(axis_row[1], fake_mr[k, 0].numpy(), "CT → MR", vmin=-1, vmax=1)
        _show(axis_row[2], data.truth_ab[i, 0].numpy(), "true MR", vmin=-1, vmax=1)
        _show(axis_row[3], segment(fake_mr[k : k + 1], "mr")[0].numpy(), "segmented CT → MR", **labels)
        _show(axis_row[4], data.tissues[i].numpy(), "true tissues", **labels)
        _show(axis_row[5], data.test_b[i, 0].numpy(), "MR (input)", vmin=-1, vmax=1)
        _show(axis_row[6], fake_ct[k, 0].numpy(), "MR → CT", vmin=-1, vmax=1)
        _show(axis_row[7], data.truth_ba[i, 0].numpy(), "true CT", vmin=-1, vmax=1)
        _show(axis_row[8], segment(fake_ct[k : k + 1], "ct")[0].numpy(), "segmented MR → CT", **labels)
        _show(axis_row[9], data.tissues[i].numpy(), "true tissues", **labels)
    figure.tight_layout()
    figure.savefig(out, dpi=110)


def lesion_figure(directory: Path, out: Path) -> None:
    saved = np.load(directory / "rebalanced.npz")
    lesion = saved["y"] == list(saved["class_names"]).index("lesion")
    real, fake = saved["x"][lesion & ~saved["synthetic"]][:8], saved["x"][lesion & saved["synthetic"]][:8]
    figure, axes = plt.subplots(2, 8, figsize=(14, 4))
    for axis_row, images, title in ((axes[0], real, "real lesion (trained on)"), (axes[1], fake, "synthetic lesion")):
        for axis, image in zip(axis_row, images):
            _show(axis, image[0], title, vmin=WINDOW[0], vmax=WINDOW[1])
    figure.tight_layout()
    figure.savefig(out, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("ct", "modality", "lesions"):
        sys.exit(__doc__)
    torch.set_grad_enabled(False)
    {"ct": ct_figure, "modality": modality_figure, "lesions": lesion_figure}[sys.argv[1]](Path(sys.argv[2]),
                                                                                         Path(sys.argv[3]))
