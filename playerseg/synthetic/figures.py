"""The people of a clip: players of two teams, a referee, staff by the touchline and standing fans in the crowd band;
their looks (a colour per body part) and their per-frame pose along their paths (running cycle, swing, facing)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from playerseg.synthetic.layout import Layout
from playerseg.synthetic.paths import crossing_paths, entering_x, walk

ROLES = ("player", "referee", "crowd", "staff")
N_STAFF = 2
N_CROWD_FIGURES = 5

# Parts of a figure: the integer layer holds figure_index * PART_SLOTS + part, so one layer gives both the exact
# figure id (code // PART_SLOTS) and the colour of each pixel (a lookup by code).
PART_SLOTS = 8
HEAD, TORSO, SHORTS, THIGH, SHIN, UPPER_ARM, FOREARM = range(1, 8)

# Colours (RGB). The green team is deliberately close to the two grass stripes (backdrop.GRASS).
GREEN_TEAM = (64, 138, 66)
OTHER_TEAMS = ((226, 226, 232), (196, 32, 40), (34, 62, 168), (236, 128, 24), (118, 34, 120))
REFEREE_SHIRTS = ((248, 226, 28), (236, 84, 178), (24, 24, 24))
STAFF_TOP = (208, 238, 40)  # hi-vis bib
STAFF_TROUSERS = (30, 32, 58)
SKINS = ((236, 190, 160), (198, 140, 100), (140, 92, 60), (92, 60, 40))


@dataclass
class Figure:
    """One person: look and per-frame pose. x is in panorama (world) pixels, everything else in screen pixels."""

    role: str  # one of ROLES
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
    layout: Layout,
    rng: np.random.Generator,
) -> Figure:
    """Pose from the path: one running cycle per ~1.1 body heights travelled, wider swing when faster."""
    height = layout.figure_height(y) * rng.uniform(0.93, 1.07)
    step = np.hypot(np.diff(x, prepend=x[:1]), np.diff(y, prepend=y[:1]))
    phase = rng.uniform(0, 2 * math.pi) + np.cumsum(2 * math.pi * step / (1.1 * height))
    swing = 0.12 + np.clip(5.0 * step / height, 0.0, 0.5)
    vx = np.gradient(x) if x.size > 1 else np.zeros(1)
    facing = np.where(vx < 0, -1.0, 1.0)
    return Figure(role, object_id, colours, x, y, height, phase, swing, facing)


def make_figures(
    rng: np.random.Generator, players: int, pan: np.ndarray, layout: Layout, entering: int = 0
) -> list[Figure]:
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
    paths = walk(rng, start, lo, hi, 0.012 * w, frames)
    paths[:, :, 1] = np.clip(paths[:, :, 1], layout.pitch_top + 0.12 * h, 1.01 * h)

    # the deliberate crossing: players 1 and 3 (same green kit), else 1 and 2, else player 1 and the referee
    first, second = 0, (2 if players >= 3 else 1)
    far_x, far_y, near_x, near_y = crossing_paths(rng, pan, layout)
    paths[first, :, 0], paths[first, :, 1] = far_x, far_y
    paths[second, :, 0], paths[second, :, 1] = near_x, near_y
    for i in range(players - entering, players):
        paths[i, :, 0] = entering_x(pan, layout.width, i - (players - entering))

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


def _staff(rng: np.random.Generator, pan: np.ndarray, layout: Layout, skins: list) -> list[Figure]:
    """Slow walkers just below the touchline that do not follow the camera (they may leave the view)."""
    frames, w, h = pan.size, layout.width, layout.height
    start_x = pan[0] + rng.uniform(0.05, 0.95, N_STAFF) * w
    start_y = layout.touchline + rng.uniform(0.02, 0.05, N_STAFF) * h
    start = np.stack([start_x, start_y], axis=1)
    lo = np.stack([start_x - 0.06 * w, start_y - 0.01 * h], axis=1)[:, None, :].repeat(frames, axis=1)
    hi = np.stack([start_x + 0.06 * w, start_y + 0.01 * h], axis=1)[:, None, :].repeat(frames, axis=1)
    paths = walk(rng, start, lo, hi, 0.003 * w, frames)
    looks = [_look(skin, STAFF_TOP, STAFF_TROUSERS, STAFF_TROUSERS) for skin in skins[:N_STAFF]]
    return [_animate("staff", None, look, p[:, 0], p[:, 1], layout, rng) for look, p in zip(looks, paths, strict=True)]


def _fans(rng: np.random.Generator, pan: np.ndarray, layout: Layout, skins: list) -> list[Figure]:
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
            Figure(
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
