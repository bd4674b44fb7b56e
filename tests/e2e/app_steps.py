"""Steps of the app's browser tests, shared by their modules: ground-truth boxes of a synthetic clip, clicks on a
shown frame at clip pixels, picking a dropdown choice, opening a tab, running two models. Screenshots go to SHOTS
(look at them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT

SHOTS = REPO_ROOT / "test-output" / "browser"
RUN_TIMEOUT_MS = 240_000
# the table is a virtual grid: its aria-rowcount counts the header row too
ROWS_JS = "() => Number(document.querySelector('#prompt-table [role=grid]')?.getAttribute('aria-rowcount') || 1) - 1"
# Gradio hides a component's status tracker once its pending outputs have arrived
SETTLED_JS = (
    "(sel) => [...document.querySelectorAll(sel + ' [data-testid=status-tracker]')]"
    ".every(t => t.classList.contains('hide'))"
)
IMAGE_READY_JS = (
    "(sel) => { const i = document.querySelector(sel + ' img');"
    " return i && i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0; }"
)


def figures(clip_root: Path, frame: int, sequence: str = "seq000") -> dict[int, list[float]]:
    """Ground-truth boxes of the players on a frame of a synthetic clip, by object id."""
    meta = json.loads((clip_root / "meta.json").read_text())["sequences"][sequence]
    entry = next(f for f in meta["frames"] if f["frame"] == frame)
    return {f["object_id"]: f["box"] for f in entry["figures"] if f["object_id"] is not None}


def click_image_point(page: Any, selector: str, x: float, y: float, clip_width: int) -> None:
    """Click clip pixel (x, y) on the image under `selector`, wherever the page put and scaled it."""
    page.wait_for_function(IMAGE_READY_JS, arg=selector)  # measure the image only once it is decoded and laid out
    page.wait_for_function(SETTLED_JS, arg=selector)  # no render of it still on its way
    box = page.locator(f"{selector} img").bounding_box()
    scale = box["width"] / clip_width
    page.mouse.click(box["x"] + x * scale, box["y"] + y * scale)


def click_clip_point(page: Any, x: float, y: float, clip_width: int) -> None:
    """Click clip pixel (x, y) on tab 1's frame and wait for the prompt row it adds."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    before = table_rows(page)
    click_image_point(page, "#prompt-frame", x, y, clip_width)
    try:
        page.wait_for_function(f"() => ({ROWS_JS})() > {before}")
    except Exception as error:  # say what the page showed instead of a bare timeout
        page.screenshot(path=str(SHOTS / "failed-click.png"), full_page=True)
        toasts = page.locator("[data-testid=toast-body]").all_inner_texts()
        raise AssertionError(f"click at clip ({x:.0f}, {y:.0f}) added no prompt row; toasts: {toasts}") from error


def table_rows(page: Any) -> int:
    return page.evaluate(ROWS_JS)


def pick(page: Any, dropdown: str, choice: str) -> None:
    page.locator(f"{dropdown} input").click()
    page.locator(dropdown).get_by_role("option", name=choice, exact=True).click()


def pick_object(page: Any, choice: str) -> None:
    pick(page, "#object-id", choice)


def open_tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    page.wait_for_timeout(300)


def run_models(page: Any, model_a: str, model_b: str) -> None:
    """Pick the two models in tab 2 (open) and run them; waits until the run says done."""
    pick(page, "#model-a", model_a)
    pick(page, "#model-b", model_b)
    page.get_by_role("button", name="Run both models").click()
    page.wait_for_function(
        "() => (document.querySelector('#run-status') || {}).innerText?.includes('done')", timeout=RUN_TIMEOUT_MS
    )


def open_app(page: Any, url: str) -> None:
    """The app at 1400x1000, collecting console errors and uncaught page errors in page.errors (tests assert it
    empty), once the clip upload is on the page."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url, wait_until="load")
    page.locator("#clip-upload").wait_for()


def upload_and_click_players(page: Any, clip_root: Path, name: str, width: int, height: int) -> None:
    """Upload videos/<name>.mp4 of a synthetic clip folder and click players 1 and 2 on frame 0 (from their truth)."""
    page.locator("#clip-upload input[type=file]").set_input_files(str(clip_root / "videos" / f"{name}.mp4"))
    page.wait_for_function(f"() => document.querySelector('#clip-info')?.innerText.includes('{width}×{height}')")
    page.locator("#prompt-frame img").wait_for()
    players = figures(clip_root, 0)
    for object_id in (1, 2):
        x0, y0, x1, y1 = players[object_id]
        if object_id == 2:
            pick_object(page, "New object")
        click_clip_point(page, (x0 + x1) / 2, y0 + 0.4 * (y1 - y0), width)


PLOTS_JS = (
    "(sel) => [...document.querySelectorAll(sel + ' .js-plotly-plot')]"
    ".filter(d => d.querySelector('svg.main-svg')).length"
)


def wait_for_plots(page: Any, selectors: list[str]) -> None:
    """Until each Plotly chart (by CSS selector) has drawn its SVG."""
    for selector in selectors:
        page.wait_for_function(f"({PLOTS_JS})('{selector}') >= 1", timeout=20_000)


def videos_ready(page: Any, ids: list[str]) -> None:
    """Until each video (by elem_id) has its first frame decoded: it plays, and a screenshot shows it."""
    for elem_id in ids:
        page.wait_for_function(
            f"() => {{ const v = document.querySelector('#{elem_id} video'); return v && v.readyState >= 2; }}",
            timeout=30_000,
        )
