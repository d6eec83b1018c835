"""Generative design (issue 20): designs of a target property that can be made.

contact.py    differentiable contact mechanics of a sinusoidal texture: friction, peak pressure, feasibility
space.py      the design coordinates, the process model's catalogue, the reachable range, a target's solutions
game.py       the physics-informed conditional design game and its two players
evaluate.py   hit rate, feasibility and coverage of a set of designs for a target
baselines.py  random search and gradient descent with the same number of physics evaluations
workflow.py   `gankit design`: designs per target from a trained run beside the baselines (figures.py: its figure)
circuits.py   gene circuits: signed graphs, Hill-function ODEs by a vectorized RK4, behaviour labels
"""

from gankit.design.contact import ContactModel, Manufacturing

__all__ = ["ContactModel", "Manufacturing"]
