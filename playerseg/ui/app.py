"""The Blocks: tabs built by their modules, one Run that fills every tab, ground-truth scoring, and the API.

Per-user state is one `Session` in a gr.State; the model pool is the only thing shared between users, and it is
read-only once a model is loaded. GPU-bound runs (UI and API) share one concurrency group capped at
`config.gpu_concurrency`; the queue holds the rest.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from evaluation.datasets import DatasetError
from evaluation.datasets.mask_pngs import load_mask_folder
from evaluation.sequence import MaskSequence
from playerseg.compare.ground_truth import GroundTruthError, read_ground_truth
from playerseg.compare.outcome import Comparison
from playerseg.compare.pool import ModelPool
from playerseg.compare.run import compare_models
from playerseg.compare.scoring import score_comparison
from playerseg.io.prompts import PromptError
from playerseg.io.video import VideoError
from playerseg.ui.accuracy_tab import AccuracyTab, build_accuracy_tab
from playerseg.ui.api import API_FOLDER, make_compare_endpoint
from playerseg.ui.clip_tab import build_clip_tab, wire_clip_tab
from playerseg.ui.compare_tab import CompareTab, build_compare_tab
from playerseg.ui.config import AppConfig
from playerseg.ui.example import prepare_example
from playerseg.ui.export_tab import ExportTab, build_export_tab
from playerseg.ui.gpu import gpu_function, on_zero_gpu
from playerseg.ui.latency_tab import LatencyTab, build_latency_tab
from playerseg.ui.limits import LimitError, RunStopped, check_objects, with_deadline
from playerseg.ui.memory_tab import MemoryTab, build_memory_tab
from playerseg.ui.public import clear_leftovers, holding, public_message, sweep, upload_folder
from playerseg.ui.session import Session, SessionError
from playerseg.ui.stability_tab import StabilityTab, build_stability_tab

TITLE = "PlayerSeg: zero-shot vs finetuned SAM2 on your footage"
INTRO = (
    "Upload a clip (or load the example), click the players to track, pick two models and run them on the same "
    "prompts. The tabs compare the results: stability (flicker), per-frame latency, memory and accuracy."
)
GPU_GROUP = "gpu"
CSS = "#prompt-frame img { cursor: crosshair; }"
SESSIONS_FOLDER = "sessions"  # one folder per browser tab, deleted with the tab's state
UPLOADS_FOLDER = "uploads"  # Gradio's cache (GRADIO_TEMP_DIR) when app.py sets it
SWEPT_FOLDERS = (API_FOLDER, SESSIONS_FOLDER, UPLOADS_FOLDER)
SESSION_IDLE_S = 24 * 3600  # a session folder whose tab never said goodbye


class ResultTabs:
    """The tabs a comparison fills, in output order."""

    def __init__(self, *tabs: CompareTab | StabilityTab | LatencyTab | MemoryTab | AccuracyTab | ExportTab) -> None:
        self.tabs = tabs

    def outputs(self) -> list[Any]:
        return [component for tab in self.tabs for component in tab.outputs()]

    def render(self, comparison: Comparison | None) -> list[Any]:
        return [value for tab in self.tabs for value in tab.render(comparison)]


def build_app(config: AppConfig, pool: ModelPool | None = None) -> gr.Blocks:
    pool = pool or ModelPool(device=config.device, cache=not on_zero_gpu())
    Path(config.work_dir).mkdir(parents=True, exist_ok=True)
    keep_uploads_in_work_dir(config)  # before any Blocks exists: Gradio reads GRADIO_TEMP_DIR when it builds them
    clear_leftovers(*(Path(config.work_dir) / name for name in SWEPT_FOLDERS))  # a killed process's runs and uploads
    example = prepare_example(config.work_dir, config.example_frames)
    run_compare = gpu_function(compare_models)
    start_sweeper(config)

    with gr.Blocks(title="PlayerSeg") as demo:
        state = gr.State(Session(), delete_callback=lambda session: _forget(session, config.work_dir))
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Tabs():
            with gr.Tab("1. Clip & prompts", id="clip"):
                clip_tab = build_clip_tab(config)
            with gr.Tab("2. Side by side", id="compare"):
                compare_tab = build_compare_tab(config)
            with gr.Tab("3. Temporal stability", id="stability"):
                stability_tab = build_stability_tab()
            with gr.Tab("4. Latency", id="latency"):
                latency_tab = build_latency_tab()
            with gr.Tab("5. Memory", id="memory"):
                memory_tab = build_memory_tab()
            with gr.Tab("6. Accuracy", id="accuracy"):
                accuracy_tab = build_accuracy_tab()
            with gr.Tab("7. Export", id="export"):
                export_tab = build_export_tab()
        results = ResultTabs(compare_tab, stability_tab, latency_tab, memory_tab, accuracy_tab, export_tab)
        wire_clip_tab(clip_tab, state, config, example)

        run_models = _run_handler(config, pool, run_compare, results)

        compare_tab.run.click(
            run_models,
            [state, compare_tab.model_a, compare_tab.model_b],
            [state, compare_tab.status, *results.outputs()],
            concurrency_limit=config.gpu_concurrency,
            concurrency_id=GPU_GROUP,
            api_visibility="private",
        )

        def score(session: Session, path: str | None) -> list:
            session.ground_truth = path
            comparison = session.comparison
            if comparison is not None and path:
                try:
                    clip = session.require_clip().info
                    truth = read_ground_truth(path, session.work_dir(config.work_dir) / "ground_truth", clip=clip)
                    score_comparison(comparison, truth)
                except (GroundTruthError, DatasetError, ValueError) as error:
                    raise gr.Error(public_message(str(error))) from None
            values = accuracy_tab.render(comparison)
            if comparison is None:
                values[0] = "Ground truth stored: it is scored when you run the models." if path else ""
            return [session, *values, *export_tab.render(comparison)]

        score_outputs = [state, *accuracy_tab.outputs(), *export_tab.outputs()]
        accuracy_tab.ground_truth.upload(
            score, [state, accuracy_tab.ground_truth], score_outputs, api_visibility="private"
        )
        accuracy_tab.score.click(score, [state, accuracy_tab.ground_truth], score_outputs, api_visibility="private")
        gr.api(
            make_compare_endpoint(config, pool, run_compare),
            api_name="compare",
            concurrency_limit=config.gpu_concurrency,
            concurrency_id=GPU_GROUP,
        )
    return demo


def _run_handler(
    config: AppConfig, pool: ModelPool, run_compare: Callable[..., Comparison], results: ResultTabs
) -> Callable[..., list]:
    """The Run button: both models on the session's clip and prompts, within the server's limits."""
    limits = config.limits

    def run_models(session: Session, model_a: str, model_b: str, progress: gr.Progress = gr.Progress()) -> list:
        try:
            prompts = session.check_ready()
            check_objects(len(prompts.object_ids), limits)
            selection, notices = session.selection(limits)
            truth = _ground_truth(session, config.work_dir)
        except (SessionError, GroundTruthError, DatasetError, LimitError) as error:
            raise gr.Error(public_message(str(error))) from None
        clip = session.require_clip()
        if not Path(clip.path).is_file():
            raise gr.Error(
                f"{clip.name} is no longer on the server (uploads unused for {config.result_ttl_s} s are deleted): "
                "upload it again."
            )
        out_dir = session.work_dir(config.work_dir) / f"run-{session.runs + 1}"

        def report(label: str, stage: str, done: int, total: int) -> None:
            who = f"Model {label}" if label else "Both models"
            progress((done, max(total, 1)), desc=f"{who}: {stage}")

        try:
            with holding(clip.path, session.ground_truth, out_dir):
                comparison = run_compare(
                    clip.path, prompts, [model_a, model_b], out_dir, pool=pool, selection=selection,
                    ground_truth=truth, progress=with_deadline(report, limits.timeout_s),
                )
        except (PromptError, VideoError, ValueError, RunStopped) as error:
            shutil.rmtree(out_dir, ignore_errors=True)
            raise gr.Error(public_message(str(error))) from None
        _replace_results(session, comparison)
        for outcome in comparison.outcomes:
            if not outcome.ok:
                gr.Warning(public_message(f"Model {outcome.label} failed: {outcome.error}"))
        return [session, _status(comparison, notices), *results.render(comparison)]

    return run_models


def start_sweeper(config: AppConfig) -> threading.Thread:
    """A daemon thread that deletes API results and uploads older than PLAYERSEG_RESULT_TTL_S, and sessions idle for
    a day (a closed tab's session is deleted at once), a few times per TTL."""
    root = Path(config.work_dir)
    ttl = config.result_ttl_s
    ages = {root / API_FOLDER: ttl, upload_folder(): ttl, root / SESSIONS_FOLDER: max(ttl, SESSION_IDLE_S)}
    period = max(1.0, min(60.0, ttl / 4))

    def loop() -> None:
        while True:
            for folder, age in ages.items():
                sweep(folder, age)
            time.sleep(period)

    thread = threading.Thread(target=loop, name="playerseg-sweeper", daemon=True)
    thread.start()
    return thread


def keep_uploads_in_work_dir(config: AppConfig) -> None:
    """Gradio's upload and output cache goes to WORK_DIR/uploads (unless GRADIO_TEMP_DIR is set), where the sweeper
    deletes old files and a restart clears what a killed process left. Never left to Gradio's default, the machine's
    shared <tmp>/gradio, which the sweeper must not touch."""
    os.environ.setdefault("GRADIO_TEMP_DIR", str(Path(config.work_dir).resolve() / UPLOADS_FOLDER))


def launch_kwargs(config: AppConfig) -> dict[str, Any]:
    """Server name and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (Gradio reads them). Users can fetch
    files of the work folder's example and their own runs; uploads over PLAYERSEG_MAX_UPLOAD_MB are refused."""
    return {
        "allowed_paths": [config.work_dir],
        "max_file_size": f"{config.max_upload_mb}mb",
        "css": CSS,
        "theme": gr.themes.Soft(),
    }


def _ground_truth(session: Session, root: str) -> MaskSequence | None:
    """Uploaded ground truth wins; the example clip brings its own."""
    if session.ground_truth:
        folder = session.work_dir(root) / "ground_truth"
        return read_ground_truth(session.ground_truth, folder, clip=session.require_clip().info)
    clip = session.require_clip()
    if clip.ground_truth:
        return load_mask_folder(clip.ground_truth, name="ground truth")
    return None


def _replace_results(session: Session, comparison: Comparison) -> None:
    """Keep only the newest run on disk; the previous one is removed once the new one exists."""
    previous = session.comparison
    session.comparison = comparison
    session.runs += 1
    if previous is not None and previous.out_dir != comparison.out_dir:
        shutil.rmtree(previous.out_dir, ignore_errors=True)


def _status(comparison: Comparison, notices: list[str]) -> str:
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


def _forget(session: Session, root: str) -> None:
    """A closed browser tab's runs are deleted with its state."""
    shutil.rmtree(Path(root) / SESSIONS_FOLDER / session.session_id, ignore_errors=True)
