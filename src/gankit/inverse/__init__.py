"""Inverse problems with a GAN prior (issue 19).

operators.py   linear measurement operators y = A x with exact adjoints: Gaussian, subsampled DCT and Fourier,
               inpainting, blur + downsample, parallel-beam Radon, a user's matrix; make_operator by name
solvers.py     reconstructions from y: CSGM with restarts (and Sparse-Gen deviations), Lasso, TV least squares
"""

from gankit.inverse.operators import (
    OPERATORS, BlurDownsample, GaussianOperator, InpaintingMask, LinearOperator, MatrixOperator, Radon, SubsampledDCT,
    SubsampledFourier, dct_matrix, load_operator_file, make_operator,
)
from gankit.inverse.solvers import SPARSE_BASES, Reconstruction, csgm, lasso, latent_starts, tv_least_squares

__all__ = [
    "OPERATORS", "SPARSE_BASES", "BlurDownsample", "GaussianOperator", "InpaintingMask", "LinearOperator",
    "MatrixOperator", "Radon", "Reconstruction", "SubsampledDCT", "SubsampledFourier", "csgm", "dct_matrix", "lasso",
    "latent_starts", "load_operator_file", "make_operator", "tv_least_squares",
]
