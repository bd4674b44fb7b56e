"""The leaderboard: every scored pair (one row per model x sequence), the failed pairs with their reasons, and one
summary per model (means over sequences with bootstrap intervals, speed and memory relative to the baseline: the
first model asked for). Written as leaderboard.csv, models.csv and leaderboard.json."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evaluation.leaderboard.manifest import EvaluateManifest
from evaluation.leaderboard.rows import PairFailure, PairScore, row_columns
from evaluation.leaderboard.stats import Interval, bootstrap_mean, paired_difference
from evaluation.results.numbers import json_float

if TYPE_CHECKING:
    import pandas as pd

LEADERBOARD_CSV = "leaderboard.csv"
MODELS_CSV = "models.csv"
LEADERBOARD_JSON = "leaderboard.json"


@dataclass(frozen=True)
class ModelSummary:
    """One model over the sequences it was scored on."""

    model: str
    sequences: int
    failed: int
    JF: Interval
    J: Interval
    F: Interval
    JF_vs_baseline: Interval | None  # paired difference model - baseline over shared sequences; None for the baseline
    latency_p50_ms: float  # median over sequences of the per-sequence p50
    latency_p95_ms: float
    fps: float
    fps_vs_baseline: float  # this model's frames per second / the baseline's
    peak_memory_mb: float  # the largest peak over its sequences
    memory_kind: str
    streams_vs_baseline: float  # the baseline's peak memory / this model's: how many times as many streams fit
    consecutive_iou: float
    flow_consistency: float
    area_volatility: float
    boundary_flip_rate: float
    idf1: float
    id_switches: float  # summed over sequences (NaN when the model makes no ids of its own)
    players_kept: float
    players: float
    non_players_kept: float
    parameters: int | None
    weights: str
    random_weights: bool

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, dict):  # an Interval
                row[key] = json_float(value["mean"])
                row[f"{key}_low"], row[f"{key}_high"] = json_float(value["low"]), json_float(value["high"])
            elif value is None and key == "JF_vs_baseline":
                row[key] = row[f"{key}_low"] = row[f"{key}_high"] = None
            else:
                row[key] = json_float(value) if isinstance(value, float) else value
        return row


@dataclass(frozen=True)
class Leaderboard:
    """Rows, failures and model summaries of one evaluate OUT folder, the models in the order asked."""

    manifest: EvaluateManifest
    rows: tuple[PairScore, ...]
    failures: tuple[PairFailure, ...]
    models: tuple[ModelSummary, ...]

    @property
    def baseline(self) -> str:
        return self.manifest.model_names[0]

    def rows_of(self, model: str) -> list[PairScore]:
        return [row for row in self.rows if row.model == model]

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        records = [row.to_json() for row in self.rows]
        return pd.DataFrame(records, columns=row_columns())

    def models_to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([summary.to_row() for summary in self.models])

    def to_json(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest.to_json(),
            "rows": [row.to_json() for row in self.rows],
            "failures": [failure.to_json() for failure in self.failures],
            "models": [summary.to_row() for summary in self.models],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Leaderboard:
        """leaderboard.json read back (the model summaries are recomputed from the rows)."""
        manifest = EvaluateManifest.from_json(data["manifest"])
        rows = [PairScore.from_json(row) for row in data["rows"]]
        failures = [PairFailure.from_json(failure) for failure in data.get("failures", [])]
        return build_leaderboard(manifest, rows, failures)


def build_leaderboard(
    manifest: EvaluateManifest, rows: Sequence[PairScore], failures: Sequence[PairFailure]
) -> Leaderboard:
    """Rows sorted by the models' order, then sequence; one summary per model asked for."""
    order = {name: index for index, name in enumerate(manifest.model_names)}
    ordered = tuple(sorted(rows, key=lambda r: (order.get(r.model, len(order)), r.sequence)))
    failed = tuple(sorted(failures, key=lambda f: (order.get(f.model, len(order)), f.sequence)))
    baseline = [row for row in ordered if row.model == manifest.model_names[0]]
    summaries = tuple(
        _summarise(manifest, name, [r for r in ordered if r.model == name], baseline, failed)
        for name in manifest.model_names
    )
    return Leaderboard(manifest, ordered, failed, summaries)


def _column(rows: Sequence[PairScore], key: str) -> np.ndarray:
    return np.array([getattr(row, key) for row in rows], dtype=float)


def _finite_mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def _finite(values: np.ndarray, reduce: Any) -> float:
    finite = values[np.isfinite(values)]
    return float(reduce(finite)) if finite.size else math.nan


def _summarise(
    manifest: EvaluateManifest,
    name: str,
    rows: list[PairScore],
    baseline: list[PairScore],
    failures: Sequence[PairFailure],
) -> ModelSummary:
    entry = next(m for m in manifest.models if m.name == name)
    fps = _finite(_column(rows, "fps"), np.median)
    peak = _finite(_column(rows, "peak_memory_mb"), np.max)
    base_fps = _finite(_column(baseline, "fps"), np.median)
    base_peak = _finite(_column(baseline, "peak_memory_mb"), np.max)
    return ModelSummary(
        model=name,
        sequences=len(rows),
        failed=sum(1 for f in failures if f.model == name),
        JF=bootstrap_mean(_column(rows, "JF")),
        J=bootstrap_mean(_column(rows, "J")),
        F=bootstrap_mean(_column(rows, "F")),
        JF_vs_baseline=None if name == manifest.model_names[0] else _versus(rows, baseline),
        latency_p50_ms=_finite(_column(rows, "latency_p50_ms"), np.median),
        latency_p95_ms=_finite(_column(rows, "latency_p95_ms"), np.median),
        fps=fps,
        fps_vs_baseline=fps / base_fps if base_fps > 0 else math.nan,
        peak_memory_mb=peak,
        memory_kind=next((r.memory_kind for r in rows if r.memory_kind), ""),
        streams_vs_baseline=base_peak / peak if peak > 0 else math.nan,
        consecutive_iou=_finite_mean(_column(rows, "consecutive_iou")),
        flow_consistency=_finite_mean(_column(rows, "flow_consistency")),
        area_volatility=_finite_mean(_column(rows, "area_volatility")),
        boundary_flip_rate=_finite_mean(_column(rows, "boundary_flip_rate")),
        idf1=_finite_mean(_column(rows, "idf1")),
        id_switches=_finite(_column(rows, "id_switches"), np.sum),
        players_kept=_finite(_column(rows, "players_kept"), np.sum),
        players=_finite(_column(rows, "players"), np.sum),
        non_players_kept=_finite(_column(rows, "non_players_kept"), np.sum),
        parameters=entry.parameters,
        weights=entry.weights or next((r.weights for r in rows if r.weights), ""),
        random_weights=bool(entry.random_weights) or any(r.random_weights for r in rows),
    )


def _versus(rows: list[PairScore], baseline: list[PairScore]) -> Interval:
    """JF difference to the baseline over the sequences both were scored on."""
    base = {row.sequence: row.JF for row in baseline}
    shared = [row for row in rows if row.sequence in base]
    return paired_difference(_column(shared, "JF"), np.array([base[row.sequence] for row in shared], dtype=float))


def write_leaderboard(out: str | Path, board: Leaderboard) -> list[Path]:
    """leaderboard.csv, models.csv and leaderboard.json into `out`."""
    folder = Path(out)
    paths = [folder / LEADERBOARD_CSV, folder / MODELS_CSV, folder / LEADERBOARD_JSON]
    board.to_pandas().to_csv(paths[0], index=False)
    board.models_to_pandas().to_csv(paths[1], index=False)
    paths[2].write_text(json.dumps(board.to_json(), indent=2))
    return paths
