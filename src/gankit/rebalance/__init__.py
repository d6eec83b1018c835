"""Class rebalancing with a conditional GAN: `gankit rebalance` (see docs/rebalancing.md).

inputs.py      the labelled data (builtin, .npy, .csv), the stratified split, --imbalance, --target
workflow.py    train or reuse the GAN, write the rebalanced set and rebalance.json
evaluation.py  one fixed downstream classifier trained on real / real + synthetic / synthetic data
"""

from gankit.rebalance.evaluation import downstream_scores, evaluate_downstream, format_table
from gankit.rebalance.inputs import LabeledData, load_labeled
from gankit.rebalance.workflow import Plan, RebalanceResult, gan_config, make_plan, rebalance

__all__ = [
    "LabeledData", "Plan", "RebalanceResult", "downstream_scores", "evaluate_downstream", "format_table",
    "gan_config", "load_labeled", "make_plan", "rebalance",
]
