"""build_app's event graph, built in-process (no server): which handler each event calls, which events share a queue,
and that only /compare is public. The browser and API tests rely on exactly this graph."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from playerseg.ui.app import GPU_GROUP, build_app
from playerseg.ui.config import AppConfig
from playerseg.ui.session import Session

RANGE_EVENTS = ["on_range", *(f"on_range_{i}" for i in range(1, 6))]  # start, end, stride: submit and blur each
EVENTS = [
    "models_facts", "models_facts_1",
    "on_upload", "on_example", *RANGE_EVENTS, "on_frame", "on_click", "on_select_row", "on_delete", "on_clear",
    "on_upload_prompts",
    "run_models", "score", "score_1",
    "compare",
    "load_dataset", "run_example_dataset",
    "on_start", "on_frame_1", "on_next_disagreement", "on_click_1", "on_accept", "on_discard", "on_rename",
    "on_delete_1", "on_save", "on_download", "sequences_table",
]  # fmt: skip


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> tuple[gr.Blocks, AppConfig]:
    work = tmp_path_factory.mktemp("work")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRADIO_TEMP_DIR", str(work / "uploads"))  # build_app would set it for the whole test process
        models = ("test-sam2.1-tiny-128", "test-sam2.1-tiny-256")
        config = AppConfig(models=models, work_dir=str(work), example_frames=2)
        return build_app(config), config


def test_every_event_calls_its_named_handler_and_only_compare_is_public(app: tuple[gr.Blocks, AppConfig]) -> None:
    demo, _ = app
    functions = list(demo.fns.values())
    assert [f.api_name for f in functions] == EVENTS
    assert [f.name for f in functions] == [name.rsplit("_", 1)[0] if name[-1].isdigit() else name for name in EVENTS]
    assert [f.api_name for f in functions if f.api_visibility != "private"] == ["compare"]


def test_runs_share_the_gpu_queue_and_a_handler_used_twice_keeps_one_queue(app: tuple[gr.Blocks, AppConfig]) -> None:
    demo, config = app
    queues: dict[str, list[str]] = {}
    for function in demo.fns.values():
        queues.setdefault(function.concurrency_id, []).append(function.api_name)
    shared = sorted(names for names in queues.values() if len(names) > 1)
    gpu_runs = ["run_models", "compare", "run_example_dataset", "on_click_1", "on_accept"]  # every model call
    assert shared == [["models_facts", "models_facts_1"], RANGE_EVENTS, gpu_runs, ["score", "score_1"]]
    assert queues[GPU_GROUP] == gpu_runs
    assert {f.concurrency_limit for f in demo.fns.values() if f.concurrency_id == GPU_GROUP} == {config.gpu_concurrency}


def test_a_closed_tab_takes_its_session_folder_along(app: tuple[gr.Blocks, AppConfig]) -> None:
    demo, config = app
    state = next(block for block in demo.blocks.values() if isinstance(block, gr.State))
    session = Session()
    folder = session.work_dir(config.work_dir)
    (folder / "run-1").mkdir()
    state.delete_callback(session)
    assert not folder.exists() and Path(config.work_dir, "sessions").is_dir()
