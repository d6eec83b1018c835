"""`gankit invert`: outputs, agreement with the solvers called directly, determinism, user data, bad input."""

import json

import numpy as np
import pytest
import torch
from cli_helpers import assert_user_error

from gankit.config import load_config
from gankit.inverse import csgm, lasso, load_prior, make_operator, measure, truth_images
from gankit.train.run import train

TINY = ["model.g_width=8", "model.d_width=8", "model.latent_dim=8", "train.batch_size=16", "train.tensorboard=false"]
ARGS = ["--m", "10,20", "--images", "2", "--restarts", "2", "--steps", "5", "--seed", "3"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A 2-step DCGAN on 28x28 digits: the prior every test reconstructs with."""
    return train(load_config("digits", TINY, steps=2), tmp_path_factory.mktemp("digits") / "run", progress=False).path


@pytest.fixture(scope="module")
def inverted(run, tmp_path_factory):
    from gankit.cli import main

    out = tmp_path_factory.mktemp("invert") / "out"
    with pytest.raises(SystemExit) as exit_:
        main(["invert", str(run), "--out", str(out), *ARGS])
    assert exit_.value.code == 0
    return out


def test_writes_every_output_with_one_row_per_solver_and_m(inverted):
    summary = json.loads((inverted / "invert.json").read_text())
    solvers = ["lasso", "lasso_dct", "tv", "csgm", "csgm_sparse"]
    assert [(r["solver"], r["m"]) for r in summary["rows"]] == [(s, m) for m in (10, 20) for s in solvers]
    assert summary["held_out"] is False and summary["m"] == [10, 20] and summary["images"] == 2
    assert all(r["mse"] > 0 and r["mse_se"] >= 0 and np.isfinite(r["psnr"]) for r in summary["rows"])
    assert len((inverted / "table.md").read_text().splitlines()) == 2 + len(summary["rows"])
    assert all((inverted / name).stat().st_size > 0 for name in ("reconstructions.png", "error_vs_m.png"))


def test_lasso_row_equals_lasso_called_on_the_same_measurements(run, inverted):
    _, config = load_prior(run)
    truth = truth_images(config, 2, seed=3)
    operator = make_operator("gaussian", truth.shape[1:], m=20, seed=3)
    x = lasso(operator, measure(operator, truth, 0.1, seed=3))
    row = next(r for r in json.loads((inverted / "invert.json").read_text())["rows"]
               if r["solver"] == "lasso" and r["m"] == 20)
    assert row["mse"] == pytest.approx((x - truth).pow(2).mean().item(), rel=1e-6)


def test_same_seed_gives_the_same_rows(run, inverted, tmp_path, gankit):
    """Each m is solved on its own, so a rerun at the first m alone must repeat its rows exactly."""
    assert gankit("invert", str(run), "--out", str(tmp_path / "again"), *ARGS[2:], "--m", "10").returncode == 0
    again = json.loads((tmp_path / "again" / "invert.json").read_text())["rows"]
    assert again == [r for r in json.loads((inverted / "invert.json").read_text())["rows"] if r["m"] == 10]


def test_user_measurements_reconstruct_with_csgm_as_called_directly(run, tmp_path, gankit):
    generator, config = load_prior(run)
    matrix = np.random.default_rng(0).normal(size=(30, 784)).astype(np.float32)
    y = matrix @ truth_images(config, 2, seed=0).flatten(1).numpy().T
    np.save(tmp_path / "A.npy", matrix)
    np.save(tmp_path / "y.npy", y.T)
    out = tmp_path / "out"
    result = gankit("invert", str(run), "--measurements", str(tmp_path / "y.npy"), "--operator-file",
                    str(tmp_path / "A.npy"), "--out", str(out), "--restarts", "2", "--steps", "5")
    assert result.returncode == 0, result.stderr
    x = np.load(out / "reconstruction.npy")
    assert x.shape == (3, 2, 1, 28, 28) and (out / "reconstruction.png").is_file()
    operator = make_operator("matrix", (1, 28, 28), matrix=matrix)
    direct = csgm(generator, operator, torch.as_tensor(y.T), 8, restarts=2, steps=5, seed=0).x
    np.testing.assert_allclose(x[0], direct.numpy(), rtol=1e-5, atol=1e-6)


def test_bad_input_is_one_line_and_exit_2(run, tmp_path, gankit):
    np.save(tmp_path / "A.npy", np.zeros((5, 100)))
    np.save(tmp_path / "A784.npy", np.ones((5, 784)))
    np.save(tmp_path / "y.npy", np.zeros(6))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    ring = train(load_config("ring8", ["data.n_samples=64", "train.batch_size=16", "model.g_width=8",
                                       "model.d_width=8", "train.tensorboard=false"], steps=1),
                 tmp_path / "ring", progress=False).path
    out = ["--out", str(tmp_path / "out")]
    cases = [
        (["--operator-file", str(tmp_path / "A.npy"), "--measurements", str(tmp_path / "y.npy")], ["(5, 100)", "784"]),
        (["--operator-file", str(tmp_path / "A784.npy"), "--measurements", str(tmp_path / "y.npy")], ["(6,)", "m = 5"]),
        (["--operator", "dct", "--m", "10,900"], ["m = 900", "784"]),
        (["--m", "10,x"], ["--m", "positive integers"]),
        (["--m", "0"], ["--m"]),
    ]
    for extra, fragments in cases:
        assert_user_error(gankit("invert", str(run), *extra, *out), *fragments)
    assert_user_error(gankit("invert", str(run), "--out", str(tmp_path / "full")), "not an empty directory")
    assert_user_error(gankit("invert", str(ring), *out), "vector data", "ring8")
    assert not (tmp_path / "out").exists()
