"""The tracker for a loaded model, whatever its family: what the pipelines call instead of naming a tracker class.

Every tracker takes the same prompts and gives the same `FrameResult`s through `track()` (see `VideoTracker`):
`Sam2VideoTracker` for SAM2 models, `UNetTracker` for the U-Net baseline, `Sam3VideoTracker` for SAM 3's tracker.
Options only SAM2's tracker has (frame skipping) are refused for the others in one sentence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

import numpy as np

from playerseg.io.prompts import Prompt, PromptSet
from playerseg.tracking.frames import FrameSource
from playerseg.tracking.frameskip import SkipSettings
from playerseg.tracking.registry import LoadedModel
from playerseg.tracking.step import FrameResult
from playerseg.tracking.tracker import Sam2VideoTracker, TrackingError


class VideoTracker(AbstractContextManager, Protocol):
    """What every tracker offers the pipelines."""

    @property
    def object_ids(self) -> list[int]: ...

    def add_prompts(self, prompts: PromptSet | Sequence[Prompt]) -> None: ...

    def add_mask(self, frame: int, object_id: int, mask: np.ndarray) -> None: ...

    def track(self) -> Iterator[FrameResult]: ...


def open_tracker(model: LoadedModel, frames: FrameSource, skip: SkipSettings | None = None) -> VideoTracker:
    """A new tracker for `model` over `frames`; TrackingError (one sentence) for an option its family lacks."""
    family = model.spec.family
    if family == "sam2":
        return Sam2VideoTracker(model, frames, skip=skip)
    if skip is not None:
        raise TrackingError(f"Frame skipping is for SAM2 models; {model.spec.name} runs every frame: drop it.")
    if family == "unet":
        from playerseg.tracking.unet_tracker import UNetTracker

        return UNetTracker(model, frames)
    if family == "sam3":
        from playerseg.tracking.sam3_tracker import Sam3VideoTracker

        return Sam3VideoTracker(model, frames)
    raise TrackingError(f"{model.spec.name} is a {family} model, which this version cannot track.")


def require_sam2(model: LoadedModel, purpose: str) -> None:
    """TrackingError (one sentence) unless the model is a SAM2 model: for what only SAM2 can do."""
    if model.spec.family != "sam2":
        raise TrackingError(f"{purpose} needs a SAM2 model; {model.spec.name} is a {model.spec.family} model.")
