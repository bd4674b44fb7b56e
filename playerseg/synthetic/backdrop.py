"""The background behind the people: a crowd band of tiny spectators, an LED advertising board that scrolls and a
mown pitch (perspective stripes, touchline, halfway line, grass texture). Each is a panorama wider than the view,
sliced at the camera position every frame."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from playerseg.synthetic.figures import SKINS
from playerseg.synthetic.layout import Layout

GRASS = ((58, 124, 46), (74, 142, 56))  # the two mown stripes (RGB)
BOARD_COLOURS = ((255, 40, 40), (40, 230, 70), (255, 255, 255), (30, 120, 255), (255, 208, 0), (255, 60, 200))


@dataclass(frozen=True)
class Backdrop:
    crowd: np.ndarray  # (board_top, pano_w, 3)
    board: np.ndarray  # (pitch_top - board_top, period, 3), repeats sideways
    pitch: np.ndarray  # (height - pitch_top, pano_w, 3)
    board_scroll: float  # px per frame the adverts move on their own


def make_backdrop(rng: np.random.Generator, pan: np.ndarray, layout: Layout) -> Backdrop:
    pano_w = int(pan.max()) + layout.width + 1
    return Backdrop(
        crowd=_crowd_band(rng, pano_w, layout),
        board=_board(rng, layout),
        pitch=_pitch(rng, pano_w, layout),
        board_scroll=float(rng.uniform(2.0, 5.0) * rng.choice((-1.0, 1.0)) * layout.width / 640),
    )


def _crowd_band(rng: np.random.Generator, pano_w: int, layout: Layout) -> np.ndarray:
    """Tiers of tiny spectators (head + shoulders blobs) on dark stands."""
    rows, h = layout.board_top, layout.height
    band = np.empty((rows, pano_w, 3), dtype=np.uint8)
    band[:] = (46, 46, 58)
    tier = max(4.0, 0.045 * h)
    spacing = max(3.0, 0.013 * layout.width)
    head = max(1, round(0.009 * h))
    for row_y in np.arange(tier * 0.8, rows + tier, tier):
        cv2.line(band, (0, int(row_y + head)), (pano_w, int(row_y + head)), (30, 30, 38), max(1, head))
        xs = np.arange(rng.uniform(0, spacing), pano_w, spacing) + rng.uniform(-0.3, 0.3, 1) * spacing
        for x in xs:
            if rng.random() < 0.12:
                continue  # empty seat
            cx, cy = int(x + rng.uniform(-0.25, 0.25) * spacing), int(row_y + rng.uniform(-0.2, 0.2) * tier)
            shirt = tuple(int(c) for c in rng.integers(20, 240, 3))
            cv2.ellipse(band, (cx, cy + 2 * head), (int(1.8 * head), head + 1), 0, 180, 360, shirt, -1)
            cv2.circle(band, (cx, cy), head, SKINS[int(rng.integers(0, len(SKINS)))], -1)
    return cv2.GaussianBlur(band, (3, 3), 0)


def _board(rng: np.random.Generator, layout: Layout) -> np.ndarray:
    """LED adverts: saturated blocks with dark 'lettering' bars on a dark panel, one period wide."""
    rows = layout.pitch_top - layout.board_top
    period = max(64, layout.width // 2 * 3)
    board = np.empty((rows, period, 3), dtype=np.uint8)
    board[:] = (18, 18, 26)
    x = 0
    while x < period:
        length = int(rng.uniform(0.12, 0.35) * layout.width)
        colour = BOARD_COLOURS[int(rng.integers(0, len(BOARD_COLOURS)))]
        end = min(period, x + length)
        board[1 : rows - 1, x + 2 : max(x + 3, end - 2)] = colour
        ink = tuple(255 - c for c in colour)
        for letter in range(x + 6, end - 6, max(4, rows // 2)):  # fake text: bars in the inverse colour
            top = 2 + int(rng.integers(0, max(1, rows // 4)))
            board[top : rows - 2, letter : letter + max(1, rows // 6)] = ink
        x = end
    return board


def _pitch(rng: np.random.Generator, pano_w: int, layout: Layout) -> np.ndarray:
    """Mown stripes converging to a vanishing point, a touchline and a halfway line, with grass texture."""
    h, w = layout.height, layout.width
    rows = np.arange(layout.pitch_top, h, dtype=np.float32)[:, None]
    cols = np.arange(pano_w, dtype=np.float32)[None, :]
    vanish_y, vanish_x = np.float32(-1.2 * h), np.float32(pano_w * rng.uniform(0.3, 0.7))
    perspective = (h - vanish_y) / (rows - vanish_y)  # 1 on the bottom row, larger farther away
    ground_x = (cols - vanish_x) * perspective  # where the column would land on the bottom row
    stripe_w = 0.09 * w
    stripe = (np.floor(ground_x / stripe_w).astype(np.int64) % 2).astype(bool)
    grass = np.where(stripe[..., None], np.array(GRASS[1], np.float32), np.array(GRASS[0], np.float32))
    grass *= (0.9 + 0.1 * (rows - layout.pitch_top) / (h - layout.pitch_top))[..., None]  # far grass a bit darker
    # mottled texture: coarse noise upsampled, plus fine per-pixel noise
    coarse = rng.normal(0.0, 6.0, (max(2, rows.size // 12), max(2, pano_w // 12))).astype(np.float32)
    grass += cv2.resize(coarse, (pano_w, rows.size), interpolation=cv2.INTER_LINEAR)[..., None]
    grass += rng.integers(-5, 6, (rows.size, pano_w, 1), dtype=np.int8)
    line = (236.0, 240.0, 236.0)
    halfway = np.abs(ground_x - np.float32(rng.uniform(0.3, 0.7) * pano_w)) / perspective
    grass[halfway < max(0.8, 0.003 * h)] = line
    touch = layout.touchline - layout.pitch_top
    grass[touch : touch + max(1, round(0.006 * h))] = line
    return np.clip(grass, 0, 255).astype(np.uint8)


def background(backdrop: Backdrop, layout: Layout, pan: int, t: int) -> np.ndarray:
    """The view of frame t: the three panoramas sliced at the camera position, the board also scrolled by t."""
    w = layout.width
    board_cols = (np.arange(w) + pan + round(backdrop.board_scroll * t)) % backdrop.board.shape[1]
    return np.concatenate(
        [backdrop.crowd[:, pan : pan + w], backdrop.board[:, board_cols], backdrop.pitch[:, pan : pan + w]], axis=0
    )
