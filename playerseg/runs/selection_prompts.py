"""The user's prompts on the frames a run processes: checked against the clip and mapped once, at the boundary, onto
the selection (selection indices, processed-frame pixels) as a SelectionPrompts, the only prompt type the run layers
below take (tracking, the run folder, compare's auto-labeler relabelling)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from playerseg.io.prompts import Box, Point, Prompt, PromptError, PromptSet
from playerseg.io.video import FrameStore


@dataclass(frozen=True)
class SelectionPrompts:
    """Prompts checked against a clip and mapped onto its processed frames, with the notices of the mapping."""

    source: PromptSet  # as given: clip frames and pixels (what prompts.json keeps, replayable on another selection)
    mapped: PromptSet  # selection indices and processed-frame pixels
    moved: tuple[str, ...]  # prompts between two strided frames, moved to the nearest processed one
    frames: tuple[int, ...]  # the clip frames processed (the selection they were mapped onto)

    @classmethod
    def check(cls, prompts: PromptSet, store: FrameStore) -> SelectionPrompts:
        """Every prompt on a frame and inside the picture of the clip, every object trackable (PromptError), then
        mapped onto the store's processed frames."""
        prompts.validate(store.info.width, store.info.height, max(store.source_indices) + 1)
        mapped, moved = map_prompts_to_selection(prompts, store)
        return cls(prompts, mapped, tuple(moved), tuple(store.source_indices))

    def check_store(self, store: FrameStore) -> None:
        """Refuse a store other than the selection these prompts were mapped onto (a programming error)."""
        if tuple(store.source_indices) != self.frames:
            raise ValueError("these prompts were mapped onto another selection of frames than this run's.")


def map_prompts_to_selection(prompts: PromptSet, store: FrameStore) -> tuple[PromptSet, list[str]]:
    """Prompts in clip frames and pixels -> selection indices and processed-frame pixels (with warnings)."""
    scale_x = store.width / store.info.width
    scale_y = store.height / store.info.height
    index_of = {source: index for index, source in enumerate(store.source_indices)}
    first, last = store.source_indices[0], store.source_indices[-1]
    mapped: list[Prompt] = []
    warnings: list[str] = []
    for prompt in prompts.merged().prompts:
        if not first <= prompt.frame <= last:
            raise PromptError(
                f"Prompt for object {prompt.object_id} is on frame {prompt.frame}, outside the processed frames "
                f"{first}..{last}: change --start/--max-frames or the prompts."
            )
        index = index_of.get(prompt.frame)
        if index is None:  # between two strided frames: use the nearest processed one
            index = int(np.argmin([abs(source - prompt.frame) for source in store.source_indices]))
            warnings.append(
                f"prompt for object {prompt.object_id} on frame {prompt.frame} moved to processed frame "
                f"{store.source_indices[index]} (stride {processed_stride(store)})"
            )
        mapped.append(_scale_prompt(prompt, index, scale_x, scale_y))
    return PromptSet(mapped).merged(), warnings


def _scale_prompt(prompt: Prompt, index: int, scale_x: float, scale_y: float) -> Prompt:
    points = tuple(Point(p.x * scale_x, p.y * scale_y, p.positive) for p in prompt.points)
    box = None
    if prompt.box is not None:
        b = prompt.box
        box = Box(b.x0 * scale_x, b.y0 * scale_y, b.x1 * scale_x, b.y1 * scale_y)
    return replace(prompt, frame=index, points=points, box=box)


def processed_stride(store: FrameStore) -> int:
    """Clip frames between two processed frames (1 for a single frame)."""
    return store.source_indices[1] - store.source_indices[0] if len(store) > 1 else 1
