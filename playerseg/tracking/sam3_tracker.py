"""SAM 3 video tracking (transformers' `Sam3TrackerVideoModel`) behind the same small API as `Sam2VideoTracker`.

    with Sam3VideoTracker(load_sam3_model(test_sam3_spec(), "cpu"), frames) as tracker:
        tracker.add_prompts(prompt_set)
        for result in tracker.track():
            ...  # FrameResult: masks per object, latency, memory

Passes as in Sam2VideoTracker: forward from the earliest first prompt to the last frame for the objects first prompted
on or before each frame, then backward from the latest first prompt down to frame 0 for the objects first prompted
after each frame. Prompts on later frames of an object condition its track too (a later click corrects it). Every
prompt is given before tracking; track() first runs each prompted frame for the objects prompted there (their
conditioning outputs), then the passes.

Each frame runs transformers' own `Sam3TrackerVideoModel.forward` (so the masks are the ones its stock video loop
gives) on an inference session that holds only the pass's objects: a *view* session per set of objects, sharing the
per-object inputs and outputs (dicts held by reference) and the vision-feature cache of one session. The session's
`processed_frames` is a lazy feed (`Sam3FrameFeed`): its length is the clip's, and frame i is read and run through
the processor's video processor only when the model asks for it, the last couple kept.

Flat memory: after each frame the per-frame outputs the model will not read again are dropped. Going forward it
reads the last `num_maskmem - 1` tracked frames' memories and `max_object_pointers_in_encoder - 1` tracked frames'
object pointers (conditioning frames are kept), so tracked frames further back than that are forgotten, except the
ones just after an object's first prompt while a backward pass will still read them; the high-resolution mask
logits kept for the memory encoder are dropped once it has run. The vision-feature cache holds one frame.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation.profiling import FrameProfiler
from playerseg.io.prompts import Prompt, PromptError, PromptSet
from playerseg.tracking.frames import FrameSource
from playerseg.tracking.registry import LoadedModel
from playerseg.tracking.sam3_model import Sam3Predictor
from playerseg.tracking.step import FrameResult, owner_masks
from playerseg.tracking.tracker import TrackingError


class Sam3FrameFeed:
    """The session's `processed_frames`: frame i through the processor's video processor on demand (as stock
    `init_video_session` does for the whole clip), the last `cache_size` kept."""

    def __init__(self, frames: FrameSource, processor: Any, device: str, cache_size: int = 2) -> None:
        self._frames = frames
        self._processor = processor
        self._device = device
        self._cache: OrderedDict[int, Any] = OrderedDict()
        self._cache_size = cache_size
        self.last_fetch_ms = 0.0

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: int) -> Any:
        started = time.perf_counter()
        if index in self._cache:
            self._cache.move_to_end(index)
        else:
            rgb = np.asarray(self._frames[index])
            video = self._processor.video_processor(videos=rgb[None], device=self._device, return_tensors="pt")
            self._cache[index] = video.pixel_values_videos[0, 0]
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        self.last_fetch_ms = (time.perf_counter() - started) * 1000.0
        return self._cache[index]

    def __setitem__(self, index: int, value: Any) -> None:
        raise TrackingError("Streamed frames are not offered by the SAM 3 tracker; give it the whole clip.")

    def cached_frames(self) -> list[int]:
        return list(self._cache)

    def clear(self) -> None:
        self._cache.clear()


@dataclass
class _FramePrompt:
    """What one object was given on one frame: clicks and/or a box (merged), or a whole mask."""

    prompt: Prompt | None = None
    mask: np.ndarray | None = None


class Sam3Sessions:
    """transformers' inference state for one clip: the main session holding every object's inputs and outputs, view
    sessions over subsets of objects sharing them, and the forgetting of outputs the model will not read again."""

    def __init__(self, model: Any, feed: Sam3FrameFeed, height: int, width: int, device: str) -> None:
        self.model = model
        self.feed = feed
        self._size = (height, width)
        self._device = device
        self.main = self._new_session()
        self._views: dict[tuple[int, ...], Any] = {}
        config = model.config
        # how far back (in pass order) the model reads tracked frames: memories and object pointers
        self.window = max(config.num_maskmem - 1, config.max_object_pointers_in_encoder - 1, 1)

    def _new_session(self) -> Any:
        import torch
        from transformers import Sam3TrackerVideoInferenceSession

        height, width = self._size
        session = Sam3TrackerVideoInferenceSession(
            video_height=height,
            video_width=width,
            inference_device=self._device,
            inference_state_device=self._device,
            video_storage_device=self._device,
            dtype=torch.float32,
        )
        session.processed_frames = self.feed  # num_frames is the clip's length; frames are read when asked for
        return session

    def register(self, object_ids: list[int]) -> None:
        """Give the objects their per-object state in the main session, in this order."""
        for obj in object_ids:
            self.main.obj_id_to_idx(obj)

    def view(self, object_ids: tuple[int, ...]) -> Any:
        """A session over just these objects: their inputs, outputs and tracked frames are the main session's dicts
        (shared by reference) and the vision-feature cache is the main one, so every view sees every frame's work."""
        view = self._views.get(object_ids)
        if view is None:
            main = self.main
            view = self._new_session()
            view.cache = main.cache
            for obj in object_ids:
                source, index = main.obj_id_to_idx(obj), view.obj_id_to_idx(obj)
                view.point_inputs_per_obj[index] = main.point_inputs_per_obj[source]
                view.mask_inputs_per_obj[index] = main.mask_inputs_per_obj[source]
                view.output_dict_per_obj[index] = main.output_dict_per_obj[source]
                view.frames_tracked_per_obj[index] = main.frames_tracked_per_obj[source]
            self._views[object_ids] = view
        return view

    def outputs(self, obj: int) -> dict[str, dict[int, dict[str, Any]]]:
        return self.main.output_dict_per_obj[self.main.obj_id_to_idx(obj)]

    def is_conditioned(self, obj: int, frame: int) -> bool:
        """True when the object's output on the frame is a prompted (conditioning) one: the model reuses it."""
        return frame in self.outputs(obj)["cond_frame_outputs"]

    def forget(self, frame: int, object_ids: list[int], reverse: bool, keep: dict[int, range]) -> None:
        """After `frame` of a pass: drop the objects' tracked outputs further back than the model reads (not those in
        `keep`, per object), their tracked-frame marks alike, and the high-res logits just used for memory."""
        step = -1 if reverse else 1
        for obj in object_ids:
            index = self.main.obj_id_to_idx(obj)
            outputs = self.main.output_dict_per_obj[index]
            for kind in ("cond_frame_outputs", "non_cond_frame_outputs"):
                outputs[kind].get(frame, {}).pop("high_res_masks", None)
            tracked = outputs["non_cond_frame_outputs"]
            marks = self.main.frames_tracked_per_obj[index]
            for old in [k for k in (*tracked, *marks) if (frame - k) * step >= self.window]:
                if old not in keep.get(obj, range(0)):
                    tracked.pop(old, None)
                    marks.pop(old, None)

    def frames_held(self) -> int:
        """How many distinct frames have per-frame state in the session: outputs, tracked marks, cached features
        and preprocessed frames. Stays flat as the clip grows."""
        held = set(self.main.cache._vision_features) | set(self.feed.cached_frames())
        for index in self.main.output_dict_per_obj:
            outputs = self.main.output_dict_per_obj[index]
            held |= set(outputs["cond_frame_outputs"]) | set(outputs["non_cond_frame_outputs"])
            held |= set(self.main.frames_tracked_per_obj[index])
        return len(held)

    def clear(self) -> None:
        self.main.reset_inference_session()
        self._views.clear()
        self.feed.clear()


class Sam3VideoTracker(AbstractContextManager["Sam3VideoTracker"]):
    """Tracks prompted objects through a clip with a loaded SAM 3 tracker (`load_sam3_model`)."""

    def __init__(self, model: LoadedModel, frames: FrameSource) -> None:
        if len(frames) == 0:
            raise TrackingError("The clip has no frames to track.")
        if not isinstance(model.predictor, Sam3Predictor):
            raise TrackingError(f"Model {model.spec.name} is not a SAM 3 model; track it with its own tracker.")
        self.model = model
        self.frames = frames
        self._model = model.predictor.model
        self._processor = model.predictor.processor
        self._feed = Sam3FrameFeed(frames, self._processor, model.device)
        self._sessions = Sam3Sessions(self._model, self._feed, frames.height, frames.width, model.device)
        # one row per pass through a frame (forward and backward passes both visit frames between prompts)
        self.profiler = FrameProfiler(model.device, name=model.spec.name)
        self._prompts: dict[tuple[int, int], _FramePrompt] = {}  # (frame, object id) -> what was given there
        self._first_prompt_frame: dict[int, int] = {}
        self._prompt_ms: dict[int, float] = {}  # prompt work per frame, reported with that frame's first result
        self._tracked = False
        self.frames_held_peak = 0  # most frames the session held after any frame of track()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the session's state (features, memories, frames) so its memory can be freed."""
        self._sessions.clear()

    @property
    def object_ids(self) -> list[int]:
        return sorted(self._first_prompt_frame)

    def frames_held(self) -> int:
        """Distinct frames with per-frame state in the session now (flat in clip length while tracking)."""
        return self._sessions.frames_held()

    def add_prompts(self, prompts: PromptSet | Sequence[Prompt]) -> None:
        prompt_list = prompts.merged().prompts if isinstance(prompts, PromptSet) else list(prompts)
        for prompt in prompt_list:
            self.add_prompt(prompt)

    def add_prompt(self, prompt: Prompt) -> None:
        """Points and/or a box for one object on one frame (coordinates in the frame source's pixels). Several for
        the same object and frame are joined (points in order, the last box wins) and replace a mask given there
        before; a prompt on a later frame corrects the track."""
        self._check_open(prompt.frame, prompt.object_id, "Prompt")
        key = (prompt.frame, prompt.object_id)
        earlier = self._prompts.get(key)
        if earlier is not None and earlier.prompt is not None:
            prompt = PromptSet([earlier.prompt, prompt]).merged().prompts[0]
        self._prompts[key] = _FramePrompt(prompt=prompt)
        self._note_object(prompt.object_id, prompt.frame)

    def add_mask(self, frame: int, object_id: int, mask: np.ndarray) -> None:
        """A whole mask for one object on one frame (HxW, nonzero = the object, at the frame source's size): the
        frame's output is that mask, and it replaces clicks given on the same frame (as stock transformers does)."""
        self._check_open(frame, object_id, "Mask")
        mask = np.asarray(mask)
        if mask.ndim != 2 or not mask.any():
            raise PromptError(f"Mask for object {object_id} on frame {frame} must be a 2-D mask with pixels on.")
        self._prompts[(frame, object_id)] = _FramePrompt(mask=mask != 0)
        self._note_object(object_id, frame)

    def _check_open(self, frame: int, object_id: int, what: str) -> None:
        if self._tracked:
            raise TrackingError(f"{what}s must be added before tracking starts; start a new tracker to re-run.")
        if not 0 <= frame < len(self.frames):
            raise PromptError(
                f"{what} for object {object_id} is on frame {frame}, outside the clip's {len(self.frames)} frames."
            )

    def _note_object(self, object_id: int, frame: int) -> None:
        self._first_prompt_frame[object_id] = min(self._first_prompt_frame.get(object_id, frame), frame)

    def track(self) -> Iterator[FrameResult]:
        """The prompted frames first (their conditioning outputs), then a forward pass from the earliest prompt and a
        backward pass for the objects first prompted later."""
        if not self._first_prompt_frame:
            raise TrackingError("No prompts were given: click at least one object before tracking.")
        if self._tracked:
            raise TrackingError("This tracker has already run; start a new tracker to re-run.")
        self._tracked = True
        self.profiler.start()
        self._sessions.register(self.object_ids)
        for frame in sorted({frame for frame, _ in self._prompts}):
            self._run_prompts(frame)
        first_frames = self._first_prompt_frame
        forward = range(min(first_frames.values()), len(self.frames))
        backward = range(max(first_frames.values()) - 1, -1, -1)
        for reverse, frames in ((False, forward), (True, backward)):
            for frame in frames:
                yield self._step(frame, self._pass_objects(frame, reverse), reverse)

    def _pass_objects(self, frame: int, reverse: bool) -> list[int]:
        """The objects a pass tracks on `frame`: going forward those first prompted on or before it, going backward
        those first prompted after it."""
        if reverse:
            return [obj for obj, first in sorted(self._first_prompt_frame.items()) if first > frame]
        return [obj for obj, first in sorted(self._first_prompt_frame.items()) if first <= frame]

    def _run_prompts(self, frame: int) -> None:
        """Hand the frame's prompts to the session (the processor scales points and boxes, resizes masks) and run the
        model on the frame for the objects prompted there: their conditioning outputs and memories."""
        import torch

        self.profiler.synchronize()
        started = time.perf_counter()
        objects = tuple(sorted(obj for key_frame, obj in self._prompts if key_frame == frame))
        view = self._sessions.view(objects)
        for obj in objects:
            given = self._prompts[(frame, obj)]
            self._processor.add_inputs_to_inference_session(view, frame_idx=frame, obj_ids=obj, **_inputs(given))
        view.obj_with_new_inputs = list(objects)
        with torch.inference_mode():
            self._model(inference_session=view, frame_idx=frame)
        self._sessions.forget(frame, list(objects), reverse=False, keep={})
        self.profiler.synchronize()
        self._prompt_ms[frame] = self._prompt_ms.get(frame, 0.0) + (time.perf_counter() - started) * 1000.0

    def _step(self, frame: int, object_ids: list[int], reverse: bool) -> FrameResult:
        """One frame of a pass through transformers' forward for the pass's objects, timed into a FrameResult."""
        import torch

        self.profiler.synchronize()
        started = time.perf_counter()
        self._feed.last_fetch_ms = 0.0
        view = self._sessions.view(tuple(object_ids))
        with torch.inference_mode():
            encoder_ms = self._encode_image(view, frame, object_ids)
            output = self._model(inference_session=view, frame_idx=frame, reverse=reverse)
            logits = output.pred_masks.float()
            masks = owner_masks(logits, self.frames.height, self.frames.width)
            scores = output.object_score_logits.float().reshape(-1).tolist()
        self._sessions.forget(frame, object_ids, reverse, keep={} if reverse else self._backward_reads())
        self.frames_held_peak = max(self.frames_held_peak, self._sessions.frames_held())
        self.profiler.synchronize()
        prompt_ms = self._prompt_ms.pop(frame, 0.0)  # counted once, with the first pass through the frame
        latency_ms = (time.perf_counter() - started) * 1000.0 + prompt_ms
        decode_ms = self._feed.last_fetch_ms
        self.profiler.record(
            frame, latency_ms, prompt=prompt_ms > 0, decode_ms=decode_ms, prompt_ms=prompt_ms, encoder_ms=encoder_ms
        )
        memory_mb, peak_mb = self.profiler.memory_now()
        return FrameResult(
            frame=frame,
            masks=dict(zip(output.object_ids, masks)),
            object_scores=dict(zip(output.object_ids, scores)),
            latency_ms=latency_ms,
            prompt_ms=prompt_ms,
            decode_ms=decode_ms,
            encoder_ms=encoder_ms,
            memory_mb=memory_mb,
            peak_memory_mb=peak_mb,
            reverse=reverse,
        )

    def _encode_image(self, view: Any, frame: int, object_ids: list[int]) -> float:
        """Run the image encoder on the frame once (cached for every object's call): its time in ms without the
        frame read, 0 when every object's output on this frame is a prompted one (no model call) or already cached."""
        if all(self._sessions.is_conditioned(obj, frame) for obj in object_ids):
            return 0.0
        if view.cache.get_vision_features(frame) is not None:
            return 0.0
        self.profiler.synchronize()
        started = time.perf_counter()
        self._model._prepare_vision_features(view, frame, 1)
        self.profiler.synchronize()
        return max((time.perf_counter() - started) * 1000.0 - self._feed.last_fetch_ms, 0.0)

    def _backward_reads(self) -> dict[int, range]:
        """Going forward, the tracked frames a backward pass will read: the first `window` after the first prompt of
        each object first prompted after frame 0."""
        window = self._sessions.window
        return {obj: range(first, first + window) for obj, first in self._first_prompt_frame.items() if first > 0}


def _inputs(given: _FramePrompt) -> dict[str, Any]:
    """The processor's keyword arguments for what one object was given on one frame (nested one object deep)."""
    if given.mask is not None:
        return {"input_masks": given.mask}
    prompt = given.prompt
    assert prompt is not None
    inputs: dict[str, Any] = {}
    if prompt.points:
        inputs["input_points"] = [[[[p.x, p.y] for p in prompt.points]]]
        inputs["input_labels"] = [[[1 if p.positive else 0 for p in prompt.points]]]
    if prompt.box is not None:
        inputs["input_boxes"] = [[[prompt.box.x0, prompt.box.y0, prompt.box.x1, prompt.box.y1]]]
    return inputs
