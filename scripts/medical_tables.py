"""The tables of docs/medical.md from finished runs (mean ± std over seeds of each run's last evaluation).

    python scripts/medical_tables.py ct 30 60 90 "U-Net, L1 only=runs/ct_l1_v{views}_s*" "GAN=runs/ct_gan_v{views}_s*"
    python scripts/medical_tables.py modality "CycleGAN=runs/ctmr_s*"
    python scripts/medical_tables.py lesions "runs/lesions_s*"

`ct`: one block of rows per view count (FBP, FBP + TV, then each LABEL=GLOB group, `{views}` filled in); the
baselines are read from the first group (the same scans in every run of one seed). Columns: PSNR, SSIM and
PSNR inside the organs on the held-out phantoms, PSNR and SSIM on Shepp–Logan.
`modality`: identity, histogram matching and the true rendering (from the first group), then each group;
PSNR, SSIM and mean Dice both ways, then a second table of Dice per tissue.
`lesions`: the four training sets of each `gankit rebalance phantoms` directory (one per seed): balanced
accuracy and recall per class of the detector, and the copy fraction of the synthetic lesions; then the same
detector trained on the *balanced* real training part of each seed's split (what it can do with enough lesions).
"""

from __future__ import annotations

import sys

from image2image_table import cell, run_groups

TISSUES = ("air", "fat", "soft_tissue", "organ", "bone")


def values(scores: list[dict[str, float]], prefix: str) -> list[float]:
    """Each run's value of the one protocol starting with `prefix` (its `_std` companion left out)."""
    return [v for s in scores for k, v in s.items() if k.startswith(prefix) and not k.endswith("_std")]


def cells(scores: list[dict[str, float]], prefixes: list[tuple[str, int]]) -> str:
    return " | ".join(cell(found, digits) if (found := values(scores, prefix)) else "–" for prefix, digits in prefixes)


def ct_table(views: list[int], arguments: list[str]) -> None:
    print("| views | method | PSNR (dB) | SSIM | PSNR in organs (dB) | Shepp–Logan PSNR (dB) | Shepp–Logan SSIM |")
    print("|---" * 7 + "|")
    for count in views:
        groups = run_groups([argument.replace("{views}", str(count)) for argument in arguments])
        held, head = f"phantoms_sparse_view{count}_", f"shepp_logan_sparse_view{count}_"

        def columns(method: str) -> list[tuple[str, int]]:
            return [(f"psnr_{method}{held}", 2), (f"ssim_{method}{held}", 3), (f"psnr_organs_{method}{held}", 2),
                    (f"psnr_{method}{head}", 2), (f"ssim_{method}{head}", 3)]

        first = groups[0][1]
        for method, label in (("input_", "FBP"), ("tv_", "FBP + TV")):
            print(f"| {count} | {label} | {cells(first, columns(method))} |")
        for label, scores in groups:
            print(f"| {count} | {label} ({len(scores)} seeds) | {cells(scores, columns(''))} |")


def modality_table(arguments: list[str]) -> None:
    groups = run_groups(arguments)
    rows = [(method, label, groups[0][1]) for method, label in (
        ("identity_", "identity (baseline)"), ("histmatch_", "histogram matching (baseline)"),
        ("true_", "the true rendering (segmentation ceiling)"))]
    rows += [("", f"{label} ({len(scores)} seeds)", scores) for label, scores in groups]
    print("| | CT→MR PSNR (dB) | CT→MR SSIM | CT→MR mean Dice | MR→CT PSNR (dB) | MR→CT SSIM | MR→CT mean Dice |")
    print("|---" * 7 + "|")
    for method, label, scores in rows:
        prefixes = [(f"{metric}_{method}{direction}_", digits) for direction in ("ab", "ba")
                    for metric, digits in (("psnr", 2), ("ssim", 3), ("dice", 3))]
        print(f"| {label} | {cells(scores, prefixes)} |")
    print()
    print("| | " + " | ".join(f"{d} {t}" for d in ("CT→MR", "MR→CT") for t in TISSUES) + " |")
    print("|---" * (1 + 2 * len(TISSUES)) + "|")
    for method, label, scores in rows:
        prefixes = [(f"dice_{tissue}_{method}{direction}_", 3) for direction in ("ab", "ba") for tissue in TISSUES]
        print(f"| {label} | {cells(scores, prefixes)} |")


def lesion_table(pattern: str) -> None:
    import glob
    import json
    from pathlib import Path

    import numpy as np

    from gankit.rebalance import load_labeled
    from gankit.rebalance.evaluation import SET_TITLES, downstream_scores
    from gankit.rebalance.workflow import _features

    runs = sorted(Path(p) for p in glob.glob(pattern) if (Path(p) / "rebalance.json").is_file())
    if not runs:
        sys.exit(f"no finished gankit rebalance directory matches {pattern!r}")
    summaries = [json.loads((run / "rebalance.json").read_text()) for run in runs]
    data = load_labeled("phantoms")
    balanced = []
    for run, summary in zip(runs, summaries):
        split = np.load(run / "data" / "split.npz")
        train, test = split["train_index"], split["test_index"]
        full = np.concatenate([train, np.setdiff1d(np.arange(len(data.y)), np.concatenate([train, test]))])
        scores = downstream_scores(_features(data, data.x[full], None), data.y[full],
                                   _features(data, data.x[test], None), data.y[test], 2, "cnn",
                                   summary["settings"]["seed"] + 2)
        balanced.append(scores)
    n = len(runs)
    print(f"| training set ({n} seeds) | training slices | balanced accuracy | recall lesion | recall no lesion |")
    print("|---|---|---|---|---|")
    for name, title in SET_TITLES.items():
        sets = [s["evaluation"]["sets"][name] for s in summaries]
        print(f"| {title} | {cell([s['n_train'] for s in sets], 0)} | {cell([s['balanced_accuracy'] for s in sets], 3)} "
              f"| {cell([s['recall']['lesion'] for s in sets], 3)} | {cell([s['recall']['no_lesion'] for s in sets], 3)} |")
    print(f"| real, balanced (every lesion slice of the split kept) | {cell([s['n_train'] for s in balanced], 0)} "
          f"| {cell([s['balanced_accuracy'] for s in balanced], 3)} | {cell([s['recall'][1] for s in balanced], 3)} "
          f"| {cell([s['recall'][0] for s in balanced], 3)} |")
    copies = [s["evaluation"]["memorization"]["lesion"] for s in summaries]
    print(f"\ncopy fraction of the synthetic lesions: {cell([c['copy_fraction'] for c in copies], 3)} "
          f"({copies[0]['synthetic_rows']} synthetic vs {copies[0]['real_rows']} real lesion slices, seed 0); "
          f"GAN training {cell([s['seconds']['gan_training'] for s in summaries], 0)} s, "
          f"total {cell([s['seconds']['total'] for s in summaries], 0)} s")


def main(arguments: list[str]) -> None:
    if arguments[:1] == ["ct"]:
        counts = [int(a) for a in arguments[1:] if a.isdigit()]
        ct_table(counts, [a for a in arguments[1:] if not a.isdigit()])
    elif arguments[:1] == ["modality"]:
        modality_table(arguments[1:])
    elif arguments[:1] == ["lesions"] and len(arguments) == 2:
        lesion_table(arguments[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
