"""Issue 17, item 4: every chart the app shows keeps its titles whole and readable at 1400 px and 1000 px wide.

After a run of the two test-size models on the example clip (its ground truth gives the accuracy charts too), each
drawn plotly chart of every tab is measured in the DOM: the chart title and the subplot titles lie inside the chart's
SVG (not cut at the left or right edge), and no value label of a bar or a point overlaps a title. Screenshots of
each tab at both widths go to test-output/browser/charts-<width>-<tab>.png (look at them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium_page
from tests.e2e.app_server import serve_app
from tests.e2e.app_steps import wait_for_plots
from tests.e2e.test_app_browser import SHOTS, _wait_for_run

WIDTHS = (1400, 1000)
TAB_PLOTS = {
    "2. Side by side": ["#plot-disagreement"],
    "3. Temporal stability": ["#plot-stability-bars", "#plot-stability-timeline"],
    "4. Latency": ["#plot-latency-timeline", "#plot-latency-histogram"],
    "5. Memory": ["#plot-memory-timeline"],
    "6. Accuracy": ["#plot-accuracy-bars", "#plot-accuracy-frames", "#plot-accuracy-objects"],
}
# For each drawn chart under a selector: its SVG box, its title boxes (chart title, subplot titles) and the boxes
# of its value labels (bar texts, point texts), as {left, right, top, bottom} in page pixels.
MEASURE_JS = """(sel) => [...document.querySelectorAll(sel + ' .js-plotly-plot')]
  .filter(d => d.querySelector('svg.main-svg')).map(d => {
    const box = (e) => { const r = e.getBoundingClientRect();
                         return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, text: e.textContent}; };
    const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const titles = [...d.querySelectorAll('.gtitle, .annotation .annotation-text')].filter(shown).map(box);
    const labels = [...d.querySelectorAll('.bartext, text.textpoint')].filter(shown).map(box);
    const block = d.closest('.block');
    const badge = block && block.querySelector('[data-testid=block-label]');
    const label = badge && shown(badge) ? box(badge) : null;
    return {svg: box(d.querySelector('svg.main-svg')), titles, labels, badge: label};
  })"""
SLACK_PX = 1.0


@pytest.fixture(scope="module")
def charts_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("charts-app")
    with serve_app(root / "work", root / "server.log") as url:
        yield url


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def chart_problems(chart: dict[str, Any]) -> list[str]:
    """What is wrong with one measured chart: titles outside its SVG, under the plot's label or over each other, and
    value labels over a title."""
    svg = chart["svg"]
    problems = []
    for k, title in enumerate(chart["titles"]):
        inside = all(
            (title[low] >= svg[low] - SLACK_PX and title[high] <= svg[high] + SLACK_PX)
            for low, high in (("left", "right"), ("top", "bottom"))
        )
        if not inside:
            problems.append(
                f"title {title['text']!r} spans x {title['left']:.0f}..{title['right']:.0f}, "
                f"y {title['top']:.0f}..{title['bottom']:.0f}, outside the chart's x {svg['left']:.0f}.."
                f"{svg['right']:.0f}, y {svg['top']:.0f}..{svg['bottom']:.0f}"
            )
        if chart["badge"] is not None and _overlap(title, chart["badge"]):
            problems.append(f"title {title['text']!r} lies under the plot's label {chart['badge']['text']!r}")
        for other in chart["titles"][k + 1 :]:
            if _overlap(title, other):
                problems.append(f"title {title['text']!r} overlaps title {other['text']!r}")
        for label in chart["labels"]:
            if _overlap(title, label):
                problems.append(f"value label {label['text']!r} overlaps title {title['text']!r}")
    return problems


def _open_tab(page: Any, name: str) -> None:
    """Click a tab; in a narrow window the last tabs sit in the tab bar's overflow menu (its "..." button)."""
    tab = page.get_by_role("tab", name=name)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
    else:
        page.locator(".overflow-menu > button").first.click()
        page.locator(".overflow-dropdown button", has_text=name).first.click()
    page.wait_for_timeout(300)


def _tab_file(width: int, tab: str) -> Path:
    return SHOTS / f"charts-{width}-{tab.split('. ')[1].lower().replace(' ', '-')}.png"


@pytest.fixture
def ran_example(charts_app: str) -> Iterator[Any]:
    with chromium_page() as page:
        page.set_viewport_size({"width": WIDTHS[0], "height": 1000})
        page.goto(charts_app, wait_until="load")
        page.locator("#clip-upload").wait_for()
        page.get_by_role("button", name="Load the example clip").click()
        page.wait_for_function("() => document.querySelector('#clip-info')?.innerText.includes('example')")
        _open_tab(page, "2. Side by side")
        _wait_for_run(page)
        _open_tab(page, "6. Accuracy")
        page.wait_for_function("() => document.querySelector('#accuracy-note')?.innerText.includes('J&F against')")
        yield page


def test_every_chart_title_fits_and_no_value_label_covers_it(ran_example: Any) -> None:
    page = ran_example
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        for tab, selectors in TAB_PLOTS.items():
            _open_tab(page, tab)
            wait_for_plots(page, selectors)
            # a chart drawn while its tab was hidden keeps its old width until the window resizes again
            page.evaluate("() => window.dispatchEvent(new Event('resize'))")
            page.wait_for_timeout(700)
            page.screenshot(path=str(_tab_file(width, tab)), full_page=True)
            for selector in selectors:
                charts = page.evaluate(MEASURE_JS, selector)
                assert charts and charts[0]["titles"], f"{selector} at {width} px drew no chart with a title"
                assert charts[0]["svg"]["right"] <= width + SLACK_PX, f"{selector} is wider than the window"
                problems += [f"{width} px, {selector}: {p}" for p in chart_problems(charts[0])]
    assert not problems, "\n".join(problems)
