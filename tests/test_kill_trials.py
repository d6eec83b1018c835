"""Kill-and-resume trials: a real `gankit train` process is killed at a random moment, then resumed.

Each trial sends SIGTERM (clean stop: checkpoint at the current step) or SIGKILL (no warning: the
process may die mid-write; resume goes back to the newest periodic checkpoint) and then resumes
until the end. Nothing may be lost: the final weights equal those of an uninterrupted run bit for
bit, every checkpoint left behind loads, and metrics.csv has each logged step exactly once.
One trial runs in CI; `pytest -m slow tests/test_kill_trials.py` runs 20 more.
"""

import csv
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from gankit.train.checkpoint import load_checkpoint
from process_helpers import start_gankit, wait_until

STEPS = 300
SETTINGS = ["data.n_samples=512", "train.batch_size=64", "train.log_every=5", "train.checkpoint_every=25",
            "train.keep_checkpoints=2", "train.sample_every=100", "train.tensorboard=false",
            "model.g_width=32", "model.d_width=32", "train.ema_decay=0.99"]
ARGS = ["train", "ring8", "--steps", str(STEPS), "--no-progress",
        *[arg for item in SETTINGS for arg in ("--set", item)]]
TRIALS = [(trial, "SIGKILL" if trial % 2 == 0 else "SIGTERM") for trial in range(21)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Final generator, discriminator and EMA weights of an uninterrupted run."""
    out = tmp_path_factory.mktemp("reference") / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "gankit", *ARGS, "--out", str(out)], check=True, env=env,
                   capture_output=True)
    return _final_state(out)


def _final_state(run):
    state = load_checkpoint(run / "checkpoints" / f"step_{STEPS:06d}.pt")
    return {**state["players"], "ema": state["callbacks"]["EMACallback"]}


def _kill_at_random(out, trial, sig):
    """Start training, wait for its first checkpoint, then kill it after a random delay. Returns the exit code."""
    proc = start_gankit(*ARGS, "--out", str(out))
    wait_until(lambda: any((out / "checkpoints").glob("step_*.pt")))
    time.sleep(random.Random(trial).uniform(0.0, 3.0))
    proc.send_signal(getattr(signal, sig))
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def _run_trial(tmp_path, gankit, reference, trial, sig):
    out = tmp_path / "run"
    code, err = _kill_at_random(out, trial, sig)
    finished = (out / "checkpoints" / f"step_{STEPS:06d}.pt").exists() and "stopped by" not in err
    if code == 0 or (finished and code == -signal.SIGTERM):  # the signal came once training was over
        pytest.skip(f"trial {trial}: the run finished before the {sig} arrived (exit {code})")
    assert code == (130 if sig == "SIGTERM" else -signal.SIGKILL), err
    for path in (out / "checkpoints").glob("step_*.pt"):
        load_checkpoint(path)  # every checkpoint left behind is whole
    result = gankit("train", "--resume", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    resumed = _final_state(out)
    for name, weights in reference.items():
        assert all(torch.equal(value, resumed[name][key]) for key, value in weights.items()), (trial, sig, name)
    with (out / "metrics.csv").open() as handle:
        steps = [int(row["step"]) for row in csv.DictReader(handle)]
    assert steps == list(range(5, STEPS + 1, 5))
    assert not [p for p in out.rglob("*.tmp")], "a temporary file of the killed process was left behind"


@pytest.mark.parametrize("trial, sig", TRIALS[:1])
def test_a_killed_run_resumes_to_the_same_weights(trial, sig, tmp_path, gankit, reference):
    _run_trial(tmp_path, gankit, reference, trial, sig)


@pytest.mark.slow
@pytest.mark.parametrize("trial, sig", TRIALS[1:])
def test_kill_trials_at_random_moments(trial, sig, tmp_path, gankit, reference):
    _run_trial(tmp_path, gankit, reference, trial, sig)
