"""SAM2 tracking through the real sam2 code with the test-size model (random weights, 128 px, CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from playerseg.io.prompts import Point, Prompt, PromptError
from playerseg.tracking.frames import new_inference_state, preprocess_frame
from playerseg.tracking.registry import LoadedModel, load_video_model
from playerseg.tracking.step import FrameResult
from playerseg.tracking.tracker import Sam2VideoTracker, TrackingError

WIDTH, HEIGHT, FRAMES = 96, 64, 10


class MovingSquareClip(list):
    """A green field with a red square moving right: a FrameSource small enough for fast tests."""

    width = WIDTH
    height = HEIGHT

    def __init__(self, frames: int = FRAMES) -> None:
        super().__init__()
        for t in range(frames):
            rgb = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
            rgb[..., 1] = 120
            x = 10 + 5 * t
            rgb[20:40, x : x + 20] = (200, 30, 30)
            self.append(rgb)


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    return load_video_model("test-sam2.1-tiny-128", "cpu")


def run(model: LoadedModel, prompts: list[Prompt], frames: int = FRAMES) -> list[FrameResult]:
    with Sam2VideoTracker(model, MovingSquareClip(frames)) as tracker:
        for prompt in prompts:
            tracker.add_prompt(prompt)
        return list(tracker.track())


def masks_by_frame(results: list[FrameResult], object_id: int) -> dict[int, np.ndarray]:
    return {r.frame: r.masks[object_id] for r in results if object_id in r.masks}


def test_every_frame_gets_a_mask_per_object_with_costs(model: LoadedModel) -> None:
    results = run(model, [Prompt.from_click(0, 1, 20, 30), Prompt.from_click(0, 2, 80, 55, positive=True)])
    assert [r.frame for r in results] == list(range(FRAMES))
    for result in results:
        assert set(result.masks) == {1, 2}
        for mask in result.masks.values():
            assert mask.shape == (HEIGHT, WIDTH) and mask.dtype == bool
        assert not (result.masks[1] & result.masks[2]).any(), "a pixel belongs to one object at most"
        assert result.latency_ms > 0 and result.memory_mb > 0 and result.peak_memory_mb >= result.memory_mb
        assert not result.reverse
    assert results[0].prompt_ms > 0, "the prompt frame carries the prompt work"
    assert all(r.prompt_ms == 0 for r in results[1:])


def test_same_inputs_give_the_same_masks(model: LoadedModel) -> None:
    prompts = [Prompt.from_click(0, 1, 20, 30)]
    first, second = run(model, prompts), run(model, prompts)
    for a, b in zip(first, second):
        assert np.array_equal(a.masks[1], b.masks[1])


def test_later_frame_correction_changes_the_track_from_there(model: LoadedModel) -> None:
    click = Prompt.from_click(0, 1, 20, 30)
    correction = Prompt(frame=6, object_id=1, points=(Point(45, 30, True), Point(5, 5, False), Point(90, 60, True)))
    baseline = masks_by_frame(run(model, [click]), 1)
    corrected = masks_by_frame(run(model, [click, correction]), 1)
    assert sorted(corrected) == list(range(FRAMES))
    changed = [f for f in range(FRAMES) if not np.array_equal(baseline[f], corrected[f])]
    assert 6 in changed, "the corrected frame follows the new clicks"
    assert any(f > 6 for f in changed), "frames after the correction are tracked from it"


def test_object_first_prompted_on_a_later_frame_is_tracked_backward(model: LoadedModel) -> None:
    results = run(model, [Prompt.from_click(0, 1, 20, 30), Prompt.from_click(5, 2, 50, 30)])
    forward = [(r.frame, sorted(r.masks)) for r in results if not r.reverse]
    backward = [(r.frame, sorted(r.masks)) for r in results if r.reverse]
    assert forward == [(f, [1] if f < 5 else [1, 2]) for f in range(FRAMES)]
    assert backward == [(f, [2]) for f in (4, 3, 2, 1, 0)], "object 2 runs backward from frame 5 alone"
    assert sorted(masks_by_frame(results, 2)) == list(range(FRAMES))


def _stock_state(model: LoadedModel, clip: MovingSquareClip) -> dict:
    """sam2's own init_state over in-memory frames (what its loader would produce)."""
    images = torch.stack([torch.from_numpy(preprocess_frame(f, model.spec.image_size)) for f in clip])
    predictor = model.predictor
    state = new_inference_state(images, clip.height, clip.width, "cpu")
    predictor.add_new_points_or_box(state, 2, 1, points=[[20, 30]], labels=[1])
    return state


def _reverse_from_unprompted_last_frame(model: LoadedModel) -> int:
    """sam2 issue #308: reverse propagation starting on a frame with no prompt and no object pointer."""
    clip = MovingSquareClip()
    state = _stock_state(model, clip)
    frames = [f for f, _, _ in model.predictor.propagate_in_video(state, start_frame_idx=FRAMES - 1, reverse=True)]
    return len(frames)


def test_reverse_propagation_bfloat16_mismatch_is_fixed_on_cpu(model: LoadedModel) -> None:
    assert _reverse_from_unprompted_last_frame(model) == FRAMES


def test_stock_sam2_still_has_the_bfloat16_bug_that_the_fix_handles(model: LoadedModel) -> None:
    """Guards the fix's reason: if sam2 fixes #308 upstream, this fails and the hook can go."""
    hooks = model.predictor.memory_attention._forward_pre_hooks
    saved = dict(hooks)
    hooks.clear()
    try:
        with pytest.raises(RuntimeError, match="dtype"):
            _reverse_from_unprompted_last_frame(model)
    finally:
        hooks.update(saved)


def test_prompt_outside_the_clip_and_no_prompt_are_clear_errors(model: LoadedModel) -> None:
    with Sam2VideoTracker(model, MovingSquareClip()) as tracker:
        with pytest.raises(PromptError, match="frame 12"):
            tracker.add_prompt(Prompt.from_click(12, 1, 20, 30))
        with pytest.raises(TrackingError, match="No prompts"):
            next(tracker.track())


def stream(
    model: LoadedModel, prompts_at: dict[int, list[Prompt]], end_at: dict[int, int] | None = None
) -> list[FrameResult]:
    """Step through the clip, adding `prompts_at[f]` before frame f and ending `end_at[f]` after it."""
    results = []
    with Sam2VideoTracker(model, MovingSquareClip()) as tracker:
        for frame in range(FRAMES):
            for prompt in prompts_at.get(frame, []):
                tracker.add_prompt(prompt)
            results.append(tracker.step(frame))
            if end_at and frame in end_at:
                tracker.end_object(end_at[frame])
    return results


def test_streaming_steps_give_the_same_masks_as_a_forward_track(model: LoadedModel) -> None:
    prompts = [Prompt.from_click(0, 1, 20, 30), Prompt.from_box(0, 2, 60, 40, 95, 63)]
    tracked = run(model, prompts)
    streamed = stream(model, {0: prompts})
    for a, b in zip(tracked, streamed, strict=True):
        assert a.frame == b.frame and set(a.masks) == set(b.masks) == {1, 2}
        for obj in (1, 2):
            assert np.array_equal(a.masks[obj], b.masks[obj])
    assert streamed[0].prompt_ms > 0 and all(r.prompt_ms == 0 for r in streamed[1:])


def test_object_added_to_the_live_state_leaves_the_others_memory_alone(model: LoadedModel) -> None:
    first = Prompt.from_click(0, 1, 20, 30)
    alone = stream(model, {0: [first]})
    joined = stream(model, {0: [first], 5: [Prompt.from_click(5, 2, 50, 30)]})
    assert [sorted(r.masks) for r in joined] == [[1]] * 5 + [[1, 2]] * 5, "object 2 is tracked from frame 5 only"
    assert joined[5].prompt_ms > 0, "the new object's prompt work is reported on its frame"
    for before, after in zip(alone, joined, strict=True):
        # object 1 was not reset: where object 2 does not take a pixel, object 1's mask is exactly what it was
        took = after.masks.get(2, np.zeros_like(after.masks[1]))
        assert np.array_equal(before.masks[1] & ~took, after.masks[1])


def test_ended_object_is_no_longer_tracked(model: LoadedModel) -> None:
    prompts = [Prompt.from_click(0, 1, 20, 30), Prompt.from_click(0, 2, 80, 55)]
    results = stream(model, {0: prompts}, end_at={3: 2})
    assert [sorted(r.masks) for r in results] == [[1, 2]] * 4 + [[1]] * 6


def test_streaming_refuses_past_frames_and_mixing_with_track(model: LoadedModel) -> None:
    with Sam2VideoTracker(model, MovingSquareClip()) as tracker:
        tracker.add_prompt(Prompt.from_click(0, 1, 20, 30))
        tracker.step(0)
        tracker.step(2)  # skipping frames is allowed
        with pytest.raises(TrackingError, match="already processed"):
            tracker.add_prompt(Prompt.from_click(1, 2, 20, 30))
        with pytest.raises(TrackingError, match="next frame"):
            tracker.step(2)
        with pytest.raises(TrackingError, match="already run"):
            next(tracker.track())
        tracker.end_object(1)
        with pytest.raises(TrackingError, match="was ended"):
            tracker.add_prompt(Prompt.from_click(4, 1, 20, 30))
        assert tracker.step(3).masks == {}, "no live object: an empty result, not an error"
