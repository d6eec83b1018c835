"""The paired kind: image-to-image GANs trained, resumed, evaluated against their baseline and applied."""

import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio

from cli_helpers import assert_user_error
from doc_helpers import run_example
from gankit.config import load_config
from gankit.errors import ConfigError
from gankit.experiment import build_experiment
from gankit.kinds.paired_data import load_paired_data
from gankit.kinds.paired_game import ContentGame, PairedGame, content_loss
from gankit.train.run import train

TINY = ["model.blocks=1", "model.g_width=8", "model.d_width=8", "train.batch_size=16", "train.log_every=2",
        "train.checkpoint_every=4", "train.sample_every=4", "train.keep_checkpoints=5", "train.tensorboard=false",
        "train.eval_every=null", "data.test_fraction=0.02"]
RULES = ("simultaneous", "alternating", "extragradient", "optimistic", "unrolled")


def _config(*sets, steps=4):
    return load_config("mnist_sr4", [*TINY, *sets], steps=steps)


def _players(run, step):
    return torch.load(run / "checkpoints" / f"step_{step:06d}.pt", weights_only=True)["players"]


@pytest.mark.parametrize("rule", RULES)
def test_every_dynamics_rule_trains_a_paired_game(rule):
    exp = build_experiment(_config(f"dynamics.name={rule}", "dynamics.unroll_steps=1" if rule == "unrolled" else
                                   "seed=0"))
    assert isinstance(exp.game, PairedGame) and set(exp.game.players) == {"generator", "discriminator"}
    before = {name: [p.detach().clone() for p in exp.game.parameters(name)] for name in exp.game.players}
    for step in range(2):
        result = exp.dynamics.step(exp.game, exp.optimizers, lambda: next(exp.batches), step)
    assert {"content", "loss_g", "loss_d"} <= set(result.stats)
    # L1 of a barely trained generator's [-1, 1] outputs to the digits: neither 0 (a copy) nor the
    # distance of saturated outputs (about 2 wherever a digit is blank)
    assert 0.05 < float(result.stats["content"]) < 1.5
    for name, params in before.items():  # both players moved, each by a step of about its learning rate
        change = max((a - b).abs().max().item() for a, b in zip(params, exp.game.parameters(name), strict=True))
        assert 1e-6 < change < 0.1, (name, change)


def test_the_generator_upscales_and_its_loss_is_content_plus_weighted_adversarial():
    exp = build_experiment(_config("loss.adversarial_weight=0.5", "loss.content=l2"))
    batch = next(exp.batches)
    assert batch["inputs"].shape == (16, 1, 7, 7) and batch["targets"].shape == (16, 1, 28, 28)
    game = exp.game
    out = game.losses(batch, players=["generator"], step=0)
    fake = game.generator(batch["inputs"])
    expected = 0.5 * torch.nn.functional.softplus(-game.discriminator(fake)).mean() + (fake - batch["targets"]).pow(2).mean()
    assert out.losses["generator"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert out.stats["loss_g"].item() == pytest.approx(torch.nn.functional.softplus(-game.discriminator(fake)).mean().item(),
                                                       rel=1e-5)


def test_a_pair_critic_sees_the_upsampled_input_beside_the_output():
    exp = build_experiment(_config("model.discriminator=pair"))
    critic = exp.game.discriminator
    assert next(m for m in critic.modules() if isinstance(m, torch.nn.Conv2d)).in_channels == 2
    batch = next(exp.batches)
    seen = []
    handle = critic.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    targets, view = exp.game.split_batch(batch)
    exp.game.discriminate(targets, view)
    handle.remove()
    upsampled = F.interpolate(batch["inputs"], size=(28, 28), mode="bicubic", align_corners=False).clamp(-1, 1)
    assert torch.equal(view, upsampled)
    assert torch.equal(seen[0], torch.cat([upsampled, batch["targets"]], dim=1))
    # an output-only critic (SRGAN) sees the output alone
    plain = build_experiment(_config())
    assert plain.game.split_batch(batch)[1] is None


def test_adversarial_weight_zero_trains_the_generator_alone(tmp_path):
    run = train(_config("loss.adversarial_weight=0"), tmp_path / "l1", progress=False)
    assert set(_players(run.path, 4)) == {"generator"}
    exp = build_experiment(_config("loss.adversarial_weight=0"))
    assert isinstance(exp.game, ContentGame) and set(exp.optimizers) == {"generator"}
    with pytest.raises(ConfigError, match="unrolled dynamics need a critic"):
        build_experiment(_config("loss.adversarial_weight=0", "dynamics.name=unrolled"))


@pytest.mark.parametrize("sets", [(), ("data.crop=16", "data.name=digits", "data.image_size=32")],
                         ids=["whole-images", "crops"])
def test_a_resumed_paired_run_is_bit_identical(sets, tmp_path, gankit):
    config = _config(*sets, "train.ema_decay=0.9", steps=8)
    full = train(config, tmp_path / "full", progress=False).path
    shutil.copytree(full, tmp_path / "cut")
    (tmp_path / "cut" / "checkpoints" / "step_000008.pt").unlink()
    assert gankit("train", "--resume", str(tmp_path / "cut"), "--no-progress").returncode == 0
    a, b = _players(full, 8), _players(tmp_path / "cut", 8)
    for player in a:
        for key, value in a[player].items():
            assert torch.equal(value, b[player][key]), (player, key)


def test_evaluation_holds_the_model_and_the_bicubic_baseline_on_held_out_images(tmp_path, gankit):
    run = train(_config(), tmp_path / "run", progress=False).path
    result = gankit("eval", str(run))
    assert result.returncode == 0, result.stderr
    rows = dict(line.split() for line in result.stdout.splitlines())
    paired = load_paired_data(_config().data, 0)
    assert len(paired.test_targets) == 100 and len(paired.train_targets) == 4900
    # The baseline, independently: scikit-image's PSNR of PIL-free bicubic upsampling, per image, averaged.
    up = F.interpolate(paired.test_inputs, size=(28, 28), mode="bicubic", align_corners=False).clamp(-1, 1)
    crop = slice(4, -4)
    expected = np.mean([
        peak_signal_noise_ratio(((t[0] + 1) / 2).double().numpy()[crop, crop], ((u[0] + 1) / 2).double().numpy()[crop, crop],
                                data_range=1.0)
        for t, u in zip(paired.test_targets, up, strict=True)
    ])
    assert float(rows["psnr_bicubic_mnist_downsample4_100"]) == pytest.approx(expected, rel=1e-5)
    assert {"psnr_mnist_downsample4_100", "ssim_mnist_downsample4_100", "ssim_bicubic_mnist_downsample4_100",
            "fid_mnist_100", "fid_bicubic_mnist_100"} <= set(rows)
    assert 0 < float(rows["ssim_bicubic_mnist_downsample4_100"]) < 1


def test_gankit_apply_upscales_images_and_refuses_what_does_not_fit(tmp_path, gankit):
    run = train(_config(), tmp_path / "run", progress=False).path
    small = np.zeros((3, 1, 7, 7), dtype=np.float32)
    np.save(tmp_path / "lr.npy", small)
    assert gankit("apply", str(run), str(tmp_path / "lr.npy"), "--out", str(tmp_path / "hr.npy")).returncode == 0
    assert np.load(tmp_path / "hr.npy").shape == (3, 1, 28, 28)
    folder = tmp_path / "pictures"
    folder.mkdir()
    Image.fromarray(np.full((5, 6), 128, dtype=np.uint8)).save(folder / "a.png")
    Image.fromarray(np.full((7, 7), 30, dtype=np.uint8)).save(folder / "b.png")
    assert gankit("apply", str(run), str(folder), "--out", str(tmp_path / "up")).returncode == 0
    assert Image.open(tmp_path / "up" / "a.png").size == (24, 20)  # any size: the generator is convolutional
    Image.fromarray(np.zeros((7, 7, 3), dtype=np.uint8)).save(folder / "c.png")
    assert_user_error(gankit("apply", str(run), str(folder), "--out", str(tmp_path / "up2")),
                      "c.png is a colour image and this model takes grayscale images")
    assert not (tmp_path / "up2").exists()  # nothing written
    assert_user_error(gankit("apply", str(run), str(tmp_path / "lr.npy"), "--out", str(tmp_path / "x.png")),
                      "a .npy input gives a .npy output")
    assert_user_error(gankit("sample", str(run), "--out", str(tmp_path / "s.png")), "gankit apply RUN INPUT --out OUT")


def test_feature_content_loss_is_the_distance_of_classifier_features():
    from gankit.metrics.features import load_classifier

    classifier = load_classifier("mnist")
    loss = content_loss("features", _Penultimate(classifier))
    a, b = torch.rand(4, 1, 28, 28) * 2 - 1, torch.rand(4, 1, 28, 28) * 2 - 1
    expected = (classifier.features(a) - classifier.features(b)).pow(2).mean()
    assert loss(a, b).item() == pytest.approx(expected.item(), rel=1e-6)
    exp = build_experiment(_config("loss.content=features", "loss.features=mnist"))
    assert exp.game.content(a, a).item() == 0.0


class _Penultimate(torch.nn.Module):
    def __init__(self, classifier):
        super().__init__()
        self.classifier = classifier

    def forward(self, x):
        return self.classifier.features(x)


@pytest.mark.parametrize("sets, message", [
    (["data.degradation=blurr:2"], "unknown degradation 'blurr:2'"),
    (["model.generator=unet"], "model.generator unet keeps the image size; this task upscales by 4"),
    (["data.name=paired_folders"], "data.name paired_folders needs data.inputs and data.targets"),
    (["data.crop=10"], "data.crop 10 must be a multiple of the scale 4"),
    (["dynamics.trust_region.radius=0.1"], "dynamics.trust_region is a gan-kind option"),
    (["loss.content=features"], "loss.content features needs loss.features"),
])
def test_paired_config_mistakes_are_one_line(sets, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        build_experiment(_config(*sets))


def test_the_documented_paired_game_trains():
    namespace = run_example("docs/image2image.md", "## Python: a paired game in a few lines", ("steps=20", "steps=3"))
    G, inputs = namespace["G"], namespace["inputs"]
    assert inputs.shape == (512, 1, 7, 7) and G(inputs[:2]).shape == (2, 1, 28, 28)
    assert namespace["optimizers"]["generator"].state  # the generator took Adam steps


def test_paired_folders_give_their_own_scale_and_hold_out_images(tmp_path):
    rng = np.random.default_rng(0)
    for side, size in (("low", 8), ("high", 16)):
        (tmp_path / side).mkdir()
        for i in range(6):
            Image.fromarray(rng.integers(0, 255, (size, size), dtype=np.uint8)).save(tmp_path / side / f"{i}.png")
    config = load_config("mnist_sr4", [*TINY, "data.name=paired_folders", f"data.inputs={tmp_path / 'low'}",
                                       f"data.targets={tmp_path / 'high'}", "data.degradation=null",
                                       "data.test_fraction=0.2", "train.batch_size=2"])
    exp = build_experiment(config)
    assert exp.data.scale == 2 and len(exp.data.test_targets) == 1 and len(exp.data.train_targets) == 5
    batch = next(exp.batches)
    assert exp.game.generator(batch["inputs"]).shape == batch["targets"].shape == (2, 1, 16, 16)
    (tmp_path / "high" / "5.png").rename(tmp_path / "high" / "9.png")
    with pytest.raises(Exception, match="'5'.*'9'|'9'.*'5'"):
        build_experiment(config)


def test_same_size_tasks_hold_tv_denoising_with_its_weight_tuned_on_training_pairs():
    from skimage.restoration import denoise_tv_chambolle

    from gankit.kinds.paired_baselines import TV_WEIGHTS, pair_baselines

    config = load_config("mnist_denoise", ["data.test_fraction=0.01"])
    paired = load_paired_data(config.data, 0)
    assert set(pair_baselines(paired)) == {paired.tag}  # one test set: the held-out pairs
    baselines = pair_baselines(paired)[paired.tag]
    assert set(baselines) == {"input", "tv"} and torch.equal(baselines["input"], paired.test_inputs)

    def mean_psnr(images, targets):  # independently: skimage on [0, 1] images
        return np.mean([peak_signal_noise_ratio((t[0].numpy() + 1) / 2, (x[0].numpy() + 1) / 2, data_range=1)
                        for x, t in zip(images, targets)])

    def denoised(images, weight):
        return torch.stack([torch.from_numpy(denoise_tv_chambolle((x[0].double().numpy() + 1) / 2, weight=weight) * 2 - 1)
                            for x in images])[:, None].float().clamp(-1, 1)

    tuning_inputs, tuning_targets = paired.train_inputs[:64], paired.train_targets[:64]
    best = max(TV_WEIGHTS, key=lambda w: mean_psnr(denoised(tuning_inputs, w), tuning_targets))
    assert torch.allclose(baselines["tv"], denoised(paired.test_inputs, best), atol=1e-6)
    # on noise of std 0.5, TV denoising beats the noisy input by more than 2 dB
    assert mean_psnr(baselines["tv"], paired.test_targets) > mean_psnr(paired.test_inputs, paired.test_targets) + 2
    sr = load_paired_data(_config().data, 0)
    assert set(pair_baselines(sr)[sr.tag]) == {"bicubic"}  # upscaling tasks: bicubic only
