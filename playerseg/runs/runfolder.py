"""The run folder (DESIGN.md section 2): masks/00000.png..., overlay.mp4, frames.csv, run.json
(+ detections.json, and "track_ids" in run.json, for an auto-labelling run; "flicker" in run.json when the flicker
metrics were measured as the folder was written, as `segment` does).

Masks are written at the clip's own size and named by the clip's frame number, so they line up with ground truth
in the DAVIS layout; the overlay video shows the processed frames (possibly downscaled) at the processed rate.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import platform
import queue
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from evaluation.results.accuracy import AccuracyResult
from evaluation.results.temporal import TemporalResult
from evaluation.temporal import TemporalMetric
from playerseg.io.masks import write_palette_png
from playerseg.io.overlay import draw_overlay, with_caption
from playerseg.io.prompts import PromptSet
from playerseg.io.video import FrameStore, VideoWriter
from playerseg.runs.autolabel_report import write_detections_json
from playerseg.runs.facts import TIMING_DIGITS, AutoLabelFacts, LatencyFacts, MemoryFacts, ModelFacts, RunFacts
from playerseg.runs.pipeline import FrameStats, MaskPrompts, ProgressCallback, PromptedTracking, RunResult
from playerseg.runs.selection_prompts import SelectionPrompts
from playerseg.tracking.frameskip import SkipSettings
from playerseg.tracking.registry import SYNTHETIC_ONLY_LABEL, LoadedModel

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
    "skipped_passes",
    "gate_ms",
    "motion_px",
]
RenderProgress = Callable[[int, int], None]
OverlaySink = Callable[[int, np.ndarray], None]  # (selection index, the overlay frame as drawn into overlay.mp4)


class RunFolderWriter(AbstractContextManager["RunFolderWriter"]):
    """Writes a run folder frame by frame, in frame order, while the run goes on: each frame's mask PNG, its overlay
    frame and (with `flicker`) its step of the flicker metrics; `finish()` adds frames.csv and run.json.

    Frames are read from the store on the caller's thread (the store is not thread-safe). With `background` the
    drawing, encoding and metrics run on a worker thread, fed through a short queue: worth it where the caller's
    thread mostly waits (on the GPU); on a small CPU the worker and SAM2 would share the same cores.

    `on_overlay` receives each overlay frame as drawn (on the drawing thread), so a caller that shows it elsewhere
    too (compare's side-by-side video) draws nothing twice."""

    def __init__(
        self,
        out_dir: str | Path,
        store: FrameStore,
        model_facts: ModelFacts,
        prompts: PromptSet,
        flicker: bool = True,
        background: bool = False,
        progress: RenderProgress | None = None,
        on_overlay: OverlaySink | None = None,
    ) -> None:
        self.folder = Path(out_dir)
        (self.folder / "masks").mkdir(parents=True, exist_ok=True)
        self._store = store
        self._prompts = prompts  # in processed frames and pixels
        self._model_name = model_facts.model
        self._caption = weights_caption(model_facts)
        self._progress = progress
        self._on_overlay = on_overlay
        self._video = VideoWriter(self.folder / "overlay.mp4", fps=store.fps)
        self._flicker = TemporalMetric() if flicker else None
        self._frames_added = 0
        self._frames_written = 0
        self._mask_files: list[Path] = []
        self._finished = False
        self.timings = {"masks_s": 0.0, "overlay_s": 0.0, "flicker_s": 0.0}
        self._error: BaseException | None = None
        self._queue: queue.Queue[tuple[int, np.ndarray, np.ndarray] | None] | None = None
        self._worker: threading.Thread | None = None
        if background:
            self._queue = queue.Queue(maxsize=8)  # a few frames ahead at most: bounded memory
            self._worker = threading.Thread(target=self._work, name="run-folder-writer", daemon=True)
            self._worker.start()

    def add(self, index: int, labels: np.ndarray) -> None:
        """Frame `index` (selection index, in order from 0) with its final uint8 label map (processed size)."""
        if index != self._frames_added:
            raise ValueError(f"frames must be added in order: expected frame {self._frames_added}, got {index}.")
        self._raise_worker_error()
        rgb = self._store[index]
        self._frames_added += 1
        if self._queue is None:
            self._write_frame(index, labels, rgb)
        else:
            self._queue.put((index, labels, rgb))

    def finish(self, result: RunResult, command: str = "", source_prompts: PromptSet | None = None) -> RunOutputs:
        """Wait for every frame, then write frames.csv, run.json (with the flicker summary) and prompts.json.
        `source_prompts` (clip frames and pixels) is kept so the run can be replayed on another model."""
        self._stop_worker()
        self._raise_worker_error()
        if self._frames_written != len(self._store):
            raise RuntimeError(f"the run folder got {self._frames_written} of {len(self._store)} frames.")
        self._video.close()
        if source_prompts is not None:
            source_prompts.save(self.folder / "prompts.json")
        write_frames_csv(result.frame_stats, self.folder / "frames.csv")
        if result.autolabel is not None:
            write_detections_json(result.autolabel.records, self.folder / "detections.json")
        flicker = None
        facts = run_facts(result, command)
        if self._flicker is not None:
            started = time.perf_counter()
            flicker = self._flicker.compute(name=self._model_name)
            self.timings["flicker_s"] += time.perf_counter() - started
            facts = replace(facts, flicker={key: value for key, value in flicker.summary().items() if key != "name"})
        written = {key: round(value, TIMING_DIGITS) for key, value in self.timings.items()}
        facts = replace(facts, timings=facts.timings.with_writing(**written))
        write_run_json(self.folder, facts)
        self._finished = True
        return RunOutputs(self.folder, flicker, dict(self.timings), facts, self._flicker)

    def __exit__(self, *exc_info: object) -> None:
        self._stop_worker()
        self._video.close()
        if not self._finished:  # a run that failed part way: no half folder that looks like a result
            for path in [*self._mask_files, self.folder / "overlay.mp4"]:
                path.unlink(missing_ok=True)

    def _write_frame(self, index: int, labels: np.ndarray, rgb: np.ndarray) -> None:
        started = time.perf_counter()
        source_frame = self._store.source_indices[index]
        clip_size = (self._store.info.width, self._store.info.height)
        self._mask_files.append(_write_mask_png(self.folder / "masks", source_frame, labels, clip_size))
        drawn = time.perf_counter()
        frame = draw_overlay(rgb, labels, self._prompts.for_frame(index))
        frame = with_caption(frame, self._caption) if self._caption else frame
        self._video.write(frame)
        if self._on_overlay is not None:
            self._on_overlay(index, frame)
        encoded = time.perf_counter()
        if self._flicker is not None:
            self._flicker.update(source_frame, labels, rgb)
        self.timings["masks_s"] += drawn - started
        self.timings["overlay_s"] += encoded - drawn
        self.timings["flicker_s"] += time.perf_counter() - encoded
        self._frames_written += 1
        if self._progress is not None:
            self._progress(self._frames_written, len(self._store))

    def _work(self) -> None:
        assert self._queue is not None
        while (item := self._queue.get()) is not None:
            if self._error is None:  # after a failure keep taking frames so the caller never blocks on a full queue
                try:
                    self._write_frame(*item)
                except BaseException as error:  # handed to the caller's thread at its next add() or finish()
                    self._error = error

    def _stop_worker(self) -> None:
        if self._worker is not None and self._queue is not None:
            self._queue.put(None)
            self._worker.join()
            self._worker = None

    def _raise_worker_error(self) -> None:
        if self._error is not None:
            raise self._error


def write_run_json(folder: str | Path, facts: RunFacts) -> Path:
    """run.json of a run folder: the one place its bytes are written (the run, and the app's reviewed copy)."""
    path = Path(folder) / "run.json"
    path.write_text(json.dumps(facts.to_json(), indent=2))
    return path


@dataclass(frozen=True)
class RunOutputs:
    folder: Path
    flicker: TemporalResult | None  # the flicker metrics of the run (None when not asked for)
    timings: dict[str, float]  # seconds spent writing mask PNGs, drawing + encoding the overlay, measuring flicker
    facts: RunFacts | None = None  # run.json as written
    metric: TemporalMetric | None = field(default=None, repr=False, compare=False)  # the flicker metric's state

    def flicker_as(self, name: str, accuracy: AccuracyResult | None = None) -> TemporalResult | None:
        """The run's flicker metrics again under another name, each object's J decay from `accuracy` (no second
        pass over the frames)."""
        return None if self.metric is None else self.metric.compute(name=name, accuracy=accuracy)


def write_run_folder(
    result: RunResult,
    store: FrameStore,
    out_dir: str | Path,
    command: str = "",
    progress: RenderProgress | None = None,
    source_prompts: PromptSet | None = None,
) -> Path:
    """Write every output of a finished run (no flicker metrics); returns the folder."""
    with RunFolderWriter(out_dir, store, result.model, result.prompts, flicker=False, progress=progress) as writer:
        for index in range(len(store)):
            writer.add(index, result.masks.label_map(index))
        return writer.finish(result, command, source_prompts).folder


def segment_to_folder(
    model: LoadedModel,
    store: FrameStore,
    prompts: SelectionPrompts,
    out_dir: str | Path,
    command: str = "",
    progress: ProgressCallback | None = None,
    background: bool | None = None,
    skip: SkipSettings | None = None,
    masks: MaskPrompts | None = None,
) -> tuple[RunResult, RunOutputs]:
    """The `segment` job: track the prompted objects and write the run folder and flicker metrics as the frames
    become final. `background` (default: on CUDA) draws, encodes and measures on a worker thread; `skip` turns on
    motion-gated frame skipping; `masks` adds whole-mask prompts (evaluate --prompts masks)."""
    on_gpu = model.device.startswith("cuda") if background is None else background
    with RunFolderWriter(out_dir, store, ModelFacts.of(model), prompts.mapped, background=on_gpu) as writer:
        result = PromptedTracking(model, skip, masks).run(store, prompts, progress, on_frame=writer.add)
        return result, writer.finish(result, command, source_prompts=prompts.source)


def _write_mask_png(folder: Path, source_frame: int, labels: np.ndarray, clip_size: tuple[int, int]) -> Path:
    """The frame's label map at the clip's size (processed frames may be downscaled), named by the clip's frame."""
    if labels.shape[::-1] != clip_size:
        labels = cv2.resize(labels, clip_size, interpolation=cv2.INTER_NEAREST)
    path = folder / f"{source_frame:05d}.png"
    write_palette_png(path, labels)
    return path


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
                    "skipped_passes": row.skipped_passes,
                    "gate_ms": round(row.gate_ms, 3),
                    "motion_px": "" if math.isnan(row.motion_px) else round(row.motion_px, 3),
                }
            )


def latency_facts(result: RunResult) -> LatencyFacts:
    """evaluation's summary: p50/p95/p99/max over tracked frames, prompt frames apart, fps, peak memory."""
    return LatencyFacts(result.profile().summary(), round(sum(s.latency_ms for s in result.frame_stats) / 1000.0, 3))


def run_facts(result: RunResult, command: str = "") -> RunFacts:
    """run.json: model and checkpoint, device, sizes, timings and warnings."""
    peak = max((s.peak_memory_mb for s in result.frame_stats), default=0.0)
    on_cuda = result.model.device.startswith("cuda")
    report = result.autolabel
    autolabel = None if report is None else AutoLabelFacts(report.track_ids, report.facts())
    return RunFacts(
        model=result.model,
        clip=result.clip,
        selection=result.selection,
        objects=result.object_ids,
        prompts=result.prompts,
        latency=latency_facts(result),
        memory=MemoryFacts("cuda_allocated" if on_cuda else "process_rss", round(peak, 2)),
        timings=result.timings.rounded(),
        warnings=result.warnings,
        autolabel=autolabel,
        frame_skipping=result.frame_skipping,
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        host=platform.node(),
        command=command,
    )


def weights_caption(facts: ModelFacts) -> str:
    """What the overlay says on every frame about weights users must not take for real ones ("" for real ones)."""
    if facts.random_weights:
        return f"{facts.model}: RANDOM WEIGHTS, masks mean nothing"
    if facts.weights == SYNTHETIC_ONLY_LABEL:
        return f"{facts.model}: trained on synthetic footage only"
    return ""
