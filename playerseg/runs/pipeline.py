"""Pipelines that turn a clip (+ prompts) into a RunResult: masks per object per frame, with per-frame costs.

PromptedTracking: the user's clicks -> SAM2 tracks every clicked object through the selected frames.
AutoLabeler (playerseg.autolabel.labeler): a detector finds the players, SAM2 tracks them with stable ids.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from evaluation.results.profile import ProfileResult
from playerseg.io.masks import MaskTrack, paint_label_map
from playerseg.io.prompts import PromptSet
from playerseg.io.video import FrameStore, VideoInfo
from playerseg.runs.autolabel_report import AutoLabelReport
from playerseg.runs.facts import ModelFacts, SelectionFacts, SkippingFacts, Timings
from playerseg.runs.selection_prompts import SelectionPrompts, processed_stride
from playerseg.tracking.frameskip import SkipSettings
from playerseg.tracking.registry import LoadedModel
from playerseg.tracking.step import FrameResult
from playerseg.tracking.trackers import open_tracker


@dataclass
class FrameStats:
    """Cost of one processed frame, summed over the passes that visited it."""

    index: int  # index in the selection
    source_frame: int  # frame number in the clip
    time_s: float
    latency_ms: float = 0.0
    decode_ms: float = 0.0
    prompt_ms: float = 0.0
    memory_mb: float = 0.0
    peak_memory_mb: float = 0.0
    passes: int = 0
    visible_objects: int = 0
    detect_ms: float = 0.0  # auto-labeler: detection, filtering and association (included in latency_ms)
    prompt_frame: bool = False  # reported apart from the per-frame latency distribution (it takes the cold start)
    skipped_passes: int = 0  # frame skipping: passes that carried masks here instead of running the model
    gate_ms: float = 0.0  # frame skipping: deciding (+ carrying), included in latency_ms
    motion_px: float = math.nan  # frame skipping: the motion measured on the last pass through the frame

    def add(self, result: FrameResult) -> None:
        self.latency_ms += result.latency_ms
        self.decode_ms += result.decode_ms
        self.prompt_ms += result.prompt_ms
        self.skipped_passes += int(result.skipped)
        self.gate_ms += result.gate_ms
        if not math.isnan(result.motion_px):
            self.motion_px = result.motion_px
        self.memory_mb = max(self.memory_mb, result.memory_mb)
        self.peak_memory_mb = max(self.peak_memory_mb, result.peak_memory_mb)
        self.passes += 1


@dataclass
class RunResult:
    """What one model produced on one clip: compact masks in the processed frames' size, and what it cost."""

    model: ModelFacts
    clip: VideoInfo
    selection: SelectionFacts
    source_indices: list[int]
    masks: MaskTrack  # keyed by selection index, in the processed (possibly downscaled) size
    frame_stats: list[FrameStats]
    prompts: PromptSet  # in selection indices and processed-frame pixels
    object_ids: list[int]
    timings: Timings
    warnings: list[str] = field(default_factory=list)
    autolabel: AutoLabelReport | None = None  # detections, tracks and id events of an auto-labelling run
    frame_skipping: SkippingFacts | None = None  # settings and how many frames were skipped, when skipping was on

    def profile(self) -> ProfileResult:
        """Per-frame latency and memory as `evaluation` summarises them (passes through a frame summed)."""
        stats = self.frame_stats
        device = self.model.device
        return ProfileResult(
            name=self.model.model,
            device=device,
            memory_kind="cuda_allocated" if device.startswith("cuda") else "process_rss",
            frames=np.array([s.source_frame for s in stats], dtype=np.int64),
            latency_ms=np.array([s.latency_ms for s in stats], dtype=np.float64),
            memory_mb=np.array([s.memory_mb for s in stats], dtype=np.float64),
            is_prompt=np.array([s.prompt_frame for s in stats], dtype=bool),
            is_warmup=np.zeros(len(stats), dtype=bool),  # the prompt frame, reported apart, takes the cold start
            peak_memory_mb=max((s.peak_memory_mb for s in stats), default=0.0),
        )


def open_selection(
    clip: str, start: int = 0, max_frames: int | None = None, stride: int = 1, max_side: int | None = None
) -> FrameStore:
    """The frames a run processes: from `start`, every `stride`-th, at most `max_frames` of them."""
    stop = None if max_frames is None else start + max_frames * stride
    return FrameStore(clip, start=start, stop=stop, stride=stride, max_side=max_side)


ProgressCallback = Callable[[int, int], None]  # (steps done, steps in all)
MaskPrompts = Mapping[tuple[int, int], np.ndarray]  # (selection index, object id) -> mask at the processed size
FrameSink = Callable[[int, np.ndarray], None]  # (selection index, uint8 label map): a frame whose masks are final


class FinalFrames:
    """Hands each frame's label map to a sink, in frame order, as soon as no later pass can change it.

    A frame is final once every pass that visits it has: the forward pass visits the frames from the earliest
    first prompt on, the backward pass the frames before the latest first prompt. With every object first prompted
    on frame 0 (the usual case) each frame is final as soon as it is tracked, so the run folder is written while
    tracking runs; otherwise the frames wait for the backward pass."""

    def __init__(self, masks: MaskTrack, first_frames: list[int], num_frames: int, sink: FrameSink) -> None:
        earliest, latest = min(first_frames), max(first_frames)
        self._passes = [int(index >= earliest) + int(index < latest) for index in range(num_frames)]
        self._passes_left = list(self._passes)
        self._masks = masks
        self._sink = sink
        self._next = 0

    def visited(self, result: FrameResult) -> None:
        self._passes_left[result.frame] -= 1
        while self._next < len(self._passes_left) and self._passes_left[self._next] == 0:
            self._sink(self._next, self._label_map(self._next, result))
            self._next += 1

    def _label_map(self, index: int, result: FrameResult) -> np.ndarray:
        if index == result.frame and self._passes[index] == 1:
            # the frame's only pass: paint its masks as they are instead of decoding them back from the track
            return paint_label_map(result.masks, self._masks.height, self._masks.width)
        return self._masks.label_map(index)


class PromptedTracking:
    """SAM2 tracks the objects the user clicked; with `skip`, frames that barely moved carry the masks forward."""

    def __init__(self, model: LoadedModel, skip: SkipSettings | None = None, masks: MaskPrompts | None = None) -> None:
        self.model = model
        self.skip = skip
        self.masks = masks or {}  # whole-mask prompts, after the clicks and boxes (a mask replaces them on its frame)

    def run(
        self,
        store: FrameStore,
        prompts: SelectionPrompts,
        progress: ProgressCallback | None = None,
        on_frame: FrameSink | None = None,
    ) -> RunResult:
        """Track every prompted object (prompts checked and mapped onto this store's frames); `on_frame` receives
        each frame's final label map, in order, while tracking runs (see FinalFrames)."""
        prompts.check_store(store)
        mapped = prompts.mapped
        masks = MaskTrack(store.height, store.width)
        stats = [
            FrameStats(index=i, source_frame=source, time_s=time_s)
            for i, (source, time_s) in enumerate(zip(store.source_indices, store.times_s))
        ]
        started = time.perf_counter()
        with open_tracker(self.model, store, skip=self.skip) as tracker:
            tracker.add_prompts(mapped)
            for (index, object_id), mask in sorted(self.masks.items(), key=lambda item: item[0]):
                tracker.add_mask(index, object_id, mask)
            total_steps = _count_steps(mapped, len(store))
            first_frames = [min(p.frame for p in mapped.prompts if p.object_id == obj) for obj in mapped.object_ids]
            final = None if on_frame is None else FinalFrames(masks, first_frames, len(store), on_frame)
            for done, result in enumerate(tracker.track(), start=1):
                _record(result, masks, stats)
                if final is not None:
                    final.visited(result)
                if progress is not None:
                    progress(done, total_steps)
            object_ids = tracker.object_ids
        for frame_stats in stats:
            frame_stats.visible_objects = sum(masks.area(frame_stats.index, obj) > 0 for obj in object_ids)
        return RunResult(
            model=ModelFacts.of(self.model),
            clip=store.info,
            selection=selection_facts(store),
            source_indices=list(store.source_indices),
            masks=masks,
            frame_stats=stats,
            prompts=mapped,
            object_ids=object_ids,
            timings=Timings(tracking_s=time.perf_counter() - started),
            warnings=[*self.model.warnings, *prompts.moved],
            frame_skipping=None if self.skip is None else skipping_facts(self.skip, stats),
        )


def skipping_facts(skip: SkipSettings, stats: list[FrameStats]) -> SkippingFacts:
    """What run.json says of frame skipping: the settings and how many frame visits carried masks."""
    visits = sum(s.passes for s in stats)
    skipped = sum(s.skipped_passes for s in stats)
    return SkippingFacts(
        threshold_px=skip.threshold_px,
        max_consecutive=skip.max_consecutive,
        work_height=skip.work_height,
        skipped_visits=skipped,
        visits=visits,
        skipped_share=round(skipped / visits, 4) if visits else 0.0,
    )


def _count_steps(prompts: PromptSet, num_frames: int) -> int:
    """How many (frame, pass) steps tracking takes: forward from the earliest first prompt, back from the latest."""
    first_frames: dict[int, int] = {}
    for prompt in prompts.prompts:
        first_frames[prompt.object_id] = min(first_frames.get(prompt.object_id, prompt.frame), prompt.frame)
    if not first_frames:
        return 0
    return (num_frames - min(first_frames.values())) + max(first_frames.values())


def _record(result: FrameResult, masks: MaskTrack, stats: list[FrameStats]) -> None:
    for object_id, mask in result.masks.items():
        masks.set(result.frame, object_id, mask)
    stats[result.frame].add(result)
    stats[result.frame].prompt_frame = stats[result.frame].prompt_ms > 0


def selection_facts(store: FrameStore) -> SelectionFacts:
    """Which frames were processed, at what size and rate (RunResult.selection, run.json)."""
    return SelectionFacts(
        frames=len(store),
        first_frame=store.source_indices[0],
        last_frame=store.source_indices[-1],
        stride=processed_stride(store),
        width=store.width,
        height=store.height,
        fps=store.fps,
    )
