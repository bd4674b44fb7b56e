"""Two models on one clip with one set of prompts: run folders, side-by-side and disagreement videos, metrics.

The backend of the app's comparison view and of `python -m playerseg compare`:

    pool = ModelPool()  # models load once per process and are shared between sessions
    comparison = compare_models("clip.mp4", prompts, ["sam2.1-tiny", "runs/finetuned"], "out", pool=pool)
    comparison.summary()  # JSON-able: latency, memory, flicker, accuracy (with ground truth), agreement, files

writes out/A and out/B (run folders exactly as `playerseg segment` writes them), out/side_by_side.mp4,
out/disagreement.mp4 and out/report/report.html. A model that cannot run (not available offline, out of memory,
tracking failure) becomes an outcome with a one-sentence error while the other model still completes; bad input
(the clip, the prompts, the ground truth) raises for the whole call.
"""

from __future__ import annotations

import gc
import json
import math
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from evaluation.accuracy import AccuracyError, agreement
from evaluation.datasets import DatasetError
from evaluation.report import write_report
from evaluation.results import AccuracyResult, AgreementResult, ProfileResult, TemporalResult
from evaluation.sequence import MaskSequence, SequenceError
from evaluation.temporal import temporal_stability
from playerseg.autolabel.detections import write_detections_json
from playerseg.autolabel.detector import GroundingDinoDetector, get_detector_spec, load_detector
from playerseg.autolabel.labeler import (
    DEFAULT_EVERY,
    AutoLabeler,
    AutoLabelSettings,
    DetectorSource,
    parse_autolabel_name,
    relabel_to_clicked_objects,
)
from playerseg.compare.ground_truth import (
    GroundTruthError,
    read_ground_truth,  # noqa: F401  (callers import it from here too)
    score_prompted,
)
from playerseg.io.overlay import disagreement_frame, draw_overlay, side_by_side, with_caption
from playerseg.io.prompts import PromptError, PromptSet
from playerseg.io.video import FrameStore, VideoInfo, VideoWriter
from playerseg.runs.pipeline import (
    PromptedTracking,
    RunResult,
    map_prompts_to_selection,
    open_selection,
    selection_facts,
)
from playerseg.runs.runfolder import run_facts, write_frames_csv, write_masks
from playerseg.tracking.registry import (
    FINETUNED_FROM_RANDOM_LABEL,
    RANDOM_WEIGHTS_LABEL,
    LoadedModel,
    ModelUnavailableError,
    default_device,
    display_name,
    get_spec,
    load_video_model,
)
from playerseg.tracking.tracker import TrackingError

Stage = Literal["load", "decode", "track", "render", "score"]
ProgressFn = Callable[[str, Stage, int, int], None]  # (model label "A"/"B" or "" for shared steps, stage, done, total)

LABELS = ("A", "B")
SIDE_BY_SIDE_NAME = "side_by_side.mp4"
DISAGREEMENT_NAME = "disagreement.mp4"
REPORT_FOLDER = "report"
RUN_FILES = ("overlay.mp4", "frames.csv", "run.json", "prompts.json")  # besides masks/*.png
SUMMARY_DIGITS = 4
LATENCY_KEYS = ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "fps", "prompt_ms", "frames")
ACCURACY_KEYS = ("J_mean", "F_mean", "JF_mean", "J_recall", "F_recall", "frames_scored")


@dataclass(frozen=True)
class Selection:
    """Which frames of the clip both models process: from `start`, every `stride`-th, at most `max_frames`,
    downscaled so the longer side is at most `max_side`."""

    start: int = 0
    max_frames: int | None = None
    stride: int = 1
    max_side: int | None = None

    def __post_init__(self) -> None:
        if self.start < 0:
            raise ValueError(f"start must be 0 or more, got {self.start}.")
        if self.stride < 1:
            raise ValueError(f"stride must be at least 1, got {self.stride}.")
        for name in ("max_frames", "max_side"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 (or None for no limit), got {value}.")


# ---------------------------------------------------------------------------------------------------------------
# Models shared between sessions


class ModelPool:
    """Models loaded once per process and shared read-only between sessions (thread-safe, one lock)."""

    def __init__(self, device: str | None = None, cache: bool = True) -> None:
        self._device = device
        self._cache = cache  # False: load per call (ZeroGPU keeps no GPU state between calls)
        self._models: dict[str, LoadedModel] = {}
        self._detectors: dict[str, GroundingDinoDetector] = {}
        self._lock = threading.Lock()

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = default_device()  # resolved late: importing torch is slow
        return self._device

    def get(self, name: str) -> LoadedModel:
        """The loaded model (registry.load_video_model); raises ModelUnavailableError. Failures are not cached, so
        a model made available later (downloaded, copied in) loads on the next call."""
        if not self._cache:
            return load_video_model(name, self.device)
        with self._lock:  # held while loading: two sessions asking for one model load it once
            model = self._models.get(name)
            if model is None:
                model = load_video_model(name, self.device)
                self._models[name] = model
            return model

    def get_detector(self, name: str) -> GroundingDinoDetector:
        """The loaded detector (detector.load_detector), cached like the SAM2 models."""
        if not self._cache:
            return load_detector(name, self.device)
        with self._lock:
            detector = self._detectors.get(name)
            if detector is None:
                detector = load_detector(name, self.device)
                self._detectors[name] = detector
            return detector


# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass
class ModelOutcome:
    """What one of the two models produced, or why it produced nothing."""

    label: str  # "A" or "B"
    name: str  # the registry name or checkpoint path asked for
    error: str | None = None  # one sentence when this model failed (the other still completes)
    run_dir: Path | None = None  # run folder as `playerseg segment` writes it
    facts: dict[str, Any] = field(default_factory=dict)  # run.json content
    profile: ProfileResult | None = None
    temporal: TemporalResult | None = None
    accuracy: AccuracyResult | None = None  # when ground truth was given
    result: RunResult | None = field(default=None, repr=False)  # masks in the processed frames' size

    @property
    def ok(self) -> bool:
        return self.error is None and self.run_dir is not None

    @property
    def random_weights(self) -> bool:
        if "random_weights" in self.facts:
            return bool(self.facts["random_weights"])
        try:  # a failed model: the registry still tells whether it is a random-weight one
            autolabeler = parse_autolabel_name(self.name)
            if autolabeler is not None:
                detector, tracker = autolabeler
                return get_detector_spec(detector).random_weights or get_spec(tracker).random_weights
            return get_spec(self.name).random_weights
        except (ModelUnavailableError, ValueError):
            return False

    @property
    def overlay(self) -> Path | None:
        return self.run_dir / "overlay.mp4" if self.run_dir is not None else None

    @property
    def display_name(self) -> str:
        """Names A and B apart even when both are the same model; the evaluation results carry this name."""
        return f"{self.label}: {display_name(self.name)}" + (" (random weights)" if self.random_weights else "")


@dataclass
class Comparison:
    """Both models' outcomes on one clip, with the shared videos, agreement and report."""

    out_dir: Path
    clip: VideoInfo
    selection: dict[str, Any]  # first/last frame, stride, frames, width, height, fps
    outcomes: list[ModelOutcome]  # [A, B]
    side_by_side: Path | None
    disagreement: Path | None  # None unless both models completed
    agreement: AgreementResult | None  # None unless both models completed
    report: Path | None
    notices: list[str]  # prompt moves, warnings from the models, random-weight notes

    def __post_init__(self) -> None:
        self.notices = list(dict.fromkeys(self.notices))  # a notice both models gave (objects not scored) once

    def summary(self) -> dict[str, Any]:
        """JSON-able facts (floats rounded): clip, selection, notices, per-model metrics, agreement, file paths."""
        files: dict[str, Any] = {
            "side_by_side": self.side_by_side,
            "disagreement": self.disagreement,
            "report": self.report,
            **{o.label: o.run_dir for o in self.outcomes},
        }
        summary = {
            "clip": {
                "width": self.clip.width,
                "height": self.clip.height,
                "fps": self.clip.fps,
                "frames": self.clip.frame_count,
                "duration_s": self.clip.duration_s,
            },
            "selection": dict(self.selection),
            "notices": list(self.notices),
            "models": {o.label: _model_summary(o) for o in self.outcomes},
            "agreement": self.agreement.summary() if self.agreement is not None else None,
            "files": {key: str(path) if path is not None else None for key, path in files.items()},
        }
        return _rounded(summary)


def _model_summary(outcome: ModelOutcome) -> dict[str, Any]:
    facts = outcome.facts
    latency = facts.get("latency") if outcome.ok else None
    memory = facts.get("memory") if outcome.ok else None
    flicker = None
    if outcome.temporal is not None:
        flicker = outcome.temporal.summary()
        flicker["objects"] = list(flicker.pop("objects").values())  # rows, each with its object_id
    accuracy = None
    if outcome.accuracy is not None:
        scored = outcome.accuracy.summary()
        accuracy = {key: scored[key] for key in ACCURACY_KEYS}
    return {
        "name": outcome.name,
        "display_name": outcome.display_name,
        "ok": outcome.ok,
        "error": outcome.error,
        "random_weights": outcome.random_weights,
        "device": facts.get("device"),
        "checkpoint": facts.get("checkpoint"),
        "latency": {key: latency.get(key) for key in LATENCY_KEYS} if latency else None,
        "memory": {"kind": memory.get("kind"), "peak_mb": memory.get("peak_mb")} if memory else None,
        "flicker": flicker,
        "accuracy": accuracy,
        "autolabel": facts.get("autolabel") if outcome.ok else None,  # the auto-labeler's detections and id events
    }


def _rounded(value: Any) -> Any:
    """Plain JSON values: floats rounded (NaN and infinities become None), numpy scalars unwrapped."""
    if isinstance(value, dict):
        return {str(key): _rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return round(value, SUMMARY_DIGITS) if math.isfinite(value) else None
    return value


# ---------------------------------------------------------------------------------------------------------------
# The comparison


def compare_models(
    clip: str | Path,
    prompts: PromptSet,
    models: Sequence[str],
    out_dir: str | Path,
    *,
    pool: ModelPool,
    selection: Selection = Selection(),
    ground_truth: MaskSequence | None = None,
    progress: ProgressFn | None = None,
    command: str = "",
) -> Comparison:
    """Track the prompted objects with both models on the same frames, write both run folders and the shared
    videos, score both, and write the report. Prompts are in clip frames and pixels; `ground_truth` is at the
    clip's size, keyed by clip frame number. Raises VideoError, PromptError or GroundTruthError on bad input;
    a model that fails becomes an outcome with an error."""
    names = _two_models(models)
    notify = progress or _no_progress
    out = Path(out_dir)
    notify("", "decode", 0, 1)
    frames = open_selection(str(clip), selection.start, selection.max_frames, selection.stride, selection.max_side)
    with frames as store:
        notify("", "decode", 1, 1)
        notices = _check_prompts(prompts, store)
        if ground_truth is not None:
            _check_ground_truth(ground_truth, store.info, store.source_indices)
        out.mkdir(parents=True, exist_ok=True)  # only once the input is known to be good
        _clear_outputs(out)
        outcomes: list[ModelOutcome] = []
        warnings: dict[str, list[str]] = {}
        for label, name in zip(LABELS, names):
            outcome, warnings[label] = _run_model(label, name, store, prompts, out / label, pool, notify, command)
            outcomes.append(outcome)
        done = [o for o in outcomes if o.ok]
        notices += _model_notices(outcomes, warnings)
        side, disagreement_path = _render(store, outcomes, out, notify) if done else (None, None)
        for outcome in done:
            notices += _score(outcome, store, ground_truth, notify)
    comparison_agreement = _agreement(done) if len(done) == 2 else None
    report = _write_report(out, store.info, outcomes, comparison_agreement, notices) if done else None
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


def score_comparison(comparison: Comparison, ground_truth: MaskSequence) -> None:
    """Score a finished comparison against ground truth given afterwards (the app's accuracy tab): fills each
    completed model's accuracy, adds a notice and rewrites the report. Raises GroundTruthError when the masks
    do not fit the clip."""
    done = [o for o in comparison.outcomes if o.ok and o.result is not None]
    if not done:
        return
    _check_ground_truth(ground_truth, comparison.clip, done[0].result.source_indices)
    for outcome in done:
        found = _accuracy(outcome, ground_truth)
        comparison.notices += [notice for notice in found if notice not in comparison.notices]
    comparison.report = _write_report(
        comparison.out_dir, comparison.clip, comparison.outcomes, comparison.agreement, comparison.notices
    )


def _no_progress(label: str, stage: Stage, done: int, total: int) -> None:
    pass


def _two_models(models: Sequence[str]) -> list[str]:
    if isinstance(models, str) or len(models) != 2:
        raise ValueError(f"A comparison needs exactly two models (A and B), got {len(models)}.")
    return [str(name) for name in models]


def _check_prompts(prompts: PromptSet, store: FrameStore) -> list[str]:
    """Bad prompts fail the whole call before any model loads; returns the notices of prompts moved to the
    nearest processed frame."""
    if not len(prompts):
        raise PromptError("No prompts were given: click at least one object before comparing.")
    prompts.validate(store.info.width, store.info.height, max(store.source_indices) + 1)
    _, moved = map_prompts_to_selection(prompts, store)
    return moved


def _check_ground_truth(ground_truth: MaskSequence, clip: VideoInfo, processed: Sequence[int]) -> None:
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
    prompts: PromptSet,
    run_dir: Path,
    pool: ModelPool,
    notify: ProgressFn,
    command: str,
) -> tuple[ModelOutcome, list[str]]:
    """Load and track; write the run folder but its overlay (rendered with the shared videos). A model failure
    is caught here and becomes the outcome's error."""
    outcome = ModelOutcome(label=label, name=name)
    out_of_memory = False
    try:
        notify(label, "load", 0, 1)
        autolabeler = parse_autolabel_name(name)
        model = pool.get(name if autolabeler is None else autolabeler[1])
        detector = None if autolabeler is None else pool.get_detector(autolabeler[0])
        notify(label, "load", 1, 1)
        track_progress = lambda done, total: notify(label, "track", done, total)  # noqa: E731
        if detector is None:
            result = PromptedTracking(model).run(store, prompts, progress=track_progress)
        else:
            result = _autolabel(model, detector, store, prompts, track_progress)
    except (MemoryError, RuntimeError, ValueError) as error:  # RuntimeError covers ModelUnavailable, Tracking and OOM errors
        outcome.error = _failure_sentence(label, name, error)
        out_of_memory = isinstance(error, MemoryError) or _is_out_of_memory(error)
    if outcome.error is not None:
        if out_of_memory:  # outside the except block: the traceback no longer holds the failed run's tensors
            _free_memory(pool)
        return outcome, []
    (run_dir / "masks").mkdir(parents=True, exist_ok=True)
    prompts.save(run_dir / "prompts.json")
    write_masks(result, run_dir / "masks")
    write_frames_csv(result.frame_stats, run_dir / "frames.csv")
    if result.autolabel is not None:
        write_detections_json(result.autolabel.records, run_dir / "detections.json")
    outcome.facts = run_facts(result, command)
    (run_dir / "run.json").write_text(json.dumps(outcome.facts, indent=2))
    outcome.run_dir = run_dir
    outcome.result = result
    outcome.profile = replace(result.profile(), name=outcome.display_name)
    return outcome, list(model.warnings)


def _autolabel(
    model: LoadedModel,
    detector: GroundingDinoDetector,
    store: FrameStore,
    prompts: PromptSet,
    progress: Callable[[int, int], None],
) -> RunResult:
    """The auto-labeler on the same frames; its tracks of the clicked players take the clicked ids."""
    source = DetectorSource(detector, every=DEFAULT_EVERY)
    result = AutoLabeler(model, source, AutoLabelSettings()).run(store, progress)
    mapped, _ = map_prompts_to_selection(prompts, store)
    assert result.autolabel is not None
    result.autolabel.object_of_track = relabel_to_clicked_objects(result, mapped)
    return result


def _failure_sentence(label: str, name: str, error: BaseException) -> str:
    who = f"Model {label} ({name})"
    if _is_out_of_memory(error):
        return f"{who} ran out of GPU memory on this clip: try fewer frames, a smaller max side or a smaller model."
    if isinstance(error, MemoryError):
        return f"{who} ran out of memory on this clip: try fewer frames or a smaller max side."
    if isinstance(error, ModelUnavailableError):
        return f"{who} is not available: {_one_line(error)}."
    if isinstance(error, TrackingError):
        return f"{who} could not track: {_one_line(error)}."
    return f"{who} failed while tracking ({type(error).__name__}: {_one_line(error)})."


def _one_line(error: BaseException, limit: int = 400) -> str:
    lines = str(error).strip().splitlines()
    text = lines[0].strip().rstrip(".") if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _is_out_of_memory(error: BaseException) -> bool:
    import torch

    return isinstance(error, torch.OutOfMemoryError)  # torch.cuda.OutOfMemoryError is the same class


def _free_memory(pool: ModelPool) -> None:
    """After running out of memory, hand the failed run's cached blocks back so the other model has room."""
    gc.collect()
    if pool.device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()


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
        notices += [f"{outcome.label} ({outcome.name}): {w}" for w in per_model[outcome.label] if w not in shared]
    return notices


# ---------------------------------------------------------------------------------------------------------------
# Rendering: every video in one pass over the frames


def _render(
    store: FrameStore, outcomes: list[ModelOutcome], out: Path, notify: ProgressFn
) -> tuple[Path, Path | None]:
    """Per frame: each completed model's overlay drawn once, written to its overlay.mp4 and into the side-by-side
    view (a failed model's side shows its error); the disagreement view when both completed."""
    done = [o for o in outcomes if o.ok]
    both = len(done) == 2
    side_path, disagreement_path = out / SIDE_BY_SIDE_NAME, out / DISAGREEMENT_NAME
    with ExitStack() as stack:
        overlays = {o.label: stack.enter_context(VideoWriter(o.overlay, fps=store.fps)) for o in done}
        side_writer = stack.enter_context(VideoWriter(side_path, fps=store.fps))
        disagreement_writer = stack.enter_context(VideoWriter(disagreement_path, fps=store.fps)) if both else None
        titles = [o.display_name if o.ok else f"{o.display_name}: failed" for o in outcomes]
        for index in range(len(store)):
            rgb = store[index]
            labels = {o.label: o.result.masks.label_map(index) for o in done if o.result is not None}
            panels = []
            for outcome in outcomes:
                if outcome.label in labels:
                    panel = _overlay_frame(outcome, rgb, labels[outcome.label], index)
                    overlays[outcome.label].write(panel)
                else:
                    panel = _error_panel(rgb, outcome.error or "")
                panels.append(panel)
            side_writer.write(side_by_side(panels[0], panels[1], titles[0], titles[1]))
            if disagreement_writer is not None:
                disagreement_writer.write(disagreement_frame(rgb, labels["A"], labels["B"]))
            for outcome in done:
                notify(outcome.label, "render", index + 1, len(store))
    return side_path, disagreement_path if both else None


def _overlay_frame(outcome: ModelOutcome, rgb: np.ndarray, labels: np.ndarray, index: int) -> np.ndarray:
    """The frame as the model's overlay.mp4 shows it (the same drawing as `playerseg segment`'s overlay)."""
    assert outcome.result is not None
    frame = draw_overlay(rgb, labels, outcome.result.prompts.for_frame(index))
    if outcome.random_weights:
        return with_caption(frame, f"{outcome.result.model['model']}: RANDOM WEIGHTS, masks mean nothing")
    return frame


def _error_panel(rgb: np.ndarray, sentence: str) -> np.ndarray:
    """The frame greyed and darkened, with the failed model's error sentence written over it (wrapped)."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    out = np.repeat(np.rint(grey * 0.3).astype(np.uint8)[..., None], 3, axis=2)
    height, width = out.shape[:2]
    font, thickness = cv2.FONT_HERSHEY_SIMPLEX, 1
    scale = max(0.3, min(0.8, width / 1000))
    margin = max(4, width // 40)
    (_, text_height), baseline = cv2.getTextSize("Ag", font, scale, thickness)
    step = text_height + baseline + max(2, text_height // 2)
    lines = _wrap(sentence, lambda text: cv2.getTextSize(text, font, scale, thickness)[0][0], width - 2 * margin)
    fitting = max(1, (height - 2 * margin) // step)
    if len(lines) > fitting:  # too long for the frame: cut, and say so
        lines = lines[:fitting]
        lines[-1] = lines[-1].rstrip(".") + "..."
    for row, line in enumerate(lines):
        y = margin + text_height + row * step
        cv2.putText(out, line, (margin, y), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def _wrap(text: str, measure: Callable[[str], int], width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and measure(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return lines + ([current] if current else [])


# ---------------------------------------------------------------------------------------------------------------
# Metrics and report


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


def _score(
    outcome: ModelOutcome, store: FrameStore, ground_truth: MaskSequence | None, notify: ProgressFn
) -> list[str]:
    """Accuracy (with ground truth) then flicker, on the processed frames; returns notices."""
    notices: list[str] = []
    pred = _prediction(outcome)
    total = 2 if ground_truth is not None else 1
    notify(outcome.label, "score", 0, total)
    if ground_truth is not None:
        try:
            notices += _accuracy(outcome, ground_truth)
        except (AccuracyError, DatasetError, SequenceError, PromptError) as error:  # e.g. a mask that cannot be read
            notices.append(f"{outcome.display_name}: accuracy not scored: {_one_line(error)}.")
        notify(outcome.label, "score", 1, total)
    index_of = {source: index for index, source in enumerate(store.source_indices)}
    outcome.temporal = temporal_stability(
        pred, frames=lambda frame: store[index_of[frame]], name=outcome.display_name, accuracy=outcome.accuracy
    )
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


def _agreement(done: list[ModelOutcome]) -> AgreementResult:
    a, b = done
    return agreement(_prediction(a), _prediction(b), name_a=a.display_name, name_b=b.display_name)


def _write_report(
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
