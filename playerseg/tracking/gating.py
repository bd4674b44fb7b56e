"""A pass of track() with motion-gated frame skipping.

This module owns how a pass runs when frame skipping is on (`gated_pass`): each frame is read first and the
`MotionGate` (frameskip) measures the motion since the pass's last processed frame; the frame then goes through the
model (`FrameStepper.run`, with the read and the gate counted into its latency) or is skipped: no sam2 call and
nothing stored in sam2's memory for it, its masks the last processed frame's masks warped by the flow, its object
scores copied from there. It also decides which frames must get the model whatever the motion: a pass's first frame,
prompted frames, and frames where an object joins the pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from playerseg.tracking.frameskip import MotionGate, SkipDecision
from playerseg.tracking.memory import Sam2Memory
from playerseg.tracking.step import FrameResult, FrameStepper


def gated_pass(
    stepper: FrameStepper, gate: MotionGate, frames: range, pass_objects: Callable[[int], list[int]], reverse: bool
) -> Iterator[FrameResult]:
    """One pass over `frames` (`pass_objects(frame)`: the objects it tracks there), each frame processed or skipped."""
    gate.reset()  # the gate's reference must be a frame of this pass (the backward pass starts afresh)
    last_processed: FrameResult | None = None
    for frame in frames:
        result = _gated_step(stepper, gate, frame, pass_objects(frame), reverse, last_processed)
        if not result.skipped:
            last_processed = result
        yield result


def _gated_step(
    stepper: FrameStepper,
    gate: MotionGate,
    frame: int,
    object_ids: list[int],
    reverse: bool,
    last_processed: FrameResult | None,
) -> FrameResult:
    """Read the frame, ask the gate, then run the model on it or carry the last processed frame's masks."""
    profiler = stepper.profiler
    profiler.synchronize()
    started = time.perf_counter()
    rgb = stepper.frames[frame]
    read_ms = (time.perf_counter() - started) * 1000.0
    decision = gate.decide(rgb, must_process=_must_process(stepper.memory, frame, object_ids, last_processed))
    if not decision.skip or last_processed is None:  # the gate always processes a pass's first frame
        stepper.feed.prime(frame, rgb)
        try:
            return stepper.run(
                frame,
                object_ids,
                reverse,
                started=started,
                read_ms=read_ms,
                motion_px=decision.motion_px,
                gate_ms=decision.gate_ms,
            )
        finally:
            stepper.feed.unprime()
    return _carried(stepper, gate, frame, decision, last_processed, reverse, started=started, read_ms=read_ms)


def _carried(
    stepper: FrameStepper,
    gate: MotionGate,
    frame: int,
    decision: SkipDecision,
    last_processed: FrameResult,
    reverse: bool,
    *,
    started: float,
    read_ms: float,
) -> FrameResult:
    """A skipped frame: the last processed frame's masks carried by optical flow, its costs recorded."""
    profiler = stepper.profiler
    # Skipped: no sam2 call, so nothing goes into sam2's memory for this frame. sam2 reads memories by frame
    # index (`_prepare_memory_conditioned_features`): a missing previous frame's memory is left out ("skip
    # padding frames") and so is a missing object pointer (only found ones are appended); later frames simply
    # attend to fewer memories, with temporal encodings still set by true frame distance.
    carry_started = time.perf_counter()
    masks = gate.carry(last_processed.masks)
    gate_ms = decision.gate_ms + (time.perf_counter() - carry_started) * 1000.0
    latency_ms = (time.perf_counter() - started) * 1000.0
    profiler.record(
        frame,
        latency_ms,
        prompt=False,
        decode_ms=read_ms,
        prompt_ms=0.0,
        encoder_ms=0.0,
        skipped=True,
        motion_px=decision.motion_px,
        gate_ms=gate_ms,
    )
    memory_mb, peak_mb = profiler.memory_now()
    return FrameResult(
        frame=frame,
        masks=masks,
        object_scores=dict(last_processed.object_scores),
        latency_ms=latency_ms,
        prompt_ms=0.0,
        decode_ms=read_ms,
        encoder_ms=0.0,
        memory_mb=memory_mb,
        peak_memory_mb=peak_mb,
        reverse=reverse,
        skipped=True,
        motion_px=decision.motion_px,
        gate_ms=gate_ms,
    )


def _must_process(memory: Sam2Memory, frame: int, object_ids: list[int], last_processed: FrameResult | None) -> bool:
    """Prompted frames get the model, and so does a frame where an object joins the pass (its first prompted
    frame going forward, the frame before it going backward): there is nothing of it to carry."""
    if last_processed is None or set(object_ids) != set(last_processed.masks):
        return True
    return any(memory.is_prompted(obj, frame) for obj in object_ids)
