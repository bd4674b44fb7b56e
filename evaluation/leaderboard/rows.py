"""One row of the leaderboard: a model's scores on one sequence (PairScore), or why that pair has none
(PairFailure). Both round-trip through JSON: score.json / failure.json in the pair's run folder."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from evaluation.results.numbers import json_float

SCORE_FILE = "score.json"
FAILURE_FILE = "failure.json"
# leaderboard.csv's first columns, in this order (DESIGN.md section 2); the flicker and id columns follow
LEAD_COLUMNS = ("model", "sequence", "J", "F", "JF", "latency_p50_ms", "peak_memory_mb")


@dataclass(frozen=True)
class PairScore:
    """A model's figures on one sequence. Accuracy as `python -m evaluation score` gives it (mean over objects),
    latency and memory from the run's frames.csv, flicker from the run's masks (flow from the sequence's frames), id
    metrics only for models that make their own ids (auto-labelers), kept players / non-players only where the
    dataset's meta.json gives every figure's role. NaN where a figure does not apply."""

    model: str
    sequence: str
    J: float
    F: float
    JF: float
    latency_p50_ms: float
    peak_memory_mb: float
    J_recall: float
    J_decay: float
    F_recall: float
    F_decay: float
    latency_p95_ms: float
    fps: float
    memory_kind: str
    consecutive_iou: float
    flow_consistency: float
    area_volatility: float
    centroid_jitter_px: float
    boundary_flip_rate: float
    presence_toggles: float
    idf1: float
    id_switches: float
    players_kept: float  # ground-truth players some predicted object matched (IoU >= 0.5) on an annotated frame
    players: float  # ground-truth players in the sequence
    non_players_kept: float  # predicted objects that matched a non-player figure (referee, staff, crowd) instead
    frames_scored: int
    objects: int
    random_weights: bool
    weights: str  # run.json "weights": which kind of weights made these masks
    device: str

    @property
    def ok(self) -> bool:
        return True

    def to_json(self) -> dict[str, Any]:
        return {k: (json_float(v) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PairScore:
        known = {f.name: f.type for f in fields(cls)}
        missing = sorted(set(known) - set(data))
        if missing:
            raise ValueError(f"a score is missing {', '.join(missing)}.")
        return cls(**{name: _number(data[name], known[name]) for name in known})


@dataclass(frozen=True)
class PairFailure:
    """A pair that has no scores: the model could not load or run on the sequence, or the sequence was bad."""

    model: str
    sequence: str
    reason: str  # one sentence

    @property
    def ok(self) -> bool:
        return False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PairFailure:
        return cls(str(data["model"]), str(data["sequence"]), str(data["reason"]))


def _number(value: Any, kind: Any) -> Any:
    """JSON null back to NaN for the float fields."""
    if kind in ("float", float):
        return math.nan if value is None else float(value)
    return value


def row_columns() -> list[str]:
    """leaderboard.csv's columns: the lead columns, then the rest in field order."""
    names = [f.name for f in fields(PairScore)]
    return [*LEAD_COLUMNS, *(name for name in names if name not in LEAD_COLUMNS)]
