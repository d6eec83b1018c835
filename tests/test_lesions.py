"""Synthetic lesions for a data-starved detector: the labelled phantoms, the CNN detector, the soft-tissue
window, the memorization check of synthetic rows, and `gankit rebalance phantoms` end to end."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from gankit.data.phantoms import HIGH_CONTRAST, LOW_CONTRAST, TISSUES, lesion_phantoms, make_phantoms
from gankit.errors import ConfigError, DataError
from gankit.rebalance import load_labeled
from gankit.rebalance.detector import fit_cnn
from gankit.rebalance.evaluation import class_memorization
from gankit.rebalance.inputs import SOFT_TISSUE_WINDOW


def test_lesion_labels_match_the_tissue_maps_and_the_contrast_is_the_one_asked():
    for contrast in (LOW_CONTRAST, HIGH_CONTRAST):
        phantoms = make_phantoms(60, 64, seed=2, lesion_rate=0.5, lesion_contrast=contrast)
        has = (phantoms.tissues == TISSUES.index("lesion")).flatten(1).any(1)
        assert torch.equal(has, phantoms.lesion) and 15 < int(has.sum()) < 45
        for i in has.nonzero().flatten().tolist():
            lesion = phantoms.tissues[i] == TISSUES.index("lesion")
            ring = torch.from_numpy(ndimage.binary_dilation(lesion.numpy(), iterations=2)) & ~lesion
            ring &= phantoms.tissues[i] == TISSUES.index("organ")  # the organ around it
            step = abs(float(phantoms.hu[i, 0][lesion].mean() - phantoms.hu[i, 0][ring].mean()))
            assert contrast[0] - 25 < step < contrast[1] + 25, (contrast, step)  # ± the organ's texture
    with pytest.raises(DataError, match="lesion_contrast"):
        make_phantoms(2, 64, lesion_contrast=(40.0, 20.0))
    images, labels = lesion_phantoms(40, 64)
    again = make_phantoms(40, 64, seed=0, lesion_rate=0.5, lesion_contrast=HIGH_CONTRAST)
    assert torch.equal(images, again.images()) and torch.equal(labels, again.lesion.long())


def test_the_builtin_phantoms_hold_both_classes_and_a_soft_tissue_window():
    from gankit.rebalance.workflow import _features

    data = load_labeled("phantoms")
    assert data.class_names == ["no_lesion", "lesion"] and data.x.shape == (2000, 1, 64, 64)
    assert 0.4 < data.y.mean() < 0.6 and data.classifier == "cnn" and data.window == SOFT_TISSUE_WINDOW
    seen = _features(data, data.x[:3], None)
    low, high = SOFT_TISSUE_WINDOW  # 40 HU (0.04) is the window's centre, 0; air and bone saturate
    assert np.allclose(seen, np.clip((data.x[:3] - low) / (high - low) * 2 - 1, -1, 1))
    assert seen.min() == -1 and seen.max() == 1


def _blob_images(n, seed):
    """Noise images, half of them with a 3x3 blob somewhere, bright or dark: a pattern a CNN finds wherever it is,
    and that moves no pixel's mean (so a linear model on pixels has nothing to read)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.3, (n, 1, 16, 16)).astype(np.float32)
    y = np.arange(n) % 2
    for i in np.flatnonzero(y):
        r, c = rng.integers(2, 14, 2)
        x[i, 0, r - 1 : r + 2, c - 1 : c + 2] += rng.choice([-1.5, 1.5])
    return x, y


def test_the_cnn_detector_finds_a_pattern_anywhere_where_a_linear_model_cannot(monkeypatch):
    from gankit.rebalance import detector
    from gankit.rebalance.evaluation import downstream_scores

    monkeypatch.setitem(detector.CNN_SETTINGS, "steps", 150)
    x, y = _blob_images(400, 0)
    x_test, y_test = _blob_images(200, 1)
    predicted = fit_cnn(x, y, 2, seed=0)(x_test)
    logistic = downstream_scores(x, y, x_test, y_test, 2)
    assert (predicted == y_test).mean() > 0.9 and logistic["balanced_accuracy"] < 0.65
    assert np.array_equal(predicted, fit_cnn(x, y, 2, seed=0)(x_test))  # deterministic by seed


def test_memorization_reads_copies_as_one_and_fresh_draws_as_about_a_half():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(200, 5))
    labels = np.repeat([0, 1], 100)
    copies = real[labels == 1][:50] + 1e-6
    fresh = rng.normal(size=(100, 5))
    result = class_memorization(real, labels, np.concatenate([copies, fresh]), np.repeat([1, 0], [50, 100]),
                                ["normal", "rare"])
    assert result["rare"]["copy_fraction"] == 1.0 and result["rare"]["median"] < 1e-5
    assert 0.3 < result["normal"]["copy_fraction"] < 0.7  # fresh draws from the same distribution
    assert result["rare"]["synthetic_rows"] == 50 and result["rare"]["real_rows"] == 100


def test_rebalance_phantoms_end_to_end_with_the_cnn_detector(tmp_path, monkeypatch):
    from gankit.rebalance import detector, rebalance

    monkeypatch.setitem(detector.CNN_SETTINGS, "steps", 20)  # the table's budget is 500; this checks the plumbing
    result = rebalance("phantoms", out=tmp_path / "out", imbalance="lesion=0.05", steps=2,
                       overrides=["model.g_width=4", "model.d_width=4", "train.batch_size=8"])
    summary = result.summary
    assert summary["settings"]["classifier"] == "cnn" and summary["evaluation"]["classifier"].startswith("CNN(")
    before = summary["counts"]["before"]
    assert before["lesion"] == pytest.approx(0.05 * summary["counts"]["input"]["lesion"] * 0.8, abs=2)
    assert summary["counts"]["after"]["lesion"] == before["no_lesion"]
    memorization = summary["evaluation"]["memorization"]["lesion"]
    assert memorization["synthetic_rows"] == before["no_lesion"] - before["lesion"]
    assert 0 <= memorization["copy_fraction"] <= 1 and "copy fraction of the synthetic rows" in result.table
    assert set(summary["evaluation"]["sets"]) == {"real", "real+synthetic", "synthetic", "real+oversampled"}
    with pytest.raises(ConfigError, match="--classifier cnn reads images"):
        rebalance("wine", out=tmp_path / "wine", classifier="cnn")
    with pytest.raises(ConfigError, match="unknown --classifier 'tree'"):
        rebalance("phantoms", out=tmp_path / "tree", classifier="tree")
    assert not (tmp_path / "wine").exists() and not (tmp_path / "tree").exists()
