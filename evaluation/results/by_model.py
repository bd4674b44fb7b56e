"""Results pooled per model name, as the model comparison chart and the report's tables show them: several sequences
of one model become one accuracy (DatasetAccuracy) and one flicker summary (ModelStability)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from evaluation.results.accuracy import AccuracyResult, DatasetAccuracy, flatten_accuracy
from evaluation.results.temporal import ObjectStability, TemporalResult


@dataclass(frozen=True)
class ModelStability:
    """Flicker of one model: the mean of each metric over all its objects (sequences pooled), presence toggles summed.
    None where no object has a value (e.g. flow consistency measured without frames)."""

    consecutive_iou: float | None  # higher is steadier
    flow_consistency: float | None  # higher
    area_volatility: float | None  # lower
    centroid_jitter_px: float | None  # lower
    boundary_flip_rate: float | None  # lower
    presence_toggles: float | None  # lower; a count, kept as a float as charts plot it

    @classmethod
    def of(cls, objects: Sequence[ObjectStability]) -> ModelStability:
        def mean(attribute: str) -> float | None:
            values = _finite(getattr(o, attribute) for o in objects)
            return float(np.mean(values)) if values else None

        return cls(
            consecutive_iou=mean("consecutive_iou"),
            flow_consistency=mean("flow_consistency"),
            area_volatility=mean("area_volatility"),
            centroid_jitter_px=mean("centroid_jitter_px"),
            boundary_flip_rate=mean("boundary_flip_rate"),
            presence_toggles=float(sum(o.presence_toggles for o in objects)) if objects else None,
        )


def _finite(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and not math.isnan(float(v))]


def accuracy_by_model(
    results: Sequence[AccuracyResult | DatasetAccuracy],
) -> dict[str, AccuracyResult | DatasetAccuracy]:
    """One result per model name, as charted and tabled: several sequences of one model are pooled as a
    DatasetAccuracy (statistics per object, then the mean over all objects)."""
    grouped: dict[str, list[AccuracyResult | DatasetAccuracy]] = {}
    for result in results:
        grouped.setdefault(result.name, []).append(result)
    merged: dict[str, AccuracyResult | DatasetAccuracy] = {}
    for name, items in grouped.items():
        merged[name] = items[0] if len(items) == 1 else DatasetAccuracy(name, tuple(flatten_accuracy(items)))
    return merged


def temporal_by_model(results: Sequence[TemporalResult]) -> dict[str, ModelStability]:
    """Per model name, the mean of each flicker metric over all its objects (sequences pooled); toggles are summed."""
    grouped: dict[str, list[ObjectStability]] = {}
    for result in results:
        grouped.setdefault(result.name, []).extend(result.objects)
    return {name: ModelStability.of(objects) for name, objects in grouped.items()}
