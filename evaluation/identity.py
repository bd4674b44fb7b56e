"""Identity metrics on label maps: do the predicted track ids stay on the same ground-truth object?

An auto-labeler names each person with a track id of its own; the ground truth has ids of its own. Nothing here
assumes the two id sets agree: ids are related only by pixel overlap.

Inputs are label maps, one integer (H, W) array per frame: 0 = background, 255 = void, any other value = an object
id. Pixels that are void in the ground truth are left out of both maps (as DAVIS does). A prediction has no void of
its own: 255 in a prediction is not an object (it is ignored like background), so a predictor cannot hide
pixels from scoring. An object is present on a frame when it has at least one scored pixel.

Per frame, ground-truth and predicted objects are paired by an optimal one-to-one assignment maximising the summed
IoU over pairs with IoU >= min_iou (`frame_matches`). Over the clip (CLEAR MOT conventions, as py-motmetrics counts
them; only frames where the ground-truth object is present are looked at):

- ID switch: a ground-truth object is matched to a different predicted id than at its last match.
- Fragmentation: a ground-truth object's matched run is interrupted: matched, then present but unmatched, then
  matched again (counted when it is matched again, whatever the id).

IDF1 (Ristani et al. 2016, "Performance Measures and a Data Set for Multi-Target, Multi-Camera Tracking"):
on a frame, the pair (g, p) is an identity hit when g and p overlap with IoU >= min_iou. One global one-to-one map
A from ground-truth ids to predicted ids maximises the summed hits over the clip; IDTP is that sum, IDFN the
ground-truth presences not counted, IDFP the predicted presences not counted.
IDF1 = 2 IDTP / (2 IDTP + IDFP + IDFN), IDP = IDTP / (IDTP + IDFP), IDR = IDTP / (IDTP + IDFN). A ratio whose
denominator is zero is 1.0 (nothing to find and nothing claimed is perfect, as J is 1 for two empty masks): no
objects at all -> IDF1 = IDP = IDR = 1; ground truth but no prediction -> IDF1 = IDR = 0, IDP = 1; prediction but
no ground truth -> IDF1 = IDP = 0, IDR = 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from evaluation.region import check_same_shape
from evaluation.sequence import VOID

if TYPE_CHECKING:  # pandas is imported only when a table is asked for
    import pandas as pd

BACKGROUND = 0
_KEY_SHIFT = 32  # a (gt, pred) pixel pair is packed into one uint64: gt << 32 | pred

Switch = tuple[int, int, int, int]  # (frame, gt id, old pred id, new pred id)


# ---------------------------------------------------------------------------------------------------------------
# One frame


def _checked_labels(labels: np.ndarray, name: str) -> np.ndarray:
    """The label map as an array, after checking it holds non-negative integers below 2**32."""
    labels = np.asarray(labels)
    if labels.dtype == bool:
        return labels.astype(np.uint8)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} label map must hold integer ids, got dtype {labels.dtype}.")
    if labels.size and (np.issubdtype(labels.dtype, np.signedinteger) or labels.dtype.itemsize > 4):
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= 1 << _KEY_SHIFT:
            raise ValueError(f"{name} label map ids must lie in [0, 2**32), got values from {low} to {high}.")
    return labels


def _frame_ious(gt: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gt ids present, pred ids present, IoU matrix [gt, pred]) of one frame, gt-void pixels left out."""
    gt, pred = _checked_labels(gt, "ground-truth"), _checked_labels(pred, "predicted")
    check_same_shape(pred, gt)
    scored = gt != VOID
    # One pass over the pixels: count every (gt label, pred label) pair that occurs.
    keys = (gt[scored].astype(np.uint64) << np.uint64(_KEY_SHIFT)) | pred[scored].astype(np.uint64)
    pair_keys, pair_pixels = np.unique(keys, return_counts=True)
    pair_gt = (pair_keys >> np.uint64(_KEY_SHIFT)).astype(np.int64)
    pair_pred = (pair_keys & np.uint64((1 << _KEY_SHIFT) - 1)).astype(np.int64)

    gt_ids = np.unique(pair_gt[pair_gt != BACKGROUND])
    pred_ids = np.unique(pair_pred[(pair_pred != BACKGROUND) & (pair_pred != VOID)])
    intersection = np.zeros((gt_ids.size, pred_ids.size))
    overlap = np.isin(pair_gt, gt_ids) & np.isin(pair_pred, pred_ids)
    rows = np.searchsorted(gt_ids, pair_gt[overlap])
    cols = np.searchsorted(pred_ids, pair_pred[overlap])
    intersection[rows, cols] = pair_pixels[overlap]
    gt_area = _area_of(gt_ids, pair_gt, pair_pixels)
    pred_area = _area_of(pred_ids, pair_pred, pair_pixels)
    union = gt_area[:, None] + pred_area[None, :] - intersection
    return gt_ids, pred_ids, intersection / union  # every present id has a pixel, so union > 0


def _area_of(ids: np.ndarray, labels: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """Scored pixels of each id in `ids`, from the (label, pixel count) pairs of one frame."""
    known = np.isin(labels, ids)
    return np.bincount(np.searchsorted(ids, labels[known]), weights=pixels[known], minlength=ids.size)


def _optimal_pairs(iou: np.ndarray, min_iou: float) -> list[tuple[int, int]]:
    """Index pairs (row, col) of the one-to-one assignment maximising summed IoU over pairs with IoU >= min_iou."""
    if iou.size == 0:
        return []
    # Pairs below the threshold weigh 0, so including them never helps and dropping them afterwards keeps the
    # assignment optimal among eligible pairs.
    weights = np.where(iou >= min_iou, iou, 0.0)
    rows, cols = linear_sum_assignment(weights, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if iou[r, c] >= min_iou]


def _check_min_iou(min_iou: float) -> float:
    if not (0.0 < min_iou <= 1.0):  # also rejects NaN
        raise ValueError(f"min_iou must be in (0, 1], got {min_iou}.")
    return float(min_iou)


def frame_matches(gt: np.ndarray, pred: np.ndarray, min_iou: float = 0.5) -> dict[int, int]:
    """gt id -> pred id on one frame: the one-to-one assignment maximising IoU, only pairs with IoU >= min_iou.

    Pixels void in the ground truth are left out of both maps. Raises ValueError when the shapes differ.
    """
    min_iou = _check_min_iou(min_iou)
    gt_ids, pred_ids, iou = _frame_ious(gt, pred)
    return {int(gt_ids[r]): int(pred_ids[c]) for r, c in _optimal_pairs(iou, min_iou)}


# ---------------------------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True)
class GtTrack:
    """How one ground-truth object was followed over the clip."""

    gt_id: int
    pred_id: int | None  # its predicted id under the global IDF1 map; None when it has none
    frames_present: int
    frames_matched: int
    switches: int
    fragmentations: int


@dataclass(frozen=True)
class IdentityResult:
    """Identity metrics of one clip: MOT ID switches and fragmentations, IDF1 / IDP / IDR."""

    frames: int
    gt_ids: list[int]
    pred_ids: list[int]
    id_switches: int
    switches: list[Switch]  # (frame, gt id, old pred id, new pred id); frame = position in the clip, from 0
    fragmentations: int
    idf1: float
    idp: float
    idr: float
    id_map: dict[int, int]  # the global one-to-one IDF1 assignment: gt id -> pred id
    idtp: int
    idfp: int
    idfn: int
    min_iou: float
    tracks: list[GtTrack]  # one per gt id, in gt_ids order

    def to_pandas(self) -> pd.DataFrame:
        """One row per gt id: gt_id, pred_id (global map; <NA> when none), frames_present, frames_matched,
        switches, fragmentations."""
        import pandas as pd

        columns = ["gt_id", "pred_id", "frames_present", "frames_matched", "switches", "fragmentations"]
        table = pd.DataFrame([[getattr(t, c) for c in columns] for t in self.tracks], columns=columns)
        table["pred_id"] = table["pred_id"].astype("Int64")  # nullable: a gt id may have no predicted id
        return table.astype({c: "int64" for c in columns if c != "pred_id"})

    def summary(self) -> dict[str, Any]:
        """Plain JSON-able values."""
        return {
            "frames": self.frames,
            "min_iou": self.min_iou,
            "gt_objects": len(self.gt_ids),
            "pred_objects": len(self.pred_ids),
            "id_switches": self.id_switches,
            "fragmentations": self.fragmentations,
            "idf1": self.idf1,
            "idp": self.idp,
            "idr": self.idr,
            "idtp": self.idtp,
            "idfp": self.idfp,
            "idfn": self.idfn,
            "id_map": {str(g): p for g, p in self.id_map.items()},
        }


def _ratio(numerator: int, denominator: int) -> float:
    """numerator / denominator, 1.0 when the denominator is 0 (nothing to find and nothing claimed)."""
    return 1.0 if denominator == 0 else numerator / denominator


# ---------------------------------------------------------------------------------------------------------------
# Running totals


@dataclass
class _TrackState:
    """Running counts of one gt id."""

    frames_present: int = 0
    frames_matched: int = 0
    switches: int = 0
    fragmentations: int = 0
    last_pred: int | None = None  # pred id at its last match
    lost: bool = False  # present and unmatched at least once since its last match


class IdentityTracker:
    """Identity metrics fed one frame at a time; only running counts are kept, never the frames.

    >>> tracker = IdentityTracker()
    >>> for gt, pred in zip(gt_frames, pred_frames):
    ...     tracker.update(gt, pred)
    >>> tracker.result().idf1
    """

    def __init__(self, min_iou: float = 0.5) -> None:
        self.min_iou = _check_min_iou(min_iou)
        self._frames = 0
        self._tracks: dict[int, _TrackState] = {}
        self._pred_presences: dict[int, int] = {}
        self._hits: dict[tuple[int, int], int] = {}  # (gt, pred) -> frames where they overlap with IoU >= min_iou
        self._switches: list[Switch] = []

    @property
    def frames(self) -> int:
        """Frames added so far."""
        return self._frames

    def update(self, gt: np.ndarray, pred: np.ndarray) -> IdentityTracker:
        """Add one frame (ground-truth and predicted label maps of one shape)."""
        gt_ids, pred_ids, iou = _frame_ious(gt, pred)
        matched = {int(gt_ids[r]): int(pred_ids[c]) for r, c in _optimal_pairs(iou, self.min_iou)}
        for g in gt_ids.tolist():
            self._follow(g, matched.get(g))
        for p in pred_ids.tolist():
            self._pred_presences[p] = self._pred_presences.get(p, 0) + 1
        for r, c in zip(*np.nonzero(iou >= self.min_iou)):
            pair = (int(gt_ids[r]), int(pred_ids[c]))
            self._hits[pair] = self._hits.get(pair, 0) + 1
        self._frames += 1
        return self

    def _follow(self, gt_id: int, pred_id: int | None) -> None:
        """Advance one present gt id's track by this frame's match (None: unmatched)."""
        track = self._tracks.setdefault(gt_id, _TrackState())
        track.frames_present += 1
        if pred_id is None:
            track.lost = track.last_pred is not None
            return
        track.frames_matched += 1
        if track.lost:
            track.fragmentations += 1
            track.lost = False
        if track.last_pred is not None and track.last_pred != pred_id:
            track.switches += 1
            self._switches.append((self._frames, gt_id, track.last_pred, pred_id))
        track.last_pred = pred_id

    def _global_map(self, gt_ids: list[int], pred_ids: list[int]) -> tuple[dict[int, int], int]:
        """(gt id -> pred id maximising the summed identity hits, that sum = IDTP)."""
        if not self._hits:
            return {}, 0
        gt_row = {g: k for k, g in enumerate(gt_ids)}
        pred_col = {p: k for k, p in enumerate(pred_ids)}
        hits = np.zeros((len(gt_ids), len(pred_ids)), dtype=np.int64)
        for (g, p), count in self._hits.items():
            hits[gt_row[g], pred_col[p]] = count
        rows, cols = linear_sum_assignment(hits, maximize=True)
        kept = [(r, c) for r, c in zip(rows, cols) if hits[r, c] > 0]
        return {gt_ids[r]: pred_ids[c] for r, c in kept}, int(sum(hits[r, c] for r, c in kept))

    def result(self) -> IdentityResult:
        gt_ids, pred_ids = sorted(self._tracks), sorted(self._pred_presences)
        id_map, idtp = self._global_map(gt_ids, pred_ids)
        gt_presences = sum(t.frames_present for t in self._tracks.values())
        pred_presences = sum(self._pred_presences.values())
        idfn, idfp = gt_presences - idtp, pred_presences - idtp
        tracks = [
            GtTrack(
                gt_id=g,
                pred_id=id_map.get(g),
                frames_present=t.frames_present,
                frames_matched=t.frames_matched,
                switches=t.switches,
                fragmentations=t.fragmentations,
            )
            for g, t in sorted(self._tracks.items())
        ]
        return IdentityResult(
            frames=self._frames,
            gt_ids=gt_ids,
            pred_ids=pred_ids,
            id_switches=len(self._switches),
            switches=list(self._switches),
            fragmentations=sum(t.fragmentations for t in tracks),
            idf1=_ratio(2 * idtp, 2 * idtp + idfp + idfn),
            idp=_ratio(idtp, idtp + idfp),
            idr=_ratio(idtp, idtp + idfn),
            id_map=id_map,
            idtp=idtp,
            idfp=idfp,
            idfn=idfn,
            min_iou=self.min_iou,
            tracks=tracks,
        )


def identity_metrics(
    gt_frames: Iterable[np.ndarray], pred_frames: Iterable[np.ndarray], min_iou: float = 0.5
) -> IdentityResult:
    """Identity metrics of a clip given as two equally long sequences of label maps (frame by frame, streamed)."""
    tracker = IdentityTracker(min_iou)
    missing = object()
    for gt, pred in zip_longest(gt_frames, pred_frames, fillvalue=missing):
        if gt is missing or pred is missing:
            shorter = "ground truth" if gt is missing else "prediction"
            raise ValueError(f"the {shorter} ends after {tracker.frames} frames but the other sequence goes on.")
        tracker.update(gt, pred)
    return tracker.result()
