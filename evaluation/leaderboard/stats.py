"""Bootstrap intervals over sequences: how sure a mean over a few dozen clips is, and whether two models really
differ. Resampling is over sequences (the unit a golden dataset adds), with a fixed seed so a report is reproducible."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RESAMPLES = 10_000
CONFIDENCE = 0.95
SEED = 0


@dataclass(frozen=True)
class Interval:
    """A mean and its percentile bootstrap interval (NaN bounds with fewer than two values)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def crosses_zero(self) -> bool:
        return not (self.low > 0 or self.high < 0)


def bootstrap_mean(values: np.ndarray, confidence: float = CONFIDENCE, resamples: int = RESAMPLES) -> Interval:
    """The mean of the finite values and its percentile bootstrap interval (resampling the values with
    replacement)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(finite.mean())
    if finite.size == 1:
        return Interval(mean, math.nan, math.nan, 1)
    rng = np.random.default_rng(SEED)
    picks = rng.integers(0, finite.size, size=(resamples, finite.size))
    means = finite[picks].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return Interval(mean, float(low), float(high), int(finite.size))


def paired_difference(a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """Mean of a - b over the sequences both models have a finite value for, with its bootstrap interval (the
    sequences are resampled as pairs, so a hard clip counts against both models at once)."""
    first, second = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = np.isfinite(first) & np.isfinite(second)
    return bootstrap_mean(first[both] - second[both], confidence)
