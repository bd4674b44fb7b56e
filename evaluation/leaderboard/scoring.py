"""A pair's run folder scored against its ground-truth sequence, exactly as `python -m evaluation score --pred RUN
--gt ROOT/Annotations/<seq>` scores it (same accuracy call, same flicker call with the same frames), plus the id
metrics of a model that makes its own ids and, where the dataset's meta.json knows every figure's role, how many
players and non-players it kept."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.leaderboard.rows import PairScore
from evaluation.results.accuracy import AccuracyResult
from evaluation.results.temporal import TemporalResult
from evaluation.sequence import MaskSequence

MATCH_IOU = 0.5  # a predicted object "is" a figure on a frame when their IoU (masks, or boxes for non-players) >= this


@dataclass(frozen=True)
class FigureBox:
    """A figure of the dataset's meta.json on one frame: its role and box (x0, y0, x1, y1; x1/y1 exclusive)."""

    role: str
    object_id: int | None
    box: tuple[float, float, float, float]


Roles = Mapping[int, Sequence[FigureBox]]  # frame number -> figures on it


def read_roles(meta_path: str | Path, sequence: str) -> Roles | None:
    """Figures per frame from a synthetic-style meta.json ({"sequences": {seq: {"frames": [{"frame", "figures":
    [{"object_id", "role", "box"}]}]}}}); None when the file, the sequence or the roles are absent."""
    path = Path(meta_path)
    if not path.is_file():
        return None
    try:
        frames = json.loads(path.read_text())["sequences"][sequence]["frames"]
        roles = {
            int(entry["frame"]): [
                FigureBox(str(f["role"]), f.get("object_id"), tuple(float(v) for v in f["box"]))
                for f in entry["figures"]
            ]
            for entry in frames
        }
    except (KeyError, TypeError, ValueError):
        return None
    return roles or None


def score_run_folder(
    run_dir: str | Path,
    truth: MaskSequence,
    frames_path: str | None = None,
    roles: Roles | None = None,
    name: str | None = None,
) -> PairScore:
    """The run folder's PairScore on `truth` (one sequence). `frames_path` is used for optical flow when the run's
    own clip no longer exists, as the score command falls back to the ground truth's JPEGImages."""
    from evaluation.accuracy import score_dataset
    from evaluation.datasets.run_folders import load_run_folder

    run = load_run_folder(run_dir)
    model = name or run.name
    accuracy = score_dataset({truth.name: run.masks}, {truth.name: truth}, name=model).sequences[0]
    stability = _stability(run.masks, model, run.clip or frames_path, accuracy)
    latency = run.profile.summary() if run.profile is not None else None
    own_ids = "track_ids" in run.facts
    identity = _identity(truth, run.masks) if own_ids else None
    kept = _kept(truth, run.masks, roles) if own_ids and roles is not None else (math.nan, math.nan, math.nan)
    return PairScore(
        model=model,
        sequence=truth.name,
        J=accuracy.J_mean,
        F=accuracy.F_mean,
        JF=accuracy.JF_mean,
        latency_p50_ms=latency.p50_ms if latency else math.nan,
        peak_memory_mb=latency.peak_memory_mb if latency else math.nan,
        J_recall=accuracy.J_recall,
        J_decay=accuracy.J_decay,
        F_recall=accuracy.F_recall,
        F_decay=accuracy.F_decay,
        latency_p95_ms=latency.p95_ms if latency else math.nan,
        fps=latency.fps if latency else math.nan,
        memory_kind=latency.memory_kind if latency else "",
        consecutive_iou=_nan(stability.mean_consecutive_iou),
        flow_consistency=_nan(stability.mean_flow_consistency),
        area_volatility=_nan(stability.mean_area_volatility),
        centroid_jitter_px=_nan(stability.mean_centroid_jitter_px),
        boundary_flip_rate=_nan(stability.mean_boundary_flip_rate),
        presence_toggles=float(stability.total_presence_toggles),
        idf1=identity.idf1 if identity else math.nan,
        id_switches=float(identity.id_switches) if identity else math.nan,
        players_kept=kept[0],
        players=kept[1],
        non_players_kept=kept[2],
        frames_scored=len(accuracy.frames),
        objects=len(accuracy.object_ids),
        random_weights=bool(run.facts.get("random_weights")),
        weights=str(run.facts.get("weights", "")),
        device=str(run.facts.get("device", latency.device if latency else "")),
    )


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _stability(masks: MaskSequence, name: str, frames_path: str | None, accuracy: AccuracyResult) -> TemporalResult:
    """The score command's flicker call: the run's masks, flow from the clip's frames when there are any."""
    from evaluation.datasets.frames import open_frames
    from evaluation.temporal import temporal_stability

    frames = open_frames(frames_path) if frames_path else None
    try:
        return temporal_stability(masks, frames.read if frames is not None else None, name=name, accuracy=accuracy)
    finally:
        if frames is not None and hasattr(frames, "close"):
            frames.close()


def _identity(truth: MaskSequence, pred: MaskSequence) -> Any:
    """IDF1 and id switches over the annotated frames (a frame the prediction lacks counts as empty)."""
    from evaluation.identity import identity_metrics

    empty = np.zeros((pred.height, pred.width), dtype=np.uint8)
    gts = (labels for _, labels in truth)
    preds = (pred.read(frame) if frame in pred else empty for frame in truth.frames)
    return identity_metrics(gts, preds, MATCH_IOU)


def _kept(truth: MaskSequence, pred: MaskSequence, roles: Roles) -> tuple[float, float, float]:
    """(players kept, players, non-players kept): ground-truth players some predicted object matched on an annotated
    frame; predicted objects that, unmatched to a player, cover a non-player figure's box instead."""
    from evaluation.identity import frame_matches

    players: set[int] = set()
    kept: set[int] = set()
    intruders: set[int] = set()
    for frame, labels in truth:
        players.update(int(v) for v in np.unique(labels) if v not in (0, 255))
        if frame not in pred:
            continue
        predicted = pred.read(frame)
        matches = frame_matches(labels, predicted, MATCH_IOU)
        kept.update(matches)
        claimed = set(matches.values())
        others = [f.box for f in roles.get(frame, ()) if f.role != "player"]
        for pred_id in (int(v) for v in np.unique(predicted) if v not in (0, 255)):
            if pred_id not in claimed and any(
                _box_iou(_bbox(predicted == pred_id), box) >= MATCH_IOU for box in others
            ):
                intruders.add(pred_id)
    return float(len(kept)), float(len(players)), float(len(intruders))


def _bbox(mask: np.ndarray) -> tuple[float, float, float, float]:
    rows, cols = np.nonzero(mask)
    return float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1)


def _box_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
