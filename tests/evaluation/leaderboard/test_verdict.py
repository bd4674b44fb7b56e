"""The verdict from hand-worked numbers: the paired interval decides the accuracy sentence, the baseline is the first
model, speed and memory are ratios, flicker never appears without J&F, ids and non-players only where measured,
random and synthetic-only weights are named."""

from __future__ import annotations

import math

import pytest

from evaluation.leaderboard.manifest import ModelEntry
from evaluation.leaderboard.rows import PairFailure
from evaluation.leaderboard.verdict import LESS, MORE, SAME, UNKNOWN, accuracy_outcome, steadiness, verdict
from tests.evaluation.leaderboard.builders import board_of

BASE, NEW = "sam2.1-tiny", "sam2.1-large"


def test_a_model_better_on_every_sequence_is_more_accurate() -> None:
    result = verdict(board_of({BASE: [0.5, 0.6, 0.7], NEW: [0.6, 0.8, 1.0]}))  # differences 0.1, 0.2, 0.3
    assert result.baseline == BASE
    assert result.challengers[0].accuracy == MORE
    assert result.headline.startswith(f"{NEW} is more accurate than {BASE}: J&F +0.200 (95% interval +0.")
    assert "over 3 sequences" in result.headline and "mean J&F 0.800 vs 0.600" in result.headline


def test_equal_models_show_no_significant_difference() -> None:
    result = verdict(board_of({BASE: [0.5, 0.6, 0.7], NEW: [0.5, 0.6, 0.7]}))
    assert result.challengers[0].accuracy == SAME
    assert result.headline.startswith(f"No significant difference in accuracy between {NEW} and {BASE}")
    assert ": J&F +0.000, 95% interval +0.000 to +0.000, which crosses 0, over 3 sequences" in result.headline


def test_a_mixed_record_crosses_zero() -> None:
    result = verdict(board_of({BASE: [0.5, 0.6, 0.7, 0.5], NEW: [0.7, 0.4, 0.8, 0.4]}))  # +0.2 -0.2 +0.1 -0.1
    assert result.challengers[0].accuracy == SAME
    assert "crosses 0" in result.headline


def test_swapping_the_order_swaps_the_subject_and_the_outcome() -> None:
    first = verdict(board_of({BASE: [0.5, 0.6, 0.7], NEW: [0.6, 0.8, 1.0]}))
    swapped = verdict(board_of({NEW: [0.6, 0.8, 1.0], BASE: [0.5, 0.6, 0.7]}))
    assert swapped.baseline == NEW and swapped.challengers[0].model == BASE
    assert swapped.challengers[0].accuracy == LESS
    assert swapped.headline.startswith(f"{BASE} is less accurate than {NEW}: J&F -0.200")
    assert swapped.headline != first.headline


def test_changing_a_number_changes_the_verdict() -> None:
    before = verdict(board_of({BASE: [0.5, 0.6, 0.7], NEW: [0.6, 0.8, 1.0]}))
    after = verdict(board_of({BASE: [0.5, 0.6, 0.7], NEW: [0.6, 0.8, 0.9]}))
    assert before.headline != after.headline and "+0.167" in after.headline


def test_fewer_than_two_shared_sequences_cannot_give_an_interval() -> None:
    result = verdict(board_of({BASE: [0.5], NEW: [0.9]}))
    assert result.challengers[0].accuracy == UNKNOWN
    assert "only 1 scored sequence" in result.headline and "cannot be computed" in result.headline
    nothing = verdict(board_of({BASE: [math.nan, math.nan], NEW: [math.nan, math.nan]}))
    assert nothing.challengers[0].accuracy == UNKNOWN and "cannot be computed" in nothing.headline


def test_accuracy_outcome_reads_only_the_interval() -> None:
    assert accuracy_outcome(None) == UNKNOWN
    board = board_of({BASE: [0.5, 0.5], NEW: [0.4, 0.45]})
    assert accuracy_outcome(board.models[1].JF_vs_baseline) == LESS


def test_speed_and_memory_are_ratios_to_the_baseline() -> None:
    figures = {
        BASE: {"latency_p50_ms": 95.0, "peak_memory_mb": 1200.0},
        NEW: {"latency_p50_ms": 45.0, "peak_memory_mb": 600.0},
    }
    sentences = verdict(board_of({BASE: [0.5, 0.6], NEW: [0.5, 0.6]}, figures)).challengers[0].sentences
    assert (
        f"{NEW} runs 2.1x as fast as {BASE} (p50 45 ms vs 95 ms per frame); peak memory 0.5x (600 vs 1,200 MiB RSS)."
        in sentences
    )
    slower = verdict(board_of({NEW: [0.5, 0.6], BASE: [0.5, 0.6]}, figures)).challengers[0].sentences
    assert any(s.startswith(f"{BASE} is 2.1x slower than {NEW}") and "peak memory 2x" in s for s in slower)


def test_different_memory_kinds_are_not_compared() -> None:
    figures = {NEW: {"memory_kind": "cuda_allocated", "device": "cuda:0"}}
    sentences = verdict(board_of({BASE: [0.5, 0.6], NEW: [0.5, 0.6]}, figures)).challengers[0].sentences
    speed = next(s for s in sentences if "peak memory" in s)
    assert f"peak memory cannot be compared ({NEW} measured VRAM, {BASE} RSS)" in speed
    assert "different devices (cuda:0 vs cpu)" in speed


STEADY_WRONG = {"consecutive_iou": 0.945, "area_volatility": 0.0}


def _stability_sentences(result) -> list[str]:
    words = ("steadi", "steady", "flicker", "consecutive IoU", "area volatility")
    return [s for s in result.sentences() if any(w in s for w in words)]


def test_a_steadier_but_less_accurate_model_is_steadily_wrong_never_just_steadier() -> None:
    result = verdict(board_of({BASE: [0.7, 0.8, 0.75], NEW: [0.2, 0.3, 0.25]}, {NEW: STEADY_WRONG}))
    base, steady = board_of({BASE: [0.7], NEW: [0.2]}, {NEW: STEADY_WRONG}).models
    assert steadiness(steady, base) == 1
    stability = _stability_sentences(result)
    assert stability, "the flicker figures are reported"
    assert all("J&F" in s for s in stability)
    assert any("steadily wrong" in s and "J&F 0.250 vs 0.750" in s and "0.945" in s for s in stability)


@pytest.mark.parametrize("challenger", [[0.9, 0.95, 0.92], [0.7, 0.8, 0.75], [0.2, 0.3, 0.25]])
def test_flicker_always_comes_with_jf(challenger: list[float]) -> None:
    result = verdict(board_of({BASE: [0.7, 0.8, 0.75], NEW: challenger}, {NEW: STEADY_WRONG}))
    stability = _stability_sentences(result)
    assert stability and all("J&F" in s for s in stability)


def test_without_ground_truth_flicker_says_nothing_about_correctness() -> None:
    nan = [math.nan, math.nan, math.nan]
    result = verdict(board_of({BASE: nan, NEW: nan}, {NEW: STEADY_WRONG}))
    steady = next(s for s in result.challengers[0].sentences if "frame to frame" in s)
    assert "J&F is not measured" in steady and "says nothing about whether either is right" in steady
    assert any("No sequence has ground truth" in s for s in result.details)


def test_ids_and_non_players_appear_only_when_measured() -> None:
    plain = verdict(board_of({BASE: [0.5, 0.6], NEW: [0.5, 0.6]}))
    assert not any("IDF1" in s or "id switch" in s or "non-player" in s for s in plain.sentences())
    figures = {NEW: {"idf1": 0.85, "id_switches": 2.0, "non_players_kept": 1.0, "players_kept": 2.0, "players": 2.0}}
    measured = verdict(board_of({BASE: [0.5, 0.6], NEW: [0.5, 0.6]}, figures)).challengers[0].sentences
    assert f"Identities: {NEW} has IDF1 0.850 and 4 id switches." in measured
    assert f"{NEW} kept 2 non-players (referees, staff or crowd) as objects and 4 of 4 players." in measured


def test_random_weights_are_named_and_only_then() -> None:
    assert "RANDOM WEIGHTS" not in " ".join(verdict(board_of({BASE: [0.5, 0.6], NEW: [0.5, 0.6]})).sentences())
    figures = {NEW: {"random_weights": True, "weights": "random weights (a test model: its masks mean nothing)"}}
    result = verdict(board_of({BASE: [0.5, 0.6], NEW: [0.5, 0.6]}, figures))
    assert result.headline.endswith(f"RANDOM WEIGHTS: the figures of {NEW} mean nothing.")
    assert any(
        s.startswith(f"RANDOM WEIGHTS: {NEW}'s masks come from random weights") for s in result.challengers[0].sentences
    )


def test_synthetic_only_weights_are_named() -> None:
    entries = {NEW: ModelEntry(NEW, weights="trained here on synthetic footage only (never saw real video)")}
    result = verdict(board_of({BASE: [0.5, 0.6], NEW: [0.5, 0.6]}, entries=entries))
    assert f"{NEW} was trained on synthetic footage only: it never saw real video." in result.sentences()


def test_failures_and_several_challengers() -> None:
    failures = [PairFailure("third", "seq002", "the model ran out of memory.")]
    result = verdict(board_of({BASE: [0.5, 0.6, 0.7], NEW: [0.6, 0.8, 1.0], "third": [0.5, 0.6]}, failures=failures))
    assert result.headline.startswith(f"Against {BASE}: {NEW} is more accurate (J&F +0.200")
    assert "third shows no significant difference (J&F +0.000, interval crosses 0)" in result.headline
    assert "third failed on 1 of 3 sequences; its figures cover the other 2." in result.details


def test_a_single_model_has_nothing_to_compare() -> None:
    result = verdict(board_of({BASE: [0.5, 0.7]}))
    assert result.challengers == ()
    assert result.headline == f"Only {BASE} was evaluated (J&F 0.600 over 2 sequences): there is nothing to compare."


def test_a_model_whose_every_pair_failed_is_named_as_such() -> None:
    failures = [PairFailure("offline", f"seq00{i}", "the model is not available.") for i in range(2)]
    result = verdict(board_of({BASE: [0.5, 0.6], "offline": []}, failures=failures))
    assert (
        result.headline == f"offline cannot be compared with {BASE}: none of its pairs finished (see the failed pairs)."
    )
    two = verdict(board_of({BASE: [0.5, 0.6], NEW: [0.6, 0.7], "offline": []}, failures=failures))
    assert "offline cannot be compared (none of its pairs finished: see the failed pairs)" in two.headline
