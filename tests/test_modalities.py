"""Modality translation on CT phantoms: the contrast tables, the MR bias field and Rician noise against their
definitions, the threshold segmentation, Dice by hand, and the unpaired phantoms source end to end."""

import numpy as np
import pytest
import torch

from gankit.config import load_config
from gankit.data import modalities
from gankit.data.modalities import CONTRASTS, RICIAN_SIGMA, render, segment
from gankit.data.phantoms import TISSUES, make_phantoms
from gankit.errors import ConfigError
from gankit.metrics.evaluate import FeatureOptions
from gankit.metrics.segmentation import dice_per_label

pytest.importorskip("skimage")  # the unpaired baselines and the run's evaluation


def _blocks(size=24):
    """A hand-made tissue map: six vertical stripes, one per tissue."""
    stripe = np.repeat(np.arange(len(TISSUES)), size // len(TISSUES))
    return torch.from_numpy(np.tile(stripe, (size, 1)))[None].long()


@pytest.fixture
def clean_mr(monkeypatch):
    """MR without bias field and noise, so its levels can be read exactly."""
    monkeypatch.setattr(modalities, "BIAS_STRENGTH", 0.0)
    monkeypatch.setattr(modalities, "RICIAN_SIGMA", 0.0)


def test_each_tissue_is_rendered_at_its_contrast_table_level_and_both_share_the_texture(clean_mr):
    tissues = _blocks()
    ct, mr = render(tissues, "ct", seed=3), render(tissues, "mr", seed=3)
    textured = [TISSUES.index("soft_tissue"), TISSUES.index("organ")]
    for label, name in enumerate(TISSUES):
        pixels = tissues[0] == label
        for image, modality in ((ct, "ct"), (mr, "mr")):
            values = image[0, 0][pixels].double()
            level = 2 * CONTRASTS[modality][name] - 1
            if label in textured:  # level + texture: 2 x 0.02 std in [-1, 1] units around the level
                assert abs(values.mean() - level) < 0.03 and 0.01 < values.std() < 0.08
            else:
                assert torch.allclose(values, torch.full_like(values, level), atol=1e-6), (modality, name)
    soft = np.isin(tissues[0], textured)
    ct_texture = ct[0, 0][soft] - torch.tensor([2 * CONTRASTS["ct"][TISSUES[t]] - 1 for t in tissues[0][soft]])
    mr_texture = mr[0, 0][soft] - torch.tensor([2 * CONTRASTS["mr"][TISSUES[t]] - 1 for t in tissues[0][soft]])
    assert torch.allclose(ct_texture, mr_texture, atol=1e-6)  # the same anatomy in both
    # CT: bone bright, fat dark; MR (T1-like): fat bright, bone dark
    assert CONTRASTS["ct"]["bone"] == max(CONTRASTS["ct"].values()) and CONTRASTS["mr"]["fat"] == max(
        CONTRASTS["mr"].values())
    assert render(tissues, "ct", seed=3).equal(ct) and not render(tissues, "ct", seed=4).equal(ct)
    with pytest.raises(ConfigError, match="unknown modality 'pet'"):
        render(tissues, "pet")


def test_the_bias_field_is_one_at_the_centre_and_smooth(monkeypatch):
    monkeypatch.setattr(modalities, "RICIAN_SIGMA", 0.0)
    tissues = torch.full((1, 33, 33), TISSUES.index("fat"))
    mr = (render(tissues, "mr")[0, 0].double() + 1) / 2
    field = mr / CONTRASTS["mr"]["fat"]
    assert field[16, 16] == pytest.approx(1.0, abs=1e-6)  # exp of a quadratic without a constant term
    bound = np.exp(5 * modalities.BIAS_STRENGTH)
    assert 1 / bound <= field.min() and field.max() <= bound and field.std() > 0.01
    # a quadratic in (x, y): its discrete second differences along x are constant
    second = field.log()[:, 2:] - 2 * field.log()[:, 1:-1] + field.log()[:, :-2]
    assert torch.allclose(second, second[0, 0].expand_as(second), atol=1e-5)


def test_rician_noise_has_the_rayleigh_mean_on_air_and_the_gaussian_spread_on_bright_tissue(monkeypatch):
    monkeypatch.setattr(modalities, "BIAS_STRENGTH", 0.0)
    air = (render(torch.zeros(40, 32, 32, dtype=torch.long), "mr").double() + 1) / 2
    assert air.mean() == pytest.approx(RICIAN_SIGMA * np.sqrt(np.pi / 2), rel=0.03)  # Rayleigh mean
    assert air.var() == pytest.approx((2 - np.pi / 2) * RICIAN_SIGMA**2, rel=0.05)
    fat = (render(torch.full((40, 32, 32), TISSUES.index("fat")), "mr").double() + 1) / 2
    level = CONTRASTS["mr"]["fat"]
    assert fat.std() == pytest.approx(RICIAN_SIGMA, rel=0.05)  # far from 0, Rician is nearly Gaussian
    assert fat.mean() == pytest.approx(np.sqrt(level**2 + RICIAN_SIGMA**2), abs=2e-3)


def test_segmentation_reads_tissues_back_from_noiseless_renderings(clean_mr, monkeypatch):
    monkeypatch.setattr(modalities, "TEXTURE_STD", 0.0)
    tissues = make_phantoms(4, 48, seed=1, lesion_rate=1.0).tissues
    for modality in ("ct", "mr"):
        assert torch.equal(segment(render(tissues, modality), modality), tissues)
    # thresholds halfway between neighbouring levels: CT's fat (0.30) / soft tissue (0.50) boundary is 0.40
    images = torch.tensor([0.39, 0.41]).mul(2).sub(1).view(1, 1, 1, 2)
    assert segment(images, "ct").flatten().tolist() == [TISSUES.index("fat"), TISSUES.index("soft_tissue")]


def test_dice_per_label_by_hand():
    truth = torch.tensor([[[0, 0, 1, 1], [2, 2, 2, 0]]])
    predicted = torch.tensor([[[0, 1, 1, 1], [2, 2, 0, 3]]])
    scores = dice_per_label(predicted, truth, ("a", "b", "c", "d", "e"))
    # a: P={0,6}, T={0,1,7}: 2*1/(2+3); b: P={1,2,3}, T={2,3}: 2*2/5; c: 2*2/(2+3); d: only predicted; e: absent
    assert scores == pytest.approx({"a": 0.4, "b": 0.8, "c": 0.8, "d": 0.0})
    with pytest.raises(ValueError, match="do not align"):
        dice_per_label(predicted, truth[..., :2], ("a",))


def _phantom_config(*sets, steps=None):
    return load_config("mnist_cycle", ["data.name=phantoms", "data.translation=null", "data.n_images=60",
                                       "data.image_size=32", "data.test_fraction=0.2", *sets], steps=steps)


def test_the_phantom_domains_render_different_phantoms_and_the_truth_is_the_other_rendering():
    from gankit.kinds.unpaired_data import load_unpaired_data

    data = load_unpaired_data(_phantom_config().data, 0)
    phantoms = make_phantoms(60, 32, seed=0)
    ct, mr = render(phantoms.tissues, "ct"), render(phantoms.tissues, "mr")
    rows = {name: {int(np.argmin([(x - image).abs().sum() for x in pool])) for image in images}
            for name, images, pool in (("a", data.train_a, ct), ("b", data.train_b, mr), ("test", data.test_a, ct))}
    assert len(rows["a"]) == len(rows["b"]) == 24 and len(rows["test"]) == 12
    assert not rows["a"] & rows["b"] and not (rows["a"] | rows["b"]) & rows["test"]  # no phantom in two sets
    test = sorted(rows["test"])
    assert torch.equal(data.test_a, ct[test]) and torch.equal(data.truth_ab, mr[test])
    assert torch.equal(data.test_b, mr[test]) and torch.equal(data.tissues, phantoms.tissues[test])
    assert data.tag == "phantoms_ct_mr" and data.modalities == ("ct", "mr")
    with pytest.raises(ConfigError, match="remove it"):
        load_config("mnist_cycle", ["data.name=phantoms"])  # the preset's translation: invert is mnist's
    with pytest.raises(ConfigError, match="counts the phantoms"):
        load_config("mnist_cycle", ["data.n_images=10"])


def test_a_phantom_cyclegan_run_reports_dice_per_tissue_beside_its_baselines(tmp_path):
    from gankit.kinds.unpaired_data import load_unpaired_data
    from gankit.runs import restore_run
    from gankit.train.run import train

    tiny = ["model.blocks=1", "model.g_width=4", "model.d_width=4", "train.batch_size=4", "train.eval_every=null",
            "train.tensorboard=false", "train.sample_every=2", "train.checkpoint_every=2"]
    run = train(_phantom_config(*tiny, steps=2), tmp_path / "run", progress=False).path
    restored = restore_run(run)
    scores = restored.kind.evaluate(restored.config, restored.players, restored.meta, (), n=0, seed=0,
                                    features=FeatureOptions())
    data = load_unpaired_data(restored.config.data, 0)
    suffix = "phantoms_ct_mr_12"
    # the true MR rendering, segmented in MR's table, against the tissue maps by hand
    truth_seg = segment(data.truth_ab, "mr")
    for name in ("air", "fat", "soft_tissue", "organ", "bone"):
        label = TISSUES.index(name)
        p, t = truth_seg == label, data.tissues == label
        expected = 2 * (p & t).sum().item() / (p.sum() + t.sum()).item()
        assert scores[f"dice_{name}_true_ab_{suffix}"] == pytest.approx(expected)
    assert scores[f"dice_true_ba_{suffix}"] > 0.95  # CT renderings segment almost exactly (only texture)
    # the monotone histogram matching cannot swap bone and fat: both are lost going to MR
    assert scores[f"dice_bone_histmatch_ab_{suffix}"] < 0.2 and scores[f"dice_fat_histmatch_ab_{suffix}"] < 0.2
    assert {f"dice_ab_{suffix}", f"dice_ba_{suffix}", f"psnr_ab_{suffix}", f"cycle_aba_{suffix}"} <= set(scores)
