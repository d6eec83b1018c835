"""Shared by the evaluation tests: score a generator against a gan config's data, as a gan run's evaluation does."""

from gankit.kinds.gan_players import condition_spec, generator_inputs, load_real_data
from gankit.metrics.evaluate import FeatureOptions, evaluate_generator, feature_space


def evaluate(generator, config, *, metrics, n, seed=0, space=None, real_data=None, features=FeatureOptions()):
    """`evaluate_generator` with the config's data, feature space and generator inputs (conditions, codes)."""
    real = real_data or load_real_data(config.data, config.seed)
    space = space or feature_space(config.data.name, tuple(real.samples.shape[1:]), features)
    inputs = generator_inputs(config, condition_spec(config, real))
    return evaluate_generator(generator, inputs, real, space, data_name=config.data.name, metrics=metrics, n=n,
                              seed=seed)
