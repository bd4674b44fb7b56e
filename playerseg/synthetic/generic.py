"""Generic clips (dataset mode "generic"): footage that is not a pitch, for pretraining a model that segments
whatever is under the click. One sequence = a background scene (generic_scene), a camera that pans and sometimes
zooms (generic_motion), and objects 1..K, people and shapes (generic_objects), that move on their own paths, cross
and hide each other by depth. Rendered like the pitch clips: every object is painted first into the integer code
layer (exact ids; the hidden part belongs to whoever hides it), colours are looked up from it, then what is not
exact (a 1-3 px blur along the camera's motion, a 5 px blur along the motion of fast objects within 2 px of their
silhouette, +-2 levels of sensor noise).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from playerseg.io.masks import bbox_from_mask
from playerseg.synthetic.figures import PART_SLOTS
from playerseg.synthetic.generic_motion import Camera, camera_path
from playerseg.synthetic.generic_objects import GenericObject, make_objects
from playerseg.synthetic.generic_scene import Scene, make_scene, view
from playerseg.synthetic.render import FAST_PX_PER_FRAME, NOISE_LEVELS, Box4, RenderedFrame


@dataclass(frozen=True)
class GenericClip:
    scene: Scene
    camera: Camera
    objects: list[GenericObject]  # object i has id i + 1

    @property
    def frames(self) -> int:
        return int(self.camera.x.size)


def make_clip(
    rng: np.random.Generator, frames: int, objects: int, width: int, height: int, arrivals: int = 0
) -> GenericClip:
    """A sequence's scene, camera and objects, all drawn from rng (the last `arrivals` objects come in later)."""
    camera = camera_path(rng, frames, width, height)
    scene = make_scene(rng, width, height)
    return GenericClip(scene, camera, make_objects(rng, camera, scene, objects, arrivals))


def paint_codes(objects: list[GenericObject], t: int, height: int, width: int) -> np.ndarray:
    """Code layer of frame t (object_id * PART_SLOTS + part, 0 = background): far to near, by depth then id."""
    if (len(objects) + 1) * PART_SLOTS > 256:
        raise ValueError(f"{len(objects)} objects do not fit a uint8 code layer")
    layer = np.zeros((height, width), dtype=np.uint8)
    for obj in sorted(objects, key=lambda o: (-float(o.depth[t]), o.object_id)):
        obj.paint(layer, t)
    return layer


def render_clip(rng: np.random.Generator, clip: GenericClip) -> Iterator[RenderedFrame]:
    """The clip frame by frame: the picture, the id layer (object ids) and each object's visible box."""
    camera, objects = clip.camera, clip.objects
    width, height = camera.width, camera.height
    lut = np.zeros((256, 1, 3), dtype=np.uint8)
    for obj in objects:
        lut[obj.object_id * PART_SLOTS : (obj.object_id + 1) * PART_SLOTS, 0] = obj.colours
    noise_offset = np.full((height, width, 3), NOISE_LEVELS // 2, dtype=np.uint8)
    for t in range(clip.frames):
        frame = view(clip.scene, float(camera.x[t]), float(camera.y[t]), float(camera.zoom[t]), width, height)
        codes = paint_codes(objects, t, height, width)
        frame = cv2.copyTo(cv2.LUT(cv2.merge([codes, codes, codes]), lut), codes, frame)
        ids = codes // PART_SLOTS
        boxes = [bbox_from_mask(ids == obj.object_id) for obj in objects]
        frame = _camera_blur(frame, camera, t)
        frame = _fast_object_blur(frame, ids, boxes, objects, t)
        frame = cv2.subtract(cv2.add(frame, rng.integers(0, NOISE_LEVELS, frame.shape, dtype=np.uint8)), noise_offset)
        yield RenderedFrame(frame, ids, boxes)


def _velocity(x: np.ndarray, y: np.ndarray, t: int) -> tuple[float, float]:
    """Screen pixels per frame around frame t (central difference; 0 in a one-frame clip)."""
    before, after = max(t - 1, 0), min(t + 1, x.size - 1)
    if after == before:
        return 0.0, 0.0
    return float(x[after] - x[before]) / (after - before), float(y[after] - y[before]) / (after - before)


def _camera_blur(frame: np.ndarray, camera: Camera, t: int) -> np.ndarray:
    """A 1-3 px box blur along the dominant axis of the background's motion on screen."""
    dx, dy = _velocity(camera.x * camera.zoom, camera.y * camera.zoom, t)
    length = 1 + min(2, round(float(np.hypot(dx, dy))))
    if length == 1:
        return frame
    return cv2.blur(frame, (length, 1) if abs(dx) >= abs(dy) else (1, length))


def _line_kernel(dx: float, dy: float) -> np.ndarray:
    """A 5 px line through the centre of a 5x5 kernel, along (dx, dy), summing to 1."""
    kernel = np.zeros((5, 5), dtype=np.float32)
    ux, uy = np.array([dx, dy]) / np.hypot(dx, dy)
    cv2.line(kernel, (round(2 - 2 * ux), round(2 - 2 * uy)), (round(2 + 2 * ux), round(2 + 2 * uy)), 1.0, 1)
    return kernel / kernel.sum()


def _fast_object_blur(
    frame: np.ndarray, ids: np.ndarray, boxes: list[Box4 | None], objects: list[GenericObject], t: int
) -> np.ndarray:
    """Blur along their motion the objects that move faster than FAST_PX_PER_FRAME, up to 2 px past the silhouette."""
    height, width = ids.shape
    grow = np.ones((5, 5), dtype=np.uint8)  # reach 2 px around the silhouette
    for obj, box in zip(objects, boxes, strict=True):
        dx, dy = _velocity(obj.x, obj.y, t)
        if box is None or np.hypot(dx, dy) < FAST_PX_PER_FRAME:
            continue
        x0, y0, x1, y1 = max(box[0] - 4, 0), max(box[1] - 4, 0), min(box[2] + 4, width), min(box[3] + 4, height)
        crop = frame[y0:y1, x0:x1]
        region = cv2.dilate((ids[y0:y1, x0:x1] == obj.object_id).view(np.uint8), grow).view(bool)
        crop[region] = cv2.filter2D(crop, -1, _line_kernel(dx, dy))[region]
    return frame
