"""Shared by the report tests: a tiny real run, and the eval.json / alarms.jsonl files other commands write."""

import json

from gankit.config import load_config
from gankit.train.run import train

TINY = ["data.n_samples=256", "train.batch_size=32", "model.g_width=16", "model.d_width=16",
        "train.log_every=1", "train.sample_every=3", "train.checkpoint_every=6"]
EVAL = {"step": 6, "seed": 0, "metrics": {"fid_ring8_1k": 1.2345678, "recall_ring8_1k": None, "modes_ring8": 7}}
ALARMS = [
    {"step": 2, "alarm": "d_overconfident", "message": "D wins every batch", "advice": "lower optim.lr_d"},
    {"step": 5, "alarm": "d_overconfident", "message": "D still wins every batch", "advice": "lower optim.lr_d"},
    {"step": 4, "alarm": "grad_spike", "message": "G gradient norm x10", "advice": "add loss.r1_gamma"},
]


def tiny_run(path, seed=0, steps=6):
    """Train ring8 a few steps into `path` (log every step, sample grids at 0, 3, 6)."""
    return train(load_config("ring8", TINY, steps=steps, seed=seed), path, progress=False).path


def add_eval_and_alarms(run):
    (run / "eval.json").write_text(json.dumps(EVAL))
    (run / "alarms.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ALARMS))
