"""Tab 1's handlers called directly, as Gradio calls them, with a Session and the components' values (no browser)."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pytest
from gradio.helpers import special_args

from playerseg.ui.clip_handlers import ClipHandlers, ClipReply, PromptReply, on_select_row
from playerseg.ui.clip_tab import build_clip_tab
from playerseg.ui.config import AppConfig
from playerseg.ui.example import ExampleClip, prepare_example
from playerseg.ui.session import BOX, NEW_OBJECT, POSITIVE, Session

FRAMES = 3  # the example clip: 640x360, three players prompted on frame 0


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> ExampleClip:
    return prepare_example(tmp_path_factory.mktemp("example"), FRAMES)


@pytest.fixture
def config(tmp_path: Path) -> AppConfig:
    return AppConfig(models=("test-sam2.1-tiny-128", "test-sam2.1-tiny-256"), work_dir=str(tmp_path / "work"))


@pytest.fixture
def handlers(config: AppConfig, example: ExampleClip) -> ClipHandlers:
    return ClipHandlers(config, example)


@pytest.fixture
def loaded(handlers: ClipHandlers, example: ExampleClip) -> Session:
    """A session with the example video uploaded as the user's own clip (no prompts yet)."""
    return handlers.on_upload(Session(), str(example.video)).session


def _click(x: int, y: int) -> gr.SelectData:
    return gr.SelectData(None, {"index": [x, y], "value": None})


def _refused(call: object, *args: object) -> str:
    with pytest.raises(gr.Error) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.message


def test_replies_follow_the_order_of_the_wired_outputs(config: AppConfig) -> None:
    with gr.Blocks():
        tab = build_clip_tab(config)
    assert [getattr(tab, name) for name in ClipReply._fields[1:]] == tab.clip_outputs()
    assert [getattr(tab, name) for name in PromptReply._fields[1:]] == tab.prompt_outputs()


def test_gradio_hands_the_click_position_to_the_click_handlers(handlers: ClipHandlers) -> None:
    """Gradio finds the gr.SelectData parameter through the handlers' type hints, methods included."""
    assert special_args(handlers.on_click)[2] == 4
    assert special_args(on_select_row)[2] == 1


def test_uploading_a_clip_starts_a_session_on_it(handlers: ClipHandlers, example: ExampleClip) -> None:
    session = Session()
    reply = handlers.on_upload(session, str(example.video))
    assert reply.session is session and session.clip is not None and session.clip.name == "seq000.mp4"
    assert (reply.start, reply.end, reply.stride) == (0, FRAMES - 1, 1) == (session.start, session.end, 1)
    assert reply.info.startswith(f"**seq000.mp4**: 640×360 px, 24.00 fps, {FRAMES} frames, 0.1 s, h264")
    assert "Limits: at most **300 frames** per run" in reply.info
    assert reply.frame.maximum == FRAMES - 1 and reply.frame.value == 0
    assert reply.image.shape == (360, 640, 3) and reply.table.empty and reply.download is None
    assert reply.status == "Clip loaded: click the first player."


def test_an_emptied_upload_box_changes_nothing(handlers: ClipHandlers) -> None:
    session = Session()
    reply = handlers.on_upload(session, None)
    assert reply.session is session and session.clip is None
    assert all(value == gr.update() for value in reply[1:])


def test_a_file_that_is_not_a_video_is_refused_in_one_sentence(handlers: ClipHandlers, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a clip")
    message = _refused(handlers.on_upload, Session(), str(notes))
    assert message == "notes.txt is not a video this app reads: upload an mp4, mov, webm, avi or mkv file."
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\0" * 64)
    message = _refused(handlers.on_upload, Session(), str(broken))
    assert message.startswith("Cannot read broken.mp4:") and str(tmp_path) not in message


def test_a_click_adds_a_prompt_and_refreshes_the_prompts_file(handlers: ClipHandlers, loaded: Session) -> None:
    reply = handlers.on_click(loaded, 0, POSITIVE, NEW_OBJECT, _click(100, 50))
    assert reply.status == "Added a positive point for object 1 on frame 0."
    assert [(p.frame, p.object_id, p.points[0].x, p.points[0].y) for p in loaded.prompts] == [(0, 1, 100, 50)]
    assert reply.table.values.tolist() == [[1, 0, 1, "positive point", "start", "(100, 50)"]]
    assert reply.object_id.value == "1"
    saved = json.loads(Path(reply.download).read_text())
    assert saved["prompts"] == [{"frame": 0, "object_id": 1, "points": [[100, 50, 1]], "box": None}]


def test_a_box_takes_two_clicks(handlers: ClipHandlers, loaded: Session) -> None:
    first = handlers.on_click(loaded, 1, BOX, NEW_OBJECT, _click(200, 150))
    assert "first corner set on frame 1" in first.status and not loaded.prompts
    second = handlers.on_click(loaded, 1, BOX, "1", _click(120, 40))
    assert second.status == "Added a box for object 1 on frame 1."
    assert loaded.prompts[0].box is not None and loaded.box_corner is None


def test_clicks_the_session_cannot_take_are_refused_in_one_sentence(handlers: ClipHandlers, loaded: Session) -> None:
    assert _refused(handlers.on_click, Session(), 0, POSITIVE, NEW_OBJECT, _click(1, 1)) == (
        "Upload a clip or load the example first."
    )
    handlers.on_range(loaded, 1, 2, 1, 0)
    assert _refused(handlers.on_click, loaded, 0, POSITIVE, NEW_OBJECT, _click(1, 1)) == (
        "Frame 0 is outside the selected range 1..2: move the slider or widen the range before clicking."
    )
    assert not loaded.prompts


def test_the_range_moves_the_slider_and_a_bad_range_is_refused(handlers: ClipHandlers, loaded: Session) -> None:
    reply = handlers.on_range(loaded, 1, 2, 1, 0)
    assert (loaded.start, loaded.end) == (1, 2)
    assert (reply.frame.minimum, reply.frame.maximum, reply.frame.value) == (1, 2, 1)
    assert reply.info.startswith("**seq000.mp4**")
    assert _refused(handlers.on_range, loaded, 2, 1, 1, 0) == "End frame 1 is before start frame 2."
    assert (loaded.start, loaded.end) == (1, 2)
    untouched = handlers.on_range(Session(), 1, 2, 1, 0)
    assert untouched[1:] == (gr.update(), gr.update())


def test_the_example_comes_with_its_prompts(handlers: ClipHandlers) -> None:
    reply = handlers.on_example(Session())
    clip = reply.session.clip
    assert clip is not None and clip.is_example and clip.ground_truth
    assert reply.session.object_ids == [1, 2, 3] and len(reply.table) == 3 and reply.download
    assert reply.status == "Example loaded with its prompts and ground truth: pick two models and run them."


def test_select_a_row_then_delete_it(handlers: ClipHandlers, loaded: Session) -> None:
    assert _refused(handlers.on_delete, loaded, 0) == "Click a row of the prompts table first, then delete it."
    handlers.on_click(loaded, 0, POSITIVE, NEW_OBJECT, _click(100, 50))
    session, status = on_select_row(loaded, gr.SelectData(None, {"index": [0, 2], "value": 1}))
    assert session.selected_row == 0 and status == "Row 1 selected."
    reply = handlers.on_delete(loaded, 0)
    assert reply.status == "Deleted row 1 (object 1, frame 0)." and not loaded.prompts
    assert reply.table.empty and reply.download is None


def test_clear_removes_every_prompt(handlers: ClipHandlers, loaded: Session) -> None:
    handlers.on_click(loaded, 0, POSITIVE, NEW_OBJECT, _click(100, 50))
    handlers.on_click(loaded, 0, POSITIVE, NEW_OBJECT, _click(300, 60))
    reply = handlers.on_clear(loaded, 0)
    assert reply.status == "All prompts cleared." and not loaded.prompts and reply.table.empty


def test_uploaded_prompts_replace_the_sessions_or_are_refused(
    handlers: ClipHandlers, loaded: Session, example: ExampleClip, tmp_path: Path
) -> None:
    assert _refused(handlers.on_upload_prompts, Session(), str(example.prompts), 0) == (
        "Load a clip before uploading its prompts."
    )
    reply = handlers.on_upload_prompts(loaded, str(example.prompts), 0)
    assert reply.status == "Loaded 3 prompt rows for objects [1, 2, 3]."
    broken = tmp_path / "prompts.json"
    broken.write_text("{not json")
    message = _refused(handlers.on_upload_prompts, loaded, str(broken), 0)
    assert message.startswith("Cannot use these prompts:") and str(tmp_path) not in message
    assert loaded.object_ids == [1, 2, 3]  # the refused file changed nothing
