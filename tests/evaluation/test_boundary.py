"""Boundary F (DAVIS 2017): hand-worked cases, an independent full-frame reference written here, and vos-benchmark.

The reference below shares no code with evaluation/boundary.py: boundary maps compare each pixel with zero-padded
shifted copies and then apply DAVIS's last-row/column rule pixel by pixel; "within the dilated boundary" is checked
by brute-force squared distances (x^2 + y^2 <= r^2 is exactly the disk), no morphology at all. test_accuracy.py
imports these helpers too.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from skimage.morphology import disk as skimage_disk
from vos_benchmark.evaluator import Evaluator
from vos_benchmark.utils import _seg2bmap as vos_seg2bmap

from evaluation.boundary import (
    BoundaryCounts,
    boundary_counts,
    boundary_counts_in_window,
    disk,
    f_measure,
    seg2bmap,
    tolerance_px,
)
from evaluation.region import MaskShapeError

# ---------------------------------------------------------------------------------------------------------------
# Independent full-frame reference


def reference_bmap(mask: np.ndarray) -> np.ndarray:
    """DAVIS boundary map, written from the definition: differs from right, lower or lower-right neighbour."""
    h, w = mask.shape
    m = mask.astype(np.int8)
    padded = np.zeros((h + 1, w + 1), np.int8)  # outside the image is background
    padded[:h, :w] = m
    out = np.zeros((h, w), bool)
    for dy, dx in ((0, 1), (1, 0), (1, 1)):
        out |= m != padded[dy : dy + h, dx : dx + w]
    for x in range(w):  # DAVIS: last row looks only to the right
        out[h - 1, x] = m[h - 1, x] != padded[h - 1, x + 1]
    for y in range(h):  # last column looks only down
        out[y, w - 1] = m[y, w - 1] != padded[y + 1, w - 1]
    out[h - 1, w - 1] = False
    return out


def reference_tolerance(bound_th: float, h: int, w: int) -> int:
    return int(bound_th) if bound_th >= 1 else int(np.ceil(bound_th * np.linalg.norm([h, w])))


def within_reach(src: np.ndarray, dst: np.ndarray, radius: int) -> int:
    """How many True pixels of src have a True pixel of dst at Euclidean distance <= radius (brute force)."""
    ys, xs = np.nonzero(src)
    yd, xd = np.nonzero(dst)
    if ys.size == 0 or yd.size == 0:
        return 0
    found = 0
    for start in range(0, ys.size, 1024):
        dy = ys[start : start + 1024, None] - yd[None, :]
        dx = xs[start : start + 1024, None] - xd[None, :]
        found += int(np.count_nonzero((dy * dy + dx * dx <= radius * radius).any(axis=1)))
    return found


def reference_counts(
    pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None, bound_th: float = 0.008
) -> tuple[int, int, int, int]:
    keep = np.ones(gt.shape, bool) if void is None else ~void
    bp, bg = reference_bmap(pred & keep), reference_bmap(gt & keep)
    r = reference_tolerance(bound_th, *gt.shape)
    return within_reach(bp, bg, r), int(bp.sum()), within_reach(bg, bp, r), int(bg.sum())


def reference_f(counts: tuple[int, int, int, int]) -> float:
    matched_pred, n_pred, matched_gt, n_gt = counts
    if n_pred == 0 and n_gt == 0:
        p, r = 1.0, 1.0
    elif n_pred == 0:
        p, r = 1.0, 0.0
    elif n_gt == 0:
        p, r = 0.0, 1.0
    else:
        p, r = matched_pred / n_pred, matched_gt / n_gt
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def reference_jaccard(pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None) -> float:
    keep = np.ones(gt.shape, bool) if void is None else ~void
    union = int(((pred | gt) & keep).sum())
    return 1.0 if union == 0 else int((pred & gt & keep).sum()) / union


def vos_scores(pred_labels: np.ndarray, gt_labels: np.ndarray, bound_th: float = 0.008) -> dict[int, tuple]:
    """vos-benchmark's (J, F) per object on one frame (it has no void: use void-free ground truth)."""
    evaluator = Evaluator(boundary=bound_th)
    evaluator.feed_frame(pred_labels, gt_labels)
    return {obj: (evaluator.object_iou[obj][0], evaluator.boundary_f[obj][0]) for obj in evaluator.object_iou}


# ---------------------------------------------------------------------------------------------------------------
# Random masks: rectangles, ellipses, noise blobs, single pixels; shapes may run over the image edges


@st.composite
def masks(draw: st.DrawFn, h: int, w: int) -> np.ndarray:
    canvas = np.zeros((h, w), np.uint8)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(("rect", "ellipse", "blob", "pixel", "full")))
        value = draw(st.sampled_from((1, 1, 1, 0)))  # sometimes erase: holes and ragged edges
        y0, y1 = sorted(draw(st.integers(-3, h + 2)) for _ in range(2))
        x0, x1 = sorted(draw(st.integers(-3, w + 2)) for _ in range(2))
        if kind == "rect":
            cv2.rectangle(canvas, (x0, y0), (x1, y1), value, -1)
        elif kind == "ellipse":
            centre, axes = ((x0 + x1) // 2, (y0 + y1) // 2), ((x1 - x0) // 2, (y1 - y0) // 2)
            cv2.ellipse(canvas, centre, axes, 0, 0, 360, value, -1)
        elif kind == "blob":
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            noise = rng.random((h, w)) < draw(st.sampled_from((0.05, 0.3, 0.7)))
            inside = np.zeros((h, w), bool)
            inside[max(y0, 0) : y1 + 1, max(x0, 0) : x1 + 1] = True
            canvas[noise & inside] = value
        elif kind == "pixel":
            canvas[draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1))] = value
        else:
            canvas[:] = value
    return canvas.astype(bool)


def shifted(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """mask moved dy rows down and dx columns right; what leaves the image is lost."""
    h, w = mask.shape
    out = np.zeros_like(mask)
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = mask[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


@st.composite
def mask_pairs(draw: st.DrawFn, with_void: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    h, w = draw(st.integers(1, 80)), draw(st.integers(1, 80))
    gt = draw(masks(h, w))
    if draw(st.booleans()):  # a perturbed copy: boundaries near each other, so matches are partial
        dy = draw(st.integers(-min(4, h - 1), min(4, h - 1)))
        dx = draw(st.integers(-min(4, w - 1), min(4, w - 1)))
        pred = shifted(gt, dy, dx) ^ (draw(masks(h, w)) & draw(masks(h, w)))
    else:
        pred = draw(masks(h, w))
    void = draw(masks(h, w)) if with_void and draw(st.booleans()) else None
    return pred, gt, void


BOUND_THS = st.sampled_from((0.008, 0.008, 0.03, 0.1, 0.3, 1, 2, 5))
PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------------------------
# seg2bmap


def test_seg2bmap_of_one_pixel_is_the_2x2_block_up_and_left() -> None:
    # Pixel (1,1) set in 3x3. (0,0) differs from its lower-right, (0,1) from its lower, (1,0) from its right,
    # (1,1) from its right; (0,2),(1,2) are last column (lower neighbour equal), row 2 is last row (right equal).
    mask = np.zeros((3, 3), bool)
    mask[1, 1] = True
    expected = np.zeros((3, 3), bool)
    expected[:2, :2] = True
    np.testing.assert_array_equal(seg2bmap(mask), expected)


def test_seg2bmap_full_mask_has_no_boundary() -> None:
    # Every pixel equals its neighbours; the last row/column rule never looks outside the image, and the
    # bottom-right pixel (whose right and lower neighbours are outside) is forced to 0.
    assert not seg2bmap(np.ones((5, 7), bool)).any()


def test_seg2bmap_right_column_mask() -> None:
    # Column 2 set in 3x3: column 1 differs from its right neighbour (incl. last row (2,1)); column 2 itself is the
    # last column, whose lower neighbours are equal, and (2,2) is the forced-0 corner.
    mask = np.zeros((3, 3), bool)
    mask[:, 2] = True
    expected = np.zeros((3, 3), bool)
    expected[:, 1] = True
    np.testing.assert_array_equal(seg2bmap(mask), expected)


def test_seg2bmap_bottom_row_mask() -> None:
    # Row 2 set in 3x3: row 1 differs from its lower / lower-right neighbours, (1,2) is last column and differs
    # from (2,2) below; row 2 is the last row, equal to its right neighbours; (2,2) forced 0.
    mask = np.zeros((3, 3), bool)
    mask[2, :] = True
    expected = np.zeros((3, 3), bool)
    expected[1, :] = True
    np.testing.assert_array_equal(seg2bmap(mask), expected)


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (6, 1), (2, 2), (37, 53)])
def test_seg2bmap_tiny_and_odd_shapes_match_references(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    for _ in range(20):
        mask = rng.random(shape) < 0.5
        np.testing.assert_array_equal(seg2bmap(mask), reference_bmap(mask))
        np.testing.assert_array_equal(seg2bmap(mask), vos_seg2bmap(mask))


@PROPERTY
@given(mask_pairs(with_void=False))
def test_seg2bmap_matches_reference_and_vos_benchmark(case: tuple) -> None:
    mask = case[1]
    np.testing.assert_array_equal(seg2bmap(mask), reference_bmap(mask))
    np.testing.assert_array_equal(seg2bmap(mask), vos_seg2bmap(mask))


def test_seg2bmap_rejects_empty_and_3d() -> None:
    with pytest.raises(ValueError):
        seg2bmap(np.zeros((0, 4), bool))
    with pytest.raises(ValueError):
        seg2bmap(np.zeros((2, 2, 2), bool))


# ---------------------------------------------------------------------------------------------------------------
# Tolerance and disk


@pytest.mark.parametrize("radius", range(0, 26))
def test_disk_equals_skimage_disk(radius: int) -> None:
    np.testing.assert_array_equal(disk(radius), skimage_disk(radius))


def test_tolerance_px_hand_worked() -> None:
    assert tolerance_px(0.008, 1080, 1920) == 18  # 0.008 * 2202.9 = 17.6 -> 18
    assert tolerance_px(0.008, 480, 854) == 8  # DAVIS 480p: 0.008 * 979.7 = 7.8 -> 8
    assert tolerance_px(0.008, 20, 20) == 1  # 0.008 * 28.3 = 0.23 -> 1
    assert tolerance_px(0.008, 1, 1) == 1
    assert tolerance_px(3, 1080, 1920) == 3  # >= 1: whole pixels
    assert tolerance_px(3.0, 10, 10) == 3


@pytest.mark.parametrize("bound_th", [0, -0.5, 2.5, float("nan")])
def test_tolerance_px_rejects_bad_thresholds(bound_th: float) -> None:
    with pytest.raises(ValueError, match="bound_th"):
        tolerance_px(bound_th, 10, 10)


# ---------------------------------------------------------------------------------------------------------------
# F: hand-worked cases


def test_both_empty_is_perfect() -> None:
    empty = np.zeros((9, 11), bool)
    assert boundary_counts(empty, empty) == BoundaryCounts(0, 0, 0, 0)
    assert f_measure(empty, empty) == 1.0


def test_full_prediction_and_full_ground_truth() -> None:
    full = np.ones((9, 11), bool)
    assert f_measure(full, full) == 1.0  # neither has a boundary: P = R = 1


def test_empty_prediction_of_a_full_frame_object_scores_f_1() -> None:
    # A DAVIS quirk kept on purpose: a full-frame mask has no boundary (seg2bmap ignores the image border), so
    # both boundary maps are empty and F = 1 although J = 0.
    assert f_measure(np.zeros((9, 11), bool), np.ones((9, 11), bool)) == 1.0


def test_empty_prediction_of_a_one_pixel_object() -> None:
    gt = np.zeros((5, 5), bool)
    gt[2, 2] = True  # boundary: the 4-pixel block (1..2, 1..2)
    assert boundary_counts(np.zeros_like(gt), gt) == BoundaryCounts(0, 0, 0, 4)
    assert f_measure(np.zeros_like(gt), gt) == 0.0  # P = 1, R = 0
    assert f_measure(gt, np.zeros_like(gt)) == 0.0  # P = 0, R = 1


def test_one_pixel_masks_two_columns_apart() -> None:
    # 20x20 image: tolerance ceil(0.008 * 28.3) = 1 px, disk = the pixel and its 4 neighbours.
    # pred (10,10) -> boundary {(9,9),(9,10),(10,9),(10,10)}; gt (10,12) -> {(9,11),(9,12),(10,11),(10,12)}.
    # pred's (9,10) and (10,10) touch gt's (9,11), (10,11): P = 2/4; symmetrically R = 2/4; F = 0.5.
    pred, gt = np.zeros((20, 20), bool), np.zeros((20, 20), bool)
    pred[10, 10], gt[10, 12] = True, True
    assert boundary_counts(pred, gt) == BoundaryCounts(2, 4, 2, 4)
    assert f_measure(pred, gt) == 0.5
    # 2 px tolerance: (9,9) reaches (9,11) at distance 2, and so on: everything matches.
    assert f_measure(pred, gt, bound_th=2) == 1.0


def test_half_rectangle_hand_worked() -> None:
    # 40x40, tolerance 1 px. A rectangle's boundary is the outline of the box grown by one row/column up and left:
    # gt rows 10..19 x cols 10..19 -> ring of rows 9..19 x cols 9..19 = 40 px;
    # pred rows 10..19 x cols 10..14 -> ring of rows 9..19 x cols 9..14 = 30 px.
    # pred ring: only its right side rows 11..17 (7 px) is > 1 px from gt's ring -> 23 matched.
    # gt ring: top and bottom rows cols 9..15 (7 + 7) and the left side rows 10..18 (9) -> 23 matched.
    # F = 2PR/(P+R) with P = 23/30, R = 23/40 -> 2*23/70.
    gt, pred = np.zeros((40, 40), bool), np.zeros((40, 40), bool)
    gt[10:20, 10:20] = True
    pred[10:20, 10:15] = True
    assert boundary_counts(pred, gt) == BoundaryCounts(23, 30, 23, 40)
    assert f_measure(pred, gt) == pytest.approx(46 / 70, abs=1e-12)


def test_void_removes_the_only_difference() -> None:
    # gt extends into a void band that pred does not cover; once void pixels are removed both masks are equal.
    gt, pred, void = np.zeros((30, 30), bool), np.zeros((30, 30), bool), np.zeros((30, 30), bool)
    gt[5:20, 5:25] = True
    pred[5:20, 5:15] = True
    void[:, 15:] = True
    assert f_measure(pred, gt) < 1.0
    assert f_measure(pred, gt, void) == 1.0


def test_void_covering_everything_leaves_no_boundary() -> None:
    pred, gt = np.zeros((8, 8), bool), np.zeros((8, 8), bool)
    pred[1:4, 1:4], gt[4:7, 4:7] = True, True
    assert boundary_counts(pred, gt, np.ones((8, 8), bool)) == BoundaryCounts(0, 0, 0, 0)


def test_shape_mismatch_is_a_value_error() -> None:
    with pytest.raises(MaskShapeError, match="3x2"):
        boundary_counts(np.zeros((2, 3), bool), np.zeros((3, 3), bool))
    with pytest.raises(MaskShapeError, match="void"):
        boundary_counts(np.zeros((3, 3), bool), np.zeros((3, 3), bool), np.zeros((2, 3), bool))


# ---------------------------------------------------------------------------------------------------------------
# The windowed fast path equals the full-frame algorithm


def edge_cases() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]]:
    """Masks touching every edge and corner, 1-pixel masks, odd sizes, void."""
    cases = []
    for h, w in ((1, 1), (1, 9), (9, 1), (2, 3), (37, 53), (53, 37)):
        for y, x in ((0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1), (h // 2, w // 2)):
            pred, gt = np.zeros((h, w), bool), np.zeros((h, w), bool)
            pred[y, x] = True
            gt[max(y - 1, 0) : y + 1, x : x + 2] = True
            cases.append((f"pixel {h}x{w} at {y},{x}", pred, gt, None))
    h, w = 37, 53
    ring = np.ones((h, w), bool)
    ring[3:-3, 3:-3] = False  # touches all four edges
    bar_right, bar_bottom = np.zeros((h, w), bool), np.zeros((h, w), bool)
    bar_right[5:30, w - 4 :] = True
    bar_bottom[h - 2 :, 10:40] = True
    void = np.zeros((h, w), bool)
    void[:, w - 2 :] = True
    void[h - 3 :, :20] = True
    cases += [
        ("ring vs full", ring, np.ones((h, w), bool), None),
        ("ring vs ring shifted", ring, np.roll(ring, 1, axis=1), None),
        ("right bar vs bottom bar", bar_right, bar_bottom, None),
        ("right bar vs bottom bar, void at the edges", bar_right, bar_bottom, void),
        ("ring with void", ring, bar_bottom | bar_right, void),
        ("empty vs right bar", np.zeros((h, w), bool), bar_right, None),
    ]
    return cases


@pytest.mark.parametrize("bound_th", [0.008, 0.2, 1, 4, 60])
@pytest.mark.parametrize("label,pred,gt,void", edge_cases(), ids=[c[0] for c in edge_cases()])
def test_window_equals_full_frame_on_edge_cases(label: str, pred, gt, void, bound_th: float) -> None:
    expected = reference_counts(pred, gt, void, bound_th)
    assert tuple(boundary_counts(pred, gt, void, bound_th)) == expected
    # the same counting code on the uncropped frame agrees too (cropping changes nothing)
    bound_pix = tolerance_px(bound_th, *gt.shape)
    assert tuple(boundary_counts_in_window(pred, gt, void, bound_pix)) == expected


@PROPERTY
@given(mask_pairs(), BOUND_THS)
def test_window_equals_full_frame_reference(case: tuple, bound_th: float) -> None:
    pred, gt, void = case
    counts = boundary_counts(pred, gt, void, bound_th)
    expected = reference_counts(pred, gt, void, bound_th)
    assert tuple(counts) == expected
    assert abs(counts.f_measure - reference_f(expected)) < 1e-9


@PROPERTY
@given(mask_pairs(with_void=False), st.sampled_from((0.008, 0.03, 0.1, 0.3)))
def test_f_matches_vos_benchmark(case: tuple, bound_th: float) -> None:
    pred, gt, _ = case
    scores = vos_scores(pred.astype(np.uint8), gt.astype(np.uint8), bound_th)
    expected_f = scores[1][1] if 1 in scores else 1.0  # vos scores nothing when both are empty
    assert abs(f_measure(pred, gt, bound_th=bound_th) - expected_f) < 1e-3


def players_1080p() -> tuple[np.ndarray, np.ndarray]:
    """Label maps at 1920x1080 with six ~40x110 px players, one on the right edge, one on the bottom edge.

    The prediction of each player is shifted and resized by set amounts: some within the 18 px tolerance,
    some beyond it, one far off.
    """
    gt, pred = np.zeros((1080, 1920), np.uint8), np.zeros((1080, 1920), np.uint8)
    players = [  # centre x, y; prediction shift dx, dy; prediction half-axes
        ((300, 400), (0, 0), (20, 55)),
        ((900, 520), (25, -10), (18, 60)),
        ((1500, 300), (-8, 30), (26, 50)),
        ((1890, 700), (10, 0), (20, 55)),
        ((700, 1040), (0, 5), (22, 58)),
        ((1200, 800), (200, 0), (20, 55)),
    ]
    for k, ((x, y), (dx, dy), axes) in enumerate(players, start=1):
        cv2.ellipse(gt, (x, y), (20, 55), 0, 0, 360, k, -1)
        cv2.ellipse(pred, (x + dx, y + dy), axes, 0, 0, 360, k, -1)
    return pred, gt


def test_1080p_players_match_reference_and_vos_benchmark() -> None:
    pred, gt = players_1080p()
    vos = vos_scores(pred, gt)
    f_values = []
    for k in range(1, 7):
        counts = boundary_counts(pred == k, gt == k)
        assert tuple(counts) == reference_counts(pred == k, gt == k, None)
        assert abs(counts.f_measure - vos[k][1]) < 1e-9
        f_values.append(counts.f_measure)
    assert f_values[0] == 1.0 and f_values[5] == 0.0  # exact prediction; 200 px off (far beyond 18 px)
    assert all(0.0 < f < 1.0 for f in f_values[1:3])  # partly beyond the tolerance
