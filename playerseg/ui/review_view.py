"""The review tab's frame: the kept masks (each object's colour and id), the clicks of the fix being made, and its
preview mask as a white outline over a light veil, fitted to the page like tab 1's frame (clicks come back in the
shown image's pixels and are mapped to the clip's with the same scale)."""

from __future__ import annotations

import cv2
import numpy as np

from playerseg.annotate.review import PendingFix
from playerseg.io.overlay import OUTLINE_COLOR, RING_COLOR, draw_overlay, object_color
from playerseg.io.prompts import Box, Point, Prompt
from playerseg.ui.frames import display_scale, draw_cross

PREVIEW_VEIL = 0.35  # how much of the preview's pixels turns white
REVIEW_MIN_SIDE = 960  # smaller clips are shown enlarged to this long side: masks and clicks stay legible


def review_scale(width: int, height: int) -> float:
    """Shown pixels per clip pixel in the review (clicks are divided by it)."""
    return display_scale(width, height, min_side=REVIEW_MIN_SIDE)


def review_image(rgb: np.ndarray, labels: np.ndarray, pending: PendingFix | None) -> np.ndarray:
    """The frame (clip size) with its label map, the pending fix's clicks and preview, at the display size."""
    height, width = rgb.shape[:2]
    scale = review_scale(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    smaller = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    shown = rgb if scale == 1.0 else cv2.resize(rgb, size, interpolation=smaller)
    small = labels if scale == 1.0 else cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST)
    clicks = [] if pending is None else _pending_prompt(pending, scale)
    image = draw_overlay(np.ascontiguousarray(shown), small, clicks)
    if pending is not None and pending.preview is not None:
        _draw_preview(image, pending.preview)
    if pending is not None and pending.corner is not None:
        draw_cross(image, pending.corner[0] * scale, pending.corner[1] * scale, object_color(pending.object_id))
    return image


def _pending_prompt(pending: PendingFix, scale: float) -> list[Prompt]:
    points = tuple(Point(p.x * scale, p.y * scale, p.positive) for p in pending.points)
    box = pending.box
    if box is not None:
        box = Box(box.x0 * scale, box.y0 * scale, box.x1 * scale, box.y1 * scale)
    if not points and box is None:
        return []
    return [Prompt(0, pending.object_id, points, box)]


def _draw_preview(image: np.ndarray, preview: np.ndarray) -> None:
    """The preview (any size: resized to the image) as a white veil and outline, on top of the kept masks."""
    height, width = image.shape[:2]
    mask = cv2.resize(preview.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    on = mask.astype(bool)
    image[on] = (image[on] * (1 - PREVIEW_VEIL) + np.array(RING_COLOR) * PREVIEW_VEIL).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(image, contours, -1, OUTLINE_COLOR, 4)
    cv2.drawContours(image, contours, -1, RING_COLOR, 2)
