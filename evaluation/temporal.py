"""Temporal stability (flicker) of a predicted mask sequence; no ground truth needed.

A segmenter whose masks are right on average can still flicker: an object that vanishes for a frame, a mask that
swells and shrinks, a limb that comes and goes. These metrics look only at the prediction (and, for the
flow-compensated ones, the clip's frames) and compare each frame with the previous frame of the sequence:

- consecutive IoU: IoU of an object's masks on consecutive frames (pairs where it is on either frame);
- flow consistency: the same IoU after warping the later mask back along dense optical flow (OpenCV DIS), so a mask
  that moves with the scene scores ~1 even when the camera pans;
- area volatility: |a_t - a_{t-1}| / mean(a_t, a_{t-1}) over pairs where the object is on both frames;
- centroid jitter: length of the centroid's second difference (acceleration) over triples of frames, so steady
  motion costs nothing;
- presence toggles: how often an object is lost and found again;
- boundary flip rate: share of the earlier mask's boundary pixels farther than 1 px from the (flow-aligned) later
  mask's boundary.

Label maps are HxW uint8: 0 background, 1..254 object ids, 255 void. Pixels that are void on either frame (and, for
the flow metrics, pixels whose flow leaves the frame) are left out of the pair metrics. `TemporalMetric` streams one
frame at a time and keeps only the previous frame and per-frame numbers; `temporal_stability` runs it over a
`MaskSequence`. The formulas are tabulated in evaluation/README.md.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from evaluation.errors import EvaluationError
from evaluation.results.accuracy import AccuracyResult
from evaluation.results.temporal import ObjectStability, TemporalResult
from evaluation.sequence import VOID, MaskSequence

FLOW_LONG_SIDE_PX = 640  # frames are downscaled to this long side for optical flow (flow is scaled back up)
DIS_MIN_SIDE_PX = 32  # DIS refuses tiny images; smaller ones are padded to this size for the flow only
BOUNDARY_TOLERANCE_PX = 1  # a boundary pixel "stays put" when the other boundary is within this (chessboard) distance

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive)

_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
_NEAR = np.ones((2 * BOUNDARY_TOLERANCE_PX + 1,) * 2, dtype=np.uint8)


class TemporalError(EvaluationError, ValueError):
    """Input to the temporal metrics is unusable; the message names the frame."""


# ---------------------------------------------------------------------------------------------------------------
# Pure metrics on masks and per-object series


def mask_iou(a: np.ndarray, b: np.ndarray, valid: np.ndarray | None = None) -> float:
    """IoU of two boolean masks over the `valid` pixels; NaN when both are empty there (undefined, not perfect)."""
    if valid is not None:
        a, b = a & valid, b & valid
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else math.nan


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """One-pixel inner boundary: mask pixels with a 4-neighbour outside the mask. The frame edge is not a boundary
    (an object cut by the frame has no contour there)."""
    mask_u8 = np.ascontiguousarray(mask, dtype=np.uint8)
    eroded = cv2.erode(mask_u8, _CROSS, borderType=cv2.BORDER_REPLICATE)
    return (mask_u8 > eroded).astype(bool)


def boundary_flip_rate(before: np.ndarray, after: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Share of `before`'s boundary pixels (within `valid`) with no boundary pixel of `after` within
    BOUNDARY_TOLERANCE_PX (chessboard distance). NaN when `before` has no boundary; 1 when `after` is empty."""
    edge = boundary_map(before)
    if valid is not None:
        edge &= valid
    total = np.count_nonzero(edge)
    if total == 0:
        return math.nan
    near_after = cv2.dilate(boundary_map(after).view(np.uint8), _NEAR).astype(bool)
    return np.count_nonzero(edge & ~near_after) / total


def area_volatility(area: np.ndarray) -> float:
    """Mean of |a_t - a_{t-1}| / ((a_t + a_{t-1}) / 2) over consecutive pairs where both areas are > 0 (0..2)."""
    area = np.asarray(area, dtype=np.float64)
    before, after = area[:-1], area[1:]
    both = (before > 0) & (after > 0)
    if not both.any():
        return math.nan
    change = np.abs(after[both] - before[both]) / ((after[both] + before[both]) / 2.0)
    return float(change.mean())


def centroid_jitter(centroid: np.ndarray) -> float:
    """Mean of ||c_{t+1} - 2 c_t + c_{t-1}|| (pixels) over consecutive triples where the object is on all three
    frames (centroid not NaN). Constant-velocity motion, such as a steady pan, costs 0."""
    centroid = np.asarray(centroid, dtype=np.float64).reshape(-1, 2)
    if len(centroid) < 3:
        return math.nan
    second = centroid[2:] - 2.0 * centroid[1:-1] + centroid[:-2]
    lengths = np.hypot(second[:, 0], second[:, 1])
    lengths = lengths[~np.isnan(lengths)]
    return float(lengths.mean()) if lengths.size else math.nan


def presence_toggles(present: np.ndarray) -> int:
    """Number of 'lost and found again' events: runs of absent frames with the object present before and after."""
    present = np.asarray(present, dtype=bool)
    shown = np.flatnonzero(present)
    if shown.size < 2:
        return 0
    # every gap between consecutive present frames is one lost-and-found event
    return int(np.count_nonzero(np.diff(shown) > 1))


# ---------------------------------------------------------------------------------------------------------------
# Optical flow (OpenCV DIS) and warping a label map back along it


def _flow_gray(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """Grayscale frame at the flow resolution: the mask size, downscaled so the long side is <= FLOW_LONG_SIDE_PX."""
    gray = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    scale = min(1.0, FLOW_LONG_SIDE_PX / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if (gray.shape[1], gray.shape[0]) != size:
        shrinking = gray.shape[1] > size[0]
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return np.array(gray, order="C", copy=gray is rgb)  # never keep the caller's buffer


def _dis_flow(dis: cv2.DISOpticalFlow, prev_gray: np.ndarray, cur_gray: np.ndarray) -> np.ndarray:
    """DIS flow prev -> cur at the grays' resolution; tiny images are edge-padded because DIS refuses them."""
    h, w = prev_gray.shape
    pad_y, pad_x = max(0, DIS_MIN_SIDE_PX - h), max(0, DIS_MIN_SIDE_PX - w)
    if pad_x or pad_y:
        prev_gray = cv2.copyMakeBorder(prev_gray, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
        cur_gray = cv2.copyMakeBorder(cur_gray, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(dis.calc(prev_gray, cur_gray, None)[:h, :w])


def _full_size_flow(flow: np.ndarray, height: int, width: int) -> np.ndarray:
    """Flow computed on a downscaled frame, resized and rescaled to displacements in mask pixels."""
    if flow.shape[:2] == (height, width):
        return flow
    # scaling the small flow first is cheaper and equal: linear resizing commutes with scaling
    scaled = flow * np.array([width / flow.shape[1], height / flow.shape[0]], dtype=np.float32)
    return cv2.resize(scaled, (width, height), interpolation=cv2.INTER_LINEAR)


def _new_dis() -> cv2.DISOpticalFlow:
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


def optical_flow(prev_rgb: np.ndarray, cur_rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """Dense flow prev -> cur as an (H, W, 2) float32 array of (dx, dy): prev pixel x shows up at x + flow(x) in cur.
    `size` is (height, width) of the masks (default: the frames' size); frames of another size are resized."""
    height, width = size if size is not None else prev_rgb.shape[:2]
    dis = _new_dis()
    flow = _dis_flow(dis, _flow_gray(prev_rgb, height, width), _flow_gray(cur_rgb, height, width))
    return _full_size_flow(flow, height, width)


def warp_back(labels: np.ndarray, flow: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray:
    """Label map of frame t moved onto frame t-1: out[x] = labels[x + flow(x)] (nearest), where flow is the t-1 -> t
    flow. Pixels whose flow leaves the frame become void (255). `grid` is an optional cached pixel grid."""
    height, width = labels.shape
    if grid is None:
        grid = _pixel_grid(height, width)
    where = cv2.add(flow, grid)
    return cv2.remap(labels, where, None, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=VOID)


def _pixel_grid(height: int, width: int) -> np.ndarray:
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return np.dstack([xs, ys])


# ---------------------------------------------------------------------------------------------------------------
# Per-frame and per-pair numbers (cropped to the objects' bounding boxes)


@dataclass(frozen=True)
class _ObjectOnFrame:
    area: int
    centroid: tuple[float, float]  # x, y
    box: Box


def _present_ids(labels: np.ndarray) -> list[int]:
    counts = cv2.calcHist([labels], [0], None, [256], [0, 256]).ravel()
    return [int(v) for v in np.flatnonzero(counts) if v not in (0, VOID)]


def _object_boxes(labels: np.ndarray) -> dict[int, Box]:
    boxes = {}
    for obj in _present_ids(labels):
        x, y, w, h = cv2.boundingRect((labels == obj).view(np.uint8))
        boxes[obj] = (x, y, x + w, y + h)
    return boxes


def _objects_on_frame(labels: np.ndarray) -> dict[int, _ObjectOnFrame]:
    objects = {}
    for obj, box in _object_boxes(labels).items():
        x0, y0, x1, y1 = box
        moments = cv2.moments((labels[y0:y1, x0:x1] == obj).view(np.uint8), binaryImage=True)
        area = moments["m00"]
        objects[obj] = _ObjectOnFrame(int(area), (moments["m10"] / area + x0, moments["m01"] / area + y0), box)
    return objects


def _union_box(a: Box | None, b: Box | None, pad: int, height: int, width: int) -> Box:
    boxes = [box for box in (a, b) if box is not None]
    return (
        max(0, min(box[0] for box in boxes) - pad),
        max(0, min(box[1] for box in boxes) - pad),
        min(width, max(box[2] for box in boxes) + pad),
        min(height, max(box[3] for box in boxes) + pad),
    )


def _crop(labels: np.ndarray, box: Box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return labels[y0:y1, x0:x1]


def _pair_iou(before: np.ndarray, after: np.ndarray, obj: int, box: Box) -> float:
    """IoU of `obj` in two label maps inside `box` (which holds both masks); void on either map left out."""
    a, b = _crop(before, box), _crop(after, box)
    return mask_iou(a == obj, b == obj, (a != VOID) & (b != VOID))


def _pair_flip(before: np.ndarray, after: np.ndarray, obj: int, box: Box) -> float:
    a, b = _crop(before, box), _crop(after, box)
    return boundary_flip_rate(a == obj, b == obj, b != VOID)


@dataclass(frozen=True)
class _PairValues:
    iou: float
    flow_iou: float
    flip: float


# ---------------------------------------------------------------------------------------------------------------
# Streaming metric


class TemporalMetric:
    """Flicker metrics, one frame at a time: `update(frame, labels, rgb=None)` then `compute(name, accuracy)`.

    Keeps the previous label map and flow image plus per-frame numbers only. `rgb` (HxWx3 uint8, any size; resized
    to the masks' size) enables the flow-compensated metrics for the pairs where both frames have it. With
    `flow=False` (or no rgb ever given) `flow_consistency` is None and boundary flips compare raw masks.
    """

    def __init__(self, flow: bool = True) -> None:
        self.flow = flow
        self._dis: cv2.DISOpticalFlow | None = None
        self.reset()

    def reset(self) -> None:
        self._frames: list[int] = []
        self._objects: list[dict[int, _ObjectOnFrame]] = []
        self._pairs: list[dict[int, _PairValues]] = []  # entry i compares frame i-1 with frame i ({} for i = 0)
        self._shape: tuple[int, int] | None = None
        self._prev_labels: np.ndarray | None = None
        self._prev_gray: np.ndarray | None = None
        self._rgb_seen = False
        self._grid: np.ndarray | None = None

    def update(self, frame: int, labels: np.ndarray, rgb: np.ndarray | None = None) -> TemporalMetric:
        frame = int(frame)
        labels = self._checked_labels(frame, labels)
        gray = None
        if rgb is not None and self.flow:
            gray = _flow_gray(self._checked_rgb(frame, rgb), *labels.shape)
            self._rgb_seen = True
        objects = _objects_on_frame(labels)
        pairs: dict[int, _PairValues] = {}
        if self._prev_labels is not None:
            pairs = self._pair_values(self._prev_labels, labels, self._objects[-1], objects, self._prev_gray, gray)
        self._frames.append(frame)
        self._objects.append(objects)
        self._pairs.append(pairs)
        self._prev_labels, self._prev_gray = labels, gray
        return self

    def _checked_labels(self, frame: int, labels: np.ndarray) -> np.ndarray:
        labels = np.asarray(labels)
        if labels.ndim != 2:
            raise TemporalError(f"frame {frame}: a label map must be 2-D (H, W), got shape {labels.shape}.")
        if self._frames and frame <= self._frames[-1]:
            raise TemporalError(f"frame {frame}: frame numbers must increase (previous frame {self._frames[-1]}).")
        if self._shape is not None and labels.shape != self._shape:
            raise TemporalError(
                f"frame {frame}: label map is {labels.shape[1]}x{labels.shape[0]}, "
                f"earlier frames are {self._shape[1]}x{self._shape[0]}."
            )
        if labels.dtype != np.uint8 and (
            labels.dtype.kind not in "biu" or (labels.size and (labels.min() < 0 or labels.max() > 255))
        ):
            raise TemporalError(f"frame {frame}: labels must be integers 0..255, got {labels.dtype}.")
        self._shape = labels.shape
        # a copy: callers may reuse one buffer for every frame, and this one is kept as the previous frame
        return np.array(labels, dtype=np.uint8, order="C", copy=True)

    @staticmethod
    def _checked_rgb(frame: int, rgb: np.ndarray) -> np.ndarray:
        rgb = np.asarray(rgb)
        if rgb.dtype != np.uint8 or not (rgb.ndim == 2 or (rgb.ndim == 3 and rgb.shape[2] == 3)):
            raise TemporalError(f"frame {frame}: the RGB frame must be HxWx3 uint8, got {rgb.dtype} {rgb.shape}.")
        return rgb

    def _pair_values(
        self,
        before: np.ndarray,
        after: np.ndarray,
        objects_before: dict[int, _ObjectOnFrame],
        objects_after: dict[int, _ObjectOnFrame],
        gray_before: np.ndarray | None,
        gray_after: np.ndarray | None,
    ) -> dict[int, _PairValues]:
        height, width = after.shape
        warped, warped_boxes = None, {}
        if gray_before is not None and gray_after is not None:
            warped = self._warp_back(before.shape, after, gray_before, gray_after)
            warped_boxes = _object_boxes(warped)
        values = {}
        for obj in sorted(objects_before.keys() | objects_after.keys()):
            box_before = objects_before[obj].box if obj in objects_before else None
            box_after = objects_after[obj].box if obj in objects_after else None
            iou = _pair_iou(before, after, obj, _union_box(box_before, box_after, 0, height, width))
            flow_iou = flip = math.nan
            if warped is not None and (box_before is not None or obj in warped_boxes):
                box = _union_box(box_before, warped_boxes.get(obj), 0, height, width)
                flow_iou = _pair_iou(before, warped, obj, box)
            if box_before is not None and box_after is not None:
                # pad by tolerance + 1 so both boundaries and their neighbourhoods lie inside the crop
                target, target_box = (warped, warped_boxes.get(obj)) if warped is not None else (after, box_after)
                box = _union_box(box_before, target_box, BOUNDARY_TOLERANCE_PX + 1, height, width)
                flip = _pair_flip(before, target, obj, box)
            values[obj] = _PairValues(iou, flow_iou, flip)
        return values

    def _warp_back(
        self, shape: tuple[int, int], after: np.ndarray, gray_before: np.ndarray, gray_after: np.ndarray
    ) -> np.ndarray:
        height, width = shape
        if self._dis is None:
            self._dis = _new_dis()
        if self._grid is None or self._grid.shape[:2] != shape:
            self._grid = _pixel_grid(height, width)
        flow = _full_size_flow(_dis_flow(self._dis, gray_before, gray_after), height, width)
        return warp_back(after, flow, self._grid)

    def compute(self, name: str = "", accuracy: AccuracyResult | None = None) -> TemporalResult:
        if not self._frames:
            raise TemporalError(f"{name or 'temporal metric'}: no frames were given, nothing to measure.")
        object_ids = tuple(sorted(set().union(*self._objects)))
        n, k = len(self._frames), len(object_ids)
        area = np.zeros((n, k), dtype=np.int64)
        centroid = np.full((n, k, 2), np.nan)
        iou, flow_iou, flip = (np.full((n, k), np.nan) for _ in range(3))
        column = {obj: c for c, obj in enumerate(object_ids)}
        for i, (objects, pairs) in enumerate(zip(self._objects, self._pairs)):
            for obj, seen in objects.items():
                area[i, column[obj]] = seen.area
                centroid[i, column[obj]] = seen.centroid
            for obj, pair in pairs.items():
                iou[i, column[obj]], flow_iou[i, column[obj]], flip[i, column[obj]] = pair.iou, pair.flow_iou, pair.flip
        with_flow = self.flow and self._rgb_seen
        decay = _j_decay_by_object(accuracy)
        objects = tuple(
            ObjectStability(
                object_id=obj,
                frames_present=int(np.count_nonzero(area[:, c])),
                consecutive_iou=_nanmean(iou[:, c]),
                flow_consistency=_nanmean(flow_iou[:, c]) if with_flow else None,
                area_volatility=area_volatility(area[:, c]),
                centroid_jitter_px=centroid_jitter(centroid[:, c]),
                presence_toggles=presence_toggles(area[:, c] > 0),
                boundary_flip_rate=_nanmean(flip[:, c]),
                J_decay=decay.get(obj),
            )
            for c, obj in enumerate(object_ids)
        )
        return TemporalResult(
            name=name,
            frames=tuple(self._frames),
            object_ids=object_ids,
            objects=objects,
            area=area,
            centroid=centroid,
            consecutive_iou=iou,
            flow_consistency=flow_iou if with_flow else None,
            boundary_flip=flip,
        )


def _nanmean(values: np.ndarray) -> float:
    with warnings.catch_warnings():  # an all-NaN column (object on one frame only) is NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(values)) if values.size else math.nan


def _j_decay_by_object(accuracy: AccuracyResult | None) -> dict[int, float]:
    if accuracy is None:
        return {}
    return {o.object_id: o.J.decay for o in accuracy.per_object}


# ---------------------------------------------------------------------------------------------------------------
# Whole sequence


def temporal_stability(
    pred: MaskSequence,
    frames: Callable[[int], np.ndarray | None] | None = None,
    name: str = "",
    accuracy: AccuracyResult | None = None,
) -> TemporalResult:
    """Flicker metrics of a predicted sequence. `frames(frame_number)` returns the clip's RGB uint8 frame (any size;
    None where it has none) for the flow-compensated metrics; without it `flow_consistency` is None. `accuracy`
    fills each object's J decay."""
    metric = TemporalMetric(flow=frames is not None)
    for frame, labels in pred:
        metric.update(frame, labels, frames(frame) if frames is not None else None)
    if not len(pred):
        raise TemporalError(f"{pred.name}: the sequence has no frames, nothing to measure.")
    return metric.compute(name=name or pred.name, accuracy=accuracy)
