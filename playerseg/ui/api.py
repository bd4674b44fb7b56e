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

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import FileData

from playerseg.compare.ground_truth import GroundTruthError, read_ground_truth
from playerseg.compare.outcome import Comparison
from playerseg.compare.pool import ModelPool
from playerseg.compare.run import compare_models
from playerseg.io.prompts import PromptError, PromptSet
from playerseg.io.video import VideoError, VideoInfo, probe_video
from playerseg.tracking.registry import display_name
from playerseg.ui.clip_handlers import VIDEO_TYPES
from playerseg.ui.config import AppConfig
from playerseg.ui.limits import LimitError, RunStopped, check_objects, limited_selection, with_deadline
from playerseg.ui.public import Upload, UploadError, holding, public_message, sweep, uploaded_file

CompareFn = Callable[..., Comparison]
API_FOLDER = "api"  # under the work folder: one folder per call, kept PLAYERSEG_RESULT_TTL_S seconds


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
        api_root = Path(config.work_dir) / API_FOLDER
        sweep(api_root, config.result_ttl_s)
        out_dir = api_root / uuid.uuid4().hex[:12]
        try:
            return _compare(config, pool, run, out_dir, video, prompts, (model_a, model_b), ground_truth)
        except gr.Error:
            shutil.rmtree(out_dir, ignore_errors=True)
            raise
        except (PromptError, VideoError, GroundTruthError, LimitError, RunStopped, UploadError, ValueError) as error:
            shutil.rmtree(out_dir, ignore_errors=True)
            raise gr.Error(public_message(str(error))) from None

    return compare


def _compare(
    config: AppConfig,
    pool: ModelPool,
    run: CompareFn,
    out_dir: Path,
    video: Any,
    prompts: str,
    models: tuple[str, str],
    ground_truth: Any,
) -> tuple[FileData | None, FileData | None, dict[str, Any]]:
    clip = uploaded_file(video, "video")
    truth_file = None if ground_truth is None else uploaded_file(ground_truth, "ground truth")
    with holding(clip.path, truth_file.path if truth_file else None, out_dir):
        return _run_on_uploads(config, pool, run, out_dir, clip, prompts, models, truth_file)


def _run_on_uploads(
    config: AppConfig,
    pool: ModelPool,
    run: CompareFn,
    out_dir: Path,
    clip: Upload,
    prompts: str,
    models: tuple[str, str],
    truth_file: Upload | None,
) -> tuple[FileData | None, FileData | None, dict[str, Any]]:
    info = _check_video(clip)
    prompt_set = _parse_prompts(prompts)
    models = (_offered_model(models[0], config), _offered_model(models[1], config))
    limits = config.limits
    check_objects(len(prompt_set.object_ids), limits)
    truth = None
    if truth_file is not None:
        truth = read_ground_truth(truth_file.path, out_dir / "ground_truth", clip=info, display_name=truth_file.name)
    objects = len(prompt_set.object_ids)  # the API processes the whole clip within the limits, as the UI does
    selection, notices = limited_selection(info, 0, info.frame_count - 1, 1, limits, objects)
    comparison = run(
        clip.path,
        prompt_set,
        list(models),
        out_dir,
        pool=pool,
        selection=selection,
        ground_truth=truth,
        progress=with_deadline(None, limits.timeout_s),
    )
    if not any(o.ok for o in comparison.outcomes):
        raise gr.Error(public_message(" ".join(o.error or "" for o in comparison.outcomes)))
    summary = public_summary(comparison.summary())
    summary["notices"] = [public_message(n) for n in [*notices, *summary.get("notices", [])]]
    _keep_only_overlays(out_dir)
    a, b = comparison.outcomes
    return _file(a.overlay if a.ok else None), _file(b.overlay if b.ok else None), summary


def _offered_model(name: str, config: AppConfig) -> str:
    """A configured model by its name; a model folder the server keeps (finetuned SAM2, U-Net baseline) may also be
    named by its folder name or as the app names it (`unet:NAME`): callers need not know where the server keeps it,
    and the list of choices never shows it."""
    if name in config.models:
        return name
    folders = [m for m in config.models if Path(m).is_dir()]
    by_folder = [m for m in folders if name in (Path(m).name, display_name(m))]
    if len(by_folder) == 1:
        return by_folder[0]
    offered = ", ".join(display_name(m) if m in folders else m for m in config.models)
    raise gr.Error(f"Model {name!r} is not offered here; choose one of: {offered}.")


def public_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without server paths: no file paths (the videos come back as files), checkpoints by file name,
    error sentences with file names only."""
    summary = {key: value for key, value in summary.items() if key != "files"}
    for model in summary.get("models", {}).values():
        for key in ("name", "error", "checkpoint"):
            if isinstance(model.get(key), str):
                model[key] = public_message(model[key])
    return summary


def _keep_only_overlays(out_dir: Path) -> None:
    """The API returns the two overlays; the rest of the run (masks, shared videos, report, extracted ground truth)
    is deleted at once, and the overlays with their folder once the results' time is up (sweep)."""
    for entry in out_dir.rglob("*"):
        if entry.is_file() and entry.name != "overlay.mp4":
            entry.unlink(missing_ok=True)
    for folder in sorted((p for p in out_dir.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()


def _check_video(clip: Upload) -> VideoInfo:
    if clip.path.suffix.lower() not in VIDEO_TYPES:
        raise gr.Error(f"{clip.name} is not a video this app reads: send an mp4, mov, webm, avi or mkv file.")
    try:
        return probe_video(clip.path)
    except VideoError:
        raise gr.Error(f"Cannot read {clip.name}: it is not a video file this app can decode.") from None


def _parse_prompts(text: str) -> PromptSet:
    if not isinstance(text, str):
        raise gr.Error('prompts must be the prompts JSON as a string: {"version": 1, "prompts": [...]}.')
    prompts = PromptSet.from_json(text)
    return prompts  # PromptSet refuses an empty list, negative-only objects and unknown keys


def _file(path: Path | None) -> FileData | None:
    return FileData(path=str(path)) if path is not None and path.exists() else None
