"""gankit report / gankit compare: what the page holds, damaged runs, bad directories, the comparison files."""

import base64
import csv
import io
import re

import pytest
from PIL import Image

from cli_helpers import assert_user_error
from gankit.report import read_run
from gankit.report.html import render_report
from report_helpers import ALARMS, add_eval_and_alarms, tiny_run

CONFIG = "seed: 0\ndata:\n  name: ring8\n"
HEADER = "step,loss_d,loss_g,d_real\n"
ROWS = "1,1.5,0.7,0.1\n2,1.4,0.8,0.2\n3,1.3,0.9,0.3\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    a, b = tiny_run(base / "run_a", seed=0), tiny_run(base / "run_b", seed=1, steps=5)
    add_eval_and_alarms(a)
    return a, b


def _images(html):
    return re.findall(r'<img class="(\w+)" alt="([^"]*)" src="([^"]*)"', html)


def test_report_of_a_real_run_holds_config_curves_samples_eval_and_alarms(runs, gankit):
    run = runs[0]
    result = gankit("report", str(run))
    assert result.returncode == 0, result.stderr
    html = (run / "report.html").read_text()

    assert "name: ring8" in html and "lr_d: 0.0005" in html  # config.yaml as text
    images = _images(html)
    samples = [alt for kind, alt, _ in images if kind == "sample"]
    assert samples == ["step 0", "step 3", "step 6"]
    curves = [alt for kind, alt, _ in images if kind == "curve"]
    assert curves[0].startswith("Losses: loss_d, loss_g") and any(c.startswith("Gradient norms") for c in curves)
    assert html.count("<img") == len(images) == len(samples) + len(curves)
    assert f'data-images-total="{len(images)}"' in html
    for _, _, src in images:  # self-contained: every image a PNG data URI that decodes
        assert src.startswith("data:image/png;base64,")
        Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).load()
    assert not re.search(r'(src|href)="(https?:)?//', html) and "<link" not in html

    eval_table = re.search(r'<table id="eval-table">.*?</table>', html).group(0)
    assert "fid_ring8_1k" in eval_table and "1.23457" in eval_table and "null (not finite)" in eval_table
    alarms = re.search(r'<table id="alarms-table">.*?</table>', html).group(0)
    assert "<td>d_overconfident</td><td>2</td><td>2, 5</td>" in alarms
    assert "<td>grad_spike</td><td>1</td><td>4</td>" in alarms and ALARMS[2]["advice"] in alarms
    assert "Nothing: every file was read." in html


@pytest.mark.parametrize("metrics, rows, missing", [
    (HEADER + ROWS + "4,1.2,0.", 3, "1 damaged row(s) skipped (line 5)"),          # killed mid-row
    (HEADER + ROWS + "4,1.2,0.95,0.4", 3, "1 damaged row(s) skipped (line 5)"),    # last line without newline
    (HEADER + "1,1.5,oops,0.1\n" + ROWS[14:], 2, "1 damaged row(s) skipped (line 2)"),  # non-numeric cell
    ("", 0, "metrics.csv is empty"),
    (HEADER, 0, "metrics.csv holds no readable rows"),
    ("\x00\x00garbage\n", 0, "metrics.csv has no valid header"),
    (None, 0, "metrics.csv is missing"),
], ids=["cut-mid-row", "no-final-newline", "non-numeric", "empty", "header-only", "binary-garbage", "absent"])
def test_damaged_metrics_still_render_and_the_report_says_what_is_missing(tmp_path, gankit, metrics, rows, missing):
    run = tmp_path / "killed"
    run.mkdir()
    (run / "config.yaml").write_text(CONFIG)
    if metrics is not None:
        (run / "metrics.csv").write_text(metrics)
    result = gankit("report", str(run))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    html = (run / "report.html").read_text()
    section = re.search(r'<section id="missing">.*?</section>', html).group(0)
    assert missing in section
    assert "no samples/ folder" in section and "no eval.json" in section
    assert len(read_run(run).rows) == rows
    assert ('class="curve"' in html) == (rows > 0)


def test_missing_config_and_damaged_sample_are_named(tmp_path, gankit):
    run = tmp_path / "partial"
    (run / "samples").mkdir(parents=True)
    (run / "metrics.csv").write_text(HEADER + ROWS)
    Image.new("RGB", (8, 8), "red").save(run / "samples" / "step_000001.png")
    (run / "samples" / "step_000002.png").write_bytes(b"\x89PNG\r\n\x1a\n-cut")
    (run / "eval.json").write_text('{"step": 3, "metr')
    assert gankit("report", str(run), "--out", str(tmp_path / "r.html")).returncode == 0
    section = re.search(r'<section id="missing">.*?</section>', (tmp_path / "r.html").read_text()).group(0)
    assert "config.yaml is missing" in section
    assert "samples/step_000002.png is damaged" in section
    assert "eval.json is damaged" in section
    assert [alt for kind, alt, _ in _images((tmp_path / "r.html").read_text()) if kind == "sample"] == ["step 1"]


def _section(html, name):
    return re.search(rf'<section id="{name}">.*?</section>', html).group(0)


def test_no_alarms_file_means_no_alarm_fired_and_a_damaged_one_is_named(runs, tmp_path):
    healthy = runs[1]  # trained and never alarmed: alarms.jsonl is written at the first alarm only
    assert not (healthy / "alarms.jsonl").exists()
    html, _ = render_report(read_run(healthy))
    assert "alarms" not in _section(html, "missing") and "No alarms fired." in _section(html, "alarms")

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "metrics.csv").write_text(HEADER + ROWS)
    (damaged / "config.yaml").write_text(CONFIG)
    (damaged / "alarms.jsonl").write_text('{"step": 2, "alarm": "coll\n')
    html, _ = render_report(read_run(damaged))
    assert "alarms.jsonl: 1 damaged line(s) skipped" in _section(html, "missing")
    assert "No readable alarms: alarms.jsonl is damaged" in _section(html, "alarms")
    assert "No alarms fired" not in html

    (damaged / "alarms.jsonl").unlink()
    (damaged / "config.yaml").write_text(CONFIG + "train:\n  diagnostics: false\n")
    html, _ = render_report(read_run(damaged))
    assert "train.diagnostics was off, so only a NaN rollback" in _section(html, "alarms")


def test_a_directory_that_is_not_a_run_is_one_clear_error(tmp_path, gankit):
    (tmp_path / "empty").mkdir()
    assert_user_error(gankit("report", str(tmp_path / "empty")), str(tmp_path / "empty"), "not a gankit run directory")
    assert_user_error(gankit("report", str(tmp_path / "nowhere")), str(tmp_path / "nowhere"), "not a directory")
    assert not (tmp_path / "empty" / "report.html").exists()


def _last_row(run):
    with (run / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))[-1]


def test_compare_writes_figure_and_final_values_of_each_run(runs, tmp_path, gankit):
    a, b = runs
    out = tmp_path / "cmp"
    result = gankit("compare", str(a), str(b), "--out", str(out))
    assert result.returncode == 0, result.stderr
    with Image.open(out / "compare.png") as png:
        assert png.width > 300 and len(png.getcolors(2**24)) > 10

    with (out / "compare.csv").open() as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["quantity", "run_a", "run_b"]
    values = {row[0]: row[1:] for row in table[1:]}
    last_a, last_b = _last_row(a), _last_row(b)
    assert values["step"] == ["6", "5"]
    assert set(last_a) - {"step"} <= set(values)
    for column in set(last_a) - {"step"}:
        assert [float(v) for v in values[column]] == [float(last_a[column]), float(last_b[column])], column
    assert float(values["eval.json:fid_ring8_1k"][0]) == 1.2345678 and values["eval.json:fid_ring8_1k"][1] == ""
    assert values["eval.json:recall_ring8_1k"] == ["", ""]

    markdown = (out / "compare.md").read_text()
    assert markdown.splitlines()[0] == "| quantity | run_a | run_b |"
    assert f"| loss_d | {float(last_a['loss_d']):.6g} | {float(last_b['loss_d']):.6g} |" in markdown
    assert markdown in result.stdout  # the table printed to the console


def test_compare_overlays_only_columns_shared_by_two_runs(tmp_path):
    from gankit.report import compare_runs

    for name, header in [("x", "step,loss_d,only_x\n"), ("y", "step,loss_d,only_y\n")]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.csv").write_text(header + "1,0.5,1\n2,0.4,2\n")
    result = compare_runs([tmp_path / "x", tmp_path / "y"], tmp_path / "out")
    assert result.shared == ["loss_d"]
    assert [name for name, _ in result.table] == ["step", "loss_d", "only_x", "only_y"]
    assert dict(result.table)["only_y"] == [None, 2.0]


def test_compare_errors_name_the_bad_directory_and_default_out(runs, tmp_path, gankit, monkeypatch):
    (tmp_path / "notarun").mkdir()
    assert_user_error(gankit("compare", str(runs[0]), str(tmp_path / "notarun")), str(tmp_path / "notarun"))
    assert_user_error(gankit("compare", str(runs[0])), "at least two run directories")
    (tmp_path / "headeronly").mkdir()
    (tmp_path / "headeronly" / "metrics.csv").write_text(HEADER)
    assert_user_error(gankit("compare", str(runs[1]), str(tmp_path / "headeronly")),
                      str(tmp_path / "headeronly"), "nothing to compare")
    monkeypatch.chdir(tmp_path)
    assert gankit("compare", str(runs[0]), str(runs[1])).returncode == 0
    [made] = (tmp_path / "runs").glob("compare-*")
    assert sorted(p.name for p in made.iterdir()) == ["compare.csv", "compare.md", "compare.png"]
