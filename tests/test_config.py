"""Config: presets, YAML files, overrides, and one clear error for every mistake."""

import pytest
import yaml

from gankit.config import GANConfig, config_from_dict, config_to_yaml, load_config, preset_names
from gankit.errors import ConfigError


def test_shipped_presets():
    assert preset_names() == ["bilinear", "circuits", "ct_lesion_cgan", "ct_mr_cycle", "ct_sparse60", "dann_mnist_digits", "digits", "fields_blobs", "fields_channels",
                              "fields_disks", "fields_gaussian", "friction_design", "grid25", "mnist", "mnist_cgan", "mnist_cycle",
                              "mnist_denoise", "mnist_infogan", "mnist_prior", "mnist_sr4", "phantoms_prior", "ring8",
                              "skimage_sr4", "tabular"]
    data = {"mnist_cgan": "mnist", "mnist_infogan": "mnist", "mnist_prior": "mnist", "phantoms_prior": "phantoms", "tabular": "breast_cancer", "mnist_sr4": "mnist",
            "mnist_denoise": "mnist", "skimage_sr4": "skimage",
            "mnist_cycle": "mnist", "ct_sparse60": "phantoms", "ct_mr_cycle": "phantoms", "ct_lesion_cgan": "phantoms"}
    games = {"bilinear": "bilinear", "mnist_sr4": "paired", "mnist_denoise": "paired", "skimage_sr4": "paired",
             "mnist_cycle": "unpaired", "ct_sparse60": "paired", "ct_mr_cycle": "unpaired", "dann_mnist_digits": "domain",
             "friction_design": "design", "circuits": "circuits", "fields_blobs": "fields",
             "fields_channels": "fields", "fields_disks": "fields", "fields_gaussian": "fields"}
    for name in preset_names():
        config = load_config(name)
        assert config.game == games.get(name, "gan")
        if config.game == "domain":
            assert (config.data.source, config.data.target) == ("mnist", "digits")
        else:
            assert name in ("bilinear", "friction_design", "circuits") or config.game == "fields" or config.data.name == data.get(name, name)


def test_default_is_the_mnist_dcgan():
    config = load_config()
    assert (config.data.name, config.model.arch, config.loss.name) == ("mnist", "dcgan", "nonsaturating")


def test_overrides_are_typed_and_nested():
    config = load_config("grid25", ["optim.lr_d=1e-4", "dynamics.name=simultaneous", "model.spectral_norm=true"])
    assert config.optim.lr_d == 1e-4 and isinstance(config.optim.lr_d, float)
    assert config.dynamics.name == "simultaneous"
    assert config.model.spectral_norm is True
    assert config.optim.lr_g == load_config("grid25").optim.lr_g


def test_steps_and_seed_shortcuts():
    config = load_config("ring8", steps=7, seed=11)
    assert (config.train.steps, config.seed) == (7, 11)


def test_yaml_roundtrip_is_exact(tmp_path):
    config = load_config("ring8", ["loss.gp_weight=10", "train.ema_decay=0.999"])
    path = tmp_path / "run.yaml"
    path.write_text(config_to_yaml(config))
    assert load_config(str(path)) == config
    assert yaml.safe_load(path.read_text())["loss"]["gp_weight"] == 10.0


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["optim.lr_gen=1e-4"], "unknown config key 'optim.lr_gen'; did you mean 'optim.lr_g'"),
        (["optim.lr=1e-4"], "optim.lr takes one value per player"),
        (["trian.steps=3"], "unknown config key 'trian'; did you mean 'train'"),
        (["loss.gp_wieght=10"], "did you mean 'loss.gp_weight'"),
        (["seeed=3"], "did you mean 'seed'"),
        (["dynamics.trust_region.raduis=1"], "did you mean 'dynamics.trust_region.radius'"),
    ],
)
def test_unknown_keys_suggest_the_nearest_valid_one(overrides, expected):
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(")):
        load_config("mnist", overrides)


@pytest.mark.parametrize(
    "override, where",
    [
        ("optim.lr_g=-1", "optim.lr_g"),
        ("train.steps=zero", "train.steps"),
        ("data.name=cifar", "data.name"),
        ("loss.label_smoothing=1.5", "loss.label_smoothing"),
        ("data.channels=2", "data.channels"),
        ("data.image_size=0", "data.image_size"),
        ("dynamics.name=extragradint", "dynamics.name"),
        ("dynamics.unroll_steps=0", "dynamics.unroll_steps"),
        ("dynamics.trust_region.radius=0", "dynamics.trust_region.radius"),
        ("dynamics.unroll_lr=-0.1", "dynamics.unroll_lr"),
    ],
)
def test_invalid_values_name_the_key(override, where):
    with pytest.raises(ConfigError, match=f"invalid config value for '{where}'"):
        load_config("mnist", [override])


def test_trust_region_radius_must_lie_between_its_bounds():
    with pytest.raises(ConfigError, match="need min_radius <= radius <= max_radius"):
        load_config("mnist", ["dynamics.trust_region.radius=20"])


def test_unknown_loss_name_lists_valid_losses():
    with pytest.raises(ConfigError, match="valid losses: minimax, nonsaturating"):
        load_config("mnist", ["loss.name=wgan"])


def test_unknown_preset_suggests_a_close_one():
    with pytest.raises(ConfigError, match="unknown preset 'minst' \\(did you mean 'mnist'\\?\\)"):
        load_config("minst")


@pytest.mark.parametrize("item", ["optim.lr_d", "=3", "seed.x=1"])
def test_malformed_overrides(item):
    with pytest.raises(ConfigError):
        load_config("mnist", [item])


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(str(tmp_path / "nope.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(bad))
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(str(scalar))


def test_partial_file_inherits_defaults(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("loss:\n  name: hinge\n")
    config = load_config(str(path))
    assert config.loss.name == "hinge"
    assert config.model == GANConfig().model


def test_config_from_dict_rejects_a_section_that_is_not_a_mapping():
    with pytest.raises(ConfigError, match="'loss'"):
        config_from_dict({"loss": "hinge"})


def test_a_rule_across_a_sections_keys_names_the_section_not_its_whole_dict():
    with pytest.raises(ConfigError) as caught:
        load_config("ring8", ["train.eval_every=7"])
    assert str(caught.value) == "invalid config section 'train': eval_every (7) must be a multiple of log_every (10)"
