"""A tiny fields run through the Trainer, then `gankit sample --size/--porosity/--points`, `gankit eval` and
`gankit fields`, with their outputs checked against independent computations, and bad input refused in one line."""

import json

import numpy as np
import pytest

TINY = ["fields.size=32", "fields.layers=2", "fields.width=16", "fields.images=64", "fields.latent_channels=4",
        "train.batch_size=16", "train.tensorboard=false", "train.eval_every=40", "train.sample_every=40",
        "train.checkpoint_every=40"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from gankit.config import load_config
    from gankit.train.run import train

    return train(load_config("fields_blobs", TINY, steps=40), tmp_path_factory.mktemp("fields") / "run",
                 progress=False).path


def test_a_fields_run_records_its_protocols_while_training(run):
    metrics = (run / "metrics.csv").read_text().splitlines()
    header = metrics[0].split(",")
    for key in ("eval/porosity_mean", "eval/s2_error", "eval/s2_error_floor", "eval/variogram_in_spread"):
        assert key in header
    last = dict(zip(header, metrics[-1].split(",")))
    from gankit.config import load_config
    from gankit.fields.data import real_fields

    training = real_fields(load_config("fields_blobs", TINY), 64)  # the evaluator's 64 training fields
    assert float(last["eval/train_porosity_mean"]) == pytest.approx(training.mean(), abs=1e-6)


def test_sample_draws_larger_fields_that_honour_points_and_a_porosity(run, tmp_path, gankit):
    points = tmp_path / "wells.csv"
    cells = [(0, 5, 1), (10, 20, 0), (40, 60, 1), (63, 63, 0), (30, 2, 1)]
    points.write_text("y,x,phase\n" + "".join(f"{y},{x},{p}\n" for y, x, p in cells))
    out = tmp_path / "fields.npy"
    result = gankit("sample", str(run), "-n", "3", "--size", "64", "--points", str(points), "--out", str(out))
    assert result.returncode == 0, result.stderr
    fields = np.load(out)
    assert fields.shape == (3, 1, 64, 64)
    for y, x, phase in cells:  # read back from the file, cell by cell
        assert ((fields[:, 0, y, x] > 0) == bool(phase)).all()
    porous = tmp_path / "porous.npy"
    assert gankit("sample", str(run), "-n", "2", "--porosity", "0.45", "--out", str(porous)).returncode == 0
    shares = (np.load(porous)[:, 0] > 0).reshape(2, -1).mean(1)
    assert np.abs(shares - 0.45).max() <= 0.02
    picture = tmp_path / "fields.png"
    assert gankit("sample", str(run), "-n", "4", "--out", str(picture)).returncode == 0 and picture.stat().st_size


def test_gankit_fields_writes_the_table_figures_and_wells(run, tmp_path, gankit):
    out = tmp_path / "report"
    result = gankit("fields", str(run), "-n", "12", "--out", str(out))
    assert result.returncode == 0, result.stderr
    scores = json.loads((out / "fields.json").read_text())["scores"]
    from gankit.config import load_config
    from gankit.fields.data import real_fields
    from gankit.fields.statistics import two_point_correlation

    config = load_config("fields_blobs", TINY)
    training, independent = real_fields(config, 12), real_fields(config, 12, independent=True)
    assert scores["train_porosity_mean"] == pytest.approx(training.mean())
    floor = np.abs(np.mean([two_point_correlation(f, 16) for f in independent], 0)
                   - np.mean([two_point_correlation(f, 16) for f in training], 0)).max()
    assert scores["s2_error_floor"] == pytest.approx(floor)
    # latent optimization moves the share of observed cells honoured from chance to (nearly) all of them
    assert scores["hard_data_honoured"] >= 0.9 > 0.75 > scores["hard_data_honoured_prior"]
    assert scores["wells_honoured"] >= 0.9
    for name in ("samples.png", "curves.png", "large.png", "conditioned.png", "table.md"):
        assert (out / name).stat().st_size > 0
    assert "| s2: largest gap to the training mean |" in (out / "table.md").read_text()
    wells = (out / "wells.csv").read_text().splitlines()
    assert wells[0] == "y,x,phase" and len(wells) == 1 + 3 * 16  # 3 wells, every 2nd of 32 cells
    y, x, phase = map(int, wells[1].split(","))
    assert phase == independent[0][y, x]
    evaluation = gankit("eval", str(run), "--n", "12")
    assert evaluation.returncode == 0
    assert "large_spectrum_peak" in json.loads((run / "eval.json").read_text())["metrics"]


def test_fields_runs_refuse_bad_input_in_one_line(run, tmp_path, gankit):
    from cli_helpers import assert_user_error

    out = ["--out", str(tmp_path / "x.npy")]
    assert_user_error(gankit("eval", str(run), "--quantize"), "apply to gan runs", "a fields run")
    assert_user_error(gankit("sample", str(run), "--porosity", "1.5", *out), "--porosity", "(0, 1)")
    assert_user_error(gankit("sample", str(run), "--size", "50", *out), "size 50", "48 or 52")
    outside = tmp_path / "outside.csv"
    outside.write_text("y,x,phase\n3,40,1\n")
    assert_user_error(gankit("sample", str(run), "--points", str(outside), *out), "outside the 32×32 field")
    phases = tmp_path / "phases.csv"
    phases.write_text("y,x,phase\n3,4,2\n")
    assert_user_error(gankit("sample", str(run), "--points", str(phases), *out), "phases must be 0 or 1")
    assert_user_error(gankit("sample", str(run), "--label", "1", *out), "--porosity")
    assert not (tmp_path / "x.npy").exists()
    train_out = ["--out", str(tmp_path / "run")]
    assert_user_error(gankit("train", "fields_blobs", "--set", "fields.porosity=1.2", *train_out), "fields.porosity")
    assert_user_error(gankit("train", "fields_blobs", "--set", "fields.size=60", *train_out), "56 or 64")
    assert_user_error(gankit("train", "fields_blobs", "--set", "fields.parameters.radius=3", *train_out),
                      "radius", "length")
    assert_user_error(gankit("train", "fields_blobs", "--set", "fields.source=sand", *train_out), "fields.source")


def test_other_runs_refuse_field_options(tmp_path, gankit):
    from cli_helpers import assert_user_error
    from gankit.config import load_config
    from gankit.train.run import train

    gan = train(load_config("ring8", ["train.tensorboard=false"], steps=2), tmp_path / "gan", progress=False).path
    assert_user_error(gankit("sample", str(gan), "--size", "64", "--out", str(tmp_path / "s.npy")), "fields run")
    assert_user_error(gankit("fields", str(gan), "--out", str(tmp_path / "f")), "fields run")
