"""Architectures only (no losses): discriminators return logits, higher = more real."""

from gankit.nn.conditional import ConditionalDiscriminator, ConditionalGenerator, ConditionEncoder, ConditionSpec
from gankit.nn.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init_
from gankit.nn.infogan import InfoCodes, InfoGANDiscriminator, InfoGANGenerator
from gankit.nn.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "ConditionalDiscriminator", "ConditionalGenerator", "ConditionEncoder", "ConditionSpec",
    "DCGANDiscriminator", "DCGANGenerator", "dcgan_init_",
    "InfoCodes", "InfoGANDiscriminator", "InfoGANGenerator",
    "MLPDiscriminator", "MLPGenerator",
]
