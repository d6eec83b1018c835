"""The unpaired-translation tables of docs/image2image.md from finished unpaired runs (mean ± std over seeds).

    python scripts/cycle_table.py "CycleGAN=runs/cyc_*" "no identity term=runs/cyc_noid_*"

Each argument is LABEL=GLOB of run directories (one per seed) trained with the same config but their seed.
Rows: the baselines (identity, histogram matching) and the true translation's digits kept, read from the
first group (the same held-out images in every run of one seed), then each group's model; columns per
direction: PSNR and SSIM against the true translation and the share of digits kept, then both cycle errors.
"""

from __future__ import annotations

import sys

from image2image_table import cell, run_groups

COLUMNS = [(f"{metric}_{{method}}{direction}_", digits) for direction in ("ab", "ba")
           for metric, digits in (("psnr", 2), ("ssim", 3), ("classes", 3))]


def row(label: str, scores: list[dict[str, float]], method: str) -> str:
    cells = []
    for template, digits in COLUMNS:
        prefix = template.format(method=method)
        values = [v for s in scores for k, v in s.items() if k.startswith(prefix) and not k.endswith("_std")]
        cells.append(cell(values, digits) if values else "–")
    for direction in ("ab", "ba"):  # the model's PSNR once registered, and the shift (dy, dx) that registers it
        registered = [v for s in scores for k, v in s.items() if k.startswith(f"psnr_registered_{direction}_")]
        shift = [(s[k.replace("psnr_registered", "shift_y")], s[k.replace("psnr_registered", "shift_x")])
                 for s in scores for k in s if k.startswith(f"psnr_registered_{direction}_")]
        cells.append(f"{cell(registered, 2)} at {', '.join(f'({y:+.0f}, {x:+.0f})' for y, x in shift)}"
                     if registered and not method else "–")
    for trip in ("aba", "bab"):
        values = [v for s in scores for k, v in s.items() if k.startswith(f"cycle_{trip}_")] if not method else []
        cells.append(cell(values, 3) if values else "–")
    return f"| {label} | " + " | ".join(cells) + " |"


def main(arguments: list[str]) -> None:
    groups = run_groups(arguments)
    first = groups[0][1]
    print("| | A→B PSNR (dB) | A→B SSIM | A→B digits kept | B→A PSNR (dB) | B→A SSIM | B→A digits kept "
          "| A→B PSNR registered, at (dy, dx) | B→A PSNR registered | cycle A→B→A | cycle B→A→B |")
    print("|---" * 11 + "|")
    for method, label in (("identity_", "identity (baseline)"), ("histmatch_", "histogram matching (baseline)"),
                          ("true_", "the true translation")):
        print(row(label, first, method))
    for label, scores in groups:
        print(row(f"{label} ({len(scores)} seed{'s' if len(scores) > 1 else ''})", scores, ""))


if __name__ == "__main__":
    main(sys.argv[1:])
