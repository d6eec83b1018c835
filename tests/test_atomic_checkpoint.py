"""Atomic writes, checkpoint save/load and the run directory rules."""

import os
import stat

import pytest
import torch

from gankit.atomic import atomic_write, atomic_write_text
from gankit.errors import CheckpointError
from gankit.train.checkpoint import load_checkpoint, save_checkpoint
from gankit.train.run_dir import RunDir


def test_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "config.yaml"
    atomic_write_text(path, "old")

    def explode(handle):
        handle.write(b"half of the new cont")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, explode)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]


def test_new_files_get_the_usual_permissions(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "x")
    (tmp_path / "b.txt").write_text("x")
    mode = stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "b.txt").st_mode)


def test_checkpoint_roundtrip(tmp_path):
    state = {"step": 7, "players": {"g": {"w": torch.arange(4.0)}}, "rng": (1, (2, 3), None)}
    save_checkpoint(state, tmp_path / "c.pt")
    loaded = load_checkpoint(tmp_path / "c.pt")
    assert loaded["step"] == 7 and "format" not in loaded
    assert torch.equal(loaded["players"]["g"]["w"], torch.arange(4.0))


def test_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(1)}, foreign)
    with pytest.raises(CheckpointError, match="not a gankit checkpoint"):
        load_checkpoint(foreign)


class Arbitrary:
    pass


def test_checkpoint_with_arbitrary_objects_is_refused(tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save({"format": 2, "payload": Arbitrary()}, path)
    with pytest.raises(CheckpointError, match="unpickle"):
        load_checkpoint(path)


def test_run_dir_create_and_open(tmp_path):
    run = RunDir.create(tmp_path / "run")
    assert run.samples_dir.is_dir() and run.checkpoints_dir.is_dir()
    with pytest.raises(CheckpointError, match="no config.yaml"):
        RunDir.open(run.path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        run.latest_checkpoint()
    for step in (10, 2, 300):
        save_checkpoint({"step": step}, run.checkpoint_path(step))
    assert run.latest_checkpoint().name == "step_000300.pt"
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="is a file"):
        RunDir.create(tmp_path / "file")
