"""The command line end to end: a real run on grid25, sampling, and one-line errors with exit status 2."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from cli_helpers import assert_user_error

from gankit.cli import _data_note
from gankit.config import load_config, preset_names


def gankit_process(*args):
    """The installed entry point in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "gankit", *args], capture_output=True, text=True, timeout=300)


def test_train_grid25_then_sample(tmp_path):
    out = tmp_path / "run"
    result = gankit_process("train", "grid25", "--steps", "6", "--out", str(out), "--seed", "3", "--no-progress",
                    "--set", "train.sample_every=3", "--set", "train.checkpoint_every=3", "--set", "train.log_every=2")
    assert result.returncode == 0, result.stderr
    assert (out / "config.yaml").read_text().startswith("game: gan\nseed: 3\n")
    assert [p.name for p in sorted((out / "samples").iterdir())] == [
        "step_000000.png", "step_000003.png", "step_000006.png"]
    assert [p.name for p in sorted((out / "checkpoints").iterdir())] == ["step_000003.pt", "step_000006.pt"]
    assert (out / "metrics.csv").read_text().splitlines()[0].startswith("step,loss_d")

    result = gankit_process("sample", str(out), "-n", "50", "--out", str(tmp_path / "s.npy"))
    assert result.returncode == 0, result.stderr
    assert np.load(tmp_path / "s.npy").shape == (50, 2)
    result = gankit_process("sample", str(out), "-n", "50", "--out", str(tmp_path / "s.png"))
    assert result.returncode == 0 and Image.open(tmp_path / "s.png").size[0] > 100


def test_same_seed_same_numbers(tmp_path, gankit):
    args = ["train", "ring8", "--steps", "4", "--no-progress", "--set", "train.log_every=1"]
    first = gankit(*args, "--out", str(tmp_path / "a"))
    assert f"training ring8 for 4 steps into {tmp_path / 'a'}\n" in first.stderr
    gankit(*args, "--out", str(tmp_path / "b"))
    gankit(*args, "--out", str(tmp_path / "c"), "--seed", "1")
    a, b, c = ((tmp_path / x / "metrics.csv").read_text() for x in "abc")
    assert a == b
    assert a != c


def test_the_announcement_names_data_the_preset_name_does_not(tmp_path, gankit):
    out = tmp_path / "run"
    result = gankit("train", "ring8", "--steps", "1", "--no-progress", "--set", "train.tensorboard=false",
                    "--set", "data.name=grid25", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"training ring8 (data: grid25) for 1 steps into {out}\n" in result.stderr  # one line, however long
    assert "data:\n  name: grid25" in (out / "config.yaml").read_text()
    assert _data_note("ring8", load_config("ring8")) == ""  # the preset's own data (the CLI line: test above)
    assert _data_note("bilinear", load_config("bilinear")) == ""  # a kind whose config has no data.name


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["train", "minst"], ["unknown preset 'minst'", "did you mean 'mnist'"]),
        (["train", "--set", "optim.lr_gen=1"], ["unknown config key 'optim.lr_gen'", "optim.lr_g"]),
        (["train", "missing.yaml"], ["config file not found: missing.yaml"]),
        (["train", "--bogus"], ["--bogus"]),
        (["sample", "nowhere"], ["not a gankit run directory"]),
        (["train", "--set", "data.name=npy", "--set", "data.path=nope.npy"], ["nope.npy"]),
    ],
)
def test_user_errors_are_one_line_with_exit_2(args, fragments, tmp_path, monkeypatch, gankit):
    monkeypatch.chdir(tmp_path)
    assert_user_error(gankit(*args), *fragments)
    assert not (tmp_path / "runs").exists()


def _bad_inputs(tmp_path):
    (tmp_path / "empty").mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.png").write_text("this is not a PNG")
    np.save(tmp_path / "nan.npy", np.array([[0.0, np.nan], [1.0, 2.0]]))
    np.save(tmp_path / "rank3.npy", np.zeros((4, 2, 2)))
    return {
        "empty folder": (["data.name=folder", f"data.path={tmp_path / 'empty'}", "data.image_size=28"], "no image"),
        "unreadable image": (["data.name=folder", f"data.path={broken}", "data.image_size=28"], "a.png"),
        "NaN in npy": (["data.name=npy", f"data.path={tmp_path / 'nan.npy'}"], "NaN"),
        "wrong rank": (["data.name=npy", f"data.path={tmp_path / 'rank3.npy'}"], "(4, 2, 2)"),
    }


@pytest.mark.parametrize("case", ["empty folder", "unreadable image", "NaN in npy", "wrong rank"])
def test_bad_data_fails_before_anything_is_written(case, tmp_path, gankit):
    overrides, fragment = _bad_inputs(tmp_path)[case]
    out = tmp_path / "run"
    args = ["train", "--out", str(out), "--steps", "1"]
    for item in overrides:
        args += ["--set", item]
    assert_user_error(gankit(*args), fragment)
    assert not out.exists()


def test_existing_run_directory_is_left_alone(tmp_path, gankit):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert_user_error(gankit("train", "ring8", "--steps", "1", "--out", str(out)), "not empty")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"


def test_presets_command_prints_a_loadable_config(tmp_path, gankit):
    listed = gankit("presets")
    assert listed.stdout.split() == preset_names()  # the shipped list itself is checked in test_config.py
    shown = gankit("presets", "ring8")
    (tmp_path / "mine.yaml").write_text(shown.stdout)
    result = gankit("train", str(tmp_path / "mine.yaml"), "--steps", "1", "--no-progress", "--out",
                    str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    assert "data:\n  name: ring8" in (tmp_path / "r" / "config.yaml").read_text()
