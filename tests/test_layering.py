"""The package's layering, read off the source: no import circle, metrics take data and players (never a run
directory or a config), and only the gan kind tells generator classes apart (docs/architecture.md)."""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "gankit"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in SOURCE.rglob("*.py")}


def _imports(name: str) -> set[str]:
    """Every gankit module `name` imports, at the top or inside a function, with the packages in between
    (importing gankit.metrics.names runs gankit/metrics/__init__.py first). The root package and the
    module's own enclosing packages are left out: they are already being imported when it runs."""
    tree = ast.parse(MODULES[name].read_text())
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package upwards
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            parts = target.split(".")
            for end in range(2, len(parts) + 1):
                candidate = ".".join(parts[:end])
                if candidate in MODULES and candidate != name and not name.startswith(candidate + "."):
                    found.add(candidate)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def _cycle() -> list[str] | None:
    """One import circle between modules, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for module in sorted(GRAPH):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_graph_is_read_from_real_imports():
    assert "gankit.kinds.gan" in GRAPH["gankit.kinds"] and "gankit.metrics.evaluate" in GRAPH["gankit.kinds.gan"]
    assert "gankit.train.checkpoint" in GRAPH["gankit.runs"]
    assert "gankit.report" in GRAPH["gankit.train.run"]  # a function-local import counts


def test_no_import_circle_in_the_package():
    assert _cycle() is None, " -> ".join(_cycle())


def test_a_planted_circle_is_found(monkeypatch):
    monkeypatch.setitem(GRAPH, "gankit.atomic", GRAPH["gankit.atomic"] | {"gankit.runs"})
    assert _cycle() is not None


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("gankit.metrics")))
def test_metrics_take_data_and_players_not_runs_or_configs(module):
    forbidden = ("gankit.config", "gankit.experiment", "gankit.train", "gankit.runs", "gankit.kinds")
    assert not [m for m in GRAPH[module] if m.startswith(forbidden)], GRAPH[module]


GENERATOR_CLASSES = {"ConditionalGenerator", "InfoGANGenerator", "MLPGenerator", "DCGANGenerator"}


def test_only_the_gan_kind_tells_generator_classes_apart():
    offenders = []
    for name, path in MODULES.items():
        if name.startswith("gankit.kinds.gan"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
                named = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                if named & GENERATOR_CLASSES:
                    offenders.append(f"{name}:{node.lineno}")
    assert offenders == []
