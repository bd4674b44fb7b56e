"""The verdict: the sentences a stakeholder reads first, computed from the leaderboard's numbers only.

Each model after the first (the baseline) is a challenger. Its paired bootstrap interval of J&F minus the baseline's
decides the accuracy sentence (above 0: more accurate, below 0: less accurate, crossing 0: no significant difference,
fewer than two shared sequences: no interval). Speed and memory follow as ratios. Flicker is only ever reported with
J&F beside it: steady masks can be steadily wrong (random-weight masks on a juggle clip score consecutive IoU 0.945).
Id metrics and non-players appear only where they were measured; random or synthetic-only weights are named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from evaluation.leaderboard.stats import Interval
from evaluation.leaderboard.table import Leaderboard, ModelSummary

MORE, LESS, SAME, UNKNOWN = "more accurate", "less accurate", "no significant difference", "not comparable"
SAME_SPEED = 0.05  # speed ratios within 5% of 1 read "about as fast"
STEADY_MARGIN = 0.005  # consecutive IoU / area volatility differences below this count as equal
RANDOM_STEADY_IOU = 0.945  # measured: consecutive IoU of random-weight masks on the juggle clip
MEMORY_NAMES = {"cuda_allocated": "VRAM", "process_rss": "RSS"}


@dataclass(frozen=True)
class ChallengerVerdict:
    """What the numbers say about one challenger against the baseline: the accuracy outcome (one of MORE, LESS,
    SAME, UNKNOWN) and its sentences, accuracy first, then speed and memory, flicker, ids, weights."""

    model: str
    accuracy: str
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """The headline sentence, the sentences about the whole comparison, and one block per challenger."""

    baseline: str
    headline: str
    details: tuple[str, ...]
    challengers: tuple[ChallengerVerdict, ...]

    def sentences(self) -> list[str]:
        """Every sentence, headline first."""
        return [self.headline, *self.details, *(s for c in self.challengers for s in c.sentences)]


def verdict(board: Leaderboard) -> Verdict:
    """The verdict on `board`: the first model asked for is the baseline, every other model a challenger."""
    summaries = {summary.model: summary for summary in board.models}
    base = summaries[board.baseline]
    challengers = tuple(
        _challenger(board, summaries[name], base) for name in board.manifest.model_names if name != base.model
    )
    return Verdict(base.model, _headline(board, base, challengers), _details(board, base), challengers)


# ---------------------------------------------------------------------------------------------------------------
# number formats


def finite(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def signed(value: float) -> str:
    """+0.120, -0.045; a value that rounds to zero is +0.000 (never -0.000)."""
    return f"{value:+.3f}" if round(value, 3) != 0 else "+0.000"


def ratio(value: float) -> str:
    return f"{value:.2g}" if value < 10 else f"{value:.0f}"


def ms(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def memory_kind(kind: str, device: str) -> str:
    """VRAM or RSS as the profile recorded it; by the device when the profile did not say."""
    if kind in MEMORY_NAMES:
        return MEMORY_NAMES[kind]
    return "VRAM" if device.startswith("cuda") else "RSS"


def device_of(board: Leaderboard, model: str) -> str:
    """The device the model's runs recorded, else the manifest's."""
    return next((row.device for row in board.rows_of(model) if row.device), board.manifest.device or "")


def jf_pair(model: ModelSummary, base: ModelSummary) -> str:
    """'J&F 0.812 vs 0.692', or why there is none."""
    if finite(model.JF.mean) and finite(base.JF.mean):
        return f"J&F {model.JF.mean:.3f} vs {base.JF.mean:.3f}"
    return "J&F not measured"


# ---------------------------------------------------------------------------------------------------------------
# one challenger


def accuracy_outcome(difference: Interval | None) -> str:
    """MORE / LESS / SAME from the paired interval; UNKNOWN with fewer than two shared sequences."""
    if difference is None or difference.n < 2 or not (finite(difference.low) and finite(difference.high)):
        return UNKNOWN
    if difference.low > 0:
        return MORE
    if difference.high < 0:
        return LESS
    return SAME


def accuracy_sentence(model: ModelSummary, base: ModelSummary) -> str:
    """The sentence the paired interval of J&F (model minus baseline) decides."""
    d, m, b = model.JF_vs_baseline, model.model, base.model
    outcome = accuracy_outcome(d)
    if outcome == UNKNOWN:
        if model.sequences == 0:
            return f"{m} cannot be compared with {b}: none of its pairs finished (see the failed pairs)."
        if d is not None and d.n == 1:
            return (
                f"The accuracy of {m} and {b} cannot be told apart: they share only 1 scored sequence "
                f"(J&F {signed(d.mean)} there), and the 95% interval cannot be computed from fewer than 2."
            )
        return (
            f"The accuracy of {m} and {b} cannot be compared: no sequence has J&F for both (no ground truth, "
            "or failed runs), so the 95% interval cannot be computed."
        )
    means = f"mean J&F {model.JF.mean:.3f} vs {base.JF.mean:.3f}"
    if outcome == SAME:
        return (
            f"No significant difference in accuracy between {m} and {b}: J&F {signed(d.mean)}, 95% interval "
            f"{signed(d.low)} to {signed(d.high)}, which crosses 0, over {d.n} sequences ({means})."
        )
    numbers = f"J&F {signed(d.mean)} (95% interval {signed(d.low)} to {signed(d.high)})"
    return f"{m} is {outcome} than {b}: {numbers} over {d.n} sequences ({means})."


def speed_sentence(model: ModelSummary, base: ModelSummary, devices: tuple[str, str]) -> str:
    """Speed (p50 latency ratio) and peak memory ratio to the baseline."""
    m, b = model.model, base.model
    if not (finite(model.latency_p50_ms) and finite(base.latency_p50_ms)) or model.latency_p50_ms <= 0:
        speed = f"The speed of {m} and {b} cannot be compared (a frames.csv is missing)"
    else:
        faster = base.latency_p50_ms / model.latency_p50_ms
        timing = f"(p50 {ms(model.latency_p50_ms)} ms vs {ms(base.latency_p50_ms)} ms per frame)"
        if abs(faster - 1.0) <= SAME_SPEED:
            speed = f"{m} runs about as fast as {b} {timing}"
        elif faster > 1.0:
            speed = f"{m} runs {ratio(faster)}x as fast as {b} {timing}"
        else:
            speed = f"{m} is {ratio(1.0 / faster)}x slower than {b} {timing}"
    kinds = (memory_kind(model.memory_kind, devices[0]), memory_kind(base.memory_kind, devices[1]))
    if not (finite(model.peak_memory_mb) and finite(base.peak_memory_mb)) or base.peak_memory_mb <= 0:
        memory = "peak memory was not recorded for both"
    elif kinds[0] != kinds[1]:
        memory = f"peak memory cannot be compared ({m} measured {kinds[0]}, {b} {kinds[1]})"
    else:
        share = model.peak_memory_mb / base.peak_memory_mb
        memory = (
            f"peak memory {ratio(share)}x ({model.peak_memory_mb:,.0f} vs {base.peak_memory_mb:,.0f} MiB {kinds[0]})"
        )
    where = "" if devices[0] == devices[1] else f" Measured on different devices ({devices[0]} vs {devices[1]})."
    return f"{speed}; {memory}.{where}"


def steadiness(model: ModelSummary, base: ModelSummary) -> int | None:
    """+1 steadier than the baseline, -1 less steady, 0 about the same, None without flicker figures: consecutive IoU
    (higher is steadier) and area volatility (lower is steadier) vote; a clear vote wins, a split is 0."""
    votes = []
    if finite(model.consecutive_iou) and finite(base.consecutive_iou):
        votes.append(_vote(model.consecutive_iou - base.consecutive_iou))
    if finite(model.area_volatility) and finite(base.area_volatility):
        votes.append(_vote(base.area_volatility - model.area_volatility))
    if not votes:
        return None
    if any(v > 0 for v in votes) and not any(v < 0 for v in votes):
        return 1
    if any(v < 0 for v in votes) and not any(v > 0 for v in votes):
        return -1
    return 0


def _vote(gain: float) -> int:
    return 0 if abs(gain) < STEADY_MARGIN else (1 if gain > 0 else -1)


def flicker_figures(model: ModelSummary, base: ModelSummary) -> str:
    parts = []
    if finite(model.consecutive_iou) and finite(base.consecutive_iou):
        parts.append(f"consecutive IoU {model.consecutive_iou:.3f} vs {base.consecutive_iou:.3f}")
    if finite(model.area_volatility) and finite(base.area_volatility):
        parts.append(f"area volatility {model.area_volatility:.3f} vs {base.area_volatility:.3f}")
    return ", ".join(parts)


def stability_sentence(model: ModelSummary, base: ModelSummary, outcome: str) -> str | None:
    """Flicker, always with J&F beside it: steadier masks are only better when they are right."""
    steady = steadiness(model, base)
    if steady is None:
        return None
    m, b = model.model, base.model
    figures, jf = flicker_figures(model, base), jf_pair(model, base)
    if jf == "J&F not measured":
        change = {1: "less", -1: "more", 0: "about as much"}[steady]
        return (
            f"{m}'s masks change {change} from frame to frame than {b}'s ({figures}), but J&F is not measured "
            "(no ground truth), so this says nothing about whether either is right."
        )
    if steady > 0 and outcome == LESS:
        return (
            f"{m}'s masks flicker less than {b}'s ({figures}) but are less accurate ({jf}): they are steadily wrong "
            f"(random-weight masks on a juggle clip score consecutive IoU {RANDOM_STEADY_IOU})."
        )
    if steady > 0 and outcome == MORE:
        return f"{m}'s masks are both more accurate ({jf}) and steadier ({figures}) than {b}'s."
    if steady > 0:
        return (
            f"{m}'s masks flicker less than {b}'s ({figures}) at an accuracy not shown to differ ({jf}); steady "
            "masks are only better when they are right."
        )
    if steady < 0:
        return f"{m}'s masks flicker more than {b}'s ({figures}), with {jf}."
    return f"{m}'s and {b}'s masks flicker about as much ({figures}), with {jf}."


def identity_sentence(model: ModelSummary, base: ModelSummary) -> str | None:
    """IDF1 and id switches, only where measured (models that pick their own ids)."""

    def figures(summary: ModelSummary) -> str:
        parts = [f"IDF1 {summary.idf1:.3f}"] if finite(summary.idf1) else []
        if finite(summary.id_switches):
            parts.append(f"{summary.id_switches:.0f} id switches")
        return " and ".join(parts)

    own, theirs = figures(model), figures(base)
    if not own:
        return None
    return f"Identities: {model.model} has {own}" + (f" ({base.model}: {theirs})." if theirs else ".")


def non_player_sentence(summary: ModelSummary) -> str | None:
    """Players kept and non-players (referees, staff, crowd) kept, only where the dataset gave roles."""
    if not finite(summary.non_players_kept):
        return None
    players = (
        f" and {summary.players_kept:.0f} of {summary.players:.0f} players"
        if finite(summary.players_kept) and finite(summary.players)
        else ""
    )
    return (
        f"{summary.model} kept {summary.non_players_kept:.0f} non-players (referees, staff or crowd) as objects"
        f"{players}."
    )


def weights_sentence(summary: ModelSummary) -> str | None:
    """RANDOM WEIGHTS or synthetic-only training, as the weights say."""
    if summary.random_weights:
        return (
            f"RANDOM WEIGHTS: {summary.model}'s masks come from random weights, so its accuracy and flicker figures "
            "mean nothing (its speed and memory are real)."
        )
    if "synthetic" in (summary.weights or "").lower():
        return f"{summary.model} was trained on synthetic footage only: it never saw real video."
    return None


def _challenger(board: Leaderboard, model: ModelSummary, base: ModelSummary) -> ChallengerVerdict:
    outcome = accuracy_outcome(model.JF_vs_baseline)
    devices = (device_of(board, model.model), device_of(board, base.model))
    sentences = [
        accuracy_sentence(model, base),
        speed_sentence(model, base, devices),
        stability_sentence(model, base, outcome),
        identity_sentence(model, base),
        non_player_sentence(model),
        weights_sentence(model),
    ]
    return ChallengerVerdict(model.model, outcome, tuple(s for s in sentences if s))


# ---------------------------------------------------------------------------------------------------------------
# the whole comparison


def _clause(challenger: ChallengerVerdict, model: ModelSummary) -> str:
    d = model.JF_vs_baseline
    if challenger.accuracy in (MORE, LESS):
        return (
            f"{challenger.model} is {challenger.accuracy} (J&F {signed(d.mean)}, 95% interval {signed(d.low)} to "
            f"{signed(d.high)})"
        )
    if challenger.accuracy == SAME:
        return f"{challenger.model} shows no significant difference (J&F {signed(d.mean)}, interval crosses 0)"
    if model.sequences == 0:
        return f"{challenger.model} cannot be compared (none of its pairs finished: see the failed pairs)"
    return f"{challenger.model} cannot be compared (fewer than 2 shared scored sequences)"


def _headline(board: Leaderboard, base: ModelSummary, challengers: tuple[ChallengerVerdict, ...]) -> str:
    summaries = {summary.model: summary for summary in board.models}
    if not challengers:
        jf = f"J&F {base.JF.mean:.3f}" if finite(base.JF.mean) else "J&F not measured"
        line = f"Only {base.model} was evaluated ({jf} over {base.sequences} sequences): there is nothing to compare."
    elif len(challengers) == 1:
        line = challengers[0].sentences[0]
    else:
        line = f"Against {base.model}: " + "; ".join(_clause(c, summaries[c.model]) for c in challengers) + "."
    random = [summary.model for summary in board.models if summary.random_weights]
    if random:
        line += f" RANDOM WEIGHTS: the figures of {', '.join(random)} mean nothing."
    return line


def _details(board: Leaderboard, base: ModelSummary) -> tuple[str, ...]:
    """The baseline's own figures, weights of every model, failed pairs, and what a missing ground truth means."""
    device = device_of(board, base.model)
    jf = (
        f"J&F {base.JF.mean:.3f}"
        + (f" (95% interval {base.JF.low:.3f} to {base.JF.high:.3f})" if base.JF.n > 1 else "")
        if finite(base.JF.mean)
        else "J&F not measured"
    )
    speed = f", p50 {ms(base.latency_p50_ms)} ms per frame" if finite(base.latency_p50_ms) else ""
    memory = (
        f", peak memory {base.peak_memory_mb:,.0f} MiB {memory_kind(base.memory_kind, device)}"
        if finite(base.peak_memory_mb)
        else ""
    )
    details = [f"Baseline {base.model}: {jf} over {base.sequences} sequences{speed}{memory} on {device or '?'}."]
    details += [s for s in (weights_sentence(base),) if s]  # each challenger's block names its own weights
    total = len(board.manifest.sequences)
    details += [
        f"{summary.model} failed on {summary.failed} of {total} sequences; its figures cover the other "
        f"{summary.sequences}."
        for summary in board.models
        if summary.failed
    ]
    if board.rows and not any(finite(row.JF) for row in board.rows):
        details.append(
            "No sequence has ground truth, so J&F is not measured: the flicker figures say how steady the masks are, "
            "not whether they are right."
        )
    return tuple(details)
