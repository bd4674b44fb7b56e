"""The exceptions whose message is meant for the user (CLI and UI show it as one sentence, no traceback)."""

from __future__ import annotations

from playerseg.masks import MaskError
from playerseg.prompts import PromptError
from playerseg.registry import ModelUnavailableError
from playerseg.tracker import TrackingError
from playerseg.video import VideoError

USER_ERRORS: tuple[type[Exception], ...] = (
    VideoError,
    PromptError,
    MaskError,
    ModelUnavailableError,
    TrackingError,
)
