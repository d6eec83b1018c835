"""Inverse problems with a GAN prior (issue 19).

operators.py   linear measurement operators y = A x with exact adjoints: Gaussian, subsampled DCT and Fourier,
               inpainting, blur + downsample, parallel-beam Radon, a user's matrix; make_operator by name
solvers.py     reconstructions from y: CSGM with restarts (and Sparse-Gen deviations), Lasso, TV least squares
summary.py     what a table says: measurements saved by the prior, crossover, Sparse-Gen's excess; memorization
workflow.py    `gankit invert`: a GAN run's generator as prior against the baselines, table and summary
tuning.py      every solver's weight chosen per operator and size on validation images (--tune)
figures.py     its figures
"""

from gankit.inverse.operators import (
    OPERATORS, BlurDownsample, GaussianOperator, InpaintingMask, LinearOperator, MatrixOperator, Radon, SubsampledDCT,
    SubsampledFourier, dct_matrix, load_operator_file, make_operator,
)
from gankit.inverse.solvers import SPARSE_BASES, Reconstruction, csgm, lasso, latent_starts, tv_least_squares
from gankit.inverse.summary import measurements_needed, memorization_check, prior_summary
from gankit.inverse.workflow import (
    InvertResult, SolverSettings, UnitGenerator, invert, load_prior, measure, parse_counts, sweep_key, truth_images,
    validation_images,
)
from gankit.inverse.tuning import GRIDS, TUNE_RESTARTS, choose_weights

__all__ = [
    "GRIDS", "OPERATORS", "SPARSE_BASES", "TUNE_RESTARTS", "BlurDownsample", "GaussianOperator", "InpaintingMask", "InvertResult", "LinearOperator",
    "MatrixOperator", "Radon", "Reconstruction", "SolverSettings", "SubsampledDCT", "SubsampledFourier", "UnitGenerator",
    "choose_weights", "csgm", "dct_matrix", "invert", "lasso", "latent_starts", "load_operator_file", "load_prior", "make_operator",
    "measure", "measurements_needed", "memorization_check", "parse_counts", "prior_summary", "sweep_key",
    "truth_images", "tv_least_squares", "validation_images",
]
