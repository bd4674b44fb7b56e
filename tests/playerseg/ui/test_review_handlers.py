"""Tab 9's handlers called directly with a Session, on a real comparison of the example clip (nano-pitch, the model
trained here, against a random-weight test model): start a review, fix an object with a negative click (the preview
is a real SAM2 decoder call, the fix a real re-track), rename and delete objects, and add the clip to a dataset that
evaluation's summary, the COCO reader and finetuning read."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import numpy as np
import pytest

from evaluation.datasets.summary import summarize_dataset
from playerseg.annotate.preview import MaskPreview
from playerseg.annotate.retrack import retrack_object
from playerseg.compare.pool import ModelPool
from playerseg.compare.run import compare_models
from playerseg.io.masks import bbox_from_mask, read_palette_png
from playerseg.ui.clip_handlers import ClipHandlers
from playerseg.ui.config import AppConfig
from playerseg.ui.example import ExampleClip, prepare_example
from playerseg.ui.review_handlers import ReviewHandlers
from playerseg.ui.run_handlers import ResultTabs, RunHandler
from playerseg.ui.session import Session

FRAMES = 6
MODELS = ("nano-pitch", "test-sam2.1-tiny-128")
POOL = ModelPool(device="cpu")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> ExampleClip:
    return prepare_example(tmp_path_factory.mktemp("example"), FRAMES)


@pytest.fixture
def config(tmp_path: Path) -> AppConfig:
    return AppConfig(models=MODELS, work_dir=str(tmp_path / "work"), dataset_dir=str(tmp_path / "golden"))


def handlers(config: AppConfig) -> ReviewHandlers:
    return ReviewHandlers(config, POOL, lambda previewer, *args: previewer.preview(*args), retrack_object)


def ran(config: AppConfig, example: ExampleClip) -> Session:
    """A session with the example loaded and both models run on it."""
    session = ClipHandlers(config, example).on_example(Session()).session
    RunHandler(config, POOL, compare_models, ResultTabs()).run_models(session, *MODELS, progress=lambda *a, **k: None)
    assert session.comparison is not None and all(o.ok for o in session.comparison.outcomes)
    return session


def click(x: float, y: float) -> Any:
    return SimpleNamespace(index=[x, y])


def inside(labels: np.ndarray, object_id: int) -> tuple[float, float]:
    """A pixel well inside the object's mask (the one farthest from its edge)."""
    import cv2

    mask = (labels == object_id).astype(np.uint8)
    distance = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    y, x = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return float(x), float(y)


def test_a_negative_click_previews_then_re_tracks_and_the_fix_is_saved(config: AppConfig, example: ExampleClip) -> None:
    session = ran(config, example)
    review_handlers = handlers(config)
    reply = review_handlers.on_start(session, "A")
    review = session.review
    assert review is not None and review.objects == [1, 2, 3] and "Reviewing model A" in reply.status
    index = FRAMES - 2
    frame = review.frame_of(index)
    before = review.label_map(index)
    obj = int(np.argmax(np.bincount(before.ravel(), minlength=4)[1:4])) + 1  # the largest object on that frame
    x, y = inside(before, obj)
    reply = review_handlers.on_click(session, frame, "Negative click", str(obj), click(x, y))
    pending = review.pending
    assert pending is not None and pending.preview is not None and "Preview score" in reply.status
    prior = before == obj
    assert not np.array_equal(pending.preview, prior), "the negative click changed nothing in the preview"
    reply = review_handlers.on_accept(session, frame)
    after = review.label_map(index)
    assert not np.array_equal(after == obj, prior) and "tracked again" in reply.status
    assert [row[3] for row in reply.objects.values.tolist()] == [int(o == obj) for o in (1, 2, 3)]  # frames fixed
    review_handlers.on_rename(session, str(obj), " No. 10 ", frame)
    saved = review_handlers.on_save(session, "")
    assert "Added sequence" in saved.status and saved.name == "example"
    dataset = Path(config.dataset_dir)
    summary = summarize_dataset(dataset)
    assert summary.warnings == () and [s.name for s in summary.sequences] == ["example"]
    entry = json.loads((dataset / "meta.json").read_text())["sequences"]["example"]
    assert entry["objects"] == {str(o): "No. 10" if o == obj else f"player {o}" for o in (1, 2, 3)}
    assert entry["fixes"] == {"frames_fixed": 1, "clicks": 1} and entry["model"] == MODELS[0]
    saved_png = read_palette_png(dataset / "Annotations" / "example" / f"{frame:05d}.png")
    assert np.array_equal(saved_png, after)
    prompts = json.loads((dataset / "prompts" / "example.json").read_text())["prompts"]
    assert {"frame": frame, "object_id": obj, "points": [[round(x, 3), round(y, 3), 0]], "box": None} in [
        {**p, "points": [[round(v, 3) for v in p["points"][0][:2]] + [p["points"][0][2]]] if p["points"] else []}
        for p in prompts
    ]
    coco = json.loads((dataset / "coco" / "example.json").read_text())
    images = {image["id"]: image["frame_index"] for image in coco["images"]}
    for annotation in coco["annotations"]:
        labels = read_palette_png(dataset / "Annotations" / "example" / f"{images[annotation['image_id']]:05d}.png")
        x0, y0, x1, y1 = bbox_from_mask(labels == annotation["track_id"])
        assert annotation["bbox"] == [x0, y0, x1 - x0, y1 - y0]
