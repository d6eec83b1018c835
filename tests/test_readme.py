"""The README's API tour runs as written."""

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_api_tour_runs():
    text = README.read_text()
    text = text[text.index("## The API in five minutes") :]
    start = text.index("```python\n") + len("```python\n")
    code = text[start : text.index("```", start)]
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert abs(namespace["toy"].distance() - 1.01**50) < 1e-9
    assert namespace["game"].r1_gamma == 1.0


def test_readme_paired_game_example_trains():
    text = README.read_text()
    section = text[text.index("## Image to image") :]
    start = section.index("```python\n") + len("```python\n")
    code = section[start : section.index("```", start)].replace("steps=20", "steps=2")
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    game = namespace["game"]
    assert namespace["inputs"].shape == (512, 1, 7, 7)
    assert game.generator(namespace["inputs"][:2]).shape == (2, 1, 28, 28)
    assert all(namespace["optimizers"][p].state for p in game.players)  # both players took Adam steps
