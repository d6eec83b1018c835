"""Evaluation end to end: protocol names, each metric's direction on perfect vs collapsed generators, eval.json."""

import csv
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from cli_helpers import assert_user_error
from gankit.config import load_config
from gankit.data import grid25
from gankit.errors import CheckpointError, ConfigError
from eval_helpers import evaluate
from gankit.metrics.evaluate import FeatureOptions, protocol_suffix, quantize_8bit
from gankit.train.run import train


class MixtureSampler(nn.Module):
    """A "generator" that draws from the true grid25 mixture (or from one of its modes only)."""

    latent_dim = 16  # the generator contract: samplers read the latent size off the module

    def __init__(self, modes: int = 25) -> None:
        super().__init__()
        mixture = grid25()
        self.register_buffer("means", torch.tensor(mixture.means[:modes], dtype=torch.float32))
        self.std = mixture.std
        self.scale = nn.Parameter(torch.ones(()))  # gives the module a device

    def forward(self, z):
        pick = (torch.special.ndtr(z[:, 0]) * len(self.means)).long().clamp(max=len(self.means) - 1)
        return self.means[pick] + self.std * self.scale * z[:, 1:3]


@pytest.mark.parametrize("n, expected", [(5000, "mnist_5k"), (2500, "mnist_2.5k"), (800, "mnist_800")])
def test_protocol_suffix(n, expected):
    assert protocol_suffix("mnist", n) == expected


@pytest.fixture(scope="module")
def scores():
    config = load_config("grid25", ["data.n_samples=2000"])
    metrics = ["fid", "kid", "prdc", "modes", "memorization"]
    perfect = evaluate(MixtureSampler(25), config, metrics=metrics, n=2000, seed=1)
    collapsed = evaluate(MixtureSampler(1), config, metrics=metrics, n=2000, seed=1)
    return perfect, collapsed


def test_every_number_carries_its_protocol(scores):
    perfect, _ = scores
    assert set(perfect) == {
        "fid_raw2d_2k", "kid_raw2d_2k", "kid_raw2d_2k_std", "precision_raw2d_2k", "recall_raw2d_2k",
        "density_raw2d_2k", "coverage_raw2d_2k", "modes_grid25_2k", "hq_fraction_grid25_2k",
        "mode_kl_grid25_2k", "nn_distance_median_raw2d_2k", "nn_distance_min_raw2d_2k", "copy_fraction_raw2d_2k",
    }


def test_a_perfect_generator_scores_as_the_data_does(scores):
    perfect, _ = scores
    assert perfect["fid_raw2d_2k"] < 0.05
    assert abs(perfect["kid_raw2d_2k"]) < 2 * perfect["kid_raw2d_2k_std"]  # unbiased: zero within its spread
    assert perfect["modes_grid25_2k"] == 25
    assert perfect["hq_fraction_grid25_2k"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)  # 2D Gaussian, 3σ
    assert perfect["mode_kl_grid25_2k"] < 0.02
    for key in ("precision", "recall", "coverage"):
        assert perfect[f"{key}_raw2d_2k"] > 0.85, key


def test_collapse_lowers_recall_and_coverage_but_not_precision(scores):
    perfect, collapsed = scores
    assert collapsed["modes_grid25_2k"] == 1
    assert collapsed["mode_kl_grid25_2k"] == pytest.approx(math.log(25), rel=1e-9)
    assert collapsed["precision_raw2d_2k"] > 0.85  # every sample is realistic...
    assert collapsed["recall_raw2d_2k"] < 0.1  # ...but most of the data is never produced
    assert collapsed["coverage_raw2d_2k"] < 0.1
    assert collapsed["fid_raw2d_2k"] > 100 * perfect["fid_raw2d_2k"]
    assert collapsed["kid_raw2d_2k"] > 20 * collapsed["kid_raw2d_2k_std"]


def test_unknown_metric_is_a_user_error():
    config = load_config("grid25", ["data.n_samples=100"])
    with pytest.raises(ConfigError, match="unknown metric"):
        evaluate(MixtureSampler(), config, metrics=["fidd"], n=100)
    with pytest.raises(ConfigError, match="no metric asked for"):
        evaluate(MixtureSampler(), config, metrics=[], n=100)


def test_image_folders_need_the_inception_weights(tmp_path, monkeypatch):
    monkeypatch.delenv("GANKIT_INCEPTION_WEIGHTS", raising=False)
    np.save(tmp_path / "images.npy", np.zeros((8, 1, 28, 28), dtype=np.uint8))
    config = load_config("mnist", ["data.name=npy", f"data.path={tmp_path / 'images.npy'}"])
    with pytest.raises(CheckpointError, match="GANKIT_INCEPTION_WEIGHTS"):
        evaluate(ImageBank(), config, metrics=["fid"], n=8)
    with pytest.raises(ConfigError, match="apply to image data"):
        evaluate(MixtureSampler(), load_config("grid25", ["data.n_samples=100"]), metrics=["fid"],
                           n=100, features=FeatureOptions(tmp_path / "w.pt"))


def test_inception_weights_switch_images_to_the_inception_protocol(tmp_path):
    from gankit.metrics.features import InceptionV3FID

    torch.manual_seed(0)
    torch.save(InceptionV3FID().state_dict(), tmp_path / "inception.pt")  # random weights: the plumbing, not FID
    results = evaluate(ImageBank(), load_config("mnist"), metrics=["fid", "is"], n=6, seed=0,
                                 features=FeatureOptions(tmp_path / "inception.pt"))
    assert set(results) == {"fid_inception_6", "is_inception_6", "is_inception_6_std"}
    assert results["fid_inception_6"] >= 0


def test_quantized_protocols_round_both_sides_to_8_bits_and_say_so(tmp_path):
    """`--quantize`: the names end in _q8 and the scores are those of the images rounded to 256 levels."""
    levels = torch.arange(256.0) / 127.5 - 1
    torch.testing.assert_close(quantize_8bit(levels), levels, rtol=0, atol=1e-6)  # 8-bit images pass unchanged
    x = torch.rand(1000, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert float((quantize_8bit(x) - x).abs().max()) <= 1 / 255 + 1e-6
    torch.testing.assert_close(quantize_8bit(quantize_8bit(x)), quantize_8bit(x))

    class Blurred(ImageBank):  # between the 8-bit levels, so rounding changes the scores
        def forward(self, z):
            return super().forward(z) * 0.9937

    config = load_config("mnist")
    plain = evaluate(Blurred(), config, metrics=["fid", "is"], n=200)
    quantized = evaluate(Blurred(), config, metrics=["fid", "is"], n=200, features=FeatureOptions(quantize=True))
    assert set(quantized) == {"fid_mnist_q8_200", "is_mnist_q8_200", "is_mnist_q8_200_std"}

    class Rounded(Blurred):  # the same draws, rounded before they reach the plain protocol
        def forward(self, z):
            return quantize_8bit(super().forward(z))

    by_hand = evaluate(Rounded(), config, metrics=["fid", "is"], n=200)
    assert quantized["fid_mnist_q8_200"] == pytest.approx(by_hand["fid_mnist_200"], rel=1e-6)
    assert quantized["is_mnist_q8_200"] == pytest.approx(by_hand["is_mnist_200"], rel=1e-6)
    assert quantized["fid_mnist_q8_200"] != pytest.approx(plain["fid_mnist_200"], rel=1e-6)
    with pytest.raises(ConfigError, match="apply to image data"):
        evaluate(MixtureSampler(), load_config("grid25", ["data.n_samples=100"]), metrics=["fid"], n=100,
                 features=FeatureOptions(quantize=True))


def test_gankit_eval_writes_eval_json_and_training_logs_eval_columns(tmp_path, gankit):
    config = load_config("grid25", ["data.n_samples=600", "train.batch_size=64", "train.log_every=2",
                                    "train.eval_every=4", "train.eval_n=300"], steps=4)
    run = train(config, tmp_path / "run", progress=False)
    with run.metrics_path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["step"] for r in rows] == ["2", "4"]
    assert rows[0]["eval/modes_grid25_300"] == "" and rows[1]["eval/modes_grid25_300"] != ""
    assert "eval/fid_raw2d_300" in rows[0]

    result = gankit("eval", str(run.path), "--metrics", "fid,modes", "--n", "300")
    assert result.returncode == 0, result.stderr
    report = json.loads((run.path / "eval.json").read_text())
    assert report["step"] == 4
    assert set(report["metrics"]) == {"fid_raw2d_300", "modes_grid25_300", "hq_fraction_grid25_300",
                                      "mode_kl_grid25_300"}
    assert "fid_raw2d_300" in result.stdout
    assert_user_error(gankit("eval", str(run.path), "--metrics", "fid,bogus"), "unknown metric(s) bogus")
    assert_user_error(gankit("eval", str(run.path), "--quantize"), "--quantize apply to image data")


class ImageBank(nn.Module):
    """A "generator" that returns real MNIST-sample images (optionally of one digit only), picked by z."""

    latent_dim = 100

    def __init__(self, digit: int | None = None) -> None:
        super().__init__()
        from gankit.data import load_mnist_sample

        images, labels = load_mnist_sample(with_labels=True)
        self.register_buffer("images", images if digit is None else images[labels == digit])
        self.anchor = nn.Parameter(torch.zeros(()))

    def forward(self, z):
        pick = (torch.special.ndtr(z[:, 0]) * len(self.images)).long().clamp(max=len(self.images) - 1)
        return self.images[pick] + self.anchor


def test_shipped_mnist_features_separate_diverse_from_one_digit():
    config = load_config("mnist")
    metrics = ["fid", "is", "prdc"]
    diverse = evaluate(ImageBank(), config, metrics=metrics, n=1000, seed=3)
    ones = evaluate(ImageBank(digit=1), config, metrics=metrics, n=1000, seed=3)
    assert diverse["is_mnist_1k"] > 8.5  # ten classes, confidently recognised
    assert ones["is_mnist_1k"] < 1.5  # one class
    assert ones["precision_mnist_1k"] > 0.8  # real 1s are realistic...
    assert ones["recall_mnist_1k"] < 0.3 and ones["coverage_mnist_1k"] < 0.3  # ...but cover a tenth of the data
    for key in ("precision", "recall", "coverage"):
        assert diverse[f"{key}_mnist_1k"] > 0.9, key  # real images against real images
    assert diverse["fid_mnist_1k"] < 2.0
    assert ones["fid_mnist_1k"] > 50 * diverse["fid_mnist_1k"]


def test_stacked_mnist_runs_are_scored_on_the_1000_triples():
    from gankit.data import stacked_mnist

    config = load_config("mnist", ["data.name=stacked_mnist", "data.n_samples=3000"])
    real_images, _ = stacked_mnist(3000, seed=5)
    bank = ImageBank()
    bank.images = real_images
    diverse = evaluate(bank, config, metrics=["fid", "modes"], n=3000, seed=2)
    one = ImageBank()
    one.images = real_images[:1]
    single = evaluate(one, config, metrics=["modes"], n=3000, seed=2)
    # 3,000 draws with replacement from the 3,000-image bank reach ≈ 3000·(1 − e⁻¹) ≈ 1,900 distinct images,
    # whose triples cover ≈ 1000·(1 − e^−1.9) ≈ 850 of the 1,000 modes.
    assert 800 <= diverse["modes_stacked_mnist_3k"] <= 900
    assert single["modes_stacked_mnist_3k"] == 1
    assert single["mode_kl_stacked_mnist_3k"] == pytest.approx(math.log(1000), rel=1e-9)
    assert "fid_mnist3_3k" in diverse


def test_any_module_can_serve_as_the_feature_space():
    from gankit.metrics import ModuleFeatures
    from gankit.metrics.evaluate import FeatureSpace

    torch.manual_seed(0)
    projection = nn.Linear(2, 4)
    space = FeatureSpace("mine", ModuleFeatures(projection))
    config = load_config("grid25", ["data.n_samples=500"])
    results = evaluate(MixtureSampler(), config, metrics=["fid"], n=500, space=space)
    assert set(results) == {"fid_mine_500"}
    # Same seed, same numbers; a generator drawing from the data itself scores ≈ 0 in any feature space.
    same = evaluate(MixtureSampler(), config, metrics=["fid"], n=500, space=space)
    assert results == same and results["fid_mine_500"] < 0.1


def test_too_few_samples_for_a_metric_is_one_clear_error():
    config = load_config("grid25", ["data.n_samples=100"])
    with pytest.raises(ConfigError, match="cannot compute the metrics with n=4"):
        evaluate(MixtureSampler(), config, metrics=["prdc"], n=4)


def test_a_kept_space_computes_the_real_features_once_per_data_and_subset():
    from gankit.kinds.gan_players import load_real_data
    from gankit.metrics.evaluate import FeatureSpace

    batches = []

    def features(x):
        batches.append(len(x))
        return x.float()

    space = FeatureSpace("counted", features)
    config = load_config("grid25", ["data.n_samples=400"])
    data = load_real_data(config.data, config.seed)
    first = evaluate(MixtureSampler(), config, metrics=["fid", "prdc"], n=300, space=space, real_data=data)
    again = evaluate(MixtureSampler(), config, metrics=["fid", "prdc"], n=300, space=space, real_data=data)
    assert first == again and batches == [300, 300, 300]  # real once, fake twice
    # another subset (seed), another size or another data tensor is computed afresh, and scores as uncached
    other = load_real_data(config.data, config.seed)
    fresh = FeatureSpace("counted", lambda x: x.float())
    for kwargs in ({"seed": 1}, {"n": 200}, {"real_data": other}):
        args = {"n": 300, "seed": 0, "real_data": data, **kwargs}
        batches.clear()
        cached = evaluate(MixtureSampler(), config, metrics=["fid"], space=space, **args)
        assert batches == [args["n"], args["n"]]
        assert cached == evaluate(MixtureSampler(), config, metrics=["fid"], space=fresh, **args)
