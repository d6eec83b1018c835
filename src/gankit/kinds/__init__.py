"""Game kinds: one module per kind, each the only place that knows its players (see kinds/base.py).

`game: NAME` in a config picks the kind; :func:`get_kind` returns it. To add a kind: its typed
config in gankit.config (KIND_CONFIGS), its module here, and its entry in KINDS.
"""

from __future__ import annotations

from gankit.errors import ConfigError
from gankit.kinds.base import GameKind, PlayerOptimizer, Preview, Setup
from gankit.kinds.bilinear import BilinearKind
from gankit.kinds.circuits import CircuitsKind
from gankit.kinds.design import DesignKind
from gankit.kinds.domain import DomainKind
from gankit.kinds.fields import FieldsKind
from gankit.kinds.gan import GANKind
from gankit.kinds.paired import PairedKind
from gankit.kinds.unpaired import UnpairedKind

__all__ = ["KINDS", "GameKind", "PlayerOptimizer", "Preview", "Setup", "get_kind"]

KINDS: dict[str, GameKind] = {
    kind.name: kind for kind in (GANKind(), BilinearKind(), PairedKind(), UnpairedKind(), DomainKind(),
                                            DesignKind(), CircuitsKind(), FieldsKind())
}


def get_kind(name: str) -> GameKind:
    """The registered kind `name` (the config's `game`)."""
    kind = KINDS.get(name)
    if kind is None:
        raise ConfigError(f"no game kind {name!r} is registered; kinds: {', '.join(KINDS)}")
    return kind
