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

import sys
from collections.abc import Callable


class PlayerSegError(Exception):
    """An error whose message is one sentence for the user."""


class UsageError(PlayerSegError, ValueError):
    """Command-line options that do not go together; the message is one sentence."""


EXIT_USER_ERROR = 2  # a command-line run that bad input ended


def os_error_message(error: OSError) -> str:
    """An OSError as one line a user reads: its reason, and the file when known ("No such file or directory: a.mp4")."""
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


def report_user_errors(command: Callable[[], int], expected: tuple[type[BaseException], ...] = ()) -> int:
    """A CLI command's exit code; a PlayerSegError, one of `expected` (errors of other packages whose message is one
    sentence) or an OSError ends it with "error: <sentence>" on stderr and EXIT_USER_ERROR instead of a traceback."""
    try:
        return command()
    except (PlayerSegError, *expected) as error:
        print(f"error: {error}", file=sys.stderr)
    except OSError as error:  # a missing input, an unwritable output folder, a full disk
        print(f"error: {os_error_message(error)}", file=sys.stderr)
    return EXIT_USER_ERROR
