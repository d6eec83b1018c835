"""The domain kind (DANN): the gradient reversal layer, its equivalence with a simultaneous step of the three-player
game, the λ schedule, the losses against hand computation, the digit domains, evaluation, resume and refusals."""

import math
import shutil

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import load_config
from gankit.dynamics.simultaneous import Simultaneous
from gankit.errors import ConfigError
from gankit.experiment import build_experiment
from gankit.kinds.domain_data import DomainBatches, load_domain_data
from gankit.kinds.domain_game import (
    CRITIC, DOMAINS, ENCODER, INPUTS, LABELS, PLAYERS, TASK, DomainAdversarialGame, ganin_schedule,
)
from gankit.nn.reversal import GradientReversal, reverse_gradient
from gankit.train.run import train

TINY = ["model.width=2", "model.features=8", "model.hidden=8", "train.batch_size=8", "train.log_every=2",
        "train.checkpoint_every=4", "train.keep_checkpoints=5", "train.tensorboard=false", "train.eval_every=null"]


def _config(*sets, steps=4):
    return load_config("dann_mnist_digits", [*TINY, *sets], steps=steps)


def test_the_reversal_layer_is_the_identity_forward_and_minus_lambda_backward():
    x = torch.randn(5, 3, dtype=torch.double, requires_grad=True)
    y = GradientReversal(0.7)(x)
    assert torch.equal(y, x)
    upstream = torch.randn(5, 3, dtype=torch.double)
    (grad,) = torch.autograd.grad(y, x, upstream)
    assert torch.equal(grad, -0.7 * upstream)
    # gradcheck compares backward with the numerical derivative of forward: two reversals whose scales multiply
    # to one give back the true gradient of the identity; one reversal is (by design) not a gradient
    assert torch.autograd.gradcheck(lambda t: reverse_gradient(reverse_gradient(t, 0.5), 2.0), (x,))
    assert not torch.autograd.gradcheck(lambda t: reverse_gradient(t, 1.0), (x,), raise_exception=False)


def test_ganins_schedule_rises_from_zero_to_the_weight():
    schedule = ganin_schedule(2.0, 100)
    assert schedule(0) == 0.0
    assert schedule(50) == pytest.approx(2.0 * (2 / (1 + math.exp(-5)) - 1), rel=1e-12)  # 1.97323
    assert schedule(100) == pytest.approx(2.0 * 0.9999092, rel=1e-6)
    assert schedule(250) == schedule(100)  # past the end of training it stays


def _toy_game(weight=0.7, critic_loss="cross_entropy"):
    torch.manual_seed(3)
    encoder = nn.Sequential(nn.Linear(4, 6), nn.Tanh())
    task, critic = nn.Linear(6, 3), nn.Linear(6, 1 if critic_loss == "wasserstein" else 2)
    game = DomainAdversarialGame(encoder, task, critic, weight=lambda step: weight, critic_loss=critic_loss)
    batch = {INPUTS: torch.randn(8, 4), DOMAINS: torch.tensor([0, 0, 0, 0, 1, 1, 1, 1]),
             LABELS: torch.tensor([0, 2, 1, 2, -1, -1, -1, -1])}
    return game, batch


def test_the_losses_are_the_hand_computed_ones():
    game, batch = _toy_game()
    out = game.losses(batch, players=PLAYERS, step=0)
    features = game.encoder(batch[INPUTS])
    task = F.cross_entropy(game.task(features[:4]), batch[LABELS][:4])  # the labelled rows only
    critic = F.cross_entropy(game.critic(features), batch[DOMAINS])
    assert out.losses[TASK].item() == pytest.approx(task.item(), rel=1e-6)
    assert out.losses[CRITIC].item() == pytest.approx(critic.item(), rel=1e-6)
    assert out.losses[ENCODER].item() == pytest.approx(task.item() - 0.7 * critic.item(), rel=1e-6)
    game, batch = _toy_game(critic_loss="wasserstein")
    game.gp_weight = 0.0
    out = game.losses(batch, players=PLAYERS, step=0)
    scores = game.critic(game.encoder(batch[INPUTS])).squeeze(-1)
    distance = scores[:4].mean() - scores[4:].mean()
    assert out.losses[CRITIC].item() == pytest.approx(-distance.item(), rel=1e-6)
    assert out.losses[ENCODER].item() == pytest.approx(out.losses[TASK].item() + 0.7 * distance.item(), rel=1e-6)


def test_the_adversarial_autoencoder_reconstructs_every_row_and_uses_no_label():
    torch.manual_seed(4)
    encoder, decoder, critic = nn.Sequential(nn.Linear(4, 6), nn.Tanh()), nn.Linear(6, 4), nn.Linear(6, 2)
    game = DomainAdversarialGame(encoder, decoder, critic, weight=lambda step: 0.5, task_kind="decoder")
    _, batch = _toy_game()
    out = game.losses(batch, players=PLAYERS, step=0)
    features = encoder(batch[INPUTS])
    reconstruction = ((decoder(features) - batch[INPUTS]) ** 2).mean()  # every row, the target's too
    critic_loss = F.cross_entropy(critic(features), batch[DOMAINS])
    assert out.losses[TASK].item() == pytest.approx(reconstruction.item(), rel=1e-6)
    assert out.losses[ENCODER].item() == pytest.approx(reconstruction.item() - 0.5 * critic_loss.item(), rel=1e-6)
    hidden = dict(batch, labels=torch.full((8,), -1))
    assert game.losses(hidden, players=[TASK], step=0).losses[TASK].item() == pytest.approx(reconstruction.item())


def test_one_step_through_the_reversal_layer_is_one_simultaneous_step_of_the_game():
    game, batch = _toy_game(weight=0.7)
    copies = {name: [p.detach().clone() for p in module.parameters()] for name, module in game.players.items()}
    optimizers = {name: torch.optim.SGD(module.parameters(), lr=0.1) for name, module in game.players.items()}
    Simultaneous().step(game, optimizers, lambda: batch, step=0)
    # the same three networks at their starting weights, trained as one model with the reversal layer
    twin, _ = _toy_game(weight=0.7)
    for name, module in twin.players.items():
        for p, start in zip(module.parameters(), copies[name], strict=True):
            assert torch.equal(p, start)
    features = twin.encoder(batch[INPUTS])
    labelled = batch[LABELS] >= 0
    loss = (F.cross_entropy(twin.task(features[labelled]), batch[LABELS][labelled])
            + F.cross_entropy(twin.critic(reverse_gradient(features, 0.7)), batch[DOMAINS]))
    everything = [p for module in twin.players.values() for p in module.parameters()]
    torch.optim.SGD(everything, lr=0.1).zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in everything:
            p -= 0.1 * p.grad
    for name in PLAYERS:
        for a, b, start in zip(game.players[name].parameters(), twin.players[name].parameters(), copies[name],
                               strict=True):
            assert not torch.equal(a, start), name  # every player moved
            assert torch.allclose(a, b, atol=1e-7, rtol=0), name


def test_the_domains_are_two_digit_sets_split_apart_and_batches_hold_half_of_each():
    config = _config()
    domains = load_domain_data(config.data, seed=0)
    assert domains.names == ("mnist", "digits") and domains.tag == "mnist_to_digits"
    assert [len(x) for x in domains.train_images] == [4000, 1438]
    assert [len(x) for x in domains.test_images] == [1000, 359]
    assert all(x.shape[1:] == (1, 16, 16) for x in domains.train_images)
    for seen_images, test in zip(domains.train_images, domains.test_images, strict=True):
        seen = {row.tobytes() for row in seen_images.flatten(1).numpy()}
        assert not any(row.tobytes() in seen for row in test.flatten(1).numpy())  # held out means unseen
    batch = next(DomainBatches(domains, 8, seed=0, device=torch.device("cpu")))
    assert batch[DOMAINS].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert (batch[LABELS][:4] >= 0).all() and (batch[LABELS][4:] == -1).all()  # the target's labels stay hidden
    upper = load_domain_data(_config("data.labels=target").data, seed=0)
    batch = next(DomainBatches(upper, 8, seed=0, device=torch.device("cpu")))
    assert (batch[LABELS][:4] == -1).all() and (batch[LABELS][4:] >= 0).all()
    reverse = load_domain_data(_config("data.source=digits", "data.target=mnist").data, seed=0)
    assert reverse.tag == "digits_to_mnist" and len(reverse.train_images[0]) == 1438


@pytest.mark.parametrize("rule", ["simultaneous", "alternating", "extragradient", "optimistic"])
def test_every_dynamics_rule_moves_all_three_players(rule):
    exp = build_experiment(_config(f"dynamics.name={rule}"))
    assert list(exp.game.players) == list(PLAYERS)
    before = {name: [p.detach().clone() for p in exp.game.parameters(name)] for name in exp.game.players}
    for step in range(2):
        result = exp.dynamics.step(exp.game, exp.optimizers, lambda: next(exp.batches), step)
    assert {"task_loss", "critic_loss", "critic_accuracy", "lambda"} <= set(result.stats)
    assert 1.5 < float(result.stats["task_loss"]) < 3.0  # cross-entropy of ten classes near log 10 = 2.30
    for name, params in before.items():
        change = max((x - y).abs().max().item() for x, y in zip(params, exp.game.parameters(name), strict=True))
        assert 1e-7 < change < 0.05, (name, change)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    return train(_config(steps=8), tmp_path_factory.mktemp("dann") / "run", progress=False).path


def test_evaluation_scores_both_domains_and_a_domain_probe(trained_run, gankit):
    assert gankit("eval", str(trained_run)).returncode == 0
    import json

    scores = json.loads((trained_run / "eval.json").read_text())["metrics"]
    assert set(scores) == {f"{name}_mnist_to_digits_359" for name in
                           ("source_accuracy", "target_accuracy", "domain_probe", "proxy_a_distance")}
    # the task head read by hand on the target's held-out images, from the restored players
    from gankit.runs import restore_run

    run = restore_run(trained_run)
    domains = load_domain_data(run.config.data, run.config.seed)
    with torch.no_grad():
        predicted = run.players[TASK](run.players[ENCODER](domains.test_images[1])).argmax(1)
    expected = (predicted == domains.test_labels[1]).float().mean().item()
    assert scores["target_accuracy_mnist_to_digits_359"] == pytest.approx(expected, abs=1e-9)
    probe = scores["domain_probe_mnist_to_digits_359"]
    assert 0.5 <= probe <= 1 and scores["proxy_a_distance_mnist_to_digits_359"] == pytest.approx(4 * probe - 2)


def test_an_adversarial_autoencoder_run_reports_reconstruction_and_a_digit_probe(tmp_path, gankit):
    run = train(_config("model.task=decoder", steps=2), tmp_path / "aae", progress=False).path
    assert gankit("eval", str(run)).returncode == 0
    import json

    scores = json.loads((run / "eval.json").read_text())["metrics"]
    assert set(scores) == {f"{name}_mnist_to_digits_359" for name in (
        "source_reconstruction", "target_reconstruction", "source_probe_accuracy", "target_probe_accuracy",
        "domain_probe", "proxy_a_distance")}
    # an untrained decoder's tanh outputs near 0: its error is about the images' mean square (mostly −1 pixels)
    assert 0.2 < scores["source_reconstruction_mnist_to_digits_359"] < 1.5
    assert 0.1 < scores["source_probe_accuracy_mnist_to_digits_359"] <= 1  # ten digits: chance is 0.1


def test_the_domain_probe_is_at_chance_on_one_distribution_stored_in_class_order():
    from gankit.kinds.domain import domain_probe_accuracy

    generator = torch.Generator().manual_seed(0)
    digits = torch.arange(10).repeat_interleave(50)  # sorted by class, as the MNIST sample is stored
    same = [torch.eye(10)[digits] + 0.3 * torch.randn(500, 10, generator=generator) for _ in range(2)]
    assert abs(domain_probe_accuracy(same) - 0.5) < 0.08  # unshuffled folds would test on unseen classes
    apart = [same[0], same[1] + 3.0]
    assert domain_probe_accuracy(apart) > 0.99


def test_a_resumed_domain_run_is_bit_identical(trained_run, tmp_path, gankit):
    shutil.copytree(trained_run, tmp_path / "cut")
    (tmp_path / "cut" / "checkpoints" / "step_000008.pt").unlink()
    assert gankit("train", "--resume", str(tmp_path / "cut"), "--no-progress").returncode == 0
    a, b = (torch.load(run / "checkpoints" / "step_000008.pt", weights_only=True) for run in (trained_run,
                                                                                              tmp_path / "cut"))
    for player in PLAYERS:
        for key, value in a["players"][player].items():
            assert torch.equal(value, b["players"][player][key]), (player, key)


@pytest.mark.parametrize("sets, message", [
    (["data.target=mnist"], "adaptation needs two domains"),
    (["data.image_size=18"], "multiple of 4"),
    (["loss.gp_weight=5"], "set loss.critic wasserstein"),
    (["dynamics.name=unrolled"], "unrolled"),
    (["model.task=decoder", "data.labels=target"], "trains on no labels"),
])
def test_domain_config_mistakes_are_one_line(sets, message, gankit, tmp_path):
    from cli_helpers import assert_user_error

    overrides = [part for item in sets for part in ("--set", item)]
    result = gankit("train", "dann_mnist_digits", *overrides, "--steps", "1", "--out", str(tmp_path / "r"),
                    "--no-progress")
    assert_user_error(result, message)
    assert not (tmp_path / "r").exists()


def test_an_unknown_player_in_the_rates_is_refused():
    with pytest.raises(ConfigError, match="names no player"):
        _config("optim.lr.generator=1e-3")
