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
    assert summary["held_out"] is False and "data.held_out" in summary["held_out_note"] and "memorization" not in summary
    assert summary["m"] == [10, 20] == summary["measurements"] and summary["images"] == 2
    assert all(r["mse"] > 0 and r["mse_ci95"] == pytest.approx(1.96 * r["mse_se"]) and np.isfinite(r["psnr"])
               and -1 <= r["ssim"] <= 1 for r in summary["rows"])
    assert summary["solver"] == {"restarts": 2, "steps": 5, "lr": 0.01, "prior_weight": 0.1, "sparse_basis": "pixel",
                                 "sparse_weight": 0.1, "lasso_alpha": 0.1, "tv_weight": 0.05, "tune": False,
                                 "tune_prior": False, "seed": 3}
    assert set(summary["summary"]["baselines"]) == {"lasso", "lasso_dct", "tv"}
    lines = (inverted / "table.md").read_text().splitlines()
    assert len(lines) == 2 + len(summary["rows"]) + 1 + 4  # the table, a blank line, 3 baselines and csgm_sparse
    assert all((inverted / name).stat().st_size > 0 for name in ("reconstructions.png", "error_vs_m.png"))


def test_lasso_row_equals_lasso_called_on_the_same_measurements(run, inverted):
    _, config = load_prior(run)
    truth, _ = truth_images(config, 2, seed=3)
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
    y = matrix @ truth_images(config, 2, seed=0)[0].flatten(1).numpy().T
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
        (["--operator", "blur", "--factors", "2,0"], ["--factors", "positive integers"]),
        (["--sparse-basis", "wavelet"], ["--sparse-basis", "pixel, dct"]),
        (["--tv-weight", "-1"], ["--tv-weight", ">= 0"]),
        (["--lr", "0"], ["--lr", "> 0"]),
        (["--tune-prior"], ["--tune-prior", "add --tune"]),
        (["--images", "5000"], ["--images = 5000", "1797"]),
    ]
    for extra, fragments in cases:
        assert_user_error(gankit("invert", str(run), *extra, *out), *fragments)
    assert_user_error(gankit("invert", str(run), "--out", str(tmp_path / "full")), "not an empty directory")
    assert_user_error(gankit("invert", str(ring), *out), "vector data", "ring8")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("overrides", "fragments"), [
    (["condition.kind=label"], ["conditional GAN"]),
    (["infogan.categorical=10"], ["InfoGAN"]),
])
def test_conditional_and_infogan_runs_are_refused(tmp_path, gankit, overrides, fragments):
    other = train(load_config("digits", TINY + overrides, steps=1), tmp_path / "run", progress=False).path
    assert_user_error(gankit("invert", str(other), "--out", str(tmp_path / "out")), *fragments)
    assert not (tmp_path / "out").exists()


def test_a_held_out_run_reconstructs_only_images_it_never_trained_on(tmp_path):
    from gankit.data import load_digits
    from gankit.inverse import SolverSettings, invert
    from gankit.kinds.gan_players import held_out_rows

    run = train(load_config("digits", TINY + ["data.image_size=28", "data.held_out=30"], steps=2),
                tmp_path / "run", progress=False).path
    result = invert(run, out=tmp_path / "out", sizes="20", images=4, solver=SolverSettings(restarts=1, steps=3))
    summary = json.loads((result.out / "invert.json").read_text())
    assert summary["held_out"] is True and "held_out_note" not in summary
    _, config = load_prior(run)
    truth, held_out = truth_images(config, 4, seed=0)
    everything = (load_digits(28).float() + 1) / 2
    held = set(held_out_rows(len(everything), 30, config.seed).tolist())
    rows = [int((everything - image).flatten(1).abs().amax(1).argmin()) for image in truth]
    assert held_out and set(rows) <= held  # each test image is one of the 30 held out
    memo = summary["memorization"]
    assert memo["test_min"] > 0 and memo["train_median"] > 0 and 0 <= memo["generated_copy_fraction"] <= 1
    assert "held-out test images" in (result.out / "table.md").read_text()


def test_blur_sweeps_the_downsampling_factor(run, tmp_path, gankit):
    out = tmp_path / "blur"
    assert gankit("invert", str(run), "--operator", "blur", "--factors", "2,4", "--out", str(out), *ARGS[2:]
                  ).returncode == 0
    summary = json.loads((out / "invert.json").read_text())
    assert summary["factor"] == [2, 4] and summary["measurements"] == [196, 49]
    assert {r["factor"] for r in summary["rows"]} == {2, 4}


def test_radon_adds_filtered_back_projection(run, tmp_path):
    from gankit.inverse import SolverSettings, invert

    result = invert(run, out=tmp_path / "ct", operator="radon", sizes="4", images=2,
                    solver=SolverSettings(restarts=1, steps=3))
    _, config = load_prior(run)
    truth, _ = truth_images(config, 2, seed=0)
    operator = make_operator("radon", truth.shape[1:], views=4)
    fbp = operator.fbp(measure(operator, truth, 0.1, seed=0)).clamp(0, 1)
    row = next(r for r in result.rows if r["solver"] == "fbp")
    assert row["views"] == 4 and row["measurements"] == operator.m
    assert row["mse"] == pytest.approx((fbp - truth).pow(2).mean().item(), rel=1e-6)
    from skimage.metrics import structural_similarity

    expected = np.mean([structural_similarity(f[0].double().numpy(), t[0].double().numpy(), data_range=1.0,
                                              gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
                        for f, t in zip(fbp, truth)])
    assert row["ssim"] == pytest.approx(expected, rel=1e-6)  # SSIM of [0, 1] images with data range 1


def test_tune_chooses_each_weight_on_validation_images_disjoint_from_the_test_images(run, tmp_path):
    from gankit.inverse import GRIDS, SolverSettings, invert, validation_images

    settings = SolverSettings(restarts=1, steps=4, tune=True)
    result = invert(run, out=tmp_path / "tuned", sizes="30", images=3, solver=settings)
    generator, config = load_prior(run)
    truth, _ = truth_images(config, 3, seed=0)
    validation = validation_images(config, 3, 8, seed=0)
    assert not any(torch.equal(v, t) for v in validation for t in truth)
    operator = make_operator("gaussian", truth.shape[1:], m=30, seed=0)
    y_validation, y = measure(operator, validation, 0.1, seed=1), measure(operator, truth, 0.1, seed=0)
    errors = [(lasso(operator, y_validation, alpha=a) - validation).pow(2).mean().item() for a in GRIDS["lasso"]]
    weights = {r["solver"]: r["weight"] for r in result.rows if "weight" in r}
    assert set(weights) == {"lasso", "lasso_fixed", "lasso_dct", "tv", "csgm", "csgm_sparse"} and weights["csgm"] == 0.1 and weights["lasso_fixed"] == 0.1
    assert weights["lasso"] == GRIDS["lasso"][int(np.argmin(errors))] and weights["csgm_sparse"] in GRIDS["csgm_sparse"]
    rows = {r["solver"]: r for r in result.rows}
    x = lasso(operator, y, alpha=weights["lasso"])
    assert rows["lasso"]["mse"] == pytest.approx((x - truth).pow(2).mean().item(), rel=1e-6)
    x = csgm(generator, operator, y, 8, restarts=1, steps=4, sparse="pixel", sparse_weight=weights["csgm_sparse"]).x
    assert rows["csgm_sparse"]["mse"] == pytest.approx((x - truth).pow(2).mean().item(), rel=1e-5)


def test_tune_prior_chooses_csgm_prior_weight_first_and_sparse_gen_uses_it(run, tmp_path):
    from gankit.inverse import GRIDS, SolverSettings, invert, validation_images

    result = invert(run, out=tmp_path / "tuned", sizes="30", images=2,
                    solver=SolverSettings(restarts=1, steps=4, tune=True, tune_prior=True))
    generator, config = load_prior(run)
    validation = validation_images(config, 2, 8, seed=0)
    operator = make_operator("gaussian", validation.shape[1:], m=30, seed=0)
    y = measure(operator, validation, 0.1, seed=1)
    errors = [(csgm(generator, operator, y, 8, restarts=1, steps=4, prior_weight=w).x - validation).pow(2).mean().item()
              for w in GRIDS["csgm"]]
    rows = {r["solver"]: r for r in result.rows}
    assert rows["csgm"]["weight"] == GRIDS["csgm"][int(np.argmin(errors))]
    truth, _ = truth_images(config, 2, seed=0)
    x = csgm(generator, operator, measure(operator, truth, 0.1, seed=0), 8, restarts=1, steps=4,
             prior_weight=rows["csgm"]["weight"], sparse="pixel", sparse_weight=rows["csgm_sparse"]["weight"]).x
    assert rows["csgm_sparse"]["mse"] == pytest.approx((x - truth).pow(2).mean().item(), rel=1e-5)
