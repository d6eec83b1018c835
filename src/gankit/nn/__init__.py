"""Architectures only (no losses): discriminators return logits, higher = more real."""

from gankit.nn.conditional import ConditionalDiscriminator, ConditionalGenerator, ConditionEncoder, ConditionSpec
from gankit.nn.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init_
from gankit.nn.image2image import (
    PatchGANDiscriminator, ResNetTranslator, SRResNetGenerator, UNetGenerator, patchgan_layers_for,
    patchgan_receptive_field,
)
from gankit.nn.infogan import InfoCodes, InfoGANDiscriminator, InfoGANGenerator
from gankit.nn.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "ConditionalDiscriminator", "ConditionalGenerator", "ConditionEncoder", "ConditionSpec",
    "DCGANDiscriminator", "DCGANGenerator", "dcgan_init_",
    "PatchGANDiscriminator", "ResNetTranslator", "SRResNetGenerator", "UNetGenerator", "patchgan_layers_for",
    "patchgan_receptive_field",
    "InfoCodes", "InfoGANDiscriminator", "InfoGANGenerator",
    "MLPDiscriminator", "MLPGenerator",
]
