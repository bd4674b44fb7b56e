"""What every clip reader and writer shares: `VideoInfo` (what a clip is), `Frame` (one delivered frame), and
`VideoError` with the way its sentences quote an FFmpeg or OS error. `playerseg.io.video` is the public API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from playerseg.errors import PlayerSegError

RgbLoader = Callable[[], np.ndarray]  # converts one decoded frame to display-oriented RGB when called


class VideoError(PlayerSegError, ValueError):
    """A clip cannot be read or written as asked; the message is one sentence for the user."""


@dataclass(frozen=True)
class VideoInfo:
    """What a clip is. width/height are the display size (after rotation)."""

    path: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str  # FFmpeg codec name ("h264", ...), or "jpeg" / "png" for frame folders
    rotation: int = 0  # counter-clockwise degrees (0/90/180/270) applied to decoded pictures, as np.rot90 turns
    has_audio: bool = False
    variable_frame_rate: bool = False


@dataclass(frozen=True)
class Frame:
    """One delivered frame."""

    index: int  # source frame index (0 = first frame of the clip)
    time_s: float  # presentation time from the clip's first frame
    rgb: np.ndarray  # HxWx3 uint8


def error_reason(error: BaseException) -> str:
    """The human part of an FFmpeg/OS error, without a trailing period (messages add their own)."""
    text = getattr(error, "strerror", None) or str(error)
    return str(text).rstrip(".")
