"""The leaderboard report in a real browser, offline, as a stakeholder opens it: every plotly chart draws, the
stills load, nothing is fetched from outside, nothing spills out sideways. The full-page screenshot goes to
test-output/browser/leaderboard-report.png (look at it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluation.leaderboard.cli import run_leaderboard
from tests.browser import plotly_page_offline
from tests.conftest import REPO_ROOT
from tests.evaluation.leaderboard.builders import ModelSpec, exact, noise, shifted, write_dataset, write_evaluate_folder

SHOT = REPO_ROOT / "test-output" / "browser" / "leaderboard-report.png"
SYNTHETIC = "trained here on synthetic footage only (never saw real video)"
SPECS = (
    ModelSpec("sam2.1-tiny", shifted(3), latency_ms=95.0, memory_mb=1200.0),
    ModelSpec("nano-pitch", exact, latency_ms=45.0, memory_mb=600.0, weights=SYNTHETIC, parameters=2_100_000),
    ModelSpec("test-random", noise, latency_ms=20.0, memory_mb=300.0, random_weights=True, weights="random weights"),
)
SEEN_JS = """() => ({
    charts: document.querySelectorAll('.js-plotly-plot').length,
    drawn: [...document.querySelectorAll('.js-plotly-plot')].filter(d => d.querySelector('svg.main-svg')).length,
    stills: [...document.querySelectorAll('figure.still img')].map(i => i.complete && i.naturalWidth > 0),
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    cutTables: [...document.querySelectorAll('section:not(#sequences) .table-wrap')]
        .filter(w => w.scrollWidth > w.clientWidth).length,
    headline: document.querySelector('p.headline').textContent,
})"""


def open_offline(report: Path, charts: int) -> dict[str, Any]:
    """What Chromium shows of the report from file:// with every other request blocked."""
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    result = plotly_page_offline(report, charts, screenshot=str(SHOT), evaluate=SEEN_JS)
    return {**result["seen"], "outside": result["outside"], "errors": result["errors"]}


def test_leaderboard_report_renders_offline_with_charts_and_stills(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_evaluate_folder(out, write_dataset(tmp_path / "data"), SPECS)
    run_leaderboard(str(out), cached=False)
    report = out / "report.html"
    charts = report.read_text(encoding="utf-8").count('class="plotly-graph-div"')
    assert charts == 2  # J&F per sequence, speed against accuracy

    seen = open_offline(report, charts)
    assert seen["drawn"] == seen["charts"] == charts
    assert seen["stills"] == [True, True, True]
    assert seen["outside"] == [] and seen["errors"] == []
    assert seen["overflow"] <= 0, "the page scrolls sideways"
    assert seen["cutTables"] == 0, "a table is wider than its section at 1366 px"
    assert seen["headline"].startswith("Against sam2.1-tiny: nano-pitch is more accurate")
    assert SHOT.stat().st_size > 10_000
