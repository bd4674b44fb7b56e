"""Region similarity J, as the DAVIS 2017 benchmark defines it, plus the mask windows the fast metrics crop to.

J of a predicted mask M against a ground-truth mask G is the intersection over union |M ∩ G| / |M ∪ G|, counted only
over pixels that are not void (255 in the ground truth). When the union is empty (both masks empty, or everything
they cover is void) J is 1: predicting nothing where nothing is annotated is perfect.

`Window` is a rectangle of pixels; counting only inside a window that holds every pixel of both masks gives exactly
the full-frame counts, which is how `evaluation.accuracy` avoids scanning a 1080p frame once per object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.errors import EvaluationError


class MaskShapeError(EvaluationError, ValueError):
    """Two masks that must be compared pixel by pixel have different shapes, or a mask is not 2-D."""


@dataclass(frozen=True)
class Window:
    """Half-open pixel rectangle: rows [top, bottom), columns [left, right)."""

    top: int
    bottom: int
    left: int
    right: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)

    @property
    def shape(self) -> tuple[int, int]:
        return self.bottom - self.top, self.right - self.left

    def union(self, other: Window | None) -> Window:
        """Smallest window holding both (`other` None: this one)."""
        if other is None:
            return self
        return Window(
            min(self.top, other.top),
            max(self.bottom, other.bottom),
            min(self.left, other.left),
            max(self.right, other.right),
        )

    def intersects(self, other: Window) -> bool:
        return (
            self.top < other.bottom and other.top < self.bottom and self.left < other.right and other.left < self.right
        )

    def padded(self, margin: int, height: int, width: int) -> Window:
        """Grown by `margin` pixels on every side, clipped to a height x width image."""
        return Window(
            max(self.top - margin, 0),
            min(self.bottom + margin, height),
            max(self.left - margin, 0),
            min(self.right + margin, width),
        )


def mask_window(mask: np.ndarray) -> Window | None:
    """Bounding window of the True pixels of a 2-D mask; None when the mask is empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return Window(int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)


def check_same_shape(pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None = None) -> None:
    """Raise MaskShapeError unless the masks are 2-D and of one shape (void too, when given)."""
    if pred.ndim != 2 or gt.ndim != 2:
        raise MaskShapeError(f"masks must be 2-D (H, W); got shapes {pred.shape} and {gt.shape}.")
    if pred.shape != gt.shape:
        raise MaskShapeError(
            f"prediction is {pred.shape[1]}x{pred.shape[0]} but ground truth is "
            f"{gt.shape[1]}x{gt.shape[0]} (width x height)."
        )
    if void is not None and void.shape != gt.shape:
        raise MaskShapeError(
            f"void mask is {void.shape[1]}x{void.shape[0]} but ground truth is "
            f"{gt.shape[1]}x{gt.shape[0]} (width x height)."
        )


def region_counts(pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None = None) -> tuple[int, int]:
    """(intersection, union) pixel counts of two boolean masks, void pixels excluded."""
    pred, gt = np.asarray(pred, dtype=bool), np.asarray(gt, dtype=bool)
    void = None if void is None else np.asarray(void, dtype=bool)
    check_same_shape(pred, gt, void)
    both, either = pred & gt, pred | gt
    if void is not None:
        scored = ~void
        both &= scored
        either &= scored
    return int(np.count_nonzero(both)), int(np.count_nonzero(either))


def jaccard_from_counts(intersection: int, union: int) -> float:
    """J from counts: 1.0 for an empty union (DAVIS scores 'both empty' as perfect)."""
    return 1.0 if union == 0 else intersection / union


def jaccard(pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None = None) -> float:
    """Region similarity J of two boolean masks (void pixels excluded); 1.0 when the union is empty."""
    return jaccard_from_counts(*region_counts(pred, gt, void))
