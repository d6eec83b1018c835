"""Update rules for any Game, and toy games to check them against theory."""

from gankit.dynamics.alternating import Alternating
from gankit.dynamics.base import Dynamics, StepResult
from gankit.dynamics.extragradient import Extragradient
from gankit.dynamics.optimistic import Optimistic
from gankit.dynamics.precision import Precision
from gankit.dynamics.simultaneous import Simultaneous
from gankit.dynamics.toy import BilinearGame, bilinear_spectral_radius, bilinear_step_matrix
from gankit.dynamics.unrolled import Unrolled, swapped_parameters

__all__ = [
    "Alternating", "Dynamics", "Extragradient", "Optimistic", "Precision", "Simultaneous", "StepResult", "Unrolled",
    "BilinearGame", "bilinear_spectral_radius", "bilinear_step_matrix", "swapped_parameters",
]
