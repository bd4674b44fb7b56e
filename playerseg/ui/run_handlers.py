"""The handlers that fill the result tabs, testable without a browser: Run (both models on the session's clip and
prompts, within the server's limits) and ground-truth scoring. Each takes the Session and the components' values and
returns the Session, then every result tab's values in the order of the wired outputs; a request the app refuses
raises a gr.Error of one sentence."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from evaluation.datasets import DatasetError
from evaluation.datasets.mask_pngs import load_mask_folder
from evaluation.sequence import MaskSequence
from playerseg.compare.ground_truth import GroundTruthError, read_ground_truth
from playerseg.compare.outcome import Comparison
from playerseg.compare.pool import ModelPool
from playerseg.compare.scoring import score_comparison
from playerseg.io.prompts import PromptError
from playerseg.io.video import VideoError
from playerseg.ui.accuracy_tab import AccuracyTab
from playerseg.ui.compare_tab import CompareTab
from playerseg.ui.config import AppConfig
from playerseg.ui.export_tab import ExportTab
from playerseg.ui.latency_tab import LatencyTab
from playerseg.ui.limits import LimitError, RunStopped, check_objects, with_deadline
from playerseg.ui.memory_tab import MemoryTab
from playerseg.ui.public import holding, public_message
from playerseg.ui.session import Session, SessionError
from playerseg.ui.stability_tab import StabilityTab

ProgressReport = Callable[[str, str, int, int], None]  # label, stage, done, total


class ResultTabs:
    """The tabs a comparison fills, in output order."""

    def __init__(self, *tabs: CompareTab | StabilityTab | LatencyTab | MemoryTab | AccuracyTab | ExportTab) -> None:
        self.tabs = tabs

    def outputs(self) -> list[Any]:
        return [component for tab in self.tabs for component in tab.outputs()]

    def render(self, comparison: Comparison | None) -> list[Any]:
        return [value for tab in self.tabs for value in tab.render(comparison)]


@dataclass(frozen=True)
class RunHandler:
    """The Run button with what it needs: settings and limits, the model pool, the (GPU-wrapped) comparison and the
    tabs it fills."""

    config: AppConfig
    pool: ModelPool
    run_compare: Callable[..., Comparison]
    results: ResultTabs

    def run_models(self, session: Session, model_a: str, model_b: str, progress: gr.Progress = gr.Progress()) -> list:
        """Both models on the session's clip and prompts; returns [session, status, *every result tab's values]."""
        config, limits = self.config, self.config.limits
        try:
            prompts = session.check_ready()
            check_objects(len(prompts.object_ids), limits)
            selection, notices = session.selection(limits)
            truth = session_ground_truth(session, config.work_dir)
        except (SessionError, GroundTruthError, DatasetError, LimitError) as error:
            raise gr.Error(public_message(str(error))) from None
        clip = session.require_clip()
        if not Path(clip.path).is_file():
            raise gr.Error(
                f"{clip.name} is no longer on the server (uploads unused for {config.result_ttl_s} s are deleted): "
                "upload it again."
            )
        out_dir = session.work_dir(config.work_dir) / f"run-{session.runs + 1}"
        try:
            with holding(clip.path, session.ground_truth, out_dir):
                comparison = self.run_compare(
                    clip.path,
                    prompts,
                    [model_a, model_b],
                    out_dir,
                    pool=self.pool,
                    selection=selection,
                    ground_truth=truth,
                    progress=with_deadline(progress_reporter(progress), limits.timeout_s),
                )
        except (PromptError, VideoError, ValueError, RunStopped) as error:
            shutil.rmtree(out_dir, ignore_errors=True)
            raise gr.Error(public_message(str(error))) from None
        replace_results(session, comparison)
        for outcome in comparison.outcomes:
            if not outcome.ok:
                gr.Warning(public_message(f"Model {outcome.label} failed: {outcome.error}"))
        return [session, run_status(comparison, notices), *self.results.render(comparison)]


@dataclass(frozen=True)
class ScoreHandler:
    """Ground truth uploaded or re-scored: scores the session's last comparison and refreshes accuracy and export."""

    work_dir: str
    accuracy_tab: AccuracyTab
    export_tab: ExportTab

    def score(self, session: Session, path: str | None) -> list:
        """Returns [session, *the accuracy tab's values, *the export tab's values]."""
        session.ground_truth = path
        comparison = session.comparison
        if comparison is not None and path:
            try:
                clip = session.require_clip().info
                truth = read_ground_truth(path, session.work_dir(self.work_dir) / "ground_truth", clip=clip)
                score_comparison(comparison, truth)
            except (GroundTruthError, DatasetError, ValueError) as error:
                raise gr.Error(public_message(str(error))) from None
        values = self.accuracy_tab.render(comparison)
        if comparison is None:
            values[0] = "Ground truth stored: it is scored when you run the models." if path else ""
        return [session, *values, *self.export_tab.render(comparison)]


def progress_reporter(progress: gr.Progress) -> ProgressReport:
    """compare_models' progress as the Run button's progress bar: "Model A: tracking", "Both models: rendering"."""

    def report(label: str, stage: str, done: int, total: int) -> None:
        who = f"Model {label}" if label else "Both models"
        progress((done, max(total, 1)), desc=f"{who}: {stage}")

    return report


def session_ground_truth(session: Session, root: str) -> MaskSequence | None:
    """Uploaded ground truth wins; the example clip brings its own."""
    if session.ground_truth:
        folder = session.work_dir(root) / "ground_truth"
        return read_ground_truth(session.ground_truth, folder, clip=session.require_clip().info)
    clip = session.require_clip()
    if clip.ground_truth:
        return load_mask_folder(clip.ground_truth, name="ground truth")
    return None


def replace_results(session: Session, comparison: Comparison) -> None:
    """Keep only the newest run on disk; the previous one is removed once the new one exists."""
    previous = session.comparison
    session.comparison = comparison
    session.review = None  # a review belongs to the comparison it was started from
    session.runs += 1
    if previous is not None and previous.out_dir != comparison.out_dir:
        shutil.rmtree(previous.out_dir, ignore_errors=True)


def run_status(comparison: Comparison, notices: list[str]) -> str:
    """One bold line per model (done with its p50 latency, or failed with why), then the notices."""
    lines = []
    for outcome in comparison.outcomes:
        if outcome.ok:
            profile = outcome.profile
            speed = f": p50 {profile.summary().p50_ms:.0f} ms/frame on {profile.device}" if profile else ""
            lines.append(f"**Model {outcome.display_name}: done**{speed}.")
        else:
            lines.append(f"**Model {outcome.label} ({outcome.name}): failed.** {outcome.error}")
    lines += [f"Note: {notice}" for notice in [*notices, *comparison.notices]]
    return "\n\n".join(lines)
