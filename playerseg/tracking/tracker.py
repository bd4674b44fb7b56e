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
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from evaluation.profiling import FrameProfiler
from playerseg.errors import PlayerSegError
from playerseg.io.prompts import Prompt, PromptError, PromptSet
from playerseg.tracking.frameskip import MotionGate, SkipSettings
from playerseg.tracking.registry import LoadedModel

IMAGE_MEAN = (0.485, 0.456, 0.406)  # sam2's input normalisation (ImageNet statistics)
IMAGE_STD = (0.229, 0.224, 0.225)


class FrameSource(Protocol):
    """What the tracker reads frames from: a FrameStore, or any indexable sequence of RGB frames with a size."""

    width: int
    height: int

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> np.ndarray: ...


class TrackingError(PlayerSegError, RuntimeError):
    """Tracking cannot run as asked; the message is for the user."""


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


class _Sam2FrameFeed:
    """The `images` sequence sam2 reads: frame i resized to the model's square input and normalised, on demand."""

    def __init__(self, frames: FrameSource, image_size: int, cache_size: int = 2) -> None:
        self._frames = frames
        self._image_size = image_size
        self._cache: OrderedDict[int, Any] = OrderedDict()
        self._cache_size = cache_size
        self._primed: tuple[int, np.ndarray] | None = None
        self.last_fetch_ms = 0.0

    def prime(self, index: int, rgb: np.ndarray) -> None:
        """Hand over frame `index`, already read by the caller, so the next fetch of it does not read it again."""
        self._primed = (index, rgb)

    def unprime(self) -> None:
        self._primed = None

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: int) -> Any:
        import torch

        started = time.perf_counter()
        if index in self._cache:
            self._cache.move_to_end(index)
            tensor = self._cache[index]
        else:
            primed = self._primed
            rgb = primed[1] if primed is not None and primed[0] == index else self._frames[index]
            tensor = torch.from_numpy(preprocess_frame(rgb, self._image_size))
            self._cache[index] = tensor
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        self.last_fetch_ms = (time.perf_counter() - started) * 1000.0
        return tensor


def preprocess_frame(rgb: np.ndarray, image_size: int) -> np.ndarray:
    """RGB uint8 HxWx3 -> float32 3xSxS, resized like sam2's own loader (PIL bicubic, no aspect kept), normalised."""
    from PIL import Image

    resized = np.asarray(Image.fromarray(rgb).resize((image_size, image_size), Image.Resampling.BICUBIC))
    image = resized.astype(np.float32) / 255.0
    image = (image - np.array(IMAGE_MEAN, dtype=np.float32)) / np.array(IMAGE_STD, dtype=np.float32)
    return np.ascontiguousarray(image.transpose(2, 0, 1))


def new_inference_state(images: Any, height: int, width: int, device: str) -> dict[str, Any]:
    """sam2's inference_state, built like SAM2VideoPredictor.init_state but over any indexable `images`
    (our lazy frame feed) instead of a tensor holding the whole clip."""
    import torch

    torch_device = torch.device(device)
    return {
        "images": images,
        "num_frames": len(images),
        "offload_video_to_cpu": True,
        "offload_state_to_cpu": False,
        "video_height": height,
        "video_width": width,
        "device": torch_device,
        "storage_device": torch_device,
        "point_inputs_per_obj": {},
        "mask_inputs_per_obj": {},
        "cached_features": {},
        "constants": {},
        "obj_id_to_idx": OrderedDict(),
        "obj_idx_to_id": OrderedDict(),
        "obj_ids": [],
        "output_dict_per_obj": {},
        "temp_output_dict_per_obj": {},
        "frames_tracked_per_obj": {},
    }


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
        self._feed = _Sam2FrameFeed(frames, model.spec.image_size)
        # bf16 autocast is how SAM2 is meant to run on GPU; on CPU it would be slow and is not used.
        self._use_autocast = model.device.startswith("cuda") if use_autocast is None else use_autocast
        self._state = self._new_state()
        # one row per pass through a frame (forward and backward passes both visit frames between prompts)
        self.profiler = FrameProfiler(model.device, name=model.spec.name)
        self._first_prompt_frame: dict[int, int] = {}
        self._prompt_ms: dict[int, float] = {}  # prompt work per frame, reported with that frame's result
        self._tracked = False
        self._streaming = False
        self._next_frame = 0  # streaming: frames before this one were processed
        self._ended: set[int] = set()
        self._unencoded_prompts = False  # prompts whose masks are not in memory yet (encoded before the next step)
        self.prune_memory = prune_memory
        self.batch_objects = batch_objects
        self._memory_window = memory_window(self._predictor)
        self.skip = skip

    def _new_state(self) -> dict[str, Any]:
        return new_inference_state(self._feed, self.frames.height, self.frames.width, self.model.device)

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop sam2's state (features, memories) so its memory can be freed."""
        self._state = {}

    @property
    def object_ids(self) -> list[int]:
        return sorted(self._first_prompt_frame)

    @property
    def live_object_ids(self) -> list[int]:
        """Objects prompted and not ended (streaming)."""
        return [obj for obj in self.object_ids if obj not in self._ended]

    def _autocast(self) -> AbstractContextManager[Any]:
        import torch

        if self._use_autocast:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return nullcontext()

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
                f"Frame {prompt.frame} was already processed; a prompt can only go on frame {self._next_frame} or later."
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
        with torch.inference_mode(), self._autocast():
            self._predictor.add_new_points_or_box(
                self._state, prompt.frame, prompt.object_id, points=points, labels=labels, box=box
            )
        self._add_prompt_time(prompt.frame, started)
        self._unencoded_prompts = True
        first = self._first_prompt_frame.get(prompt.object_id, prompt.frame)
        self._first_prompt_frame[prompt.object_id] = min(first, prompt.frame)

    def track(self) -> Iterator[FrameResult]:
        """Forward pass from the earliest prompt, then a backward pass for objects first prompted later."""
        import torch

        if not self._first_prompt_frame:
            raise TrackingError("No prompts were given: click at least one object before tracking.")
        if self._tracked or self._streaming:
            raise TrackingError("This tracker has already run; start a new tracker to re-run.")
        self._tracked = True
        self.profiler.start()
        self.profiler.synchronize()
        started = time.perf_counter()
        with torch.inference_mode(), self._autocast():
            # encodes the prompted frames' masks into memory
            self._predictor.propagate_in_video_preflight(self._state)
        self._add_prompt_time(min(self._first_prompt_frame.values()), started)
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
                yield self._step(frame, self._pass_objects(frame, reverse), reverse)
            return
        gate.reset()  # the gate's reference must be a frame of this pass (the backward pass starts afresh)
        last_processed: FrameResult | None = None
        for frame in frames:
            result = self._gated_step(gate, frame, self._pass_objects(frame, reverse), reverse, last_processed)
            if not result.skipped:
                last_processed = result
            yield result

    def _gated_step(
        self, gate: MotionGate, frame: int, object_ids: list[int], reverse: bool, last_processed: FrameResult | None
    ) -> FrameResult:
        """Read the frame, ask the gate, then run the model on it or carry the last processed frame's masks."""
        self.profiler.synchronize()
        started = time.perf_counter()
        rgb = self.frames[frame]
        read_ms = (time.perf_counter() - started) * 1000.0
        decision = gate.decide(rgb, must_process=self._must_process(frame, object_ids, last_processed))
        if not decision.skip or last_processed is None:  # the gate always processes a pass's first frame
            self._feed.prime(frame, rgb)
            try:
                return self._step(
                    frame, object_ids, reverse, started=started, read_ms=read_ms,
                    motion_px=decision.motion_px, gate_ms=decision.gate_ms,
                )
            finally:
                self._feed.unprime()
        # Skipped: no sam2 call, so nothing goes into sam2's memory for this frame. sam2 reads memories by frame
        # index (`_prepare_memory_conditioned_features`): a missing previous frame's memory is left out ("skip
        # padding frames") and so is a missing object pointer (only found ones are appended); later frames simply
        # attend to fewer memories, with temporal encodings still set by true frame distance.
        carry_started = time.perf_counter()
        masks = gate.carry(last_processed.masks)
        gate_ms = decision.gate_ms + (time.perf_counter() - carry_started) * 1000.0
        latency_ms = (time.perf_counter() - started) * 1000.0
        self.profiler.record(
            frame, latency_ms, prompt=False, decode_ms=read_ms, prompt_ms=0.0, encoder_ms=0.0,
            skipped=True, motion_px=decision.motion_px, gate_ms=gate_ms,
        )
        memory_mb, peak_mb = self.profiler.memory_now()
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

    def _must_process(self, frame: int, object_ids: list[int], last_processed: FrameResult | None) -> bool:
        """Prompted frames get the model, and so does a frame where an object joins the pass (its first prompted
        frame going forward, the frame before it going backward): there is nothing of it to carry."""
        if last_processed is None or set(object_ids) != set(last_processed.masks):
            return True
        return any(frame in self._outputs(obj)["cond_frame_outputs"] for obj in object_ids)

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
                f"Cannot process frame {frame}: the next frame must be from {self._next_frame} to {len(self.frames) - 1}."
            )
        if not self._streaming:
            self._streaming = True
            self.profiler.start()
        if self._unencoded_prompts:
            self.profiler.synchronize()
            started = time.perf_counter()
            with torch.inference_mode(), self._autocast():
                # moves the new prompts' outputs into memory (encodes their masks); the other objects are untouched
                self._predictor.propagate_in_video_preflight(self._state)
            self._add_prompt_time(frame, started)
            self._unencoded_prompts = False
        self._next_frame = frame + 1
        objects = [obj for obj in self.live_object_ids if self._first_prompt_frame[obj] <= frame]
        return self._step(frame, objects, reverse=False)

    def end_object(self, object_id: int) -> None:
        """Streaming: stop tracking an object; its per-frame memories are dropped (its prompts stay)."""
        if object_id not in self._first_prompt_frame:
            raise TrackingError(f"Object {object_id} is not tracked.")
        self._ended.add(object_id)
        obj_idx = self._state["obj_id_to_idx"][object_id]
        self._state["output_dict_per_obj"][obj_idx]["non_cond_frame_outputs"].clear()

    def _add_prompt_time(self, frame: int, started: float) -> None:
        self.profiler.synchronize()
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        self._prompt_ms[frame] = self._prompt_ms.get(frame, 0.0) + elapsed_ms

    def _step(
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
        self._feed.last_fetch_ms = 0.0
        with torch.inference_mode(), self._autocast():
            encoder_ms = self._encode_image(frame, object_ids)
            logits = self._frame_logits(frame, object_ids, reverse)
            scores = [self._object_score(frame, obj) for obj in object_ids]
            masks = self._video_res_masks(torch.cat(logits, dim=0)) if logits else []
        self._state["cached_features"] = {}  # this frame's image features are not needed again
        if self.prune_memory:
            self._forget_unreadable(frame, object_ids, reverse)
        self.profiler.synchronize()
        prompt_ms = self._prompt_ms.pop(frame, 0.0)  # counted once, with the first pass through the frame
        latency_ms = (time.perf_counter() - started) * 1000.0 + prompt_ms
        decode_ms = read_ms + self._feed.last_fetch_ms
        gated = {} if gate_ms is None else {"skipped": False, "motion_px": motion_px, "gate_ms": gate_ms}
        self.profiler.record(
            frame, latency_ms, prompt=prompt_ms > 0, decode_ms=decode_ms, prompt_ms=prompt_ms, encoder_ms=encoder_ms,
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
        if all(frame in self._outputs(obj)["cond_frame_outputs"] for obj in object_ids):
            return 0.0
        self.profiler.synchronize()
        started = time.perf_counter()
        self._predictor._get_image_feature(self._state, frame, 1)
        self.profiler.synchronize()
        return (time.perf_counter() - started) * 1000.0 - self._feed.last_fetch_ms

    def _outputs(self, object_id: int) -> dict[str, Any]:
        return self._state["output_dict_per_obj"][self._state["obj_id_to_idx"][object_id]]

    def _frame_logits(self, frame: int, object_ids: list[int], reverse: bool) -> list[Any]:
        """Low-resolution mask logits (1x1xhxw) of each object on the frame, in the order of `object_ids`."""
        logits: dict[int, Any] = {}
        to_run = []
        for obj in object_ids:
            prompted = self._outputs(obj)["cond_frame_outputs"].get(frame)
            if prompted is not None:
                logits[obj] = prompted["pred_masks"]
            else:
                to_run.append(obj)
        groups = self._memory_groups(frame, to_run, reverse) if self.batch_objects else [[obj] for obj in to_run]
        for group in groups:
            logits.update(zip(group, self._run_group(frame, group, reverse)))
        for obj in object_ids:
            self._state["frames_tracked_per_obj"][self._state["obj_id_to_idx"][obj]][frame] = {"reverse": reverse}
        return [logits[obj].to(self._state["device"]).float() for obj in object_ids]

    def _memory_groups(self, frame: int, object_ids: list[int], reverse: bool) -> list[list[int]]:
        """Objects whose memories line up (the same prompted frames and the same remembered frames in reach) can
        share a batch: sam2 then builds the same memory sequence for each of them."""
        groups: dict[tuple[tuple[int, ...], tuple[int, ...]], list[int]] = {}
        for obj in object_ids:
            outputs = self._outputs(obj)
            remembered = tuple(sorted(t for t in outputs["non_cond_frame_outputs"] if self._in_reach(t, frame, reverse)))
            groups.setdefault((tuple(sorted(outputs["cond_frame_outputs"])), remembered), []).append(obj)
        return list(groups.values())

    def _in_reach(self, memory_frame: int, frame: int, reverse: bool) -> bool:
        """Whether sam2 may read `memory_frame`'s memory or object pointer when processing `frame`."""
        distance = memory_frame - frame if reverse else frame - memory_frame
        return 0 < distance <= self._memory_window

    def _run_group(self, frame: int, object_ids: list[int], reverse: bool) -> list[Any]:
        """One sam2 call for these objects (memory attention, mask decoder, memory encoder as a batch); each
        object's output is stored in its own memory, as sam2's per-object path stores it."""
        outputs = [self._outputs(obj) for obj in object_ids]
        if len(outputs) == 1:
            memory = outputs[0]
        else:
            memory = {
                "cond_frame_outputs": _stack_frames(outputs, "cond_frame_outputs", lambda t: True),
                "non_cond_frame_outputs": _stack_frames(
                    outputs, "non_cond_frame_outputs", lambda t: self._in_reach(t, frame, reverse)
                ),
            }
        current, logits = self._predictor._run_single_frame_inference(
            inference_state=self._state,
            output_dict=memory,
            frame_idx=frame,
            batch_size=len(object_ids),
            is_init_cond_frame=False,
            point_inputs=None,
            mask_inputs=None,
            reverse=reverse,
            run_mem_encoder=True,
        )
        for index, output in enumerate(outputs):
            output["non_cond_frame_outputs"][frame] = _one_object(current, index)
        return [logits[index : index + 1] for index in range(len(object_ids))]

    def _forget_unreadable(self, frame: int, object_ids: list[int], reverse: bool) -> None:
        """Drop the memories of frames that sam2 will not read again. Going forward that is everything more than
        the memory window behind this frame, except the window after an object's first prompt while its backward
        pass (track() only) has yet to run from there."""
        window = self._memory_window
        for obj in object_ids:
            idx = self._state["obj_id_to_idx"][obj]
            first = self._first_prompt_frame[obj]
            backward_pending = self._tracked and not reverse and first > 0
            if reverse:
                stale = [t for t in self._outputs(obj)["non_cond_frame_outputs"] if t >= frame + window]
            else:
                stale = [
                    t for t in self._outputs(obj)["non_cond_frame_outputs"]
                    if t <= frame - window and not (backward_pending and first < t <= first + window)
                ]
            for t in stale:
                del self._outputs(obj)["non_cond_frame_outputs"][t]
                self._state["frames_tracked_per_obj"][idx].pop(t, None)

    def _object_score(self, frame: int, object_id: int) -> float:
        state = self._state
        output_dict = state["output_dict_per_obj"][state["obj_id_to_idx"][object_id]]
        out = output_dict["cond_frame_outputs"].get(frame) or output_dict["non_cond_frame_outputs"][frame]
        return float(out["object_score_logits"].float().max())

    def _video_res_masks(self, logits: Any) -> list[np.ndarray]:
        """Upsample logits to the frame size; each pixel goes to the object with the highest positive logit."""
        import torch

        upsampled = torch.nn.functional.interpolate(
            logits, size=(self.frames.height, self.frames.width), mode="bilinear", align_corners=False
        )[:, 0]
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


def memory_window(predictor: Any) -> int:
    """How many frames away (behind when tracking forward, ahead when backward) sam2 can read a non-prompted
    frame's memory or object pointer: the previous frame plus `num_maskmem` - 2 memories every
    `memory_temporal_stride_for_eval`-th frame before it, and the last `max_obj_ptrs_in_encoder` - 1 pointers."""
    stride = int(getattr(predictor, "memory_temporal_stride_for_eval", 1))
    memories = 1 + stride * max(0, int(predictor.num_maskmem) - 2)
    pointers = int(predictor.max_obj_ptrs_in_encoder) - 1 if predictor.use_obj_ptrs_in_encoder else 0
    return max(memories, pointers)


def _stack_frames(outputs: list[dict[str, Any]], kind: str, wanted: Any) -> dict[int, dict[str, Any]]:
    """Per frame, the objects' memories stacked along the batch dimension (only what sam2's memory step reads).
    The caller groups objects so that every frame is present for all of them."""
    import torch

    stacked = {}
    for frame in outputs[0][kind]:
        if not wanted(frame):
            continue
        per_object = [output[kind][frame] for output in outputs]
        first = per_object[0]
        stacked[frame] = {
            "maskmem_features": torch.cat([out["maskmem_features"] for out in per_object], dim=0),
            # the positional encoding is the same for every object (sam2 keeps one copy): expand it
            "maskmem_pos_enc": [x.expand(len(per_object), -1, -1, -1) for x in first["maskmem_pos_enc"]],
            "obj_ptr": torch.cat([out["obj_ptr"] for out in per_object], dim=0),
        }
    return stacked


def _one_object(batched: dict[str, Any], index: int) -> dict[str, Any]:
    """Object `index`'s slice of a batched sam2 frame output, shaped like a one-object output."""
    one = slice(index, index + 1)
    return {
        "maskmem_features": batched["maskmem_features"][one],
        "maskmem_pos_enc": [x[one] for x in batched["maskmem_pos_enc"]],
        "pred_masks": batched["pred_masks"][one],
        "obj_ptr": batched["obj_ptr"][one],
        "object_score_logits": batched["object_score_logits"][one],
    }
