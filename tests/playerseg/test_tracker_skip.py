"""Motion-gated frame skipping inside Sam2VideoTracker.track(): which frames skip the model, what a skipped frame
carries, and that prompted frames, new objects and the backward pass behave as without skipping.
Real sam2 code, test-size model (random weights, 128 px, CPU); small synthetic textured frames so the optical flow
has something to follow (a flat square on a flat field reads far below its true motion)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from playerseg.io.prompts import Prompt
from playerseg.tracking.frameskip import SkipSettings
from playerseg.tracking.registry import LoadedModel, load_video_model
from playerseg.tracking.step import FrameResult
from playerseg.tracking.tracker import Sam2VideoTracker, TrackingError

WIDTH, HEIGHT = 96, 64
# Measured with the gate on these frames: a still clip reads ~0.02 px, a square moved 4 px per frame reads 3.5-3.8 px.
ABOVE_STILL_PX = 1.0
BELOW_MOVING_PX = 1.0
MAX_DIFFERING_PIXEL_SHARE = 1e-3


def texture(height: int, width: int, seed: int, base_rgb: tuple[int, int, int]) -> np.ndarray:
    """A colour with smooth random detail (4 px cells), HxWx3 uint8."""
    cells = np.random.default_rng(seed).integers(-40, 40, (height // 4 + 1, width // 4 + 1)).astype(np.float32)
    detail = cv2.resize(cells, (cells.shape[1] * 4, cells.shape[0] * 4), interpolation=cv2.INTER_CUBIC)
    rgb = np.asarray(base_rgb, np.float32) + detail[:height, :width, None]
    return np.clip(rgb, 0, 255).astype(np.uint8)


class TexturedClip(list):
    """A textured pitch with a red square (moving `step_px` per frame to the right) and a still blue square."""

    width = WIDTH
    height = HEIGHT

    def __init__(self, frames: int, step_px: int) -> None:
        super().__init__()
        pitch = texture(HEIGHT, WIDTH, 0, (60, 130, 60))
        red = texture(20, 20, 1, (200, 40, 40))
        blue = texture(20, 20, 2, (40, 40, 200))
        for t in range(frames):
            rgb = pitch.copy()
            x = 6 + step_px * t
            rgb[20:40, x : x + 20] = red
            rgb[38:58, 66:86] = blue
            self.append(rgb)


def red_click(frame: int, object_id: int = 1, step_px: int = 0) -> Prompt:
    return Prompt.from_click(frame, object_id, 16 + step_px * frame, 30)


BLUE_CLICK_X, BLUE_CLICK_Y = 76, 48


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    return load_video_model("test-sam2.1-tiny-128", "cpu")


def run(
    model: LoadedModel, clip: TexturedClip, prompts: list[Prompt], skip: SkipSettings | None
) -> tuple[list[FrameResult], dict[str, np.ndarray]]:
    """track() results and the profiler's extra columns."""
    with Sam2VideoTracker(model, clip, skip=skip) as tracker:
        tracker.add_prompts(prompts)
        results = list(tracker.track())
        return results, tracker.profiler.result().extra


def processed(results: list[FrameResult], reverse: bool) -> list[int]:
    return [r.frame for r in results if r.reverse == reverse and not r.skipped]


def differing_share(a: dict[int, np.ndarray], b: dict[int, np.ndarray]) -> float:
    assert set(a) == set(b)
    return sum(int((a[obj] != b[obj]).sum()) for obj in a) / sum(a[obj].size for obj in a)


def test_still_clip_processes_the_prompt_frame_and_every_fourth_and_carries_masks(model: LoadedModel) -> None:
    # prompt on frame 2: forward pass 2..12, and a backward pass 1..0 for the same object
    skip = SkipSettings(threshold_px=ABOVE_STILL_PX, max_consecutive=3)
    results, extra = run(model, TexturedClip(13, step_px=0), [red_click(2)], skip)

    assert processed(results, reverse=False) == [2, 6, 10]
    assert processed(results, reverse=True) == [1]  # the gate starts afresh on the backward pass's first frame
    assert [r.frame for r in results if r.skipped] == [3, 4, 5, 7, 8, 9, 11, 12, 0]
    last: FrameResult | None = None
    for result in results:
        if result.skipped:
            assert last is not None and last.reverse == result.reverse
            assert differing_share(result.masks, last.masks) < MAX_DIFFERING_PIXEL_SHARE, f"frame {result.frame}"
            assert result.object_scores == last.object_scores
            assert result.encoder_ms == 0.0 and result.prompt_ms == 0.0
        else:
            last = result
    assert results[0].masks[1].sum() > 0, "the carried masks are not trivially empty"
    # the profiler rows say which frames were skipped, one row per result
    assert list(extra["skipped"]) == [float(r.skipped) for r in results]
    assert np.all(extra["gate_ms"] > 0)


def test_moving_clip_skips_nothing_and_matches_tracking_without_skipping(model: LoadedModel) -> None:
    clip = TexturedClip(8, step_px=4)
    prompts = [red_click(0, step_px=4), Prompt.from_click(0, 2, BLUE_CLICK_X, BLUE_CLICK_Y)]
    plain, plain_extra = run(model, clip, prompts, skip=None)
    gated, _ = run(model, clip, prompts, SkipSettings(threshold_px=BELOW_MOVING_PX))

    assert not any(r.skipped for r in gated)
    assert [r.frame for r in gated] == [r.frame for r in plain]
    for a, b in zip(plain, gated):
        assert a.object_scores == b.object_scores
        for obj in a.masks:
            assert np.array_equal(a.masks[obj], b.masks[obj]), f"frame {a.frame} object {obj}"
    # measured on every frame after the first (which the gate processes without measuring)
    assert math.isnan(gated[0].motion_px)
    assert all(r.motion_px >= BELOW_MOVING_PX for r in gated[1:])
    assert all(r.gate_ms > 0 for r in gated)
    # without skipping nothing is measured and the profiler gets no skip columns
    assert all(not r.skipped and math.isnan(r.motion_px) and r.gate_ms == 0.0 for r in plain)
    assert "skipped" not in plain_extra and "gate_ms" not in plain_extra


def test_prompted_frames_and_late_objects_get_the_model_and_every_frame_gets_every_object(
    model: LoadedModel,
) -> None:
    clip = TexturedClip(12, step_px=0)
    prompts = [
        red_click(0),
        red_click(5),  # a correction on a later frame: never skipped
        Prompt.from_click(6, 2, BLUE_CLICK_X, BLUE_CLICK_Y),  # first prompted on frame 6: tracked backward too
    ]
    skip = SkipSettings(threshold_px=ABOVE_STILL_PX, max_consecutive=3)
    gated, _ = run(model, clip, prompts, skip)
    plain, _ = run(model, clip, prompts, skip=None)

    # forward: 0 first, 4 after three skips, 5 prompted, 6 the new object's prompt, 10 after three skips
    assert processed(gated, reverse=False) == [0, 4, 5, 6, 10]
    # backward (object 2 only): 5 starts the pass, 1 after three skips
    assert processed(gated, reverse=True) == [5, 1]
    assert [(r.frame, r.reverse, sorted(r.masks), sorted(r.object_scores)) for r in gated] == [
        (r.frame, r.reverse, sorted(r.masks), sorted(r.object_scores)) for r in plain
    ]
    by_frame = {(r.frame, r.reverse): r for r in gated}
    # forced frames are processed without measuring; skipped frames were measured below the threshold
    for frame in (0, 5, 6):
        assert math.isnan(by_frame[frame, False].motion_px)
    for result in gated:
        if result.skipped:
            assert result.motion_px < ABOVE_STILL_PX
        assert result.gate_ms > 0


def test_streaming_refuses_frame_skipping(model: LoadedModel) -> None:
    with Sam2VideoTracker(model, TexturedClip(3, step_px=0), skip=SkipSettings(threshold_px=1.0)) as tracker:
        tracker.add_prompt(red_click(0))
        with pytest.raises(TrackingError, match="track\\(\\) only"):
            tracker.step(0)
