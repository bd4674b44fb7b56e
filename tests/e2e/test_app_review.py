"""Issue 17's acceptance for tab 9, "Review & save", in a real browser: upload a clip, click two players, run
nano-pitch (A, the small model trained here) against a random-weight test model (B), keep A's masks, fix one object
on a later frame with a negative click (the preview changes the shown frame, Track again changes that frame's mask),
rename it and add the clip to the dataset. Two browser sessions then add two other clips at once, and the dataset
downloads as a zip. The dataset folder passes `python -m evaluation summary` with no warning, finetuning trains one
epoch on it, and its COCO boxes are the saved masks' boxes. Screenshots of tab 9 go to
test-output/browser/9-review-*.png (look at them)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from playerseg.io.masks import bbox_from_mask, read_palette_png
from playerseg.synthetic.dataset import generate_dataset
from tests.browser import chromium_page, chromium_pages
from tests.conftest import REPO_ROOT
from tests.e2e.app_server import serve_app
from tests.e2e.app_steps import (
    SHOTS,
    click_image_point,
    open_app,
    open_tab,
    pick,
    run_models,
    upload_and_click_players,
)

MODELS = ("nano-pitch", "test-sam2.1-tiny-128")  # A: masks that mean something; B: random weights
FRAMES = 8
FIX_FRAME = 5  # a later frame than the clicks on frame 0
WIDTH, HEIGHT = 320, 180
REVIEW_TAB = "9. Review & save"
STEP_TIMEOUT_MS = 120_000  # a preview or a re-track of 8 frames on CPU
TEXT_JS = "([sel, text]) => (document.querySelector(sel)?.innerText || '').includes(text)"
CLI_ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}


@dataclass(frozen=True)
class Server:
    url: str
    work: Path
    dataset: Path
    log: Path


@dataclass(frozen=True)
class Fixed:
    """What the one-session review did: the fixed object and frame, the kept run's and the review's masks."""

    object_id: int
    frame: int
    run_masks: Path
    review_masks: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("review-app")
    dataset = root / "golden"
    env = {"PLAYERSEG_MODELS": ",".join(MODELS), "PLAYERSEG_DATASET_DIR": str(dataset)}
    with serve_app(root / "work", root / "server.log", **env) as url:
        yield Server(url, root / "work", dataset, root / "server.log")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Synthetic 8-frame clips apart (their own seeds), each as videos/<name>.mp4 so the default sequence names
    differ: fix (the one-session review), clip_a and clip_b (the two sessions at once)."""
    root = tmp_path_factory.mktemp("review-clips")
    for seed, name in enumerate(("fix", "clip_a", "clip_b"), start=3):
        generate_dataset(root / name, sequences=1, frames=FRAMES, players=2, width=WIDTH, height=HEIGHT, seed=seed)
        shutil.copy(root / name / "videos" / "seq000.mp4", root / name / "videos" / f"{name}.mp4")
    return {name: root / name for name in ("fix", "clip_a", "clip_b")}


@pytest.fixture(scope="module")
def fixed(server: Server, clips: dict[str, Path]) -> Fixed:
    """One session: upload, click two players, run, review A's masks, fix the largest object on FIX_FRAME with a
    negative click (its preview changes the shown frame), track it again, rename it "No. 10" and add the clip to the
    dataset as sequence "fixed"."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        open_app(page, server.url)
        upload_and_click_players(page, clips["fix"], "fix", WIDTH, HEIGHT)
        _run_and_start_review(page, server)
        _show_review_frame(page, FIX_FRAME)
        review = _only_review_folder(server.work)
        before = read_palette_png(review / "masks" / f"{FIX_FRAME:05d}.png")
        areas = np.bincount(before.ravel(), minlength=3)[1:]
        object_id = int(np.argmax(areas)) + 1
        assert areas[object_id - 1] > 50, f"nano-pitch found no player on frame {FIX_FRAME}: areas {areas}"
        pick(page, "#review-object", str(object_id))
        page.screenshot(path=str(SHOTS / "9-review-before-fix.png"), full_page=True)

        page.locator("#review-kind label", has_text="Negative click").click()
        shown = _shown_image(page)
        src = page.locator("#review-image img").get_attribute("src")
        click_image_point(page, "#review-image", *_inside(before, object_id), WIDTH)
        _wait_text(page, server, "#review-status", "Preview score", STEP_TIMEOUT_MS)
        page.wait_for_function(
            "(old) => { const i = document.querySelector('#review-image img'); return i && i.src !== old; }", arg=src
        )
        previewed = _shown_image(page)
        assert shown.shape == previewed.shape and not np.array_equal(shown, previewed), "the preview changed nothing"
        page.screenshot(path=str(SHOTS / "9-review-preview.png"), full_page=True)

        page.locator("#review-accept").click()
        _wait_text(page, server, "#review-status", "tracked again", STEP_TIMEOUT_MS)
        fixed_counts = {key: row[3] for key, row in _object_rows(page).items()}  # the table's "frames fixed"
        assert fixed_counts == {str(o): str(int(o == object_id)) for o in (1, 2)}, fixed_counts
        page.screenshot(path=str(SHOTS / "9-review-after-fix.png"), full_page=True)

        page.locator("#review-name input, #review-name textarea").first.fill("No. 10")
        page.locator("#review-rename").click()
        _wait_text(page, server, "#review-status", "No. 10")
        page.wait_for_function(TEXT_JS, arg=["#review-objects", "No. 10"])
        page.locator("#review-sequence input, #review-sequence textarea").first.fill("fixed")
        page.locator("#review-save").click()
        _wait_text(page, server, "#review-saved", "Added sequence", STEP_TIMEOUT_MS)
        assert "1 frame fixed with 1 click." in page.locator("#review-saved").inner_text()
        page.wait_for_function(TEXT_JS, arg=["#review-sequences", "fixed"])
        page.screenshot(path=str(SHOTS / "9-review-saved.png"), full_page=True)
        assert page.errors == []
    run_masks = next(review.parent.glob("run-*/A/masks"))
    return Fixed(object_id, FIX_FRAME, run_masks, review / "masks")


@pytest.fixture(scope="module")
def two_saved(server: Server, clips: dict[str, Path], fixed: Fixed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two browser sessions, each with its own clip, press Add to dataset right after each other (default names:
    the clips' stems); then one downloads the dataset as a zip. Returns the zip."""
    zipped = tmp_path_factory.mktemp("review-zip") / "dataset.zip"
    with chromium_pages(2) as pages:
        for page, name in zip(pages, ("clip_a", "clip_b"), strict=True):
            open_app(page, server.url)
            upload_and_click_players(page, clips[name], name, WIDTH, HEIGHT)
            _run_and_start_review(page, server)
        for page in pages:
            page.locator("#review-save").click()  # no waiting in between
        for page, name in zip(pages, ("clip_a", "clip_b"), strict=True):
            _wait_text(page, server, "#review-saved", f"Added sequence {name}", STEP_TIMEOUT_MS)
        for page, name in zip(pages, ("clip_a", "clip_b"), strict=True):  # each lists the dataset as it saw it
            page.wait_for_function(TEXT_JS, arg=["#review-sequences", name])
        page = pages[1]
        page.locator("#review-download").click()
        page.locator("#review-zip a").first.wait_for(timeout=STEP_TIMEOUT_MS)
        page.screenshot(path=str(SHOTS / "9-review-two-sessions.png"), full_page=True)
        with page.expect_download() as download:
            page.locator("#review-zip a").first.click()
        download.value.save_as(zipped)
        assert [p.errors for p in pages] == [[], []]
    return zipped


def test_a_negative_click_on_a_later_frame_is_previewed_re_tracked_and_saved(server: Server, fixed: Fixed) -> None:
    frame, obj = fixed.frame, fixed.object_id
    ran = read_palette_png(fixed.run_masks / f"{frame:05d}.png")
    reviewed = read_palette_png(fixed.review_masks / f"{frame:05d}.png")
    assert not np.array_equal(reviewed == obj, ran == obj), "the re-tracked mask is the run's mask on that frame"
    saved = read_palette_png(server.dataset / "Annotations" / "fixed" / f"{frame:05d}.png")
    assert np.array_equal(saved, reviewed)
    entry = json.loads((server.dataset / "meta.json").read_text())["sequences"]["fixed"]
    assert entry["objects"][str(obj)] == "No. 10" and entry["fixes"] == {"frames_fixed": 1, "clicks": 1}
    assert entry["model"] == MODELS[0] and entry["source_clip"] == "fix.mp4"


def test_two_sessions_saving_at_once_both_add_complete_sequences(server: Server, two_saved: Path) -> None:
    sequences = json.loads((server.dataset / "meta.json").read_text())["sequences"]
    assert {"clip_a", "clip_b"} <= set(sequences)
    for name in ("clip_a", "clip_b"):
        jpegs = sorted(p.stem for p in (server.dataset / "JPEGImages" / name).glob("*.jpg"))
        pngs = sorted(p.stem for p in (server.dataset / "Annotations" / name).glob("*.png"))
        assert jpegs == pngs and len(pngs) == FRAMES == sequences[name]["frames"], name
        assert sequences[name]["source_clip"] == f"{name}.mp4"
    with zipfile.ZipFile(two_saved) as archive:
        names = set(archive.namelist())
    assert "meta.json" in names
    for name in ("fixed", "clip_a", "clip_b"):
        for folder, suffix in (("JPEGImages", "jpg"), ("Annotations", "png")):
            assert sum(n.startswith(f"{folder}/{name}/") and n.endswith(suffix) for n in names) == FRAMES, name


def test_the_saved_dataset_passes_the_summary_trains_and_its_coco_boxes_are_the_masks(
    server: Server, fixed: Fixed, two_saved: Path, tmp_path: Path
) -> None:
    summary = _cli("evaluation", "summary", str(server.dataset))
    assert summary.returncode == 0 and "warning" not in summary.stderr, summary.stderr
    assert "3 sequences" in summary.stdout and "0 warnings" in summary.stdout, summary.stdout
    for name in ("fixed", "clip_a", "clip_b"):
        assert name in summary.stdout
    for name in ("fixed", "clip_a", "clip_b"):
        coco = json.loads((server.dataset / "coco" / f"{name}.json").read_text())
        frame_of = {image["id"]: image["frame_index"] for image in coco["images"]}
        assert coco["annotations"]
        for annotation in coco["annotations"]:
            labels = read_palette_png(
                server.dataset / "Annotations" / name / f"{frame_of[annotation['image_id']]:05d}.png"
            )
            x0, y0, x1, y1 = bbox_from_mask(labels == annotation["track_id"])
            assert annotation["bbox"] == [x0, y0, x1 - x0, y1 - y0], (name, annotation)
    out = tmp_path / "finetuned"
    trained = _cli(
        "playerseg.finetune", "--data", str(server.dataset), "--base", MODELS[1], "--out", str(out), "--epochs", "1",
        "--batch-size", "1", "--max-steps-per-epoch", "2", "--device", "cpu", "--quiet",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert (out / "model.json").is_file()


# -- steps ------------------------------------------------------------------------------------------------------


def _run_and_start_review(page: Any, server: Server) -> None:
    """Run A and B, keep A's masks and start the review."""
    open_tab(page, "2. Side by side")
    run_models(page, *MODELS)
    open_tab(page, REVIEW_TAB)
    page.locator("#review-keep label", has_text=f"A: {MODELS[0]}").wait_for()
    assert page.locator("#review-keep label", has_text=f"B: {MODELS[1]}").count() == 1
    page.locator("#review-keep label", has_text=f"A: {MODELS[0]}").click()
    page.locator("#review-start").click()
    _wait_text(page, server, "#review-status", "Reviewing", STEP_TIMEOUT_MS)
    assert f"A: {MODELS[0]}" in page.locator("#review-status").inner_text()


def _show_review_frame(page: Any, frame: int) -> None:
    """Set the review's frame slider (its number box) to `frame` and wait for that frame's image."""
    number = page.locator("#review-frame input[type=number]")
    if number.input_value() == str(frame):
        return
    src = page.locator("#review-image img").get_attribute("src")
    number.fill(str(frame))
    number.press("Enter")
    page.wait_for_function(
        "(old) => { const i = document.querySelector('#review-image img'); return i && i.src !== old; }", arg=src
    )


def _wait_text(page: Any, server: Server, selector: str, text: str, timeout_ms: int = 30_000) -> None:
    """Wait until the element says `text`; else fail with what it says, the toasts and the server log's tail."""
    try:
        page.wait_for_function(TEXT_JS, arg=[selector, text], timeout=timeout_ms)
    except Exception as error:
        page.screenshot(path=str(SHOTS / "9-review-failed.png"), full_page=True)
        says = page.locator(selector).inner_text()
        toasts = page.locator("[data-testid=toast-body]").all_inner_texts()
        log = server.log.read_text()[-3000:]
        raise AssertionError(f"{selector} never said {text!r}: {says!r}; toasts: {toasts}\n{log}") from error


def _shown_image(page: Any) -> np.ndarray:
    """The review's frame as the browser draws it (an element screenshot), RGB."""
    page.wait_for_function(
        "(s) => { const i = document.querySelector(s); return i && i.complete; }", arg="#review-image img"
    )
    return np.asarray(Image.open(io.BytesIO(page.locator("#review-image img").screenshot())).convert("RGB"))


def _object_rows(page: Any) -> dict[str, list[str]]:
    """The objects table's rows by id, as the page shows them."""
    rows = page.evaluate(
        "() => [...document.querySelectorAll('#review-objects [role=row]')]"
        ".map(r => [...r.querySelectorAll('[role=gridcell]')].map(c => c.innerText.trim()))"
    )
    return {row[0]: row for row in rows if row}


def _only_review_folder(work: Path) -> Path:
    folders = sorted(work.glob("sessions/*/review"))
    assert len(folders) == 1, folders
    return folders[0]


def _inside(labels: np.ndarray, object_id: int) -> tuple[float, float]:
    """A pixel well inside the object's mask (the one farthest from its edge)."""
    mask = (labels == object_id).astype(np.uint8)
    distance = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    y, x = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return float(x), float(y)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO_ROOT, env=CLI_ENV, timeout=600
    )
