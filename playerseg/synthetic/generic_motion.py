"""How things move in a generic clip: the camera (a pan in x and y over the world, sometimes a slow zoom), each
object's own smooth path in world pixels (a random velocity, small accelerations, steered back when it strays far
from the view, so objects may leave and come back), the deliberate crossing of two objects at mid-clip, and objects
that come into view after the start. Paths are arrays, one row per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from playerseg.synthetic.generic_scene import WORLD_SCALE

ZOOM_RANGE = (0.85, 1.25)  # screen pixels per world pixel; the world holds the widest view with room to pan


@dataclass(frozen=True)
class Camera:
    """Per frame, the world point at the centre of the view and the zoom (screen px per world px)."""

    x: np.ndarray  # (F,)
    y: np.ndarray  # (F,)
    zoom: np.ndarray  # (F,)
    width: int
    height: int

    def to_screen(self, world: np.ndarray) -> np.ndarray:
        """(..., F, 2) world points -> screen pixels, frame by frame."""
        centre = np.stack([self.x, self.y], axis=-1)
        return (world - centre) * self.zoom[:, None] + (self.width / 2, self.height / 2)

    def to_world(self, screen: np.ndarray) -> np.ndarray:
        """(..., F, 2) screen pixels -> world points, frame by frame."""
        centre = np.stack([self.x, self.y], axis=-1)
        return (screen - (self.width / 2, self.height / 2)) / self.zoom[:, None] + centre


def _fold(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Reflect values into [low, high] (a pan that reaches the world's edge turns back)."""
    span = high - low
    phase = np.mod(values - low, 2 * span)
    return low + span - np.abs(phase - span)


def camera_path(rng: np.random.Generator, frames: int, width: int, height: int) -> Camera:
    """A steady pan in a random direction (0.5-2.5 px a frame at 640 px), in 40% of clips a slow zoom in or out."""
    speed = rng.uniform(0.5, 2.5) * width / 640
    direction = rng.uniform(0, 2 * np.pi)
    t = np.arange(frames, dtype=np.float64)
    rate = rng.uniform(-0.008, 0.008) if rng.random() < 0.4 else 0.0
    zoom = np.clip(rng.uniform(0.92, 1.12) * np.exp(rate * t), *ZOOM_RANGE)
    half_w, half_h = width / 2 / ZOOM_RANGE[0], height / 2 / ZOOM_RANGE[0]  # half the widest view
    world_w, world_h = WORLD_SCALE * width, WORLD_SCALE * height
    start = rng.uniform((half_w, half_h), (world_w - half_w, world_h - half_h))
    x = _fold(start[0] + speed * np.cos(direction) * t, half_w, world_w - half_w)
    y = _fold(start[1] + speed * np.sin(direction) * t, half_h, world_h - half_h)
    return Camera(x, y, zoom, width, height)


def wander(rng: np.random.Generator, camera: Camera, start: np.ndarray, top_speed: np.ndarray) -> np.ndarray:
    """Smooth world paths (n, F, 2) from screen points start (n, 2) at frame 0, each at its own top speed (n,).

    A random initial velocity, small random accelerations with a little damping, and a push back towards the view
    when an object is more than 15% of the view beyond its edge.
    """
    count, frames = start.shape[0], camera.x.size
    position = camera.to_world(np.broadcast_to(start[:, None, :], (count, frames, 2)))[:, 0].copy()
    heading = rng.uniform(0, 2 * np.pi, count)
    velocity = (
        np.stack([np.cos(heading), np.sin(heading)], axis=1) * (top_speed * rng.uniform(0.2, 1.0, count))[:, None]
    )
    margin = 0.15 * np.array([camera.width, camera.height])
    paths = np.empty((count, frames, 2))
    for t in range(frames):
        paths[:, t] = position
        screen = (position - (camera.x[t], camera.y[t])) * camera.zoom[t] + (camera.width / 2, camera.height / 2)
        outside = np.maximum(-margin - screen, 0) - np.maximum(screen - (camera.width, camera.height) - margin, 0)
        accel = rng.normal(0.0, 1.0, (count, 2)) * (0.15 * top_speed + 0.05)[:, None]
        velocity = 0.97 * velocity + accel + 0.04 * outside / camera.zoom[t]
        fastest = np.maximum(np.hypot(velocity[:, 0], velocity[:, 1]) / (1.5 * top_speed + 0.5), 1.0)
        velocity /= fastest[:, None]
        position = position + velocity
    return paths


def crossing(rng: np.random.Generator, camera: Camera) -> np.ndarray:
    """Two world paths (2, F, 2) that meet at the same point at mid-clip, coming from different directions."""
    frames, width, height = camera.x.size, camera.width, camera.height
    meet = frames // 2
    point = camera.to_world(np.broadcast_to(rng.uniform((0.3, 0.3), (0.7, 0.7)) * (width, height), (frames, 2)))[meet]
    speed = min(0.03 * width, 0.2 * width / max(meet, 1)) * rng.uniform(0.6, 1.0, 2)
    first = rng.uniform(0, 2 * np.pi)
    headings = np.array([first, first + np.pi + rng.uniform(-0.5, 0.5) * np.pi])
    velocity = np.stack([np.cos(headings), np.sin(headings)], axis=1) * speed[:, None]
    t = np.arange(frames, dtype=np.float64) - meet
    wobble = rng.normal(0.0, 0.004 * width, (2, 1, 2)) * np.sin(t / 3.0)[None, :, None]
    return point + velocity[:, None, :] * t[None, :, None] + wobble


def entering(camera: Camera, path: np.ndarray, reach: float, order: int) -> np.ndarray:
    """The world path of an object (at most reach px from its centre on screen) that starts beyond the right edge,
    comes into view about 2 + 3 * order frames into the clip and stops at 80% of the view (its rows unchanged)."""
    width, frames = camera.width, camera.x.size
    arrival = min(2 + 3 * order, frames - 1)
    speed = max(0.012 * width, reach / 3)
    screen = camera.to_screen(path)
    # the left edge (centre - reach) crosses the right edge of the view half a frame before `arrival`
    screen[:, 0] = np.maximum(0.8 * width, width + reach + speed * (arrival - 0.5 - np.arange(frames)))
    return camera.to_world(screen)
