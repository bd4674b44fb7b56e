"""The public `compare` endpoint for gradio_client and HTTP callers (the UI's click handlers are private).

    from gradio_client import Client, handle_file
    video_a, video_b, summary = Client(URL).predict(
        video=handle_file("clip.mp4"), prompts=open("prompts.json").read(),
        model_a="sam2.1-large", model_b="sam2.1-small", api_name="/compare")

Returns model A's and model B's overlay videos (H.264 mp4; None for a model that failed) and the summary JSON
(per model: latency p50/p95 ms, peak memory MB and its kind, flicker metrics, J&F when ground truth is given, and
the error sentence of a model that failed).
"""

# No `from __future__ import annotations` here: gr.api reads the real type hints to describe the endpoint.

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import FileData

from evaluation.sequence import MaskSequence
from playerseg.compare import Comparison, GroundTruthError, ModelPool, Selection, compare_models, read_ground_truth
from playerseg.prompts import PromptError, PromptSet
from playerseg.ui.clip_tab import VIDEO_TYPES
from playerseg.ui.config import AppConfig
from playerseg.ui.session import Limits, limited_selection
from playerseg.video import VideoError, probe_video

CompareFn = Callable[..., Comparison]


def make_compare_endpoint(config: AppConfig, pool: ModelPool, run: CompareFn = compare_models) -> Callable[..., Any]:
    """The endpoint function; `run` is compare_models, wrapped for the GPU by the app."""

    def compare(
        video: FileData,
        prompts: str,
        model_a: str,
        model_b: str,
        ground_truth: FileData | None = None,
    ) -> tuple[FileData | None, FileData | None, dict[str, Any]]:
        """Run model_a and model_b on the clip with the same prompts (prompts JSON: {"version": 1, "prompts": [...]}
        in clip frames and pixels). Optional ground_truth: zip of palette PNGs or COCO-RLE json. Returns
        (video_a, video_b, summary)."""
        clip = _file_path(video, "video")
        _check_video(clip)
        prompt_set = _parse_prompts(prompts)
        for name in (model_a, model_b):
            if name not in config.models:
                raise gr.Error(f"Model {name!r} is not offered here; choose one of: {', '.join(config.models)}.")
        out_dir = Path(config.work_dir) / "api" / uuid.uuid4().hex[:12]
        truth = _ground_truth(ground_truth, out_dir)
        selection, notices = _selection(clip, config)
        try:
            comparison = run(
                clip, prompt_set, [model_a, model_b], out_dir, pool=pool, selection=selection, ground_truth=truth
            )
        except (PromptError, VideoError, ValueError) as error:
            raise gr.Error(str(error)) from None
        if not any(o.ok for o in comparison.outcomes):
            raise gr.Error(" ".join(o.error or "" for o in comparison.outcomes))
        summary = comparison.summary()
        summary["notices"] = [*notices, *summary.get("notices", [])]
        a, b = comparison.outcomes
        return _file(a.overlay if a.ok else None), _file(b.overlay if b.ok else None), summary

    return compare


def _file_path(value: Any, what: str) -> str:
    if isinstance(value, dict) and value.get("path"):
        return str(value["path"])
    if isinstance(value, FileData):
        return str(value.path)
    if isinstance(value, str) and value:
        return value
    raise gr.Error(f"No {what} file was sent: pass it with gradio_client.handle_file(path).")


def _check_video(path: str) -> None:
    if Path(path).suffix.lower() not in VIDEO_TYPES:
        raise gr.Error(f"{Path(path).name} is not a video this app reads: send an mp4, mov, webm, avi or mkv file.")
    try:
        probe_video(path)
    except VideoError as error:
        raise gr.Error(f"Cannot read {Path(path).name}: {error}") from None


def _parse_prompts(text: str) -> PromptSet:
    try:
        prompts = PromptSet.from_json(text)
    except PromptError as error:
        raise gr.Error(str(error)) from None
    if not prompts.prompts:
        raise gr.Error("The prompts list is empty: give at least one click or box for one object.")
    return prompts


def _ground_truth(value: Any, out_dir: Path) -> MaskSequence | None:
    if value is None:
        return None
    try:
        return read_ground_truth(_file_path(value, "ground truth"), out_dir / "ground_truth")
    except GroundTruthError as error:
        raise gr.Error(str(error)) from None


def _selection(clip: str, config: AppConfig) -> tuple[Selection, list[str]]:
    """The API processes the whole clip within the app's limits, as the UI does, and says when it trims."""
    info = probe_video(clip)
    return limited_selection(info, 0, info.frame_count - 1, 1, Limits(config.max_frames, config.max_side))


def _file(path: Path | None) -> FileData | None:
    return FileData(path=str(path)) if path is not None and path.exists() else None
