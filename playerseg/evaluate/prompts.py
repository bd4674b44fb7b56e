"""Prompts for one dataset sequence: its prompts/<seq>.json when the dataset has one, else made from the ground
truth: one positive click at the deepest point of each object's first annotated mask ("clicks"), the box around
that mask ("boxes"), or the mask itself ("masks": sam2's add_new_mask; the prompts then list the masks' boxes, which
the masks replace). Frame numbers are the sequence's own (its file numbers), pixels the frames' own."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluation.sequence import MaskSequence
from playerseg.errors import PlayerSegError
from playerseg.evaluate.job import PROMPT_MODES
from playerseg.io.masks import bbox_from_mask
from playerseg.io.prompts import Prompt, PromptSet
from playerseg.synthetic.truth import deepest_point


class DatasetPromptError(PlayerSegError, ValueError):
    """A sequence whose prompts cannot be read or made; the message is one sentence."""


def prompts_file(root: Path, sequence: str) -> Path:
    return root / "prompts" / f"{sequence}.json"


def first_masks(truth: MaskSequence) -> dict[tuple[int, int], np.ndarray]:
    """(frame, object id) -> the object's mask on the first annotated frame where it is visible."""
    masks: dict[tuple[int, int], np.ndarray] = {}
    seen: set[int] = set()
    for frame, labels in truth:
        for object_id in (int(v) for v in np.unique(labels)):
            if object_id not in (0, 255) and object_id not in seen:
                seen.add(object_id)
                masks[(frame, object_id)] = labels == object_id
    return masks


def sequence_prompts(root: Path, sequence: str, truth: MaskSequence, mode: str) -> tuple[PromptSet, str]:
    """(prompts, where they came from): the dataset's prompts file, else derived from `truth` by `mode` (for
    "masks", the boxes of the masks that first_masks gives)."""
    if mode not in PROMPT_MODES:
        raise DatasetPromptError(f"--prompts must be one of {', '.join(PROMPT_MODES)}, got {mode!r}.")
    path = prompts_file(root, sequence)
    if path.is_file() and mode != "masks":
        return PromptSet.load(path), str(path)
    return derived_prompts(truth, "boxes" if mode == "masks" else mode), f"derived from the ground truth ({mode})"


def derived_prompts(truth: MaskSequence, mode: str) -> PromptSet:
    """One prompt per ground-truth object on the first annotated frame where it is visible."""
    prompted: dict[int, Prompt] = {}
    for frame, labels in truth:
        for object_id in (int(v) for v in np.unique(labels)):
            if object_id in (0, 255) or object_id in prompted:
                continue
            mask = labels == object_id
            if mode == "clicks":
                x, y = deepest_point(mask)
                prompted[object_id] = Prompt.from_click(frame, object_id, x, y)
            else:
                box = bbox_from_mask(mask)
                assert box is not None
                prompted[object_id] = Prompt.from_box(frame, object_id, *box)
    if not prompted:
        raise DatasetPromptError(
            f"{truth.source or truth.name} has no objects (only background 0 and void 255), so no prompts can be made."
        )
    return PromptSet([prompted[k] for k in sorted(prompted)])
