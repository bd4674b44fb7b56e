"""Flicker metrics on a playerseg.synthetic pitch clip, where the truth is known: the exact ground-truth track is
steadier than the same track with frames dropped and masks dilated, on every metric, and optical flow explains part
of the frame-to-frame change that raw IoU counts (players run and the camera pans)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from evaluation.datasets.davis import load_davis
from evaluation.sequence import MaskSequence
from evaluation.temporal import temporal_stability
from playerseg.synthetic.dataset import generate_dataset


@pytest.fixture(scope="module")
def pitch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pitch")
    generate_dataset(root, sequences=1, frames=16, players=3, seed=11)
    return root


def flickered(truth: MaskSequence) -> MaskSequence:
    """Every third frame loses object 1; every other frame dilates object 2 by 3 px and shifts object 3 by 4 px to the
    right (the wobbles a tracker adds on top of the true motion)."""
    maps = {}
    for index, (frame, labels) in enumerate(truth):
        labels = labels.copy()
        if index % 3 == 1:
            labels[labels == 1] = 0
        if index % 2 == 1:
            grown = cv2.dilate((labels == 2).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
            labels[grown & (labels == 0)] = 2
            shifted = np.roll(labels == 3, 4, axis=1)
            labels[labels == 3] = 0
            labels[shifted & (labels == 0)] = 3
        maps[frame] = labels
    return MaskSequence.from_arrays("flickered", maps)


def test_ground_truth_track_is_steadier_than_a_flickering_one(pitch: Path) -> None:
    sequence = load_davis(pitch)["seq000"]
    with sequence.frames as frames:
        truth = temporal_stability(sequence.masks, frames.read, name="truth")
        noisy = temporal_stability(flickered(sequence.masks), frames.read, name="flickered")
    # flow follows the running players and the pan: the true masks line up better after warping
    assert truth.mean_flow_consistency > truth.mean_consecutive_iou
    for obj in (1, 2):
        t = next(o for o in truth.objects if o.object_id == obj)
        n = next(o for o in noisy.objects if o.object_id == obj)
        assert n.flow_consistency < t.flow_consistency
        assert n.area_volatility > t.area_volatility
        assert n.boundary_flip_rate > t.boundary_flip_rate
    lost = next(o for o in noisy.objects if o.object_id == 1)
    assert lost.presence_toggles == 5 and next(o for o in truth.objects if o.object_id == 1).presence_toggles == 0
    assert lost.consecutive_iou < next(o for o in truth.objects if o.object_id == 1).consecutive_iou
    wobbly = [next(o for o in r.objects if o.object_id == 3) for r in (truth, noisy)]
    assert wobbly[1].centroid_jitter_px > wobbly[0].centroid_jitter_px + 2.0  # a 4 px back-and-forth
