"""The spatial GAN's players and game, latent conditioning, hard-data files and the field protocols
(gankit.fields.spatial, game, conditioning, protocols, evaluate)."""

import numpy as np
import pytest
import torch

from gankit.errors import DataError
from gankit.fields.conditioning import HardData, LatentFit, fit_latent, read_hard_data, soft_porosity
from gankit.fields.evaluate import binarize, random_hard_data, spectrum_peak
from gankit.fields.game import CRITIC, FIELDS, GENERATOR, POROSITY, FieldGame, draw_latent
from gankit.fields.protocols import band_share, curve_scores, radial_power_spectrum, spectrum_ratio
from gankit.fields.sources import blobs, draw_fields
from gankit.fields.spatial import SpatialCritic, SpatialGenerator, nearest_sizes


@pytest.mark.parametrize("dims, layers, latent", [(2, 4, (4, 4)), (2, 3, (3, 5)), (3, 2, (2, 3, 4))])
def test_the_generator_scales_its_latent_field_by_its_stride_and_the_critic_takes_any_size(dims, layers, latent):
    torch.manual_seed(0)
    generator = SpatialGenerator(dims, latent_channels=3, width=16, layers=layers)
    fields = generator(torch.randn(2, 3, *latent))
    assert fields.shape == (2, 1, *(s * 2**layers for s in latent))
    assert fields.abs().max() < 1
    critic = SpatialCritic(dims, width=16, layers=layers)
    assert critic(fields).shape == (2,)
    big = generator.latent_shape(8 * 2**layers)
    assert big == (3, *[8] * dims) and critic(generator(torch.randn(1, *big))).shape == (1,)


def test_size_rules_name_the_nearest_valid_sizes():
    generator = SpatialGenerator(2, layers=4)
    assert generator.stride == 16 and generator.latent_shape(256) == (8, 16, 16)
    assert generator.latent_shape((32, 64)) == (8, 2, 4)
    assert nearest_sizes(50, 16) == (48, 64) and nearest_sizes(5, 16) == (16, 16)
    with pytest.raises(ValueError, match="nearest valid sizes are 48 or 64"):
        generator.latent_shape(50)
    with pytest.raises(ValueError, match="nearest valid sizes are 16$"):
        generator.latent_shape(8)
    with pytest.raises(ValueError, match="2-D fields"):
        generator.latent_shape((32, 32, 32))


def test_a_conditional_generator_uses_its_condition():
    torch.manual_seed(0)
    generator = SpatialGenerator(2, latent_channels=4, width=16, layers=2, conditional=True).eval()
    z = torch.randn(1, 4, 4, 4)
    low, high = generator(z, torch.tensor([0.2])), generator(z, torch.tensor([0.8]))
    assert (low - high).abs().max() > 1e-4
    with pytest.raises(ValueError, match="pass a \\(B,\\) condition"):
        generator(z)


def test_the_game_gives_each_player_a_finite_loss_with_gradients():
    torch.manual_seed(0)
    generator = SpatialGenerator(2, latent_channels=4, width=16, layers=2, conditional=True)
    critic = SpatialCritic(2, width=16, layers=2, conditional=True)
    game = FieldGame(generator, critic, "nonsaturating", gradient_penalty=1.0, r1_gamma=1.0)
    real = torch.from_numpy(2 * draw_fields("blobs", 4, (16, 16), seed=0, porosity=0.4, length=2.0) - 1.0)
    batch = {FIELDS: real.float().unsqueeze(1), POROSITY: torch.full((4,), 0.4)}
    out = game.losses(batch, players=[CRITIC, GENERATOR], step=0)
    assert set(out.losses) == {CRITIC, GENERATOR} and {"r1", "gradient_penalty"} <= set(out.stats)
    for player, loss in out.losses.items():
        assert torch.isfinite(loss)
        grads = torch.autograd.grad(loss, game.parameters(player), allow_unused=True)
        assert any(g is not None and g.abs().sum() > 0 for g in grads), player


def test_latent_optimization_honours_hard_data_and_a_porosity_target():
    # an untrained generator: its outputs are small (|x| ~ 0.05), hence the small margin and the sharp porosity
    torch.manual_seed(0)
    generator = SpatialGenerator(2, latent_channels=4, width=16, layers=2)
    z = draw_latent(generator, 3, 32, device="cpu", random=torch.Generator().manual_seed(1))
    truth = blobs((32, 32), np.random.default_rng(0), porosity=0.4, length=2.0)
    hard = random_hard_data(truth, 24, np.random.default_rng(1))
    weights = [p.clone() for p in generator.parameters()]
    fit = LatentFit(steps=300, margin=0.01, sharpness=200.0)
    fitted = fit_latent(generator, z, hard=hard, fit=fit)
    assert all(torch.equal(a, b) for a, b in zip(weights, generator.parameters()))  # weights untouched
    assert generator.training and all(p.requires_grad for p in generator.parameters())
    before, after = generator.eval()(z), generator(fitted)
    assert hard.honoured(before).mean() < 0.8 and hard.honoured(after).min() == 1.0
    assert abs(fitted.pow(2).mean().item() - 1) < 0.1  # still a typical draw of N(0, I)
    porous = generator(fit_latent(generator, z, porosity=0.3, fit=fit))
    assert np.abs(binarize(porous).reshape(3, -1).mean(1) - 0.3).max() <= 0.01
    assert torch.equal(fit_latent(generator, z), z) and fit_latent(generator, z) is not z


def test_hard_data_reads_values_at_cells_and_counts_what_a_field_honours():
    fields = -torch.ones(2, 1, 4, 4)
    fields[0, 0, 1, 2] = 0.5
    hard = HardData(torch.tensor([[1, 2], [3, 0]]), torch.tensor([1, 0]))
    assert hard.values(fields).tolist() == [[0.5, -1.0], [-1.0, -1.0]]
    assert hard.honoured(fields).tolist() == [1.0, 0.5]
    fields.requires_grad_(True)
    share = soft_porosity(fields, 10.0)
    assert share.tolist() == [1 / 16, 0.0]  # the hard share ...
    share.sum().backward()  # ... with the sigmoid's gradient: 10 σ'(10 x) / 16 per cell
    slope = 10 * torch.sigmoid(torch.tensor(-10.0)) * (1 - torch.sigmoid(torch.tensor(-10.0))) / 16
    assert fields.grad[1, 0, 0, 0].item() == pytest.approx(slope.item())


def test_points_files_are_read_and_bad_ones_refused_with_one_line(tmp_path):
    good = tmp_path / "wells.csv"
    good.write_text("y,x,phase\n0,3,1\n5,7,0\n")
    hard = read_hard_data(good)
    assert hard.cells.tolist() == [[0, 3], [5, 7]] and hard.phases.tolist() == [1, 0]
    three_d = tmp_path / "cube.csv"
    three_d.write_text("z,y,x,phase\n1,2,3,1\n")
    assert read_hard_data(three_d).cells.tolist() == [[1, 2, 3]]
    cases = {"x,y,value\n1,2,1\n": "header must be y,x,phase", "y,x,phase\n1,2,2\n": "phases must be 0 or 1",
             "y,x,phase\n1,a,1\n": "numbers", "y,x,phase\n1.5,2,1\n": "whole numbers",
             "y,x,phase\n": "found none", "": "empty file"}
    for text, message in cases.items():
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(DataError, match=message):
            read_hard_data(bad)
    with pytest.raises(DataError, match="no such file"):
        read_hard_data(tmp_path / "missing.csv")


def test_curve_scores_are_zero_for_the_training_set_itself_and_the_band_share_is_hand_counted():
    training = draw_fields("blobs", 12, (24, 24), seed=0, porosity=0.4, length=2.0)
    independent = draw_fields("blobs", 12, (24, 24), seed=1, porosity=0.4, length=2.0)
    scores = curve_scores(training, training, independent, max_lag=8)
    assert scores["s2_error"] == 0 and scores["lineal_path_error"] == 0 and scores["variogram_error"] == 0
    assert 0 < scores["s2_error_floor"] < 0.05
    solid = np.zeros_like(training)  # no pore phase: S2 = 0 everywhere, outside the band beyond lag 0's ...
    assert curve_scores(solid, training, independent, max_lag=8)["s2_in_spread"] == 0.0
    reference = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    assert band_share(np.array([1.0, 0.05, 3.0]), reference) == pytest.approx(1 / 3)


def test_the_power_spectrum_finds_a_wave_and_the_peak_score_finds_tiling():
    size = 64
    wave = (np.sin(2 * np.pi * 8 * np.arange(size) / size)[None, :] > 0).repeat(size, 0)[None].astype(np.int8)
    spectrum = radial_power_spectrum(wave)
    assert spectrum.argmax() + 1 == 8  # shells start at |k| = 1
    reference = draw_fields("blobs", 6, (128, 128), seed=3, porosity=0.4, length=2.0)
    other = draw_fields("blobs", 6, (128, 128), seed=4, porosity=0.4, length=2.0)
    tiles = np.tile(draw_fields("blobs", 6, (32, 32), seed=5, porosity=0.4, length=2.0), (1, 4, 4))
    floor = spectrum_peak(spectrum_ratio(other, reference))
    assert floor < 2.5
    assert spectrum_peak(spectrum_ratio(tiles, reference)) > 5 * floor  # a 32-cell tiling: peaks at |k| = 4, 8 …
    assert spectrum_peak(np.ones(10)) == 1.0


def test_a_three_dimensional_run_builds_and_plays_a_step():
    from gankit.config import load_config
    from gankit.kinds import get_kind

    config = load_config("fields_blobs", ["fields.dims=3", "fields.size=8", "fields.layers=2", "fields.width=8",
                                          "fields.images=4", "fields.latent_channels=2", "train.batch_size=2"])
    setup = get_kind("fields").build(config, torch.device("cpu"))
    batch = next(setup.batches)
    assert batch[FIELDS].shape == (2, 1, 8, 8, 8) and set(batch[FIELDS].unique().tolist()) <= {-1.0, 1.0}
    shares = (batch[FIELDS] > 0).float().flatten(1).mean(1)
    assert torch.allclose(batch[POROSITY], shares)  # each field's own porosity is its condition
    out = setup.game.losses(batch, players=[CRITIC, GENERATOR], step=0)
    assert all(torch.isfinite(loss) for loss in out.losses.values())


def test_scalar_scores_give_the_percolating_share_along_each_axis():
    from gankit.fields.protocols import scalar_scores

    stripes = np.zeros((2, 8, 8), dtype=np.int8)
    stripes[:, 2] = 1  # one row of phase 1 spans left to right (axis 1), not top to bottom (axis 0)
    stripes[1, 5, :4] = 1  # a second, half-width row: not percolating, 4 of field 1's 12 cells
    scores = scalar_scores(stripes, "x_")
    assert scores["x_percolating_axis0"] == 0.0
    assert scores["x_percolating_axis1"] == pytest.approx((1.0 + 8 / 12) / 2)
    assert scores["x_porosity_mean"] == pytest.approx((8 / 64 + 12 / 64) / 2)
    assert scores["x_specific_surface"] == pytest.approx(np.mean([16 / 64, (16 + 9) / 64]))


def test_the_critic_can_see_farther_than_the_generator_builds():
    from gankit.config import load_config
    from gankit.errors import ConfigError
    from gankit.kinds import get_kind

    players = get_kind("fields").restore(load_config("fields_blobs", ["fields.critic_layers=5"]), {})
    strided = [m for m in players[CRITIC].modules() if isinstance(m, torch.nn.Conv2d) and m.stride == (2, 2)]
    assert len(strided) == 5 and players[GENERATOR].stride == 8  # the generator keeps fields.layers = 3
    assert players[CRITIC](torch.zeros(2, 1, 64, 64), torch.full((2,), 0.4)).shape == (2,)
    with pytest.raises(ConfigError, match="use at most 6"):
        load_config("fields_blobs", ["fields.critic_layers=7"])


@pytest.mark.parametrize("latent_layers", [0, 1, 2])
def test_latent_layers_widen_the_reach_of_one_latent_cell_by_two_strides_each(latent_layers):
    """The rows one latent cell changes, against the count by hand: one cell upsampled ×2 and widened by one on
    each side by every 3×3 convolution, ((1·2 + 2)·2 + 2)·2 + 2 + 2 = 24 cells for 3 layers; each residual
    convolution at the latent size adds one latent cell (8 output cells) on each side."""
    torch.manual_seed(0)
    generator = SpatialGenerator(2, latent_channels=4, width=16, layers=3, latent_layers=latent_layers).eval()
    z = torch.randn(1, 4, 9, 9)
    nudged = z.clone()
    nudged[0, :, 4, 4] += 3.0
    with torch.no_grad():
        changed = (generator(nudged) - generator(z)).abs()[0, 0].amax(1) > 0
    rows = torch.nonzero(changed).flatten()
    assert int(rows.max() - rows.min()) + 1 == 24 + 2 * 8 * latent_layers
    assert float(rows.float().mean()) == pytest.approx(4 * 8 + 3.5)  # centred on the nudged cell's 8 rows
    fields = generator(torch.randn(2, 4, 3, 5))
    assert fields.shape == (2, 1, 24, 40)


def test_latent_blocks_wrap_around_so_no_cell_knows_where_the_edge_is():
    """Circular padding: a nudge to the top latent row reaches the bottom rows of the field through one latent
    block (the row above row 0 is row 8); without blocks it stays within the top 24 + 8 rows."""
    torch.manual_seed(0)
    z = torch.randn(1, 4, 9, 9)
    nudged = z.clone()
    nudged[0, :, 0, 4] += 3.0
    for latent_layers, bottom_changes in ((0, False), (1, True)):
        generator = SpatialGenerator(2, latent_channels=4, width=16, layers=3, latent_layers=latent_layers).eval()
        with torch.no_grad():
            changed = ((generator(nudged) - generator(z)).abs()[0, 0].amax(1) > 0).nonzero().flatten()
        assert bool((changed >= 64).any()) == bottom_changes
        assert int(changed.min()) == 0
