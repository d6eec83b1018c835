"""Architectures only (no losses): discriminators return logits, higher = more real."""

from gankit.nn.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init_
from gankit.nn.mlp import MLPDiscriminator, MLPGenerator

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "dcgan_init_"]
