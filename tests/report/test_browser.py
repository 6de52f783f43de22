"""The report in a real browser: headless Chromium (Debian package ``chromium``) opens the
page from a file over the DevTools protocol. Every figure must be there at a sensible
size, the page must make no network request and log no console error; a full-page
screenshot and the printed PDF are kept under ``test-artifacts/``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from report_cdp import find_chromium, open_page
from report_fixtures import make_eval_logs, synthetic_rdbench

from rdbench.records import load_attempts, public_release_dates_path, read_release_dates
from rdbench.report import write_report

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

MEASURE = """
JSON.stringify({
  figures: [...document.querySelectorAll('figure.figure')].map(f => {
    const svg = f.querySelector('svg');
    const r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    return {id: f.dataset.figure, width: r.width, height: r.height,
            paths: svg ? svg.querySelectorAll('path').length : 0};
  }),
  empty: [...document.querySelectorAll('[data-empty]')].map(e => e.dataset.empty),
  pageWidth: document.documentElement.scrollWidth,
  viewport: window.innerWidth,
  title: document.title,
  transcripts: [...document.querySelectorAll('table.attempts code')].map(c => c.textContent),
})
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_chromium() is None, reason="needs chromium (Debian package)"),
]


@pytest.fixture(scope="module")
def page(tmp_path_factory, metr_subset) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    logs = make_eval_logs(tmp / "logs")
    metr, metr_traj, _ = load_attempts([tmp / "logs", metr_subset])
    synthetic, synthetic_traj = synthetic_rdbench()
    return write_report(
        pd.concat([metr, synthetic], ignore_index=True),
        pd.concat([metr_traj, synthetic_traj], ignore_index=True),
        tmp / "report.html",
        read_release_dates(public_release_dates_path()),
        n_bootstrap=100,
        inputs=[str(logs[0]), str(metr_subset), "synthetic"],
    )


def test_page_renders_every_figure_offline_without_errors(page):
    import json

    visit = open_page(page, MEASURE, width=1280, height=900)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.png").write_bytes(visit.screenshot)
    (ARTIFACTS / "report.pdf").write_bytes(visit.pdf)

    result = json.loads(visit.evaluated)
    figures = {f["id"]: f for f in result["figures"]}
    assert set(figures) == {"budget", "trajectory", "horizon", "trend", "elicitation"}
    assert result["empty"] == []
    for fig in figures.values():
        # big enough to read on a laptop, never wider than the page
        assert 480 <= fig["width"] <= 1100, fig
        assert 250 <= fig["height"] <= 1400, fig
        assert fig["paths"] > 50, fig  # really drawn, not an empty axis
    assert result["pageWidth"] <= result["viewport"]  # no horizontal scrolling
    assert result["title"] == "rdbench report"
    assert any(t.endswith(".eval") for t in result["transcripts"])
    assert any(t.startswith("inspect view --log-dir") for t in result["transcripts"])

    assert visit.requests == [page.resolve().as_uri()]  # the page itself, nothing else
    assert visit.console_errors == [] and visit.exceptions == []
    assert visit.screenshot.startswith(b"\x89PNG") and len(visit.screenshot) > 50_000
    assert visit.pdf.startswith(b"%PDF") and visit.pdf.count(b"/Type /Page") >= 3


def test_narrow_window_shrinks_figures_to_fit(page):
    import json

    visit = open_page(page, MEASURE, width=700, height=900)
    result = json.loads(visit.evaluated)
    assert result["pageWidth"] <= result["viewport"]
    assert all(f["width"] <= 700 for f in result["figures"])
