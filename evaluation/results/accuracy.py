"""Accuracy against ground truth: J (region), F (boundary) and J&F per frame and object, with the DAVIS 2017
statistics (mean, recall, decay) per object, per sequence and over a dataset of sequences."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from evaluation.results.numbers import json_float

if TYPE_CHECKING:  # pandas is imported only when a table is asked for
    import pandas as pd


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
        values = [getattr(getattr(o, attribute[0]), attribute[2:]) for s in self.sequences for o in s.per_object]
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
        "J_mean": json_float(o.J.mean),
        "J_recall": json_float(o.J.recall),
        "J_decay": json_float(o.J.decay),
        "F_mean": json_float(o.F.mean),
        "F_recall": json_float(o.F.recall),
        "F_decay": json_float(o.F.decay),
        "JF_mean": json_float(o.JF),
    }


def _aggregate_row(r: AccuracyResult | DatasetAccuracy) -> dict[str, float | None]:
    return {
        "J_mean": json_float(r.J_mean),
        "F_mean": json_float(r.F_mean),
        "JF_mean": json_float(r.JF_mean),
        "J_recall": json_float(r.J_recall),
        "J_decay": json_float(r.J_decay),
        "F_recall": json_float(r.F_recall),
        "F_decay": json_float(r.F_decay),
    }


def flatten_accuracy(results: Sequence[AccuracyResult | DatasetAccuracy]) -> list[AccuracyResult]:
    """Every sequence's result, datasets unpacked, in order."""
    flat: list[AccuracyResult] = []
    for result in results:
        flat.extend(result.sequences if isinstance(result, DatasetAccuracy) else (result,))
    return flat
