"""The Blocks, read as a table of contents: the tabs built by their modules, each wired to its named handlers (tab 1:
playerseg.ui.clip_handlers; Run and ground-truth scoring: playerseg.ui.run_handlers), and the `/compare` API.

Per-user state is one `Session` in a gr.State; the model pool is the only thing shared between users, and it is
read-only once a model is loaded. GPU-bound runs (UI and API) share one concurrency group capped at
`config.gpu_concurrency`; the queue holds the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr

from playerseg.annotate.preview import MaskPreview
from playerseg.annotate.retrack import retrack_object
from playerseg.compare.outcome import Comparison
from playerseg.compare.pool import ModelPool
from playerseg.compare.run import compare_models
from playerseg.ui.accuracy_tab import AccuracyTab, build_accuracy_tab
from playerseg.ui.api import API_FOLDER, make_compare_endpoint
from playerseg.ui.clip_tab import ClipTab, build_clip_tab, wire_clip_tab
from playerseg.ui.compare_tab import CompareTab, build_compare_tab
from playerseg.ui.config import AppConfig
from playerseg.ui.dataset_sources import run_example
from playerseg.ui.dataset_tab import DatasetHandler, DatasetTab, build_dataset_tab
from playerseg.ui.example import example_folder, prepare_example
from playerseg.ui.export_tab import ExportTab, build_export_tab
from playerseg.ui.gpu import gpu_function, on_zero_gpu
from playerseg.ui.housekeeping import SESSIONS_FOLDER, forget_session, prepare_work_dir, start_sweeper
from playerseg.ui.latency_tab import LatencyTab, build_latency_tab
from playerseg.ui.memory_tab import MemoryTab, build_memory_tab
from playerseg.ui.review_handlers import ReviewHandlers
from playerseg.ui.review_tab import ReviewTab, build_review_tab, wire_review_tab
from playerseg.ui.run_handlers import ResultTabs, RunHandler, ScoreHandler
from playerseg.ui.session import Session
from playerseg.ui.stability_tab import StabilityTab, build_stability_tab

TITLE = "PlayerSeg: zero-shot vs finetuned SAM2 on your footage"
INTRO = (
    "Upload a clip (or load the example), click the players to track, pick two models and run them on the same "
    "prompts. The tabs compare the results: stability (flicker), per-frame latency, memory and accuracy; tab 8 "
    "compares models over a whole dataset; tab 9 fixes a model's masks and adds the clip to your dataset."
)
GPU_GROUP = "gpu"
CSS = "#prompt-frame img, #review-image img { cursor: crosshair; }"


@dataclass(frozen=True)
class AppTabs:
    """The nine tabs, in page order."""

    clip: ClipTab
    compare: CompareTab
    stability: StabilityTab
    latency: LatencyTab
    memory: MemoryTab
    accuracy: AccuracyTab
    export: ExportTab
    dataset: DatasetTab
    review: ReviewTab

    def results(self) -> ResultTabs:
        """The tabs a comparison fills, in the Run button's output order."""
        tabs = (self.compare, self.stability, self.latency, self.memory, self.accuracy, self.export, self.review)
        return ResultTabs(*tabs)


def build_app(config: AppConfig, pool: ModelPool | None = None) -> gr.Blocks:
    pool = pool or ModelPool(device=config.device, cache=not on_zero_gpu())
    prepare_work_dir(config)  # before any Blocks exists: Gradio reads GRADIO_TEMP_DIR when it builds them
    example = prepare_example(config.work_dir, config.example_frames)
    run_compare = gpu_function(compare_models)
    start_sweeper(config)

    with gr.Blocks(title="PlayerSeg") as demo:
        state = gr.State(Session(), delete_callback=partial(forget_session, root=config.work_dir))
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        tabs = build_tabs(config)
        wire_clip_tab(tabs.clip, state, config, example)
        wire_run(tabs.compare, state, RunHandler(config, pool, run_compare, tabs.results()))
        wire_scoring(tabs.accuracy, state, ScoreHandler(config.work_dir, tabs.accuracy, tabs.export))
        wire_api(config, pool, run_compare)
        wire_dataset(tabs.dataset, state, DatasetHandler(config, tabs.dataset, gpu_function(run_example)))
        review = ReviewHandlers(config, pool, gpu_function(preview_mask), gpu_function(retrack_object))
        wire_review_tab(tabs.review, state, review, gpu_queue(config))
    return demo


def preview_mask(previewer: MaskPreview, *args: object) -> object:
    """One preview decoder call (wrapped for ZeroGPU like the runs)."""
    return previewer.preview(*args)  # type: ignore[arg-type]


def gpu_queue(config: AppConfig) -> dict[str, object]:
    """The GPU group every model call queues in (runs, the example dataset, previews, re-tracking, the API)."""
    return {"concurrency_limit": config.gpu_concurrency, "concurrency_id": GPU_GROUP}


def build_tabs(config: AppConfig) -> AppTabs:
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
        with gr.Tab("8. Dataset", id="dataset"):
            dataset_tab = build_dataset_tab(config)
        with gr.Tab("9. Review & save", id="review") as review_page:
            review_tab = build_review_tab(config.dataset_dir)
            review_tab.page = review_page
    return AppTabs(
        clip_tab, compare_tab, stability_tab, latency_tab, memory_tab, accuracy_tab, export_tab, dataset_tab, review_tab
    )


def wire_run(tab: CompareTab, state: gr.State, handler: RunHandler) -> None:
    """The Run button fills every result tab; it queues in the GPU group with the API."""
    tab.run.click(
        handler.run_models,
        [state, tab.model_a, tab.model_b],
        [state, tab.status, *handler.results.outputs()],
        concurrency_limit=handler.config.gpu_concurrency,
        concurrency_id=GPU_GROUP,
        api_visibility="private",
    )


def wire_scoring(tab: AccuracyTab, state: gr.State, handler: ScoreHandler) -> None:
    """Uploading ground truth, or the Score button, scores the last run (one handler, one queue for both)."""
    score = handler.score
    outputs = [state, *handler.accuracy_tab.outputs(), *handler.export_tab.outputs()]
    tab.ground_truth.upload(score, [state, tab.ground_truth], outputs, api_visibility="private")
    tab.score.click(score, [state, tab.ground_truth], outputs, api_visibility="private")


def wire_dataset(tab: DatasetTab, state: gr.State, handler: DatasetHandler) -> None:
    """An uploaded evaluate folder is shown at once; the example dataset runs models, so it queues in the GPU group."""
    tab.upload.upload(handler.load_dataset, [state, tab.upload], tab.outputs(), api_visibility="private")
    tab.example.click(
        handler.run_example_dataset,
        [state],
        tab.outputs(),
        concurrency_limit=handler.config.gpu_concurrency,
        concurrency_id=GPU_GROUP,
        api_visibility="private",
    )


def wire_api(config: AppConfig, pool: ModelPool, run_compare: Callable[..., Comparison]) -> None:
    """The public `/compare` endpoint, in the GPU group with the Run button."""
    gr.api(
        make_compare_endpoint(config, pool, run_compare),
        api_name="compare",
        concurrency_limit=config.gpu_concurrency,
        concurrency_id=GPU_GROUP,
    )


def launch_kwargs(config: AppConfig) -> dict[str, Any]:
    """Server name and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (Gradio reads them). Users can fetch
    files of the work folder's example, the sessions' runs and the API's results; uploads over
    PLAYERSEG_MAX_UPLOAD_MB are refused. Gradio's upload cache (WORK_DIR/uploads) is NOT an allowed path: Gradio
    serves allowed files inline with their own type, so an uploaded .html would run on the app's origin; from its
    cache it serves only safe types (video, images) inline and everything else as a download."""
    root = Path(config.work_dir)
    return {
        "allowed_paths": [
            str(root / SESSIONS_FOLDER),
            str(root / API_FOLDER),
            str(example_folder(root, config.example_frames)),
        ],
        "max_file_size": f"{config.max_upload_mb}mb",
        "css": CSS,
        "theme": gr.themes.Soft(),
    }
