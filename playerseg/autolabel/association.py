"""Stable track ids for the auto-labeler: match each re-detection to the live tracks, start and end tracks.

A detection is matched to a track by box IoU, optimally over all pairs (Hungarian assignment). A track is
compared to a detection through two boxes, whichever overlaps more: the box of its current SAM2 mask, and where its
detections predict it to be (the last matched box, its centre moved on at the velocity between its last two
matches, as SORT does). So a track whose mask faded for a moment, or a model whose masks are poor, keeps its id
while the player is re-detected where he was running to. (Predicting from the last box alone swaps the ids of two
players who cross: each one's last box is where the other one now is.) Unmatched detections start new tracks;
a track that no detection confirmed for `lost_frames` processed frames ends.

An id switch cannot be known without ground truth; what the tracker can see is a track ending and a new one starting
where it was last seen shortly after. Those births are counted as suspected id switches (`evaluation.identity`
counts the real ones when ground truth exists).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from playerseg.errors import PlayerSegError

BoxXYXY = tuple[float, float, float, float]
MAX_TRACK_ID = 254  # track ids are palette PNG indices (0 background, 255 void)


class AssociationError(PlayerSegError, ValueError):
    """Association settings that cannot work; the message is one sentence."""


@dataclass(frozen=True)
class AssociationSettings:
    min_iou: float = 0.3  # below this overlap a detection is not the same player (players move little per frame)
    lost_frames: int = 15  # end a track no detection confirmed for this many processed frames (~0.6 s at 24 fps)
    reanchor_iou: float = 0.3  # a matched track whose mask box overlaps its detection less is re-prompted with it
    switch_iou: float = 0.3  # a birth overlapping a track that ended within `lost_frames` is a suspected id switch

    def __post_init__(self) -> None:
        for name in ("min_iou", "reanchor_iou", "switch_iou"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise AssociationError(f"{name} must be from 0 to 1, got {value}.")
        if self.lost_frames < 1:
            raise AssociationError(f"lost_frames must be at least 1, got {self.lost_frames}.")


def box_iou_matrix(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """IoU of every box in `first` (N x 4, x0 y0 x1 y1) with every box in `second` (M x 4): N x M."""
    a = np.asarray(first, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(second, dtype=np.float64).reshape(-1, 4)
    left = np.maximum(a[:, None, 0], b[None, :, 0])
    top = np.maximum(a[:, None, 1], b[None, :, 1])
    right = np.minimum(a[:, None, 2], b[None, :, 2])
    bottom = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _centre(box: BoxXYXY) -> tuple[float, float]:
    return (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0


def optimal_pairs(similarity: np.ndarray, minimum: float) -> list[tuple[int, int]]:
    """Rows matched to columns maximising the summed similarity (Hungarian); pairs below `minimum` are dropped."""
    from scipy.optimize import linear_sum_assignment

    if similarity.size == 0:
        return []
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if similarity[r, c] >= minimum]


@dataclass
class Track:
    track_id: int
    born: int  # processed frame index of its first prompt
    last_box: BoxXYXY  # the last detection matched to it
    last_confirmed: int  # processed frame a detection last confirmed it
    ended: int | None = None  # processed frame it ended on
    matches: int = 1  # detections matched to it (its first one included)
    velocity: tuple[float, float] = (0.0, 0.0)  # box centre motion per processed frame between its last two matches

    @property
    def live(self) -> bool:
        return self.ended is None

    def predicted_box(self, frame: int) -> BoxXYXY:
        """The last matched box, its centre moved on at constant velocity to `frame` (only the centre: box edges
        jump when a player is partly hidden, his position does not)."""
        steps = frame - self.last_confirmed
        dx, dy = self.velocity[0] * steps, self.velocity[1] * steps
        x0, y0, x1, y1 = self.last_box
        return (x0 + dx, y0 + dy, x1 + dx, y1 + dy)


@dataclass(frozen=True)
class IdEvent:
    frame: int  # processed frame index
    kind: str  # "start", "end" or "suspected switch"
    track_id: int
    other_id: int | None = None  # for a suspected switch: the ended track it probably continues


@dataclass(frozen=True)
class Association:
    """One detection frame's outcome, in the order of the detections given."""

    track_of: list[int | None]  # detection i -> matched track id, or None
    reanchor: list[int]  # matched track ids whose mask disagrees with their detection (re-prompt with its box)
    unmatched_tracks: list[int]


@dataclass
class TrackBook:
    """The live and ended tracks, their ids and the id events of one run."""

    settings: AssociationSettings = field(default_factory=AssociationSettings)
    tracks: dict[int, Track] = field(default_factory=dict)
    events: list[IdEvent] = field(default_factory=list)
    refused_births: int = 0  # detections that would have started a track past MAX_TRACK_ID

    @property
    def live_ids(self) -> list[int]:
        return [t.track_id for t in self.tracks.values() if t.live]

    def associate(
        self, frame: int, detections: Sequence[BoxXYXY], mask_boxes: dict[int, BoxXYXY | None]
    ) -> Association:
        """Match a frame's detections to the live tracks; `mask_boxes` holds each live track's current mask box
        (None: no mask)."""
        live = self.live_ids
        det = np.asarray(detections, dtype=np.float64).reshape(-1, 4)
        predicted = np.array([self.tracks[t].predicted_box(frame) for t in live]).reshape(-1, 4)
        by_detection = box_iou_matrix(predicted, det)
        by_mask = np.zeros_like(by_detection)
        for row, track_id in enumerate(live):
            mask_box = mask_boxes.get(track_id)
            if mask_box is not None:
                by_mask[row] = box_iou_matrix(np.array([mask_box]), det)[0]
        pairs = optimal_pairs(np.maximum(by_detection, by_mask), self.settings.min_iou)
        track_of: list[int | None] = [None] * len(det)
        reanchor = []
        for row, col in pairs:
            track_of[col] = live[row]
            if by_mask[row, col] < self.settings.reanchor_iou:
                reanchor.append(live[row])
        matched = {live[row] for row, _ in pairs}
        return Association(track_of, reanchor, [t for t in live if t not in matched])

    def confirm(self, track_id: int, frame: int, box: BoxXYXY) -> None:
        track = self.tracks[track_id]
        if frame > track.last_confirmed:
            steps = frame - track.last_confirmed
            (old_x, old_y), (new_x, new_y) = _centre(track.last_box), _centre(box)
            track.velocity = ((new_x - old_x) / steps, (new_y - old_y) / steps)
        track.last_box = tuple(float(v) for v in box)  # type: ignore[assignment]
        track.last_confirmed = frame
        track.matches += 1

    def start(self, frame: int, box: BoxXYXY) -> int | None:
        """A new track for an unmatched detection: its id, or None when every id up to MAX_TRACK_ID is used."""
        track_id = max(self.tracks, default=0) + 1
        if track_id > MAX_TRACK_ID:
            self.refused_births += 1
            return None
        self.tracks[track_id] = Track(track_id, frame, tuple(float(v) for v in box), frame)  # type: ignore[arg-type]
        self.events.append(IdEvent(frame, "start", track_id))
        predecessor = self._recently_ended_near(frame, box)
        if predecessor is not None:
            self.events.append(IdEvent(frame, "suspected switch", track_id, predecessor))
        return track_id

    def lost(self, frame: int) -> list[int]:
        """Live tracks no detection confirmed for `lost_frames` processed frames up to `frame`."""
        limit = self.settings.lost_frames
        return [t.track_id for t in self.tracks.values() if t.live and frame - t.last_confirmed >= limit]

    def end(self, track_id: int, frame: int) -> None:
        self.tracks[track_id].ended = frame
        self.events.append(IdEvent(frame, "end", track_id))

    @property
    def suspected_switches(self) -> int:
        return sum(event.kind == "suspected switch" for event in self.events)

    def _recently_ended_near(self, frame: int, box: BoxXYXY) -> int | None:
        recent = [
            t for t in self.tracks.values() if t.ended is not None and frame - t.ended <= self.settings.lost_frames
        ]
        if not recent:
            return None
        overlaps = box_iou_matrix(np.array([t.last_box for t in recent]), np.array([box]))[:, 0]
        best = int(np.argmax(overlaps))
        return recent[best].track_id if overlaps[best] >= self.settings.switch_iou else None
