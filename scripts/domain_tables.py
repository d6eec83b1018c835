"""The digit-adaptation table of docs/domain.md from finished domain runs (mean ± std over seeds of each run's
last evaluation).

    python scripts/domain_tables.py "source only=runs/m2d_src_s*" "DANN=runs/m2d_dann_s*" "target labels=runs/m2d_up_s*"

Each argument is LABEL=GLOB of run directories (one per seed) of one direction; rows in the order given.
Columns: accuracy on the held-out target and source images, the domain probe's balanced accuracy (0.5: the
domains are aligned in the features) and the proxy A-distance.
"""

from __future__ import annotations

import sys

from image2image_table import cell, run_groups

COLUMNS = (("target_accuracy_", "target accuracy"), ("source_accuracy_", "source accuracy"),
           ("domain_probe_", "domain probe"), ("proxy_a_distance_", "proxy A-distance"))


def main(arguments: list[str]) -> None:
    print("| method | " + " | ".join(title for _, title in COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for label, scores in run_groups(arguments):
        found = [[v for s in scores for k, v in s.items() if k.startswith(prefix)] for prefix, _ in COLUMNS]
        print(f"| {label} ({len(scores)} seeds) | " + " | ".join(cell(values, 3) for values in found) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
