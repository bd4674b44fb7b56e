"""The run folder (DESIGN.md section 2): masks/00000.png..., overlay.mp4, frames.csv, run.json
(+ detections.json, and "track_ids" in run.json, for an auto-labelling run).

Masks are written at the clip's own size and named by the clip's frame number, so they line up with ground truth
in the DAVIS layout; the overlay video shows the processed frames (possibly downscaled) at the processed rate.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import platform
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from evaluation.results import latency_summary_dict
from playerseg.detections import write_detections_json
from playerseg.masks import write_palette_png
from playerseg.overlay import draw_overlay, with_caption
from playerseg.pipelines import FrameStats, RunResult
from playerseg.prompts import PromptSet
from playerseg.video import FrameStore, VideoWriter

FRAME_COLUMNS = [
    "frame",
    "time_s",
    "latency_ms",
    "decode_ms",
    "prompt_ms",
    "detect_ms",
    "prompt_frame",
    "memory_mb",
    "peak_memory_mb",
    "passes",
    "visible_objects",
]
RenderProgress = Callable[[int, int], None]


def write_run_folder(
    result: RunResult,
    store: FrameStore,
    out_dir: str | Path,
    command: str = "",
    progress: RenderProgress | None = None,
    source_prompts: PromptSet | None = None,
) -> Path:
    """Write every output of a run; returns the folder. `source_prompts` (clip frames and pixels) is kept as
    prompts.json so the run can be replayed on another model."""
    out = Path(out_dir)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    if source_prompts is not None:
        source_prompts.save(out / "prompts.json")
    write_masks(result, out / "masks")
    write_overlay(result, store, out / "overlay.mp4", progress)
    write_frames_csv(result.frame_stats, out / "frames.csv")
    if result.autolabel is not None:
        write_detections_json(result.autolabel.records, out / "detections.json")
    (out / "run.json").write_text(json.dumps(run_facts(result, command), indent=2))
    return out


def write_masks(result: RunResult, folder: Path) -> None:
    clip_size = (result.clip.width, result.clip.height)
    for index, source_frame in enumerate(result.source_indices):
        labels = result.masks.label_map(index)
        if labels.shape[::-1] != clip_size:  # processed downscaled: masks go back to the clip's size
            labels = cv2.resize(labels, clip_size, interpolation=cv2.INTER_NEAREST)
        write_palette_png(folder / f"{source_frame:05d}.png", labels)


def write_overlay(result: RunResult, store: FrameStore, path: Path, progress: RenderProgress | None = None) -> None:
    caption = f"{result.model['model']}: RANDOM WEIGHTS, masks mean nothing" if result.model["random_weights"] else ""
    with VideoWriter(path, fps=store.fps) as writer:
        for index in range(len(store)):
            frame = draw_overlay(store[index], result.masks.label_map(index), result.prompts.for_frame(index))
            writer.write(with_caption(frame, caption) if caption else frame)
            if progress is not None:
                progress(index + 1, len(store))


def write_frames_csv(stats: list[FrameStats], path: Path) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FRAME_COLUMNS)
        writer.writeheader()
        for row in stats:
            writer.writerow(
                {
                    "frame": row.source_frame,
                    "time_s": round(row.time_s, 4),
                    "latency_ms": round(row.latency_ms, 3),
                    "decode_ms": round(row.decode_ms, 3),
                    "prompt_ms": round(row.prompt_ms, 3),
                    "detect_ms": round(row.detect_ms, 3),
                    "prompt_frame": int(row.prompt_frame),
                    "memory_mb": round(row.memory_mb, 2),
                    "peak_memory_mb": round(row.peak_memory_mb, 2),
                    "passes": row.passes,
                    "visible_objects": row.visible_objects,
                }
            )


def latency_summary(result: RunResult) -> dict[str, Any]:
    """evaluation's summary: p50/p95/p99/max over tracked frames, prompt frames apart, fps, peak memory."""
    summary = latency_summary_dict(result.profile().summary())
    summary["total_s"] = round(sum(s.latency_ms for s in result.frame_stats) / 1000.0, 3)
    return summary


def run_facts(result: RunResult, command: str = "") -> dict[str, Any]:
    """run.json: model and checkpoint, device, sizes, timings and warnings."""
    peak = max((s.peak_memory_mb for s in result.frame_stats), default=0.0)
    on_cuda = str(result.model.get("device", "")).startswith("cuda")
    autolabel = {} if result.autolabel is None else {
        "track_ids": result.autolabel.track_ids,
        "autolabel": result.autolabel.facts(),
    }
    return {
        **result.model,
        "clip": asdict(result.clip),
        "selection": result.selection,
        "objects": result.object_ids,
        "prompts": result.prompts.to_dict(),
        "prompt_space": "processed frames (selection index, processed pixels)",
        "latency": latency_summary(result),
        "memory": {
            "kind": "cuda_allocated" if on_cuda else "process_rss",
            "peak_mb": round(peak, 2),
        },
        "timings": {key: round(value, 3) for key, value in result.timings.items()},
        "warnings": result.warnings,
        **autolabel,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "command": command,
    }
