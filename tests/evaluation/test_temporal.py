"""Temporal stability (flicker) metrics on synthetic clips whose truth is known, built here with numpy/cv2."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from scipy import ndimage
from skimage.segmentation import find_boundaries

from evaluation.results.accuracy import AccuracyResult
from evaluation.results.temporal import TemporalResult
from evaluation.sequence import VOID, MaskSequence
from evaluation.temporal import (
    TemporalError,
    TemporalMetric,
    area_volatility,
    boundary_flip_rate,
    boundary_map,
    centroid_jitter,
    optical_flow,
    presence_toggles,
    temporal_stability,
    warp_back,
)

H, W = 240, 320
PAN = (3, 2)  # camera pan in px per frame (x, y): the scene moves by -PAN in the image
N_FRAMES = 12


# ---------------------------------------------------------------------------------------------------------------
# Synthetic panned clip: a noise texture seen through a moving window, a player-shaped object fixed in the scene


def _scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    size = (H + PAN[1] * N_FRAMES + 20, W + PAN[0] * N_FRAMES + 20)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (*size, 3), dtype=np.uint8), (0, 0), 1.5)
    labels = np.zeros(size, dtype=np.uint8)
    cv2.ellipse(labels, (200, 150), (25, 55), 0, 0, 360, 1, -1)  # body
    cv2.rectangle(labels, (225, 120), (265, 125), 1, -1)  # thin arm: erosion removes it, moving the centroid
    cv2.circle(labels, (300, 200), 20, 2, -1)  # a second object that stays clean
    return texture, labels


def _window(image: np.ndarray, t: int) -> np.ndarray:
    x, y = PAN[0] * t, PAN[1] * t
    return np.ascontiguousarray(image[y : y + H, x : x + W])


@pytest.fixture(scope="module")
def pan_clip() -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    texture, labels = _scene()
    return {t: _window(texture, t) for t in range(N_FRAMES)}, {t: _window(labels, t) for t in range(N_FRAMES)}


def _corrupt(masks: dict[int, np.ndarray], drop: set[int], grow: set[int], shrink: set[int]) -> dict[int, np.ndarray]:
    """Flicker object 1 only: emptied on `drop` frames, dilated / eroded by 4 px on `grow` / `shrink` frames."""
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    out = {}
    for t, labels in masks.items():
        labels = labels.copy()
        obj = (labels == 1).astype(np.uint8)
        if t in drop:
            obj[:] = 0
        elif t in grow:
            obj = cv2.dilate(obj, disk)
        elif t in shrink:
            obj = cv2.erode(obj, disk)
        labels[labels == 1] = 0
        labels[(obj > 0) & (labels == 0)] = 1
        out[t] = labels
    return out


def _stability(masks: dict[int, np.ndarray], rgb: dict[int, np.ndarray] | None = None) -> TemporalResult:
    reader: Callable[[int], np.ndarray] | None = rgb.__getitem__ if rgb is not None else None
    return temporal_stability(MaskSequence.from_arrays("clip", masks), reader, name="model")


def _object(result: TemporalResult, obj: int):
    return result.objects[result.object_ids.index(obj)]


# ---------------------------------------------------------------------------------------------------------------
# Panned clip: flow compensation and corruption


def test_flow_compensation_scores_a_panned_mask_near_one(pan_clip) -> None:
    rgb, masks = pan_clip
    result = _stability(masks, rgb)
    player = _object(result, 1)
    assert player.flow_consistency is not None and player.flow_consistency >= 0.95
    assert player.consecutive_iou < 0.85 and player.flow_consistency - player.consecutive_iou > 0.1
    assert player.boundary_flip_rate < 0.05  # flow-aligned boundaries stay put
    assert player.centroid_jitter_px < 0.1  # a steady pan is constant velocity
    assert player.area_volatility < 0.01
    assert player.presence_toggles == 0
    assert player.frames_present == N_FRAMES


def test_without_frames_flow_is_absent_and_boundaries_compare_raw_masks(pan_clip) -> None:
    _, masks = pan_clip
    result = _stability(masks)
    assert result.flow_consistency is None
    assert all(o.flow_consistency is None for o in result.objects)
    assert result.mean_flow_consistency is None
    # a 7 px pan moves the raw boundary beyond the 1 px tolerance almost everywhere
    assert _object(result, 1).boundary_flip_rate > 0.5


@pytest.mark.parametrize(
    "drop, grow, shrink",
    [
        pytest.param({4, 8}, {2, 6}, {3, 10}, id="dropped-dilated-eroded"),
        pytest.param(set(), {1, 5, 9}, {3, 7}, id="dilated-eroded"),
    ],
)
def test_flickering_mask_scores_worse_on_every_metric(pan_clip, drop, grow, shrink) -> None:
    rgb, masks = pan_clip
    clean = _object(_stability(masks, rgb), 1)
    flicker_result = _stability(_corrupt(masks, drop, grow, shrink), rgb)
    flicker = _object(flicker_result, 1)
    assert flicker.consecutive_iou < clean.consecutive_iou - 0.05
    assert flicker.flow_consistency < clean.flow_consistency - 0.05
    assert flicker.area_volatility > clean.area_volatility + 0.1
    assert flicker.centroid_jitter_px > clean.centroid_jitter_px + 0.5
    assert flicker.boundary_flip_rate > clean.boundary_flip_rate + 0.2
    assert flicker.presence_toggles == clean.presence_toggles + len(drop)
    # the untouched object keeps its clean scores
    assert _object(flicker_result, 2).flow_consistency >= 0.95


def test_streaming_class_matches_function(pan_clip) -> None:
    rgb, masks = pan_clip
    corrupted = _corrupt(masks, {5}, {3}, {8})
    metric = TemporalMetric()
    for t in sorted(corrupted):
        assert metric.update(t, corrupted[t], rgb[t]) is metric
    streamed = metric.compute(name="model")
    batch = _stability(corrupted, rgb)
    assert streamed.objects == batch.objects
    for field in ("area", "centroid", "consecutive_iou", "flow_consistency", "boundary_flip"):
        np.testing.assert_array_equal(getattr(streamed, field), getattr(batch, field))


def test_a_reused_label_buffer_does_not_change_the_kept_previous_frame() -> None:
    buffer = _square(5, 5, 10, 10)
    metric = TemporalMetric().update(0, buffer)
    buffer[:] = 0
    buffer[5:15, 10:20] = 1  # the segmenter writes the next frame into the same array
    assert metric.update(1, buffer).compute().consecutive_iou[1, 0] == pytest.approx(1 / 3)


def test_frames_of_another_size_are_resized_and_downscaled_flow_is_scaled_back() -> None:
    # masks 360x720 (flow runs at 320x640), frames given at half size: both resizes must keep the pan right
    rng = np.random.default_rng(3)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (420, 800, 3), dtype=np.uint8), (0, 0), 2.0)
    scene = np.zeros((420, 800), dtype=np.uint8)
    cv2.ellipse(scene, (400, 200), (60, 100), 0, 0, 360, 7, -1)
    step = (10, 6)

    def window(image: np.ndarray, t: int) -> np.ndarray:
        return np.ascontiguousarray(image[step[1] * t : step[1] * t + 360, step[0] * t : step[0] * t + 720])

    masks = {t: window(scene, t) for t in range(3)}
    frames = {t: cv2.resize(window(texture, t), (360, 180)) for t in range(3)}
    flow = optical_flow(frames[0], frames[1], size=(360, 720))
    assert flow.shape == (360, 720, 2)
    assert np.median(flow[30:-30, 30:-30], axis=(0, 1)) == pytest.approx([-step[0], -step[1]], abs=0.5)
    obj = _object(_stability(masks, frames), 7)
    assert obj.flow_consistency >= 0.95 and obj.consecutive_iou < 0.9


def test_optical_flow_points_from_the_earlier_frame_to_the_later_one(pan_clip) -> None:
    rgb, masks = pan_clip
    flow = optical_flow(rgb[0], rgb[1])
    inner = flow[20:-20, 20:-20]
    # the scene moves by -PAN in the image, so pixel x of frame 0 is at x - PAN in frame 1
    assert np.median(inner[..., 0]) == pytest.approx(-PAN[0], abs=0.25)
    assert np.median(inner[..., 1]) == pytest.approx(-PAN[1], abs=0.25)
    warped = warp_back(masks[1], flow)
    agree = (warped == masks[0]) | (warped == VOID)
    assert agree.mean() > 0.99
    # pixels of frame 0 whose flow leaves frame 1 (the top rows and left columns) become void
    assert (warped[: PAN[1] - 1, 10:-10] == VOID).mean() > 0.9


# ---------------------------------------------------------------------------------------------------------------
# Hand-worked cases


def _square(x0: int, y0: int, w: int, h: int, obj: int = 1, size: tuple[int, int] = (40, 60)) -> np.ndarray:
    labels = np.zeros(size, dtype=np.uint8)
    labels[y0 : y0 + h, x0 : x0 + w] = obj
    return labels


def test_two_frame_sequence_with_known_iou() -> None:
    # 10x10 squares 5 px apart: intersection 50, union 150
    result = _stability({0: _square(5, 5, 10, 10), 1: _square(10, 5, 10, 10)})
    assert math.isnan(result.consecutive_iou[0, 0])
    assert result.consecutive_iou[1, 0] == pytest.approx(1 / 3)
    obj = result.objects[0]
    assert obj.consecutive_iou == pytest.approx(1 / 3)
    assert obj.area_volatility == 0.0
    assert math.isnan(obj.centroid_jitter_px)  # needs three frames
    np.testing.assert_array_equal(result.area[:, 0], [100, 100])
    np.testing.assert_allclose(result.centroid[:, 0], [[9.5, 9.5], [14.5, 9.5]])


def test_boundary_flip_of_a_shift_hand_worked() -> None:
    # a 10x10 square (x 10..19) moved 3 px right (x 13..22); its one-pixel boundary is the 36-pixel ring
    before = _square(10, 10, 10, 10).astype(bool)
    after = _square(13, 10, 10, 10).astype(bool)
    assert boundary_map(before).sum() == 36
    # kept: top and bottom rows at x = 12..19 (within 1 px of the new top/bottom rows, x = 13..22): 2 * 8 = 16,
    # plus the right column's two end pixels (19, 11) and (19, 18), diagonal to the new rows' (20, 10), (20, 19);
    # flipped: x = 10, 11 of both rows (4), the left column (8) and the rest of the right column (6) = 18
    assert boundary_flip_rate(before, after) == pytest.approx(18 / 36)
    assert boundary_flip_rate(before, before) == 0.0
    assert boundary_flip_rate(before, np.zeros_like(before)) == 1.0
    assert math.isnan(boundary_flip_rate(np.zeros_like(before), before))


def test_area_volatility_hand_worked() -> None:
    assert area_volatility(np.array([100, 300])) == pytest.approx(1.0)
    assert area_volatility(np.array([100, 0, 300, 300])) == pytest.approx(0.0)  # only pairs present on both
    assert math.isnan(area_volatility(np.array([100, 0, 50])))
    result = _stability({0: _square(0, 0, 10, 10), 1: _square(0, 0, 30, 10)})
    assert result.objects[0].area_volatility == pytest.approx(1.0)


def test_centroid_jitter_of_a_known_track() -> None:
    track = np.array([[0, 0], [1, 0], [3, 0], [6, 1], [10, 2]], dtype=float)
    # second differences: (1, 0), (1, 1), (1, 0) -> lengths 1, sqrt 2, 1
    expected = (1 + math.sqrt(2) + 1) / 3
    assert centroid_jitter(track) == pytest.approx(expected)
    assert centroid_jitter(np.array([[0, 0], [5, 5], [10, 10], [15, 15]], dtype=float)) == 0.0
    gapped = track.copy()
    gapped[2] = np.nan  # all three triples (0,1,2), (1,2,3), (2,3,4) include frame 2 -> undefined
    assert math.isnan(centroid_jitter(gapped))
    # end to end: one-pixel objects sit exactly on the track
    masks = {}
    for t, (x, y) in enumerate(track.astype(int)):
        labels = np.zeros((20, 20), dtype=np.uint8)
        labels[y + 3, x + 3] = 4
        masks[t] = labels
    assert _stability(masks).objects[0].centroid_jitter_px == pytest.approx(expected)


@pytest.mark.parametrize(
    "pattern, toggles", [((1, 0, 1, 1, 0, 1), 2), ((0, 0, 1, 1), 0), ((1, 0, 0, 0, 1), 1), ((1, 1, 0, 0), 0)]
)
def test_presence_toggles(pattern: tuple[int, ...], toggles: int) -> None:
    assert presence_toggles(np.array(pattern, dtype=bool)) == toggles
    masks = {t: _square(3, 3, 5, 5) if shown else _square(0, 0, 0, 0) for t, shown in enumerate(pattern)}
    result = _stability(masks)
    assert _object(result, 1).presence_toggles == toggles
    assert _object(result, 1).frames_present == sum(pattern)
    assert result.total_presence_toggles == toggles


def test_void_pixels_are_left_out_of_pair_metrics() -> None:
    before = _square(10, 10, 10, 10)
    after = before.copy()
    after[10:20, 15:20] = VOID  # right half of the object is void on the later frame
    result = _stability({0: before, 1: after})
    assert result.consecutive_iou[1, 0] == pytest.approx(1.0)
    assert result.object_ids == (1,)  # 255 is never an object


def test_boundary_flip_matches_an_independent_full_frame_reference() -> None:
    # blobs inside random windows (some touching the frame edge), the later one moved and grown: the cropped
    # computation must agree with a full-frame one built from scikit-image boundaries and a chessboard distance
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(20):
        window = np.zeros((80, 100), dtype=bool)
        y0, x0 = int(rng.integers(0, 30)), int(rng.integers(0, 40))
        window[y0 : y0 + int(rng.integers(20, 50)), x0 : x0 + int(rng.integers(20, 60))] = True
        before = (ndimage.gaussian_filter(rng.random((80, 100)), 3) > 0.5) & window
        moved = np.roll(before, (int(rng.integers(-3, 4)), int(rng.integers(-3, 4))), axis=(0, 1))
        after = ndimage.binary_dilation(moved, iterations=int(rng.integers(1, 3))) ^ (rng.random((80, 100)) > 0.98)
        edge_before = find_boundaries(before, connectivity=1, mode="inner") & before
        edge_after = find_boundaries(after, connectivity=1, mode="inner") & after
        if not edge_before.any() or not edge_after.any():
            continue
        distance = ndimage.distance_transform_cdt(~edge_after, metric="chessboard")
        expected = (distance[edge_before] > 1).mean()
        result = _stability({0: before.astype(np.uint8), 1: after.astype(np.uint8)})
        assert result.boundary_flip[1, 0] == pytest.approx(expected), "cropped flip rate differs from full frame"
        checked += 1
    assert checked >= 15


# ---------------------------------------------------------------------------------------------------------------
# NaN handling, edge cases, errors, tables


def test_object_on_one_frame_only_gives_nan_not_crash() -> None:
    masks = {0: _square(0, 0, 0, 0), 1: _square(5, 5, 6, 6), 2: _square(0, 0, 0, 0)}
    masks[0][30:34, 40:44] = 2
    result = _stability(masks)
    once = _object(result, 1)
    assert once.frames_present == 1
    assert once.consecutive_iou == 0.0  # present on one frame of each pair: IoU 0
    assert math.isnan(once.area_volatility) and math.isnan(once.centroid_jitter_px)
    assert math.isnan(once.boundary_flip_rate) and once.presence_toggles == 0
    np.testing.assert_array_equal(result.centroid[[0, 2], result.object_ids.index(1)], np.nan)
    # object 2 only on frame 0: pair (1, 2) has it on neither frame -> NaN
    column = result.object_ids.index(2)
    assert result.consecutive_iou[1, column] == 0.0 and math.isnan(result.consecutive_iou[2, column])


def test_one_frame_sequence_has_nan_pair_metrics(pan_clip) -> None:
    rgb, masks = pan_clip
    result = temporal_stability(MaskSequence.from_arrays("one", {7: masks[0]}), lambda f: rgb[0])
    assert result.frames == (7,) and result.object_ids == (1, 2)
    assert np.isnan(result.consecutive_iou).all() and np.isnan(result.boundary_flip).all()
    assert result.flow_consistency is not None and np.isnan(result.flow_consistency).all()
    for obj in result.objects:
        assert math.isnan(obj.consecutive_iou) and obj.presence_toggles == 0
    assert result.summary()["consecutive_iou"] is None


def test_empty_sequence_raises_a_clear_value_error() -> None:
    empty = MaskSequence("nothing", (), 10, 10, lambda f: np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="nothing.*no frames"):
        temporal_stability(empty)
    with pytest.raises(TemporalError, match="no frames"):
        TemporalMetric().compute()


def test_frames_missing_rgb_give_nan_flow_for_those_pairs(pan_clip) -> None:
    rgb, masks = pan_clip
    result = temporal_stability(MaskSequence.from_arrays("gaps", masks), lambda t: rgb[t] if t != 5 else None)
    assert result.flow_consistency is not None
    column = result.object_ids.index(1)
    assert np.isnan(result.flow_consistency[[0, 5, 6], column]).all()
    finite = np.delete(result.flow_consistency[:, column], [0, 5, 6])
    assert (finite >= 0.95).all()
    # raw boundaries for the pairs without flow: the pan flips them
    assert result.boundary_flip[5, column] > 0.5 and result.boundary_flip[4, column] < 0.1


def test_flow_disabled_in_the_class_ignores_rgb(pan_clip) -> None:
    rgb, masks = pan_clip
    metric = TemporalMetric(flow=False)
    for t in range(3):
        metric.update(t, masks[t], rgb[t])
    result = metric.compute()
    assert result.flow_consistency is None and result.objects[0].flow_consistency is None


def test_tiny_frames_with_flow_do_not_crash() -> None:
    rng = np.random.default_rng(0)
    masks = {t: _square(t, 2, 3, 3, size=(8, 10)) for t in range(3)}
    frames = {t: rng.integers(0, 256, (8, 10, 3), dtype=np.uint8) for t in range(3)}
    result = _stability(masks, frames)
    assert result.flow_consistency is not None and result.flow_consistency.shape == (3, 1)


def test_j_decay_is_copied_from_accuracy() -> None:
    masks = {t: _square(2 * t, 0, 5, 5) for t in range(4)}
    masks[0][20:25, 20:25] = 3
    j = np.array([[1.0, 0.2], [0.9, 0.4], [0.5, 0.6], [0.1, 0.8]])
    accuracy = AccuracyResult("m", "s", (0, 1, 2, 3), (1, 5), j, j.copy())
    result = temporal_stability(MaskSequence.from_arrays("s", masks), accuracy=accuracy)
    decays = {o.object_id: o.J.decay for o in accuracy.per_object}
    assert decays[1] > 0  # J falls over the clip
    assert _object(result, 1).J_decay == decays[1]
    assert _object(result, 3).J_decay is None  # not in the ground truth


@pytest.mark.parametrize(
    "frame, labels, rgb, message",
    [
        (1, np.zeros((4, 4), np.uint8), None, "must increase"),
        (9, np.zeros((5, 4), np.uint8), None, "earlier frames are 4x4"),
        (9, np.zeros((4, 4, 1), np.uint8), None, "2-D"),
        (9, np.full((4, 4), 300, np.int32), None, "0..255"),
        (9, np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32), "uint8"),
    ],
)
def test_bad_input_raises_temporal_error_naming_the_frame(frame, labels, rgb, message) -> None:
    metric = TemporalMetric().update(1, np.zeros((4, 4), np.uint8))
    with pytest.raises(TemporalError, match=f"frame {frame}.*{message}"):
        metric.update(frame, labels, rgb)
    assert issubclass(TemporalError, ValueError)


def test_tables_have_one_row_per_frame_and_object(pan_clip) -> None:
    rgb, masks = pan_clip
    result = _stability(masks, rgb)
    table = result.to_pandas()
    assert table.shape == (N_FRAMES * 2, 9)
    assert table["frame"].tolist()[:4] == [0, 0, 1, 1]
    assert table["flow_consistency"].iloc[2:].notna().all()
    assert result.objects_to_pandas().shape[0] == 2
    assert result.summary()["presence_toggles"] == 0
    assert result.area.shape == (N_FRAMES, 2) and result.centroid.shape == (N_FRAMES, 2, 2)
