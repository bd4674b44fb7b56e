"""How a comparison reports progress: the stages and the callback type (model label, stage, done, total)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

Stage = Literal["load", "decode", "track", "render", "score"]
ProgressFn = Callable[[str, Stage, int, int], None]  # (model label "A"/"B" or "" for shared steps, stage, done, total)


def no_progress(label: str, stage: Stage, done: int, total: int) -> None:
    pass
