"""What one run may cost on a shared server: frames, frame size, objects, frames x objects and wall time.

A public app serves everybody from one GPU queue, so one request must not hold it for long (254 objects on 12 frames
once took 341 s and 3.8 GB while every other user waited). The UI and the API both run through `limited_selection`
(frames and size, trimmed with a notice), `check_objects` (too many objects: refused with one sentence) and
`with_deadline` (a run past its wall time is stopped and reported). The settings come from `AppConfig`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playerseg.compare.selection import Selection
from playerseg.errors import PlayerSegError
from playerseg.io.video import VideoInfo


class LimitError(PlayerSegError, ValueError):
    """A request over one of the server's limits; the message is one sentence that names the limit."""


class RunStopped(Exception):
    """A run that went past the server's wall-time limit. Not a ValueError or RuntimeError on purpose: a model's
    own failures are caught per model, this one must stop the whole comparison."""


@dataclass(frozen=True)
class RunLimits:
    max_frames: int
    max_side: int
    max_objects: int | None = None
    max_object_frames: int | None = None  # frames x objects
    timeout_s: float | None = None


def check_objects(objects: int, limits: RunLimits) -> None:
    if limits.max_objects is not None and objects > limits.max_objects:
        raise LimitError(
            f"This run has {objects} objects; this server tracks at most {limits.max_objects} per run "
            "(PLAYERSEG_MAX_OBJECTS): remove some objects' prompts."
        )


def limited_selection(
    info: VideoInfo, start: int, end: int, stride: int, limits: RunLimits, objects: int = 1
) -> tuple[Selection, list[str]]:
    """Frames start..end (inclusive) every `stride`-th, trimmed to the frame limit and to the frames x objects limit
    and downscaled to the side limit; one notice per limit applied (the UI and the API both run through this)."""
    wanted = len(range(start, end + 1, stride))
    notices = []
    frames = wanted
    if wanted > limits.max_frames:
        frames = limits.max_frames
        notices.append(
            f"This app processes at most {limits.max_frames} frames per run: frames {start}.."
            f"{start + (frames - 1) * stride} of the {wanted} selected are used (move the start or raise the stride "
            "to cover the rest)."
        )
    budget = limits.max_object_frames
    if budget is not None and objects > 0 and frames * objects > budget:
        frames = max(1, budget // objects)
        notices.append(
            f"This app processes at most {budget} frames x objects per run: with {objects} objects, frames {start}.."
            f"{start + (frames - 1) * stride} ({frames} frames) are used (fewer objects cover more frames)."
        )
    max_side = None
    if max(info.width, info.height) > limits.max_side:
        max_side = limits.max_side
        notices.append(
            f"Frames are {info.width}x{info.height}; the models see them downscaled to "
            f"{limits.max_side} px on the long side (masks are scaled back to the clip's size)."
        )
    return Selection(start=start, max_frames=frames, stride=stride, max_side=max_side), notices


def with_deadline(progress: Callable[..., Any] | None, timeout_s: float | None) -> Callable[..., None]:
    """A progress callback that also stops the run (RunStopped) once `timeout_s` seconds have passed since now.
    compare_models reports progress at least once per tracked and rendered frame, so the run stops within a frame."""
    started = time.monotonic()

    def report(*args: Any) -> None:
        if timeout_s is not None and time.monotonic() - started > timeout_s:
            raise RunStopped(
                f"The run was stopped after {timeout_s:.0f} s, this server's limit per run (PLAYERSEG_RUN_TIMEOUT_S): "
                "try fewer frames or objects, a smaller max side or a smaller model."
            )
        if progress is not None:
            progress(*args)

    return report
