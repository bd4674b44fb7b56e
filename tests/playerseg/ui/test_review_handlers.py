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
from playerseg.__main__ import main as playerseg_main
from playerseg.annotate.retrack import retrack_object
from playerseg.compare.pool import ModelPool
from playerseg.compare.run import compare_models
from playerseg.io.masks import bbox_from_mask, read_palette_png
from playerseg.ui.clip_handlers import ClipHandlers
from playerseg.ui.config import AppConfig
from playerseg.ui.example import EXAMPLE_SIZE, ExampleClip, prepare_example
from playerseg.ui.review_handlers import ReviewHandlers
from playerseg.ui.review_view import review_scale
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
    """A click on the shown frame at clip pixel (x, y) of the example (shown enlarged: small clips are)."""
    scale = review_scale(*EXAMPLE_SIZE)
    return SimpleNamespace(index=[x * scale, y * scale])


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
    evaluate = ["evaluate", "--data", str(dataset), "--models", MODELS[0], "--out", str(dataset.parent / "evaluated")]
    assert playerseg_main([*evaluate, "--device", "cpu", "--quiet"]) == 0  # the dataset evaluate reads


def refused(call: Any, *args: Any) -> str:
    with pytest.raises(gr.Error) as caught:
        call(*args)
    return str(caught.value)


def test_each_step_before_its_turn_is_one_sentence(config: AppConfig, example: ExampleClip) -> None:
    review_handlers = handlers(config)
    session = ClipHandlers(config, example).on_example(Session()).session
    assert "Run the models first" in refused(review_handlers.on_start, session, "A")
    assert "Start the review first" in refused(review_handlers.on_accept, session, 0)
    assert "Start the review first" in refused(review_handlers.on_save, session, "x")
    assert review_handlers.on_frame(session, 0, None).status == gr.update()  # a slider moved before any review
    session = ran(config, example)
    review_handlers.on_start(session, "B")
    assert "Click the object on the frame first" in refused(review_handlers.on_accept, session, 0)
    assert "Pick the object" in refused(review_handlers.on_click, session, 0, "Negative click", None, click(1, 1))
    assert "no object 9" in refused(review_handlers.on_click, session, 0, "Negative click", "9", click(1, 1))
    assert "Type a name" in refused(review_handlers.on_rename, session, "1", "  ", 0)


def test_next_disagreement_walks_the_frames_worst_first(config: AppConfig, example: ExampleClip) -> None:
    session = ran(config, example)
    review_handlers = handlers(config)
    review_handlers.on_start(session, "A")
    assert session.review is not None and session.comparison is not None
    agreement = session.comparison.agreement
    assert agreement is not None
    by_hand = sorted(range(FRAMES), key=lambda row: (float(np.nanmean(agreement.iou[row])), row))
    shown = [review_handlers.on_next_disagreement(session, "1") for _ in range(FRAMES + 1)]
    frames = [reply.frame["value"] if isinstance(reply.frame, dict) else reply.frame.value for reply in shown]
    assert frames == [agreement.frames[row] for row in by_hand] + [agreement.frames[by_hand[0]]]
    assert shown[0].status.startswith(f"Disagreement 1 of {FRAMES}: frame {frames[0]}")


def test_a_deleted_object_leaves_every_frame_and_the_saved_sequence(config: AppConfig, example: ExampleClip) -> None:
    session = ran(config, example)
    review_handlers = handlers(config)
    review_handlers.on_start(session, "A")
    reply = review_handlers.on_delete(session, "2", 0)
    assert [row[0] for row in reply.objects.values.tolist()] == [1, 3] and reply.object_id.choices[0][0] == "1"
    review_handlers.on_save(session, "no-two")
    dataset = Path(config.dataset_dir)
    labels = np.stack([read_palette_png(p) for p in sorted((dataset / "Annotations" / "no-two").glob("*.png"))])
    assert 2 not in np.unique(labels)
    entry = json.loads((dataset / "meta.json").read_text())["sequences"]["no-two"]
    assert set(entry["objects"]) == {"1", "3"}
    prompts = json.loads((dataset / "prompts" / "no-two.json").read_text())["prompts"]
    assert {p["object_id"] for p in prompts} == {1, 3}


def test_a_box_fix_takes_two_corners_and_previews_the_player_inside_it(config: AppConfig, example: ExampleClip) -> None:
    session = ran(config, example)
    review_handlers = handlers(config)
    review_handlers.on_start(session, "A")
    truth = read_palette_png(sorted(Path(example.ground_truth).glob("*.png"))[0]) == 2
    x0, y0, x1, y1 = bbox_from_mask(truth)
    first = review_handlers.on_click(session, 0, "Box (two corner clicks)", "2", click(x0, y0))
    assert "first corner" in first.status and session.review is not None and session.review.pending is not None
    assert session.review.pending.preview is None
    second = review_handlers.on_click(session, 0, "Box (two corner clicks)", "2", click(x1, y1))
    preview = session.review.pending.preview
    assert "Box set" in second.status and preview is not None and preview.shape == truth.shape  # example: not scaled
    rows, columns = np.nonzero(preview)
    assert rows.min() >= y0 and rows.max() <= y1 and columns.min() >= x0 and columns.max() <= x1
    iou = (preview & truth).sum() / (preview | truth).sum()
    assert iou > 0.5, f"nano-pitch's box preview of player 2 has IoU {iou:.2f} with the truth"


def test_names_from_users_and_two_sessions_saving_at_once(config: AppConfig, example: ExampleClip) -> None:
    sessions = [ran(config, example), ran(config, example)]
    review_handlers = handlers(config)
    for session in sessions:
        review_handlers.on_start(session, "A")
    names, replies, errors = ["../../etc", "a/b"], [], []

    def save(session: Session, name: str) -> None:
        try:
            replies.append(review_handlers.on_save(session, name))
        except Exception as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    threads = [threading.Thread(target=save, args=pair) for pair in zip(sessions, names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    dataset = Path(config.dataset_dir)
    assert sorted(reply.name for reply in replies) == ["a_b", "etc"]
    assert sorted(p.name for p in dataset.iterdir() if not p.name.startswith(".")) == [
        "Annotations", "JPEGImages", "coco", "meta.json", "prompts",
    ]  # fmt: skip
    for seq in ("a_b", "etc"):
        assert len(list((dataset / "JPEGImages" / seq).glob("*.jpg"))) == FRAMES
        assert len(list((dataset / "Annotations" / seq).glob("*.png"))) == FRAMES
    assert summarize_dataset(dataset).warnings == ()
    assert sorted(json.loads((dataset / "meta.json").read_text())["sequences"]) == ["a_b", "etc"]
    table = review_handlers.sequences_table()
    assert table["sequence"].tolist() == ["a_b", "etc"] and table["frames"].tolist() == [FRAMES, FRAMES]
