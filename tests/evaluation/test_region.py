"""Region similarity J (DAVIS 2017) and mask windows: hand-worked cases, a reference, vos-benchmark."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.region import MaskShapeError, Window, jaccard, jaccard_from_counts, mask_window, region_counts
from tests.evaluation.test_boundary import PROPERTY, mask_pairs, reference_jaccard, vos_scores

# ---------------------------------------------------------------------------------------------------------------
# Hand-worked J


def test_both_empty_is_one() -> None:
    empty = np.zeros((4, 5), bool)
    assert region_counts(empty, empty) == (0, 0)
    assert jaccard(empty, empty) == 1.0


def test_empty_prediction_of_a_full_object_is_zero() -> None:
    assert region_counts(np.zeros((4, 5), bool), np.ones((4, 5), bool)) == (0, 20)
    assert jaccard(np.zeros((4, 5), bool), np.ones((4, 5), bool)) == 0.0


def test_full_and_full_is_one() -> None:
    assert jaccard(np.ones((4, 5), bool), np.ones((4, 5), bool)) == 1.0


def test_one_pixel_masks() -> None:
    a, b = np.zeros((3, 3), bool), np.zeros((3, 3), bool)
    a[1, 1] = True
    b[1, 1] = True
    assert region_counts(a, b) == (1, 1)  # same pixel: J = 1/1
    b[:] = False
    b[1, 2] = True
    assert region_counts(a, b) == (0, 2)  # neighbours: no overlap, union of 2 -> J = 0
    assert jaccard(a, b) == 0.0


def test_overlapping_rectangles_odd_size() -> None:
    # 37x53. pred rows 3..20 x cols 5..30 (18 x 26 = 468); gt rows 10..29 x cols 20..44 (20 x 25 = 500).
    # overlap rows 10..20 x cols 20..30 = 11 x 11 = 121; union = 468 + 500 - 121 = 847.
    pred, gt = np.zeros((37, 53), bool), np.zeros((37, 53), bool)
    pred[3:21, 5:31] = True
    gt[10:30, 20:45] = True
    assert region_counts(pred, gt) == (121, 847)
    assert jaccard(pred, gt) == 121 / 847


def test_void_pixels_are_not_counted() -> None:
    # 10x10. pred cols 0..5, gt cols 2..7 (all rows): overlap 4 cols = 40, union 8 cols = 80.
    # void cols 6..9: gt loses cols 6..7 -> overlap stays 40 (cols 2..5), union cols 0..5 = 60.
    pred, gt, void = np.zeros((10, 10), bool), np.zeros((10, 10), bool), np.zeros((10, 10), bool)
    pred[:, :6] = True
    gt[:, 2:8] = True
    void[:, 6:] = True
    assert region_counts(pred, gt) == (40, 80)
    assert region_counts(pred, gt, void) == (40, 60)
    assert jaccard(pred, gt, void) == 40 / 60


def test_everything_void_is_one() -> None:
    pred, gt = np.zeros((4, 4), bool), np.ones((4, 4), bool)
    assert jaccard(pred, gt, np.ones((4, 4), bool)) == 1.0  # nothing scored: empty union


def test_players_at_1080p() -> None:
    # gt 40 x 110 box; pred the same box 10 px to the right: overlap 30 x 110 = 3300, union 50 x 110 = 5500.
    pred, gt = np.zeros((1080, 1920), bool), np.zeros((1080, 1920), bool)
    gt[500:610, 900:940] = True
    pred[500:610, 910:950] = True
    assert region_counts(pred, gt) == (3300, 5500)
    assert jaccard(pred, gt) == 0.6


def test_jaccard_from_counts() -> None:
    assert jaccard_from_counts(0, 0) == 1.0
    assert jaccard_from_counts(3, 4) == 0.75


def test_labels_and_non_bool_inputs_are_read_as_masks() -> None:
    assert region_counts(np.array([[0, 2]]), np.array([[0, 1]])) == (1, 1)


def test_shape_mismatch_names_both_sizes() -> None:
    with pytest.raises(MaskShapeError, match="5x4.*5x3"):
        jaccard(np.zeros((4, 5), bool), np.zeros((3, 5), bool))
    with pytest.raises(MaskShapeError, match="2-D"):
        jaccard(np.zeros((4, 5, 1), bool), np.zeros((4, 5, 1), bool))
    with pytest.raises(ValueError):
        jaccard(np.zeros((4, 5), bool), np.zeros((4, 5), bool), np.zeros((5, 4), bool))


# ---------------------------------------------------------------------------------------------------------------
# Against the reference and vos-benchmark


@PROPERTY
@given(mask_pairs())
def test_jaccard_matches_reference(case: tuple) -> None:
    pred, gt, void = case
    assert abs(jaccard(pred, gt, void) - reference_jaccard(pred, gt, void)) < 1e-12


@PROPERTY
@given(mask_pairs(with_void=False))
def test_jaccard_matches_vos_benchmark(case: tuple) -> None:
    pred, gt, _ = case
    scores = vos_scores(pred.astype(np.uint8), gt.astype(np.uint8))
    expected = scores[1][0] if 1 in scores else 1.0  # vos scores no object when both are empty
    assert abs(jaccard(pred, gt) - expected) < 1e-9


# ---------------------------------------------------------------------------------------------------------------
# Windows


def test_mask_window() -> None:
    mask = np.zeros((7, 9), bool)
    assert mask_window(mask) is None
    mask[2, 3] = mask[4, 6] = True
    assert mask_window(mask) == Window(2, 5, 3, 7)
    mask[:] = True
    assert mask_window(mask) == Window(0, 7, 0, 9)


def test_window_padded_is_clipped_to_the_image() -> None:
    assert Window(2, 5, 3, 7).padded(3, 7, 9) == Window(0, 7, 0, 9)
    assert Window(2, 5, 3, 7).padded(1, 7, 9) == Window(1, 6, 2, 8)


def test_window_union_and_intersects() -> None:
    a, b = Window(0, 2, 0, 2), Window(2, 4, 1, 3)
    assert a.union(b) == Window(0, 4, 0, 3)
    assert a.union(None) == a
    assert not a.intersects(b)  # half-open: row 2 is not in a
    assert a.intersects(Window(1, 3, 1, 3))
    assert a.shape == (2, 2)


@PROPERTY
@given(st.integers(1, 60), st.integers(1, 60), st.lists(st.tuples(st.integers(0, 59), st.integers(0, 59)), max_size=5))
def test_mask_window_holds_exactly_the_mask(h: int, w: int, points: list[tuple[int, int]]) -> None:
    mask = np.zeros((h, w), np.uint8)
    for y, x in points:
        mask[y % h, x % w] = 1
    window = mask_window(mask.astype(bool))
    if not points:
        assert window is None
        return
    x, y, bw, bh = cv2.boundingRect(mask)  # OpenCV's bounding box as the reference
    assert window == Window(y, y + bh, x, x + bw)
