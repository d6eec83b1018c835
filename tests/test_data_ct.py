"""CT phantoms and the CT scanner degradation against closed forms: disc chords, FBP fidelity, Poisson noise."""

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from gankit.data.ct import FIELD_OF_VIEW_MM, MU_WATER, Scan, full_views
from gankit.data.degradations import parse_degradation
from gankit.data.phantoms import TISSUES, make_phantoms, shepp_logan
from gankit.errors import ConfigError, DataError

pytest.importorskip("skimage")


def _disc(size, radius):
    """A disc about pixel size // 2, the centre scikit-image's radon rotates about."""
    coords = np.arange(size) - size // 2
    y, x = np.meshgrid(coords, coords, indexing="ij")
    return (x**2 + y**2 <= radius**2).astype(float)


def test_the_radon_transform_of_a_centred_disc_is_its_chord_length():
    size, radius, contrast = 128, 50.0, 1.5
    disc = _disc(size, radius)
    sinogram = Scan(views=8).sinogram(contrast * disc - 1)  # air outside (μ = 0), μ = 1.5 μ_water inside
    pixel_mm = FIELD_OF_VIEW_MM / size
    offsets = np.arange(size) - size // 2  # the detector bins' offsets from the centre
    chord = 2 * np.sqrt(np.clip(radius**2 - offsets**2, 0, None))
    scale = MU_WATER * contrast * pixel_mm
    inner = np.abs(offsets) < radius - 5  # away from the rim, where the pixelized edge dominates
    for view in range(sinogram.shape[1]):  # every angle sees the same chords
        assert np.allclose(sinogram[inner, view], scale * chord[inner], rtol=0.03)
        # and every projection keeps the disc's mass: the sum of the line integrals is μ × its pixel area
        assert sinogram[:, view].sum() == pytest.approx(scale * disc.sum(), rel=1e-3)


def test_fbp_of_a_full_view_scan_reproduces_the_phantom():
    phantoms = make_phantoms(4, 64, seed=1).images()
    scan = Scan()  # fully sampled: 101 views for 64 pixels, noiseless
    assert scan.view_count(64) == full_views(64) == math.ceil(math.pi / 2 * 64)
    reconstructed = scan(phantoms, torch.Generator().manual_seed(0))
    mse = (reconstructed - phantoms).pow(2).flatten(1).mean(1)
    psnr = 10 * torch.log10(4 / mse)
    assert (psnr > 29).all(), psnr  # ≈30 dB in [-1, 1] units (data range 2): the ramp filter's own error
    # sparse views streak: 30 views lose several dB against the full scan
    sparse = Scan(views=30)(phantoms, torch.Generator().manual_seed(0))
    assert (10 * torch.log10(4 / (sparse - phantoms).pow(2).flatten(1).mean(1)) < psnr - 1).all()


def test_photon_noise_has_the_variance_of_its_poisson_model():
    photons, line_integral = 1e4, 1.2
    sinogram = np.full((64, 400), line_integral)
    noisy = Scan(photons=photons)._noisy(sinogram, torch.Generator().manual_seed(0))
    counts = photons * np.exp(-noisy)
    expected_mean = photons * math.exp(-line_integral)
    assert counts.mean() == pytest.approx(expected_mean, rel=0.01)
    assert counts.var() == pytest.approx(expected_mean, rel=0.05)  # Poisson: variance = mean
    # delta method: var(−log(N/I0)) = 1 / E[N]
    assert noisy.var() == pytest.approx(1 / expected_mean, rel=0.05)


def test_ct_steps_chain_into_one_scan_and_their_mistakes_are_one_line():
    images = make_phantoms(2, 32, seed=0).images()
    chained = parse_degradation("sparse_view:20+photons:1e5")(images, seed=3)
    again = parse_degradation("sparse_view:20+photons:1e5")(images, seed=3)
    assert torch.equal(chained, again) and chained.shape == images.shape
    with pytest.raises(DataError, match="fully sampled by 51 views"):
        parse_degradation("sparse_view:60")(images, seed=0)
    with pytest.raises(ConfigError, match=r"degrees in \(0, 180\]"):
        parse_degradation("limited_angle:200")
    with pytest.raises(DataError, match="square images"):
        parse_degradation("sparse_view:20")(torch.zeros(1, 1, 32, 40), seed=0)
    with pytest.raises(DataError, match="grayscale"):
        parse_degradation("photons:1e4")(torch.zeros(1, 3, 32, 32), seed=0)
    with pytest.raises(ConfigError, match="twice"):
        parse_degradation("photons:1e4+photons:1e5")(images, seed=0)


def test_phantoms_are_deterministic_by_seed_and_anatomically_ordered():
    a, b = make_phantoms(6, 64, seed=4, lesion_rate=0.5), make_phantoms(8, 64, seed=4, lesion_rate=0.5)
    assert torch.equal(a.hu, b.hu[:6]) and torch.equal(a.tissues, b.tissues[:6])  # phantom i depends on (seed, i)
    assert not torch.equal(a.hu, make_phantoms(6, 64, seed=5).hu)
    index = {name: k for k, name in enumerate(TISSUES)}
    for tissues in a.tissues.numpy():
        body = tissues != index["air"]
        assert ndimage.label(body)[1] == 1  # one body
        # the skin side of the body is fat: every body pixel next to air is fat
        rim = body & ndimage.binary_dilation(~body)
        assert (tissues[rim] == index["fat"]).all()
        assert not (ndimage.binary_dilation(tissues == index["bone"]) & ~body).any()  # bone never touches air
        lesion = tissues == index["lesion"]
        around = ndimage.binary_dilation(lesion) & ~lesion
        assert set(np.unique(tissues[around])) <= {index["organ"]}  # a lesion lies inside an organ
    assert a.lesion.any() and not a.lesion.all()
    has_lesion_pixels = torch.tensor([(t == index["lesion"]).any() for t in a.tissues])
    assert torch.equal(has_lesion_pixels, a.lesion)
    with pytest.raises(DataError, match="below 32 pixels"):
        make_phantoms(1, 16)
    # the same anatomy at 128 pixels: every tissue, in about the same shares of the image as at 64
    large, small = make_phantoms(4, 128, seed=4, lesion_rate=1.0), make_phantoms(4, 64, seed=4, lesion_rate=1.0)
    for label in range(len(TISSUES)):
        share_large = (large.tissues == label).float().mean().item()
        share_small = (small.tissues == label).float().mean().item()
        assert share_large > 0 and share_large == pytest.approx(share_small, rel=0.35, abs=2e-3), TISSUES[label]


def test_a_paired_run_on_phantoms_learns_fbp_images_to_phantoms():
    from gankit.config import load_config
    from gankit.kinds.paired_data import load_paired_data

    config = load_config("ct_sparse60", ["data.n_images=20", "data.image_size=32", "data.degradation=sparse_view:20"])
    paired = load_paired_data(config.data, seed=0)
    phantoms = make_phantoms(20, 32, seed=0).images()
    assert paired.scale == 1 and paired.tag == "phantoms_sparse_view20"
    assert len(paired.test_targets) == 4 and len(paired.train_targets) == 16
    targets = torch.cat([paired.train_targets, paired.test_targets])
    assert {row.tobytes() for row in targets.flatten(1).numpy()} == {row.tobytes() for row in phantoms.flatten(1).numpy()}
    fbp = Scan(views=20)(paired.test_targets, torch.Generator())
    assert torch.allclose(paired.test_inputs, fbp, atol=1e-6)
    with pytest.raises(ConfigError, match="counts the phantoms"):
        load_config("mnist_denoise", ["data.n_images=10"])


def test_psnr_inside_the_organs_is_the_psnr_of_those_pixels_alone():
    from gankit.kinds.paired import evaluate_pairs
    from gankit.kinds.paired_baselines import pair_baselines
    from gankit.kinds.paired_data import load_paired_data
    from gankit.metrics.image_quality import masked_psnr
    from gankit.config import load_config

    rng = np.random.default_rng(0)
    target, prediction = rng.uniform(-1, 1, (2, 1, 6, 6)), rng.uniform(-1, 1, (2, 1, 6, 6))
    mask = rng.random((2, 1, 6, 6)) < 0.4
    expected = [10 * np.log10(1 / np.mean(((p - t) / 2)[m] ** 2)) for p, t, m in zip(prediction, target, mask)]
    got = masked_psnr(torch.from_numpy(prediction), torch.from_numpy(target), torch.from_numpy(mask))
    assert np.allclose(got.numpy(), expected)
    assert masked_psnr(torch.zeros(1, 1, 4, 4), torch.ones(1, 1, 4, 4), torch.zeros(1, 1, 4, 4, dtype=torch.bool)).isnan()

    config = load_config("ct_sparse60", ["data.n_images=20", "data.image_size=32", "data.degradation=sparse_view:20"])
    paired = load_paired_data(config.data, seed=0)
    organs = paired.test_regions["organs"]
    tissues = make_phantoms(20, 32, seed=0).tissues
    assert organs.shape == (4, 1, 32, 32) and organs.any()
    identity = torch.nn.Conv2d(1, 1, 1, bias=False)  # a "model" that returns its input
    torch.nn.init.ones_(identity.weight)
    scores = evaluate_pairs(identity, paired, None, pair_baselines(paired))
    fbp_organs = masked_psnr(paired.test_inputs, paired.test_targets, organs).mean().item()
    assert scores["psnr_organs_input_phantoms_sparse_view20_4"] == pytest.approx(fbp_organs)
    assert scores["psnr_organs_phantoms_sparse_view20_4"] == pytest.approx(fbp_organs)  # the model = its input
    assert int(organs.sum()) < int((tissues != TISSUES.index("air")).sum())  # organs are a part of the body
    # Shepp–Logan is scored apart, scanned as the phantoms are (views, and the held-out split's noise seed)
    head_input, head = paired.fixed_tests["shepp_logan_sparse_view20"]
    assert torch.equal(head, shepp_logan(32)) and torch.allclose(head_input, Scan(views=20)(head, torch.Generator()))
    fbp_head = 10 * np.log10(4 / np.mean((head_input.numpy() - head.numpy()) ** 2))
    assert scores["psnr_shepp_logan_sparse_view20_1"] == pytest.approx(fbp_head, rel=1e-5)
    assert scores["psnr_input_shepp_logan_sparse_view20_1"] == pytest.approx(fbp_head, rel=1e-5)
    assert "psnr_organs_shepp_logan_sparse_view20_1" not in scores  # no tissue map for the head


def test_shepp_logan_is_a_head_in_the_phantoms_hu_convention():
    from skimage.data import shepp_logan_phantom

    head = shepp_logan(400)[0, 0].numpy()  # at the native size resize leaves the values as they are
    original = shepp_logan_phantom()
    inside = ndimage.binary_fill_holes(original > 0)
    assert np.allclose(head[inside], original[inside] - 0.2, atol=1e-6) and (head[~inside] == -1).all()
    # brain 0.2 -> water (0 HU), skull 1 -> 800 HU, ventricles 0 -> -200 HU; outside the head air
    assert head[200, 200] == pytest.approx(0.0, abs=1e-6) and original[200, 200] == pytest.approx(0.2)
    assert head.max() == pytest.approx(0.8) and head[inside].min() == pytest.approx(-0.2)
    small = shepp_logan(64)[0, 0].numpy()
    assert small[0, 0] == -1 and abs(small[32, 32]) < 0.05 and 0.6 < small.max() <= 0.8


@pytest.mark.parametrize("sets, fragments", [
    (["data.image_size=32", "data.degradation=sparse_view:60"], ["60 views of 32-pixel images", "fully sampled by 51"]),
    (["data.degradation=limited_angle:200"], ["(0, 180]"]),
    (["data.image_size=16"], ["below 32 pixels"]),
    (["data.degradation=sparse_view:0"], ["sparse_view"]),
])
def test_ct_mistakes_on_the_command_line_are_one_line_and_exit_2(sets, fragments, gankit, tmp_path):
    from cli_helpers import assert_user_error

    overrides = [part for item in ["data.n_images=20", *sets] for part in ("--set", item)]
    result = gankit("train", "ct_sparse60", *overrides, "--steps", "1", "--out", str(tmp_path / "run"), "--no-progress")
    assert_user_error(result, *fragments)


def test_gankit_apply_restores_a_folder_and_an_array_of_fbp_slices(gankit, tmp_path):
    from PIL import Image

    from gankit.config import load_config
    from gankit.kinds.paired import apply_generator
    from gankit.runs import load_generator
    from gankit.train.run import train

    config = load_config("ct_sparse60", ["data.n_images=20", "data.image_size=32", "data.degradation=sparse_view:20",
                                         "model.blocks=1", "model.g_width=8", "model.d_width=8",
                                         "train.batch_size=8", "train.tensorboard=false", "train.eval_every=null"],
                         steps=2)
    run = train(config, tmp_path / "run", progress=False).path
    fbp = Scan(views=20)(make_phantoms(3, 32, seed=5).images(), torch.Generator())
    np.save(tmp_path / "fbp.npy", fbp.numpy())
    assert gankit("apply", str(run), str(tmp_path / "fbp.npy"), "--out", str(tmp_path / "out.npy")).returncode == 0
    generator, _, _ = load_generator(run)
    expected = apply_generator(generator, fbp)
    assert np.allclose(np.load(tmp_path / "out.npy"), expected.numpy(), atol=1e-5)
    folder = tmp_path / "slices"
    folder.mkdir()
    for i, image in enumerate(fbp):
        Image.fromarray(((image[0].clamp(-1, 1) + 1) * 127.5).round().byte().numpy()).save(folder / f"slice{i}.png")
    assert gankit("apply", str(run), str(folder), "--out", str(tmp_path / "restored")).returncode == 0
    assert sorted(p.name for p in (tmp_path / "restored").iterdir()) == ["slice0.png", "slice1.png", "slice2.png"]
    assert Image.open(tmp_path / "restored" / "slice0.png").size == (32, 32)
