"""Prompts sampled from ground-truth masks the way users click, for finetuning and validation.

Coordinates are pixels of the (S x S) model input, x then y; integer pixel indices, as SAM shifts points to pixel
centres itself. SAM encodes a box as two points labelled 2 (top-left) and 3 (bottom-right) placed before any clicks;
clicks are labelled 1 (on the object) or 0 (not on it); padding points in a batch are labelled -1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    import torch

POSITIVE = 1
NEGATIVE = 0
BOX_TOP_LEFT = 2
BOX_BOTTOM_RIGHT = 3
PADDING = -1


@dataclass(frozen=True)
class PromptSettings:
    """How `sample_prompt` mixes prompt types: boxes, positive clicks, negative clicks, and how much boxes jitter."""

    box_probability: float = 0.5  # box (possibly with clicks), else clicks only
    box_with_clicks_probability: float = 0.25  # given a box, also add 1 positive click
    max_positive: int = 3  # clicks-only prompts: 1..max_positive positives
    max_negative: int = 2  # and 0..max_negative negatives
    box_jitter: float = 0.1  # std of each box side's noise, as a fraction of the box side
    max_box_jitter_px: float = 20.0  # cap on each side's noise
    negative_ring: float = 0.5  # negatives within this fraction of the box size outside the object

    def __post_init__(self) -> None:
        _check_number("box_probability", self.box_probability, 0.0, 1.0)
        _check_number("box_with_clicks_probability", self.box_with_clicks_probability, 0.0, 1.0)
        _check_count("max_positive", self.max_positive, 1)
        _check_count("max_negative", self.max_negative, 0)
        _check_number("box_jitter", self.box_jitter, 0.0, 1.0)
        _check_number("max_box_jitter_px", self.max_box_jitter_px, 0.0, float("inf"))
        _check_number("negative_ring", self.negative_ring, 0.0, 10.0)


def _check_number(name: str, value: float, low: float, high: float) -> None:
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not is_number or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}.")


def _check_count(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer of at least {low}, got {value!r}.")


@dataclass(frozen=True, eq=False)  # eq=False: field-wise == on numpy arrays has no single truth value
class SampledPrompt:
    """Points of one prompt: coords (P, 2) float32 x, y and labels (P,) int32 (1, 0, or 2/3 for box corners)."""

    coords: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        coords = np.asarray(self.coords, dtype=np.float32)
        if coords.size == 0:
            coords = coords.reshape(0, 2)
        if coords.ndim != 2 or coords.shape[1] != 2:
            raise ValueError(f"Prompt coords must have shape (P, 2), got {coords.shape}.")
        labels = np.asarray(self.labels, dtype=np.int32).reshape(-1)
        if len(coords) != len(labels):
            raise ValueError(f"A prompt needs one label per point, got {len(coords)} points and {len(labels)} labels.")
        object.__setattr__(self, "coords", coords)
        object.__setattr__(self, "labels", labels)

    @property
    def has_box(self) -> bool:
        return bool(np.any(self.labels == BOX_TOP_LEFT))


# ---------------------------------------------------------------- random prompts for training


def sample_prompt(
    mask: np.ndarray,
    rng: np.random.Generator,
    settings: PromptSettings = PromptSettings(),  # frozen, so a shared default is safe
    valid: np.ndarray | None = None,
) -> SampledPrompt:
    """A random prompt for a non-empty bool HxW mask: a jittered box (sometimes with one positive click) or
    clicks only (1..max_positive positives favouring the interior, 0..max_negative negatives in a ring around the
    object, outside it and inside `valid`; fewer when there is no room)."""
    mask = _as_mask(mask, "mask")
    valid = None if valid is None else _as_mask(valid, "valid", shape=mask.shape, allow_empty=True)
    if rng.random() < settings.box_probability:
        box = _jittered_box(mask, rng, settings)
        clicks = 1 if rng.random() < settings.box_with_clicks_probability else 0
        positives = _sample_positives(mask, clicks, rng)
        return _assemble(box, positives, np.zeros((0, 2), np.float32))
    n_positive = int(rng.integers(1, settings.max_positive + 1))
    n_negative = int(rng.integers(0, settings.max_negative + 1))
    positives = _sample_positives(mask, n_positive, rng)
    negatives = _sample_negatives(mask, n_negative, rng, settings.negative_ring, valid)
    return _assemble(None, positives, negatives)


def _assemble(box: np.ndarray | None, positives: np.ndarray, negatives: np.ndarray) -> SampledPrompt:
    parts = [] if box is None else [box.reshape(2, 2)]
    labels = [] if box is None else [np.array([BOX_TOP_LEFT, BOX_BOTTOM_RIGHT])]
    parts += [positives, negatives]
    labels += [np.full(len(positives), POSITIVE), np.full(len(negatives), NEGATIVE)]
    return SampledPrompt(coords=np.concatenate(parts).astype(np.float32), labels=np.concatenate(labels))


def _sample_positives(mask: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct pixels of the mask drawn with weight = distance to the background, so clicks favour the interior
    the way users click, and the rim (weight 1) is rare for objects of any size."""
    if count == 0:
        return np.zeros((0, 2), np.float32)
    depth = _depth(mask)
    rows, cols = np.nonzero(mask)
    weights = depth[rows, cols].astype(np.float64)
    chosen = rng.choice(len(rows), size=min(count, len(rows)), replace=False, p=weights / weights.sum())
    return np.stack([cols[chosen], rows[chosen]], axis=1).astype(np.float32)


def _sample_negatives(
    mask: np.ndarray, count: int, rng: np.random.Generator, ring: float, valid: np.ndarray | None
) -> np.ndarray:
    """Distinct pixels, uniform over the ring of pixels outside the mask but within `ring` x the larger box side
    of it (at least 1 px), restricted to `valid`; none when the ring is empty."""
    if count == 0:
        return np.zeros((0, 2), np.float32)
    region = _negative_region(mask, ring, valid)
    rows, cols = np.nonzero(region)
    if len(rows) == 0:
        return np.zeros((0, 2), np.float32)
    chosen = rng.choice(len(rows), size=min(count, len(rows)), replace=False)
    return np.stack([cols[chosen], rows[chosen]], axis=1).astype(np.float32)


def _negative_region(mask: np.ndarray, ring: float, valid: np.ndarray | None) -> np.ndarray:
    x0, y0, x1, y1 = _tight_box(mask)
    radius = max(1.0, ring * max(x1 - x0, y1 - y0))
    distance_to_object = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    region = ~mask & (distance_to_object <= radius)
    return region if valid is None else region & valid


def _jittered_box(mask: np.ndarray, rng: np.random.Generator, settings: PromptSettings) -> np.ndarray:
    """The tight box with each side moved by N(0, jitter x side) capped at max_box_jitter_px, clipped to the frame;
    at least one pixel wide and tall (x0 < x1, y0 < y1)."""
    height, width = mask.shape
    box = _tight_box(mask).astype(np.float64)
    sides = np.array([box[2] - box[0], box[3] - box[1]] * 2)  # x0, y0 move with the width/height, so do x1, y1
    noise = rng.normal(0.0, 1.0, size=4) * settings.box_jitter * sides
    box += np.clip(noise, -settings.max_box_jitter_px, settings.max_box_jitter_px)
    x0 = float(np.clip(box[0], 0.0, width - 1.0))
    y0 = float(np.clip(box[1], 0.0, height - 1.0))
    x1 = float(np.clip(box[2], x0 + 1.0, float(width)))
    y1 = float(np.clip(box[3], y0 + 1.0, float(height)))
    return np.array([x0, y0, x1, y1], dtype=np.float32)


# ---------------------------------------------------------------- deterministic prompts for validation


def click_prompt(mask: np.ndarray) -> SampledPrompt:
    """One positive click at the deepest interior point (largest distance to the background or the frame edge;
    ties go to the first pixel in row-major order): where a user clicks on an object."""
    depth = _depth(_as_mask(mask, "mask"))
    row, col = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return SampledPrompt(coords=np.array([[col, row]], np.float32), labels=np.array([POSITIVE], np.int32))


def box_prompt(mask: np.ndarray) -> SampledPrompt:
    """The tight box (x0, y0) top-left pixel, (x1, y1) last pixel + 1, as SAM's two labelled corner points."""
    box = _tight_box(_as_mask(mask, "mask")).astype(np.float32)
    return SampledPrompt(coords=box.reshape(2, 2), labels=np.array([BOX_TOP_LEFT, BOX_BOTTOM_RIGHT], np.int32))


# ---------------------------------------------------------------- batching and resizing


def collate_prompts(prompts: Sequence[SampledPrompt]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack prompts of different lengths: coords (B, Pmax, 2) float32 and labels (B, Pmax) int32, padded with
    points (0, 0) labelled -1 (SAM's "not a point")."""
    import torch

    if len(prompts) == 0:
        raise ValueError("collate_prompts needs at least one prompt.")
    longest = max(len(prompt.labels) for prompt in prompts)
    coords = np.zeros((len(prompts), longest, 2), np.float32)
    labels = np.full((len(prompts), longest), PADDING, np.int32)
    for index, prompt in enumerate(prompts):
        coords[index, : len(prompt.labels)] = prompt.coords
        labels[index, : len(prompt.labels)] = prompt.labels
    return torch.from_numpy(coords), torch.from_numpy(labels)


def scale_prompt(prompt: SampledPrompt, sx: float, sy: float) -> SampledPrompt:
    """The same prompt with x multiplied by sx and y by sy (e.g. from a label map's size to the model input)."""
    coords = prompt.coords * np.array([sx, sy], np.float32)
    return SampledPrompt(coords=coords.astype(np.float32), labels=prompt.labels.copy())


# ---------------------------------------------------------------- helpers


def _as_mask(
    mask: np.ndarray, name: str, shape: tuple[int, ...] | None = None, allow_empty: bool = False
) -> np.ndarray:
    array = np.asarray(mask)
    if array.ndim != 2 or array.dtype != np.bool_:
        raise ValueError(f"{name} must be a bool HxW array, got shape {array.shape} dtype {array.dtype}.")
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape} but the mask has shape {shape}.")
    if not allow_empty and not array.any():
        raise ValueError(f"{name} is empty: a prompt needs at least one object pixel.")
    return array


def _tight_box(mask: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.int64)


def _depth(mask: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance from each object pixel to the nearest background pixel; the frame edge counts as
    background (the mask is padded by one pixel), so a full-frame mask is deepest at its centre."""
    padded = np.pad(mask, 1).astype(np.uint8)
    depth = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return depth[1:-1, 1:-1]
