"""Identity metrics (ID switches, fragmentations, IDF1): hand-worked clips, a brute-force reference, py-motmetrics."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from evaluation.identity import IdentityResult, IdentityTracker, frame_matches, identity_metrics

H, W = 12, 40


def label_map(boxes: dict[int, tuple[int, int, int, int]], shape: tuple[int, int] = (H, W)) -> np.ndarray:
    """uint8 label map with each id painted on its box (top, bottom, left, right), half-open, in dict order."""
    labels = np.zeros(shape, np.uint8)
    for object_id, (top, bottom, left, right) in boxes.items():
        labels[top:bottom, left:right] = object_id
    return labels


# Two players side by side, 10 x 10 pixels each, fixed over the clip (identity is about labels, not motion).
LEFT, RIGHT = (0, 10, 0, 10), (0, 10, 20, 30)


def two_players(left_id: int, right_id: int) -> np.ndarray:
    return label_map({left_id: LEFT, right_id: RIGHT})


# ---------------------------------------------------------------------------------------------------------------
# Hand-worked clips


def test_identical_label_maps_are_perfect() -> None:
    clip = [two_players(1, 2)] * 6
    result = identity_metrics(clip, clip)
    assert result.frames == 6
    assert (result.id_switches, result.switches, result.fragmentations) == (0, [], 0)
    assert (result.idf1, result.idp, result.idr) == (1.0, 1.0, 1.0)
    assert (result.idtp, result.idfp, result.idfn) == (12, 0, 0)
    assert result.id_map == {1: 1, 2: 2}


def test_ids_need_not_agree_only_stay_stable() -> None:
    # The labeler calls the players 7 and 8 throughout: as good as using the ground-truth ids.
    result = identity_metrics([two_players(1, 2)] * 6, [two_players(7, 8)] * 6)
    assert result.id_switches == 0
    assert result.idf1 == 1.0
    assert result.id_map == {1: 7, 2: 8}
    assert (result.gt_ids, result.pred_ids) == ([1, 2], [7, 8])


def test_ids_swapped_halfway_two_switches_and_idf1_one_half() -> None:
    # 10 frames; frames 0-4: gt 1 -> pred 7, gt 2 -> pred 8; frames 5-9 the pred ids swap.
    # Identity hits: (1,7) = 5, (1,8) = 5, (2,8) = 5, (2,7) = 5. The best global map, e.g. {1: 7, 2: 8}, keeps
    # IDTP = 5 + 5 = 10 of 20 gt presences and 20 pred presences: IDFN = 10, IDFP = 10,
    # IDF1 = 2*10 / (2*10 + 10 + 10) = 0.5, IDP = 10 / 20, IDR = 10 / 20.
    gt = [two_players(1, 2)] * 10
    pred = [two_players(7, 8)] * 5 + [two_players(8, 7)] * 5
    result = identity_metrics(gt, pred)
    assert result.id_switches == 2
    assert result.switches == [(5, 1, 7, 8), (5, 2, 8, 7)]
    assert result.fragmentations == 0
    assert (result.idtp, result.idfp, result.idfn) == (10, 10, 10)
    assert (result.idf1, result.idp, result.idr) == (0.5, 0.5, 0.5)
    assert len(result.id_map) == 2 and set(result.id_map.values()) == {7, 8}


def _lost_for_two_frames(recovered_id: int) -> IdentityResult:
    # gt 1 is on all 10 frames; the prediction (id 5) misses it on frames 4 and 5, then finds it as `recovered_id`.
    gt = [label_map({1: LEFT})] * 10
    pred = [label_map({5: LEFT})] * 4 + [label_map({})] * 2 + [label_map({recovered_id: LEFT})] * 4
    return identity_metrics(gt, pred)


def test_track_lost_and_recovered_with_same_id_is_a_fragmentation_not_a_switch() -> None:
    # Hits (1,5) = 8 of 10 gt presences, 8 pred presences: IDTP 8, IDFN 2, IDFP 0, IDF1 = 16 / 18.
    result = _lost_for_two_frames(recovered_id=5)
    assert (result.id_switches, result.fragmentations) == (0, 1)
    assert (result.idtp, result.idfp, result.idfn) == (8, 0, 2)
    assert result.idf1 == pytest.approx(16 / 18)
    assert (result.idp, result.idr) == (1.0, pytest.approx(0.8))


def test_track_recovered_with_a_new_id_is_a_switch_too() -> None:
    # Hits (1,5) = 4, (1,6) = 4: IDTP 4 of 10 gt and 8 pred presences: IDFN 6, IDFP 4, IDF1 = 8 / 18.
    result = _lost_for_two_frames(recovered_id=6)
    assert (result.id_switches, result.fragmentations) == (1, 1)
    assert result.switches == [(6, 1, 5, 6)]  # switch against its last match, two frames earlier
    assert (result.idtp, result.idfp, result.idfn) == (4, 4, 6)
    assert result.idf1 == pytest.approx(8 / 18)


def test_object_absent_from_ground_truth_is_not_a_fragmentation() -> None:
    # The player leaves the picture for 2 frames (absent in both): nothing was missed.
    gt = [label_map({1: LEFT})] * 3 + [label_map({})] * 2 + [label_map({1: LEFT})] * 3
    pred = [label_map({5: LEFT})] * 3 + [label_map({})] * 2 + [label_map({5: LEFT})] * 3
    result = identity_metrics(gt, pred)
    assert (result.id_switches, result.fragmentations, result.idf1) == (0, 0, 1.0)
    assert result.tracks[0].frames_present == 6


def test_low_iou_is_not_a_match() -> None:
    # gt: 10 x 10 at columns 0-9; pred shifted right by 5: intersection 50, union 150, IoU 1/3.
    gt, pred = label_map({1: (0, 10, 0, 10)}), label_map({2: (0, 10, 5, 15)})
    assert frame_matches(gt, pred) == {}
    assert frame_matches(gt, pred, min_iou=0.3) == {1: 2}
    result = identity_metrics([gt] * 3, [pred] * 3)
    assert (result.idtp, result.idfp, result.idfn, result.idf1) == (0, 3, 3, 0.0)
    assert result.tracks[0].frames_matched == 0


def test_iou_exactly_at_threshold_is_a_match() -> None:
    # pred covers the left half of the gt box: intersection 50, union 100, IoU 0.5.
    assert frame_matches(label_map({1: (0, 10, 0, 10)}), label_map({2: (0, 10, 0, 5)})) == {1: 2}


def test_frame_matching_is_an_optimal_assignment_not_greedy() -> None:
    # One row of 20 pixels. gt 1 = [0, 10), gt 2 = [10, 20); pred 3 = [0, 4), pred 4 = [4, 14).
    # IoU(1,4) = 6/14 = 0.43, IoU(1,3) = 4/10 = 0.40, IoU(2,4) = 4/16 = 0.25, IoU(2,3) = 0.
    # Greedy takes (1,4) first and leaves gt 2 alone (sum 0.43); the optimum is (1,3) + (2,4) = 0.65.
    gt = label_map({1: (0, 1, 0, 10), 2: (0, 1, 10, 20)}, shape=(1, 20))
    pred = label_map({3: (0, 1, 0, 4), 4: (0, 1, 4, 14)}, shape=(1, 20))
    assert frame_matches(gt, pred, min_iou=0.2) == {1: 3, 2: 4}
    assert frame_matches(gt, pred, min_iou=0.3) == {1: 4}  # only (1,4) and (1,3) qualify; 0.43 beats 0.40


def test_void_pixels_are_ignored() -> None:
    # gt 1 at columns 0-9, void at columns 10-29. pred 2 spans columns 0-29: counting void its IoU would be
    # 100 / 300; without void it is 100 / 100. pred 3 lies entirely in the void: it is not a prediction at all.
    gt = label_map({1: (0, 10, 0, 10), 255: (0, 10, 10, 40)})
    pred = label_map({2: (0, 10, 0, 30), 3: (0, 10, 30, 40)})
    assert frame_matches(gt, pred) == {1: 2}
    result = identity_metrics([gt] * 2, [pred] * 2)
    assert result.pred_ids == [2]
    assert (result.idtp, result.idfp, result.idfn, result.idf1) == (2, 0, 0, 1.0)


def test_255_in_a_prediction_is_not_an_object() -> None:
    gt = label_map({1: (0, 10, 0, 10)})
    pred = label_map({255: (0, 10, 0, 10)})
    assert frame_matches(gt, pred) == {}
    assert identity_metrics([gt], [pred]).pred_ids == []


# ---------------------------------------------------------------------------------------------------------------
# Edge cases and bad input


def test_no_objects_at_all_is_perfect() -> None:
    result = identity_metrics([label_map({})] * 3, [label_map({})] * 3)
    assert (result.idf1, result.idp, result.idr) == (1.0, 1.0, 1.0)
    assert (result.gt_ids, result.pred_ids, result.id_map) == ([], [], {})


def test_empty_clip_is_perfect() -> None:
    result = identity_metrics([], [])
    assert (result.frames, result.idf1, result.id_switches) == (0, 1.0, 0)


def test_no_ground_truth_only_false_positives() -> None:
    # Nothing to find (IDR vacuously 1), everything claimed is wrong (IDP 0).
    result = identity_metrics([label_map({})] * 4, [two_players(7, 8)] * 4)
    assert (result.idtp, result.idfp, result.idfn) == (0, 8, 0)
    assert (result.idf1, result.idp, result.idr) == (0.0, 0.0, 1.0)


def test_no_prediction_only_misses() -> None:
    # Nothing claimed (IDP vacuously 1), everything missed (IDR 0).
    result = identity_metrics([two_players(1, 2)] * 4, [label_map({})] * 4)
    assert (result.idtp, result.idfp, result.idfn) == (0, 0, 8)
    assert (result.idf1, result.idp, result.idr) == (0.0, 1.0, 0.0)
    assert result.id_map == {}


def test_shape_mismatch_is_a_value_error() -> None:
    gt, pred = label_map({1: LEFT}), label_map({1: LEFT}, shape=(H, W + 1))
    with pytest.raises(ValueError, match="41x12"):
        frame_matches(gt, pred)
    with pytest.raises(ValueError):
        identity_metrics([gt], [pred])
    with pytest.raises(ValueError):
        IdentityTracker().update(gt, pred)


def test_clips_of_different_lengths_are_a_value_error() -> None:
    with pytest.raises(ValueError, match="prediction ends after 2 frames"):
        identity_metrics([two_players(1, 2)] * 3, [two_players(1, 2)] * 2)


@pytest.mark.parametrize("bad", [np.zeros((H, W), np.float32), np.full((H, W), -1, np.int32)])
def test_label_maps_must_hold_non_negative_integers(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="label map"):
        frame_matches(bad, label_map({}))


@pytest.mark.parametrize("min_iou", [0.0, 1.5, math.nan])
def test_min_iou_outside_zero_one_is_rejected(min_iou: float) -> None:
    with pytest.raises(ValueError, match="min_iou"):
        IdentityTracker(min_iou)


def test_wide_and_signed_integer_ids_work() -> None:
    gt = label_map({1: LEFT}).astype(np.int64) * 70_000  # id 70000
    pred = label_map({1: LEFT}).astype(np.int32) * 3
    assert frame_matches(gt, pred) == {70_000: 3}


# ---------------------------------------------------------------------------------------------------------------
# Tracker, tables, summary


def random_clip(seed: int, frames: int = 12, shape: tuple[int, int] = (16, 24)) -> tuple[list, list]:
    """Overlapping random boxes; the prediction jitters them, drops some, swaps ids now and then, adds extras."""
    rng = np.random.default_rng(seed)
    gt_clip, pred_clip = [], []
    names = {g: g + 10 for g in range(1, 5)}
    for _ in range(frames):
        if rng.random() < 0.3:  # the labeler swaps two of its ids
            a, b = rng.choice(list(names), 2, replace=False)
            names[a], names[b] = names[b], names[a]
        gt, pred = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
        for g in range(1, 5):
            if rng.random() < 0.15:  # gt object absent
                continue
            top, left = rng.integers(0, shape[0] - 4), rng.integers(0, shape[1] - 4)
            h, w = rng.integers(3, 8, size=2)
            gt[top : top + h, left : left + w] = g
            if rng.random() < 0.2:  # missed by the prediction
                continue
            dy, dx = rng.integers(-1, 2, size=2)
            pred[max(top + dy, 0) : top + dy + h, max(left + dx, 0) : left + dx + w] = names[g]
        if rng.random() < 0.3:  # a false positive
            pred[rng.integers(0, shape[0]), :5] = 30
        if rng.random() < 0.3:  # a void stripe in the ground truth
            gt[:, rng.integers(0, shape[1])] = 255
        gt_clip.append(gt)
        pred_clip.append(pred)
    return gt_clip, pred_clip


def test_tracker_gives_the_same_as_identity_metrics() -> None:
    gt_clip, pred_clip = random_clip(seed=3)
    tracker = IdentityTracker(min_iou=0.4)
    for gt, pred in zip(gt_clip, pred_clip):
        assert tracker.update(gt, pred) is tracker
    assert tracker.frames == len(gt_clip)
    assert tracker.result() == identity_metrics(gt_clip, pred_clip, min_iou=0.4)
    assert tracker.result() == tracker.result()  # result() does not consume the running totals


def test_to_pandas_one_row_per_gt_id() -> None:
    gt = [label_map({1: LEFT, 2: RIGHT})] * 10
    # gt 1: pred 5, lost on frames 4-5, back as 6. gt 2: never predicted.
    pred = [label_map({5: LEFT})] * 4 + [label_map({})] * 2 + [label_map({6: LEFT})] * 4
    table = identity_metrics(gt, pred).to_pandas()
    assert list(table.columns) == ["gt_id", "pred_id", "frames_present", "frames_matched", "switches", "fragmentations"]
    assert table["gt_id"].tolist() == [1, 2]
    assert table.loc[0, "pred_id"] in (5, 6)
    assert table["pred_id"].isna().tolist() == [False, True]
    assert table["frames_present"].tolist() == [10, 10]
    assert table["frames_matched"].tolist() == [8, 0]
    assert table["switches"].tolist() == [1, 0]
    assert table["fragmentations"].tolist() == [1, 0]


def test_summary_is_plain_json() -> None:
    summary = identity_metrics([two_players(1, 2)] * 10, [two_players(7, 8)] * 5 + [two_players(8, 7)] * 5).summary()
    decoded = json.loads(json.dumps(summary))
    assert decoded["id_switches"] == 2
    assert decoded["idf1"] == 0.5
    assert decoded["gt_objects"] == 2 and decoded["frames"] == 10


# ---------------------------------------------------------------------------------------------------------------
# Independent brute-force reference: per-id boolean masks, every one-to-one map enumerated


def reference_iou(gt: np.ndarray, pred: np.ndarray, g: int, p: int) -> float:
    scored = gt != 255
    a, b = (gt == g) & scored, (pred == p) & scored
    return (a & b).sum() / (a | b).sum()


def present_ids(labels: np.ndarray, scored: np.ndarray) -> list[int]:
    return sorted(set(np.unique(labels[scored]).tolist()) - {0, 255})


def one_to_one_maps(gt_ids: list[int], pred_ids: list[int]):
    """Every partial one-to-one map gt id -> pred id (None: unmapped)."""
    options = pred_ids + [None] * len(gt_ids)
    seen = set()
    for chosen in itertools.permutations(options, len(gt_ids)):
        if chosen not in seen:
            seen.add(chosen)
            yield {g: p for g, p in zip(gt_ids, chosen) if p is not None}


def reference_identity(gt_clip: list, pred_clip: list, min_iou: float) -> dict:
    last: dict[int, int] = {}
    lost: set[int] = set()
    switches = fragmentations = 0
    hits: dict[tuple[int, int], int] = {}
    gt_presences = pred_presences = 0
    for gt, pred in zip(gt_clip, pred_clip):
        scored = gt != 255
        gts, preds = present_ids(gt, scored), present_ids(pred, scored)
        gt_presences += len(gts)
        pred_presences += len(preds)
        iou = {(g, p): reference_iou(gt, pred, g, p) for g in gts for p in preds}
        for pair, value in iou.items():
            if value >= min_iou:
                hits[pair] = hits.get(pair, 0) + 1
        # min_iou >= 0.5: label masks are disjoint, so each gt has at most one qualifying pred and vice versa.
        matched = {g: p for (g, p), value in iou.items() if value >= min_iou}
        assert len(set(matched.values())) == len(matched)
        for g in gts:
            if g not in matched:
                if g in last:
                    lost.add(g)
                continue
            if g in lost:
                fragmentations += 1
                lost.discard(g)
            if g in last and last[g] != matched[g]:
                switches += 1
            last[g] = matched[g]
    gt_ids = sorted({g for g, _ in hits})
    pred_ids = sorted({p for _, p in hits})
    idtp = max(sum(hits.get((g, p), 0) for g, p in m.items()) for m in one_to_one_maps(gt_ids, pred_ids))
    idfp, idfn = pred_presences - idtp, gt_presences - idtp
    denominator = 2 * idtp + idfp + idfn
    return {
        "id_switches": switches,
        "fragmentations": fragmentations,
        "idtp": idtp,
        "idf1": 1.0 if denominator == 0 else 2 * idtp / denominator,
    }


@pytest.mark.parametrize("seed", range(8))
def test_agrees_with_brute_force_reference(seed: int) -> None:
    gt_clip, pred_clip = random_clip(seed)
    result = identity_metrics(gt_clip, pred_clip, min_iou=0.5)
    expected = reference_identity(gt_clip, pred_clip, min_iou=0.5)
    assert result.id_switches == expected["id_switches"]
    assert result.fragmentations == expected["fragmentations"]
    assert result.idtp == expected["idtp"]
    assert result.idf1 == pytest.approx(expected["idf1"])


@pytest.mark.parametrize("seed", range(8))
def test_frame_matches_reach_the_best_iou_sum_at_a_low_threshold(seed: int) -> None:
    # Below 0.5 a gt can qualify with several preds; the assignment must reach the enumerated optimum.
    gt_clip, pred_clip = random_clip(seed, frames=4)
    for gt, pred in zip(gt_clip, pred_clip):
        scored = gt != 255
        gts, preds = present_ids(gt, scored), present_ids(pred, scored)
        iou = {(g, p): reference_iou(gt, pred, g, p) for g in gts for p in preds}
        best = max(sum(iou[g, p] for g, p in m.items() if iou[g, p] >= 0.1) for m in one_to_one_maps(gts, preds))
        matches = frame_matches(gt, pred, min_iou=0.1)
        assert all(iou[g, p] >= 0.1 for g, p in matches.items())
        assert sum(iou[g, p] for g, p in matches.items()) == pytest.approx(best)


# ---------------------------------------------------------------------------------------------------------------
# Cross-check against py-motmetrics (a test requirement in requirements-dev.txt, not a runtime dependency)


def box_area(box: tuple[int, int, int, int]) -> int:
    return (box[1] - box[0]) * (box[3] - box[2])


def box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """IoU of two half-open boxes (top, bottom, left, right), from their coordinates."""
    height = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    width = max(0, min(a[3], b[3]) - max(a[2], b[2]))
    inter = height * width
    return inter / (box_area(a) + box_area(b) - inter)


def test_agrees_with_motmetrics_on_box_like_masks() -> None:
    import motmetrics as mm  # the independent reference: missing means the test set-up is broken, not a skip

    rng = np.random.default_rng(11)
    # A 4 x 4 grid of 20-pixel cells. Each gt box spans cell offsets 3..15 and its pred box moves by at most
    # 2 pixels each way, so every box stays inside its cell: boxes never overlap within one map and the masks are
    # exactly the boxes, whose IoU motmetrics is given from coordinates.
    cell = 20
    accumulator = mm.MOTAccumulator(auto_id=True)
    gt_clip, pred_clip = [], []
    names = {g: g + 20 for g in range(1, 7)}
    for _ in range(40):
        if rng.random() < 0.2:
            a, b = rng.choice(list(names), 2, replace=False)
            names[a], names[b] = names[b], names[a]
        cells = rng.permutation(16)
        gt_boxes, pred_boxes = {}, {}
        for k, g in enumerate(names):
            if rng.random() < 0.15:
                continue
            row, col = divmod(int(cells[k]), 4)
            top, left = row * cell + int(rng.integers(3, 5)), col * cell + int(rng.integers(3, 5))
            box = (top, top + int(rng.integers(6, 12)), left, left + int(rng.integers(6, 12)))
            gt_boxes[g] = box
            if rng.random() < 0.2:
                continue
            dy, dx = (int(v) for v in rng.integers(-2, 3, size=2))
            pred_boxes[names[g]] = (box[0] + dy, box[1] + dy, box[2] + dx, box[3] + dx)
        if rng.random() < 0.3:  # a false positive in an empty cell
            row, col = divmod(int(cells[15]), 4)
            pred_boxes[40] = (row * cell + 2, row * cell + 10, col * cell + 2, col * cell + 10)
        gt_clip.append(label_map(gt_boxes, shape=(4 * cell, 4 * cell)))
        pred_clip.append(label_map(pred_boxes, shape=(4 * cell, 4 * cell)))
        distances = np.array(
            [
                [1 - box_iou(g, p) if box_iou(g, p) >= 0.5 else np.nan for p in pred_boxes.values()]
                for g in gt_boxes.values()
            ]
        ).reshape(len(gt_boxes), len(pred_boxes))
        accumulator.update(list(gt_boxes), list(pred_boxes), distances)

    expected = (
        mm.metrics.create()
        .compute(accumulator, metrics=["num_switches", "num_fragmentations", "idf1", "idp", "idr", "idtp"], name="clip")
        .iloc[0]
    )
    result = identity_metrics(gt_clip, pred_clip, min_iou=0.5)
    assert result.id_switches == expected["num_switches"] > 0
    assert result.fragmentations == expected["num_fragmentations"] > 0
    assert result.idtp == expected["idtp"]
    assert (result.idf1, result.idp, result.idr) == pytest.approx((expected["idf1"], expected["idp"], expected["idr"]))
