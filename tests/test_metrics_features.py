"""The shipped digit classifiers and the feature-extractor wrappers (loads shipped weights; never trains)."""

import pytest
import torch
from torch import nn

from gankit.data.images import load_digits, load_mnist_sample
from gankit.errors import CheckpointError, ConfigError
from gankit.metrics.features import (
    ClassifierFeatures,
    DigitClassifier,
    FeatureExtractor,
    ModuleFeatures,
    load_classifier,
    weights_path,
)
from gankit.metrics.features.classifier import stratified_split

LOADERS = {"mnist": lambda: load_mnist_sample(28, with_labels=True), "digits": lambda: load_digits(8, with_labels=True)}


@pytest.fixture(scope="module", params=["mnist", "digits"])
def shipped(request):
    name = request.param
    images, labels = LOADERS[name]()
    return name, load_classifier(name), images, labels


def test_mnist_split_holds_out_the_last_100_of_each_digit():
    _, labels = load_mnist_sample(28, with_labels=True)
    train, held_out = stratified_split(labels, 0.2)
    assert (len(train), len(held_out)) == (4000, 1000)
    assert torch.equal(held_out, torch.cat([torch.arange(500 * d + 400, 500 * d + 500) for d in range(10)]))
    assert torch.equal(torch.bincount(labels[held_out]), torch.full((10,), 100))


def test_shipped_classifier_reaches_97_percent_on_its_held_out_split(shipped):
    name, model, images, labels = shipped
    _, held_out = stratified_split(labels, 0.2)
    with torch.no_grad():
        accuracy = (model.predict(images[held_out]) == labels[held_out]).float().mean().item()
    assert accuracy >= 0.97, f"{name}: {accuracy:.4f}"


def test_shipped_weights_are_small_and_plain_tensors(shipped):
    name, model, *_ = shipped
    file = weights_path(name)
    assert file.stat().st_size < 400_000
    saved = torch.load(file, weights_only=True)
    assert saved["meta"]["image_size"] == model.image_size
    assert saved["meta"]["held_out_accuracy"] >= 0.97
    assert not model.training


def test_features_probabilities_and_predict_agree(shipped):
    _, model, images, _ = shipped
    x = images[:37]
    with torch.no_grad():
        features, logits, probabilities = model.features(x), model(x), model.probabilities(x)
        predicted = model.predict(x)
    assert features.shape == (37, model.feature_dim) and logits.shape == (37, 10)
    assert torch.allclose(probabilities.sum(dim=1), torch.ones(37), atol=1e-6)
    assert (probabilities >= 0).all()
    assert predicted.dtype == torch.int64 and torch.equal(predicted, logits.argmax(dim=1))


def test_classifier_features_wrapper_matches_the_model():
    wrapper = ClassifierFeatures("digits", batch_size=7)
    images = load_digits(8)[:20]
    assert isinstance(wrapper, FeatureExtractor)
    with torch.no_grad():
        assert torch.allclose(wrapper(images), wrapper.classifier.features(images), atol=1e-6)
        assert torch.allclose(wrapper.probabilities(images), wrapper.classifier.probabilities(images), atol=1e-6)


def test_classifier_rejects_images_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\)"):
        DigitClassifier(8)(torch.zeros(2, 1, 28, 28))


@pytest.mark.parametrize("batch_size", [1, 3, 10, 256])
def test_module_features_equals_the_module_in_any_batch_size(batch_size):
    torch.manual_seed(0)
    module = nn.Linear(5, 4)
    x = torch.randn(10, 5)
    extractor = ModuleFeatures(module, batch_size=batch_size)
    features = extractor(x)
    with torch.no_grad():
        expected = module(x)
    assert features.shape == (10, 4) and features.dtype == torch.float32
    assert torch.allclose(features, expected, rtol=0, atol=1e-6)
    assert not features.requires_grad


def test_module_features_uses_eval_mode_and_restores_each_submodule_mode():
    module = nn.Sequential(nn.Dropout(0.9), nn.BatchNorm1d(3).eval())
    x = torch.ones(50, 3)
    assert torch.allclose(ModuleFeatures(module)(x), x / (1 + 1e-5) ** 0.5)
    assert module.training and module[0].training and not module[1].training


def test_missing_weights_raise_checkpoint_error_with_the_fix(tmp_path):
    with pytest.raises(CheckpointError, match="missing.*train_classifiers.py"):
        load_classifier("mnist", path=tmp_path / "absent.pt")


def test_corrupt_weights_raise_checkpoint_error(tmp_path):
    file = tmp_path / "bad.pt"
    file.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt.*train_classifiers.py"):
        load_classifier("mnist", path=file)
    torch.save({"state_dict": {"x": torch.zeros(1)}, "meta": {"image_size": 28, "width": 32, "feature_dim": 128}}, file)
    with pytest.raises(CheckpointError, match="corrupt or incompatible"):
        load_classifier("mnist", path=file)


def test_unknown_classifier_name_is_a_config_error():
    with pytest.raises(ConfigError, match="mnist, digits"):
        load_classifier("cifar")
