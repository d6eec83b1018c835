"""The texture design space against closed forms: coordinates, the catalogue, the reachable friction range, the
solution set of a target, the design scores; and the design kind trained through the ordinary Trainer."""

import math

import pytest
import torch

from gankit.config import load_config
from gankit.design import ContactModel
from gankit.design.evaluate import score_designs, spread_targets
from gankit.design.space import COVERAGE_BINS, DesignSpace, catalogue

SPACE = DesignSpace(ContactModel())  # E* 1000, τ 5, H 60, p̄ 10; A in [0.05, 2], λ in [2, 50], A/λ <= 0.1


def aspect_for(mu: float, model: ContactModel = SPACE.model) -> float:
    """Closed form: μ = τ f / p̄ → f = μ p̄ / τ → p̄/p* = sin²(π f / 2) → A/λ = p* / (π E*)."""
    f = mu * model.pressure / model.shear_strength
    p_star = model.pressure / math.sin(math.pi * f / 2) ** 2
    return p_star / (math.pi * model.modulus)


def test_coordinates_round_trip_and_span_the_bounds():
    u = torch.tensor([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    amplitude, wavelength = SPACE.to_designs(u)
    assert amplitude.tolist() == pytest.approx([0.05, 2.0, math.sqrt(0.05 * 2.0)])
    assert wavelength.tolist() == pytest.approx([2.0, 50.0, 10.0])
    assert torch.allclose(SPACE.to_unit(amplitude, wavelength), u)


def test_catalogue_is_manufacturable_sized_and_deterministic():
    textures = catalogue(SPACE, 3000, seed=1)
    assert textures.shape == (3000, 2) and textures.dtype == torch.float32
    amplitude, wavelength = SPACE.to_designs(textures.double())
    assert amplitude.min() >= 0.05 - 1e-6 and amplitude.max() <= 2 + 1e-5 and (amplitude / wavelength).max() <= 0.1 + 1e-6
    assert torch.equal(textures, catalogue(SPACE, 3000, seed=1)) and not torch.equal(textures, catalogue(SPACE, 3000, 2))
    assert textures[:, 1].min() < -0.95 and textures[:, 1].max() > 0.95  # wavelengths over the whole range


def test_reachable_range_matches_the_closed_form():
    # highest: full contact, μ = τ / p̄; lowest: the largest p* whose peak 2 √(p̄ p*) stays under H, p* = H² / (4 p̄)
    f_min = 2 / math.pi * math.asin(math.sqrt(10 / (60**2 / 40)))
    low, high = SPACE.reachable()
    assert high == pytest.approx(0.5, rel=1e-9)
    assert low == pytest.approx(5 * f_min / 10, rel=0.01)  # on the 400-point grid


def test_solution_bins_of_a_target_are_the_wavelengths_whose_closed_form_amplitude_is_manufacturable():
    aspect = aspect_for(0.3)  # A = aspect · λ must lie in [0.05, 2]: λ in [0.05 / aspect, 2 / aspect] ∩ [2, 50]
    low, high = max(2.0, 0.05 / aspect), min(50.0, 2 / aspect)
    edges = torch.logspace(math.log10(2), math.log10(50), COVERAGE_BINS + 1, dtype=torch.float64)
    expected = (edges[1:] > low) & (edges[:-1] < high)
    bins = SPACE.solution_bins(0.3, tolerance=0.005)
    assert (bins != expected).sum() <= 2  # at most the two edge bins differ, on the 400-point grid


def test_score_designs_counts_hits_filters_infeasible_ones_and_measures_coverage():
    target, aspect = 0.3, aspect_for(0.3)
    wavelength = torch.logspace(math.log10(2.0), math.log10(50.0), 200, dtype=torch.float64)
    wavelength = wavelength[(aspect * wavelength >= 0.05) & (aspect * wavelength <= 2)]
    on_line = aspect * wavelength
    scores, returned = score_designs(SPACE, on_line, wavelength, target, tolerance=0.01)
    assert scores.hit_rate == 1.0 and scores.feasible == 1.0 and returned.all() and scores.coverage > 0.9
    # one design right on target but infeasible (aspect 0.2 > 0.1), one feasible miss (flat: μ = 0.5)
    extra_a, extra_w = torch.tensor([4.0, 0.1], dtype=torch.float64), torch.tensor([20.0, 40.0], dtype=torch.float64)
    scores, returned = score_designs(SPACE, torch.cat([on_line[:10], extra_a]), torch.cat([wavelength[:10], extra_w]),
                                     target, tolerance=0.01)
    assert scores.proposed == 12 and scores.returned == 11 and scores.hit_rate == pytest.approx(10 / 11)
    assert scores.feasible == pytest.approx(11 / 12) and returned.tolist() == [True] * 10 + [False, True]
    assert scores.coverage < 0.5  # ten designs at the short-wavelength end of the line


def test_spread_targets():
    assert spread_targets((0.0, 1.0), 4) == pytest.approx([0.125, 0.375, 0.625, 0.875])


def test_a_design_run_trains_through_the_trainer_and_evaluates(tmp_path):
    from gankit.runs import restore_run
    from gankit.train.run import train

    config = load_config("friction_design", ["design.catalogue=512", "design.width=16", "train.batch_size=64",
                                             "train.tensorboard=false", "train.eval_every=20"], steps=20)
    run = train(config, tmp_path / "run", progress=False)
    restored = restore_run(run.path)
    assert set(restored.players) == {"critic", "generator"} and restored.meta["reachable"][1] == pytest.approx(0.5)
    from gankit.kinds.design import design_scores, restore_design

    scores = design_scores(restored.config, restored.players, restore_design(restored.config), draws=50)
    assert set(scores) == {"hit_rate_t10", "hit_rate_min_t10", "feasible_t10", "coverage_t10"}
    assert all(0 <= value <= 1 for value in scores.values())


def test_bad_contact_settings_are_one_clear_error():
    from gankit.errors import ConfigError
    from gankit.kinds.design import restore_design

    with pytest.raises(ConfigError, match="contact.amplitude"):
        load_config("friction_design", ["contact.amplitude=[2.0,0.05]"])
    with pytest.raises(ConfigError, match="no texture .* is feasible"):
        restore_design(load_config("friction_design", ["contact.hardness=1.0"]))


def test_a_balanced_catalogue_holds_every_friction_about_equally():
    from gankit.kinds.design import BALANCE_BINS, feasible_catalogue, restore_design

    prior = restore_design(load_config("friction_design"))
    low, high = prior.reachable
    share = lambda f: torch.bincount(((f - low) / (high - low) * BALANCE_BINS).long().clamp(0, BALANCE_BINS - 1),
                                     minlength=BALANCE_BINS).double() / len(f)
    catalogue_rows = feasible_catalogue(prior, 5000, 0)["friction"].double()
    balanced = feasible_catalogue(prior, 5000, 0, balance=True)
    plain = share(catalogue_rows)
    assert plain.max() > 5 * plain.min()  # the process makes frictions very unequally
    assert (share(balanced["friction"].double()) - 1 / BALANCE_BINS).abs().max() < 0.02  # 1/20 each, ± sampling
    assert len(balanced["friction"]) == len(catalogue_rows) == len(balanced["designs"])


def test_solution_aspects_match_the_closed_form_inverse_and_pick_the_nearest_branch():
    # without ploughing μ = (τ/p̄)(2/π) arcsin √(p̄/p*), p* = π E* a: a* = p̄ / (π E* sin²(π μ p̄ / 2τ))
    targets = torch.linspace(0.11, 0.49, 39, dtype=torch.float64)
    expected = torch.log(10.0 / (math.pi * 1000.0 * torch.sin(math.pi * targets * 10.0 / 10.0) ** 2))
    found = SPACE.solution_log_aspect(torch.full_like(targets, -5.0), targets)
    torch.testing.assert_close(found, expected, rtol=0, atol=2e-4)
    # with ploughing the friction turns (in full contact ploughing rises with the aspect, then adhesion falls):
    # μ = 0.505 has an aspect on each side of the peak
    ploughing = DesignSpace(ContactModel(ploughing=True))
    assert len(ploughing.monotone_pieces) > 1
    target = torch.tensor([0.505], dtype=torch.float64)
    low = ploughing.solution_log_aspect(torch.tensor([-8.0], dtype=torch.float64), target)
    high = ploughing.solution_log_aspect(torch.tensor([0.0], dtype=torch.float64), target)
    assert float(high - low) > 0.1
    for root in (low, high):
        friction = ploughing.model.friction(torch.exp(root), torch.ones(1, dtype=torch.float64))
        assert abs(float(friction) - 0.505) < 1e-4
    # an unreachable target gets the aspect that comes closest: full contact's flat τ/p̄
    top = SPACE.solution_log_aspect(torch.tensor([-5.0]), torch.tensor([0.7]))
    assert SPACE.model.friction(torch.exp(top.double()), torch.ones(1, dtype=torch.float64)).item() == pytest.approx(0.5)


def test_the_aspect_chart_maps_round_trip_and_spans_the_allowed_aspects():
    space = DesignSpace(ContactModel(), chart="aspect")
    u = torch.rand(200, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 - 1
    amplitude, wavelength = space.to_designs(u)
    torch.testing.assert_close(space.to_unit(amplitude, wavelength), u)
    assert space.aspect_bounds == pytest.approx((0.05 / 50, 0.1))
    corners = space.to_designs(torch.tensor([[-1.0, 1.0], [1.0, -1.0]], dtype=torch.float64))
    assert (corners[0] / corners[1]).tolist() == pytest.approx([0.001, 0.1])


def test_the_physics_term_is_zero_on_the_solution_set_and_grows_with_the_miss():
    from gankit.design.physics import PhysicsTerm

    reachable = SPACE.reachable()
    wavelength = torch.tensor([10.0, 20.0, 40.0], dtype=torch.float64)
    targets = torch.full((3,), 0.3, dtype=torch.float64)
    on_line = aspect_for(0.3) * wavelength
    for miss in ("friction", "aspect"):
        term = PhysicsTerm(SPACE, reachable, miss, "absolute")
        assert term.penalty(on_line, wavelength, targets).max() < 1e-3
        off = term.penalty(on_line * 1.05, wavelength, targets)
        assert (off > 1e-3).all()
        squared = PhysicsTerm(SPACE, reachable, miss, "squared").penalty(on_line * 1.05, wavelength, targets)
        torch.testing.assert_close(squared, off**2)
    # in full contact the friction reads τ/p̄ whatever the aspect: the friction miss is flat there, the aspect one
    # still says how far the design is from the target's aspect (log 2 below it, in units of the span)
    aspect_term = PhysicsTerm(SPACE, reachable, "aspect")
    full = torch.tensor([aspect_for(0.48) / 2, aspect_for(0.48) / 4], dtype=torch.float64) * 20
    twenty = torch.full((2,), 20.0, dtype=torch.float64)
    friction_miss = PhysicsTerm(SPACE, reachable, "friction").misses(full, twenty, torch.full((2,), 0.48))
    assert friction_miss[0] == friction_miss[1]
    aspect_miss = aspect_term.misses(full, twenty, torch.full((2,), 0.48))
    assert (aspect_miss * aspect_term.aspect_span).tolist() == pytest.approx([-math.log(2), -math.log(4)], abs=1e-3)


def test_the_critics_data_leave_out_full_contact():
    from gankit.kinds.design import feasible_catalogue, restore_design

    prior = restore_design(load_config("friction_design"))
    rows = feasible_catalogue(prior, 5000, 0)
    amplitude, wavelength = prior.space.to_designs(rows["designs"].double())
    assert (prior.space.model.contact_fraction(amplitude, wavelength) < 1).all()
    assert rows["friction"].max() < 0.5
