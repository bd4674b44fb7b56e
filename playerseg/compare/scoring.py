"""A comparison's metrics and report: accuracy against ground truth (prompted objects only), flicker, agreement
between the two models, and the HTML report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evaluation.accuracy import AccuracyError, agreement
from evaluation.datasets import DatasetError
from evaluation.report.page import write_report
from evaluation.results.agreement import AgreementResult
from evaluation.sequence import MaskSequence, SequenceError
from playerseg.compare.failures import one_line
from playerseg.compare.ground_truth import GroundTruthError, score_prompted
from playerseg.compare.outcome import Comparison, ModelOutcome
from playerseg.compare.progress import ProgressFn
from playerseg.io.prompts import PromptError, PromptSet
from playerseg.io.video import VideoInfo
from playerseg.runs.pipeline import RunResult
from playerseg.runs.runfolder import RunOutputs

REPORT_FOLDER = "report"


def check_ground_truth(ground_truth: MaskSequence, clip: VideoInfo, processed: Sequence[int]) -> None:
    size = (ground_truth.width, ground_truth.height)
    if size != (clip.width, clip.height):
        raise GroundTruthError(
            f"The ground truth masks are {size[0]}x{size[1]} but the clip is {clip.width}x{clip.height}; "
            "give masks at the clip's own size."
        )
    if not set(ground_truth.frames) & set(processed):
        raise GroundTruthError(
            f"None of the {len(ground_truth.frames)} ground-truth frames ({ground_truth.frames[0]}.."
            f"{ground_truth.frames[-1]}) is among the processed frames {processed[0]}..{processed[-1]}: check that "
            "the masks are named by clip frame number."
        )


def score_comparison(comparison: Comparison, ground_truth: MaskSequence) -> None:
    """Score a finished comparison against ground truth given afterwards (the app's accuracy tab): fills each
    completed model's accuracy, adds a notice and rewrites the report. Raises GroundTruthError when the masks
    do not fit the clip."""
    done = [o for o in comparison.outcomes if o.ok and o.result is not None]
    if not done:
        return
    check_ground_truth(ground_truth, comparison.clip, done[0].result.source_indices)
    for outcome in done:
        found = _accuracy(outcome, ground_truth)
        comparison.notices += [notice for notice in found if notice not in comparison.notices]
    comparison.report = write_comparison_report(
        comparison.out_dir, comparison.clip, comparison.outcomes, comparison.agreement, comparison.notices
    )


def _prediction(outcome: ModelOutcome) -> MaskSequence:
    """A run's label maps, in the processed size, keyed by clip frame number and named after the outcome."""
    assert outcome.result is not None
    return prediction_sequence(outcome.result, outcome.display_name, str(outcome.run_dir))


def prediction_sequence(result: RunResult, name: str, source: str) -> MaskSequence:
    """A run's label maps as the evaluation package reads them: processed size, keyed by clip frame number."""
    index_of = {frame: index for index, frame in enumerate(result.source_indices)}
    return MaskSequence(
        name=name,
        frames=tuple(result.source_indices),
        height=result.masks.height,
        width=result.masks.width,
        reader=lambda frame: result.masks.label_map(index_of[frame]),
        source=source,
    )


def score(
    outcome: ModelOutcome, outputs: RunOutputs, ground_truth: MaskSequence | None, notify: ProgressFn
) -> list[str]:
    """Accuracy (with ground truth) then flicker (measured as the run folder was written), on the processed frames;
    returns notices."""
    notices: list[str] = []
    total = 2 if ground_truth is not None else 1
    notify(outcome.label, "score", 0, total)
    if ground_truth is not None:
        try:
            notices += _accuracy(outcome, ground_truth)
        except (AccuracyError, DatasetError, SequenceError, PromptError) as error:  # e.g. a mask that cannot be read
            notices.append(f"{outcome.display_name}: accuracy not scored: {one_line(error)}.")
        notify(outcome.label, "score", 1, total)
    outcome.temporal = outputs.flicker_as(outcome.display_name, outcome.accuracy)
    notify(outcome.label, "score", total, total)
    return notices


def _accuracy(outcome: ModelOutcome, ground_truth: MaskSequence) -> list[str]:
    """J/F of one model on the ground-truth frames it processed (masks scaled to the clip's size), on the objects
    the user prompted only; notices (frames scored, objects left out: the same for both models, listed once)."""
    scored = score_prompted(_prediction(outcome), ground_truth, _prompted_ids(outcome), outcome.display_name)
    outcome.accuracy = scored.accuracy
    frames = (
        f"{outcome.display_name}: accuracy scored on {len(outcome.accuracy.frames)} of "
        f"{len(ground_truth.frames)} ground-truth frames (those among the processed frames)."
    )
    return [frames, *scored.notices()]


def _prompted_ids(outcome: ModelOutcome) -> list[int]:
    """The objects the user prompted, from the run folder's prompts.json (the source prompts: an auto-labeler's
    result holds its own tracks' prompts instead)."""
    assert outcome.run_dir is not None
    return PromptSet.load(outcome.run_dir / "prompts.json").object_ids


def agreement_of(done: list[ModelOutcome]) -> AgreementResult:
    a, b = done
    return agreement(_prediction(a), _prediction(b), name_a=a.display_name, name_b=b.display_name)


def write_comparison_report(
    out: Path, clip: VideoInfo, outcomes: list[ModelOutcome], found: AgreementResult | None, notices: list[str]
) -> Path:
    title = f"{outcomes[0].display_name} vs {outcomes[1].display_name} on {Path(clip.path).name}"
    failures = [o.error for o in outcomes if o.error]
    return write_report(
        out / REPORT_FOLDER,
        title,
        accuracy=[o.accuracy for o in outcomes if o.accuracy is not None],
        temporal=[o.temporal for o in outcomes if o.temporal is not None],
        profiles=[o.profile for o in outcomes if o.profile is not None],
        agreement=found,
        notes=[*(f"Warning: {e}" for e in failures), *notices],
    )
