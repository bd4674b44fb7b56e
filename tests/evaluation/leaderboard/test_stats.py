"""Bootstrap intervals by hand: equal values collapse the interval onto the mean, fewer than two give no interval,
the paired difference resamples sequences as pairs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluation.leaderboard.stats import bootstrap_mean, paired_difference


def test_equal_values_collapse_the_interval_onto_the_mean() -> None:
    interval = bootstrap_mean(np.full(7, 0.25))
    assert (interval.mean, interval.low, interval.high, interval.n) == (0.25, 0.25, 0.25, 7)
    assert not interval.crosses_zero


def test_a_constant_paired_difference_is_that_difference_exactly() -> None:
    base = np.array([0.31, 0.52, 0.77, 0.18])
    interval = paired_difference(base + 0.125, base)
    assert interval.mean == pytest.approx(0.125) and interval.n == 4
    assert interval.low == pytest.approx(0.125) and interval.high == pytest.approx(0.125)


def test_fewer_than_two_values_give_no_interval_and_nan_is_skipped() -> None:
    one = bootstrap_mean(np.array([0.4, math.nan]))
    assert one.mean == 0.4 and one.n == 1 and math.isnan(one.low) and math.isnan(one.high)
    assert bootstrap_mean(np.array([])).n == 0


def test_the_interval_lies_within_the_values_and_holds_the_mean() -> None:
    values = np.array([0.1, 0.2, 0.3, 0.4])
    interval = bootstrap_mean(values)
    assert interval.mean == pytest.approx(0.25)
    assert 0.1 <= interval.low < interval.mean < interval.high <= 0.4
