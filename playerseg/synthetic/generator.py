"""Procedural football-pitch clips with exact ground truth, in the DAVIS layout.

What a frame shows (back to front): a crowd band (rows of tiny spectators plus a few larger standing, jumping fans),
an LED advertising board with bright blocks that scroll, a mown pitch (perspective stripes, touchline, halfway
line, grass texture), player shadows, then person-like figures: players of two teams (one team in a green close to
the grass), a referee in a colour of its own, and staff near the touchline. Figures have a head, torso, shorts,
legs with a running cycle and swinging arms; their size grows with depth (lower on screen = nearer = larger) and
they are drawn far to near, so nearer figures hide farther ones. The camera pans slowly (pitch, stripes, board and
crowd shift) and players cross each other on purpose (players 1 and 3, in the same green kit, meet mid-clip; with
two players 1 and 2, with one player 1 and the referee). With `entering` E, the last E players start outside the
view and run in from the right a few frames into the clip (a player entering after frame 0).

What is exact: every figure is painted first into an integer layer (OpenCV polygons, circles and thick lines with
LINE_8, no anti-aliasing); colours are then looked up from that layer, so Annotations (players 1..K, 0 elsewhere;
a hidden part belongs to whoever hides it, 0 when that is not a player), meta boxes (bbox_from_mask of each
figure's visible pixels, x1/y1 exclusive) and prompt points (the deepest pixel of the visible mask) agree with each
other to the pixel.
What is not: the pictures get a mild motion blur after that (a 1-3 px horizontal box blur from the camera pan over
the whole frame, and a 5 px blur along the motion of fast figures within 2 px of their silhouette), then JPEG /
H.264 compression and +-2 levels of sensor noise per channel. The ground truth stays the sharp silhouette, as in
hand-annotated footage; colours may bleed up to 2-3 px past it. The tiny spectators of the crowd texture are
background, only the larger standing fans are "crowd" figures in meta.json.

    python -m playerseg.synthetic OUT [--sequences N] [--frames F] [--players K] [--width W] [--height H]
                                      [--fps R] [--seed S] [--entering E]

writes OUT/JPEGImages/<seq>/00000.jpg..., OUT/Annotations/<seq>/00000.png..., OUT/videos/<seq>.mp4,
OUT/prompts/<seq>.json (one positive click per player on the first frame where it is visible) and OUT/meta.json.
The same arguments give byte-identical annotations, prompts and meta (numpy Generator seeded by seed and sequence).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from playerseg.errors import PlayerSegError
from playerseg.io.masks import bbox_from_mask, write_palette_png
from playerseg.io.prompts import Point, Prompt, PromptSet
from playerseg.io.video import VideoWriter

ROLES = ("player", "referee", "crowd", "staff")
Box4 = tuple[int, int, int, int]  # (x0, y0, x1, y1), x1/y1 exclusive, as bbox_from_mask gives
MAX_PLAYERS = 20  # more would not fit on a 640x360 pitch; ids stay far below the 254 a palette PNG allows
MIN_SIDE, MAX_SIDE = 64, 4096  # below 64 px the far figures would be a few pixels tall
MAX_SEQUENCES, MAX_FRAMES = 1000, 100_000
JPEG_QUALITY = 90
FAST_PX_PER_FRAME = 5.0  # figures moving faster than this on screen get the extra motion blur
NOISE_LEVELS = 5  # sensor noise: uniform 0..4 added, then 2 taken away (saturating): -2..+2 per channel
N_STAFF = 2
N_CROWD_FIGURES = 5

# Parts of a figure: the integer layer holds figure_index * PART_SLOTS + part, so one layer gives both the exact
# figure id (code // PART_SLOTS) and the colour of each pixel (a lookup by code).
PART_SLOTS = 8
HEAD, TORSO, SHORTS, THIGH, SHIN, UPPER_ARM, FOREARM = range(1, 8)
SHIFT = 3  # OpenCV drawing with 3 fractional bits: smooth sub-pixel motion, still hard-edged (LINE_8)
ONE = 1 << SHIFT

# Colours (RGB). The green team is deliberately close to the two grass stripes.
GRASS = ((58, 124, 46), (74, 142, 56))
GREEN_TEAM = (64, 138, 66)
OTHER_TEAMS = ((226, 226, 232), (196, 32, 40), (34, 62, 168), (236, 128, 24), (118, 34, 120))
REFEREE_SHIRTS = ((248, 226, 28), (236, 84, 178), (24, 24, 24))
STAFF_TOP = (208, 238, 40)  # hi-vis bib
STAFF_TROUSERS = (30, 32, 58)
SKINS = ((236, 190, 160), (198, 140, 100), (140, 92, 60), (92, 60, 40))
BOARD_COLOURS = ((255, 40, 40), (40, 230, 70), (255, 255, 255), (30, 120, 255), (255, 208, 0), (255, 60, 200))


class SyntheticError(PlayerSegError, ValueError):
    """Arguments the generator cannot use, or an output it cannot write; the message is one sentence."""


# ---------------------------------------------------------------------------------------------------------------
# scene layout and figures


@dataclass(frozen=True)
class _Layout:
    """Screen rows of the scene bands and the depth rule for figure size."""

    width: int
    height: int
    board_top: int  # crowd band is rows [0, board_top)
    pitch_top: int  # LED board is rows [board_top, pitch_top)
    touchline: int

    @classmethod
    def of(cls, width: int, height: int) -> _Layout:
        board_top = round(0.2 * height)
        pitch_top = board_top + max(3, round(0.075 * height))
        touchline = pitch_top + max(2, round(0.025 * height))
        return cls(width, height, board_top, pitch_top, touchline)

    def figure_height(self, y: np.ndarray) -> np.ndarray:
        """Height in pixels of a figure whose feet are at screen row y: perspective makes nearer ones larger."""
        depth = np.clip((y - self.pitch_top) / (self.height - self.pitch_top), 0.0, 1.2)
        return self.height * (0.13 + 0.23 * depth)


@dataclass
class _Figure:
    """One person: look and per-frame pose. x is in panorama (world) pixels, everything else in screen pixels."""

    role: str
    object_id: int | None
    colours: np.ndarray  # (PART_SLOTS, 3) uint8, one row per part
    x: np.ndarray  # (F,) feet, world x
    y: np.ndarray  # (F,) feet, screen row
    height: np.ndarray  # (F,)
    phase: np.ndarray  # (F,) running cycle angle
    swing: np.ndarray  # (F,) limb swing amplitude in radians
    facing: np.ndarray  # (F,) +1 right, -1 left
    arms_up: bool = False
    behind_board: bool = False  # crowd: the LED board hides the lower body


def _look(skin: Sequence[int], top: Sequence[int], shorts: Sequence[int], socks: Sequence[int]) -> np.ndarray:
    colours = np.zeros((PART_SLOTS, 3), dtype=np.uint8)
    colours[HEAD] = colours[THIGH] = colours[FOREARM] = skin
    colours[TORSO] = colours[UPPER_ARM] = top
    colours[SHORTS] = shorts
    colours[SHIN] = socks
    return colours


def _jitter(rng: np.random.Generator, colour: Sequence[int], amount: int) -> tuple[int, int, int]:
    values = np.clip(np.asarray(colour) + rng.integers(-amount, amount + 1, 3), 0, 255)
    return (int(values[0]), int(values[1]), int(values[2]))


def _animate(
    role: str,
    object_id: int | None,
    colours: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    layout: _Layout,
    rng: np.random.Generator,
) -> _Figure:
    """Pose from the path: one running cycle per ~1.1 body heights travelled, wider swing when faster."""
    height = layout.figure_height(y) * rng.uniform(0.93, 1.07)
    step = np.hypot(np.diff(x, prepend=x[:1]), np.diff(y, prepend=y[:1]))
    phase = rng.uniform(0, 2 * math.pi) + np.cumsum(2 * math.pi * step / (1.1 * height))
    swing = 0.12 + np.clip(5.0 * step / height, 0.0, 0.5)
    vx = np.gradient(x) if x.size > 1 else np.zeros(1)
    facing = np.where(vx < 0, -1.0, 1.0)
    return _Figure(role, object_id, colours, x, y, height, phase, swing, facing)


def _camera_pan(rng: np.random.Generator, frames: int, width: int) -> np.ndarray:
    """Left edge of the view in panorama pixels per frame (integer, so the background shifts by whole pixels)."""
    speed = rng.uniform(0.6, 1.6) * width / 640 * rng.choice((-1.0, 1.0))
    travel = abs(speed) * (frames - 1)
    start = 0.0 if speed > 0 else travel
    return np.round(start + speed * np.arange(frames)).astype(np.int64)


def _walk(
    rng: np.random.Generator,
    start: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    vmax: float,
    frames: int,
) -> np.ndarray:
    """Smooth random paths (n, F, 2): damped random acceleration, steered back when leaving [lo, hi] per frame.

    start: (n, 2); lo/hi: (n, F, 2) soft bounds. Depth (y) moves at half the speed of x, as on a real pitch.
    """
    n = start.shape[0]
    pos = start.astype(np.float64).copy()
    vel = rng.normal(0.0, vmax / 2, (n, 2)) * (1.0, 0.5)
    paths = np.empty((n, frames, 2))
    for t in range(frames):
        paths[:, t] = pos
        push = np.maximum(lo[:, t] - pos, 0) - np.maximum(pos - hi[:, t], 0)
        vel = 0.9 * vel + rng.normal(0.0, vmax / 6, (n, 2)) * (1.0, 0.5) + 0.08 * push
        speed = np.hypot(vel[:, 0], vel[:, 1])
        vel *= np.minimum(1.0, vmax / np.maximum(speed, 1e-9))[:, None]
        pos = pos + vel
    return paths


def _crossing_paths(
    rng: np.random.Generator, pan: np.ndarray, layout: _Layout
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two paths that meet at mid-clip: same spot on screen, the second a little nearer so it hides the first.

    They oscillate sideways around a point that follows the camera, meeting every 2*T frames.
    """
    frames = pan.size
    w, h = layout.width, layout.height
    t = np.arange(frames)
    meet = frames // 2
    quarter = float(np.clip(meet, 4, 12))
    centre = pan + w * rng.uniform(0.4, 0.6)
    offset = 0.14 * w * np.sin(0.5 * math.pi * (t - meet) / quarter)
    row = h * rng.uniform(0.6, 0.76) + 0.01 * h * np.sin(t / 5.0)
    far_x, near_x = centre - offset, centre + offset
    far_y, near_y = row - 0.03 * h, row + 0.03 * h
    return far_x, far_y, near_x, near_y


def _make_figures(
    rng: np.random.Generator, players: int, pan: np.ndarray, layout: _Layout, entering: int = 0
) -> list[_Figure]:
    """Players 1..K (odd ids green team), one referee, staff by the touchline and fans in the crowd band.
    The last `entering` players start outside the view and run in from the right."""
    frames = pan.size
    w, h = layout.width, layout.height
    skins = [SKINS[i] for i in rng.integers(0, len(SKINS), players + N_STAFF + N_CROWD_FIGURES + 1)]
    other = OTHER_TEAMS[int(rng.integers(0, len(OTHER_TEAMS)))]
    referee_shirt = REFEREE_SHIRTS[int(rng.integers(0, len(REFEREE_SHIRTS)))]

    # players and the referee walk over the pitch, kept in view as the camera pans
    movers = players + 1
    y_lo, y_hi = layout.pitch_top + 0.16 * h, 0.97 * h
    start = np.stack([pan[0] + rng.uniform(0.08, 0.92, movers) * w, rng.uniform(y_lo, y_hi, movers)], axis=1)
    lo = np.stack(np.broadcast_arrays(pan[None, :] + 0.06 * w, y_lo), axis=-1)
    hi = np.stack(np.broadcast_arrays(pan[None, :] + 0.94 * w, y_hi), axis=-1)
    lo, hi = np.repeat(lo, movers, axis=0), np.repeat(hi, movers, axis=0)
    paths = _walk(rng, start, lo, hi, 0.012 * w, frames)
    paths[:, :, 1] = np.clip(paths[:, :, 1], layout.pitch_top + 0.12 * h, 1.01 * h)

    # the deliberate crossing: players 1 and 3 (same green kit), else 1 and 2, else player 1 and the referee
    first, second = 0, (2 if players >= 3 else 1)
    far_x, far_y, near_x, near_y = _crossing_paths(rng, pan, layout)
    paths[first, :, 0], paths[first, :, 1] = far_x, far_y
    paths[second, :, 0], paths[second, :, 1] = near_x, near_y
    for i in range(players - entering, players):
        paths[i, :, 0] = _entering_x(pan, layout.width, i - (players - entering))

    figures = []
    for i in range(players):
        if i % 2 == 0:
            kit = _look(skins[i], _jitter(rng, GREEN_TEAM, 6), (30, 70, 36), _jitter(rng, GREEN_TEAM, 6))
        else:
            kit = _look(skins[i], _jitter(rng, other, 6), (20, 20, 24), _jitter(rng, other, 6))
        figures.append(_animate("player", i + 1, kit, paths[i, :, 0], paths[i, :, 1], layout, rng))
    ref_kit = _look(skins[players], referee_shirt, (16, 16, 16), (16, 16, 16))
    figures.append(_animate("referee", None, ref_kit, paths[players, :, 0], paths[players, :, 1], layout, rng))
    figures.extend(_staff(rng, pan, layout, skins[players + 1 :]))
    figures.extend(_fans(rng, pan, layout, skins[players + 1 + N_STAFF :]))
    return figures


def _entering_x(pan: np.ndarray, width: int, order: int) -> np.ndarray:
    """World x of a player who starts just beyond the right edge and jogs in at a player's top speed (1.2% of the
    view per frame: in view after ~3 frames, later entrants ~4 frames apart), stopping at 80% of the view."""
    t = np.arange(pan.size)
    return pan + np.maximum(0.8 * width, (1.06 + 0.05 * order) * width - 0.012 * width * t)


def _staff(rng: np.random.Generator, pan: np.ndarray, layout: _Layout, skins: list) -> list[_Figure]:
    """Slow walkers just below the touchline that do not follow the camera (they may leave the view)."""
    frames, w, h = pan.size, layout.width, layout.height
    start_x = pan[0] + rng.uniform(0.05, 0.95, N_STAFF) * w
    start_y = layout.touchline + rng.uniform(0.02, 0.05, N_STAFF) * h
    start = np.stack([start_x, start_y], axis=1)
    lo = np.stack([start_x - 0.06 * w, start_y - 0.01 * h], axis=1)[:, None, :].repeat(frames, axis=1)
    hi = np.stack([start_x + 0.06 * w, start_y + 0.01 * h], axis=1)[:, None, :].repeat(frames, axis=1)
    paths = _walk(rng, start, lo, hi, 0.003 * w, frames)
    looks = [_look(skin, STAFF_TOP, STAFF_TROUSERS, STAFF_TROUSERS) for skin in skins[:N_STAFF]]
    return [_animate("staff", None, look, p[:, 0], p[:, 1], layout, rng) for look, p in zip(looks, paths, strict=True)]


def _fans(rng: np.random.Generator, pan: np.ndarray, layout: _Layout, skins: list) -> list[_Figure]:
    """Standing fans in the crowd band, some jumping with raised arms; the board hides them below the waist."""
    frames, w, h = pan.size, layout.width, layout.height
    fans = []
    t = np.arange(frames)
    for i in range(N_CROWD_FIGURES):
        # spread over the whole panorama so some are in view whatever the pan direction
        x = np.full(frames, pan.min() + (i + rng.uniform(0.2, 0.8)) / N_CROWD_FIGURES * (pan.max() - pan.min() + w))
        jump = 0.015 * h * np.abs(np.sin(t * rng.uniform(0.3, 0.6) + rng.uniform(0, math.pi)))
        y = layout.board_top + 0.05 * h - jump
        shirt = tuple(int(c) for c in rng.integers(20, 256, 3))
        height = np.full(frames, 0.13 * h * rng.uniform(0.9, 1.1))
        phase = rng.uniform(0, 2 * math.pi) + 0.4 * t
        fans.append(
            _Figure(
                "crowd",
                None,
                _look(skins[i], shirt, (40, 40, 60), (40, 40, 60)),
                x,
                y,
                height,
                phase,
                np.full(frames, 0.15),
                np.ones(frames),
                arms_up=bool(rng.random() < 0.5),
                behind_board=True,
            )
        )
    return fans


# ---------------------------------------------------------------------------------------------------------------
# backgrounds: panoramas wider than the view, sliced at the camera position


@dataclass(frozen=True)
class _Backdrop:
    crowd: np.ndarray  # (board_top, pano_w, 3)
    board: np.ndarray  # (pitch_top - board_top, period, 3), repeats sideways
    pitch: np.ndarray  # (height - pitch_top, pano_w, 3)
    board_scroll: float  # px per frame the adverts move on their own


def _make_backdrop(rng: np.random.Generator, pan: np.ndarray, layout: _Layout) -> _Backdrop:
    pano_w = int(pan.max()) + layout.width + 1
    return _Backdrop(
        crowd=_crowd_band(rng, pano_w, layout),
        board=_board(rng, layout),
        pitch=_pitch(rng, pano_w, layout),
        board_scroll=float(rng.uniform(2.0, 5.0) * rng.choice((-1.0, 1.0)) * layout.width / 640),
    )


def _crowd_band(rng: np.random.Generator, pano_w: int, layout: _Layout) -> np.ndarray:
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


def _board(rng: np.random.Generator, layout: _Layout) -> np.ndarray:
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


def _pitch(rng: np.random.Generator, pano_w: int, layout: _Layout) -> np.ndarray:
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


def _background(backdrop: _Backdrop, layout: _Layout, pan: int, t: int) -> np.ndarray:
    w = layout.width
    board_cols = (np.arange(w) + pan + round(backdrop.board_scroll * t)) % backdrop.board.shape[1]
    return np.concatenate(
        [backdrop.crowd[:, pan : pan + w], backdrop.board[:, board_cols], backdrop.pitch[:, pan : pan + w]], axis=0
    )


# ---------------------------------------------------------------------------------------------------------------
# painting


def _fixed(x: float, y: float) -> tuple[int, int]:
    return (round(x * ONE), round(y * ONE))


def _limb(joint: tuple[float, float], length: float, angle: float) -> tuple[float, float]:
    """End of a limb of this length at this angle from straight down (positive = towards +x)."""
    return (joint[0] + length * math.sin(angle), joint[1] + length * math.cos(angle))


_Joints = tuple[tuple[float, float], tuple[float, float], tuple[float, float]]  # e.g. hip, knee, foot


def _lowered(joints: _Joints, dy: float) -> _Joints:
    (ax, ay), (bx, by), (cx, cy) = joints
    return ((ax, ay + dy), (bx, by + dy), (cx, cy + dy))


def _paint_person(layer: np.ndarray, base: int, fig: _Figure, sx: float, t: int) -> None:
    """Paint one figure's parts into the integer layer as base + part (LINE_8: hard, exact edges).

    Proportions (fractions of the height, from the top): head 0-0.13, shoulders 0.16, hips 0.47, knees 0.75,
    feet 1.0; the body is lifted so the lower foot touches row y.
    """
    h, facing, swing, phase = float(fig.height[t]), float(fig.facing[t]), float(fig.swing[t]), float(fig.phase[t])
    top = float(fig.y[t]) - h
    hip_y = top + 0.5 * h
    legs: list[_Joints] = []
    for side in (0, 1):
        p = phase + side * math.pi
        thigh = facing * swing * math.sin(p)
        shin = thigh - facing * swing * (0.2 + 1.1 * max(0.0, math.cos(p)))  # knee bends back on the lift
        hip = (sx + (side - 0.5) * 0.09 * h, hip_y)
        knee = _limb(hip, 0.25 * h, thigh)
        legs.append((hip, knee, _limb(knee, 0.25 * h, shin)))
    lift = float(fig.y[t]) - max(foot[1] for _, _, foot in legs)
    legs = [_lowered(joints, lift) for joints in legs]
    top += lift
    lean = facing * 0.06 * h * swing

    arms: list[_Joints] = []
    for side in (0, 1):
        shoulder = (sx + lean + (side - 0.5) * 0.22 * h, top + 0.17 * h)
        if fig.arms_up:
            upper = (side - 0.5) * 2 * (math.pi - 0.35 - 0.15 * math.sin(phase))
            fore = upper * 1.05
        else:
            upper = -facing * 0.9 * swing * math.sin(phase + side * math.pi)
            fore = upper + facing * 0.7
        elbow = _limb(shoulder, 0.17 * h, upper)
        arms.append((shoulder, elbow, _limb(elbow, 0.16 * h, fore)))

    def limb(joints: _Joints, upper_part: int, lower_part: int, upper_w: float, lower_w: float) -> None:
        a, b, c = (_fixed(*j) for j in joints)
        cv2.line(layer, a, b, base + upper_part, max(1, round(upper_w * h)), cv2.LINE_8, SHIFT)
        cv2.line(layer, b, c, base + lower_part, max(1, round(lower_w * h)), cv2.LINE_8, SHIFT)

    back, front = (0, 1) if facing > 0 else (1, 0)
    limb(legs[back], THIGH, SHIN, 0.075, 0.06)
    limb(arms[back], UPPER_ARM, FOREARM, 0.05, 0.042)
    torso = [
        (sx + lean - 0.11 * h, top + 0.14 * h),
        (sx + lean + 0.11 * h, top + 0.14 * h),
        (sx + 0.085 * h, top + 0.48 * h),
        (sx - 0.085 * h, top + 0.48 * h),
    ]
    shorts = [
        (sx - 0.09 * h, top + 0.45 * h),
        (sx + 0.09 * h, top + 0.45 * h),
        (sx + 0.1 * h, top + 0.58 * h),
        (sx - 0.1 * h, top + 0.58 * h),
    ]
    cv2.fillPoly(layer, [np.array([_fixed(*p) for p in torso], np.int32)], base + TORSO, cv2.LINE_8, SHIFT)
    cv2.fillPoly(layer, [np.array([_fixed(*p) for p in shorts], np.int32)], base + SHORTS, cv2.LINE_8, SHIFT)
    head = _fixed(sx + lean, top + 0.065 * h)
    cv2.circle(layer, head, max(ONE, round(0.065 * h * ONE)), base + HEAD, -1, cv2.LINE_8, SHIFT)
    limb(legs[front], THIGH, SHIN, 0.075, 0.06)
    limb(arms[front], UPPER_ARM, FOREARM, 0.05, 0.042)


def _paint_layer(figures: list[_Figure], pan: int, t: int, layout: _Layout) -> np.ndarray:
    """Code layer of figure_index * PART_SLOTS + part (figure_index = list position + 1), 0 = background.

    Fans first (then cut by the board), the rest far to near: lower feet = nearer = painted later, on top.
    """
    layer: np.ndarray = np.zeros((layout.height, layout.width), dtype=_code_dtype(len(figures)))
    order = sorted(range(len(figures)), key=lambda i: (not figures[i].behind_board, figures[i].y[t], i))
    board_cut = False
    for i in order:
        fig = figures[i]
        if not fig.behind_board and not board_cut:
            layer[layout.board_top :] = 0  # only fans are painted so far: the board hides their lower bodies
            board_cut = True
        _paint_person(layer, (i + 1) * PART_SLOTS, fig, float(fig.x[t]) - pan, t)
    if not board_cut:
        layer[layout.board_top :] = 0
    return layer


def _code_dtype(figure_count: int) -> type:
    # uint8 (what cv2.LUT needs) holds up to 31 figures: 20 players + referee + staff + fans fit
    return np.uint8 if (figure_count + 1) * PART_SLOTS <= 256 else np.uint16


def _shadows(frame: np.ndarray, figures: list[_Figure], pan: int, t: int, layout: _Layout) -> np.ndarray:
    """Darken an ellipse under each figure on the pitch (background only: figures are painted over it)."""
    mask = np.zeros(frame.shape[:2], dtype=np.uint8)
    for fig in figures:
        if fig.behind_board:
            continue
        h = float(fig.height[t])
        centre = _fixed(float(fig.x[t]) - pan + 0.08 * h, float(fig.y[t]))
        axes = _fixed(0.22 * h, 0.035 * h)
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1, cv2.LINE_8, SHIFT)
    mask[: layout.pitch_top] = 0
    return cv2.copyTo(cv2.convertScaleAbs(frame, alpha=0.68), mask, frame)


def _screen_velocity(fig: _Figure, pans: np.ndarray, t: int) -> tuple[float, float]:
    before, after = max(t - 1, 0), min(t + 1, pans.size - 1)
    if after == before:
        return 0.0, 0.0
    dx = (fig.x[after] - pans[after]) - (fig.x[before] - pans[before])
    return float(dx) / (after - before), float(fig.y[after] - fig.y[before]) / (after - before)


def _motion_blur(
    frame: np.ndarray, ids: np.ndarray, boxes: list[Box4 | None], figures: list[_Figure], pans: np.ndarray, t: int
) -> np.ndarray:
    """Mild blur, documented in the module docstring: camera-pan blur everywhere, more on fast figures."""
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


def _colour_lut(figures: list[_Figure]) -> np.ndarray:
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


@dataclass(frozen=True)
class _RenderedFrame:
    rgb: np.ndarray  # HxWx3 uint8, what the camera saw
    ids: np.ndarray  # HxW, figure index (list position + 1) of each pixel, 0 background
    boxes: list[Box4 | None]  # per figure, bbox_from_mask of its visible pixels; None when none are visible


def _render(
    rng: np.random.Generator, figures: list[_Figure], backdrop: _Backdrop, pans: np.ndarray, layout: _Layout
) -> Iterator[_RenderedFrame]:
    lut = _colour_lut(figures)
    noise_offset = np.full((layout.height, layout.width, 3), NOISE_LEVELS // 2, dtype=np.uint8)
    for t, pan in enumerate(int(p) for p in pans):
        frame = _background(backdrop, layout, pan, t)
        frame = _shadows(frame, figures, pan, t, layout)
        codes = _paint_layer(figures, pan, t, layout)
        frame = _paint_colours(frame, codes, lut)
        ids = codes // PART_SLOTS
        boxes = [bbox_from_mask(ids == i + 1) for i in range(len(figures))]
        frame = _motion_blur(frame, ids, boxes, figures, pans, t)
        # saturating uint8 arithmetic: fast, no int16 round trip
        frame = cv2.subtract(cv2.add(frame, rng.integers(0, NOISE_LEVELS, frame.shape, dtype=np.uint8)), noise_offset)
        yield _RenderedFrame(frame, ids, boxes)


# ---------------------------------------------------------------------------------------------------------------
# ground truth from the id layer


def _frame_figures(boxes: list[Box4 | None], figures: list[_Figure]) -> list[dict[str, Any]]:
    """meta entries of the figures with visible pixels (boxes are bbox_from_mask of exactly those pixels)."""
    return [
        {"object_id": fig.object_id, "role": fig.role, "box": list(box)}
        for fig, box in zip(figures, boxes, strict=True)
        if box is not None
    ]


def _player_labels(ids: np.ndarray, players: int) -> np.ndarray:
    """Players keep their figure index as object id (players are figures 1..K); everyone else is background."""
    return np.where(ids <= players, ids, 0).astype(np.uint8)


def _deepest_point(mask: np.ndarray) -> tuple[int, int]:
    """(x, y) of the mask pixel farthest from the background and from the frame edge (first in raster order)."""
    box = bbox_from_mask(mask)
    assert box is not None
    x0, y0, x1, y1 = box
    crop = np.pad(mask[y0:y1, x0:x1].astype(np.uint8), 1)  # the frame edge counts as background
    distance = cv2.distanceTransform(crop, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    row, col = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return x0 + int(col) - 1, y0 + int(row) - 1


# ---------------------------------------------------------------------------------------------------------------
# writing


_FRAME_FILE = re.compile(r"^\d{5}\.(jpg|png)$")


def _fresh_folder(folder: Path) -> Path:
    """Create the folder; drop frame files a previous, longer run left there (they would join this sequence)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        if stale.is_file() and _FRAME_FILE.match(stale.name):
            stale.unlink()
    return folder


def _write_jpeg(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise SyntheticError(f"Could not write the frame {path}.")


def _generate_sequence(
    out: Path,
    name: str,
    rng: np.random.Generator,
    frames: int,
    players: int,
    layout: _Layout,
    fps: float,
    entering: int = 0,
) -> dict[str, Any]:
    pans = _camera_pan(rng, frames, layout.width)
    figures = _make_figures(rng, players, pans, layout, entering)
    backdrop = _make_backdrop(rng, pans, layout)
    jpeg_dir = _fresh_folder(out / "JPEGImages" / name)
    label_dir = _fresh_folder(out / "Annotations" / name)
    prompts: dict[int, Prompt] = {}
    frame_meta = []
    # one encoder thread: x264's output depends on its thread count, and a seed must give the same clip everywhere
    with VideoWriter(out / "videos" / f"{name}.mp4", fps=fps, threads=1, preset="medium") as writer:
        for t, rendered in enumerate(_render(rng, figures, backdrop, pans, layout)):
            labels = _player_labels(rendered.ids, players)
            _write_jpeg(jpeg_dir / f"{t:05d}.jpg", rendered.rgb)
            write_palette_png(label_dir / f"{t:05d}.png", labels)
            writer.write(rendered.rgb)
            frame_meta.append({"frame": t, "figures": _frame_figures(rendered.boxes, figures)})
            for object_id in range(1, players + 1):
                if object_id not in prompts and (mask := labels == object_id).any():
                    x, y = _deepest_point(mask)
                    prompts[object_id] = Prompt(frame=t, object_id=object_id, points=(Point(x, y, True),))
    PromptSet([prompts[k] for k in sorted(prompts)]).save(out / "prompts" / f"{name}.json")
    return {"width": layout.width, "height": layout.height, "fps": fps, "frames": frame_meta}


def _meta_json(meta: dict[str, Any]) -> str:
    """JSON with one line per frame: readable and diffable, unlike one huge line or one line per number."""
    blocks = []
    for name, sequence in meta["sequences"].items():
        header = json.dumps({key: value for key, value in sequence.items() if key != "frames"})[:-1]
        frames = ",\n".join("   " + json.dumps(frame) for frame in sequence["frames"])
        blocks.append(f'  {json.dumps(name)}: {header}, "frames": [\n{frames}\n  ]}}')
    return '{"sequences": {\n' + ",\n".join(blocks) + "\n}}\n"


def _check_arguments(sequences: int, frames: int, players: int, width: int, height: int, fps: float, seed: int) -> None:
    whole = {
        "sequences": (sequences, 1, MAX_SEQUENCES),
        "frames": (frames, 1, MAX_FRAMES),
        "players": (players, 1, MAX_PLAYERS),
        "width": (width, MIN_SIDE, MAX_SIDE),
        "height": (height, MIN_SIDE, MAX_SIDE),
    }
    for name, (value, low, high) in whole.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise SyntheticError(f"{name} must be a whole number from {low} to {high}, got {value!r}.")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 240 or math.isnan(fps):
        raise SyntheticError(f"fps must be a number above 0 and at most 240, got {fps!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SyntheticError(f"seed must be a whole number >= 0, got {seed!r}.")


def generate_dataset(
    out_dir: str | Path,
    sequences: int = 1,
    frames: int = 24,
    players: int = 3,
    width: int = 640,
    height: int = 360,
    fps: float = 24.0,
    seed: int = 0,
    entering: int = 0,
) -> dict[str, Any]:
    """Write sequences seq000, seq001... in the DAVIS layout under out_dir (see the module docstring).

    Returns the meta written to out_dir/meta.json: {"sequences": {name: {"width", "height", "fps", "frames":
    [{"frame": t, "figures": [{"object_id": id or None, "role": ..., "box": [x0, y0, x1, y1]}]}]}}}.
    """
    _check_arguments(sequences, frames, players, width, height, fps, seed)
    crossing = 3 if players >= 3 else players  # players 1..3 keep their paths (the deliberate crossing)
    if isinstance(entering, bool) or not isinstance(entering, (int, np.integer)) or not 0 <= entering <= players - crossing:
        raise SyntheticError(
            f"entering must be a whole number from 0 to {max(players - crossing, 0)} (players minus the first "
            f"{crossing}, who cross each other), got {entering!r}."
        )
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SyntheticError(f"Cannot write a dataset to {out}: it is a file, not a folder.")
    for sub in ("JPEGImages", "Annotations", "videos", "prompts"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    layout = _Layout.of(int(width), int(height))
    meta: dict[str, Any] = {"sequences": {}}
    for index in range(sequences):
        name = f"seq{index:03d}"
        rng = np.random.default_rng([int(seed), index])  # each sequence on its own stream: adding one changes none
        meta["sequences"][name] = _generate_sequence(
            out, name, rng, int(frames), int(players), layout, float(fps), int(entering)
        )
    (out / "meta.json").write_text(_meta_json(meta), encoding="utf-8")
    return meta


# ---------------------------------------------------------------------------------------------------------------
# command line


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m playerseg.synthetic",
        description="Write procedural pitch clips with exact player masks, boxes and prompts (DAVIS layout).",
    )
    parser.add_argument("out", help="output folder")
    parser.add_argument("--sequences", type=int, default=1, help="number of sequences (seq000, seq001...)")
    parser.add_argument("--frames", type=int, default=24, help="frames per sequence")
    parser.add_argument("--players", type=int, default=3, help=f"players per sequence, 1..{MAX_PLAYERS}")
    parser.add_argument("--width", type=int, default=640, help="frame width in pixels")
    parser.add_argument("--height", type=int, default=360, help="frame height in pixels")
    parser.add_argument("--fps", type=float, default=24.0, help="frame rate of the videos")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same data)")
    parser.add_argument("--entering", type=int, default=0, help="how many of the players run into view after the start")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        generate_dataset(
            args.out, args.sequences, args.frames, args.players, args.width, args.height, args.fps, args.seed,
            args.entering,
        )
    except SyntheticError as error:
        parser.error(str(error))  # exits 2 with the message on stderr
    except (OSError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    print(
        f"Wrote {args.sequences} sequence(s) of {args.frames} frames, {args.players} players, "
        f"{args.width}x{args.height} to {Path(args.out).resolve()}"
    )
    return 0

