"""The gan kind after the application layer opened: the same weights, bit for bit, as the commit before it
(a20da35), and checkpoints written before it still load and resume."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gankit.config import load_config
from gankit.runs import restore_run, sample_from_run
from gankit.train.checkpoint import load_checkpoint
from gankit.train.run import train

FIXTURE = Path(__file__).parent / "fixtures" / "run_format2"  # ring8, 4 steps, EMA; written by a20da35

# SHA-256 (first 16 hex digits) of every tensor of the final checkpoint's players and optimizers after 12 steps
# of `gankit train PRESET` with SETTINGS, taken on a20da35 (2-core AMD EPYC VM with AVX2, torch 2.13.0+cpu).
# Convolutions take other oneDNN kernels on a CPU with AVX-512 (different bits), so the pinned training runs in a
# fresh process with oneDNN capped at AVX2 (ONEDNN_MAX_CPU_ISA is read when oneDNN first starts).
PINNED_ISA = {"ONEDNN_MAX_CPU_ISA": "AVX2"}
SETTINGS = ["train.tensorboard=false", "train.checkpoint_every=12", "train.log_every=4", "train.sample_every=12",
            "train.keep_checkpoints=1", "train.batch_size=32", "device=cpu"]
PINNED = {
    "ring8": {"players": "933fab0b848fbb78", "optimizers": "c283e2de32dee494"},
    "digits": {"players": "1cbdc773392313e4", "optimizers": "c9b35e669b5d0a8f"},
}


def _digest(value, digest) -> None:
    if isinstance(value, torch.Tensor):
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            digest.update(str(key).encode())
            _digest(value[key], digest)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _digest(item, digest)
    else:
        digest.update(repr(value).encode())


def _fingerprint(state, part) -> str:
    digest = hashlib.sha256()
    _digest(state[part], digest)
    return digest.hexdigest()[:16]


def _pinned_fingerprints(preset: str, out: Path) -> dict[str, str]:
    """Train `preset` 12 steps into `out` (in this process) and fingerprint the final checkpoint."""
    run = train(load_config(preset, SETTINGS, steps=12), out, progress=False)
    state = load_checkpoint(run.latest_checkpoint())
    return {part: _fingerprint(state, part) for part in PINNED[preset]}


@pytest.mark.parametrize("preset", sorted(PINNED))
def test_gan_presets_train_to_the_weights_of_the_commit_before_the_change(preset, tmp_path):
    result = subprocess.run([sys.executable, __file__, preset, str(tmp_path / preset)], capture_output=True,
                            text=True, timeout=300, env={**os.environ, **PINNED_ISA})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == PINNED[preset], (
        "the gan kind no longer reproduces the weights of a20da35; if the change is intended, say why and re-pin"
    )


def test_a_checkpoint_written_before_the_change_samples_and_resumes(tmp_path):
    old = tmp_path / "old"
    shutil.copytree(FIXTURE, old)
    restored = restore_run(old)
    assert restored.kind.name == "gan" and restored.step == 4 and set(restored.players) == {"generator",
                                                                                               "discriminator"}
    assert sample_from_run(old, 10, tmp_path / "s.npy").shape == (10, 2)
    config = load_config(str(old / "config.yaml"), steps=8)
    resumed = train(config, old, progress=False, resume=True)
    straight = train(config, tmp_path / "straight", progress=False)
    a, b = load_checkpoint(resumed.latest_checkpoint()), load_checkpoint(straight.latest_checkpoint())
    assert a["step"] == b["step"] == 8
    for player in a["players"]:
        for key, value in a["players"][player].items():
            assert torch.equal(value, b["players"][player][key]), (player, key)


if __name__ == "__main__":  # the pinned training, in the fresh process the test starts
    print(json.dumps(_pinned_fingerprints(sys.argv[1], Path(sys.argv[2]))))
