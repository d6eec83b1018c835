"""`gankit integrate`: single-cell batch-effect removal by domain-adversarial training (docs/integration.md)."""

from gankit.integrate.inputs import BUILTIN_CELLS, Cells, load_cells
from gankit.integrate.workflow import METHODS, IntegrationResult, integrate, score_embedding

__all__ = ["BUILTIN_CELLS", "METHODS", "Cells", "IntegrationResult", "integrate", "load_cells", "score_embedding"]
