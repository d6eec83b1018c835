"""The FID Inception-v3 architecture and its weight loader, with random weights (the real file is never downloaded)."""

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gankit.errors import CheckpointError, DataError
from gankit.metrics.features import INCEPTION_ENV_VAR, InceptionFeatures, InceptionV3FID, load_inception
from gankit.metrics.features.inception import INCEPTION_WEIGHTS_FILE, InceptionE, _avg_pool

DOCUMENTED_SHAPES = {
    "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
    "Conv2d_1a_3x3.bn.running_mean": (32,),
    "Conv2d_2b_3x3.conv.weight": (64, 32, 3, 3),
    "Conv2d_4a_3x3.conv.weight": (192, 80, 3, 3),
    "Mixed_5b.branch1x1.conv.weight": (64, 192, 1, 1),
    "Mixed_5b.branch5x5_1.conv.weight": (48, 192, 1, 1),
    "Mixed_5b.branch5x5_2.conv.weight": (64, 48, 5, 5),
    "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
    "Mixed_5d.branch_pool.conv.weight": (64, 288, 1, 1),
    "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
    "Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
    "Mixed_6e.branch7x7dbl_5.conv.weight": (192, 192, 1, 7),
    "Mixed_7a.branch3x3_2.conv.weight": (320, 192, 3, 3),
    "Mixed_7a.branch7x7x3_4.conv.weight": (192, 192, 3, 3),
    "Mixed_7b.branch1x1.conv.weight": (320, 1280, 1, 1),
    "Mixed_7b.branch3x3_2a.conv.weight": (384, 384, 1, 3),
    "Mixed_7b.branch3x3_2b.conv.weight": (384, 384, 3, 1),
    "Mixed_7b.branch3x3dbl_3a.bn.weight": (384,),
    "Mixed_7b.branch3x3dbl_3b.bn.running_var": (384,),
    "Mixed_7c.branch3x3dbl_1.conv.weight": (448, 2048, 1, 1),
    "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
    "fc.weight": (1008, 2048),
    "fc.bias": (1008,),
}


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    net = InceptionV3FID()
    for name, buffer in net.named_buffers():  # non-default statistics, so loading them is visible
        if name.endswith("running_mean"):
            buffer.normal_(0.0, 0.1)
        elif name.endswith("running_var"):
            buffer.uniform_(0.5, 1.5)
    return net.eval()


@pytest.fixture(scope="module")
def weights_file(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("inception") / INCEPTION_WEIGHTS_FILE
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def images():
    return torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(1)) * 2 - 1


def test_features_and_probabilities_have_the_documented_shapes(model, images):
    with torch.no_grad():
        features, probabilities = model.features(images[:2]), model.probabilities(images[:2])
    assert features.shape == (2, 2048) and torch.isfinite(features).all() and (features >= 0).all()
    assert not torch.allclose(features[0], features[1])
    assert probabilities.shape == (2, 1008) and (probabilities >= 0).all()
    assert torch.allclose(probabilities.sum(1), torch.ones(2), atol=1e-5)


@pytest.mark.parametrize(("channels", "size"), [(1, 28), (3, 28), (1, 64), (3, 299)])
def test_grayscale_and_rgb_of_any_size_are_resized_to_299(channels, size):
    x = torch.rand(2, channels, size, size) * 2 - 1
    assert InceptionV3FID.preprocess(x).shape == (2, 3, 299, 299)


def test_preprocess_repeats_grayscale_and_resizes_bilinearly():
    gray = torch.rand(2, 1, 28, 28) * 2 - 1
    expected = F.interpolate(gray, size=(299, 299), mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
    torch.testing.assert_close(InceptionV3FID.preprocess(gray), expected, rtol=0, atol=1e-6)  # kernels may round differently
    at_299 = torch.rand(1, 3, 299, 299)
    assert torch.allclose(InceptionV3FID.preprocess(at_299), at_299)
    for bad in (torch.zeros(2, 2, 28, 28), torch.zeros(3, 28, 28)):
        with pytest.raises(ValueError, match="1 or 3"):
            InceptionV3FID.preprocess(bad)


def test_probabilities_are_the_softmax_of_the_bias_free_logits_as_in_the_original_is_code(model, images):
    """Original IS: softmax(pool3 @ W). A large fc bias changes `forward` (the classifier) but not the IS input."""
    with torch.no_grad():
        features = model.features(images).double().numpy()
        weight = model.fc.weight.double().numpy()
        logits = features @ weight.T  # by hand, in float64
        expected = np.exp(logits - logits.max(1, keepdims=True))
        expected /= expected.sum(1, keepdims=True)
        np.testing.assert_allclose(model.probabilities(images).double().numpy(), expected, atol=1e-5)
        biased = InceptionV3FID()
        biased.load_state_dict(model.state_dict())
        biased.eval().fc.bias.copy_(torch.linspace(-5, 5, 1008))
        np.testing.assert_allclose(biased.probabilities(images).numpy(), model.probabilities(images).numpy(),
                                   atol=1e-6)
        assert not torch.allclose(torch.softmax(biased(images), 1), biased.probabilities(images), atol=1e-3)


def test_inputs_outside_minus_one_one_are_refused_in_one_line():
    inside = torch.full((1, 1, 8, 8), 1 + 5e-4)  # within the float-rounding tolerance
    assert InceptionV3FID.preprocess(inside).shape == (1, 3, 299, 299)
    for low, high in ((0.0, 255.0), (-1.01, 0.5), (0.0, 1.002)):
        bad = torch.tensor([low, high]).view(1, 1, 1, 2)
        with pytest.raises(DataError, match=r"in \[-1, 1\].*x / 127.5 - 1") as raised:
            InceptionV3FID.preprocess(bad)
        assert "\n" not in str(raised.value) and f"{high:.4g}" in str(raised.value)


def test_grayscale_gives_the_features_of_its_rgb_copy(model):
    gray = torch.rand(2, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(model.features(gray), model.features(gray.repeat(1, 3, 1, 1)), atol=1e-5)


def test_output_does_not_depend_on_the_batch_split(model, images):
    one_batch = InceptionFeatures(model=model, batch_size=3)
    two_batches = InceptionFeatures(model=model, batch_size=2)
    assert torch.allclose(one_batch(images), two_batches.features(images), atol=1e-4)
    assert torch.allclose(one_batch.probabilities(images), two_batches.probabilities(images), atol=1e-6)


def test_pool_branches_follow_the_tf_graph(model):
    ones = torch.ones(1, 4, 5, 5)
    assert torch.equal(_avg_pool(ones), ones)  # borders stay 1: padding is not counted
    assert not model.Mixed_7b.max_pool and model.Mixed_7c.max_pool
    x = torch.randn(1, 4, 5, 5, generator=torch.Generator().manual_seed(2))
    for max_pool, pool in ((False, _avg_pool), (True, lambda t: F.max_pool2d(t, 3, stride=1, padding=1))):
        block = InceptionE(4, max_pool=max_pool).eval()
        with torch.no_grad():
            out = block(x)
            assert out.shape == (1, 2048, 5, 5)
            assert torch.allclose(out[:, -192:], block.branch_pool(pool(x)))  # the pool branch comes last


def test_state_dict_has_the_pytorch_fid_names_shapes_and_counts(model):
    state = model.state_dict()
    for key, shape in DOCUMENTED_SHAPES.items():
        assert tuple(state[key].shape) == shape, key
    assert not any(key.startswith("AuxLogits") for key in state)
    parameters = list(model.parameters())
    assert (len(parameters), sum(p.numel() for p in parameters), len(state)) == (284, 23_850_960, 566)
    assert all(m.bn.eps == 0.001 and m.conv.bias is None for m in model.modules() if hasattr(m, "bn"))


def test_saved_state_dict_loads_back_with_identical_outputs(model, weights_file, images):
    loaded = load_inception(weights_file)
    assert not loaded.training
    with torch.no_grad():
        assert torch.equal(loaded(images[:2]), model(images[:2]))
    extractor = InceptionFeatures(str(weights_file), batch_size=2)
    assert torch.equal(extractor(images[:2]), model.features(images[:2]))


def test_environment_variable_gives_the_path(model, weights_file, monkeypatch):
    monkeypatch.setenv(INCEPTION_ENV_VAR, str(weights_file))
    loaded = load_inception()
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))


@pytest.mark.parametrize("given", [None, "missing.pth"])
def test_missing_weights_say_how_to_get_them(given, tmp_path, monkeypatch):
    monkeypatch.delenv(INCEPTION_ENV_VAR, raising=False)
    with pytest.raises(CheckpointError) as caught:
        load_inception(None if given is None else tmp_path / given)
    message = str(caught.value)
    assert INCEPTION_ENV_VAR in message and "--inception-weights" in message and INCEPTION_WEIGHTS_FILE in message
    assert "\n" not in message


def test_missing_env_var_file_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv(INCEPTION_ENV_VAR, str(tmp_path / "nowhere.pth"))
    with pytest.raises(CheckpointError, match="nowhere.pth"):
        load_inception()


def test_wrong_shape_or_unexpected_key_is_named(model, tmp_path):
    path = tmp_path / "w.pth"
    torch.save({"fc.weight": torch.zeros(1000, 2048), "fc.bias": torch.zeros(1000)}, path)
    with pytest.raises(CheckpointError, match=r"not the FID Inception.*'fc\.weight' has shape \(1000, 2048\)"):
        load_inception(path)
    torch.save({"AuxLogits.fc.weight": torch.zeros(1000, 768)}, path)
    with pytest.raises(CheckpointError, match=r"unexpected key 'AuxLogits\.fc\.weight'"):
        load_inception(path)


def test_missing_key_is_named_but_missing_batch_counters_are_fine(model, tmp_path):
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / "w.pth"
    torch.save(state, path)
    assert torch.equal(load_inception(path).fc.weight, model.fc.weight)
    del state["Mixed_6e.branch_pool.bn.running_var"]
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"missing key 'Mixed_6e\.branch_pool\.bn\.running_var'"):
        load_inception(path)


class _NotATensor:
    pass


def test_unsafe_or_foreign_files_are_refused(tmp_path):
    path = tmp_path / "w.pth"
    torch.save({"fc.weight": _NotATensor()}, path)
    with pytest.raises(CheckpointError, match="cannot be read safely"):
        load_inception(path)
    path.write_bytes(pickle.dumps(_NotATensor(), protocol=2))
    with pytest.raises(CheckpointError, match="cannot be read safely"):
        load_inception(path)
    torch.save([torch.zeros(1)], path)
    with pytest.raises(CheckpointError, match="not a dict of tensors"):
        load_inception(path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        load_inception(path)
