"""tqdm progress bars on stderr for the command line, driven by the runtime's (done, total) callbacks."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

BatchBars = Callable[[Iterable[Any], str, int], Iterable[Any]]


def batch_bars(quiet: bool) -> BatchBars | None:
    """A factory wrapping an iterable of batches in a tqdm bar on stderr (None when quiet), as finetuning takes."""
    if quiet:
        return None

    def bars(items: Iterable[Any], desc: str, total: int) -> Iterable[Any]:
        from tqdm import tqdm

        return tqdm(items, desc=desc, total=total, unit="batch", file=sys.stderr, leave=False)

    return bars


class ProgressBar:
    """tqdm on stderr, driven by (done, total) callbacks."""

    def __init__(self, description: str, quiet: bool) -> None:
        self._description = description
        self._quiet = quiet
        self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def update(self, done: int, total: int) -> None:
        if self._quiet:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self._description, unit="frame", file=sys.stderr)
        self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.close()


class StageBars:
    """One tqdm bar at a time on stderr, driven by compare's (label, stage, done, total) callbacks."""

    def __init__(self, quiet: bool) -> None:
        self._quiet = quiet
        self._key: tuple[str, str] | None = None
        self._bar: ProgressBar | None = None

    def __enter__(self) -> StageBars:
        return self

    def update(self, label: str, stage: str, done: int, total: int) -> None:
        if self._quiet or stage in ("load", "decode"):  # one-step stages would only flash a bar
            return
        if (label, stage) != self._key:
            self._close()
            self._key = (label, stage)
            self._bar = ProgressBar(f"{label} {stage}".strip(), self._quiet)
        assert self._bar is not None
        self._bar.update(done, total)
        if done >= total:  # finished: the next stage (maybe a slow model load) should not look like this one
            self._close()
            self._key = None

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def __exit__(self, *exc_info: object) -> None:
        self._close()
