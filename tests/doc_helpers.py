"""Run the Python examples that the README and docs/ show, as written (with their step counts lowered)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_example(document: str, heading: str, replace: tuple[str, str] | None = None) -> dict:
    """Execute the first ```python block after `heading` in `document` (a path from the repository root); return
    its namespace. `replace` swaps one text for another first (e.g. fewer steps)."""
    text = (ROOT / document).read_text()
    section = text[text.index(heading) :]
    start = section.index("```python\n") + len("```python\n")
    code = section[start : section.index("```", start)]
    if replace is not None:
        code = code.replace(*replace)
    namespace: dict = {}
    exec(compile(code, document, "exec"), namespace)  # noqa: S102 - the documented example is the test
    return namespace
