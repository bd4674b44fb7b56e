"""What a comparison produced: each model's outcome (or its error), the Comparison, and its JSON summary."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.results.accuracy import AccuracyResult
from evaluation.results.agreement import AgreementResult
from evaluation.results.profile import ProfileResult
from evaluation.results.temporal import TemporalResult
from playerseg.autolabel.detector import get_detector_spec
from playerseg.autolabel.labeler import parse_autolabel_name
from playerseg.io.video import VideoInfo
from playerseg.runs.facts import RunFacts, SelectionFacts
from playerseg.runs.pipeline import RunResult
from playerseg.tracking.registry import ModelUnavailableError, display_name, get_spec
from playerseg.tracking.sam3_video import sam3_video_spec

SUMMARY_DIGITS = 4
LATENCY_KEYS = ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "fps", "prompt_ms", "frames")
ACCURACY_KEYS = ("J_mean", "F_mean", "JF_mean", "J_recall", "F_recall", "frames_scored")


@dataclass
class ModelOutcome:
    """What one of the two models produced, or why it produced nothing."""

    label: str  # "A" or "B"
    name: str  # the registry name or checkpoint path asked for
    error: str | None = None  # one sentence when this model failed (the other still completes)
    run_dir: Path | None = None  # run folder as `playerseg segment` writes it
    facts: RunFacts | None = None  # run.json content, once its run folder is written
    profile: ProfileResult | None = None
    temporal: TemporalResult | None = None
    accuracy: AccuracyResult | None = None  # when ground truth was given
    result: RunResult | None = field(default=None, repr=False)  # masks in the processed frames' size

    @property
    def ok(self) -> bool:
        return self.error is None and self.run_dir is not None

    @property
    def random_weights(self) -> bool:
        if self.result is not None:
            return self.result.model.random_weights
        try:  # a failed model: the registry still tells whether it is a random-weight one
            autolabeler = parse_autolabel_name(self.name)
            if autolabeler is not None and autolabeler.is_sam3:
                return sam3_video_spec(autolabeler.detector).random_weights
            if autolabeler is not None:
                detector, tracker = autolabeler.detector, autolabeler.tracker
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
    selection: SelectionFacts
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
            "selection": self.selection.to_json(),
            "notices": list(self.notices),
            "models": {o.label: _model_summary(o) for o in self.outcomes},
            "agreement": self.agreement.summary() if self.agreement is not None else None,
            "files": {key: str(path) if path is not None else None for key, path in files.items()},
        }
        return _rounded(summary)


def _model_summary(outcome: ModelOutcome) -> dict[str, Any]:
    facts = outcome.facts
    latency = facts.latency.to_json() if facts is not None and outcome.ok else None
    memory = facts.memory if facts is not None and outcome.ok else None
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
        "device": facts.model.device if facts is not None else None,
        "checkpoint": facts.model.checkpoint if facts is not None else None,
        "latency": {key: latency.get(key) for key in LATENCY_KEYS} if latency else None,
        "memory": memory.to_json() if memory else None,
        "flicker": flicker,
        "accuracy": accuracy,
        "autolabel": _autolabel_report(facts) if outcome.ok else None,  # the auto-labeler's detections, id events
    }


def _autolabel_report(facts: RunFacts | None) -> dict[str, Any] | None:
    return facts.autolabel.report if facts is not None and facts.autolabel is not None else None


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
