"""MaskSequence: the label maps of one clip, read lazily, frame number -> HxW uint8 label map.

Label values follow the DAVIS convention: 0 background, 1..254 object ids, 255 void (not scored). Loaders in
`evaluation.datasets` build sequences from files; `MaskSequence.from_arrays` wraps label maps already in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from evaluation.errors import EvaluationError

VOID = 255


class SequenceError(EvaluationError, ValueError):
    """A mask sequence is malformed or does not match another one; the message names the file or frame."""


@dataclass(frozen=True)
class MaskSequence:
    """Label maps of one clip. `frames` are clip frame numbers (sorted); `read(frame)` returns an HxW uint8 map."""

    name: str
    frames: tuple[int, ...]
    height: int
    width: int
    reader: Callable[[int], np.ndarray] = field(repr=False)
    source: str = ""

    def __post_init__(self) -> None:
        if list(self.frames) != sorted(set(self.frames)):
            raise SequenceError(f"{self.name}: frame numbers must be unique and sorted.")

    def __len__(self) -> int:
        return len(self.frames)

    def __contains__(self, frame: object) -> bool:
        return frame in self._frame_set

    @cached_property
    def _frame_set(self) -> frozenset[int]:
        return frozenset(self.frames)

    def read(self, frame: int) -> np.ndarray:
        if frame not in self._frame_set:
            raise SequenceError(f"{self.name}: frame {frame} is not in this sequence.")
        labels = self.reader(frame)
        if labels.shape != (self.height, self.width):
            raise SequenceError(
                f"{self.name}: frame {frame} is {labels.shape[1]}x{labels.shape[0]}, "
                f"expected {self.width}x{self.height}."
            )
        return labels

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        for frame in self.frames:
            yield frame, self.read(frame)

    def object_ids(self) -> tuple[int, ...]:
        """Ids present on any frame (reads every frame)."""
        found: set[int] = set()
        for _, labels in self:
            found.update(int(v) for v in np.unique(labels))
        return tuple(sorted(found - {0, VOID}))

    @classmethod
    def from_arrays(cls, name: str, arrays: Mapping[int, np.ndarray], source: str = "") -> MaskSequence:
        """Wrap in-memory label maps (all the same size, uint8 or any integer type with values 0..255)."""
        if not arrays:
            raise SequenceError(f"{name}: no frames.")
        frames = tuple(sorted(int(f) for f in arrays))
        first = np.asarray(arrays[frames[0]])
        if first.ndim != 2:
            raise SequenceError(f"{name}: label maps must be 2-D (H, W), got shape {first.shape}.")
        maps = {f: np.asarray(arrays[f]).astype(np.uint8, copy=False) for f in frames}
        return cls(name, frames, first.shape[0], first.shape[1], maps.__getitem__, source)
