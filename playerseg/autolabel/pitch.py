"""The playing surface of a sports frame: from a polygon, or found from the frame's dominant colour.

Auto pitch: the dominant colour of the lower half of the frame (the biggest mode of an a*b* histogram in Lab), the
pixels close to it, cleaned with morphology, the largest connected regions, holes filled. It runs on a copy about
WORK_HEIGHT pixels tall (~4 ms per 854x480 frame). The player filter (autolabel.player_filter) reads the ground
under each person's feet from it, and the jersey clustering (autolabel.jerseys) leaves pitch-coloured pixels out
of a shirt's colour.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from playerseg.errors import PlayerSegError

# Auto pitch. The lower half of a sports frame is mostly playing surface (grass, a mat, a court), so its dominant
# colour is the surface. Colours are compared in Lab by chroma (a*, b*), which shading changes little; lightness
# only has to be roughly the same, which keeps black belts and white walls off a grey-green mat.
WORK_HEIGHT = 128
LOWER_PART = 0.5
AB_RANGE = 100.0
AB_BIN = 2.0
MODE_RADIUS = 6.0  # pixels this close to the histogram peak give the surface colour
TOLERANCE_PER_SPREAD = 3.5  # tolerance = this many times the median chroma distance of the surface pixels...
MIN_TOLERANCE, MAX_TOLERANCE = 5.0, 15.0  # ...within these bounds (grass texture, JPEG chroma noise)
DARKER, LIGHTER = 30.0, 25.0  # Lab L* range around the surface lightness (shadows on grass are ~15 darker)
MIN_REGION_SHARE = 0.25  # connected regions at least this share of the largest one are pitch too (split surfaces)
# People standing across the far edge of the pitch cut notches into it; a closing this wide (share of the frame
# height, about two bodies) fills them, so a far player's feet still count as on the pitch.
NOTCH_CLOSING = 0.08


class FilterError(PlayerSegError, ValueError):
    """Filter settings, a pitch polygon file or an input the player filter cannot use; the message is one sentence."""


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def as_points(name: str, points: Any, minimum: int) -> tuple[tuple[float, float], ...]:
    """Points as a tuple of (x, y) float pairs, or FilterError naming the setting."""
    try:
        pairs = tuple((float(x), float(y)) for x, y in points)
    except (TypeError, ValueError):
        raise FilterError(f"{name} must be a list of [x, y] pixel pairs.") from None
    if len(pairs) < minimum:
        raise FilterError(f"{name} needs at least {minimum} points, got {len(pairs)}.")
    if not all(math.isfinite(v) for pair in pairs for v in pair):
        raise FilterError(f"{name} has a coordinate that is not a finite number.")
    return pairs


def check_rgb(rgb: Any) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise FilterError("The frame must be an HxWx3 uint8 RGB array.")
    if rgb.shape[0] < 2 or rgb.shape[1] < 2:
        raise FilterError(f"The frame is too small ({rgb.shape[1]}x{rgb.shape[0]} pixels) to find a pitch in.")
    return rgb


def pitch_mask_from_polygon(polygon: Sequence[Sequence[float]], height: int, width: int) -> np.ndarray:
    """Bool HxW: pixels whose centre (col + 0.5, row + 0.5) lies inside the polygon (even-odd rule)."""
    points = np.asarray(as_points("The pitch polygon", polygon, 3), dtype=np.float64)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in (height, width)):
        raise FilterError(f"A pitch mask needs a whole positive height and width, got {height!r}x{width!r}.")
    height, width = int(height), int(width)
    start, end = points, np.roll(points, -1, axis=0)
    rows = np.arange(height, dtype=np.float64)[:, None] + 0.5
    # an edge crosses a row when the row lies in [its lower y, its upper y): each vertex counts once
    low, high = np.minimum(start[:, 1], end[:, 1]), np.maximum(start[:, 1], end[:, 1])
    crosses = (rows >= low) & (rows < high)
    with np.errstate(divide="ignore", invalid="ignore"):  # horizontal edges never cross a row: NaN, unused
        t = (rows - start[:, 1]) / (end[:, 1] - start[:, 1])
        x_cross = start[:, 0] + t * (end[:, 0] - start[:, 0])
    # every pixel whose centre is right of a crossing flips parity: mark the first such column, then cumsum
    first_col = np.clip(np.floor(x_cross - 0.5) + 1, 0, width)
    row_index = np.broadcast_to(np.arange(height)[:, None], crosses.shape)
    flips = np.zeros((height, width + 1), dtype=np.int32)
    np.add.at(flips, (row_index[crosses], first_col[crosses].astype(np.intp)), 1)
    return (np.cumsum(flips[:, :width], axis=1) % 2).astype(bool)


@dataclass(frozen=True)
class SurfaceColour:
    """The playing surface's colour in Lab and how far from it a pixel may be and still be surface."""

    lightness: float
    a: float
    b: float
    tolerance: float

    def matches(self, lab: np.ndarray) -> np.ndarray:
        chroma_distance = np.hypot(lab[..., 1] - self.a, lab[..., 2] - self.b)
        lightness = lab[..., 0]
        return (
            (chroma_distance <= self.tolerance)
            & (lightness >= self.lightness - DARKER)
            & (lightness <= self.lightness + LIGHTER)
        )


def to_lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def work_copy(rgb: np.ndarray) -> np.ndarray:
    """The frame about WORK_HEIGHT pixels tall (never enlarged), area-averaged so texture and noise fade."""
    height, width = rgb.shape[:2]
    scale = min(1.0, WORK_HEIGHT / height)
    if scale == 1.0:
        return rgb
    size = (max(2, round(width * scale)), max(2, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def surface_colour(lab: np.ndarray) -> SurfaceColour:
    """The biggest mode of the a*b* histogram of the lower part of the frame and the spread of the pixels near it."""
    height = lab.shape[0]
    lower = lab[int(height * (1 - LOWER_PART)) :].reshape(-1, 3)
    bins = int(2 * AB_RANGE / AB_BIN)
    histogram, _, _ = np.histogram2d(
        lower[:, 1], lower[:, 2], bins=bins, range=((-AB_RANGE, AB_RANGE), (-AB_RANGE, AB_RANGE))
    )
    histogram = cv2.GaussianBlur(histogram.astype(np.float32), (5, 5), 0)  # a mode of a region, not one bin
    peak_a, peak_b = np.unravel_index(int(np.argmax(histogram)), histogram.shape)
    a0, b0 = -AB_RANGE + (peak_a + 0.5) * AB_BIN, -AB_RANGE + (peak_b + 0.5) * AB_BIN
    near = lower[np.hypot(lower[:, 1] - a0, lower[:, 2] - b0) <= MODE_RADIUS]
    if near.shape[0] == 0:  # only when the peak lies between sparse colours: take the bin centre as it is
        near = np.array([[float(np.median(lower[:, 0])), a0, b0]], dtype=np.float32)
    a, b = float(near[:, 1].mean()), float(near[:, 2].mean())
    distance = np.hypot(near[:, 1] - a, near[:, 2] - b)
    tolerance = float(np.clip(TOLERANCE_PER_SPREAD * np.median(distance), MIN_TOLERANCE, MAX_TOLERANCE))
    return SurfaceColour(float(np.median(near[:, 0])), a, b, tolerance)


def _disc(diameter: int) -> np.ndarray:
    diameter = max(1, diameter)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter, diameter))


def _largest_regions(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(mask)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= MIN_REGION_SHARE * areas.max()) + 1
    return np.isin(labels, keep)


def fill_holes(mask: np.ndarray, sides: bool = True) -> np.ndarray:
    """Fill what the surface encloses. The pitch goes on past the bottom edge of the frame (and, with sides, past
    the left and right edges), so a player cut off there is enclosed too; what reaches the top edge (stands,
    walls, sky) never is."""
    padded = np.pad(mask, 1, constant_values=True)
    padded[0, :] = False
    if not sides:
        padded[:, 0] = padded[:, -1] = False
    outside = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), dtype=np.uint8)
    background = (~padded).view(np.uint8).copy()
    # flood the non-surface from the top-left corner: whatever it cannot reach is a hole
    cv2.floodFill(background, outside, (0, 0), 2, flags=8)
    return background[1:-1, 1:-1] != 2


def surface_mask(lab: np.ndarray, colour: SurfaceColour) -> np.ndarray:
    """The playing surface on the work copy: close colour, cleaned, largest regions, holes and notches filled."""
    mask = colour.matches(lab).view(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _disc(3))  # specks of grass-green in the crowd
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, _disc(5))  # painted lines, mat seams
    mask = fill_holes(_largest_regions(mask.view(bool)))
    notch = _disc(round(NOTCH_CLOSING * lab.shape[0]) | 1)
    closed = cv2.morphologyEx(mask.view(np.uint8), cv2.MORPH_CLOSE, notch).view(bool)
    return fill_holes(closed)


def upscale(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    if mask.shape == (height, width):
        return mask
    return cv2.resize(mask.view(np.uint8) * np.uint8(255), (width, height), interpolation=cv2.INTER_LINEAR) >= 128


def pitch_mask_auto(rgb: np.ndarray) -> np.ndarray:
    """Bool HxW: the playing surface, found from the frame's dominant colour (see the module docstring)."""
    rgb = check_rgb(rgb)
    lab = to_lab(work_copy(rgb))
    return upscale(surface_mask(lab, surface_colour(lab)), *rgb.shape[:2])


def load_polygon(path: str | Path) -> tuple[tuple[float, float], ...]:
    """The pitch outline from a JSON file {"pitch": [[x, y], ...]} (frame pixels, at least 3 points)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FilterError(f"The pitch polygon file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise FilterError(f"Could not read the pitch polygon file {path}: {error}.") from None
    except json.JSONDecodeError as error:
        problem = f"{error.msg}, line {error.lineno}"
        raise FilterError(f"The pitch polygon file {path} is not valid JSON ({problem}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("pitch"), list):
        raise FilterError(f'The pitch polygon file {path} must hold {{"pitch": [[x, y], ...]}}.')
    if not all(isinstance(p, list) and len(p) == 2 and all(is_number(v) for v in p) for p in data["pitch"]):
        raise FilterError(f"The pitch polygon in {path} must be a list of [x, y] number pairs.")
    try:
        return as_points("The pitch polygon", data["pitch"], 3)
    except FilterError as error:
        raise FilterError(f"{str(error)[:-1]} (in {path}).") from None
