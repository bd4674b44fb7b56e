"""Running many objects through sam2 as one batch.

This module owns the per-object model calls of a frame: `object_logits` takes each object's low-resolution mask
logits from its prompt where it is prompted on the frame, and runs the others through sam2. Objects whose memories
line up (the same prompted frames, the same remembered frames in reach; `memory_groups`) make one group, and a group
goes through memory attention, the mask decoder and the memory encoder as one batch (`run_group`): their memories are
stacked along the batch dimension for the call, and the batched output is cut back into one output per object,
stored in each object's own memory as sam2's per-object path stores it. An object prompted on a later frame is a
group of its own until its memory lines up.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from playerseg.tracking.memory import Sam2Memory
from playerseg.tracking.motion_memory import MotionMemory


def object_logits(
    predictor: Any,
    memory: Sam2Memory,
    frame: int,
    object_ids: list[int],
    reverse: bool,
    batch: bool = True,
    motion: MotionMemory | None = None,
) -> list[Any]:
    """Low-resolution mask logits (1x1xhxw) of each object on the frame, in the order of `object_ids`. `batch`
    False runs every object on its own (sam2's plain per-object path). `motion`: motion-aware memory chooses
    the tracked objects' candidate masks."""
    logits: dict[int, Any] = {}
    to_run = []
    for obj in object_ids:
        prompted = memory.outputs(obj)["cond_frame_outputs"].get(frame)
        if prompted is not None:
            logits[obj] = prompted["pred_masks"]
        else:
            to_run.append(obj)
    groups = memory_groups(memory, frame, to_run, reverse) if batch else [[obj] for obj in to_run]
    for group in groups:
        with nullcontext() if motion is None else motion.choosing(frame, group, reverse):
            logits.update(zip(group, run_group(predictor, memory, frame, group, reverse)))
    for obj in object_ids:
        memory.mark_tracked(obj, frame, reverse)
    return [logits[obj].to(memory.state["device"]).float() for obj in object_ids]


def memory_groups(memory: Sam2Memory, frame: int, object_ids: list[int], reverse: bool) -> list[list[int]]:
    """Objects whose memories line up (the same prompted frames and the same remembered frames in reach) can
    share a batch: sam2 then builds the same memory sequence for each of them."""
    groups: dict[tuple[tuple[int, ...], tuple[int, ...]], list[int]] = {}
    for obj in object_ids:
        outputs = memory.outputs(obj)
        remembered = tuple(sorted(t for t in outputs["non_cond_frame_outputs"] if memory.in_reach(t, frame, reverse)))
        groups.setdefault((tuple(sorted(outputs["cond_frame_outputs"])), remembered), []).append(obj)
    return list(groups.values())


def run_group(predictor: Any, memory: Sam2Memory, frame: int, object_ids: list[int], reverse: bool) -> list[Any]:
    """One sam2 call for these objects (memory attention, mask decoder, memory encoder as a batch); each
    object's output is stored in its own memory, as sam2's per-object path stores it."""
    outputs = [memory.outputs(obj) for obj in object_ids]
    if len(outputs) == 1:
        batched_memory = outputs[0]
    else:
        batched_memory = {
            "cond_frame_outputs": _stack_frames(outputs, "cond_frame_outputs", lambda t: True),
            "non_cond_frame_outputs": _stack_frames(
                outputs, "non_cond_frame_outputs", lambda t: memory.in_reach(t, frame, reverse)
            ),
        }
    current, logits = predictor._run_single_frame_inference(
        inference_state=memory.state,
        output_dict=batched_memory,
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
