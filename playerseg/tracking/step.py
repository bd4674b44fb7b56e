"""One frame through sam2, and what it gives: `FrameResult`.

This module owns the model step of a frame and its accounting. `FrameStepper.run` runs the image encoder once for
the frame (shared by every object), gets each object's mask logits (batched, see batching), reads the object scores,
turns the logits into non-overlapping full-size masks (`owner_masks`: each pixel to the object with the highest
positive logit), drops the frame's image features and the memories sam2 will not read again, and times it all into a
`FrameResult` and a row of the profiler. It also holds the prompt work done for a frame until that frame's result
reports it, and the autocast setting every sam2 call runs under.
"""

from __future__ import annotations

import math
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation.profiling import FrameProfiler
from playerseg.tracking.batching import object_logits
from playerseg.tracking.frames import FrameSource, Sam2FrameFeed
from playerseg.tracking.memory import Sam2Memory
from playerseg.tracking.motion_memory import MotionMemory


@dataclass(frozen=True)
class FrameResult:
    """One frame of a pass: masks of the objects tracked in this pass, with what it cost."""

    frame: int  # index in the frame source
    masks: dict[int, np.ndarray]  # object id -> bool HxW, non-overlapping within the pass
    object_scores: dict[int, float]  # object id -> SAM2's object-presence logit (> 0: visible)
    # frame read + preprocessing + model + masks back on the host (+ prompt work on this frame, + the skip gate);
    # a skipped frame: frame read + gate (flow) + carrying the masks
    latency_ms: float
    prompt_ms: float  # of which decoding the prompts given on this frame and encoding them into memory
    decode_ms: float  # of which reading and preprocessing the frame
    encoder_ms: float  # of which the image encoder (once per frame, shared by all objects)
    memory_mb: float  # CUDA memory allocated, or process RSS on CPU
    peak_memory_mb: float  # CUDA peak allocated since tracking started, or process RSS high-water mark
    reverse: bool  # True when produced by the backward pass
    skipped: bool = False  # frame skipping: no model call, masks carried from the pass's last processed frame
    motion_px: float = math.nan  # frame skipping: motion since the last processed frame; nan where not measured
    gate_ms: float = 0.0  # frame skipping: of latency_ms, deciding whether to skip (+ carrying the masks on a skip)


class FrameStepper:
    """Runs sam2 on one frame for a set of objects and reports the result. `prune_memory` and `batch_objects` False
    give sam2's plain per-object path (for comparisons); the masks are the same either way."""

    def __init__(
        self,
        predictor: Any,
        memory: Sam2Memory,
        frames: FrameSource,
        feed: Sam2FrameFeed,
        profiler: FrameProfiler,
        use_autocast: bool,
        prune_memory: bool = True,
        batch_objects: bool = True,
        motion: MotionMemory | None = None,
    ) -> None:
        self.predictor = predictor
        self.memory = memory
        self.frames = frames
        self.feed = feed
        self.profiler = profiler
        self.use_autocast = use_autocast
        self.prune_memory = prune_memory
        self.batch_objects = batch_objects
        self.motion = motion  # motion-aware memory (`+motion` models): candidate choice and memory gate
        self._prompt_ms: dict[int, float] = {}  # prompt work per frame, reported with that frame's result

    def autocast(self) -> AbstractContextManager[Any]:
        """bf16 autocast where it is on (how SAM2 is meant to run on GPU), else nothing."""
        import torch

        if self.use_autocast:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return nullcontext()

    def add_prompt_time(self, frame: int, started: float) -> None:
        """Count the prompt work since `started` into `frame`'s result."""
        self.profiler.synchronize()
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        self._prompt_ms[frame] = self._prompt_ms.get(frame, 0.0) + elapsed_ms

    def run(
        self,
        frame: int,
        object_ids: list[int],
        reverse: bool,
        started: float | None = None,
        read_ms: float = 0.0,
        motion_px: float = math.nan,
        gate_ms: float | None = None,
    ) -> FrameResult:
        """Run the model on the frame. With frame skipping on, the caller already read the frame and asked the
        gate: `started` is when it began, `read_ms` and `gate_ms` count into this frame's latency."""
        import torch

        if started is None:
            self.profiler.synchronize()
            started = time.perf_counter()
        self.feed.last_fetch_ms = 0.0
        with torch.inference_mode(), self.autocast():
            encoder_ms = self._encode_image(frame, object_ids)
            logits = object_logits(
                self.predictor, self.memory, frame, object_ids, reverse, batch=self.batch_objects, motion=self.motion
            )
            scores = [self.memory.object_score(frame, obj) for obj in object_ids]
            if self.motion is not None:
                self.motion.gate(frame, object_ids, reverse)
            masks = owner_masks(torch.cat(logits, dim=0), self.frames.height, self.frames.width) if logits else []
        self.memory.state["cached_features"] = {}  # this frame's image features are not needed again
        if self.prune_memory:
            self.memory.forget_unreadable(frame, object_ids, reverse)
        self.profiler.synchronize()
        prompt_ms = self._prompt_ms.pop(frame, 0.0)  # counted once, with the first pass through the frame
        latency_ms = (time.perf_counter() - started) * 1000.0 + prompt_ms
        decode_ms = read_ms + self.feed.last_fetch_ms
        gated = {} if gate_ms is None else {"skipped": False, "motion_px": motion_px, "gate_ms": gate_ms}
        self.profiler.record(
            frame,
            latency_ms,
            prompt=prompt_ms > 0,
            decode_ms=decode_ms,
            prompt_ms=prompt_ms,
            encoder_ms=encoder_ms,
            **gated,
        )
        memory_mb, peak_mb = self.profiler.memory_now()
        return FrameResult(
            frame=frame,
            masks=dict(zip(object_ids, masks)),
            object_scores=dict(zip(object_ids, scores)),
            latency_ms=latency_ms,
            prompt_ms=prompt_ms,
            decode_ms=decode_ms,
            encoder_ms=encoder_ms,
            memory_mb=memory_mb,
            peak_memory_mb=peak_mb,
            reverse=reverse,
            motion_px=motion_px,
            gate_ms=0.0 if gate_ms is None else gate_ms,
        )

    def _encode_image(self, frame: int, object_ids: list[int]) -> float:
        """Run the image encoder on the frame once (sam2 caches it for every object's call): its time in ms, 0 when
        every object is prompted on this frame (no model call). Frame reading is timed separately by the feed."""
        if all(self.memory.is_prompted(obj, frame) for obj in object_ids):
            return 0.0
        self.profiler.synchronize()
        started = time.perf_counter()
        self.predictor._get_image_feature(self.memory.state, frame, 1)
        self.profiler.synchronize()
        return (time.perf_counter() - started) * 1000.0 - self.feed.last_fetch_ms


def owner_masks(logits: Any, height: int, width: int) -> list[np.ndarray]:
    """Upsample logits (Nx1xhxw) to the frame size; each pixel goes to the object with the highest positive logit."""
    import torch

    size = (height, width)
    upsampled = torch.nn.functional.interpolate(logits, size=size, mode="bilinear", align_corners=False)[:, 0]
    # a running maximum over the objects: the same owner as argmax (ties go to the first object), without
    # torch's argmax over the leading dimension, which costs ~30 ms for 8 objects at 640x360 on CPU
    owner = torch.full(upsampled.shape[1:], -1, dtype=torch.int64, device=upsampled.device)
    best = torch.zeros(upsampled.shape[1:], dtype=upsampled.dtype, device=upsampled.device)
    for index in range(upsampled.shape[0]):
        wins = upsampled[index] > best
        owner[wins] = index
        best = torch.maximum(best, upsampled[index])
    owner_np = owner.cpu().numpy()
    return [owner_np == index for index in range(logits.shape[0])]
