"""Update rules for any Game, and toy games to check them against theory."""

from gankit.dynamics.alternating import Alternating
from gankit.dynamics.base import Dynamics, StepResult
from gankit.dynamics.simultaneous import Simultaneous
from gankit.dynamics.toy import BilinearGame, bilinear_spectral_radius

__all__ = ["Alternating", "Dynamics", "Simultaneous", "StepResult", "BilinearGame", "bilinear_spectral_radius"]
