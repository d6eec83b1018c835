"""The report in a real browser: headless Chromium loads every embedded image, runs the inline script,
and draws a page that is not blank. Skips only when `chromium` is not on PATH (.ci/run installs it)."""

import re
import shutil
import subprocess

import pytest
from PIL import Image

from gankit.report import write_report
from report_helpers import add_eval_and_alarms, tiny_run

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (apt-get install chromium)")


def _chromium(tmp_path, *args):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
               f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def test_chromium_loads_every_image_and_draws_the_report(tmp_path):
    run = tiny_run(tmp_path / "run")
    add_eval_and_alarms(run)
    page = write_report(run).path
    url = page.resolve().as_uri()

    dom = _chromium(tmp_path, "--dump-dom", url).stdout
    for section in ("missing", "config", "curves", "samples", "eval", "alarms"):
        assert f'<section id="{section}">' in dom, section
    assert '<table id="eval-table">' in dom and '<table id="alarms-table">' in dom
    body = re.search(r"<body[^>]*>", dom).group(0)
    loaded = re.search(r'data-images-loaded="(\d+)"', body)
    total = re.search(r'data-images-total="(\d+)"', body)
    assert loaded is not None, f"the inline script did not run: {body}"
    assert int(total.group(1)) == dom.count("<img") > 3  # 3 sample grids + curve figures
    assert loaded.group(1) == total.group(1)

    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,3000", url)
    with Image.open(shot) as image:
        assert image.size == (1200, 3000)
        colours = image.convert("RGB").getcolors(maxcolors=2**24)
        assert colours is not None and len(colours) > 50  # text, curves, scatter plots: not a blank page
