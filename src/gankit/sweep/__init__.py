"""Vectorized sweeps: many small GANs (seeds x a hyperparameter grid) trained as one batched computation.

`gankit sweep CONFIG --seeds 8 --grid optim.lr_d=1e-4,4e-4` (see docs/sweep.md). Each member is an
independent run with its own seed, data order, latent draws and metrics, and reproduces `gankit train`
of the same config: MLP members bit for bit (R1 and gradient penalty included), DCGAN members up to
the rounding of grouped convolutions.

Modules: grid (grid items -> member configs), support (what is vectorized, grouping), stacked
(stacked MLP weights, batched matmuls), stacked_conv (DCGANs as grouped convolutions), optim
(stacked Adam/SGD/RMSprop), engine (the batched step), scoring (modes or FID per member), heatmap
(the sensitivity map), memory (malloc tuning for big temporaries), run (driving it and writing the
outputs).
"""

from gankit.sweep.engine import StackedGAN
from gankit.sweep.grid import GridAxis, Member, expand_members, parse_grid
from gankit.sweep.run import SweepResult, run_sweep
from gankit.sweep.support import PER_MEMBER_KEYS, check_supported, group_members

__all__ = [
    "GridAxis", "Member", "PER_MEMBER_KEYS", "StackedGAN", "SweepResult", "check_supported", "expand_members",
    "group_members", "parse_grid", "run_sweep",
]
