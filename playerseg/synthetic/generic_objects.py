"""The objects of a generic clip (ids 1..K): people-like figures in random colours (10%-45% of the frame height) and
shapes (2%-25% of it; see shapes) in many colours, some two- or three-coloured, some close to the background's
colour; where each one is on screen every frame (camera applied), its size, rotation and depth (draw order), and how
it paints itself into the integer code layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from playerseg.synthetic.figures import FOREARM, HEAD, PART_SLOTS, SHIN, SHORTS, SKINS, THIGH, TORSO, UPPER_ARM, Figure
from playerseg.synthetic.generic_motion import Camera, crossing, entering, wander
from playerseg.synthetic.generic_scene import Scene, random_palette
from playerseg.synthetic.painting import paint_person
from playerseg.synthetic.shapes import Shape, paint_shape, random_shape

PERSON_SHARE = 0.35  # of the objects, about this many are people
PERSON_HEIGHT = (0.10, 0.45)  # fractions of the frame height
SHAPE_EXTENT = (0.02, 0.25)  # a shape's diameter as a fraction of the frame height (uniform in its square root)
PERSON_REACH = 0.4  # a person's arms and legs stay within this fraction of its height from its centre line


@dataclass(frozen=True)
class GenericObject:
    """One object: look and per-frame screen pose. role is always "object" (meta.json's role of generic objects)."""

    object_id: int
    kind: str  # "person" or one of shapes.KINDS
    colours: np.ndarray  # (PART_SLOTS, 3) uint8, the colour of each part code
    x: np.ndarray  # (F,) screen centre
    y: np.ndarray  # (F,)
    size: np.ndarray  # (F,) screen pixels: a person's height, a shape's radius
    angle: np.ndarray  # (F,) radians (shapes only)
    depth: np.ndarray  # (F,) larger = farther away: painted earlier, hidden by nearer objects
    shape: Shape | None = None
    person: Figure | None = None
    role: str = "object"

    def paint(self, layer: np.ndarray, t: int) -> None:
        """Paint frame t's silhouette into the code layer as object_id * PART_SLOTS + part."""
        base = self.object_id * PART_SLOTS
        if self.person is not None:
            paint_person(layer, base, self.person, float(self.x[t]), t)
        elif self.shape is not None:
            paint_shape(layer, base, self.shape, float(self.x[t]), float(self.y[t]), float(self.size[t]), self.angle[t])


def _colour(rng: np.random.Generator, scene: Scene, world_point: np.ndarray) -> np.ndarray:
    """A colour: a quarter of the time close to the background where the object starts, else a background palette
    colour nudged, else a new colour from a random palette (dark, bright, muted, vivid...)."""
    draw = rng.random()
    if draw < 0.25:
        row = int(np.clip(world_point[1], 0, scene.world.shape[0] - 1))
        col = int(np.clip(world_point[0], 0, scene.world.shape[1] - 1))
        colour = scene.world[row, col].astype(np.float64) + rng.uniform(-25, 25, 3)
    elif draw < 0.45:
        colour = scene.palette[int(rng.integers(0, len(scene.palette)))] + rng.uniform(-45, 45, 3)
    else:
        colour = random_palette(rng, 1)[0]
    return np.clip(np.round(colour), 0, 255).astype(np.uint8)


def _look(rng: np.random.Generator, scene: Scene, world_point: np.ndarray, person: bool) -> np.ndarray:
    """Colours per part code: a person's skin, top, shorts and socks; a shape's three pattern colours (the second
    and third either far from the first or a shade of it)."""
    colours = np.zeros((PART_SLOTS, 3), dtype=np.uint8)
    if person:
        skin = SKINS[int(rng.integers(0, len(SKINS)))] if rng.random() < 0.6 else _colour(rng, scene, world_point)
        colours[HEAD] = colours[THIGH] = colours[FOREARM] = skin
        colours[TORSO] = colours[UPPER_ARM] = _colour(rng, scene, world_point)
        colours[SHORTS] = _colour(rng, scene, world_point)
        colours[SHIN] = _colour(rng, scene, world_point)
        return colours
    colours[1] = _colour(rng, scene, world_point)
    for part in (2, 3):
        if rng.random() < 0.5:
            colours[part] = _colour(rng, scene, world_point)
        else:
            colours[part] = np.clip(colours[1].astype(np.int64) + rng.integers(-60, 61, 3), 0, 255)
    return colours


def _person(object_id: int, colours: np.ndarray, x: np.ndarray, y: np.ndarray, height: np.ndarray, rng) -> Figure:
    """A person whose centre is (x, y) on screen: feet at y + height / 2, running as fast as it moves."""
    step = np.hypot(np.diff(x, prepend=x[:1]), np.diff(y, prepend=y[:1]))
    phase = rng.uniform(0, 2 * math.pi) + np.cumsum(2 * math.pi * step / (1.1 * height))
    swing = 0.12 + np.clip(5.0 * step / height, 0.0, 0.5)
    facing = np.where(np.gradient(x) < 0, -1.0, 1.0) if x.size > 1 else np.ones(1)
    arms_up = bool(rng.random() < 0.15)
    return Figure("object", object_id, colours, x, y + height / 2, height, phase, swing, facing, arms_up=arms_up)


def _sizes(rng: np.random.Generator, people: np.ndarray, frames: int, height: int) -> np.ndarray:
    """(K, F) world sizes: a person's height or a shape's radius, some growing or shrinking slowly."""
    person = rng.uniform(*PERSON_HEIGHT, people.size) * height
    shape = rng.uniform(*np.sqrt(SHAPE_EXTENT), people.size) ** 2 * height / 2  # more small shapes than large
    base = np.where(people, person, np.maximum(shape, 2.0))
    growth = np.where(rng.random(people.size) < 0.4, rng.uniform(-0.02, 0.02, people.size), 0.0)
    scale = np.clip(np.exp(np.outer(growth, np.arange(frames))), 0.6, 1.6)
    return base[:, None] * scale


def _paths(
    rng: np.random.Generator, camera: Camera, reach: np.ndarray, count: int, arrivals: int
) -> tuple[np.ndarray, np.ndarray]:
    """Screen centres (K, F) x and y: own paths, objects 1 and 2 crossing, the last `arrivals` coming in."""
    width, height = camera.width, camera.height
    start = rng.uniform((0.08, 0.08), (0.92, 0.92), (count, 2)) * (width, height)
    paths = wander(rng, camera, start, rng.uniform(0.0, 0.02, count) * width)
    if count >= 2:
        paths[:2] = crossing(rng, camera)
    for order, i in enumerate(range(count - arrivals, count)):
        paths[i] = entering(camera, paths[i], float(reach[i]), order)
    screen = camera.to_screen(paths)
    return screen[..., 0], screen[..., 1]


def make_objects(
    rng: np.random.Generator, camera: Camera, scene: Scene, count: int, arrivals: int = 0
) -> list[GenericObject]:
    """Objects 1..count, people and shapes mixed; the last `arrivals` come into view after the start."""
    frames, height = camera.x.size, camera.height
    people = rng.random(count) < PERSON_SHARE
    sizes = _sizes(rng, people, frames, height) * camera.zoom[None, :]
    reach = np.where(people, PERSON_REACH, 1.0) * sizes.max(axis=1)
    xs, ys = _paths(rng, camera, reach, count, arrivals)
    spin = np.where(rng.random(count) < 0.5, rng.uniform(-0.08, 0.08, count), 0.0)
    angles = rng.uniform(0, 2 * math.pi, count)[:, None] + np.outer(spin, np.arange(frames))
    drift = np.where(rng.random(count) < 0.3, rng.uniform(-0.02, 0.02, count), 0.0)
    depths = rng.permutation(count)[:, None] + np.outer(drift, np.arange(frames))
    world_start = camera.to_world(np.stack([xs, ys], axis=-1))[:, 0]
    objects = []
    for i in range(count):
        colours = _look(rng, scene, world_start[i], bool(people[i]))
        pose = (xs[i], ys[i], sizes[i], angles[i], depths[i])
        if people[i]:
            figure = _person(i + 1, colours, xs[i], ys[i], sizes[i], rng)
            objects.append(GenericObject(i + 1, "person", colours, *pose, person=figure))
        else:
            shape = random_shape(rng)
            objects.append(GenericObject(i + 1, shape.kind, colours, *pose, shape=shape))
    return objects
