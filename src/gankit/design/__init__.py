"""Generative design (issue 20): designs of a target property that can be made.

contact.py    differentiable contact mechanics of a sinusoidal texture: friction, peak pressure, feasibility
space.py      the design coordinates (two charts), the process model's catalogue, the reachable range, a target's
              solutions and their aspects
physics.py    what the physics charges a design: the friction miss (read in friction or in aspect) and the hinge
game.py       the physics-informed conditional design game and its two players
evaluate.py   hit rate, feasibility and coverage of a set of designs for a target
baselines.py  random search and gradient descent with the same number of physics evaluations
workflow.py   `gankit design`: designs per target from a trained run beside the baselines (figures.py: its figure)
circuits.py   gene circuits: signed graphs, Hill-function ODEs by a vectorized RK4, behaviour labels
graphs.py     isomorphism codes, validity, uniqueness, novelty; random graphs and single-edge mutations
library.py    the circuits that show a behaviour, split by isomorphism class into training and held out
circuit_game.py     the graph GAN: a Gumbel-softmax generator of signed adjacencies, a message-passing critic
circuit_scores.py   validity, uniqueness, novelty and the share of novel circuits that work, by simulation
circuit_workflow.py `gankit design` on a circuits run beside the baselines (circuit_figures.py: its figure)
"""

from gankit.design.contact import ContactModel, Manufacturing

__all__ = ["ContactModel", "Manufacturing"]
