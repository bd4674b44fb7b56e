"""The run folder written while tracking runs: frames handed over in order once final, the same folder as one
written afterwards (inline and on a worker thread), failures on the worker reaching the caller.
Real sam2 code, test-size model (random weights, 128 px, CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from playerseg.io.masks import read_palette_png
from playerseg.io.prompts import Prompt, PromptSet
from playerseg.runs.facts import ModelFacts
from playerseg.runs.pipeline import PromptedTracking, open_selection
from playerseg.runs.runfolder import RunFolderWriter, segment_to_folder, write_run_folder
from playerseg.runs.selection_prompts import SelectionPrompts
from playerseg.synthetic.dataset import generate_dataset
from playerseg.tracking.registry import load_video_model

FRAMES = 8


def model_facts(name: str, random_weights: bool) -> ModelFacts:
    return ModelFacts(name, None, 128, "random", None, None, random_weights, "test", "cpu", False)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stream")
    generate_dataset(root / "data", frames=FRAMES, players=2, width=320, height=180, seed=11)
    return root / "data" / "videos" / "seq000.mp4"


@pytest.fixture(scope="module")
def model():  # noqa: ANN201
    return load_video_model("test-sam2.1-tiny-128", "cpu")


def track_with_sink(model, clip: Path, prompts: PromptSet) -> tuple[list[tuple[int, int, np.ndarray]], object, int]:  # noqa: ANN001
    """Track, recording (frame, steps done before it was handed over, label map) for every frame handed over."""
    handed: list[tuple[int, int, np.ndarray]] = []
    steps = {"done": 0, "total": 0}

    def progress(done: int, total: int) -> None:
        steps.update(done=done, total=total)

    def sink(index: int, labels: np.ndarray) -> None:
        handed.append((index, steps["done"], labels.copy()))

    with open_selection(str(clip)) as store:
        result = PromptedTracking(model).run(store, SelectionPrompts.check(prompts, store), progress, on_frame=sink)
    return handed, result, steps["total"]


def test_each_frame_is_handed_over_as_soon_as_it_is_tracked(model, clip: Path) -> None:  # noqa: ANN001
    prompts = PromptSet([Prompt.from_click(0, 1, 100, 90), Prompt.from_click(0, 2, 220, 90)])
    handed, result, _ = track_with_sink(model, clip, prompts)
    assert [index for index, _, _ in handed] == list(range(FRAMES))
    # progress is reported after the hand-over, so frame i goes out after i earlier steps: no frame waits
    assert [steps for _, steps, _ in handed] == list(range(FRAMES))
    for index, _, labels in handed:
        assert np.array_equal(labels, result.masks.label_map(index))


def test_frames_wait_for_the_backward_pass_of_an_object_prompted_later(model, clip: Path) -> None:  # noqa: ANN001
    prompts = PromptSet([Prompt.from_click(0, 1, 100, 90), Prompt.from_click(5, 2, 220, 90)])
    handed, result, total = track_with_sink(model, clip, prompts)
    assert [index for index, _, _ in handed] == list(range(FRAMES))
    # frames 0-4 get a second (backward) pass for object 2 that ends on frame 0: nothing is final before the last step
    assert all(steps == total - 1 for _, steps, _ in handed)
    for index, _, labels in handed:
        assert np.array_equal(labels, result.masks.label_map(index))
    assert any(2 in np.unique(labels) for index, _, labels in handed if index < 5), "object 2 tracked backwards"


def read_video(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


@pytest.mark.parametrize("background", [False, True])
def test_the_streamed_folder_equals_the_folder_written_afterwards(
    model,
    clip: Path,
    tmp_path: Path,
    background: bool,  # noqa: ANN001
) -> None:
    prompts = PromptSet([Prompt.from_click(0, 1, 100, 90), Prompt.from_click(0, 2, 220, 90)])
    with open_selection(str(clip)) as store:
        selected = SelectionPrompts.check(prompts, store)
        result, outputs = segment_to_folder(model, store, selected, tmp_path / "streamed", background=background)
    with open_selection(str(clip)) as store:
        afterwards = write_run_folder(result, store, tmp_path / "afterwards", source_prompts=prompts)
    streamed = outputs.folder
    names = sorted(p.name for p in (streamed / "masks").glob("*.png"))
    assert names == sorted(p.name for p in (afterwards / "masks").glob("*.png")) and len(names) == FRAMES
    for name in names:
        assert np.array_equal(
            read_palette_png(streamed / "masks" / name), read_palette_png(afterwards / "masks" / name)
        )
    assert np.abs(read_video(streamed / "overlay.mp4").astype(int) - read_video(afterwards / "overlay.mp4")).mean() < 1
    assert (streamed / "frames.csv").read_text() == (afterwards / "frames.csv").read_text()
    facts = json.loads((streamed / "run.json").read_text())
    assert "flicker" not in json.loads((afterwards / "run.json").read_text())
    assert facts["flicker"]["frames"] == FRAMES and outputs.flicker is not None
    assert facts["flicker"]["consecutive_iou"] == pytest.approx(outputs.flicker.mean_consecutive_iou)
    assert set(facts["timings"]) >= {"tracking_s", "masks_s", "overlay_s", "flicker_s"}
    assert PromptSet.load(streamed / "prompts.json") == prompts


@pytest.mark.parametrize("background", [False, True])
def test_a_failure_while_writing_reaches_the_caller(clip: Path, tmp_path: Path, background: bool) -> None:
    facts = model_facts("test", random_weights=True)
    with open_selection(str(clip)) as store, pytest.raises(ValueError, match="labels have shape"):
        with RunFolderWriter(tmp_path / "run", store, facts, PromptSet([]), background=background) as writer:
            writer.add(0, np.zeros((store.height, store.width), dtype=np.uint8))
            writer.add(1, np.zeros((4, 4), dtype=np.uint8))  # the wrong size: drawing the overlay fails
            for index in range(2, len(store)):
                writer.add(index, np.zeros((store.height, store.width), dtype=np.uint8))
            writer.finish(None)  # type: ignore[arg-type]  # never reached: the failure is raised first
    assert not (tmp_path / "run" / "overlay.mp4").exists() and not list((tmp_path / "run" / "masks").glob("*.png"))


def test_a_run_that_fails_part_way_leaves_no_half_folder(clip: Path, tmp_path: Path) -> None:
    facts = model_facts("test", random_weights=False)
    with open_selection(str(clip)) as store, pytest.raises(RuntimeError, match="tracking failed"):
        with RunFolderWriter(tmp_path / "run", store, facts, PromptSet([])) as writer:
            for index in range(3):
                writer.add(index, np.zeros((store.height, store.width), dtype=np.uint8))
            raise RuntimeError("tracking failed")
    assert not (tmp_path / "run" / "overlay.mp4").exists() and not list((tmp_path / "run" / "masks").glob("*.png"))
    assert not (tmp_path / "run" / "run.json").exists()


def test_frames_must_come_in_order(clip: Path, tmp_path: Path) -> None:
    facts = model_facts("m", random_weights=False)
    with open_selection(str(clip)) as store:
        with RunFolderWriter(tmp_path / "run", store, facts, PromptSet([])) as writer:
            with pytest.raises(ValueError, match="expected frame 0, got 1"):
                writer.add(1, np.zeros((store.height, store.width), dtype=np.uint8))


def test_each_overlay_frame_reaches_the_hook_and_flicker_can_be_named_again(model, clip: Path, tmp_path: Path) -> None:  # noqa: ANN001
    """compare's shared renderer takes each model's overlay from its writer (drawn once) and its flicker metrics
    under the comparison's name, without a second pass over the frames."""
    prompts = PromptSet([Prompt.from_click(0, 1, 100, 90)])
    drawn: list[tuple[int, tuple[int, ...]]] = []
    with open_selection(str(clip)) as store:
        result = PromptedTracking(model).run(store, SelectionPrompts.check(prompts, store))
        hook = lambda index, frame: drawn.append((index, frame.shape))  # noqa: E731
        with RunFolderWriter(tmp_path / "run", store, result.model, result.prompts, on_overlay=hook) as writer:
            for index in range(len(store)):
                writer.add(index, result.masks.label_map(index))
            outputs = writer.finish(result)
    assert drawn == [(index, (store.height, store.width, 3)) for index in range(FRAMES)]
    written = json.loads((tmp_path / "run" / "run.json").read_text())
    assert outputs.facts is not None and outputs.facts.to_json() == written
    renamed = outputs.flicker_as("A: model")
    assert renamed is not None and outputs.flicker is not None and renamed.name == "A: model"
    assert renamed.summary()["consecutive_iou"] == outputs.flicker.summary()["consecutive_iou"]
