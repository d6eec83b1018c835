"""Feature extractors shipped with gankit: small digit classifiers trained on the bundled data."""

from gankit.metrics.features.classifier import DigitClassifier
from gankit.metrics.features.extractors import (
    CLASSIFIERS,
    ClassifierFeatures,
    FeatureExtractor,
    ModuleFeatures,
    load_classifier,
    weights_path,
)
from gankit.metrics.features.inception import (
    INCEPTION_ENV_VAR,
    InceptionFeatures,
    InceptionV3FID,
    UnbiasedLogits,
    load_inception,
)

__all__ = [
    "CLASSIFIERS",
    "ClassifierFeatures",
    "DigitClassifier",
    "FeatureExtractor",
    "ModuleFeatures",
    "load_classifier",
    "weights_path",
    "INCEPTION_ENV_VAR",
    "InceptionFeatures",
    "InceptionV3FID",
    "UnbiasedLogits",
    "load_inception",
]
