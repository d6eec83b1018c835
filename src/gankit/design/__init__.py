"""Generative design (issue 20): designs of a target property that can be made.

contact.py   differentiable contact mechanics of a sinusoidal texture: friction, peak pressure, feasibility
"""

from gankit.design.contact import ContactModel, Manufacturing

__all__ = ["ContactModel", "Manufacturing"]
