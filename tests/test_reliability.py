"""Runs that survive faults: best checkpoint, clear refusals of foreign checkpoints, full disk, data faults."""

import csv
import errno
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from cli_helpers import assert_user_error
from gankit.config import load_config
from gankit.errors import CheckpointError, ConfigError
from gankit.experiment import build_experiment
from gankit.train import callbacks as callbacks_module
from gankit.train.checkpoint import describe_mismatch, load_checkpoint, save_checkpoint, state_digest
from gankit.runs import load_generator
from gankit.train.run import train

RING = ["data.n_samples=512", "train.log_every=2", "train.checkpoint_every=4", "train.keep_checkpoints=5",
        "train.sample_every=4", "train.tensorboard=false"]


def _players(path):
    return load_checkpoint(path)["players"]


def _assert_same_players(a, b):
    for name in a:
        for key, value in a[name].items():
            assert torch.equal(value, b[name][key]), (name, key)


def _reference(tmp_path, steps=8, settings=RING, source="ring8"):
    """An undisturbed run of `steps` steps: the weights a faulty-then-resumed run must reach."""
    run = train(load_config(source, settings, steps=steps), tmp_path / "reference", progress=False)
    return _players(run.latest_checkpoint())


# --- keep the best checkpoint by a metric -------------------------------------------------------------

@pytest.mark.parametrize("metric, pick", [("fid", np.argmin), ("coverage", np.argmax)])
def test_best_checkpoint_holds_the_state_at_the_best_evaluation(metric, pick, tmp_path):
    settings = RING + ["train.eval_every=2", "train.eval_n=200", "train.eval_metrics=[fid,prdc]",
                       f"train.best_metric={metric}", "train.keep_checkpoints=1", "optim.lr_g=3e-3"]
    run = train(load_config("ring8", settings, steps=12), tmp_path / "run", progress=False)
    column = f"eval/{metric}_raw2d_200"
    with run.metrics_path.open() as handle:
        rows = list(csv.DictReader(handle))
    values = [float(r[column]) for r in rows]
    best_row = rows[int(pick(values))]  # the first extreme: a tie does not replace it
    assert 2 < int(best_row["step"]) < 12  # this seed's best is neither the first nor the last evaluation
    best = load_checkpoint(run.best_checkpoint_path)
    assert best["best"]["metric"] == column.removeprefix("eval/")
    assert best["best"]["value"] == pytest.approx(float(best_row[column]), rel=1e-5)
    assert best["step"] == best["best"]["step"] == int(best_row["step"])
    assert [p.name for p in run.checkpoints()] == ["step_000012.pt"]  # keep_checkpoints never removes best.pt
    generator, _, step = load_generator(run.path, checkpoint="best")
    assert step == best["step"]
    for key, value in generator.state_dict().items():
        assert torch.equal(value, best["players"]["generator"][key])


def test_best_checkpoint_config_is_checked(tmp_path):
    with pytest.raises(ConfigError, match="needs evaluation during training"):
        load_config("ring8", ["train.best_metric=fid"])
    with pytest.raises(ConfigError, match="include 'prdc' in eval_metrics"):
        load_config("ring8", ["train.best_metric=recall", "train.eval_every=10", "train.eval_metrics=[modes]"])
    with pytest.raises(ConfigError, match="not one of fid, kid"):
        load_config("ring8", ["train.best_metric=loss_g", "train.eval_every=10"])


def _draw_directly(checkpoint: Path, config_path: Path, n: int) -> np.ndarray:
    """`gankit sample -n N --seed 0`, recomputed: a fresh generator with the checkpoint's weights on N(0, I) draws."""
    config = load_config(str(config_path))
    generator = build_experiment(config).game.players["generator"]
    generator.load_state_dict(torch.load(checkpoint, weights_only=True)["players"]["generator"])
    z = torch.randn(n, config.model.latent_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return generator.eval()(z).numpy()


def test_sample_from_a_chosen_checkpoint_and_clear_errors(tmp_path, gankit):
    run = train(load_config("ring8", RING, steps=8), tmp_path / "run", progress=False)
    out = tmp_path / "s.npy"
    assert gankit("sample", str(run.path), "--checkpoint", "4", "--out", str(out), "-n", "5").returncode == 0
    drawn = np.load(out)
    step_4, step_8 = (_draw_directly(run.path / "checkpoints" / f"step_{s:06d}.pt", run.config_path, 5)
                      for s in (4, 8))
    np.testing.assert_allclose(drawn, step_4, rtol=0, atol=1e-6)
    assert np.abs(step_4 - step_8).max() > 1e-3  # ignoring --checkpoint (drawing from step 8) would fail
    assert_user_error(gankit("sample", str(run.path), "--checkpoint", "best", "--out", str(out)),
                      "no best checkpoint", "train.best_metric")
    assert_user_error(gankit("sample", str(run.path), "--checkpoint", "3", "--out", str(out)),
                      "no checkpoint at step 3", "kept steps: 4, 8")
    assert_user_error(gankit("eval", str(run.path), "--checkpoint", "newest"), "latest, best or a step number")


# --- checkpoints from another version, another architecture, or damaged ----------------------------------

def test_describe_mismatch_names_missing_unexpected_keys_and_shapes():
    module = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    assert describe_mismatch(module, module.state_dict()) is None
    saved = dict(module.state_dict())
    del saved["1.bias"]
    saved["2.weight"] = torch.zeros(1)
    saved["0.weight"] = torch.zeros(4, 2)
    assert describe_mismatch(module, saved) == (
        "missing keys: 1.bias; unexpected keys: 2.weight; shape mismatches: 0.weight saved (4, 2) vs model (3, 2)"
    )
    many = {f"x{i}": torch.zeros(1) for i in range(5)}
    assert "unexpected keys: x0, x1, x2 (+2 more)" in describe_mismatch(nn.Linear(1, 1), many)


def test_resume_with_another_architecture_names_what_differs(tmp_path, gankit):
    run = train(load_config("ring8", RING, steps=4), tmp_path / "run", progress=False)
    config = run.config_path.read_text()
    run.config_path.write_text(config.replace("spectral_norm: false", "spectral_norm: true"))
    assert_user_error(gankit("train", "--resume", str(run.path), "--no-progress"),
                      "the discriminator in", "missing keys: net.0.parametrizations.weight.original",
                      "unexpected keys: net.0.weight")
    run.config_path.write_text(config.replace("g_width: 128", "g_width: 64"))
    assert_user_error(gankit("sample", str(run.path), "--out", str(tmp_path / "s.png")),
                      "the generator in", "shape mismatches: net.0.weight saved (128, 16) vs model (64, 16)",
                      "restore the config it was trained with")


def test_checkpoints_of_another_format_and_damaged_ones_are_refused(tmp_path):
    state = {"step": 3, "players": {"g": {"w": torch.arange(6.0)}}, "rng": [1, (2, 3)]}
    save_checkpoint(state, tmp_path / "ok.pt")
    assert load_checkpoint(tmp_path / "ok.pt")["step"] == 3
    torch.save({"format": 1, **state}, tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match="format 1 .*reads format 2: load it with the version that wrote it"):
        load_checkpoint(tmp_path / "old.pt")
    tampered = torch.load(tmp_path / "ok.pt", weights_only=True)
    tampered["players"]["g"]["w"][2] = 7.0  # a well-formed file whose weights changed after it was written
    torch.save(tampered, tmp_path / "tampered.pt")
    with pytest.raises(CheckpointError, match="damaged: its contents do not match the digest"):
        load_checkpoint(tmp_path / "tampered.pt")


def test_state_digest_sees_values_types_shapes_and_order():
    base = {"a": torch.zeros(2, 3), "b": [1, 2.0, "x"], "c": (None, True)}
    same = {"a": torch.zeros(2, 3), "b": [1, 2.0, "x"], "c": (None, True)}
    assert state_digest(base) == state_digest(same)
    for changed in ({**base, "a": torch.zeros(3, 2)}, {**base, "a": torch.zeros(2, 3, dtype=torch.float64)},
                    {**base, "b": [1, 2, "x"]}, {**base, "c": [None, True]}, {"b": base["b"], "a": base["a"],
                                                                                  "c": base["c"]},
                    {**base, "a": torch.tensor([[0.0, 0, 0], [0, 0, -0.0]])}):
        assert state_digest(changed) != state_digest(base)


# --- disk and data faults --------------------------------------------------------------------------------

def _failing_after(calls_allowed, real):
    """A torch.save that writes part of the file, then fails as a full disk does, after `calls_allowed` calls."""
    count = {"n": 0}

    def save(obj, handle, *args, **kwargs):
        count["n"] += 1
        if count["n"] <= calls_allowed:
            return real(obj, handle, *args, **kwargs)
        handle.write(b"PK\x03\x04 partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    return save


def test_a_full_disk_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    reference = _reference(tmp_path)
    monkeypatch.setattr(torch, "save", _failing_after(1, torch.save))  # the step-4 checkpoint is the last to fit
    with pytest.raises(CheckpointError) as caught:
        train(load_config("ring8", RING, steps=8), tmp_path / "run", progress=False)
    message = str(caught.value)
    assert "could not write" in message and "step_000008.pt (No space left on device)" in message
    assert "newest intact checkpoint is" in message and "step_000004.pt" in message and "--resume" in message
    monkeypatch.undo()  # space freed
    checkpoints = tmp_path / "run" / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["step_000004.pt"]  # no temporary left behind
    assert load_checkpoint(checkpoints / "step_000004.pt")["step"] == 4
    train(load_config("ring8", RING, steps=8), tmp_path / "run", progress=False, resume=True)
    _assert_same_players(reference, _players(checkpoints / "step_000008.pt"))


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


def test_a_real_full_disk_stops_cleanly_and_the_run_resumes(tmp_path, monkeypatch):
    disk = tmp_path / "disk"
    if os.geteuid() != 0 or not shutil.which("mount") or not _mount_tmpfs(disk, "8m"):
        pytest.skip("mounting a small tmpfs needs root and mount permission; the patched-writer test covers this")
    try:
        reference = _reference(tmp_path)
        filler = disk / "filler"
        real_save = callbacks_module.Checkpointer.save

        def save_then_fill_the_disk(self, trainer):
            real_save(self, trainer)
            if trainer.step == 4 and not filler.exists():
                with filler.open("wb") as handle:  # take every free byte
                    try:
                        while True:
                            handle.write(b"\0" * 65536)
                    except OSError:
                        pass

        monkeypatch.setattr(callbacks_module.Checkpointer, "save", save_then_fill_the_disk)
        with pytest.raises(CheckpointError) as caught:
            train(load_config("ring8", RING, steps=8), disk / "run", progress=False)
        assert "No space left on device" in str(caught.value) and "step_000004.pt" in str(caught.value)
        checkpoints = disk / "run" / "checkpoints"
        assert sorted(p.name for p in checkpoints.iterdir()) == ["step_000004.pt"]
        assert load_checkpoint(checkpoints / "step_000004.pt")["step"] == 4
        monkeypatch.undo()
        filler.unlink()
        train(load_config("ring8", RING, steps=8), disk / "run", progress=False, resume=True)
        _assert_same_players(reference, _players(checkpoints / "step_000008.pt"))
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def _two_d_npy(path: Path) -> Path:
    points = np.random.default_rng(0).normal(size=(512, 2)).astype(np.float32)
    np.save(path, points)
    return path


def test_a_data_file_removed_mid_run_changes_nothing(tmp_path, monkeypatch):
    data = _two_d_npy(tmp_path / "points.npy")
    settings = RING[1:] + ["data.name=npy", f"data.path={data}", "train.eval_every=2", "train.eval_n=100",
                           "train.eval_metrics=[prdc]"]
    reference = _reference(tmp_path, settings=settings)
    real_eval = callbacks_module.EvalCallback.on_step_end

    def remove_the_file_first(self, trainer, result):
        data.unlink(missing_ok=True)
        real_eval(self, trainer, result)

    monkeypatch.setattr(callbacks_module.EvalCallback, "on_step_end", remove_the_file_first)
    run = train(load_config("ring8", settings, steps=8), tmp_path / "run", progress=False)
    assert not data.exists()
    _assert_same_players(reference, _players(run.latest_checkpoint()))


def test_a_read_fault_between_steps_stops_with_a_checkpoint_and_resumes_exactly(tmp_path, monkeypatch):
    reference = _reference(tmp_path)
    real_write = callbacks_module.SampleWriter._write

    def fail_at_step_6(self, step):
        if step == 6:
            raise OSError(errno.EIO, "Input/output error", str(tmp_path / "run" / "samples"))
        real_write(self, step)

    monkeypatch.setattr(callbacks_module.SampleWriter, "_write", fail_at_step_6)
    settings = [s for s in RING if not s.startswith("train.sample_every")] + ["train.sample_every=2"]
    with pytest.raises(CheckpointError, match="stopped at step 6: Input/output error: .*a checkpoint was written at "
                                              "step 6; fix the cause, then continue with `gankit train --resume"):
        train(load_config("ring8", settings, steps=8), tmp_path / "run", progress=False)
    monkeypatch.undo()
    train(load_config("ring8", settings, steps=8), tmp_path / "run", progress=False, resume=True)
    _assert_same_players(reference, _players(tmp_path / "run" / "checkpoints" / "step_000008.pt"))


def test_a_fault_inside_a_step_writes_no_half_updated_checkpoint(tmp_path, monkeypatch):
    from gankit.data.loader import InfiniteBatches

    real_next = InfiniteBatches.__next__
    calls = {"n": 0}

    def fail_on_the_eighth_batch(self):
        calls["n"] += 1
        if calls["n"] == 8:  # two batches a step (alternating): step 4's G batch, after its D update
            raise OSError(errno.EIO, "Input/output error", "points.npy")
        return real_next(self)

    monkeypatch.setattr(InfiniteBatches, "__next__", fail_on_the_eighth_batch)
    settings = [s for s in RING if not s.startswith("train.checkpoint_every")] + ["train.checkpoint_every=2"]
    with pytest.raises(CheckpointError, match="stopped at step 3: .*newest intact checkpoint is .*step_000002.pt"):
        train(load_config("ring8", settings, steps=8), tmp_path / "run", progress=False)
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["step_000002.pt"]


def test_resume_removes_the_temporaries_a_killed_process_left(tmp_path):
    train(load_config("ring8", RING, steps=4), tmp_path / "run", progress=False)
    stale = [tmp_path / "run" / "checkpoints" / ".step_000008.pt.k2j4.tmp", tmp_path / "run" / ".config.yaml.x.tmp"]
    for path in stale:
        path.write_bytes(b"partial")
    keep = tmp_path / "run" / "notes.tmp"  # not one of gankit's temporaries
    keep.write_text("mine")
    train(load_config("ring8", RING, steps=4), tmp_path / "run", progress=False, resume=True)
    assert not any(path.exists() for path in stale) and keep.read_text() == "mine"
