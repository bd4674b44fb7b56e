"""One (model, sequence) pair: track the sequence's prompted objects with the model, write the run folder as
`segment` (or `autolabel`) writes it, score it against the ground truth, and record the score; or record why the
pair could not run, in one sentence. A pair is written into a hidden sibling and moved into OUT/runs/<model>/<seq>/
only when complete, with score.json (or failure.json) last, so an interrupted pair leaves nothing that looks done."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from evaluation.leaderboard.collect import score_pair_folder
from evaluation.leaderboard.manifest import ModelEntry, pair_folder
from evaluation.leaderboard.rows import FAILURE_FILE, SCORE_FILE, PairFailure, PairScore
from evaluation.sequence import MaskSequence
from playerseg.autolabel.labeler import (
    DEFAULT_EVERY,
    AutoLabeler,
    AutoLabelerName,
    AutoLabelSettings,
    DetectorSource,
    parse_autolabel_name,
    relabel_to_clicked_objects,
)
from playerseg.autolabel.sam3_labeler import run_sam3_labeler
from playerseg.compare.failures import free_memory, is_out_of_memory, one_line
from playerseg.compare.pool import ModelPool
from playerseg.evaluate.prompts import DatasetPromptError, first_masks, sequence_prompts
from playerseg.io.video import FrameStore
from playerseg.runs.pipeline import open_selection
from playerseg.runs.runfolder import segment_to_folder, write_run_folder
from playerseg.runs.selection_prompts import SelectionPrompts
from playerseg.tracking.registry import ModelUnavailableError

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PairTask:
    """Everything a worker needs to run one pair (plain values: it travels to Ray workers)."""

    data: str
    out: str
    model: str
    sequence: str
    prompts: str = "clicks"
    command: str = ""


@dataclass(frozen=True)
class PairOutcome:
    """A finished pair: its score or failure, and the model's facts once it has loaded."""

    result: PairScore | PairFailure
    model: ModelEntry | None
    seconds: float = 0.0
    model_unavailable: bool = False  # the model could not load: its other pairs would fail the same way


def run_pair(task: PairTask, pool: ModelPool, progress: Progress | None = None) -> PairOutcome:
    """Run, write and score one pair; a failure of the model or of the sequence becomes a PairFailure."""
    import time

    started = time.perf_counter()
    final = pair_folder(task.out, task.model, task.sequence)
    staging = final.with_name(f".{final.name}.partial-{os.getpid()}")
    _remove(staging)
    staging.parent.mkdir(parents=True, exist_ok=True)
    entry: ModelEntry | None = None
    unavailable = False
    try:
        entry = _track_into(task, pool, staging, progress)
        score = score_pair_folder(Path(task.data), task.sequence, staging, task.model)
        result: PairScore | PairFailure = score
        _write_record(staging, SCORE_FILE, score.to_json())
    except (MemoryError, RuntimeError, ValueError, OSError) as error:  # models, sequences, disks: one sentence
        result = record_failure(task, failure_reason(task, error), staging)
        unavailable = isinstance(error, ModelUnavailableError)
        if isinstance(error, MemoryError) or is_out_of_memory(error):
            free_memory(pool)
    except BaseException:  # Ctrl-C, SIGTERM: nothing half-written stays behind
        _remove(staging)
        raise
    _remove(final)
    staging.rename(final)
    return PairOutcome(result, entry, time.perf_counter() - started, unavailable)


def record_failure(task: PairTask, reason: str, staging: Path | None = None) -> PairFailure:
    """Write the pair's failure.json: into `staging` when given (the caller moves it into place), else staged here
    and swapped in for whatever the pair's folder held."""
    failure = PairFailure(task.model, task.sequence, reason)
    final = pair_folder(task.out, task.model, task.sequence)
    folder = staging if staging is not None else final.with_name(f".{final.name}.partial-{os.getpid()}-failure")
    _remove(folder)
    folder.mkdir(parents=True)
    _write_record(folder, FAILURE_FILE, failure.to_json())
    if staging is None:
        _remove(final)
        folder.rename(final)
    return failure


def unavailable_reason(task: PairTask, earlier: str) -> str:
    """The failure of a pair whose model already failed to load on another sequence (not loaded again)."""
    cause = earlier.split(": the model is not available ", 1)[-1]
    return f"{task.model} on {task.sequence}: the model is not available {cause}"


def remove_stale_partials(out: str | Path) -> int:
    """Delete the hidden half-written pair folders a killed run left under OUT/runs/; returns how many."""
    removed = 0
    for partial in Path(out, "runs").glob("*/.*.partial-*"):
        _remove(partial)
        removed += 1
    return removed


def _track_into(task: PairTask, pool: ModelPool, folder: Path, progress: Progress | None) -> ModelEntry:
    """Track the sequence with the model (or auto-labeler) and write its run folder into `folder`."""
    from evaluation.datasets.mask_pngs import load_mask_folder

    root = Path(task.data)
    truth = load_mask_folder(root / "Annotations" / task.sequence, name=task.sequence)
    prompts, _ = sequence_prompts(root, task.sequence, truth, task.prompts)
    with open_selection(str(root / "JPEGImages" / task.sequence)) as store:
        selected = SelectionPrompts.check(prompts, store)
        autolabeler = parse_autolabel_name(task.model)
        if autolabeler is None:
            model = pool.get(task.model)
            masks = _mask_prompts(truth, store) if task.prompts == "masks" else None
            segment_to_folder(model, store, selected, folder, task.command, progress, masks=masks)
            return _entry(task.model, [model.predictor], model.checkpoint_sha256, model.spec.weights_label, model)
        if autolabeler.is_sam3:
            return _sam3_into(task, pool, store, selected, folder, progress, autolabeler.detector)
        return _autolabel_into(task, pool, store, selected, folder, progress, autolabeler)


def _mask_prompts(truth: MaskSequence, store: FrameStore) -> dict[tuple[int, int], np.ndarray]:
    """Each object's first ground-truth mask, keyed by (selection index, object id), at the processed size."""
    index_of = {frame: index for index, frame in enumerate(store.source_indices)}
    masks = {}
    for (frame, object_id), mask in first_masks(truth).items():
        if frame not in index_of:
            raise DatasetPromptError(f"{truth.source or truth.name}: annotated frame {frame} has no JPEG frame.")
        if mask.shape != (store.height, store.width):
            mask = cv2.resize(mask.astype(np.uint8), (store.width, store.height), interpolation=cv2.INTER_NEAREST)
        masks[(index_of[frame], object_id)] = mask.astype(bool)
    return masks


def _autolabel_into(
    task: PairTask,
    pool: ModelPool,
    store: FrameStore,
    selected: SelectionPrompts,
    folder: Path,
    progress: Progress | None,
    parts: AutoLabelerName,
) -> ModelEntry:
    """The auto-labeler finds its own players; the tracks of the prompted players take the prompted ids (as in
    compare), the others keep ids after them, so J&F scores the prompted objects and IDF1 every track."""
    model, detector = pool.get(parts.tracker), pool.get_detector(parts.detector)
    result = AutoLabeler(model, DetectorSource(detector, every=DEFAULT_EVERY), AutoLabelSettings()).run(store, progress)
    assert result.autolabel is not None
    result.autolabel.object_of_track = relabel_to_clicked_objects(result, selected.mapped)
    write_run_folder(result, store, folder, task.command, source_prompts=selected.source)
    return _entry(task.model, [model.predictor, detector], model.checkpoint_sha256, model.spec.weights_label, model)


def _sam3_into(
    task: PairTask,
    pool: ModelPool,
    store: FrameStore,
    selected: SelectionPrompts,
    folder: Path,
    progress: Progress | None,
    name: str,
) -> ModelEntry:
    """SAM 3 (`autolabel:sam3`) finds and tracks its own players; relabelled to the prompted ids as above."""
    model = pool.get_sam3_autolabeler(name)
    result = run_sam3_labeler(model, store, progress=progress)
    assert result.autolabel is not None
    result.autolabel.object_of_track = relabel_to_clicked_objects(result, selected.mapped)
    write_run_folder(result, store, folder, task.command, source_prompts=selected.source)
    return _entry(task.model, [model.predictor], model.checkpoint_sha256, model.spec.weights_label, model)


def _entry(name: str, modules: list[object], sha256: str, weights: str, model: object) -> ModelEntry:
    return ModelEntry(
        name=name,
        parameters=sum(_parameters(module) for module in modules),
        checkpoint_sha256=sha256,
        weights=weights,
        random_weights=bool(getattr(model, "random_weights", False)),
    )


def _parameters(module: object) -> int:
    """Parameters of a torch module, or of the module a wrapper holds (the detector's `_model`, SAM 3's `model`)."""
    for inner in (module, getattr(module, "_model", None), getattr(module, "model", None)):
        counted = getattr(inner, "parameters", None)
        if callable(counted):
            return sum(p.numel() for p in counted())
    return 0


def failure_reason(task: PairTask, error: BaseException) -> str:
    """The pair's failure in one sentence, naming the model and the sequence."""
    who = f"{task.model} on {task.sequence}"
    if is_out_of_memory(error) or isinstance(error, MemoryError):
        return f"{who} ran out of memory: try a smaller model or a GPU with more memory."
    if isinstance(error, ModelUnavailableError):
        return f"{who}: the model is not available ({one_line(error)})."
    return f"{who} failed: {one_line(error)}."


def _write_record(folder: Path, name: str, data: dict) -> None:
    temporary = folder / f".{name}.tmp"
    temporary.write_text(json.dumps(data, indent=2))
    temporary.replace(folder / name)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()
