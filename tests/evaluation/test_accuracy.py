"""J&F of label-map sequences: JFMetric, score_sequence, score_dataset, agreement.

Per-frame values are checked against the full-frame reference in test_boundary.py and against vos-benchmark;
sequence rules (sparse ground truth, missing / extra objects, sizes, frames) and the DAVIS statistics by hand.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from vos_benchmark.evaluator import Evaluator

from evaluation.accuracy import AccuracyError, JFMetric, agreement, label_windows, score_dataset, score_sequence
from evaluation.region import Window
from evaluation.sequence import MaskSequence
from tests.evaluation.test_boundary import (
    PROPERTY,
    masks,
    players_1080p,
    reference_counts,
    reference_f,
    reference_jaccard,
    shifted,
)

# ---------------------------------------------------------------------------------------------------------------
# Helpers


def rect_labels(h: int, w: int, *boxes: tuple[int, int, int, int, int]) -> np.ndarray:
    """Label map with (id, top, bottom, left, right) half-open boxes painted in order."""
    labels = np.zeros((h, w), np.uint8)
    for obj, top, bottom, left, right in boxes:
        labels[top:bottom, left:right] = obj
    return labels


def sequence(name: str, maps: dict[int, np.ndarray], source: str = "") -> MaskSequence:
    return MaskSequence.from_arrays(name, maps, source=source)


@st.composite
def label_map_pairs(draw: st.DrawFn, with_void: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(prediction, ground truth) uint8 label maps with up to 3 objects; pred may use 255, gt may have void."""
    h, w = draw(st.integers(1, 80)), draw(st.integers(1, 80))
    gt, pred = np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)
    for obj in range(1, draw(st.integers(1, 3)) + 1):
        gt_mask = draw(masks(h, w))
        gt[gt_mask] = obj
        if draw(st.booleans()):
            dy = draw(st.integers(-min(3, h - 1), min(3, h - 1)))
            dx = draw(st.integers(-min(3, w - 1), min(3, w - 1)))
            pred[shifted(gt_mask, dy, dx)] = obj
        else:
            pred[draw(masks(h, w))] = draw(st.sampled_from((obj, obj, 4, 255)))  # 4: extra id, 255: "no object"
    if with_void and draw(st.booleans()):
        gt[draw(masks(h, w))] = 255
    return pred, gt


def reference_frame_scores(pred: np.ndarray, gt: np.ndarray, obj: int) -> tuple[float, float]:
    void = gt == 255
    return (
        reference_jaccard(pred == obj, gt == obj, void),
        reference_f(reference_counts(pred == obj, gt == obj, void)),
    )


# ---------------------------------------------------------------------------------------------------------------
# One frame: against the references


@PROPERTY
@given(label_map_pairs())
def test_frame_scores_equal_the_full_frame_reference(case: tuple[np.ndarray, np.ndarray]) -> None:
    pred, gt = case
    result = JFMetric().update(0, pred, gt).compute()
    assert set(result.object_ids) == set(np.unique(gt).tolist()) - {0, 255}
    for column, obj in enumerate(result.object_ids):
        if obj in result.missing_objects:
            assert result.J[0, column] == result.F[0, column] == 0.0
            continue
        j, f = reference_frame_scores(pred, gt, obj)
        assert abs(result.J[0, column] - j) < 1e-9
        assert abs(result.F[0, column] - f) < 1e-9


@PROPERTY
@given(label_map_pairs(with_void=False))
def test_frame_scores_equal_vos_benchmark(case: tuple[np.ndarray, np.ndarray]) -> None:
    pred, gt = case
    result = JFMetric().update(0, pred, gt).compute()
    evaluator = Evaluator()
    evaluator.feed_frame(pred, gt)
    for column, obj in enumerate(result.object_ids):
        if obj not in result.missing_objects:  # vos gives a never-predicted object its DAVIS score
            assert abs(result.J[0, column] - evaluator.object_iou[obj][0]) < 1e-3
            assert abs(result.F[0, column] - evaluator.boundary_f[obj][0]) < 1e-3


def test_1080p_players_sequence_equals_vos_benchmark_and_reference() -> None:
    pred, gt = players_1080p()
    frames = {0: (pred, gt), 1: (np.roll(pred, 7, axis=1), gt), 2: (gt.copy(), gt)}
    metric, evaluator = JFMetric(), Evaluator()
    for frame, (p, g) in frames.items():
        metric.update(frame, p, g)
        evaluator.feed_frame(p, g)
    result = metric.compute("players", "1080p")
    assert result.object_ids == (1, 2, 3, 4, 5, 6)
    for column, obj in enumerate(result.object_ids):
        np.testing.assert_allclose(result.J[:, column], evaluator.object_iou[obj], rtol=0, atol=1e-9)
        np.testing.assert_allclose(result.F[:, column], evaluator.boundary_f[obj], rtol=0, atol=1e-9)
        assert reference_frame_scores(*frames[1], obj) == pytest.approx((result.J[1, column], result.F[1, column]))
    iou, boundary = evaluator.conclude()  # percent, per-object means
    for o in result.per_object:
        assert o.J.mean * 100 == pytest.approx(iou[o.object_id], abs=1e-6)
        assert o.F.mean * 100 == pytest.approx(boundary[o.object_id], abs=1e-6)
    assert np.all(result.J[2] == 1.0) and np.all(result.F[2] == 1.0)


# ---------------------------------------------------------------------------------------------------------------
# Objects over a sequence


def test_objects_absent_from_both_score_one() -> None:
    # object 1 annotated and predicted on frame 0 only; on frame 1 both are empty -> J = F = 1 (DAVIS)
    gt0 = rect_labels(20, 20, (1, 2, 6, 2, 6))
    result = JFMetric().update(0, gt0, gt0).update(1, np.zeros((20, 20), np.uint8), np.zeros((20, 20), np.uint8))
    assert result.compute().J.tolist() == [[1.0], [1.0]]


def test_object_predicted_before_it_is_annotated_is_a_false_positive() -> None:
    # frame 0: object 2 predicted, not annotated: J = 0; its boundary exists and gt's does not -> P = 0, R = 1, F = 0
    frame0_pred = rect_labels(20, 20, (1, 2, 6, 2, 6), (2, 10, 14, 10, 14))
    frame0_gt = rect_labels(20, 20, (1, 2, 6, 2, 6))
    frame1 = rect_labels(20, 20, (1, 2, 6, 2, 6), (2, 10, 14, 10, 14))
    result = JFMetric().update(0, frame0_pred, frame0_gt).update(1, frame1, frame1).compute()
    assert result.object_ids == (1, 2)
    assert result.J.tolist() == [[1.0, 0.0], [1.0, 1.0]]
    assert result.F.tolist() == [[1.0, 0.0], [1.0, 1.0]]


def test_missing_objects_score_zero_on_every_frame_and_extras_are_listed() -> None:
    # gt: object 1 on both frames, object 3 on frame 1 only (never predicted); pred also has id 7 (not in gt)
    # and 255 (means "no object", is not an id).
    gt0 = rect_labels(16, 16, (1, 1, 5, 1, 5))
    gt1 = rect_labels(16, 16, (1, 1, 5, 1, 5), (3, 8, 12, 8, 12))
    pred = rect_labels(16, 16, (1, 1, 5, 1, 5), (7, 10, 14, 1, 4), (255, 13, 16, 13, 16))
    result = JFMetric().update(0, pred, gt0).update(1, pred, gt1).compute("m", "s")
    assert result.object_ids == (1, 3)
    assert result.missing_objects == (3,)
    assert result.extra_objects == (7,)
    assert result.J[:, 1].tolist() == [0.0, 0.0]  # frame 0 too, where DAVIS would give 1
    assert result.F[:, 1].tolist() == [0.0, 0.0]
    assert result.J[:, 0].tolist() == [1.0, 1.0]
    assert [o.predicted for o in result.per_object] == [True, False]
    assert (result.name, result.sequence) == ("m", "s")


def test_void_in_ground_truth_and_255_in_prediction() -> None:
    # 10x10: gt object 1 in cols 2..7, void (255) over cols 6..9; pred object 1 in cols 0..5 and 255 elsewhere.
    # Scored pixels are cols 0..5: gt cols 2..5 (40), pred cols 0..5 (60) -> J = 40 / 60.
    gt = rect_labels(10, 10, (1, 0, 10, 2, 8), (255, 0, 10, 6, 10))
    pred = rect_labels(10, 10, (255, 0, 10, 0, 10), (1, 0, 10, 0, 6))
    result = JFMetric().update(0, pred, gt).compute()
    assert result.object_ids == (1,) and result.extra_objects == ()
    assert result.J[0, 0] == pytest.approx(40 / 60)
    assert result.F[0, 0] == pytest.approx(reference_frame_scores(pred, gt, 1)[1])


def test_hand_worked_statistics() -> None:
    # 40x40, 8 frames. Object 1 (gt rows 10..19 x cols 10..19) is predicted exactly (J = F = 1), as the left half
    # (J = 0.5; F = 46/70, worked out in test_boundary's half-rectangle case) or not at all (J = F = 0):
    #   J = [1, 1, .5, 1, .5, 0, 0, 0],  F = [1, 1, h, 1, h, 0, 0, 0] with h = 46/70.
    # DAVIS quarters of 8 frames: ids = round(linspace(1, 8, 5)) - 1 = [0, 2, 4, 5, 7] -> first X[0:3], last X[5:8].
    # J: mean 4/8, recall (> 0.5) 3/8, decay 2.5/3 - 0.  F: mean (3 + 2h)/8, recall 5/8, decay (2 + h)/3.
    # Object 2 is annotated and predicted exactly on frames 0..3 and absent from both afterwards: 1 everywhere.
    h = 46 / 70
    full, half = (1, 10, 20, 10, 20), (1, 10, 20, 10, 15)
    obj2 = (2, 30, 35, 30, 35)
    pred_boxes = [[full], [full], [half], [full], [half], [], [], []]
    metric = JFMetric()
    for frame, boxes in enumerate(pred_boxes):
        extra = [obj2] if frame < 4 else []
        metric.update(frame, rect_labels(40, 40, *boxes, *extra), rect_labels(40, 40, full, *extra))
    result = metric.compute()
    np.testing.assert_allclose(result.J[:, 0], [1, 1, 0.5, 1, 0.5, 0, 0, 0])
    np.testing.assert_allclose(result.F[:, 0], [1, 1, h, 1, h, 0, 0, 0])
    one, two = result.per_object
    assert (one.J.mean, one.J.recall, one.J.decay) == pytest.approx((0.5, 3 / 8, 2.5 / 3))
    assert (one.F.mean, one.F.recall, one.F.decay) == pytest.approx(((3 + 2 * h) / 8, 5 / 8, (2 + h) / 3))
    assert (two.J.mean, two.J.recall, two.J.decay) == (1.0, 1.0, 0.0)
    assert result.J_mean == pytest.approx(0.75)
    assert result.F_mean == pytest.approx(((3 + 2 * h) / 8 + 1) / 2)
    assert result.JF_mean == pytest.approx((result.J_mean + result.F_mean) / 2)
    assert result.J_decay == pytest.approx(2.5 / 6)


def test_frames_come_out_sorted_and_reset_forgets() -> None:
    labels = rect_labels(8, 8, (1, 1, 3, 1, 3))
    metric = JFMetric().update(5, labels, labels).update(2, labels, labels)
    assert metric.compute().frames == (2, 5)
    metric.reset()
    result = metric.compute()
    assert result.frames == () and result.object_ids == () and result.J.shape == (0, 0)


def test_update_errors() -> None:
    labels = rect_labels(8, 8, (1, 1, 3, 1, 3))
    metric = JFMetric().update(0, labels, labels)
    with pytest.raises(AccuracyError, match="frame 0 was already scored"):
        metric.update(0, labels, labels)
    with pytest.raises(AccuracyError, match=r"8x6.*8x8.*resize='nearest'"):
        metric.update(1, labels[:6], labels)
    with pytest.raises(AccuracyError, match="0..255"):
        metric.update(2, labels.astype(np.int32) * 300, labels)
    with pytest.raises(AccuracyError, match="2-D"):
        metric.update(3, labels[..., None], labels)
    with pytest.raises(ValueError, match="bound_th"):
        JFMetric(bound_th=0)


def test_label_windows() -> None:
    labels = rect_labels(10, 12, (1, 1, 3, 2, 5), (255, 9, 10, 0, 12), (7, 4, 5, 11, 12))
    assert label_windows(labels) == {1: Window(1, 3, 2, 5), 7: Window(4, 5, 11, 12), 255: Window(9, 10, 0, 12)}
    assert label_windows(np.zeros((3, 3), np.uint8)) == {}


# ---------------------------------------------------------------------------------------------------------------
# Sequences


def test_sparse_ground_truth_scores_only_annotated_frames() -> None:
    gt_map = rect_labels(12, 12, (1, 2, 8, 2, 8))
    wrong = rect_labels(12, 12, (1, 2, 8, 6, 12))
    pred = sequence("run", {f: (gt_map if f % 5 == 0 else wrong) for f in range(11)})
    gt = sequence("seq", {0: gt_map, 5: gt_map, 10: gt_map})
    result = score_sequence(pred, gt)
    assert result.frames == (0, 5, 10)
    assert result.J.tolist() == [[1.0], [1.0], [1.0]]
    assert (result.name, result.sequence) == ("run", "seq")
    assert score_sequence(pred, gt, name="mine").name == "mine"


def test_annotated_frame_without_prediction_is_an_error() -> None:
    labels = rect_labels(12, 12, (1, 2, 8, 2, 8))
    pred = sequence("run", {0: labels, 2: labels}, source="/runs/a/masks")
    gt = sequence("seq", {0: labels, 1: labels, 2: labels, 3: labels})
    with pytest.raises(AccuracyError, match=r"'run' \(/runs/a/masks\).*frame 1 .*'seq'.*2 of 4"):
        score_sequence(pred, gt)
    result = score_sequence(pred, gt, common_frames_only=True)
    assert result.frames == (0, 2)
    with pytest.raises(AccuracyError, match="no frame in common"):
        score_sequence(sequence("run", {7: labels}), gt, common_frames_only=True)


def test_size_mismatch_and_resize_nearest() -> None:
    # gt boxes on even coordinates; the half-size prediction upscaled x2 by nearest neighbour is the gt again.
    gt_map = rect_labels(40, 60, (1, 4, 20, 6, 30), (2, 22, 36, 30, 58))
    small = gt_map[::2, ::2].copy()
    pred, gt = sequence("run", {0: small}), sequence("seq", {0: gt_map})
    with pytest.raises(AccuracyError, match=r"30x20.*60x40.*use resize='nearest'"):
        score_sequence(pred, gt)
    result = score_sequence(pred, gt, resize="nearest")
    assert result.J.tolist() == [[1.0, 1.0]] and result.F.tolist() == [[1.0, 1.0]]
    np.testing.assert_array_equal(cv2.resize(small, (60, 40), interpolation=cv2.INTER_NEAREST), gt_map)
    with pytest.raises(AccuracyError, match="resize must be one of"):
        score_sequence(pred, gt, resize="bilinear")


def test_score_sequence_bound_th_is_passed_on() -> None:
    # one-pixel masks two columns apart in 20x20: F = 0.5 at 1 px, 1.0 at 2 px (test_boundary works it out)
    pred, gt = np.zeros((20, 20), np.uint8), np.zeros((20, 20), np.uint8)
    pred[10, 10], gt[10, 12] = 1, 1
    assert score_sequence(sequence("p", {0: pred}), sequence("g", {0: gt})).F[0, 0] == 0.5
    assert score_sequence(sequence("p", {0: pred}), sequence("g", {0: gt}), bound_th=2).F[0, 0] == 1.0


def test_score_dataset() -> None:
    good = rect_labels(10, 10, (1, 2, 6, 2, 6))
    half = rect_labels(10, 10, (1, 2, 6, 2, 4))  # J = 8 / 16
    gts = {"b": sequence("b", {0: good}), "a": sequence("a", {0: good})}
    preds = {"a": sequence("a", {0: good}), "b": sequence("b", {0: half}), "z": sequence("z", {0: good})}
    result = score_dataset(preds, gts, name="model")
    assert [s.sequence for s in result.sequences] == ["a", "b"]
    assert result.name == "model" and result.sequences[0].name == "model"
    assert result.J_mean == pytest.approx((1.0 + 0.5) / 2)
    with pytest.raises(AccuracyError, match="'b'.*predictions: a, z"):
        score_dataset({"a": preds["a"], "z": preds["z"]}, gts)
    with pytest.raises(AccuracyError, match="no ground-truth"):
        score_dataset(preds, {})


# ---------------------------------------------------------------------------------------------------------------
# Agreement


def test_agreement_hand_worked() -> None:
    a0 = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 2, 2], [0, 0, 2, 255]], np.uint8)
    b0 = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 2], [3, 0, 2, 2]], np.uint8)
    empty = np.zeros((4, 4), np.uint8)
    a = sequence("a", {0: a0, 1: empty, 2: a0})
    b = sequence("b", {0: b0, 1: empty})
    result = agreement(a, b, "small", "large")
    assert (result.name_a, result.name_b, result.frames, result.object_ids) == ("small", "large", (0, 1), (1, 2, 3))
    # frame 0: (3,3) is void in a -> 15 scored pixels; labels differ at (0,1), (2,2), (3,0) -> 3 / 15.
    # object 1: a has 4 pixels, b 3 of them -> 3/4. object 2: a {(2,2),(2,3),(3,2)}, b {(2,3),(3,2)} once the void
    # (3,3) is dropped -> 2/3. object 3: only b, one pixel -> 0. Frame 1: all empty -> IoU 1, nothing differs.
    np.testing.assert_allclose(result.iou, [[0.75, 2 / 3, 0.0], [1.0, 1.0, 1.0]])
    assert result.differing_pixels.tolist() == [3, 0]
    np.testing.assert_allclose(result.differing_share, [0.2, 0.0])
    assert result.mean_iou == pytest.approx((0.875 + 5 / 6 + 0.5) / 3)


def test_agreement_all_void_frame_has_nan_share() -> None:
    void = np.full((3, 3), 255, np.uint8)
    result = agreement(sequence("a", {0: void}), sequence("b", {0: np.zeros((3, 3), np.uint8)}))
    assert math.isnan(result.differing_share[0]) and result.object_ids == ()


def test_agreement_errors() -> None:
    labels = np.zeros((4, 4), np.uint8)
    with pytest.raises(AccuracyError, match=r"4x4.*4x2"):
        agreement(sequence("a", {0: labels}), sequence("b", {0: labels[:2]}))
    with pytest.raises(AccuracyError, match="no frame in common"):
        agreement(sequence("a", {0: labels}), sequence("b", {1: labels}))
