"""evaluation.coco_rle, the one COCO-RLE codec: against hand-worked counts and, when installed, pycocotools."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.coco_rle import RleError, counts_to_mask, decode_counts, encode_mask, iter_counts, run_lengths


def test_hand_worked_runs_and_string() -> None:
    mask = np.array([[0, 1], [1, 1], [0, 0]], dtype=bool)  # column-major: 0 1 0 | 1 1 0
    assert run_lengths(mask).tolist() == [1, 1, 1, 2, 1]
    # runs 1, 1, 1 as themselves ('1'); then 2 - 1 = 1 and 1 - 1 = 0 as differences to the run two before
    assert encode_mask(mask) == "11110"
    assert decode_counts("11110") == [1, 1, 1, 2, 1]
    assert np.array_equal(counts_to_mask(np.array([1, 1, 1, 2, 1]), 3, 2), mask)


def test_a_mask_starting_with_foreground_starts_with_a_zero_run() -> None:
    assert run_lengths(np.ones((2, 2), bool)).tolist() == [0, 4]
    assert run_lengths(np.zeros((0, 3), bool)).tolist() == []


@pytest.mark.parametrize("seed", range(5))
def test_round_trip_and_pycocotools(seed: int) -> None:
    rng = np.random.default_rng(seed)
    mask = rng.random((int(rng.integers(1, 60)), int(rng.integers(1, 60)))) < rng.random()
    text = encode_mask(mask)
    assert np.array_equal(counts_to_mask(np.array(decode_counts(text)), *mask.shape), mask)
    from pycocotools import mask as coco  # the independent reference (requirements-dev.txt)

    assert coco.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"].decode("ascii") == text


def test_errors_say_which_rule_is_broken_and_come_in_reading_order() -> None:
    with pytest.raises(RleError) as caught:
        decode_counts("6230P")
    assert (caught.value.problem, caught.value.position) == ("truncated", 5)
    with pytest.raises(RleError) as caught:
        decode_counts("62~0")
    assert (caught.value.problem, caught.value.position, caught.value.character) == ("character", 2, "~")
    counts = iter_counts("3O~")  # 3, then -1 ("O": one group, sign bit set), then a bad character
    assert next(counts) == 3 and next(counts) == -1
    with pytest.raises(RleError, match="not an RLE character"):
        next(counts)
