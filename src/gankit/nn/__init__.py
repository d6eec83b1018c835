"""Architectures only (no losses): discriminators return logits, higher = more real."""

from gankit.nn.conditional import ConditionalDiscriminator, ConditionalGenerator, ConditionEncoder, ConditionSpec
from gankit.nn.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init_
from gankit.nn.domain import ConvEncoder, DomainDecoder, FeatureHead, ImageDecoder, TableEncoder
from gankit.nn.image2image import (
    PatchGANDiscriminator, ResNetTranslator, SRResNetGenerator, UNetGenerator, patchgan_layers_for,
    patchgan_receptive_field,
)
from gankit.nn.infogan import InfoCodes, InfoGANDiscriminator, InfoGANGenerator
from gankit.nn.mlp import MLPDiscriminator, MLPGenerator
from gankit.nn.reversal import GradientReversal, reverse_gradient

__all__ = [
    "ConditionalDiscriminator", "ConditionalGenerator", "ConditionEncoder", "ConditionSpec",
    "DCGANDiscriminator", "DCGANGenerator", "dcgan_init_",
    "ConvEncoder", "DomainDecoder", "FeatureHead", "ImageDecoder", "TableEncoder",
    "PatchGANDiscriminator", "ResNetTranslator", "SRResNetGenerator", "UNetGenerator", "patchgan_layers_for",
    "patchgan_receptive_field",
    "InfoCodes", "InfoGANDiscriminator", "InfoGANGenerator",
    "MLPDiscriminator", "MLPGenerator",
    "GradientReversal", "reverse_gradient",
]
