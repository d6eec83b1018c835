"""The circuit GAN's parts: the library against a brute-force labelling, the players' invariances, the scores on
hand cases, and a tiny run through the Trainer and `gankit design`."""

import pytest
import torch

from gankit.design.circuit_game import CircuitCritic, CircuitGenerator, one_hot, signed
from gankit.design.circuit_scores import score_circuits
from gankit.design.circuits import CircuitModel, enumerate_circuits
from gankit.design.graphs import canonical_codes, valid
from gankit.design.library import build_library, relabellings

MODEL = CircuitModel()
REPRESSILATOR = torch.tensor([[0, 0, -1], [-1, 0, 0], [0, -1, 0]], dtype=torch.int8)


def test_the_library_holds_every_behaving_class_split_into_training_and_held_out():
    library = build_library(MODEL, 2, "bistability", draws=100, held_out=0.5, seed=3)
    every = enumerate_circuits(2)
    every = every[valid(every)]
    behaving = every[MODEL.bistable(every)]  # every circuit simulated, no classes used
    classes = set(canonical_codes(behaving).tolist())
    training = set(canonical_codes(library.training).tolist())
    held_out = set(canonical_codes(library.held_out).tolist())
    assert training | held_out == classes and not training & held_out
    assert len(held_out) == round(0.5 * len(classes)) == len(library.held_out)
    assert library.behaving_classes == len(classes) and library.candidates == len(every)
    # training holds every labelling of its classes, and nothing else
    in_training = torch.isin(canonical_codes(every), torch.tensor(sorted(training)))
    assert len(library.training) == int(in_training.sum())
    again = build_library(MODEL, 2, "bistability", draws=100, held_out=0.5, seed=3)
    assert torch.equal(again.training, library.training) and torch.equal(again.held_out, library.held_out)


def test_relabellings_of_the_repressilator_are_its_two_orientations():
    rings = relabellings(REPRESSILATOR[None])
    assert len(rings) == 2  # 3! labellings of a directed 3-cycle: 3 rotations each of 2 orientations
    assert (canonical_codes(rings) == canonical_codes(REPRESSILATOR[None])).all()


def test_one_hot_and_signed_invert_each_other():
    circuits = torch.randint(-1, 2, (20, 4, 4), generator=torch.Generator().manual_seed(0)).to(torch.int8)
    edges = one_hot(circuits)
    assert edges.shape == (20, 4, 4, 3) and torch.equal(edges.sum(-1), torch.ones(20, 4, 4))
    assert torch.equal(signed(edges), circuits)


def test_the_critic_scores_every_relabelling_of_a_circuit_alike():
    torch.manual_seed(0)
    critic = CircuitCritic(width=16, layers=2)
    circuits = torch.randint(-1, 2, (8, 4, 4), generator=torch.Generator().manual_seed(1)).to(torch.int8)
    order = [2, 0, 3, 1]
    permuted = circuits[:, order][:, :, order]
    with torch.no_grad():
        scores, again = critic(one_hot(circuits)), critic(one_hot(permuted))
        other = critic(one_hot(-circuits))
    torch.testing.assert_close(scores, again, rtol=1e-5, atol=1e-5)
    assert (scores - other).abs().max() > 1e-3  # and tells signs apart


def test_the_generator_draws_one_hot_circuits_with_a_gradient():
    torch.manual_seed(0)
    generator = CircuitGenerator(genes=3, latent_dim=4, width=8)
    edges = generator(torch.randn(5, 4))
    assert edges.shape == (5, 3, 3, 3) and torch.equal(edges.detach().sum(-1), torch.ones(5, 3, 3))
    assert set(edges.detach().unique().tolist()) == {0.0, 1.0}
    edges[..., 0].sum().backward()
    assert generator.net[0].weight.grad.abs().sum() > 0


def test_scores_on_a_hand_batch():
    library = build_library(MODEL, 2, "bistability", draws=100, held_out=0.5, seed=0)
    seen = library.training[0]
    new_working = library.held_out[0]
    monostable = torch.tensor([[-1, 0], [1, 0]], dtype=torch.int8)  # valid, novel, one steady state
    unregulated = torch.tensor([[0, 0], [1, 0]], dtype=torch.int8)  # gene 0 unregulated
    batch = torch.stack([seen, new_working, new_working, monostable, unregulated])
    scored = score_circuits(MODEL, library, batch, "hand")
    scores = scored.scores
    assert scores.valid == pytest.approx(4 / 5)
    assert scores.unique == pytest.approx(3 / 4)
    assert scores.novel == pytest.approx(3 / 4)  # all but the training circuit
    assert scores.novel_working == pytest.approx(2 / 3) and scores.new_classes == 1
    assert scored.working.tolist() == [True, True, True, False, False]


TINY = ["circuits.genes=2", "circuits.behaviour=bistability", "circuits.width=16", "train.batch_size=16",
        "train.tensorboard=false", "train.ema_decay=null", "train.eval_every=20"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from gankit.config import load_config
    from gankit.train.run import train

    return train(load_config("circuits", TINY, steps=40), tmp_path_factory.mktemp("circuits") / "run",
                 progress=False).path


def test_a_circuit_run_trains_and_designs_circuits_that_are_simulated(run, tmp_path, gankit):
    import csv
    import json

    out = tmp_path / "out"
    assert gankit("design", str(run), "-n", "100", "--out", str(out)).returncode == 0
    summary = json.loads((out / "design.json").read_text())
    assert [r["method"] for r in summary["rows"]] == ["gankit", "random_graphs", "single_edge_mutations"]
    assert summary["training_classes"] + summary["held_out_classes"] > 1
    with (out / "circuits.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 100
    circuits = torch.tensor([json.loads(r["adjacency"]) for r in rows], dtype=torch.int8)
    # every label is the simulator's, recomputed here circuit by circuit
    expected = valid(circuits) & MODEL.bistable(circuits)
    assert [r["shows_behaviour"] == "True" for r in rows] == expected.tolist()
    gankit_row = summary["rows"][0]
    assert gankit_row["valid"] == pytest.approx(sum(r["valid"] == "True" for r in rows) / 100)
    assert (out / "circuits.png").stat().st_size > 0
    metrics = (run / "metrics.csv").read_text()
    assert "eval/novel_working" in metrics


def test_circuit_runs_refuse_bad_input_in_one_line(run, tmp_path, gankit):
    from cli_helpers import assert_user_error

    out = ["--out", str(tmp_path / "out")]
    assert_user_error(gankit("design", str(run), "--target", "0.3", *out), "--target", "circuits run")
    assert_user_error(gankit("train", "circuits", "--set", "circuits.behaviour=memory", *out),
                      "circuits.behaviour", "oscillation")
    assert_user_error(gankit("train", "circuits", "--set", "circuits.genes=7", *out), "circuits.genes", "5")
    assert not (tmp_path / "out").exists()
