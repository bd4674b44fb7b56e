"""Motion-gated frame skipping: when frames are skipped, how motion is measured, and how masks are carried.

Frames are synthetic: a random texture with detail at two scales (blobs about 24 px wide for the coarse pyramid
levels of the optical flow, about 6 px for the fine ones) and textured squares moved by known amounts, so every
expected motion is known by construction.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from playerseg.tracking.frameskip import FrameSkipError, MotionGate, SkipDecision, SkipSettings

COARSE_PX, FINE_PX = 24, 6


def _blobs(height: int, width: int, blob_px: int, rng: np.random.Generator) -> np.ndarray:
    cells = rng.integers(0, 256, (height // blob_px + 3, width // blob_px + 3, 3), dtype=np.uint8)
    size = (cells.shape[1] * blob_px, cells.shape[0] * blob_px)
    return cv2.resize(cells, size, interpolation=cv2.INTER_CUBIC)[:height, :width].astype(np.float32)


def texture(height: int, width: int, seed: int) -> np.ndarray:
    """Random RGB texture, HxWx3 uint8. With smooth blobs alone, Farneback (which fits local quadratics) finds too
    little curvature at full size and reads a 6 px shift as about 2 px; real frames have the fine detail."""
    rng = np.random.default_rng(seed)
    mixed = 0.6 * _blobs(height, width, COARSE_PX, rng) + 0.4 * _blobs(height, width, FINE_PX, rng)
    return np.clip(mixed, 0, 255).astype(np.uint8)


def shifted_view(height: int, width: int, dx: int, dy: int, seed: int = 0) -> np.ndarray:
    """A window on a larger texture whose content appears moved by (dx, dy) relative to shifted_view(.., 0, 0)."""
    margin = 2 * COARSE_PX
    big = texture(height + 2 * margin, width + 2 * margin, seed)
    return np.ascontiguousarray(big[margin - dy : margin - dy + height, margin - dx : margin - dx + width])


def square_scene(height: int, width: int, squares: list[tuple[int, int, int]], background_seed: int = 0) -> np.ndarray:
    """Static textured background with textured squares pasted at (x, y, side); square i uses texture seed 10 + i."""
    frame = texture(height, width, background_seed).copy()
    for index, (x, y, side) in enumerate(squares):
        frame[y : y + side, x : x + side] = texture(side, side, 10 + index)
    return frame


def box_mask(height: int, width: int, x: int, y: int, side: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    mask[max(y, 0) : y + side, max(x, 0) : x + side] = True
    return mask


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.logical_and(a, b).sum() / np.logical_or(a, b).sum())


def decisions(gate: MotionGate, frames: list[np.ndarray]) -> list[bool]:
    return [gate.decide(frame).skip for frame in frames]


# --- deciding -------------------------------------------------------------------------------------------------------


def test_identical_frames_are_skipped_after_the_first() -> None:
    frame = shifted_view(180, 320, 0, 0)
    gate = MotionGate(SkipSettings(threshold_px=3.0, max_consecutive=10))

    first = gate.decide(frame)
    later = [gate.decide(frame.copy()) for _ in range(3)]

    assert not first.skip
    assert math.isnan(first.motion_px)  # nothing to measure against
    assert all(d.skip for d in later)
    assert all(d.motion_px < 0.3 for d in later)
    assert all(isinstance(d, SkipDecision) and d.gate_ms > 0 for d in [first, *later])


def test_a_shift_above_the_threshold_is_processed() -> None:
    gate = MotionGate(SkipSettings(threshold_px=3.0))
    gate.decide(shifted_view(180, 320, 0, 0))

    decision = gate.decide(shifted_view(180, 320, 12, 0))

    assert not decision.skip
    assert decision.motion_px > 3.0


@pytest.mark.parametrize(("height", "width"), [(180, 320), (360, 640), (1080, 1920), (300, 200)])
@pytest.mark.parametrize(("dx", "dy"), [(6, 0), (0, -9), (6, 6)])
def test_motion_of_a_known_shift_is_in_full_size_pixels(height: int, width: int, dx: int, dy: int) -> None:
    # Whole-frame shift: every pixel moves by |(dx, dy)|, so the measure must come out within 10 % of it whatever
    # the frame size (flow at 180 px high, scaled back; the strip of new content at the edge is left out).
    gate = MotionGate(SkipSettings(threshold_px=1000.0))
    gate.decide(shifted_view(height, width, 0, 0))

    decision = gate.decide(shifted_view(height, width, dx, dy))

    assert decision.motion_px == pytest.approx(math.hypot(dx, dy), rel=0.10)


def test_a_moving_square_on_a_still_background_is_seen_although_the_mean_motion_is_small() -> None:
    # A 48 px square (2 % of a 360x640 frame) moves 12 px: the true mean motion over the frame is 0.24 px, far
    # below the 3 px threshold, and so is any percentile below the 98th; the gate must still process the frame.
    height, width, side, shift = 360, 640, 48, 12
    threshold = 3.0
    true_mean_motion = side * side / (height * width) * shift
    assert true_mean_motion < threshold / 10
    gate = MotionGate(SkipSettings(threshold_px=threshold))
    gate.decide(square_scene(height, width, [(300, 150, side)]))

    decision = gate.decide(square_scene(height, width, [(300 + shift, 150, side)]))

    assert not decision.skip
    assert decision.motion_px > threshold


def test_sensor_noise_and_compression_on_a_still_scene_are_not_motion() -> None:
    rng = np.random.default_rng(5)
    clean = shifted_view(360, 640, 0, 0)

    def noisy() -> np.ndarray:
        frame = np.clip(clean + rng.normal(0.0, 4.0, clean.shape), 0, 255).astype(np.uint8)
        _, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 60])
        return cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)

    gate = MotionGate(SkipSettings(threshold_px=2.0, max_consecutive=10))
    gate.decide(noisy())

    assert decisions(gate, [noisy() for _ in range(4)]) == [True] * 4


def test_motion_is_measured_against_the_last_processed_frame_not_the_previous_frame() -> None:
    # 2 px per frame with a 5 px threshold: 2 and 4 px from the reference are skipped, 6 px is processed and
    # becomes the reference, then 8 and 10 (2 and 4 from it) are skipped again.
    gate = MotionGate(SkipSettings(threshold_px=5.0, max_consecutive=10))
    frames = [shifted_view(180, 320, 2 * step, 0) for step in range(7)]

    assert decisions(gate, frames) == [False, True, True, False, True, True, False]


def test_no_more_than_max_consecutive_frames_are_skipped_in_a_row() -> None:
    frame = shifted_view(180, 320, 0, 0)
    gate = MotionGate(SkipSettings(threshold_px=3.0, max_consecutive=2))

    made = [gate.decide(frame) for _ in range(7)]

    assert [d.skip for d in made] == [False, True, True, False, True, True, False]
    assert math.isnan(made[3].motion_px)  # forced by the cap, not measured


def test_must_process_forces_processing_and_restarts_the_skip_count() -> None:
    frame = shifted_view(180, 320, 0, 0)
    gate = MotionGate(SkipSettings(threshold_px=3.0, max_consecutive=2))

    made = [gate.decide(frame, must_process=(index == 2)) for index in range(6)]

    assert [d.skip for d in made] == [False, True, False, True, True, False]


def test_must_process_makes_the_frame_the_new_reference() -> None:
    still, moved = shifted_view(180, 320, 0, 0), shifted_view(180, 320, 12, 0)
    gate = MotionGate(SkipSettings(threshold_px=3.0, max_consecutive=10))
    gate.decide(still)

    assert not gate.decide(moved.copy(), must_process=True).skip
    # Measured against `moved` now, not against `still` (which would be 12 px away).
    again = gate.decide(moved)
    assert again.skip
    assert again.motion_px < 1.0


def test_reset_forgets_the_reference() -> None:
    frame = shifted_view(180, 320, 0, 0)
    gate = MotionGate(SkipSettings(threshold_px=3.0))
    gate.decide(frame)
    assert gate.decide(frame).skip

    gate.reset()

    assert not gate.decide(frame).skip
    assert gate.decide(frame).skip
    gate.reset()
    # A new clip may have another size after reset().
    assert not gate.decide(shifted_view(120, 160, 0, 0)).skip


# --- carrying masks -------------------------------------------------------------------------------------------------


def skipped_gate(reference: np.ndarray, current: np.ndarray) -> MotionGate:
    """A gate whose last decision skipped `current` (threshold far above any motion used here)."""
    gate = MotionGate(SkipSettings(threshold_px=1000.0))
    assert not gate.decide(reference).skip
    assert gate.decide(current).skip
    return gate


@pytest.mark.parametrize(("dx", "dy"), [(9, -6), (-12, 0), (8, 8), (-10, 5)])
def test_carry_moves_a_mask_with_its_object(dx: int, dy: int) -> None:
    height, width, side, x, y = 360, 640, 100, 270, 130
    gate = skipped_gate(
        square_scene(height, width, [(x, y, side)]), square_scene(height, width, [(x + dx, y + dy, side)])
    )
    reference_mask = box_mask(height, width, x, y, side)
    moved_mask = box_mask(height, width, x + dx, y + dy, side)
    assert iou(reference_mask, moved_mask) < 0.85  # so the bar below can only be met by moving the mask

    carried = gate.carry({1: reference_mask})

    assert set(carried) == {1}
    assert carried[1].dtype == bool and carried[1].shape == (height, width)
    assert iou(carried[1], moved_mask) > 0.85
    assert iou(carried[1], moved_mask) > iou(carried[1], reference_mask)


def test_carry_scales_the_flow_to_full_size() -> None:
    # 720 px high: flow runs at a quarter size, so an unscaled flow would move the leading edge 4 px, not 16.
    height, width, side, x, y, dx = 720, 1280, 160, 500, 300, 16
    gate = skipped_gate(square_scene(height, width, [(x, y, side)]), square_scene(height, width, [(x + dx, y, side)]))

    carried = gate.carry({1: box_mask(height, width, x, y, side)})

    columns = np.nonzero(carried[1].any(axis=0))[0]
    assert columns.max() == pytest.approx(x + dx + side - 1, abs=2)
    assert iou(carried[1], box_mask(height, width, x + dx, y, side)) > 0.85


def test_carry_keeps_ids_keeps_objects_apart_and_keeps_empty_masks_empty() -> None:
    # Two players side by side running right: the front of object 7 moves into the place object 3 leaves, where
    # the reference says "object 3"; the carried masks must follow their objects without overlapping.
    height, width, side, dx = 360, 640, 90, 8
    gate = skipped_gate(
        square_scene(height, width, [(200, 140, side), (290, 140, side)]),
        square_scene(height, width, [(200 + dx, 140, side), (290 + dx, 140, side)]),
    )
    masks = {
        7: box_mask(height, width, 200, 140, side),
        3: box_mask(height, width, 290, 140, side),
        12: np.zeros((height, width), dtype=bool),
    }

    carried = gate.carry(masks)

    assert set(carried) == {3, 7, 12}
    assert all(mask.dtype == bool and mask.shape == (height, width) for mask in carried.values())
    assert not np.logical_and(carried[3], carried[7]).any()
    assert not carried[12].any()
    assert iou(carried[7], box_mask(height, width, 200 + dx, 140, side)) > 0.85
    assert iou(carried[3], box_mask(height, width, 290 + dx, 140, side)) > 0.85


def test_carry_after_several_skips_warps_from_the_last_processed_frame() -> None:
    height, width, side, x, y = 360, 640, 100, 270, 130
    gate = MotionGate(SkipSettings(threshold_px=1000.0))
    frames = [square_scene(height, width, [(x + 4 * step, y, side)]) for step in range(4)]
    assert decisions(gate, frames) == [False, True, True, True]

    carried = gate.carry({1: box_mask(height, width, x, y, side)})  # the masks of frames[0], 12 px behind

    moved_mask = box_mask(height, width, x + 12, y, side)
    assert iou(carried[1], moved_mask) > 0.85
    assert iou(carried[1], moved_mask) > iou(carried[1], box_mask(height, width, x + 4, y, side))  # not from frames[2]


def test_carry_of_no_masks_and_of_empty_masks() -> None:
    frame = shifted_view(180, 320, 0, 0)
    gate = skipped_gate(frame, frame)

    assert gate.carry({}) == {}
    carried = gate.carry({5: np.zeros((180, 320), dtype=bool)})
    assert set(carried) == {5} and carried[5].shape == (180, 320) and not carried[5].any()


def test_carry_on_a_still_frame_returns_the_masks_unchanged() -> None:
    frame = shifted_view(180, 320, 0, 0)
    gate = skipped_gate(frame, frame.copy())
    mask = box_mask(180, 320, 100, 50, 40)

    assert np.array_equal(gate.carry({1: mask})[1], mask)


def test_overlapping_input_masks_give_the_shared_pixels_to_the_larger_id() -> None:
    frame = shifted_view(180, 320, 0, 0)
    gate = skipped_gate(frame, frame.copy())
    low, high = box_mask(180, 320, 100, 50, 40), box_mask(180, 320, 120, 50, 40)

    carried = gate.carry({2: low, 9: high})

    assert not np.logical_and(carried[2], carried[9]).any()
    assert np.array_equal(carried[9], high)
    assert np.array_equal(carried[2], low & ~high)


def test_carry_is_refused_unless_the_last_decision_was_a_skip() -> None:
    frame = shifted_view(180, 320, 0, 0)
    mask = {1: box_mask(180, 320, 100, 50, 40)}
    gate = MotionGate(SkipSettings(threshold_px=3.0))
    with pytest.raises(FrameSkipError, match="skip"):
        gate.carry(mask)  # nothing decided yet

    gate.decide(frame)
    with pytest.raises(FrameSkipError, match="skip"):
        gate.carry(mask)  # first frame: processed

    assert gate.decide(frame).skip
    gate.carry(mask)
    gate.decide(frame, must_process=True)
    with pytest.raises(FrameSkipError, match="skip"):
        gate.carry(mask)

    assert gate.decide(frame).skip
    gate.reset()
    with pytest.raises(FrameSkipError, match="skip"):
        gate.carry(mask)

    gate.decide(frame)
    assert gate.decide(frame).skip
    with pytest.raises(FrameSkipError):
        gate.decide(frame[:, :100])  # a bad frame also ends the skipped frame's carry
    with pytest.raises(FrameSkipError, match="skip"):
        gate.carry(mask)


def test_carry_rejects_a_mask_of_another_size() -> None:
    frame = shifted_view(180, 320, 0, 0)
    gate = skipped_gate(frame, frame)

    with pytest.raises(FrameSkipError, match="object 4"):
        gate.carry({4: np.zeros((90, 160), dtype=bool)})


# --- settings and inputs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"threshold_px": 0.0}, "threshold_px"),
        ({"threshold_px": -2.0}, "threshold_px"),
        ({"threshold_px": math.nan}, "threshold_px"),
        ({"threshold_px": 3.0, "max_consecutive": 0}, "max_consecutive"),
        ({"threshold_px": 3.0, "max_consecutive": 2.5}, "max_consecutive"),
        ({"threshold_px": 3.0, "work_height": 10}, "work_height"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(FrameSkipError, match=field):
        SkipSettings(**kwargs)  # type: ignore[arg-type]


def test_default_settings() -> None:
    settings = SkipSettings(threshold_px=2.5)
    assert (settings.max_consecutive, settings.work_height) == (4, 180)


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((90, 160), dtype=np.uint8),
        np.zeros((90, 160, 4), dtype=np.uint8),
        np.zeros((90, 160, 3), dtype=np.float32),
        [[0, 0, 0]],
    ],
)
def test_frames_must_be_hxwx3_uint8(frame: object) -> None:
    with pytest.raises(FrameSkipError, match="HxWx3 uint8"):
        MotionGate(SkipSettings(threshold_px=3.0)).decide(frame)  # type: ignore[arg-type]


def test_a_frame_of_another_size_than_the_reference_is_refused() -> None:
    gate = MotionGate(SkipSettings(threshold_px=3.0))
    gate.decide(shifted_view(180, 320, 0, 0))

    with pytest.raises(FrameSkipError, match="reset"):
        gate.decide(shifted_view(180, 322, 0, 0))


def test_frames_smaller_than_the_work_height_are_used_as_they_are() -> None:
    gate = MotionGate(SkipSettings(threshold_px=3.0, work_height=180))
    gate.decide(shifted_view(96, 128, 0, 0))

    decision = gate.decide(shifted_view(96, 128, 6, 0))

    assert not decision.skip
    assert decision.motion_px == pytest.approx(6.0, rel=0.10)
