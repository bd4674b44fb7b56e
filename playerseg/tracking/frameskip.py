"""Motion-gated frame skipping: skip the model on frames where little moved, carry masks forward by optical flow.

The tracker asks `MotionGate.decide()` once per frame, in processing order. A frame is processed (the model runs)
when it is the first one, when the caller forces it (a prompted frame), when `max_consecutive` frames were already
skipped in a row, or when the motion since the last PROCESSED frame (the reference) reaches `threshold_px`. Otherwise
it is skipped and `carry()` warps the reference frame's masks onto it. Motion is always measured against the
reference, never the previous skipped frame, so slow drift accumulates into the measure instead of hiding in it.

Motion measure: dense Farneback optical flow between the grey reference and current frames at a small work size
(`work_height`, aspect kept), scaled back to full-size pixels, summarised as the 99th percentile
(`MOTION_PERCENTILE`) of the flow magnitude over the pixels that have a match in the reference. Not the mean, and
not the 90th percentile either: a player running across a still pitch covers a few per cent of the frame at most,
so both are dominated by the static background. Measured on the SAM 2 "juggle" clip (1280x720): while the juggling
leg moves 20-45 px per frame the 90th percentile stays below 2.2 px, the 99th reads 20-45 px. Not the maximum: a
few pixels would then decide alone; on a still frame with sensor noise (sigma 4) and JPEG quality 60 the 99th
percentile stays below 0.6 px. So a moving region of about 1 % of the frame or more is seen.

Carrying: the flow is computed from the current frame to the reference, i.e. for each current pixel where it came
from in the reference, which is exactly the backward map `cv2.remap` needs to warp the reference masks onto the
current frame. Dense flow is smooth across object boundaries, so a carried mask is right inside the object and
blurred by about the object's motion at its edges (a trail where it left, a short front where it arrived); the skip
threshold and `max_consecutive` keep that motion small.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

from playerseg.errors import PlayerSegError

MOTION_PERCENTILE = 99.0  # share of the frame that may move without being noticed: 1 % (see module docstring)

# Farneback settings at work size (measured here at 180 px high): a whole-frame shift is followed up to ~15 work px
# (~90 px at 1080p) per frame; beyond that the measure reads low (46-51 px for 120-160 px shifts at 720p), still far
# above any useful threshold. Asking for 4 or 5 pyramid levels changed nothing at this size (OpenCV stops short of
# tiny levels). The 15 px window smooths noise; smaller windows sharpened carried mask edges a little but read the
# motion of new content at the frame edge further off.
_PYRAMID_SCALE = 0.5
_PYRAMID_LEVELS = 3
_WINDOW = 15
_ITERATIONS = 3
_POLY_N = 5
_POLY_SIGMA = 1.2


class FrameSkipError(PlayerSegError, ValueError):
    """Frame-skip settings or inputs that cannot work; the message is one sentence."""


@dataclass(frozen=True)
class SkipSettings:
    threshold_px: float  # skip when the motion since the last processed frame is below this (full-size pixels)
    max_consecutive: int = 4  # never skip more than this many frames in a row: bounds the drift of carried masks
    work_height: int = 180  # flow runs on grey frames resized to this height (aspect kept): ~8 ms/frame at 1080p

    def __post_init__(self) -> None:
        if isinstance(self.threshold_px, bool) or not (
            isinstance(self.threshold_px, (int, float)) and math.isfinite(self.threshold_px)
        ):
            raise FrameSkipError(f"threshold_px must be a finite number of pixels, got {self.threshold_px!r}.")
        if self.threshold_px <= 0:
            raise FrameSkipError(f"threshold_px must be > 0, got {self.threshold_px!r}.")
        if not _is_int(self.max_consecutive) or self.max_consecutive < 1:
            raise FrameSkipError(f"max_consecutive must be an integer >= 1, got {self.max_consecutive!r}.")
        if not _is_int(self.work_height) or self.work_height < 32:
            raise FrameSkipError(f"work_height must be an integer >= 32, got {self.work_height!r}.")


@dataclass(frozen=True)
class SkipDecision:
    skip: bool
    motion_px: float  # motion since the last processed frame in full-size pixels; nan where it was not measured
    gate_ms: float  # time spent deciding, flow included


@dataclass(frozen=True)
class _Reference:
    grey: np.ndarray  # work-size grey image of the last processed frame
    frame_shape: tuple[int, int]  # full-size (height, width)


class MotionGate:
    """Decides frame by frame whether the model may be skipped, and carries masks onto skipped frames."""

    def __init__(self, settings: SkipSettings) -> None:
        self._settings = settings
        self._reference: _Reference | None = None
        self._skipped_in_a_row = 0
        self._flow_to_reference: np.ndarray | None = None  # work-size flow of the last skipped frame, else None

    @property
    def settings(self) -> SkipSettings:
        return self._settings

    def reset(self) -> None:
        """Forget the reference (e.g. before a backward pass): the next frame is processed."""
        self._reference = None
        self._skipped_in_a_row = 0
        self._flow_to_reference = None

    def decide(self, rgb: np.ndarray, must_process: bool = False) -> SkipDecision:
        """Call once per frame in processing order (forward or backward, the gate does not care).

        The first frame, and any frame with must_process=True (e.g. a prompted frame), is processed. Otherwise the
        frame is skipped when the motion since the last PROCESSED frame is below threshold_px and fewer than
        max_consecutive frames were skipped in a row. A processed frame becomes the new reference. motion_px is nan
        on frames processed without measuring (first frame, forced, or the skip cap reached).
        """
        started = time.perf_counter()
        self._flow_to_reference = None  # carry() belongs to this decision only, even if this call raises
        frame_shape = _check_rgb(rgb)
        reference = self._reference
        if reference is not None and reference.frame_shape != frame_shape:
            raise FrameSkipError(
                f"Frame size {frame_shape[1]}x{frame_shape[0]} differs from the reference frame's "
                f"{reference.frame_shape[1]}x{reference.frame_shape[0]}; call reset() between clips."
            )
        grey = _work_grey(rgb, self._settings.work_height)
        if reference is None or must_process or self._skipped_in_a_row >= self._settings.max_consecutive:
            return self._process(grey, frame_shape, math.nan, started)

        flow = _flow_current_to_reference(grey, reference.grey)
        motion_px = _motion_px(flow, frame_shape)
        if motion_px >= self._settings.threshold_px:
            return self._process(grey, frame_shape, motion_px, started)
        self._skipped_in_a_row += 1
        self._flow_to_reference = flow
        return SkipDecision(skip=True, motion_px=motion_px, gate_ms=_elapsed_ms(started))

    def carry(self, masks: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
        """Warp the last processed frame's masks onto the current, skipped frame.

        Only valid right after decide() returned skip=True. `masks`: object id -> bool HxW at full frame size,
        non-overlapping (where they overlap, the larger id wins). The masks are warped as one label map with
        nearest-neighbour sampling, so objects stay non-overlapping; pixels whose source lies outside the
        reference frame become background. Returns the same ids, bool HxW.
        """
        flow = self._flow_to_reference
        if flow is None or self._reference is None:
            raise FrameSkipError("carry() is only valid right after decide() returned skip=True.")
        frame_shape = self._reference.frame_shape
        ids = sorted(masks)
        labels = _label_map(masks, ids, frame_shape)
        if not labels.any():
            return {object_id: np.zeros(frame_shape, dtype=bool) for object_id in masks}
        warped = _warp_labels(labels, flow, frame_shape)
        return {object_id: warped == index for index, object_id in enumerate(ids, start=1)}

    def _process(
        self, grey: np.ndarray, frame_shape: tuple[int, int], motion_px: float, started: float
    ) -> SkipDecision:
        self._reference = _Reference(grey=grey, frame_shape=frame_shape)
        self._skipped_in_a_row = 0
        return SkipDecision(skip=False, motion_px=motion_px, gate_ms=_elapsed_ms(started))


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_rgb(rgb: np.ndarray) -> tuple[int, int]:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        described = f"{rgb.dtype} array of shape {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise FrameSkipError(f"A frame must be an HxWx3 uint8 RGB array, got {described}.")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise FrameSkipError(f"A frame must have at least one pixel, got shape {rgb.shape}.")
    return rgb.shape[0], rgb.shape[1]


def _work_size(frame_shape: tuple[int, int], work_height: int) -> tuple[int, int]:
    """(height, width) of the work image: `work_height` high with the frame's aspect; never upscaled."""
    height, width = frame_shape
    work_h = min(work_height, height)
    work_w = max(1, round(width * work_h / height))
    return work_h, work_w


def _work_grey(rgb: np.ndarray, work_height: int) -> np.ndarray:
    work_h, work_w = _work_size((rgb.shape[0], rgb.shape[1]), work_height)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if grey.shape == (work_h, work_w):
        return grey
    # INTER_AREA averages the pixels it shrinks, which also damps noise before the flow.
    return cv2.resize(grey, (work_w, work_h), interpolation=cv2.INTER_AREA)


def _flow_current_to_reference(current: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Work-size flow (H x W x 2, dx dy): current pixel (x, y) came from (x + dx, y + dy) in the reference."""
    return cv2.calcOpticalFlowFarneback(
        current,
        reference,
        None,
        _PYRAMID_SCALE,
        _PYRAMID_LEVELS,
        _WINDOW,
        _ITERATIONS,
        _POLY_N,
        _POLY_SIGMA,
        0,
    )


def _full_size_scale(flow: np.ndarray, frame_shape: tuple[int, int]) -> tuple[float, float]:
    """Factors turning work-size flow vectors (dx, dy) into full-size pixels."""
    return frame_shape[1] / flow.shape[1], frame_shape[0] / flow.shape[0]


def _motion_px(flow: np.ndarray, frame_shape: tuple[int, int]) -> float:
    """MOTION_PERCENTILE of the flow magnitude in full-size pixels, over the pixels whose source is in the frame."""
    scale_x, scale_y = _full_size_scale(flow, frame_shape)
    magnitude = np.hypot(flow[..., 0] * scale_x, flow[..., 1] * scale_y)
    # Content that entered at the frame edge has no match in the reference, so its flow is a guess (it made a
    # known shift read up to 18 % high); leave it out unless nothing else is left.
    matched = _source_inside(flow)
    measured = magnitude[matched] if matched.any() else magnitude
    return float(np.percentile(measured, MOTION_PERCENTILE))


def _source_inside(flow: np.ndarray) -> np.ndarray:
    height, width = flow.shape[:2]
    source_x = flow[..., 0] + np.arange(width, dtype=np.float32)[None, :]
    source_y = flow[..., 1] + np.arange(height, dtype=np.float32)[:, None]
    return (source_x >= 0) & (source_x <= width - 1) & (source_y >= 0) & (source_y <= height - 1)


def _label_map(masks: dict[int, np.ndarray], ids: list[int], frame_shape: tuple[int, int]) -> np.ndarray:
    """uint16 map: 0 background, i for ids[i - 1]; later (larger) ids win where masks overlap."""
    if len(ids) > np.iinfo(np.uint16).max:
        raise FrameSkipError(f"carry() takes at most {np.iinfo(np.uint16).max} masks, got {len(ids)}.")
    labels = np.zeros(frame_shape, dtype=np.uint16)
    for index, object_id in enumerate(ids, start=1):
        mask = np.asarray(masks[object_id])
        if mask.shape != frame_shape:
            raise FrameSkipError(
                f"The mask of object {object_id} has shape {mask.shape}, but frames are {frame_shape}."
            )
        labels[mask.astype(bool, copy=False)] = index
    return labels


def _warp_labels(labels: np.ndarray, flow: np.ndarray, frame_shape: tuple[int, int]) -> np.ndarray:
    """Backward-warp the reference label map onto the current frame with the (upsampled) work-size flow."""
    height, width = frame_shape
    scale_x, scale_y = _full_size_scale(flow, frame_shape)
    full_flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    map_x = full_flow[..., 0] * np.float32(scale_x)
    map_x += np.arange(width, dtype=np.float32)[None, :]
    map_y = full_flow[..., 1] * np.float32(scale_y)
    map_y += np.arange(height, dtype=np.float32)[:, None]
    return cv2.remap(labels, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
