"""The one base of every exception whose message is meant for the user, at the bottom of the package.

Contract: a `PlayerSegError`'s message is one sentence a user can act on (what was wrong, where, what to do). The
command line prints it after "error: " and exits 2; the app shows it in a gr.Error or a warning; neither shows a
traceback. Each subsystem raises its own subclass (VideoError, PromptError, TrackingError...), which also derives from
the built-in it has always been (ValueError for bad input, RuntimeError for what cannot run here), so callers that
catch those keep working.

This module imports nothing of the project (the evaluation package keeps its own base, `EvaluationError`, because it
may not import playerseg), so any module may import it.
"""

from __future__ import annotations


class PlayerSegError(Exception):
    """An error whose message is one sentence for the user."""


class UsageError(PlayerSegError, ValueError):
    """Command-line options that do not go together; the message is one sentence."""
