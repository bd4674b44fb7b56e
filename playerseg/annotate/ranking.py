"""Where two models disagree most: the processed frames ranked by how little the models' masks overlap, so the review
shows the frames most likely to need a fix first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evaluation.results.agreement import AgreementResult


@dataclass(frozen=True)
class RankedFrame:
    index: int  # selection index
    frame: int  # clip frame number
    iou: float  # the models' IoU on this frame, averaged over the objects either model has there


def disagreement_ranking(agreement: AgreementResult | None, frames: Sequence[int]) -> list[RankedFrame]:
    """The processed frames (clip frame numbers, in order) by the models' mean IoU, lowest first; frames where
    neither model has an object (IoU undefined) are left out, ties keep frame order. No agreement (one model
    failed) ranks nothing."""
    if agreement is None:
        return []
    index_of = {frame: index for index, frame in enumerate(frames)}
    ranked = []
    for row, frame in enumerate(agreement.frames):
        values = np.asarray(agreement.iou[row], dtype=float)
        values = values[np.isfinite(values)]
        if frame in index_of and values.size:
            ranked.append(RankedFrame(index_of[frame], int(frame), float(values.mean())))
    return sorted(ranked, key=lambda item: (item.iou, item.index))
