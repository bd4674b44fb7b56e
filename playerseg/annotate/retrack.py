"""One object tracked again after a fix: the same model on the same processed frames as the run, conditioned on the
user's clicks for that object and on every mask the user fixed it to (sam2's multi-frame conditioning, as the tracker
does for corrections), so the fix carries forward and backward from the fixed frame.

The other objects are not tracked again: their masks stay as the run made them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from playerseg.io.prompts import PromptSet
from playerseg.io.video import FrameStore
from playerseg.runs.facts import SelectionFacts
from playerseg.runs.pipeline import PromptedTracking, open_selection
from playerseg.runs.selection_prompts import SelectionPrompts
from playerseg.tracking.registry import LoadedModel


def open_run_frames(clip: str | Path, selection: SelectionFacts) -> FrameStore:
    """The frames a run processed, at the size the model saw them (run.json's selection)."""
    max_side = max(selection.width, selection.height)
    store = open_selection(str(clip), selection.first_frame, selection.frames, selection.stride, max_side)
    if (store.width, store.height, len(store)) != (selection.width, selection.height, selection.frames):
        store.close()
        raise ValueError(
            f"{Path(clip).name} does not give the run's {selection.frames} frames of {selection.width}x"
            f"{selection.height}: it is not the clip the run was made on."
        )
    return store


def read_run_frame(clip: str | Path, selection: SelectionFacts, index: int) -> np.ndarray:
    """One processed frame (selection index) as the model saw it: RGB at the run's processed size."""
    frame = selection.first_frame + index * selection.stride
    max_side = max(selection.width, selection.height)
    with FrameStore(str(clip), start=frame, stop=frame + 1, max_side=max_side, cache_size=1) as store:
        return store[0]


def retrack_object(
    model: LoadedModel,
    clip: str | Path,
    selection: SelectionFacts,
    object_id: int,
    clicks: PromptSet,
    fixes: Mapping[int, np.ndarray],
) -> dict[int, np.ndarray]:
    """The object's masks on every processed frame (selection index -> bool mask at the processed size), tracked from
    its clicks (clip frames and pixels; may be empty) and its fixed masks (selection index -> mask at the processed
    size; a fixed mask replaces the clicks on its frame and is that frame's output)."""
    own = PromptSet([prompt for prompt in clicks.prompts if prompt.object_id == object_id])
    if not own.prompts and not fixes:
        raise ValueError(f"Object {object_id} has neither clicks nor a fixed mask to track it from.")
    with open_run_frames(clip, selection) as store:
        if own.prompts:
            prompts = SelectionPrompts.check(own, store)
        else:
            prompts = SelectionPrompts(own, own, (), tuple(store.source_indices))
        masks = {(index, object_id): np.asarray(mask, dtype=bool) for index, mask in fixes.items()}
        result = PromptedTracking(model, masks=masks).run(store, prompts)
    return {index: result.masks.get(index, object_id) for index in range(selection.frames)}
