"""The tables of docs/medical.md from finished runs (mean ± std over seeds of each run's last evaluation).

    python scripts/medical_tables.py ct 30 60 90 "U-Net, L1 only=runs/ct_l1_v{views}_s*" "GAN=runs/ct_gan_v{views}_s*"
    python scripts/medical_tables.py modality "CycleGAN=runs/ctmr_s*"

`ct`: one block of rows per view count (FBP, FBP + TV, then each LABEL=GLOB group, `{views}` filled in); the
baselines are read from the first group (the same scans in every run of one seed). Columns: PSNR, SSIM and
PSNR inside the organs on the held-out phantoms, PSNR and SSIM on Shepp–Logan.
`modality`: identity, histogram matching and the true rendering (from the first group), then each group;
PSNR, SSIM and mean Dice both ways, then a second table of Dice per tissue.
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


def main(arguments: list[str]) -> None:
    if arguments[:1] == ["ct"]:
        counts = [int(a) for a in arguments[1:] if a.isdigit()]
        ct_table(counts, [a for a in arguments[1:] if not a.isdigit()])
    elif arguments[:1] == ["modality"]:
        modality_table(arguments[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
