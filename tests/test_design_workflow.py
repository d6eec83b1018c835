"""`gankit design`: returned designs are the feasible ones, each checked with the contact model; the baselines get
the same number of physics evaluations; bad input is one line and exit 2."""

import csv
import json

import pytest
import torch
from cli_helpers import assert_user_error

from gankit.config import load_config
from gankit.design.baselines import GRADIENT_STEPS, gradient_descent, random_search
from gankit.design.space import DesignSpace
from gankit.kinds.design import restore_design
from gankit.train.run import train

TINY = ["design.catalogue=512", "design.width=16", "train.batch_size=64", "train.tensorboard=false",
        "train.ema_decay=null"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train(load_config("friction_design", TINY, steps=30), tmp_path_factory.mktemp("design") / "run",
                 progress=False).path


def test_writes_feasible_designs_and_one_row_per_target_and_method(run, tmp_path, gankit):
    out = tmp_path / "out"
    assert gankit("design", str(run), "--target", "0.2,0.35", "-n", "200", "--out", str(out)).returncode == 0
    summary = json.loads((out / "design.json").read_text())
    assert [(r["target"], r["method"]) for r in summary["rows"]] == [
        (t, m) for t in (0.2, 0.35) for m in ("gankit", "random_search", "gradient_descent")]
    with (out / "designs.csv").open() as handle:
        designs = list(csv.DictReader(handle))
    assert designs  # some proposals were feasible, so the checks below see real rows
    prior = restore_design(load_config("friction_design", TINY))
    model = prior.space.model
    amplitude = torch.tensor([float(d["amplitude"]) for d in designs], dtype=torch.float64)
    wavelength = torch.tensor([float(d["wavelength"]) for d in designs], dtype=torch.float64)
    assert model.feasible(amplitude, wavelength).all()  # infeasible proposals are filtered, never returned
    assert torch.allclose(model.friction(amplitude, wavelength),
                          torch.tensor([float(d["friction"]) for d in designs], dtype=torch.float64))
    gankit_rows = [r for r in summary["rows"] if r["method"] == "gankit"]
    assert len(designs) == sum(r["returned"] for r in gankit_rows) and all(r["proposed"] == 200 for r in gankit_rows)
    for row in gankit_rows:  # the table's hit rate is the share of hits among the returned designs
        hits = [d["hit"] == "True" for d in designs if float(d["target"]) == row["target"]]
        assert len(hits) == row["returned"]
        assert row["hit_rate"] == (pytest.approx(sum(hits) / len(hits)) if hits else 0.0)
    assert (out / "designs.png").stat().st_size > 0


def test_baselines_spend_the_same_physics_budget():
    space = DesignSpace(restore_design(load_config("friction_design")).space.model)
    amplitude, wavelength = random_search(space, 300, seed=0)
    assert len(amplitude) == 300 and torch.equal(amplitude, random_search(space, 300, seed=0)[0])
    assert 0.05 <= amplitude.min() and amplitude.max() <= 2.0 and 2.0 <= wavelength.min() and wavelength.max() <= 50
    from gankit.design.game import friction_condition

    assert friction_condition(torch.tensor([0.108, 0.304, 0.5]), (0.108, 0.5)).tolist() == pytest.approx([-1, 0, 1], abs=1e-6)
    from gankit.design.physics import PhysicsTerm

    amplitude, _ = gradient_descent(PhysicsTerm(space, (0.108, 0.5)), 0.3, 300, seed=0)
    assert len(amplitude) == 300 // GRADIENT_STEPS


def test_bad_input_is_one_line_and_exit_2(run, tmp_path, gankit):
    out = ["--out", str(tmp_path / "out")]
    assert_user_error(gankit("design", str(run), "--target", "0.7", *out), "--target 0.7", "[0.108", "0.5]")
    assert_user_error(gankit("design", str(run), "--target", "x", *out), "--target", "comma-separated")
    assert_user_error(gankit("design", str(run), "--target", "0.3", "-n", "0", *out), "-n 0")
    bilinear = train(load_config("bilinear", ["train.tensorboard=false"], steps=2), tmp_path / "b", progress=False)
    assert_user_error(gankit("design", str(bilinear.path), "--target", "0.3", *out), "'bilinear' run", "design run")
    assert not (tmp_path / "out").exists()
