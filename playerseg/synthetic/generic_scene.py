"""The backgrounds of generic (not a pitch) clips: one family per sequence (smooth colour gradients, random-colour
blobs, Voronoi-like patches, stripes or checkers at a random angle and scale, noise textures) in a random palette
(dark, bright, muted, vivid or anything), fine grain, and distractor shapes painted in (background, never objects).

The scene is a world picture twice the view in each direction; the camera (generic_motion) sees a part of it each
frame through `view`, which pans and zooms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from playerseg.synthetic.shapes import KINDS, random_outline

FAMILIES = ("gradient", "blobs", "voronoi", "stripes", "checkers", "noise")
PALETTES = ("any", "dark", "bright", "muted", "vivid")
WORLD_SCALE = 2  # the world is this many views wide and high: room for the camera to pan and zoom out
COARSE = 4  # smooth families are computed on a grid this many times coarser, then resized


@dataclass(frozen=True)
class Scene:
    family: str  # one of FAMILIES
    palette: np.ndarray  # (n, 3) float32 RGB colours the background was made of
    world: np.ndarray  # (WORLD_SCALE * H, WORLD_SCALE * W, 3) uint8 RGB


def random_palette(rng: np.random.Generator, count: int) -> np.ndarray:
    """count RGB colours (float32) around a random hue, in one of PALETTES' brightness and saturation ranges."""
    kind = PALETTES[int(rng.integers(0, len(PALETTES)))]
    saturation, value = {
        "any": ((0, 255), (20, 255)),
        "dark": ((40, 255), (10, 90)),
        "bright": ((0, 140), (180, 255)),
        "muted": ((10, 80), (70, 200)),
        "vivid": ((170, 255), (140, 255)),
    }[kind]
    hue = rng.uniform(0, 180) + rng.uniform(-1, 1, count) * rng.uniform(5, 90)
    hsv = np.stack([np.mod(hue, 180), rng.uniform(*saturation, count), rng.uniform(*value, count)], axis=1)
    rgb = cv2.cvtColor(np.round(hsv).astype(np.uint8)[None], cv2.COLOR_HSV2RGB)[0]
    return rgb.astype(np.float32)


def make_scene(rng: np.random.Generator, width: int, height: int) -> Scene:
    """A random background family in a random palette, grain, then 2..14 distractor shapes on top."""
    family = FAMILIES[int(rng.integers(0, len(FAMILIES)))]
    palette = random_palette(rng, int(rng.integers(2, 7)))
    size = (WORLD_SCALE * height, WORLD_SCALE * width)
    world = _PAINTERS[family](rng, size, palette, height)
    grain = rng.uniform(0.0, 7.0)
    world += rng.normal(0.0, 1.0, (*size, 1)).astype(np.float32) * np.float32(grain)
    picture = np.clip(world, 0, 255).astype(np.uint8)
    _paint_distractors(rng, picture, palette, height)
    return Scene(family, palette, picture)


def view(scene: Scene, centre_x: float, centre_y: float, zoom: float, width: int, height: int) -> np.ndarray:
    """What the camera sees: screen pixel s shows world point centre + (s - view centre) / zoom (bilinear)."""
    inverse = np.array(
        [[1 / zoom, 0, centre_x - width / 2 / zoom], [0, 1 / zoom, centre_y - height / 2 / zoom]], dtype=np.float64
    )
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(scene.world, inverse, (width, height), flags=flags, borderMode=cv2.BORDER_REFLECT_101)


def _coords(size: tuple[int, int], step: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (full-resolution units) of a grid `step` times coarser than size, as float32 (rows, cols)."""
    rows = np.arange(0, size[0], step, dtype=np.float32)[:, None]
    cols = np.arange(0, size[1], step, dtype=np.float32)[None, :]
    return rows, cols


def _along(rng: np.random.Generator, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates along and across a random direction."""
    angle = rng.uniform(0, np.pi)
    c, s = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    return cols * c + rows * s, rows * c - cols * s


def _ramp(t: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Colours along t in [0, 1]: a piecewise linear ramp through the palette."""
    stops = np.linspace(0.0, 1.0, len(palette))
    return np.stack([np.interp(t, stops, palette[:, c]) for c in range(3)], axis=-1).astype(np.float32)


def _full(coarse: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(coarse, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)


def _gradient(rng: np.random.Generator, size: tuple[int, int], palette: np.ndarray, height: int) -> np.ndarray:
    """Linear or radial colour gradient through the palette."""
    rows, cols = _coords(size, COARSE)
    if rng.random() < 0.5:
        t, _ = _along(rng, rows, cols)
    else:
        cy, cx = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        t = np.hypot(rows - cy, cols - cx)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    return _full(_ramp(t, palette), size)


def _blobs(rng: np.random.Generator, size: tuple[int, int], palette: np.ndarray, height: int) -> np.ndarray:
    """Random-colour ellipses over a base colour, hard or softened."""
    world = np.empty((*size, 3), dtype=np.float32)
    world[:] = palette[0]
    for _ in range(int(rng.integers(12, 50))):
        colour = palette[int(rng.integers(0, len(palette)))] + rng.uniform(-25, 25, 3)
        centre = (int(rng.uniform(0, size[1])), int(rng.uniform(0, size[0])))
        axes = (int(rng.uniform(0.03, 0.35) * height) + 1, int(rng.uniform(0.03, 0.35) * height) + 1)
        angle = float(rng.uniform(0, 180))
        cv2.ellipse(world, centre, axes, angle, 0, 360, colour.tolist(), -1, cv2.LINE_AA)
    if rng.random() < 0.5:
        world = cv2.GaussianBlur(world, (0, 0), rng.uniform(1.0, 0.02 * height + 1.5))
    return world


def _voronoi(rng: np.random.Generator, size: tuple[int, int], palette: np.ndarray, height: int) -> np.ndarray:
    """Patches of flat colour around random seeds: each pixel takes the colour of its nearest seed."""
    seeds = np.ones(size, dtype=np.uint8)
    count = int(rng.integers(8, 60))
    seeds[rng.integers(0, size[0], count), rng.integers(0, size[1], count)] = 0
    _, labels = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    colours = palette[rng.integers(0, len(palette), count + 1)] + rng.uniform(-30, 30, (count + 1, 3))
    return colours.astype(np.float32)[labels]


def _stripes(rng: np.random.Generator, size: tuple[int, int], palette: np.ndarray, height: int) -> np.ndarray:
    """Bands of palette colours at a random angle and period."""
    rows, cols = _coords(size, 1)
    u, _ = _along(rng, rows, cols)
    period = np.float32(rng.uniform(0.02, 0.3) * height)
    index = np.floor(u / period).astype(np.int64) % len(palette)
    return _soften(rng, palette[index], height)


def _checkers(rng: np.random.Generator, size: tuple[int, int], palette: np.ndarray, height: int) -> np.ndarray:
    """A checkerboard of two (or more) palette colours at a random angle and cell size."""
    rows, cols = _coords(size, 1)
    u, v = _along(rng, rows, cols)
    cell = np.float32(rng.uniform(0.03, 0.3) * height)
    index = (np.floor(u / cell).astype(np.int64) + np.floor(v / cell).astype(np.int64)) % len(palette)
    return _soften(rng, palette[index], height)


def _soften(rng: np.random.Generator, world: np.ndarray, height: int) -> np.ndarray:
    return cv2.GaussianBlur(world, (0, 0), rng.uniform(0.5, 0.01 * height + 1.0)) if rng.random() < 0.4 else world


def _noise(rng: np.random.Generator, size: tuple[int, int], palette: np.ndarray, height: int) -> np.ndarray:
    """Octaves of smooth noise, mapped through the palette (or per channel: a colourful texture)."""
    channels = 3 if rng.random() < 0.3 else 1
    total = np.zeros((size[0], size[1], channels), dtype=np.float32)
    for octave, cell in enumerate((0.25, 0.08, 0.025, 0.008)):
        grid = (max(2, round(size[0] / (cell * height))), max(2, round(size[1] / (cell * height))))
        coarse = rng.normal(0.0, 1.0, (*grid, channels)).astype(np.float32)
        total += _full(coarse, size).reshape(total.shape) * np.float32(rng.uniform(0.2, 1.0) / (octave + 1))
    total = (total - total.min()) / max(float(total.max() - total.min()), 1e-6)
    if channels == 3:
        low, high = palette.min(axis=0), palette.max(axis=0) + 40
        return (low + total * (high - low)).astype(np.float32)
    return _ramp(total[..., 0], palette)


_PAINTERS: dict[str, Callable[[np.random.Generator, tuple[int, int], np.ndarray, int], np.ndarray]] = {
    "gradient": _gradient,
    "blobs": _blobs,
    "voronoi": _voronoi,
    "stripes": _stripes,
    "checkers": _checkers,
    "noise": _noise,
}


def _paint_distractors(rng: np.random.Generator, world: np.ndarray, palette: np.ndarray, height: int) -> None:
    """Shapes like the objects' (filled or outlined) that belong to the background: label 0 in every frame."""
    for _ in range(int(rng.integers(2, 15))):
        outline = random_outline(rng, KINDS[int(rng.integers(0, len(KINDS)))])
        radius = rng.uniform(0.01, 0.15) * height
        angle = rng.uniform(0, 2 * np.pi)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        centre = (rng.uniform(0, world.shape[1]), rng.uniform(0, world.shape[0]))
        points = np.round(outline @ rotation.T * radius + centre).astype(np.int32)
        if rng.random() < 0.5:
            colour = palette[int(rng.integers(0, len(palette)))] + rng.uniform(-60, 60, 3)
        else:
            colour = rng.uniform(0, 255, 3)
        colour = np.clip(colour, 0, 255).tolist()
        if rng.random() < 0.75:
            cv2.fillPoly(world, [points], colour, cv2.LINE_AA)
        else:
            cv2.polylines(world, [points], True, colour, max(1, round(rng.uniform(0.003, 0.015) * height)), cv2.LINE_AA)
