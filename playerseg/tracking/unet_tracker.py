"""The U-Net baseline as a tracker: the same prompts, passes and `FrameResult`s as the SAM2 tracker.

    with UNetTracker(load_video_model("unet:pitch"), frames) as tracker:
        tracker.add_prompts(prompt_set)
        for result in tracker.track():
            ...

Each frame goes through the U-Net once (resized to its square input like its training frames, logits resized back
to the frame); its "player" pixels become instances through `unet_regions`: the user's clicks, boxes and masks
anchor each object on their frames, and between them each object keeps the regions next to its mask on the
previous frame of the pass. The passes are the SAM2 tracker's: forward from the earliest first prompt, then
backward for the objects first prompted later. Only the previous masks are held, so memory is flat in clip length.
Frame skipping, motion-aware memory and streaming are SAM2's and are not offered here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np

from evaluation.profiling import FrameProfiler
from playerseg.io.prompts import Box, Prompt, PromptError, PromptSet
from playerseg.tracking.frames import FrameSource
from playerseg.tracking.registry import LoadedModel
from playerseg.tracking.step import FrameResult
from playerseg.tracking.unet_regions import MEMORY_FRAMES, ObjectPrior, assign_regions, box_mask, click_disc

EMPTY_SCORE = -1.0  # an object with no pixel on a frame (the U-Net gives no presence score of its own)


@dataclass
class _Memory:
    """An object's last non-empty mask in a pass, how many frames ago it was, and its centre's motion per frame."""

    mask: np.ndarray
    centre: tuple[float, float]
    velocity: tuple[float, float] = (0.0, 0.0)
    age: int = 0

    def predicted(self) -> np.ndarray:
        """The mask moved on by its velocity to the frame after `age` frames without a mask (constant velocity)."""
        steps = self.age + 1
        return shifted(self.mask, round(self.velocity[0] * steps), round(self.velocity[1] * steps))


class UNetTracker(AbstractContextManager["UNetTracker"]):
    """Tracks prompted objects through a clip with a loaded U-Net: per-frame "player" pixels given to the objects."""

    def __init__(self, model: LoadedModel, frames: FrameSource) -> None:
        self.model = model
        self.frames = frames
        self.net = model.predictor
        self.profiler = FrameProfiler(model.device, name=model.spec.name)
        self._prompts: dict[tuple[int, int], list[Prompt]] = {}
        self._masks: dict[tuple[int, int], np.ndarray] = {}
        self._first_prompt_frame: dict[int, int] = {}
        self._tracked = False

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._masks.clear()

    @property
    def object_ids(self) -> list[int]:
        return sorted(self._first_prompt_frame)

    def add_prompts(self, prompts: PromptSet | Sequence[Prompt]) -> None:
        for prompt in prompts.prompts if isinstance(prompts, PromptSet) else prompts:
            self.add_prompt(prompt)

    def add_prompt(self, prompt: Prompt) -> None:
        """Points and/or a box for one object on one frame (coordinates in the frame source's pixels)."""
        self._check_open("Prompts")
        if not 0 <= prompt.frame < len(self.frames):
            raise PromptError(
                f"Prompt for object {prompt.object_id} is on frame {prompt.frame}, outside the clip's "
                f"{len(self.frames)} frames."
            )
        self._prompts.setdefault((prompt.frame, prompt.object_id), []).append(prompt)
        self._note_first(prompt.object_id, prompt.frame)

    def add_mask(self, frame: int, object_id: int, mask: np.ndarray) -> None:
        """A whole mask for one object on one frame (HxW, nonzero = the object, the frame source's size): the
        frame's output is that mask, as with sam2's `add_new_mask`; it replaces clicks given on the same frame."""
        self._check_open("Masks")
        if not 0 <= frame < len(self.frames):
            raise PromptError(
                f"Mask for object {object_id} is on frame {frame}, outside the clip's {len(self.frames)} frames."
            )
        if mask.ndim != 2 or not mask.any():
            raise PromptError(f"Mask for object {object_id} on frame {frame} must be a 2-D mask with pixels on.")
        self._masks[(frame, object_id)] = _resized_mask(mask != 0, self.frames.height, self.frames.width)
        self._note_first(object_id, frame)

    def track(self) -> Iterator[FrameResult]:
        """Forward pass from the earliest prompt, then a backward pass for objects first prompted later."""
        from playerseg.tracking.tracker import TrackingError

        if not self._first_prompt_frame:
            raise TrackingError("No prompts were given: click at least one object before tracking.")
        if self._tracked:
            raise TrackingError("This tracker has already run; start a new tracker to re-run.")
        self._tracked = True
        self.profiler.start()
        first_frames = self._first_prompt_frame
        yield from self._run_pass(range(min(first_frames.values()), len(self.frames)), reverse=False)
        yield from self._run_pass(range(max(first_frames.values()) - 1, -1, -1), reverse=True)

    def _check_open(self, what: str) -> None:
        if self._tracked:
            from playerseg.tracking.tracker import TrackingError

            raise TrackingError(f"{what} must be added before tracking starts; start a new tracker to re-run.")

    def _note_first(self, object_id: int, frame: int) -> None:
        self._first_prompt_frame[object_id] = min(self._first_prompt_frame.get(object_id, frame), frame)

    def _run_pass(self, frames: range, reverse: bool) -> Iterator[FrameResult]:
        memory: dict[int, _Memory] = {}
        for frame in frames:
            objects = [
                obj for obj, first in self._first_prompt_frame.items() if (first > frame if reverse else first <= frame)
            ]
            yield self._step(frame, sorted(objects), memory, reverse)

    def _step(self, frame: int, objects: list[int], memory: dict[int, _Memory], reverse: bool) -> FrameResult:
        self.profiler.synchronize()
        started = time.perf_counter()
        rgb = self.frames[frame]
        decoded = time.perf_counter()
        logits = self._logits(rgb)
        self.profiler.synchronize()
        encoded = time.perf_counter()
        prompt_started = time.perf_counter()
        priors = {obj: self._prior(frame, obj, memory) for obj in objects}
        priors = {obj: prior for obj, prior in priors.items() if prior is not None}
        prompted = any((frame, obj) in self._prompts or (frame, obj) in self._masks for obj in objects)
        prompt_ms = (time.perf_counter() - prompt_started) * 1000.0 if prompted else 0.0
        masks = assign_regions(logits > 0, priors)
        for obj in objects:
            given = self._masks.get((frame, obj))
            masks[obj] = given.copy() if given is not None else masks.get(obj, np.zeros(logits.shape, dtype=bool))
        masks = _without_overlaps(masks, [obj for obj in objects if (frame, obj) in self._masks])
        _remember(masks, memory)
        latency_ms = (time.perf_counter() - started) * 1000.0
        self.profiler.record(frame, latency_ms, prompt=prompted)
        memory_mb, peak_mb = self.profiler.memory_now()
        return FrameResult(
            frame=frame,
            masks=masks,
            object_scores={obj: _score(logits, mask) for obj, mask in masks.items()},
            latency_ms=latency_ms,
            prompt_ms=prompt_ms,
            decode_ms=(decoded - started) * 1000.0,
            encoder_ms=(encoded - decoded) * 1000.0,
            memory_mb=memory_mb,
            peak_memory_mb=peak_mb,
            reverse=reverse,
        )

    def _logits(self, rgb: np.ndarray) -> np.ndarray:
        """The U-Net's "player" logits for a frame, float32 HxW at the frame's size."""
        import torch
        import torch.nn.functional as F
        from PIL import Image

        from playerseg.tracking.unet_net import normalise

        size = self.net.config.image_size
        resized = np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.BICUBIC))
        images = torch.from_numpy(resized.transpose(2, 0, 1).copy()).unsqueeze(0).to(self.model.device)
        with torch.inference_mode():
            logits = self.net(normalise(images))
            logits = F.interpolate(logits, size=rgb.shape[:2], mode="bilinear", align_corners=False)
        return logits[0, 0].float().cpu().numpy()

    def _prior(self, frame: int, object_id: int, memory: dict[int, _Memory]) -> ObjectPrior | None:
        """Clicks, box or mask on this frame; else the object's last mask in the pass (None when it has none)."""
        height, width = self.frames.height, self.frames.width
        given = self._masks.get((frame, object_id))
        if given is not None:
            return ObjectPrior(mask=given)
        prompts = self._prompts.get((frame, object_id), [])
        points = [point for prompt in prompts for point in prompt.points]
        negatives = [(round(p.x), round(p.y)) for p in points if not p.positive]
        boxes = [prompt.box for prompt in prompts if prompt.box is not None]
        box = None if not boxes else _box_pixels(boxes[-1])
        positives = [(round(p.x), round(p.y)) for p in points if p.positive]
        if positives or box is not None:  # clicks claim the regions under them, a box alone those it overlaps
            mask = click_disc(height, width, positives) if positives else box_mask(height, width, box)
            return ObjectPrior(mask=mask, negatives=negatives, box=box)
        remembered = memory.get(object_id)
        if remembered is None:
            return None
        return ObjectPrior(mask=remembered.predicted(), negatives=negatives)


def _box_pixels(box: Box) -> tuple[int, int, int, int]:
    """A prompt's box as pixel bounds with exclusive ends (the last box given on a frame wins, as in sam2)."""
    return int(box.x0), int(box.y0), int(box.x1) + 1, int(box.y1) + 1


def _resized_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    if mask.shape == (height, width):
        return mask
    from PIL import Image

    return np.asarray(Image.fromarray(mask).resize((width, height), Image.Resampling.NEAREST))


def _without_overlaps(masks: dict[int, np.ndarray], given: list[int]) -> dict[int, np.ndarray]:
    """A given mask wins its pixels over the regions other objects took."""
    for owner in given:
        for obj, mask in masks.items():
            if obj != owner:
                mask &= ~masks[owner]
    return masks


def shifted(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """The mask moved by (dx, dy) pixels; what leaves the frame is dropped."""
    if dx == 0 and dy == 0:
        return mask
    height, width = mask.shape
    moved = np.zeros_like(mask)
    if abs(dx) >= width or abs(dy) >= height:
        return moved
    moved[max(0, dy) : height + min(0, dy), max(0, dx) : width + min(0, dx)] = mask[
        max(0, -dy) : height + min(0, -dy), max(0, -dx) : width + min(0, -dx)
    ]
    return moved


def _remember(masks: dict[int, np.ndarray], memory: dict[int, _Memory]) -> None:
    """Keep each object's latest non-empty mask and its centre's velocity (from consecutive masks); a lost object's
    last mask, moved on by that velocity, claims for MEMORY_FRAMES frames."""
    for obj, mask in masks.items():
        if mask.any():
            ys, xs = np.nonzero(mask)
            centre = (float(xs.mean()), float(ys.mean()))
            last = memory.get(obj)
            velocity = (0.0, 0.0)
            if last is not None:
                steps = last.age + 1
                velocity = ((centre[0] - last.centre[0]) / steps, (centre[1] - last.centre[1]) / steps)
            memory[obj] = _Memory(mask, centre, velocity)
        elif obj in memory:
            memory[obj].age += 1
            if memory[obj].age > MEMORY_FRAMES:
                del memory[obj]


def _score(logits: np.ndarray, mask: np.ndarray) -> float:
    """Mean "player" logit over the object's pixels (> 0 where the U-Net sees it), EMPTY_SCORE when it has none."""
    return float(logits[mask].mean()) if mask.any() else EMPTY_SCORE
