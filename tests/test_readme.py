"""The README's Python examples run as written."""

from doc_helpers import run_example


def test_api_tour_runs():
    namespace = run_example("README.md", "## The API in five minutes")
    assert abs(namespace["toy"].distance() - 1.01**50) < 1e-9
    assert namespace["game"].r1_gamma == 1.0


def test_readme_paired_game_example_trains():
    namespace = run_example("README.md", "## Image to image", ("steps=20", "steps=2"))
    game = namespace["game"]
    assert namespace["inputs"].shape == (512, 1, 7, 7)
    assert game.generator(namespace["inputs"][:2]).shape == (2, 1, 28, 28)
    assert all(namespace["optimizers"][p].state for p in game.players)  # both players took Adam steps
