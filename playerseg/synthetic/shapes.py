"""Shapes that are not people (ellipses, rectangles, triangles, polygons, stars, blobs) and their painting into the
integer code layer: base + part with OpenCV polygons (LINE_8, no anti-aliasing), so the layer gives each pixel's
exact owner. Parts 1..3 are the shape's colours: plain, two halves, stripes, checks, a core or random cells, drawn in
the shape's own (rotating, scaling) coordinates so a texture moves with its shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from playerseg.synthetic.painting import ONE, SHIFT

KINDS = ("ellipse", "rectangle", "triangle", "polygon", "star", "blob")
PATTERNS = ("plain", "halves", "stripes", "checks", "core", "cells")
PARTS = 3  # colours a shape may use (parts 1..3 of its PART_SLOTS)


@dataclass(frozen=True)
class Shape:
    kind: str  # one of KINDS
    outline: np.ndarray  # (n, 2) vertices in unit coordinates: the farthest one at distance 1 from the centre
    pattern: str  # one of PATTERNS
    period: float  # the pattern's cell size, in units of the radius
    tilt: float  # direction of the halves' split, radians


def random_outline(rng: np.random.Generator, kind: str) -> np.ndarray:
    """The (n, 2) unit outline of a random shape of this kind (its farthest vertex at distance 1)."""
    if kind == "ellipse":
        theta = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        points = np.stack([np.cos(theta), rng.uniform(0.3, 1.0) * np.sin(theta)], axis=1)
    elif kind == "rectangle":
        aspect = rng.uniform(0.2, 1.0)
        points = np.array([[-1, -aspect], [1, -aspect], [1, aspect], [-1, aspect]], dtype=np.float64)
    elif kind in ("triangle", "polygon"):
        corners = 3 if kind == "triangle" else int(rng.integers(4, 10))
        theta = np.sort(rng.uniform(0, 2 * np.pi, corners))
        reach = rng.uniform(0.5, 1.0, corners) if kind == "polygon" else np.ones(corners)
        points = np.stack([reach * np.cos(theta), reach * np.sin(theta)], axis=1)
    elif kind == "star":
        tips = int(rng.integers(4, 9))
        theta = np.arange(2 * tips) * np.pi / tips
        reach = np.where(np.arange(2 * tips) % 2 == 0, 1.0, rng.uniform(0.3, 0.6))
        points = np.stack([reach * np.cos(theta), reach * np.sin(theta)], axis=1)
    elif kind == "blob":
        theta = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        reach = np.ones_like(theta)
        for k in (2, 3, 4):
            reach += rng.uniform(0, 0.22) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
        points = np.stack([reach * np.cos(theta), reach * np.sin(theta)], axis=1)
    else:
        raise ValueError(f"unknown shape kind {kind!r}")
    return points / np.hypot(points[:, 0], points[:, 1]).max()


def random_shape(rng: np.random.Generator) -> Shape:
    """A shape of a random kind; about half are plain, the rest two- or three-coloured."""
    kind = KINDS[int(rng.integers(0, len(KINDS)))]
    outline = random_outline(rng, kind)
    pattern = "plain" if rng.random() < 0.5 else PATTERNS[int(rng.integers(1, len(PATTERNS)))]
    return Shape(kind, outline, pattern, float(rng.uniform(0.15, 0.6)), float(rng.uniform(0, np.pi)))


def vertices(shape: Shape, cx: float, cy: float, radius: float, angle: float) -> np.ndarray:
    """The outline in screen pixels: rotated by angle, scaled by radius, centred on (cx, cy)."""
    c, s = np.cos(angle), np.sin(angle)
    return shape.outline @ np.array([[c, s], [-s, c]]) * radius + (cx, cy)


def paint_shape(layer: np.ndarray, base: int, shape: Shape, cx: float, cy: float, radius: float, angle: float) -> None:
    """Paint the shape into the code layer as base + part (1..PARTS); pixels it covers become its own."""
    points = np.round(vertices(shape, cx, cy, radius, angle) * ONE).astype(np.int32)
    height, width = layer.shape
    x0, y0 = max(int(points[:, 0].min()) >> SHIFT, 0), max(int(points[:, 1].min()) >> SHIFT, 0)
    x1, y1 = min((int(points[:, 0].max()) >> SHIFT) + 2, width), min((int(points[:, 1].max()) >> SHIFT) + 2, height)
    if x0 >= x1 or y0 >= y1:
        return  # wholly outside the frame
    if shape.pattern == "plain":
        cv2.fillPoly(layer, [points], base + 1, cv2.LINE_8, SHIFT)
        return
    covered = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(covered, [points - np.array([x0 * ONE, y0 * ONE], dtype=np.int32)], 1, cv2.LINE_8, SHIFT)
    inside = covered.view(bool)
    rows = np.arange(y0, y1, dtype=np.float64)[:, None] - cy
    cols = np.arange(x0, x1, dtype=np.float64)[None, :] - cx
    c, s = np.cos(angle), np.sin(angle)
    u, v = (cols * c + rows * s) / radius, (rows * c - cols * s) / radius  # the shape's own coordinates
    parts = _pattern(shape, u, v)
    region = layer[y0:y1, x0:x1]
    region[inside] = base + parts[inside]


def _pattern(shape: Shape, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Part (1..PARTS) of each pixel at shape coordinates (u, v)."""
    cell_u, cell_v = np.floor(u / shape.period).astype(np.int64), np.floor(v / shape.period).astype(np.int64)
    if shape.pattern == "halves":
        parts = 1 + (u * np.cos(shape.tilt) + v * np.sin(shape.tilt) > 0)
    elif shape.pattern == "stripes":
        parts = 1 + cell_u % 2
    elif shape.pattern == "checks":
        parts = 1 + (cell_u + cell_v) % 2
    elif shape.pattern == "core":
        parts = 1 + (np.hypot(u, v) < 1.5 * shape.period)
    else:  # cells: a fixed scramble of the cell indices picks one of the three colours
        parts = 1 + ((cell_u * 73_856_093) ^ (cell_v * 19_349_663)) % PARTS
    return np.broadcast_to(parts, u.shape).astype(np.uint8)
