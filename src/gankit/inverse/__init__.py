"""Inverse problems with a GAN prior (issue 19).

operators.py   linear measurement operators y = A x with exact adjoints: Gaussian, subsampled DCT and Fourier,
               inpainting, blur + downsample, parallel-beam Radon, a user's matrix; make_operator by name
"""

from gankit.inverse.operators import (
    OPERATORS, BlurDownsample, GaussianOperator, InpaintingMask, LinearOperator, MatrixOperator, Radon, SubsampledDCT,
    SubsampledFourier, dct_matrix, load_operator_file, make_operator,
)

__all__ = [
    "OPERATORS", "BlurDownsample", "GaussianOperator", "InpaintingMask", "LinearOperator", "MatrixOperator", "Radon",
    "SubsampledDCT", "SubsampledFourier", "dct_matrix", "load_operator_file", "make_operator",
]
