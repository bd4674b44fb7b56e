"""Two models on one clip with one set of prompts: the comparison's orchestration, the backend of the app's
comparison view and of `python -m playerseg compare`:

    pool = ModelPool()  # models load once per process and are shared between sessions
    comparison = compare_models("clip.mp4", prompts, ["sam2.1-tiny", "runs/finetuned"], "out", pool=pool)
    comparison.summary()  # JSON-able: latency, memory, flicker, accuracy (with ground truth), agreement, files

writes out/A and out/B (run folders exactly as `playerseg segment` writes them), out/side_by_side.mp4,
out/disagreement.mp4 and out/report/report.html. A model that cannot run (not available offline, out of memory,
tracking failure) becomes an outcome with a one-sentence error while the other model still completes; bad input
(the clip, the prompts, the ground truth) raises for the whole call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from evaluation.sequence import MaskSequence
from playerseg.autolabel.detector import GroundingDinoDetector
from playerseg.autolabel.labeler import (
    DEFAULT_EVERY,
    AutoLabeler,
    AutoLabelSettings,
    DetectorSource,
    parse_autolabel_name,
    relabel_to_clicked_objects,
)
from playerseg.autolabel.sam3_labeler import run_sam3_labeler
from playerseg.compare.failures import failure_sentence, free_memory, is_out_of_memory
from playerseg.compare.outcome import Comparison, ModelOutcome
from playerseg.compare.pool import ModelPool
from playerseg.compare.progress import ProgressFn, no_progress
from playerseg.compare.render import DISAGREEMENT_NAME, SIDE_BY_SIDE_NAME, render
from playerseg.compare.scoring import agreement_of, check_ground_truth, score, write_comparison_report
from playerseg.compare.selection import Selection
from playerseg.io.prompts import PromptError, PromptSet
from playerseg.io.video import FrameStore
from playerseg.runs.pipeline import (
    PromptedTracking,
    RunResult,
    open_selection,
    selection_facts,
)
from playerseg.runs.selection_prompts import SelectionPrompts
from playerseg.tracking.registry import FINETUNED_FROM_RANDOM_LABEL, RANDOM_WEIGHTS_LABEL, LoadedModel, display_name

LABELS = ("A", "B")
RUN_FILES = ("overlay.mp4", "frames.csv", "run.json", "prompts.json")  # besides masks/*.png
WHOLE_CLIP = Selection()


def compare_models(
    clip: str | Path,
    prompts: PromptSet,
    models: Sequence[str],
    out_dir: str | Path,
    *,
    pool: ModelPool,
    selection: Selection = WHOLE_CLIP,
    ground_truth: MaskSequence | None = None,
    progress: ProgressFn | None = None,
    command: str = "",
) -> Comparison:
    """Track the prompted objects with both models on the same frames, write both run folders and the shared
    videos, score both, and write the report. Prompts are in clip frames and pixels; `ground_truth` is at the
    clip's size, keyed by clip frame number. Raises VideoError, PromptError or GroundTruthError on bad input;
    a model that fails becomes an outcome with an error."""
    names = _two_models(models)
    notify = progress or no_progress
    out = Path(out_dir)
    notify("", "decode", 0, 1)
    frames = open_selection(str(clip), selection.start, selection.max_frames, selection.stride, selection.max_side)
    with frames as store:
        notify("", "decode", 1, 1)
        selected = _check_prompts(prompts, store)
        notices = list(selected.moved)
        if ground_truth is not None:
            check_ground_truth(ground_truth, store.info, store.source_indices)
        out.mkdir(parents=True, exist_ok=True)  # only once the input is known to be good
        _clear_outputs(out)
        outcomes: list[ModelOutcome] = []
        warnings: dict[str, list[str]] = {}
        for label, name in zip(LABELS, names):
            outcome, warnings[label] = _run_model(label, name, store, selected, out / label, pool, notify)
            outcomes.append(outcome)
        done = [o for o in outcomes if o.ok]
        notices += _model_notices(outcomes, warnings)
        side, disagreement_path, outputs = (
            render(store, outcomes, out, selected.source, command, notify) if done else (None, None, {})
        )
        for outcome in done:
            outcome.facts = outputs[outcome.label].facts
            notices += score(outcome, outputs[outcome.label], ground_truth, notify)
    comparison_agreement = agreement_of(done) if len(done) == 2 else None
    report = write_comparison_report(out, store.info, outcomes, comparison_agreement, notices) if done else None
    return Comparison(
        out_dir=out,
        clip=store.info,
        selection=selection_facts(store),
        outcomes=outcomes,
        side_by_side=side,
        disagreement=disagreement_path,
        agreement=comparison_agreement,
        report=report,
        notices=notices,
    )


def _two_models(models: Sequence[str]) -> list[str]:
    if isinstance(models, str) or len(models) != 2:
        raise ValueError(f"A comparison needs exactly two models (A and B), got {len(models)}.")
    return [str(name) for name in models]


def _check_prompts(prompts: PromptSet, store: FrameStore) -> SelectionPrompts:
    """Bad prompts fail the whole call before any model loads; checked and mapped onto the processed frames once,
    with the notices of prompts moved to the nearest processed frame."""
    if not len(prompts):
        raise PromptError("No prompts were given: click at least one object before comparing.")
    return SelectionPrompts.check(prompts, store)


def _clear_outputs(out: Path) -> None:
    """Drop what an earlier comparison left in `out`: stale masks would join this run's, and a model that fails
    now must not seem to have results."""
    for label in LABELS:
        run = out / label
        for name in RUN_FILES:
            (run / name).unlink(missing_ok=True)
        if (run / "masks").is_dir():
            for png in (run / "masks").glob("*.png"):
                png.unlink()
    for name in (SIDE_BY_SIDE_NAME, DISAGREEMENT_NAME):
        (out / name).unlink(missing_ok=True)


def _run_model(
    label: str,
    name: str,
    store: FrameStore,
    prompts: SelectionPrompts,
    run_dir: Path,
    pool: ModelPool,
    notify: ProgressFn,
) -> tuple[ModelOutcome, list[str]]:
    """Load and track (the run folder is written with the shared videos, in one pass over the frames). A model
    failure is caught here and becomes the outcome's error."""
    outcome = ModelOutcome(label=label, name=name)
    out_of_memory = False
    try:
        notify(label, "load", 0, 1)
        autolabeler = parse_autolabel_name(name)
        track_progress = lambda done, total: notify(label, "track", done, total)  # noqa: E731
        if autolabeler is not None and autolabeler.is_sam3:
            notify(label, "load", 1, 1)
            result = _sam3_autolabel(autolabeler.detector, store, prompts, pool, track_progress)
            return _done(outcome, run_dir, result, [])  # its random weights are noted from the result
        model = pool.get(name if autolabeler is None else autolabeler.tracker)
        detector = None if autolabeler is None else pool.get_detector(autolabeler.detector)
        notify(label, "load", 1, 1)
        if detector is None:
            result = PromptedTracking(model).run(store, prompts, progress=track_progress)
        else:
            result = _autolabel(model, detector, store, prompts, track_progress)
    except (MemoryError, RuntimeError, ValueError) as error:  # RuntimeError: ModelUnavailable, Tracking, OOM errors
        outcome.error = failure_sentence(label, name, error)
        out_of_memory = isinstance(error, MemoryError) or is_out_of_memory(error)
    if outcome.error is not None:
        if out_of_memory:  # outside the except block: the traceback no longer holds the failed run's tensors
            free_memory(pool)
        return outcome, []
    return _done(outcome, run_dir, result, model.warnings)


def _done(
    outcome: ModelOutcome, run_dir: Path, result: RunResult, warnings: list[str]
) -> tuple[ModelOutcome, list[str]]:
    outcome.run_dir = run_dir
    outcome.result = result
    outcome.profile = replace(result.profile(), name=outcome.display_name)
    return outcome, list(warnings)


def _autolabel(
    model: LoadedModel,
    detector: GroundingDinoDetector,
    store: FrameStore,
    prompts: SelectionPrompts,
    progress: Callable[[int, int], None],
) -> RunResult:
    """The auto-labeler on the same frames; its tracks of the clicked players take the clicked ids."""
    source = DetectorSource(detector, every=DEFAULT_EVERY)
    result = AutoLabeler(model, source, AutoLabelSettings()).run(store, progress)
    assert result.autolabel is not None
    result.autolabel.object_of_track = relabel_to_clicked_objects(result, prompts.mapped)
    return result


def _sam3_autolabel(
    name: str, store: FrameStore, prompts: SelectionPrompts, pool: ModelPool, progress: Callable[[int, int], None]
) -> RunResult:
    """SAM 3 (`autolabel:sam3`) on the same frames; its tracks of the clicked players take the clicked ids."""
    result = run_sam3_labeler(pool.get_sam3_autolabeler(name), store, progress=progress)
    assert result.autolabel is not None
    result.autolabel.object_of_track = relabel_to_clicked_objects(result, prompts.mapped)
    return result


def _model_notices(outcomes: list[ModelOutcome], warnings: dict[str, list[str]]) -> list[str]:
    """Random-weight notes first; a warning both models gave is listed once, others name their model."""
    notices = [
        f"{o.display_name}: RANDOM WEIGHTS, its masks mean nothing (a test-size model)."
        for o in outcomes
        if o.ok and o.random_weights
    ]
    per_model = {
        label: [w for w in found if RANDOM_WEIGHTS_LABEL not in w and FINETUNED_FROM_RANDOM_LABEL not in w]
        for label, found in warnings.items()
    }
    shared = [w for w in per_model.get("A", []) if w in per_model.get("B", [])]
    notices += shared
    for outcome in outcomes:
        named = f"{outcome.label} ({display_name(outcome.name)})"  # a model folder by its name, never its server path
        notices += [f"{named}: {w}" for w in per_model[outcome.label] if w not in shared]
    return notices
