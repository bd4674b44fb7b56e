"""The app in a real browser, as a stakeholder uses it: upload, click players, correct on a later frame, run both
models, watch the videos, open every tab, score against ground truth, download the exports. Screenshots of each
tab go to test-output/browser/ (look at them)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium_page, chromium_pages
from tests.e2e.app_steps import (
    RUN_TIMEOUT_MS,
    SHOTS,
    click_clip_point,
    figures,
    open_app,
    open_tab,
    pick,
    pick_object,
    run_models,
    table_rows,
    upload_and_click_players,
    videos_ready,
    wait_for_plots,
)

TAB_PLOTS = {
    "3. Temporal stability": ["#plot-stability-bars", "#plot-stability-timeline"],
    "4. Latency": ["#plot-latency-timeline", "#plot-latency-histogram"],
    "5. Memory": ["#plot-memory-timeline"],
}


@pytest.fixture
def page(app_url: str) -> Iterator[Any]:
    with chromium_page() as page:
        open_app(page, app_url)
        yield page


def _show_frame(page: Any, frame: int) -> None:
    src = page.locator("#prompt-frame img").get_attribute("src")
    number = page.locator("#frame-slider input[type=number]")
    number.fill(str(frame))
    number.press("Enter")
    page.wait_for_function(
        "(old) => { const i = document.querySelector('#prompt-frame img'); return i && i.src !== old; }", arg=src
    )


def _wait_for_run(page: Any) -> None:
    """Run the two test-size models (the server also offers sam2.1-large, which is offline here)."""
    run_models(page, "test-sam2.1-tiny-128", "test-sam2.1-tiny-256")


def _zip_truth(clip_root: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for png in sorted((clip_root / "Annotations" / "seq000").glob("*.png")):
            archive.write(png, arcname=png.name)
    return target


def test_upload_click_correct_run_and_compare(page: Any, small_clip: Path, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    upload_and_click_players(page, small_clip, "seq000", 320, 180)
    _show_frame(page, 6)
    pick_object(page, "1")
    x0, y0, x1, y1 = figures(small_clip, 6)[1]
    click_clip_point(page, (x0 + x1) / 2, y0 + 0.4 * (y1 - y0), 320)
    table = page.locator("#prompt-table").inner_text()
    assert table_rows(page) == 3 and "correction" in table
    page.screenshot(path=str(SHOTS / "1-clip-and-prompts.png"), full_page=True)

    open_tab(page, "2. Side by side")
    _wait_for_run(page)
    videos_ready(page, ["video-side-by-side", "video-a", "video-b", "video-disagreement"])
    wait_for_plots(page, ["#plot-disagreement"])
    page.screenshot(path=str(SHOTS / "2-side-by-side.png"), full_page=True)

    for index, (tab, plots) in enumerate(TAB_PLOTS.items(), start=3):
        open_tab(page, tab)
        wait_for_plots(page, plots)
        page.screenshot(path=str(SHOTS / f"{index}-{tab.split('. ')[1].lower().replace(' ', '-')}.png"), full_page=True)
    assert "RSS" in page.locator("#memory-note").inner_text()

    open_tab(page, "6. Accuracy")
    assert "not accuracy" in page.locator("#accuracy-note").inner_text()
    page.locator("#ground-truth input[type=file]").set_input_files(str(_zip_truth(small_clip, tmp_path / "gt.zip")))
    page.wait_for_function("() => document.querySelector('#accuracy-note')?.innerText.includes('J&F against')")
    wait_for_plots(page, ["#plot-accuracy-bars", "#plot-accuracy-frames", "#plot-accuracy-objects"])
    assert "J (mIoU)" in page.locator("#accuracy-table").inner_text()
    page.screenshot(path=str(SHOTS / "6-accuracy.png"), full_page=True)

    open_tab(page, "7. Export")
    page.locator("#export-files a").first.wait_for()
    listing = page.locator("#export-files").inner_text().replace("\n.", ".")  # stem and extension sit apart
    for expected in ("report.html", "per_frame.csv", "prompts.json", "side_by_side.mp4", "disagreement.mp4"):
        assert expected in listing, listing
    assert listing.count("masks_") == 2 and listing.count(".zip") == 2 and listing.count("overlay_") == 2
    with page.expect_download() as download_info:
        page.locator("#export-files tr", has_text="per_frame").locator("a").first.click()
    saved = tmp_path / "per_frame.csv"
    download_info.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("model,frame,latency_ms") and len(lines) == 1 + 2 * 10
    page.screenshot(path=str(SHOTS / "7-export.png"), full_page=True)
    assert page.errors == []


def test_example_clip_scores_out_of_the_box(page: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.get_by_role("button", name="Load the example clip").click()
    page.wait_for_function("() => document.querySelector('#clip-info')?.innerText.includes('example')")
    assert table_rows(page) >= 1
    open_tab(page, "2. Side by side")
    _wait_for_run(page)
    open_tab(page, "6. Accuracy")
    page.wait_for_function("() => document.querySelector('#accuracy-note')?.innerText.includes('J&F against')")
    wait_for_plots(page, ["#plot-accuracy-bars"])
    assert "random" in page.locator("#accuracy-note").inner_text().lower()
    page.screenshot(path=str(SHOTS / "example-accuracy.png"), full_page=True)
    assert page.errors == []


def test_two_sessions_keep_their_own_prompts_and_results(app_url: str, small_clip: Path) -> None:
    with chromium_pages(2) as (first, second):
        for page in (first, second):
            page.set_viewport_size({"width": 1400, "height": 1000})
            page.goto(app_url, wait_until="load")
            page.locator("#clip-upload").wait_for()
        first.get_by_role("button", name="Load the example clip").click()
        first.wait_for_function("() => document.querySelector('#clip-info')?.innerText.includes('example')")
        example_rows = table_rows(first)

        second.locator("#clip-upload input[type=file]").set_input_files(str(small_clip / "videos" / "seq000.mp4"))
        second.wait_for_function("() => document.querySelector('#clip-info')?.innerText.includes('320×180')")
        x0, y0, x1, y1 = figures(small_clip, 0)[1]
        click_clip_point(second, (x0 + x1) / 2, (y0 + y1) / 2, 320)
        open_tab(second, "2. Side by side")
        _wait_for_run(second)

        assert table_rows(second) == 1
        assert table_rows(first) == example_rows  # the other session's click did not reach this one
        open_tab(first, "2. Side by side")
        assert "done" not in first.locator("#run-status").inner_text()  # nor its results


def test_a_finetuned_model_from_the_models_folder_runs_beside_zero_shot(page: Any, small_clip: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#clip-upload input[type=file]").set_input_files(str(small_clip / "videos" / "seq000.mp4"))
    page.wait_for_function("() => document.querySelector('#clip-info')?.innerText.includes('320×180')")
    x0, y0, x1, y1 = figures(small_clip, 0)[1]
    click_clip_point(page, (x0 + x1) / 2, y0 + 0.4 * (y1 - y0), 320)
    open_tab(page, "2. Side by side")
    pick(page, "#model-a", "test-sam2.1-tiny-128")
    pick(page, "#model-b", "finetuned: team-demo")  # models/team-demo, named from its folder
    page.wait_for_function("() => document.querySelector('#model-facts')?.innerText.includes('team-demo')")
    facts = page.locator("#model-facts").inner_text()
    assert "test-sam2.1-tiny-128 finetuned (frames)" in facts and "validation J&F" in facts
    assert "random weights" in facts
    page.get_by_role("button", name="Run both models").click()
    page.wait_for_function(
        "() => (document.querySelector('#run-status') || {}).innerText?.includes('done')", timeout=RUN_TIMEOUT_MS
    )
    videos_ready(page, ["video-side-by-side", "video-b"])
    assert "finetuned: team-demo" in page.locator("#video-b").inner_text()
    page.screenshot(path=str(SHOTS / "finetuned-side-by-side.png"), full_page=True)
    assert page.errors == []
