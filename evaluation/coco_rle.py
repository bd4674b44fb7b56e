"""COCO run-length encoding of binary masks: the project's one codec (evaluation's loaders and playerseg use it).

A mask is counted down its columns (column-major, as COCO counts) in alternating runs, background first, so a mask
whose first pixel is foreground starts with a zero run. Compressed counts write each run length as 5-bit groups,
low first, in characters offset by 48: bit 0x20 says more groups follow and bit 0x10 of the last group is the sign;
from the fourth run on, the number written is the difference to the run two before (a run of the same kind). This is
pycocotools' rleToString / rleFrString, without needing pycocotools.

Unreadable compressed counts raise `RleError`, which says which rule they break (`problem`, `position`, `character`)
so that each caller words its own sentence (naming a file and entry, or a user's RLE).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np

from evaluation.errors import EvaluationError

RleProblem = Literal["truncated", "character"]


class RleError(EvaluationError, ValueError):
    """Compressed counts that cannot be read: they end inside a number, or hold a character outside the alphabet."""

    def __init__(self, problem: RleProblem, position: int, character: str = "") -> None:
        self.problem = problem
        self.position = position  # index in the counts string of the offending character (its length if truncated)
        self.character = character
        if problem == "truncated":
            message = "RLE counts end in the middle of a number."
        else:
            message = f"RLE counts hold {character!r} at position {position}, which is not an RLE character."
        super().__init__(message)


def run_lengths(mask: np.ndarray) -> np.ndarray:
    """Column-major run lengths (int64) of a 2-D mask, starting with a (possibly zero) background run."""
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    if flat.size == 0:
        return np.zeros(0, dtype=np.int64)
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], edges, [flat.size]))
    counts = np.diff(bounds)
    if flat[0]:
        counts = np.concatenate(([0], counts))
    return counts.astype(np.int64)


def counts_to_mask(counts: np.ndarray, height: int, width: int) -> np.ndarray:
    """The bool HxW mask of run lengths that cover exactly height * width pixels (the caller checks that)."""
    values = (np.arange(counts.size) % 2).astype(bool)  # runs alternate background, foreground, background...
    flat = np.repeat(values, counts)
    return flat.reshape((height, width), order="F")


def encode_counts(counts: Sequence[int] | np.ndarray) -> str:
    """Compressed counts string of run lengths (pycocotools' rleToString)."""
    chars: list[str] = []
    values = [int(count) for count in counts]
    for i, count in enumerate(values):
        x = count - values[i - 2] if i > 2 else count
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            chars.append(chr(c + 48))
    return "".join(chars)


def encode_mask(mask: np.ndarray) -> str:
    """Compressed counts string of a 2-D mask."""
    return encode_counts(run_lengths(mask))


def iter_counts(text: str) -> Iterator[int]:
    """Run lengths of a compressed counts string, one at a time, in order.

    Raises RleError when reading reaches a character outside the alphabet or the string ends inside a number, so a
    caller that stops at its own first problem (a negative run) reports the problems in the order they occur."""
    counts: list[int] = []
    position = 0
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(text):
                raise RleError("truncated", position)
            group = ord(text[position]) - 48
            if not 0 <= group < 64:
                raise RleError("character", position, text[position])
            value |= (group & 0x1F) << shift
            more = bool(group & 0x20)
            position += 1
            shift += 5
            if not more and group & 0x10:
                value -= 1 << shift  # sign-extend a negative number
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
        yield value


def decode_counts(text: str) -> list[int]:
    """All run lengths of a compressed counts string (negative ones included: checking them is the caller's)."""
    return list(iter_counts(text))
