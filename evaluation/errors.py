"""The one base of the evaluation package's exceptions whose message is meant for the user.

Contract: an `EvaluationError`'s message is one sentence a user can act on; `python -m evaluation` prints it after
"error: " and exits 2. Each module raises its own subclass (DatasetError, AccuracyError...), which also derives from
ValueError as it always has. The package may not import playerseg, so this base stands beside playerseg's
`PlayerSegError` (playerseg/errors.py); both import nothing of the project.
"""

from __future__ import annotations


class EvaluationError(Exception):
    """An error of the evaluation package whose message is one sentence for the user."""
