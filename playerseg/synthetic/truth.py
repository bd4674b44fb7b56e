"""Ground truth read off a rendered frame's id layer: the player label map, the meta entries (role and visible box)
of the figures in view, and the deepest pixel of a mask (where a prompt click goes)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from playerseg.io.masks import bbox_from_mask
from playerseg.synthetic.figures import Figure
from playerseg.synthetic.render import Box4


def frame_figures(boxes: list[Box4 | None], figures: list[Figure]) -> list[dict[str, Any]]:
    """meta entries of the figures with visible pixels (boxes are bbox_from_mask of exactly those pixels)."""
    return [
        {"object_id": fig.object_id, "role": fig.role, "box": list(box)}
        for fig, box in zip(figures, boxes, strict=True)
        if box is not None
    ]


def player_labels(ids: np.ndarray, players: int) -> np.ndarray:
    """Players keep their figure index as object id (players are figures 1..K); everyone else is background."""
    return np.where(ids <= players, ids, 0).astype(np.uint8)


def deepest_point(mask: np.ndarray) -> tuple[int, int]:
    """(x, y) of the mask pixel farthest from the background and from the frame edge (first in raster order)."""
    box = bbox_from_mask(mask)
    assert box is not None
    x0, y0, x1, y1 = box
    crop = np.pad(mask[y0:y1, x0:x1].astype(np.uint8), 1)  # the frame edge counts as background
    distance = cv2.distanceTransform(crop, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    # the precise distance is the root of a whole squared distance, give or take a float32 ulp that varies from one
    # process to the next: compare the whole squares, so equal depths tie exactly and the first in raster order wins
    squared = np.rint(distance.astype(np.float64) ** 2)
    row, col = np.unravel_index(int(np.argmax(squared)), squared.shape)
    return x0 + int(col) - 1, y0 + int(row) - 1
