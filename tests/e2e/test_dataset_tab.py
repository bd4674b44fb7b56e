"""The Dataset tab in a real browser: run the example dataset (three synthetic clips, the app's two default models,
here two random-weight test models), wait for the leaderboard, check the charts drew with titles that fit, download
the CSV, then upload the downloaded leaderboard.json back. Screenshots at 1400 and 1000 px wide go to
test-output/browser/dataset-tab-*.png (look at them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium_page
from tests.conftest import REPO_ROOT
from tests.e2e.app_server import serve_app
from tests.e2e.app_steps import open_app

SHOTS = REPO_ROOT / "test-output" / "browser"
MODELS = ("test-sam2.1-tiny-128", "random-sam2.1-nano")  # the default pair of this list: A then B
RUN_TIMEOUT_MS = 240_000
PLOTS = ("#plot-dataset-jf", "#plot-dataset-latency", "#plot-dataset-sequences")
DRAWN_JS = "(sel) => !!document.querySelector(sel + ' .js-plotly-plot svg.main-svg')"
ROWS_JS = "(sel) => Number(document.querySelector(sel + ' [role=grid]')?.getAttribute('aria-rowcount') || 1) - 1"
# every chart title ends inside its chart (a title wider than the chart is cut off by the SVG)
TITLES_FIT_JS = """(sels) => sels.map((sel) => {
    const svg = document.querySelector(sel + ' .js-plotly-plot svg.main-svg');
    const title = document.querySelector(sel + ' .js-plotly-plot .gtitle');
    const box = svg.getBoundingClientRect(), text = title.getBoundingClientRect();
    return {sel, fits: text.left >= box.left && text.right <= box.right, text: title.textContent};
})"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("dataset-app")
    env = {"PLAYERSEG_MODELS": ",".join(MODELS), "PLAYERSEG_EXAMPLE_FRAMES": "2"}
    with serve_app(root / "work", root / "server.log", **env) as url:
        yield url


@pytest.fixture
def page(app_url: str) -> Iterator[Any]:
    with chromium_page() as page:
        open_app(page, app_url)
        page.get_by_role("tab", name="8. Dataset").click()
        yield page


def _wait_for_leaderboard(page: Any, source: str) -> None:
    page.wait_for_function(
        "(s) => document.querySelector('#dataset-summary')?.innerText.includes('Showing ' + s)",
        arg=source,
        timeout=RUN_TIMEOUT_MS,
    )
    page.wait_for_function(f"({ROWS_JS})('#dataset-models') >= {len(MODELS)}")
    for selector in PLOTS:
        page.wait_for_function(f"({DRAWN_JS})('{selector}')", timeout=20_000)


def _check_titles_fit(page: Any) -> None:
    for chart in page.evaluate(TITLES_FIT_JS, list(PLOTS)):
        assert chart["fits"], f"{chart['sel']}: the title {chart['text']!r} is cut off"


def test_the_example_dataset_runs_and_its_leaderboard_comes_back_as_an_upload(page: Any, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.get_by_role("button", name="Run the example dataset (3 synthetic clips)").click()
    _wait_for_leaderboard(page, "the example dataset")

    summary = page.locator("#dataset-summary").inner_text()
    assert "Random weights" in summary and "Verdict" in summary and "synthetic" in summary
    models = page.locator("#dataset-models").inner_text()
    assert all(name in models for name in MODELS) and "baseline" in models
    assert page.evaluate(ROWS_JS, "#dataset-sequences") == 3 * len(MODELS)
    legend = page.locator("#plot-dataset-jf .legendtext").all_text_contents()
    assert legend == [f"{name} (random weights)" for name in MODELS]
    listing = page.locator("#dataset-files").inner_text().replace("\n.", ".")  # stem and extension sit apart
    for name in ("report.html", "leaderboard.csv", "models.csv", "leaderboard.json"):
        assert name in listing, listing
    page.screenshot(path=str(SHOTS / "dataset-tab-1400.png"), full_page=True)
    _check_titles_fit(page)

    page.set_viewport_size({"width": 1000, "height": 1000})
    page.wait_for_timeout(800)  # plotly re-lays its charts out for the narrower window
    page.screenshot(path=str(SHOTS / "dataset-tab-1000.png"), full_page=True)
    _check_titles_fit(page)

    saved = {}
    for extension in ("csv", "json"):
        row = page.locator("#dataset-files tr").filter(has_text="leaderboard").filter(has_text=extension)
        with page.expect_download() as download:
            row.locator("a").first.click()
        saved[extension] = tmp_path / f"leaderboard.{extension}"
        download.value.save_as(saved[extension])
    lines = saved["csv"].read_text().splitlines()
    assert lines[0].startswith("model,sequence,J,F,JF,latency_p50_ms,peak_memory_mb") and len(lines) == 1 + 6
    assert "sessions" not in saved["json"].read_text()  # no server folder in what users take away

    page.locator("#dataset-upload input[type=file]").set_input_files(str(saved["json"]))
    _wait_for_leaderboard(page, "leaderboard.json")
    assert page.evaluate(ROWS_JS, "#dataset-sequences") == 3 * len(MODELS)
    assert page.errors == []
