"""The frame the user clicks on: read one clip frame, draw the prompts (markers with object ids) and a pending box
corner, and fit it to the page. Clicks come back in the shown image's pixels; `to_clip` maps them to the clip's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from playerseg.io.overlay import OUTLINE_COLOR, TEXT_COLOR, draw_overlay, object_color
from playerseg.io.prompts import Box, Point, Prompt
from playerseg.io.video import FrameStore
from playerseg.ui.session import BoxCorner

DISPLAY_MAX_SIDE = 1280  # larger frames are shown downscaled; clicks are mapped back to clip pixels
_FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class ShownFrame:
    image: np.ndarray  # RGB uint8 as displayed
    scale: float  # displayed pixels per clip pixel

    def to_clip(self, x: float, y: float) -> tuple[float, float]:
        return x / self.scale, y / self.scale


def display_scale(width: int, height: int, max_side: int = DISPLAY_MAX_SIDE, min_side: int | None = None) -> float:
    """Shown pixels per clip pixel: larger frames are shown downscaled to `max_side`, and with `min_side` smaller
    ones are shown enlarged to it (small clips make small click targets)."""
    longest = max(width, height)
    if min_side is not None and longest < min_side:
        return min_side / longest
    return min(1.0, max_side / longest)


def read_frame(path: str, frame: int) -> np.ndarray:
    """One RGB frame of the clip by frame number (decodes from the keyframe before it)."""
    with FrameStore(path, start=frame, stop=frame + 1, cache_size=1) as store:
        return store[0]


def show_frame(
    rgb: np.ndarray, prompts: Sequence[Prompt], corner: BoxCorner | None = None, max_side: int = DISPLAY_MAX_SIDE
) -> ShownFrame:
    """The frame with this frame's prompts drawn (points green/red, boxes in the object's colour, the object id
    beside each) and the first corner of an unfinished box as a cross."""
    scale = display_scale(rgb.shape[1], rgb.shape[0], max_side)
    image = rgb if scale == 1.0 else cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    shown = [_scaled(p, scale) for p in prompts]
    image = draw_overlay(np.ascontiguousarray(image), np.zeros(image.shape[:2], np.uint8), shown, draw_ids=False)
    for prompt in shown:
        _label(image, prompt)
    if corner is not None:
        draw_cross(image, corner.x * scale, corner.y * scale, object_color(corner.object_id))
    return ShownFrame(image, scale)


def _scaled(prompt: Prompt, scale: float) -> Prompt:
    if scale == 1.0:
        return prompt
    points = tuple(Point(p.x * scale, p.y * scale, p.positive) for p in prompt.points)
    box = None
    if prompt.box is not None:
        b = prompt.box
        box = Box(b.x0 * scale, b.y0 * scale, b.x1 * scale, b.y1 * scale)
    return Prompt(prompt.frame, prompt.object_id, points, box)


def _anchor(prompt: Prompt) -> tuple[float, float]:
    if prompt.box is not None:
        return prompt.box.x0, prompt.box.y0 - 4
    return prompt.points[0].x + 9, prompt.points[0].y - 9


def _label(image: np.ndarray, prompt: Prompt) -> None:
    """The object id next to its marker, white on a dark outline so it reads on grass and kits alike."""
    x, y = _anchor(prompt)
    text = str(prompt.object_id)
    scale = max(0.5, image.shape[0] / 720 * 0.8)
    (w, h), _ = cv2.getTextSize(text, _FONT, scale, 2)
    x = int(np.clip(x, 2, image.shape[1] - w - 2))
    y = int(np.clip(y, h + 2, image.shape[0] - 2))
    cv2.putText(image, text, (x, y), _FONT, scale, OUTLINE_COLOR, 5, cv2.LINE_AA)
    cv2.putText(image, text, (x, y), _FONT, scale, TEXT_COLOR, 2, cv2.LINE_AA)


def draw_cross(image: np.ndarray, x: float, y: float, colour: tuple[int, int, int]) -> None:
    centre = (int(round(x)), int(round(y)))
    size = max(8, image.shape[0] // 40)
    cv2.drawMarker(image, centre, OUTLINE_COLOR, cv2.MARKER_CROSS, size + 2, 4)
    cv2.drawMarker(image, centre, colour, cv2.MARKER_CROSS, size, 2)
