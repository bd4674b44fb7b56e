"""SAM2 video tracking behind a small typed API.

    with Sam2VideoTracker(load_video_model("test-sam2.1-tiny-128"), frames) as tracker:
        tracker.add_prompts(prompt_set)
        for result in tracker.track():
            ...  # FrameResult: masks per object, latency, memory

Every object is tracked forward from its first prompted frame to the end of the clip, and backward from there to
the first frame when its first prompt sits on a later frame. Prompts on later frames of an object condition the
track too (SAM2's multi-frame conditioning), which is how a later click corrects the track. sam2's
`inference_state` dict never leaves this module; frames are read lazily from a frame source, one at a time.

Streaming (the auto-labeler): `step(frame)` processes one frame forward for every live object; between steps new
objects may be added on the frame about to be processed (they join the LIVE state: the other objects keep their
memory) and objects may be ended (`end_object`: no more model calls for them, their per-frame memories are freed).
A tracker either runs `track()` once or is stepped; not both.

Flat memory: frames are read lazily, and after each frame the per-frame memories SAM2 can no longer read are
dropped (it reads the last `num_maskmem` frames' memories and `max_obj_ptrs_in_encoder` object pointers; prompted
frames are kept). So host RAM and VRAM stay flat as the clip grows, and the masks are the same as with nothing
dropped. Given up: going back to an old frame (a new prompt on an already processed frame, or tracking again from
it) needs a new run; the app and CLI always start one.

Many objects: the objects whose memories line up (same prompted frames, same remembered frames) run through
memory attention, the mask decoder and the memory encoder as one batch; the image encoder runs once per frame.
An object prompted on a later frame starts a batch of its own until its memory lines up.

Frame skipping (`skip=SkipSettings(...)`, track() only): before each frame of a pass a `MotionGate` measures the
motion since the pass's last processed frame (optical flow at a small work size, ~8 ms/frame at 1080p). Where little
moved, the frame is skipped: no sam2 call at all and nothing stored in sam2's memory for it; its masks are the last
processed frame's masks warped by that flow, its object scores are copied from there. Prompted frames and frames where
an object joins the pass are always processed, and at most `max_consecutive` frames in a row are skipped. What it
costs: mask edges lag by about the motion below the threshold, and sam2 sees fewer memories (it reads memories by
frame index and leaves missing frames out), so the track leans more on the prompted frames. A skipped frame costs
the frame read, the flow and the warp; a processed frame costs the flow on top of the model.

Motion-aware memory (`X+motion` models, after SAMURAI): on tracked frames each object's mask is chosen among the
decoder's candidates by predicted IoU and agreement with a per-object Kalman filter on its box, and a frame's memory
is kept for an object only where its mask is confident; memories dropped so leave holes sam2 skips, as skipped
frames do (motion_memory, motion).

Internals, one concept each: frames (the frame feed sam2 reads, its inference_state), memory (the memory window,
reading and forgetting per-object memories), batching (objects that share memory frames run as one batch), step (one
frame through sam2 into a FrameResult), gating (a pass with frame skipping), motion_memory (the candidate choice
and memory gate of `+motion` models) over motion (the Kalman filter and the scoring). This module keeps the public
tracker: construction, prompts, track(), step(), end_object(), close and the object ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager

import numpy as np

from evaluation.profiling import FrameProfiler
from playerseg.errors import PlayerSegError
from playerseg.io.prompts import Prompt, PromptError, PromptSet
from playerseg.tracking.frames import FrameSource, Sam2FrameFeed, new_inference_state
from playerseg.tracking.frameskip import MotionGate, SkipSettings
from playerseg.tracking.gating import gated_pass
from playerseg.tracking.memory import Sam2Memory, memory_window
from playerseg.tracking.motion_memory import MotionMemory
from playerseg.tracking.registry import LoadedModel
from playerseg.tracking.step import FrameResult, FrameStepper


class TrackingError(PlayerSegError, RuntimeError):
    """Tracking cannot run as asked; the message is for the user."""


class Sam2VideoTracker(AbstractContextManager["Sam2VideoTracker"]):
    """Tracks prompted objects through a clip with a loaded SAM2 video model."""

    def __init__(
        self,
        model: LoadedModel,
        frames: FrameSource,
        use_autocast: bool | None = None,
        prune_memory: bool = True,
        batch_objects: bool = True,
        skip: SkipSettings | None = None,
    ) -> None:
        """`prune_memory` and `batch_objects` exist to compare against sam2's plain per-object path (tests and
        benchmarks); the results are the same either way. `skip`: motion-gated frame skipping in track() (see the
        module docstring); None processes every frame."""
        if len(frames) == 0:
            raise TrackingError("The clip has no frames to track.")
        self.model = model
        self.frames = frames
        self._predictor = model.predictor
        feed = Sam2FrameFeed(frames, model.spec.image_size)
        # bf16 autocast is how SAM2 is meant to run on GPU; on CPU it would be slow and is not used.
        use_autocast = model.device.startswith("cuda") if use_autocast is None else use_autocast
        self._state = new_inference_state(feed, frames.height, frames.width, model.device)
        # one row per pass through a frame (forward and backward passes both visit frames between prompts)
        self.profiler = FrameProfiler(model.device, name=model.spec.name)
        self._first_prompt_frame: dict[int, int] = {}
        self._tracked = False
        self._streaming = False
        self._next_frame = 0  # streaming: frames before this one were processed
        self._ended: set[int] = set()
        self._unencoded_prompts = False  # prompts whose masks are not in memory yet (encoded before the next step)
        self._memory = Sam2Memory(self._state, memory_window(self._predictor))
        # `+motion` models: motion-aware candidate choice and memory gate (motion_memory)
        self.motion = MotionMemory(self._predictor, self._memory) if model.spec.memory == "motion" else None
        self._stepper = FrameStepper(
            self._predictor,
            self._memory,
            frames,
            feed,
            self.profiler,
            use_autocast,
            prune_memory,
            batch_objects,
            self.motion,
        )
        self.skip = skip

    @property
    def prune_memory(self) -> bool:
        return self._stepper.prune_memory

    @property
    def batch_objects(self) -> bool:
        return self._stepper.batch_objects

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop sam2's state (features, memories) so its memory can be freed."""
        self._state.clear()

    @property
    def object_ids(self) -> list[int]:
        return sorted(self._first_prompt_frame)

    @property
    def live_object_ids(self) -> list[int]:
        """Objects prompted and not ended (streaming)."""
        return [obj for obj in self.object_ids if obj not in self._ended]

    def add_prompts(self, prompts: PromptSet | Sequence[Prompt]) -> None:
        prompt_list = prompts.merged().prompts if isinstance(prompts, PromptSet) else list(prompts)
        for prompt in prompt_list:
            self.add_prompt(prompt)

    def add_prompt(self, prompt: Prompt) -> None:
        """Points and/or a box for one object on one frame (coordinates in the frame source's pixels)."""
        import torch

        if self._tracked:
            raise TrackingError("Prompts must be added before tracking starts; start a new tracker to re-run.")
        if self._streaming and prompt.frame < self._next_frame:
            raise TrackingError(
                f"Frame {prompt.frame} was already processed; a prompt can only go on frame {self._next_frame} "
                "or later."
            )
        if prompt.object_id in self._ended:
            raise TrackingError(f"Object {prompt.object_id} was ended; give a new object a new id.")
        if not 0 <= prompt.frame < len(self.frames):
            raise PromptError(
                f"Prompt for object {prompt.object_id} is on frame {prompt.frame}, outside the clip's "
                f"{len(self.frames)} frames."
            )
        points = [[p.x, p.y] for p in prompt.points] or None
        labels = [1 if p.positive else 0 for p in prompt.points] or None
        box = [prompt.box.x0, prompt.box.y0, prompt.box.x1, prompt.box.y1] if prompt.box else None
        started = time.perf_counter()
        with torch.inference_mode(), self._stepper.autocast():
            self._predictor.add_new_points_or_box(
                self._state, prompt.frame, prompt.object_id, points=points, labels=labels, box=box
            )
        self._stepper.add_prompt_time(prompt.frame, started)
        self._unencoded_prompts = True
        first = self._first_prompt_frame.get(prompt.object_id, prompt.frame)
        self._first_prompt_frame[prompt.object_id] = min(first, prompt.frame)

    def add_mask(self, frame: int, object_id: int, mask: np.ndarray) -> None:
        """A whole mask for one object on one frame (HxW, nonzero = the object; any size, sam2 resizes it), as
        sam2's `add_new_mask`: the frame's output is that mask, and a mask replaces clicks given on the same frame."""
        import torch

        if self._tracked or self._streaming:
            raise TrackingError("Masks must be added before tracking starts; start a new tracker to re-run.")
        if not 0 <= frame < len(self.frames):
            raise PromptError(
                f"Mask for object {object_id} is on frame {frame}, outside the clip's {len(self.frames)} frames."
            )
        if mask.ndim != 2 or not mask.any():
            raise PromptError(f"Mask for object {object_id} on frame {frame} must be a 2-D mask with pixels on.")
        started = time.perf_counter()
        with torch.inference_mode(), self._stepper.autocast():
            self._predictor.add_new_mask(self._state, frame, object_id, torch.from_numpy(mask != 0))
        self._stepper.add_prompt_time(frame, started)
        self._unencoded_prompts = True
        self._first_prompt_frame[object_id] = min(self._first_prompt_frame.get(object_id, frame), frame)

    def track(self) -> Iterator[FrameResult]:
        """Forward pass from the earliest prompt, then a backward pass for objects first prompted later."""
        import torch

        if not self._first_prompt_frame:
            raise TrackingError("No prompts were given: click at least one object before tracking.")
        if self._tracked or self._streaming:
            raise TrackingError("This tracker has already run; start a new tracker to re-run.")
        self._tracked = True
        self._memory.expect_backward_passes(self._first_prompt_frame)
        self.profiler.start()
        self.profiler.synchronize()
        started = time.perf_counter()
        with torch.inference_mode(), self._stepper.autocast():
            # encodes the prompted frames' masks into memory
            self._predictor.propagate_in_video_preflight(self._state)
        self._stepper.add_prompt_time(min(self._first_prompt_frame.values()), started)
        first_frames = self._first_prompt_frame
        forward = range(min(first_frames.values()), len(self.frames))
        backward = range(max(first_frames.values()) - 1, -1, -1)
        gate = None if self.skip is None else MotionGate(self.skip)
        yield from self._run_pass(forward, False, gate)
        yield from self._run_pass(backward, True, gate)

    def _pass_objects(self, frame: int, reverse: bool) -> list[int]:
        """The objects a pass tracks on `frame`: going forward those first prompted on or before it, going backward
        those first prompted after it."""
        if reverse:
            return [obj for obj, first in self._first_prompt_frame.items() if first > frame]
        return [obj for obj, first in self._first_prompt_frame.items() if first <= frame]

    def _run_pass(self, frames: range, reverse: bool, gate: MotionGate | None) -> Iterator[FrameResult]:
        """One pass of track(): every frame through the model, or through the motion gate when skipping is on."""
        if gate is None:
            for frame in frames:
                yield self._stepper.run(frame, self._pass_objects(frame, reverse), reverse)
            return
        yield from gated_pass(self._stepper, gate, frames, lambda frame: self._pass_objects(frame, reverse), reverse)

    def step(self, frame: int) -> FrameResult:
        """Streaming, forward only: process `frame` for every live object whose first prompt is on or before it.
        Frames must increase from call to call (skipping frames is allowed); with no live object the result is empty."""
        import torch

        if self._tracked:
            raise TrackingError("This tracker ran track(); start a new tracker to stream frames.")
        if self.skip is not None:
            raise TrackingError("Frame skipping works in track() only; make the streaming tracker with skip=None.")
        if not self._next_frame <= frame < len(self.frames):
            raise TrackingError(
                f"Cannot process frame {frame}: the next frame must be from {self._next_frame} to "
                f"{len(self.frames) - 1}."
            )
        if not self._streaming:
            self._streaming = True
            self.profiler.start()
        if self._unencoded_prompts:
            self.profiler.synchronize()
            started = time.perf_counter()
            with torch.inference_mode(), self._stepper.autocast():
                # moves the new prompts' outputs into memory (encodes their masks); the other objects are untouched
                self._predictor.propagate_in_video_preflight(self._state)
            self._stepper.add_prompt_time(frame, started)
            self._unencoded_prompts = False
        self._next_frame = frame + 1
        objects = [obj for obj in self.live_object_ids if self._first_prompt_frame[obj] <= frame]
        return self._stepper.run(frame, objects, reverse=False)

    def end_object(self, object_id: int) -> None:
        """Streaming: stop tracking an object; its per-frame memories are dropped (its prompts stay)."""
        if object_id not in self._first_prompt_frame:
            raise TrackingError(f"Object {object_id} is not tracked.")
        self._ended.add(object_id)
        self._memory.forget_object(object_id)
