"""Where things move over a clip: the camera's pan over the panorama, smooth random walks, the deliberate crossing of
two players at mid-clip and the players who run into view from the right. Paths are arrays, one value per frame."""

from __future__ import annotations

import math

import numpy as np

from playerseg.synthetic.layout import Layout


def camera_pan(rng: np.random.Generator, frames: int, width: int) -> np.ndarray:
    """Left edge of the view in panorama pixels per frame (integer, so the background shifts by whole pixels)."""
    speed = rng.uniform(0.6, 1.6) * width / 640 * rng.choice((-1.0, 1.0))
    travel = abs(speed) * (frames - 1)
    start = 0.0 if speed > 0 else travel
    return np.round(start + speed * np.arange(frames)).astype(np.int64)


def walk(
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


def crossing_paths(
    rng: np.random.Generator, pan: np.ndarray, layout: Layout
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


def entering_x(pan: np.ndarray, width: int, order: int) -> np.ndarray:
    """World x of a player who starts just beyond the right edge and jogs in at a player's top speed (1.2% of the
    view per frame: in view after ~3 frames, later entrants ~4 frames apart), stopping at 80% of the view."""
    t = np.arange(pan.size)
    return pan + np.maximum(0.8 * width, (1.06 + 0.05 * order) * width - 0.012 * width * t)
