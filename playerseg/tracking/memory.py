"""sam2's per-object memories, read and pruned by frame.

This module owns what the tracker knows about sam2's memory: `memory_window` (how far back, or ahead going backward,
sam2 can read a non-prompted frame's memory or object pointer), and `Sam2Memory`, a view over the `inference_state`
dict by object id: each object's prompted and remembered frame outputs, which remembered frames are in reach of the
frame being processed, the object score sam2 gave an object on a frame, and forgetting: one frame of one object
(`forget_frame`, motion-aware memory's gate), and dropping after each frame the
memories sam2 will not read again (keeping, during track()'s forward pass, the window after an object's first prompt
that its backward pass will still read), so host RAM and VRAM stay flat as the clip grows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def memory_window(predictor: Any) -> int:
    """How many frames away (behind when tracking forward, ahead when backward) sam2 can read a non-prompted
    frame's memory or object pointer: the previous frame plus `num_maskmem` - 2 memories every
    `memory_temporal_stride_for_eval`-th frame before it, and the last `max_obj_ptrs_in_encoder` - 1 pointers."""
    stride = int(getattr(predictor, "memory_temporal_stride_for_eval", 1))
    memories = 1 + stride * max(0, int(predictor.num_maskmem) - 2)
    pointers = int(predictor.max_obj_ptrs_in_encoder) - 1 if predictor.use_obj_ptrs_in_encoder else 0
    return max(memories, pointers)


class Sam2Memory:
    """The per-object memories held in sam2's `inference_state`, addressed by object id."""

    def __init__(self, state: dict[str, Any], window: int) -> None:
        self.state = state
        self.window = window
        self._backward_starts: dict[int, int] = {}  # object id -> first prompted frame, while a backward pass is due

    def outputs(self, object_id: int) -> dict[str, Any]:
        """The object's frame outputs: "cond_frame_outputs" (prompted frames), "non_cond_frame_outputs" (tracked)."""
        return self.state["output_dict_per_obj"][self.state["obj_id_to_idx"][object_id]]

    def is_prompted(self, object_id: int, frame: int) -> bool:
        return frame in self.outputs(object_id)["cond_frame_outputs"]

    def in_reach(self, memory_frame: int, frame: int, reverse: bool) -> bool:
        """Whether sam2 may read `memory_frame`'s memory or object pointer when processing `frame`."""
        distance = memory_frame - frame if reverse else frame - memory_frame
        return 0 < distance <= self.window

    def mark_tracked(self, object_id: int, frame: int, reverse: bool) -> None:
        """Record, as sam2's propagation does, that the object was tracked on the frame in this direction."""
        self.state["frames_tracked_per_obj"][self.state["obj_id_to_idx"][object_id]][frame] = {"reverse": reverse}

    def object_score(self, frame: int, object_id: int) -> float:
        """SAM2's object-presence logit of the object on the frame (> 0: visible)."""
        output_dict = self.outputs(object_id)
        out = output_dict["cond_frame_outputs"].get(frame) or output_dict["non_cond_frame_outputs"][frame]
        return float(out["object_score_logits"].float().max())

    def expect_backward_passes(self, first_prompt_frames: Mapping[int, int]) -> None:
        """track() is about to run: objects first prompted after frame 0 get a backward pass from there, so their
        memories just after that frame must outlive the forward pass."""
        self._backward_starts = {obj: first for obj, first in first_prompt_frames.items() if first > 0}

    def forget_unreadable(self, frame: int, object_ids: list[int], reverse: bool) -> None:
        """Drop the memories of frames that sam2 will not read again. Going forward that is everything more than
        the memory window behind this frame, except the window after an object's first prompt while its backward
        pass (track() only) has yet to run from there."""
        window = self.window
        for obj in object_ids:
            idx = self.state["obj_id_to_idx"][obj]
            remembered = self.outputs(obj)["non_cond_frame_outputs"]
            if reverse:
                stale = [t for t in remembered if t >= frame + window]
            else:
                first = self._backward_starts.get(obj)  # None: no backward pass to come from this object's prompt
                stale = [
                    t
                    for t in remembered
                    if t <= frame - window and not (first is not None and first < t <= first + window)
                ]
            for t in stale:
                del remembered[t]
                self.state["frames_tracked_per_obj"][idx].pop(t, None)

    def forget_frame(self, object_id: int, frame: int) -> None:
        """Drop one tracked frame's memory of the object (motion-aware memory: the mask was not confident)."""
        self.outputs(object_id)["non_cond_frame_outputs"].pop(frame, None)
        self.state["frames_tracked_per_obj"][self.state["obj_id_to_idx"][object_id]].pop(frame, None)

    def forget_object(self, object_id: int) -> None:
        """The object was ended: drop its per-frame memories (its prompted frames stay)."""
        self.outputs(object_id)["non_cond_frame_outputs"].clear()
