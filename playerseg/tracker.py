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
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from evaluation.profiling import FrameProfiler
from playerseg.prompts import Prompt, PromptError, PromptSet
from playerseg.registry import LoadedModel

IMAGE_MEAN = (0.485, 0.456, 0.406)  # sam2's input normalisation (ImageNet statistics)
IMAGE_STD = (0.229, 0.224, 0.225)


class FrameSource(Protocol):
    """What the tracker reads frames from: a FrameStore, or any indexable sequence of RGB frames with a size."""

    width: int
    height: int

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> np.ndarray: ...


class TrackingError(RuntimeError):
    """Tracking cannot run as asked; the message is for the user."""


@dataclass(frozen=True)
class FrameResult:
    """One processed frame: masks of the objects tracked in this pass, with what it cost."""

    frame: int  # index in the frame source
    masks: dict[int, np.ndarray]  # object id -> bool HxW, non-overlapping within the pass
    object_scores: dict[int, float]  # object id -> SAM2's object-presence logit (> 0: visible)
    latency_ms: float  # frame read + preprocessing + model + masks back on the host (+ prompt work on this frame)
    prompt_ms: float  # of which decoding the prompts given on this frame and encoding them into memory
    decode_ms: float  # of which reading and preprocessing the frame
    memory_mb: float  # CUDA memory allocated, or process RSS on CPU
    peak_memory_mb: float  # CUDA peak allocated since tracking started, or process RSS high-water mark
    reverse: bool  # True when produced by the backward pass


class _Sam2FrameFeed:
    """The `images` sequence sam2 reads: frame i resized to the model's square input and normalised, on demand."""

    def __init__(self, frames: FrameSource, image_size: int, cache_size: int = 2) -> None:
        self._frames = frames
        self._image_size = image_size
        self._cache: OrderedDict[int, Any] = OrderedDict()
        self._cache_size = cache_size
        self.last_fetch_ms = 0.0

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: int) -> Any:
        import torch

        started = time.perf_counter()
        if index in self._cache:
            self._cache.move_to_end(index)
            tensor = self._cache[index]
        else:
            tensor = torch.from_numpy(preprocess_frame(self._frames[index], self._image_size))
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

    def __init__(self, model: LoadedModel, frames: FrameSource, use_autocast: bool | None = None) -> None:
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
        num_frames = len(self.frames)
        for frame in range(min(first_frames.values()), num_frames):
            objects = [obj for obj, first in first_frames.items() if first <= frame]
            yield self._step(frame, objects, reverse=False)
        for frame in range(max(first_frames.values()) - 1, -1, -1):
            objects = [obj for obj, first in first_frames.items() if first > frame]
            yield self._step(frame, objects, reverse=True)

    def step(self, frame: int) -> FrameResult:
        """Streaming, forward only: process `frame` for every live object whose first prompt is on or before it.
        Frames must increase from call to call (skipping frames is allowed); with no live object the result is empty."""
        import torch

        if self._tracked:
            raise TrackingError("This tracker ran track(); start a new tracker to stream frames.")
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

    def _step(self, frame: int, object_ids: list[int], reverse: bool) -> FrameResult:
        import torch

        self.profiler.synchronize()
        started = time.perf_counter()
        self._feed.last_fetch_ms = 0.0
        with torch.inference_mode(), self._autocast():
            logits = [self._object_logits(frame, obj, reverse) for obj in object_ids]
            scores = [self._object_score(frame, obj) for obj in object_ids]
            masks = self._video_res_masks(torch.cat(logits, dim=0)) if logits else []
        self.profiler.synchronize()
        prompt_ms = self._prompt_ms.pop(frame, 0.0)  # counted once, with the first pass through the frame
        latency_ms = (time.perf_counter() - started) * 1000.0 + prompt_ms
        decode_ms = self._feed.last_fetch_ms
        self.profiler.record(frame, latency_ms, prompt=prompt_ms > 0, decode_ms=decode_ms, prompt_ms=prompt_ms)
        memory_mb, peak_mb = self.profiler.memory_now()
        return FrameResult(
            frame=frame,
            masks=dict(zip(object_ids, masks)),
            object_scores=dict(zip(object_ids, scores)),
            latency_ms=latency_ms,
            prompt_ms=prompt_ms,
            decode_ms=decode_ms,
            memory_mb=memory_mb,
            peak_memory_mb=peak_mb,
            reverse=reverse,
        )

    def _object_logits(self, frame: int, object_id: int, reverse: bool) -> Any:
        """Low-resolution mask logits (1x1xhxw) of one object on one frame, running SAM2 unless it was prompted."""
        state = self._state
        obj_idx = state["obj_id_to_idx"][object_id]
        output_dict = state["output_dict_per_obj"][obj_idx]
        if frame in output_dict["cond_frame_outputs"]:
            logits = output_dict["cond_frame_outputs"][frame]["pred_masks"]
        else:
            current_out, logits = self._predictor._run_single_frame_inference(
                inference_state=state,
                output_dict=output_dict,
                frame_idx=frame,
                batch_size=1,
                is_init_cond_frame=False,
                point_inputs=None,
                mask_inputs=None,
                reverse=reverse,
                run_mem_encoder=True,
            )
            output_dict["non_cond_frame_outputs"][frame] = current_out
        state["frames_tracked_per_obj"][obj_idx][frame] = {"reverse": reverse}
        return logits.to(state["device"]).float()

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
        best = upsampled.argmax(dim=0)
        positive = upsampled.max(dim=0).values > 0
        owner = torch.where(positive, best, torch.full_like(best, -1)).cpu().numpy()
        return [owner == index for index in range(logits.shape[0])]
