"""Result dataclasses. Metrics return these; charts, reports and the CLI read them (never nested dicts).

Arrays are indexed [frame row, object column]: `frames[i]` is the clip frame number of row i and `object_ids[k]` the
object of column k. Every result converts to a long pandas table with `to_pandas()` and to plain JSON-able values
with `summary()`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pandas is imported only when a table is asked for
    import pandas as pd


def _float(value: float | None) -> float | None:
    """JSON-friendly float: NaN and None become None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _nanmean(values: np.ndarray) -> float:
    """Mean of the finite values; NaN (quietly) when there are none."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


# ---------------------------------------------------------------------------------------------------------------
# DAVIS statistics


@dataclass(frozen=True)
class SummaryStats:
    """DAVIS summary of per-frame values: mean, recall (share of frames above 0.5), decay (first quarter mean minus
    last quarter mean, quarters as in the DAVIS 2017 toolkit, which overlap by one frame)."""

    mean: float
    recall: float
    decay: float

    @classmethod
    def of(cls, values: np.ndarray) -> SummaryStats:
        values = np.asarray(values, dtype=np.float64)
        if values.size == 0:
            return cls(math.nan, math.nan, math.nan)
        # DAVIS 2017: ids = round(linspace(1, n, 5)) - 1; bin i = X[ids[i] : ids[i+1] + 1]
        # (the toolkit casts ids to uint8, which breaks past 255 frames; plain ints here).
        ids = (np.round(np.linspace(1, values.size, 5) + 1e-10) - 1).astype(np.int64)
        first = values[ids[0] : ids[1] + 1]
        last = values[ids[3] : ids[4] + 1]
        with warnings.catch_warnings():  # all-NaN values (nothing scored) give NaN statistics, quietly
            warnings.simplefilter("ignore", RuntimeWarning)
            return cls(
                mean=float(np.nanmean(values)),
                recall=float(np.nanmean(np.where(np.isnan(values), np.nan, values > 0.5))),
                decay=float(np.nanmean(first) - np.nanmean(last)),
            )


# ---------------------------------------------------------------------------------------------------------------
# Accuracy (J, F, J&F)


@dataclass(frozen=True)
class ObjectAccuracy:
    object_id: int
    frames: int  # annotated frames scored
    J: SummaryStats
    F: SummaryStats
    predicted: bool  # False: never predicted on a scored frame (scores 0 everywhere)

    @property
    def JF(self) -> float:
        return (self.J.mean + self.F.mean) / 2.0


@dataclass(frozen=True)
class AccuracyResult:
    """J and F of one prediction against ground truth on one sequence, per annotated frame and object."""

    name: str  # what was scored: a model or run name
    sequence: str
    frames: tuple[int, ...]  # annotated frames that were scored
    object_ids: tuple[int, ...]  # ground-truth objects (columns)
    J: np.ndarray  # (len(frames), len(object_ids)) region similarity
    F: np.ndarray  # same shape, boundary F-measure
    missing_objects: tuple[int, ...] = ()  # in the ground truth, never predicted on a scored frame
    extra_objects: tuple[int, ...] = ()  # predicted, absent from the ground truth (not scored)

    @property
    def per_object(self) -> tuple[ObjectAccuracy, ...]:
        return tuple(
            ObjectAccuracy(
                object_id=obj,
                frames=len(self.frames),
                J=SummaryStats.of(self.J[:, k]),
                F=SummaryStats.of(self.F[:, k]),
                predicted=obj not in self.missing_objects,
            )
            for k, obj in enumerate(self.object_ids)
        )

    def _mean_over_objects(self, metric: str, stat: str) -> float:
        values = [getattr(getattr(o, metric), stat) for o in self.per_object]
        return float(np.mean(values)) if values else math.nan

    # DAVIS aggregates: each statistic per object first, then the mean over objects.
    @property
    def J_mean(self) -> float:
        return self._mean_over_objects("J", "mean")

    @property
    def F_mean(self) -> float:
        return self._mean_over_objects("F", "mean")

    @property
    def JF_mean(self) -> float:
        return (self.J_mean + self.F_mean) / 2.0

    @property
    def J_recall(self) -> float:
        return self._mean_over_objects("J", "recall")

    @property
    def J_decay(self) -> float:
        return self._mean_over_objects("J", "decay")

    @property
    def F_recall(self) -> float:
        return self._mean_over_objects("F", "recall")

    @property
    def F_decay(self) -> float:
        return self._mean_over_objects("F", "decay")

    def to_pandas(self) -> pd.DataFrame:
        """One row per (frame, object): name, sequence, frame, object_id, J, F, JF."""
        import pandas as pd

        frames = np.repeat(np.asarray(self.frames, dtype=np.int64), len(self.object_ids))
        objects = np.tile(np.asarray(self.object_ids, dtype=np.int64), len(self.frames))
        j, f = self.J.reshape(-1), self.F.reshape(-1)
        return pd.DataFrame(
            {
                "name": self.name,
                "sequence": self.sequence,
                "frame": frames,
                "object_id": objects,
                "J": j,
                "F": f,
                "JF": (j + f) / 2.0,
            }
        )

    def objects_to_pandas(self) -> pd.DataFrame:
        """One row per object with its DAVIS statistics."""
        import pandas as pd

        return pd.DataFrame([{"name": self.name, "sequence": self.sequence, **_object_row(o)} for o in self.per_object])

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sequence": self.sequence,
            **_aggregate_row(self),
            "frames_scored": len(self.frames),
            "objects": {str(o.object_id): _object_row(o) for o in self.per_object},
            "missing_objects": list(self.missing_objects),
            "extra_objects": list(self.extra_objects),
        }


@dataclass(frozen=True)
class DatasetAccuracy:
    """Accuracy over many sequences (a DAVIS root): statistics per object, then the mean over all objects."""

    name: str
    sequences: tuple[AccuracyResult, ...]

    def _mean(self, attribute: str) -> float:
        values = [
            getattr(getattr(o, attribute[0]), attribute[2:]) for s in self.sequences for o in s.per_object
        ]
        return float(np.mean(values)) if values else math.nan

    @property
    def J_mean(self) -> float:
        return self._mean("J_mean")

    @property
    def F_mean(self) -> float:
        return self._mean("F_mean")

    @property
    def JF_mean(self) -> float:
        return (self.J_mean + self.F_mean) / 2.0

    @property
    def J_recall(self) -> float:
        return self._mean("J_recall")

    @property
    def J_decay(self) -> float:
        return self._mean("J_decay")

    @property
    def F_recall(self) -> float:
        return self._mean("F_recall")

    @property
    def F_decay(self) -> float:
        return self._mean("F_decay")

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.concat([s.to_pandas() for s in self.sequences], ignore_index=True)

    def objects_to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.concat([s.objects_to_pandas() for s in self.sequences], ignore_index=True)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **_aggregate_row(self),
            "sequences": {s.sequence: s.summary() for s in self.sequences},
        }


def _object_row(o: ObjectAccuracy) -> dict[str, Any]:
    return {
        "object_id": o.object_id,
        "frames": o.frames,
        "predicted": o.predicted,
        "J_mean": _float(o.J.mean),
        "J_recall": _float(o.J.recall),
        "J_decay": _float(o.J.decay),
        "F_mean": _float(o.F.mean),
        "F_recall": _float(o.F.recall),
        "F_decay": _float(o.F.decay),
        "JF_mean": _float(o.JF),
    }


def _aggregate_row(r: AccuracyResult | DatasetAccuracy) -> dict[str, float | None]:
    return {
        "J_mean": _float(r.J_mean),
        "F_mean": _float(r.F_mean),
        "JF_mean": _float(r.JF_mean),
        "J_recall": _float(r.J_recall),
        "J_decay": _float(r.J_decay),
        "F_recall": _float(r.F_recall),
        "F_decay": _float(r.F_decay),
    }


# ---------------------------------------------------------------------------------------------------------------
# Temporal stability (no ground truth needed)


@dataclass(frozen=True)
class ObjectStability:
    """Flicker metrics of one object over a sequence; see evaluation/README.md for the formulas."""

    object_id: int
    frames_present: int
    consecutive_iou: float  # higher is steadier
    flow_consistency: float | None  # higher; None when no frames were given for optical flow
    area_volatility: float  # lower
    centroid_jitter_px: float  # lower
    presence_toggles: int  # lower
    boundary_flip_rate: float  # lower
    J_decay: float | None = None  # lower; only with ground truth


@dataclass(frozen=True)
class TemporalResult:
    """Per-object flicker summary plus per-frame timelines. Row i of a pair metric (consecutive_iou,
    flow_consistency, boundary_flip) compares frame i-1 with frame i of the sequence, so row 0 is NaN; 'consecutive'
    means consecutive in the sequence (a strided run compares frames `stride` apart)."""

    name: str
    frames: tuple[int, ...]
    object_ids: tuple[int, ...]
    objects: tuple[ObjectStability, ...]
    area: np.ndarray  # (N, K) pixels
    centroid: np.ndarray  # (N, K, 2) x, y in pixels; NaN where absent
    consecutive_iou: np.ndarray  # (N, K)
    flow_consistency: np.ndarray | None  # (N, K) or None without frames
    boundary_flip: np.ndarray  # (N, K)

    def _mean(self, attribute: str) -> float | None:
        values = [getattr(o, attribute) for o in self.objects]
        values = [v for v in values if v is not None and not math.isnan(v)]
        return float(np.mean(values)) if values else None

    @property
    def mean_consecutive_iou(self) -> float | None:
        return self._mean("consecutive_iou")

    @property
    def mean_flow_consistency(self) -> float | None:
        return self._mean("flow_consistency")

    @property
    def mean_area_volatility(self) -> float | None:
        return self._mean("area_volatility")

    @property
    def mean_centroid_jitter_px(self) -> float | None:
        return self._mean("centroid_jitter_px")

    @property
    def total_presence_toggles(self) -> int:
        return int(sum(o.presence_toggles for o in self.objects))

    @property
    def mean_boundary_flip_rate(self) -> float | None:
        return self._mean("boundary_flip_rate")

    def to_pandas(self) -> pd.DataFrame:
        """One row per (frame, object): area, centroid and the pair metrics against the previous frame."""
        import pandas as pd

        n, k = len(self.frames), len(self.object_ids)
        table = {
            "name": self.name,
            "frame": np.repeat(np.asarray(self.frames, dtype=np.int64), k),
            "object_id": np.tile(np.asarray(self.object_ids, dtype=np.int64), n),
            "area_px": self.area.reshape(-1),
            "centroid_x": self.centroid[..., 0].reshape(-1),
            "centroid_y": self.centroid[..., 1].reshape(-1),
            "consecutive_iou": self.consecutive_iou.reshape(-1),
            "flow_consistency": (
                self.flow_consistency.reshape(-1) if self.flow_consistency is not None else np.full(n * k, np.nan)
            ),
            "boundary_flip": self.boundary_flip.reshape(-1),
        }
        return pd.DataFrame(table)

    def objects_to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([{"name": self.name, **_stability_row(o)} for o in self.objects])

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "frames": len(self.frames),
            "consecutive_iou": _float(self.mean_consecutive_iou),
            "flow_consistency": _float(self.mean_flow_consistency),
            "area_volatility": _float(self.mean_area_volatility),
            "centroid_jitter_px": _float(self.mean_centroid_jitter_px),
            "presence_toggles": self.total_presence_toggles,
            "boundary_flip_rate": _float(self.mean_boundary_flip_rate),
            "objects": {str(o.object_id): _stability_row(o) for o in self.objects},
        }


def _stability_row(o: ObjectStability) -> dict[str, Any]:
    return {
        "object_id": o.object_id,
        "frames_present": o.frames_present,
        "consecutive_iou": _float(o.consecutive_iou),
        "flow_consistency": _float(o.flow_consistency),
        "area_volatility": _float(o.area_volatility),
        "centroid_jitter_px": _float(o.centroid_jitter_px),
        "presence_toggles": o.presence_toggles,
        "boundary_flip_rate": _float(o.boundary_flip_rate),
        "J_decay": _float(o.J_decay),
    }


# ---------------------------------------------------------------------------------------------------------------
# Latency and memory


@dataclass(frozen=True)
class LatencySummary:
    frames: int  # frames summarised (warm-up excluded)
    warmup_frames: int
    p50_ms: float  # percentiles over tracking frames (prompt frames excluded)
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    fps: float  # summarised frames / their summed latency (prompt frames included)
    prompt_frames: int
    prompt_ms: float  # mean latency of the frames that carried prompts (NaN when none)
    peak_memory_mb: float
    memory_kind: str
    device: str


@dataclass(frozen=True)
class ProfileResult:
    """Per-frame latency and memory of one run."""

    name: str
    device: str  # e.g. "cpu" or "cuda:0 (NVIDIA H200)"
    memory_kind: str  # "cuda_allocated" (torch.cuda.memory_allocated) or "process_rss" (psutil resident set)
    frames: np.ndarray  # (N,) frame numbers in processing order
    latency_ms: np.ndarray  # (N,)
    memory_mb: np.ndarray  # (N,)
    is_prompt: np.ndarray  # (N,) bool: the frame carried prompts (its time includes encoding them)
    is_warmup: np.ndarray  # (N,) bool: excluded from the summary
    peak_memory_mb: float
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # other per-frame columns (e.g. decode_ms)

    def summary(self) -> LatencySummary:
        counted = ~self.is_warmup
        tracking = self.latency_ms[counted & ~self.is_prompt]
        prompts = self.latency_ms[counted & self.is_prompt]
        all_counted = self.latency_ms[counted]

        def pct(q: float) -> float:
            return float(np.percentile(tracking, q)) if tracking.size else math.nan

        total_s = float(all_counted.sum()) / 1000.0
        return LatencySummary(
            frames=int(counted.sum()),
            warmup_frames=int(self.is_warmup.sum()),
            p50_ms=pct(50),
            p95_ms=pct(95),
            p99_ms=pct(99),
            max_ms=float(tracking.max()) if tracking.size else math.nan,
            mean_ms=float(tracking.mean()) if tracking.size else math.nan,
            fps=all_counted.size / total_s if total_s > 0 else math.nan,
            prompt_frames=int(prompts.size),
            prompt_ms=float(prompts.mean()) if prompts.size else math.nan,
            peak_memory_mb=float(self.peak_memory_mb),
            memory_kind=self.memory_kind,
            device=self.device,
        )

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        table: dict[str, Any] = {
            "name": self.name,
            "frame": self.frames,
            "latency_ms": self.latency_ms,
            "memory_mb": self.memory_mb,
            "is_prompt": self.is_prompt,
            "is_warmup": self.is_warmup,
        }
        table.update(self.extra)
        return pd.DataFrame(table)


def latency_summary_dict(summary: LatencySummary) -> dict[str, Any]:
    return {k: (_float(v) if isinstance(v, float) else v) for k, v in summary.__dict__.items()}


# ---------------------------------------------------------------------------------------------------------------
# Agreement between two predictions (no ground truth: this is not accuracy)


@dataclass(frozen=True)
class AgreementResult:
    """Where two predictions of the same clip agree: per-object IoU between them and the share of pixels whose
    label differs, per frame."""

    name_a: str
    name_b: str
    frames: tuple[int, ...]
    object_ids: tuple[int, ...]  # union of both predictions' objects
    iou: np.ndarray  # (N, K) IoU of A's and B's mask of each object (1 when both empty)
    differing_pixels: np.ndarray  # (N,) pixels whose label differs (void in either excluded)
    differing_share: np.ndarray  # (N,) differing_pixels / scored pixels

    @property
    def mean_iou(self) -> float:
        """Mean over objects of each object's mean IoU between the two predictions (all-void frames skipped)."""
        return _nanmean(np.array([_nanmean(self.iou[:, k]) for k in range(self.iou.shape[1])]))

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        n, k = len(self.frames), len(self.object_ids)
        return pd.DataFrame(
            {
                "frame": np.repeat(np.asarray(self.frames, dtype=np.int64), k),
                "object_id": np.tile(np.asarray(self.object_ids, dtype=np.int64), n),
                "iou": self.iou.reshape(-1),
                "differing_share": np.repeat(self.differing_share, k),
            }
        )

    def summary(self) -> dict[str, Any]:
        per_object = {str(o): _float(_nanmean(self.iou[:, k])) for k, o in enumerate(self.object_ids)}
        return {
            "models": [self.name_a, self.name_b],
            "mean_iou": _float(self.mean_iou),
            "mean_differing_share": _float(_nanmean(self.differing_share)),
            "objects": per_object,
            "note": "agreement between the two models, not accuracy",
        }
