"""The exceptions whose message is meant for the user (CLI and UI show it as one sentence, no traceback)."""

from __future__ import annotations

from playerseg.association import AssociationError
from playerseg.bench import BenchError
from playerseg.detections import DetectionsError
from playerseg.frameskip import FrameSkipError
from playerseg.masks import MaskError
from playerseg.player_filter import FilterError
from playerseg.prompts import PromptError
from playerseg.registry import ModelUnavailableError
from playerseg.tracker import TrackingError
from playerseg.video import VideoError



class UsageError(ValueError):
    """Command-line options that do not go together; the message is one sentence."""


USER_ERRORS: tuple[type[Exception], ...] = (
    UsageError,
    DetectionsError,
    FilterError,
    AssociationError,
    VideoError,
    PromptError,
    MaskError,
    ModelUnavailableError,
    TrackingError,
    FrameSkipError,
    BenchError,
)
