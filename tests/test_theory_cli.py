"""`gankit dynamics NAME`: each analysis end to end with tiny settings, and one-line errors with exit 2."""

import csv

import pytest
from PIL import Image

from cli_helpers import assert_user_error
from gankit.theory import Table


EXPECTED = {
    "bilinear": (["bilinear.png", "bilinear.csv", "bilinear.md"], ["--steps", "4"]),
    "dirac": (["dirac_portraits.png", "dirac_jacobian.csv", "dirac_jacobian.md", "dirac_trajectories.csv",
               "dirac_trajectories.md"], ["--steps", "3", "--lr", "0.5"]),
    "landscape": (["landscape.png", "landscape.csv", "landscape.md"], ["--steps", "5"]),
    "moments": (["moments.png", "moments_identity.csv", "moments_identity.md", "moments_efficiency.csv",
                 "moments_efficiency.md"], ["--steps", "2"]),
    "ratio": (["ratio.png", "ratio.csv", "ratio.md"], ["--steps", "20", "--lr", "0.01"]),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_analysis_writes_its_figures_and_tables(name, tmp_path, gankit):
    files, args = EXPECTED[name]
    out = tmp_path / "out"
    result = gankit("dynamics", name, "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    for png in out.glob("*.png"):
        assert Image.open(png).size[0] > 300
    for path in out.glob("*.csv"):
        stem = path.stem
        header = next(csv.reader(path.read_text().splitlines()))
        assert (out / f"{stem}.md").read_text().startswith("| " + " | ".join(header) + " |\n")
        assert f"{stem}\n| " in result.stdout  # the table is printed too
    assert str(out) in result.stderr


def test_default_output_directory(tmp_path, monkeypatch, gankit):
    monkeypatch.chdir(tmp_path)
    assert gankit("dynamics", "bilinear", "--steps", "2").returncode == 0
    assert (tmp_path / "runs" / "dynamics-bilinear" / "bilinear.csv").is_file()


def test_a_divergent_lr_is_allowed_and_reported(tmp_path, gankit):
    result = gankit("dynamics", "bilinear", "--lr", "5", "--steps", "1000", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("stopped: ‖z‖ > 1e+06") == 5


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["dynamics", "bilnear"], ["unknown analysis 'bilnear'", "bilinear, dirac, landscape, moments, ratio"]),
        (["dynamics", "bilinear", "--lr", "0"], ["--lr must be a positive number, got 0.0"]),
        (["dynamics", "dirac", "--lr", "-0.1"], ["--lr must be a positive number"]),
        (["dynamics", "ratio", "--lr", "nan"], ["--lr must be a positive number"]),
        (["dynamics", "bilinear", "--lr", "1e300"], ["--lr 1e+300 is above 1000"]),
        (["dynamics", "ratio", "--steps", "0"], ["--steps must be at least 1, got 0"]),
        (["dynamics", "landscape", "--lr", "0.1"], ["landscape analysis has no step size"]),
        (["dynamics", "bilinear", "--steps", "two"], ["--steps"]),
        (["dynamics"], ["analysis"]),
    ],
)
def test_user_errors_are_one_line_with_exit_2(args, fragments, tmp_path, monkeypatch, gankit):
    monkeypatch.chdir(tmp_path)
    assert_user_error(gankit(*args), *fragments)
    assert not (tmp_path / "runs").exists()


def test_out_that_is_a_file_is_refused(tmp_path, gankit):
    target = tmp_path / "file.txt"
    target.write_text("mine")
    result = gankit("dynamics", "landscape", "--out", str(target))
    assert result.returncode == 2 and "is a file" in result.stderr
    assert target.read_text() == "mine"
    result = gankit("dynamics", "landscape", "--out", str(target / "sub"))
    assert_user_error(result, f"--out {target / 'sub'} cannot be created")
    assert target.read_text() == "mine"


def test_table_formats():
    table = Table(["name", "value", "eigenvalue", "note"])
    table.add("a|b", 1 / 3, complex(-0.0, -0.5), None)
    assert table.to_csv() == "name,value,eigenvalue,note\na|b,0.33333333333333331,0-0.5i,\n"
    assert table.to_markdown().splitlines()[2] == "| a\\|b | 0.333333 | 0-0.5i |  |"
    with pytest.raises(ValueError):
        table.add("too few")
