"""Agreement between two predictions of one clip (no ground truth: this is not accuracy)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from evaluation.results.numbers import json_float

if TYPE_CHECKING:  # pandas is imported only when a table is asked for
    import pandas as pd


def _nanmean(values: np.ndarray) -> float:
    """Mean of the finite values; NaN (quietly) when there are none."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


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
        per_object = {str(o): json_float(_nanmean(self.iou[:, k])) for k, o in enumerate(self.object_ids)}
        return {
            "models": [self.name_a, self.name_b],
            "mean_iou": json_float(self.mean_iou),
            "mean_differing_share": json_float(_nanmean(self.differing_share)),
            "objects": per_object,
            "note": "agreement between the two models, not accuracy",
        }
