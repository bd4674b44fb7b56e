"""Rendering a clip frame by frame: background, shadows, the figures' colours looked up from the code layer, then what
is not exact (motion blur, sensor noise). Yields each picture with the id layer and the visible boxes it came from."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from playerseg.io.masks import bbox_from_mask
from playerseg.synthetic.backdrop import Backdrop, background
from playerseg.synthetic.figures import PART_SLOTS, Figure
from playerseg.synthetic.layout import Layout
from playerseg.synthetic.painting import SHIFT, fixed, paint_layer

Box4 = tuple[int, int, int, int]  # (x0, y0, x1, y1), x1/y1 exclusive, as bbox_from_mask gives
FAST_PX_PER_FRAME = 5.0  # figures moving faster than this on screen get the extra motion blur
NOISE_LEVELS = 5  # sensor noise: uniform 0..4 added, then 2 taken away (saturating): -2..+2 per channel


@dataclass(frozen=True)
class RenderedFrame:
    rgb: np.ndarray  # HxWx3 uint8, what the camera saw
    ids: np.ndarray  # HxW, figure index (list position + 1) of each pixel, 0 background
    boxes: list[Box4 | None]  # per figure, bbox_from_mask of its visible pixels; None when none are visible


def render(
    rng: np.random.Generator, figures: list[Figure], backdrop: Backdrop, pans: np.ndarray, layout: Layout
) -> Iterator[RenderedFrame]:
    lut = _colour_lut(figures)
    noise_offset = np.full((layout.height, layout.width, 3), NOISE_LEVELS // 2, dtype=np.uint8)
    for t, pan in enumerate(int(p) for p in pans):
        frame = background(backdrop, layout, pan, t)
        frame = _shadows(frame, figures, pan, t, layout)
        codes = paint_layer(figures, pan, t, layout)
        frame = _paint_colours(frame, codes, lut)
        ids = codes // PART_SLOTS
        boxes = [bbox_from_mask(ids == i + 1) for i in range(len(figures))]
        frame = _motion_blur(frame, ids, boxes, figures, pans, t)
        # saturating uint8 arithmetic: fast, no int16 round trip
        frame = cv2.subtract(cv2.add(frame, rng.integers(0, NOISE_LEVELS, frame.shape, dtype=np.uint8)), noise_offset)
        yield RenderedFrame(frame, ids, boxes)


def _shadows(frame: np.ndarray, figures: list[Figure], pan: int, t: int, layout: Layout) -> np.ndarray:
    """Darken an ellipse under each figure on the pitch (background only: figures are painted over it)."""
    mask = np.zeros(frame.shape[:2], dtype=np.uint8)
    for fig in figures:
        if fig.behind_board:
            continue
        h = float(fig.height[t])
        centre = fixed(float(fig.x[t]) - pan + 0.08 * h, float(fig.y[t]))
        axes = fixed(0.22 * h, 0.035 * h)
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1, cv2.LINE_8, SHIFT)
    mask[: layout.pitch_top] = 0
    return cv2.copyTo(cv2.convertScaleAbs(frame, alpha=0.68), mask, frame)


def _colour_lut(figures: list[Figure]) -> np.ndarray:
    """(256, 1, 3) colour of every code, the layout cv2.LUT wants for a 3-channel image."""
    lut = np.zeros((256, 1, 3), dtype=np.uint8)
    for i, fig in enumerate(figures[: 256 // PART_SLOTS - 1]):
        lut[(i + 1) * PART_SLOTS : (i + 2) * PART_SLOTS, 0] = fig.colours
    return lut


def _paint_colours(frame: np.ndarray, codes: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """The colour of each painted code over the background: the picture follows the code layer pixel for pixel."""
    if codes.dtype != np.uint8:
        painted = codes > 0
        frame[painted] = lut[codes[painted], 0]
        return frame
    colours = cv2.LUT(cv2.merge([codes, codes, codes]), lut)
    return cv2.copyTo(colours, codes, frame)


def _screen_velocity(fig: Figure, pans: np.ndarray, t: int) -> tuple[float, float]:
    before, after = max(t - 1, 0), min(t + 1, pans.size - 1)
    if after == before:
        return 0.0, 0.0
    dx = (fig.x[after] - pans[after]) - (fig.x[before] - pans[before])
    return float(dx) / (after - before), float(fig.y[after] - fig.y[before]) / (after - before)


def _motion_blur(
    frame: np.ndarray, ids: np.ndarray, boxes: list[Box4 | None], figures: list[Figure], pans: np.ndarray, t: int
) -> np.ndarray:
    """Mild blur, documented in playerseg.synthetic.dataset: camera-pan blur everywhere, more on fast figures."""
    pan_speed = abs(float(pans[min(t + 1, pans.size - 1)] - pans[max(t - 1, 0)])) / 2
    length = 1 + min(2, round(pan_speed))
    if length > 1:
        frame = cv2.blur(frame, (length, 1))
    blurred: dict[tuple[int, int], np.ndarray] = {}
    grow = 2  # the extra blur reaches 2 px around the silhouette
    region_kernel = np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)
    height, width = ids.shape
    for i, (fig, box) in enumerate(zip(figures, boxes, strict=True)):
        dx, dy = _screen_velocity(fig, pans, t)
        if box is None or math.hypot(dx, dy) < FAST_PX_PER_FRAME:
            continue
        kernel = (5, 1) if abs(dx) >= abs(dy) else (1, 5)
        if kernel not in blurred:
            blurred[kernel] = cv2.blur(frame, kernel)
        x0, y0 = max(box[0] - grow, 0), max(box[1] - grow, 0)
        x1, y1 = min(box[2] + grow, width), min(box[3] + grow, height)
        region = cv2.dilate((ids[y0:y1, x0:x1] == i + 1).view(np.uint8), region_kernel).view(bool)
        frame[y0:y1, x0:x1][region] = blurred[kernel][y0:y1, x0:x1][region]
    return frame
