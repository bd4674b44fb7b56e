"""Boundary accuracy F, as the DAVIS 2017 benchmark defines it, computed only where the boundaries are.

DAVIS 2017 in short: void pixels (255 in the ground truth) are first removed from both masks. Each mask becomes a
one-pixel-wide boundary map (`seg2bmap`: a pixel is on the boundary when it differs from its right, lower or
lower-right neighbour, with a special rule for the last row and column). Each boundary map is dilated by a disk whose
radius is the tolerance: `bound_th` pixels when `bound_th >= 1`, else `ceil(bound_th * image diagonal)` (18 px at
1920x1080 with the default 0.008). Precision is the share of predicted boundary pixels that lie within the dilated
ground-truth boundary, recall the share of ground-truth boundary pixels within the dilated predicted boundary, and
F = 2PR / (P + R) (0 when P + R = 0). Special cases: no boundary in either map gives P = R = 1; a predicted boundary
with no ground-truth boundary gives P = 0, R = 1; the reverse gives P = 1, R = 0.

Speed: boundary pixels can only lie next to mask pixels, so everything is computed inside the bounding window of
both masks padded by the tolerance + 2 px (clipped to the image). The values are identical to the full-frame
algorithm (tests/evaluation/test_boundary.py checks this against two full-frame references).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import cv2
import numpy as np

from evaluation.region import check_same_shape, mask_window

DEFAULT_BOUND_TH = 0.008


class BoundaryCounts(NamedTuple):
    """Pixel counts behind one F value: matched / total boundary pixels of the prediction and the ground truth."""

    matched_pred: int
    n_pred: int
    matched_gt: int
    n_gt: int

    @property
    def precision_recall(self) -> tuple[float, float]:
        """(P, R) with the DAVIS conventions for empty boundaries."""
        if self.n_pred == 0 and self.n_gt == 0:
            return 1.0, 1.0
        if self.n_pred == 0:
            return 1.0, 0.0
        if self.n_gt == 0:
            return 0.0, 1.0
        return self.matched_pred / self.n_pred, self.matched_gt / self.n_gt

    @property
    def f_measure(self) -> float:
        precision, recall = self.precision_recall
        if precision + recall == 0:
            return 0.0
        return 2.0 * precision * recall / (precision + recall)


def seg2bmap(mask: np.ndarray) -> np.ndarray:
    """One-pixel boundary map of a 2-D mask, exactly as DAVIS's seg2bmap.

    A pixel is on the boundary when it differs from its right (e), lower (s) or lower-right (se) neighbour, pixels
    outside the image counting as background. On the last row only the right neighbour counts, on the last column
    only the lower one, and the bottom-right pixel is never on the boundary (so the image border itself is not a
    boundary: a mask covering the whole frame has none).
    """
    seg = np.asarray(mask, dtype=bool)
    if seg.ndim != 2 or seg.size == 0:
        raise ValueError(f"seg2bmap needs a non-empty 2-D mask, got shape {seg.shape}.")
    bmap = np.zeros_like(seg)
    inner = seg[:-1, :-1]
    bmap[:-1, :-1] = (inner ^ seg[:-1, 1:]) | (inner ^ seg[1:, :-1]) | (inner ^ seg[1:, 1:])
    bmap[-1, :-1] = seg[-1, :-1] ^ seg[-1, 1:]  # last row: right neighbour only
    bmap[:-1, -1] = seg[:-1, -1] ^ seg[1:, -1]  # last column: lower neighbour only
    return bmap  # bottom-right stays False


def tolerance_px(bound_th: float, height: int, width: int) -> int:
    """Dilation radius in pixels: `bound_th` itself when >= 1, else ceil(bound_th * diagonal) (DAVIS)."""
    if not bound_th > 0:
        raise ValueError(f"bound_th must be > 0 (a fraction of the diagonal, or whole pixels >= 1), got {bound_th}.")
    if bound_th >= 1:
        if bound_th != int(bound_th):
            raise ValueError(f"bound_th >= 1 is a radius in whole pixels, got {bound_th}.")
        return int(bound_th)
    # sqrt of the exact integer h^2 + w^2: the same float DAVIS gets from np.linalg.norm(shape)
    return math.ceil(bound_th * math.sqrt(height * height + width * width))


@lru_cache(maxsize=32)
def disk(radius: int) -> np.ndarray:
    """Disk structuring element: the (2r+1)^2 grid points with x^2 + y^2 <= r^2, uint8 (skimage's disk)."""
    offsets = np.arange(-radius, radius + 1)
    element = (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius * radius).astype(np.uint8)
    element.flags.writeable = False  # shared through the cache
    return element


def window_margin(bound_pix: int) -> int:
    """Padding around the masks' bounding window that keeps cropped results identical to full-frame ones.

    One pixel already suffices for seg2bmap (the crop's last row/column is then background, where DAVIS's special
    rule and the general one agree); the tolerance on top keeps every dilated pixel inside the crop, so the result
    does not depend on how cv2 treats the crop's border.
    """
    return bound_pix + 2


def boundary_counts_in_window(
    pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None, bound_pix: int
) -> BoundaryCounts:
    """Boundary counts of masks already cropped to a window.

    Contract (what `boundary_counts` guarantees): the window holds every True pixel of both full masks, and on each
    side it is at least one pixel away from those pixels unless that side is the image border.
    """
    if void is not None:
        scored = ~void
        pred, gt = pred & scored, gt & scored
    pred_boundary, gt_boundary = seg2bmap(pred), seg2bmap(gt)
    n_pred, n_gt = int(np.count_nonzero(pred_boundary)), int(np.count_nonzero(gt_boundary))
    if n_pred == 0 or n_gt == 0:  # nothing can match: skip both dilations
        return BoundaryCounts(0, n_pred, 0, n_gt)
    element = disk(bound_pix)
    pred_reach = cv2.dilate(pred_boundary.view(np.uint8), element).view(bool)
    gt_reach = cv2.dilate(gt_boundary.view(np.uint8), element).view(bool)
    return BoundaryCounts(
        matched_pred=int(np.count_nonzero(pred_boundary & gt_reach)),
        n_pred=n_pred,
        matched_gt=int(np.count_nonzero(gt_boundary & pred_reach)),
        n_gt=n_gt,
    )


def boundary_counts(
    pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None = None, bound_th: float = DEFAULT_BOUND_TH
) -> BoundaryCounts:
    """Counts behind the DAVIS boundary F of two boolean masks (void pixels removed from both first)."""
    pred, gt = np.asarray(pred, dtype=bool), np.asarray(gt, dtype=bool)
    void = None if void is None else np.asarray(void, dtype=bool)
    check_same_shape(pred, gt, void)
    height, width = gt.shape
    bound_pix = tolerance_px(bound_th, height, width)
    window = mask_window(pred | gt)
    if window is None:  # both empty: no boundary anywhere
        return BoundaryCounts(0, 0, 0, 0)
    rows, cols = window.padded(window_margin(bound_pix), height, width).slices
    return boundary_counts_in_window(
        pred[rows, cols], gt[rows, cols], None if void is None else void[rows, cols], bound_pix
    )


def f_measure(
    pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None = None, bound_th: float = DEFAULT_BOUND_TH
) -> float:
    """DAVIS boundary F-measure of two boolean masks."""
    return boundary_counts(pred, gt, void, bound_th).f_measure
