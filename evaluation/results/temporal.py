"""Temporal stability without ground truth: flicker metrics per object and their per-frame timelines."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from evaluation.results.numbers import json_float

if TYPE_CHECKING:  # pandas is imported only when a table is asked for
    import pandas as pd


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
            "consecutive_iou": json_float(self.mean_consecutive_iou),
            "flow_consistency": json_float(self.mean_flow_consistency),
            "area_volatility": json_float(self.mean_area_volatility),
            "centroid_jitter_px": json_float(self.mean_centroid_jitter_px),
            "presence_toggles": self.total_presence_toggles,
            "boundary_flip_rate": json_float(self.mean_boundary_flip_rate),
            "objects": {str(o.object_id): _stability_row(o) for o in self.objects},
        }


def _stability_row(o: ObjectStability) -> dict[str, Any]:
    return {
        "object_id": o.object_id,
        "frames_present": o.frames_present,
        "consecutive_iou": json_float(o.consecutive_iou),
        "flow_consistency": json_float(o.flow_consistency),
        "area_volatility": json_float(o.area_volatility),
        "centroid_jitter_px": json_float(o.centroid_jitter_px),
        "presence_toggles": o.presence_toggles,
        "boundary_flip_rate": json_float(o.boundary_flip_rate),
        "J_decay": json_float(o.J_decay),
    }
