"""Toy analyses of training dynamics, checked against closed forms (`gankit dynamics NAME`).

- :mod:`~gankit.theory.bilinear`: min_x max_y xy under every dynamics, measured vs closed-form rates.
- :mod:`~gankit.theory.dirac` / :mod:`~gankit.theory.dirac_report`: the Dirac-GAN as a GANGame, its
  gradient field, Jacobian eigenvalues vs closed forms, phase portraits.
- :mod:`~gankit.theory.landscape`: why Wasserstein helps: JS vs W1/W2 gradients for distant masses.
- :mod:`~gankit.theory.moments` / :mod:`~gankit.theory.moments_report`: a linear critic makes the GAN the
  simulated method of moments; a classifier critic approaches maximum likelihood.
- :mod:`~gankit.theory.ratio`: a trained discriminator as a density-ratio estimator.
"""

from gankit.theory.analyses import ANALYSES, Analysis, Report, run_analysis
from gankit.theory.table import Table

__all__ = ["ANALYSES", "Analysis", "Report", "Table", "run_analysis"]
