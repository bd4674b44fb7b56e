"""`python -m playerseg bench`: what one model costs on one clip, split by stage, and what the whole job costs over
bare SAM2 propagation.

Two runs on the same frames and prompts:
- bare propagation: the tracker alone (frames read, SAM2, masks back on the host), results dropped;
- the whole job, as `segment` runs it: tracking into compact masks while the run folder (mask PNGs, overlay
  video, frames.csv, run.json) and the flicker metrics are written as the frames become final.
Without a prompts file, K clicks are spread on a grid over frame 0: the costs are real, the masks are not players.
"""

from __future__ import annotations

import json
import platform
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from playerseg.errors import PlayerSegError
from playerseg.io.prompts import Prompt, PromptSet

MIB = 1024 * 1024
RANDOM_WEIGHTS_NOTE = " (RANDOM WEIGHTS: costs are real, masks mean nothing)"


class BenchError(PlayerSegError, ValueError):
    """The benchmark cannot run as asked; one sentence for the user."""


@dataclass(frozen=True)
class BenchJob:
    model: str
    clip: str
    objects: int = 1
    frames: int | None = None  # the first N frames; None: the whole clip
    device: str | None = None
    prompts: str | None = None  # a prompts.json; None: grid clicks on frame 0
    compile_model: bool = False  # sam2's vos_optimized predictor (CUDA only)

    def __post_init__(self) -> None:
        if self.objects < 1:
            raise BenchError(f"--objects must be at least 1, got {self.objects}.")
        if self.frames is not None and self.frames < 2:
            raise BenchError(f"--frames must be at least 2, got {self.frames}.")


def grid_prompts(width: int, height: int, count: int) -> PromptSet:
    """`count` positive clicks on frame 0, one per cell of a near-square grid over the frame."""
    columns = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    prompts = []
    for index in range(count):
        row, column = divmod(index, columns)
        x = (column + 0.5) * width / columns
        y = (row + 0.5) * height / rows
        prompts.append(Prompt.from_click(0, index + 1, round(x), round(y)))
    return PromptSet(prompts)


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _peak_ram_mb() -> float:
    """The process's resident-memory high-water mark (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if platform.system() == "Darwin" else peak / 1024


def _bare_propagation(model: Any, store: Any, prompts: PromptSet) -> tuple[float, list[Any]]:
    from playerseg.tracking.trackers import open_tracker

    started = time.perf_counter()
    with open_tracker(model, store) as tracker:
        tracker.add_prompts(prompts)
        results = list(tracker.track())
    return time.perf_counter() - started, results


def _first_frame_only(prompts: PromptSet) -> PromptSet:
    first = min(prompts.frames)
    return PromptSet([prompt for prompt in prompts.prompts if prompt.frame == first])


def _whole_job(model: Any, store: Any, prompts: PromptSet, out: Path) -> dict[str, float]:
    """The `segment` job (tracking, the run folder and the flicker metrics written as frames become final):
    seconds in all and per part."""
    from playerseg.runs.runfolder import segment_to_folder
    from playerseg.runs.selection_prompts import SelectionPrompts

    started = time.perf_counter()
    _, outputs = segment_to_folder(model, store, SelectionPrompts.check(prompts, store), out, command="bench")
    total = time.perf_counter() - started
    return {"total_s": total, **outputs.timings}


def run_bench(job: BenchJob) -> dict[str, Any]:
    """Both runs; a JSON-able summary (times in ms per frame unless named _s)."""
    import torch

    from playerseg.runs.pipeline import open_selection
    from playerseg.tracking.registry import load_video_model

    model = load_video_model(job.model, job.device, compile_model=job.compile_model)
    store = open_selection(job.clip, max_frames=job.frames)
    prompts = PromptSet.load(job.prompts) if job.prompts else grid_prompts(store.width, store.height, job.objects)
    prompts.validate(store.width, store.height, len(store))
    cuda = model.device.startswith("cuda")
    # one short untimed pass first: the first calls pay for lazy set-up (allocator, kernels), not for the clip
    _bare_propagation(model, open_selection(job.clip, max_frames=2), _first_frame_only(prompts))
    if cuda:
        torch.cuda.reset_peak_memory_stats(model.device)
    bare_s, results = _bare_propagation(model, store, prompts)
    with tempfile.TemporaryDirectory() as tmp:
        job_times = _whole_job(model, open_selection(job.clip, max_frames=job.frames), prompts, Path(tmp) / "run")
    frames = len(store)
    tracked = [r for r in results if r.prompt_ms == 0]
    decode = float(np.mean([r.decode_ms for r in tracked])) if tracked else 0.0
    encoder = float(np.mean([r.encoder_ms for r in tracked])) if tracked else 0.0
    per_frame = [r.latency_ms for r in tracked]
    return {
        "model": model.spec.name,
        "random_weights": model.describe()["random_weights"],
        "device": model.device,
        "compiled": model.compiled,
        "clip": {
            "path": job.clip,
            "width": store.info.width,
            "height": store.info.height,
            "frames": frames,
            "processed_size": [store.width, store.height],
        },
        "objects": len(prompts.object_ids),
        "prompts": job.prompts or "grid clicks on frame 0",
        "per_frame_ms": {"p50": _percentile(per_frame, 50), "p95": _percentile(per_frame, 95)},
        "first_frame_ms": results[0].latency_ms,
        "stages_ms_per_frame": {
            "decode": decode,
            "image_encoder": encoder,
            "memory_attention_and_decoder": float(np.mean(per_frame)) - decode - encoder if tracked else 0.0,
            "render_encode": (job_times["masks_s"] + job_times["overlay_s"]) * 1000.0 / frames,
            "metrics": job_times["flicker_s"] * 1000.0 / frames,
        },
        "peak_ram_mb": _peak_ram_mb(),
        "peak_vram_mb": torch.cuda.max_memory_allocated(model.device) / MIB if cuda else None,
        "bare_propagation_s": bare_s,
        "whole_job_s": job_times["total_s"],
        "whole_job_parts_s": job_times,
        "overhead_ratio": job_times["total_s"] / bare_s,
    }


def format_bench(summary: dict[str, Any]) -> str:
    """The summary as a few lines for the terminal."""
    stages = summary["stages_ms_per_frame"]
    clip = summary["clip"]
    vram = summary["peak_vram_mb"]
    lines = [
        f"{summary['model']}{RANDOM_WEIGHTS_NOTE if summary['random_weights'] else ''}"
        f" on {summary['device']}: {clip['frames']} frames {clip['width']}x{clip['height']}, "
        f"{summary['objects']} objects ({summary['prompts']})",
        f"per frame: p50 {summary['per_frame_ms']['p50']:.1f} ms, p95 {summary['per_frame_ms']['p95']:.1f} ms; "
        f"first frame {summary['first_frame_ms']:.1f} ms",
        "stages (ms/frame): " + ", ".join(f"{name.replace('_', ' ')} {value:.1f}" for name, value in stages.items()),
        f"peak RAM {summary['peak_ram_mb']:.0f} MB" + (f", peak VRAM {vram:.0f} MB" if vram is not None else ""),
        f"whole job {summary['whole_job_s']:.2f} s / bare propagation {summary['bare_propagation_s']:.2f} s "
        f"= {summary['overhead_ratio']:.3f}x",
    ]
    return "\n".join(lines)


def write_bench(summary: dict[str, Any], path: str | Path) -> Path:
    """The figures as JSON, written whole or not at all (a temporary sibling, then os.replace)."""
    from evaluation.outdir import write_file_atomically

    return write_file_atomically(path, json.dumps(summary, indent=2))
