"""The Run and Score handlers called directly with a Session and the components' values (no browser, no model: the
comparison is a stand-in that records what the handler asks for)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from playerseg.compare.outcome import Comparison, ModelOutcome
from playerseg.compare.pool import ModelPool
from playerseg.ui.accuracy_tab import build_accuracy_tab
from playerseg.ui.clip_handlers import ClipHandlers
from playerseg.ui.config import AppConfig
from playerseg.ui.example import ExampleClip, prepare_example
from playerseg.ui.export_tab import build_export_tab
from playerseg.ui.run_handlers import ResultTabs, RunHandler, ScoreHandler
from playerseg.ui.session import Session

FRAMES = 3
MODELS = ("test-sam2.1-tiny-128", "test-sam2.1-tiny-256")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> ExampleClip:
    return prepare_example(tmp_path_factory.mktemp("example"), FRAMES)


@pytest.fixture
def config(tmp_path: Path) -> AppConfig:
    return AppConfig(models=MODELS, work_dir=str(tmp_path / "work"))


class StandIn:
    """Records each call as compare_models receives it; model B fails, model A writes its run folder."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error = error

    def __call__(self, clip: str, prompts: Any, models: list[str], out_dir: Path, **options: Any) -> Comparison:
        self.calls.append({"clip": clip, "prompts": prompts, "models": models, "out_dir": out_dir, **options})
        options["progress"]("A", "tracking", 1, FRAMES)
        (out_dir / "A").mkdir(parents=True)
        if self.error is not None:
            raise self.error
        outcomes = [
            ModelOutcome("A", models[0], run_dir=out_dir / "A"),
            ModelOutcome("B", models[1], error="It ran out of memory."),
        ]
        return Comparison(
            out_dir=out_dir,
            clip=None,
            selection={},
            outcomes=outcomes,
            side_by_side=None,  # type: ignore[arg-type]
            disagreement=None,
            agreement=None,
            report=None,
            notices=["Object 3 left the frame."],
        )


def _example_session(config: AppConfig, example: ExampleClip) -> Session:
    return ClipHandlers(config, example).on_example(Session()).session


def _run(config: AppConfig, compare: StandIn, session: Session) -> list[Any]:
    handler = RunHandler(config, ModelPool(device="cpu"), compare, ResultTabs())
    shown: list[str] = []
    values = handler.run_models(session, *MODELS, progress=lambda done, desc: shown.append(f"{desc} {done}"))
    assert shown == [f"Model A: tracking (1, {FRAMES})"]
    return values


def _refused(call: Any, *args: Any) -> str:
    with pytest.raises(gr.Error) as caught:
        call(*args)
    return caught.value.message


def test_run_replays_the_sessions_prompts_and_keeps_only_the_newest_run(
    config: AppConfig, example: ExampleClip
) -> None:
    session = _example_session(config, example)
    compare = StandIn()
    with pytest.warns(UserWarning, match="Model B failed: It ran out of memory."):
        values = _run(config, compare, session)
    call = compare.calls[0]
    assert call["clip"] == str(example.video) and call["models"] == list(MODELS)
    assert call["prompts"].object_ids == [1, 2, 3] and call["ground_truth"] is not None  # the example brings its own
    assert call["out_dir"] == session.work_dir(config.work_dir) / "run-1"
    assert (call["selection"].start, call["selection"].max_frames, call["selection"].stride) == (0, FRAMES, 1)
    assert values[0] is session and session.runs == 1 and session.comparison is not None
    assert values[1] == (
        "**Model A: test-sam2.1-tiny-128 (random weights): done**.\n\n"
        "**Model B (test-sam2.1-tiny-256): failed.** It ran out of memory.\n\n"
        "Note: Object 3 left the frame."
    )
    with pytest.warns(UserWarning):
        _run(config, compare, session)
    assert compare.calls[1]["out_dir"].name == "run-2" and session.runs == 2
    assert not call["out_dir"].exists() and compare.calls[1]["out_dir"].is_dir()


def test_run_refuses_what_it_cannot_start_in_one_sentence(
    config: AppConfig, example: ExampleClip, tmp_path: Path
) -> None:
    compare = StandIn()
    handler = RunHandler(config, ModelPool(device="cpu"), compare, ResultTabs())
    assert _refused(handler.run_models, Session(), *MODELS) == "Upload a clip or load the example first."
    session = _example_session(config, example)
    session.clear_prompts()
    assert _refused(handler.run_models, session, *MODELS) == (
        "Click at least one player on the frame before running the models."
    )
    few = RunHandler(AppConfig(models=MODELS, work_dir=config.work_dir, max_objects=2), None, compare, ResultTabs())
    assert _refused(few.run_models, _example_session(config, example), *MODELS) == (
        "This run has 3 objects; this server tracks at most 2 per run (PLAYERSEG_MAX_OBJECTS): remove some objects' "
        "prompts."
    )
    clip = tmp_path / "mine.mp4"
    shutil.copy(example.video, clip)
    mine = ClipHandlers(config, example).on_upload(Session(), str(clip)).session
    ClipHandlers(config, example).on_upload_prompts(mine, str(example.prompts), 0)
    clip.unlink()  # swept away by the server
    assert _refused(handler.run_models, mine, *MODELS) == (
        "mine.mp4 is no longer on the server (uploads unused for 3600 s are deleted): upload it again."
    )
    assert not compare.calls


def test_a_failed_run_leaves_no_folder_and_says_why(config: AppConfig, example: ExampleClip) -> None:
    session = _example_session(config, example)
    compare = StandIn(error=ValueError(f"Cannot decode {config.work_dir}/clip.mp4."))
    with pytest.raises(gr.Error) as caught:
        _run(config, compare, session)
    assert caught.value.message == "Cannot decode clip.mp4."  # no server path
    assert not compare.calls[0]["out_dir"].exists() and session.runs == 0 and session.comparison is None


def test_ground_truth_before_a_run_is_stored_for_it(config: AppConfig, example: ExampleClip, tmp_path: Path) -> None:
    with gr.Blocks():
        accuracy, export = build_accuracy_tab(), build_export_tab()
    score = ScoreHandler(config.work_dir, accuracy, export).score
    session = _example_session(config, example)
    values = score(session, str(tmp_path / "gt.zip"))
    assert len(values) == 1 + len(accuracy.outputs()) + len(export.outputs())
    assert values[0] is session and session.ground_truth == str(tmp_path / "gt.zip")
    assert values[1] == "Ground truth stored: it is scored when you run the models."
    values = score(session, None)
    assert values[1] == "" and session.ground_truth is None


def test_unreadable_ground_truth_is_refused_in_one_sentence(
    config: AppConfig, example: ExampleClip, tmp_path: Path
) -> None:
    with gr.Blocks():
        accuracy, export = build_accuracy_tab(), build_export_tab()
    score = ScoreHandler(config.work_dir, accuracy, export).score
    session = _example_session(config, example)
    with pytest.warns(UserWarning):
        _run(config, StandIn(), session)
    broken = tmp_path / "gt.zip"
    broken.write_text("not a zip")
    message = _refused(score, session, str(broken))
    assert "gt.zip" in message and str(tmp_path) not in message
