"""Track-id bookkeeping of the auto-labeler: box IoU, optimal matching, births, ends and suspected switches."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from playerseg.autolabel.association import (
    MAX_TRACK_ID,
    AssociationError,
    AssociationSettings,
    TrackBook,
    box_iou_matrix,
    optimal_pairs,
)


def test_box_iou_by_hand() -> None:
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    iou = box_iou_matrix(boxes, boxes)
    assert np.allclose(np.diag(iou), 1.0)
    assert iou[0, 1] == pytest.approx(50 / 150), "half overlap: 50 px shared of 150 px covered"
    assert iou[0, 2] == 0.0 and iou.shape == (3, 3) and np.allclose(iou, iou.T)
    assert box_iou_matrix(np.zeros((0, 4)), boxes).shape == (0, 3)


def test_optimal_pairs_beats_greedy_and_drops_weak_pairs() -> None:
    # greedy takes (0, 0) = 0.9 and leaves row 1 with 0.1; the optimum pairs (0, 1) and (1, 0): 0.8 + 0.8
    similarity = np.array([[0.9, 0.8], [0.8, 0.1]])
    assert sorted(optimal_pairs(similarity, 0.3)) == [(0, 1), (1, 0)]
    brute = max(itertools.permutations(range(2)), key=lambda p: sum(similarity[r, c] for r, c in enumerate(p)))
    assert sorted(optimal_pairs(similarity, 0.0)) == sorted(enumerate(brute))
    assert optimal_pairs(np.array([[0.2]]), 0.3) == [], "a pair below the minimum is no match"
    assert optimal_pairs(np.zeros((0, 3)), 0.3) == []


def test_detections_keep_their_track_ids_as_players_move() -> None:
    book = TrackBook()
    first = [(0, 0, 10, 30), (50, 0, 60, 30)]
    ids = [book.start(0, box) for box in first]
    assert ids == [1, 2]
    moved = [(52, 1, 62, 31), (2, 1, 12, 31)]  # listed in the other order, each moved 2 px
    association = book.associate(2, moved, {1: None, 2: None})
    assert association.track_of == [2, 1]
    assert association.unmatched_tracks == []


def test_a_running_player_is_matched_where_his_velocity_predicts_him() -> None:
    book = TrackBook()
    book.start(0, (0, 0, 10, 30))
    book.confirm(1, 2, (8, 0, 18, 30))  # 4 px per frame to the right
    ahead = (16, 0, 26, 30)  # frame 4: no overlap with the last box's IoU >= 0.3, exactly where he was heading
    assert box_iou_matrix(np.array([(8, 0, 18, 30)]), np.array([ahead]))[0, 0] < 0.3
    assert book.tracks[1].predicted_box(4) == (16.0, 0.0, 26.0, 30.0)
    assert book.associate(4, [ahead], {1: None}).track_of == [1]


def test_the_mask_box_matches_when_the_last_detection_is_far_behind() -> None:
    book = TrackBook()
    book.start(0, (0, 0, 10, 30))
    far = (40, 0, 50, 30)  # the player ran: no overlap with the old detection box
    assert book.associate(2, [far], {1: None}).track_of == [None]
    association = book.associate(2, [far], {1: (39, 0, 49, 30)})  # but SAM2's mask followed him
    assert association.track_of == [1] and association.reanchor == []


def test_matched_track_whose_mask_drifted_is_re_anchored() -> None:
    book = TrackBook()
    book.start(0, (0, 0, 10, 30))
    association = book.associate(2, [(1, 0, 11, 30)], {1: (100, 100, 120, 140)})  # mask drifted elsewhere
    assert association.track_of == [1] and association.reanchor == [1]


def test_unconfirmed_tracks_end_after_lost_frames_and_a_birth_there_is_a_suspected_switch() -> None:
    book = TrackBook(AssociationSettings(lost_frames=10))
    book.start(0, (0, 0, 10, 30))
    book.start(0, (50, 0, 60, 30))
    book.confirm(2, 8, (50, 0, 60, 30))
    assert book.lost(9) == [] and book.lost(10) == [1]
    book.end(1, 10)
    assert book.live_ids == [2]
    new_id = book.start(12, (1, 0, 11, 30))  # someone appears where track 1 was last seen
    assert new_id == 3, "ids are never reused"
    kinds = [(e.kind, e.track_id, e.other_id) for e in book.events]
    assert kinds == [
        ("start", 1, None),
        ("start", 2, None),
        ("end", 1, None),
        ("start", 3, None),
        ("suspected switch", 3, 1),
    ]
    assert book.suspected_switches == 1
    book.start(40, (200, 0, 210, 30))  # far away and long after: a new player, not a switch
    assert book.suspected_switches == 1


def test_ids_stop_at_the_palette_limit() -> None:
    book = TrackBook()
    for i in range(MAX_TRACK_ID):
        assert book.start(0, (i, 0, i + 1, 1)) == i + 1
    assert book.start(0, (0, 5, 1, 6)) is None and book.refused_births == 1


def test_bad_settings_are_one_sentence() -> None:
    with pytest.raises(AssociationError, match="min_iou"):
        AssociationSettings(min_iou=1.5)
    with pytest.raises(AssociationError, match="lost_frames"):
        AssociationSettings(lost_frames=0)
