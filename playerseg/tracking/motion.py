"""Motion for SAMURAI-style memory: a constant-velocity Kalman filter on an object's box, and the choice among the
mask decoder's candidate masks by predicted IoU and agreement with that filter.

Pure numpy, no sam2: `BoxKalmanFilter` (state cx, cy, w, h and their velocities per frame; the second box after
`initiate` sets the velocity by differencing, so constant-velocity boxes are predicted exactly from then on),
`box_iou`, `choose_candidate` (the index maximising `alpha * kf_iou + (1 - alpha) * predicted_iou`) and
`keeps_memory` (the memory gate: object score, predicted IoU and motion agreement over their thresholds).
Boxes are (x0, y0, x1, y1) with x1, y1 exclusive, in whatever pixel grid the caller uses (the tracker uses the
decoder's low-resolution mask grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Box = tuple[float, float, float, float]  # x0, y0, x1, y1

# noise per frame as a share of the box height (SORT / ByteTrack's choices): position and size measurements,
# and the drift of the velocity the constant-velocity model allows
POSITION_STD = 1.0 / 20.0
VELOCITY_STD = 1.0 / 160.0


@dataclass(frozen=True)
class MotionSettings:
    """SAMURAI's weights and thresholds (training-free; its paper's starting points)."""

    alpha: float = 0.25  # weight of the IoU with the filter's box against the decoder's predicted IoU
    tau_obj: float = 0.0  # memory kept only when the object score (a logit) is above this
    tau_iou: float = 0.5  # ... and the chosen mask's predicted IoU is above this
    tau_kf: float = 0.5  # ... and the IoU of its box with the filter's predicted box is above this


class BoxKalmanFilter:
    """A constant-velocity Kalman filter on one object's box: state (cx, cy, w, h, vx, vy, vw, vh), one step a
    frame. `predict(steps)` then `update(box)` each frame the object is seen; a frame without an update keeps the
    prediction (the next `predict` goes on from it)."""

    def __init__(self, box: Box) -> None:
        self.state = np.concatenate([_to_cxcywh(box), np.zeros(4)])
        scale = _scale(self.state)
        # the velocity is unknown until the second box: a wide prior, replaced by differencing at that box
        self.covariance = np.diag(np.r_[np.full(4, (POSITION_STD * scale) ** 2), np.full(4, (10.0 * scale) ** 2)])
        self._boxes_seen = 1
        self._steps_since_box = 0

    @property
    def box(self) -> Box:
        """The current estimate as a box (width and height at least 0)."""
        return _to_box(self.state[:4])

    def predict(self, steps: int = 1) -> Box:
        """Move the state `steps` frames ahead (constant velocity) and return the predicted box."""
        for _ in range(max(0, steps)):
            transition = _transition()
            self.state = transition @ self.state
            self.covariance = transition @ self.covariance @ transition.T + _process_noise(self.state)
            self._steps_since_box += 1
        return self.box

    def update(self, box: Box) -> None:
        """Correct the prediction with an observed box."""
        measured = _to_cxcywh(box)
        steps = max(1, self._steps_since_box)
        self._steps_since_box = 0
        self._boxes_seen += 1
        if self._boxes_seen == 2:  # two-point start: the velocity by differencing, its variance from two readings
            previous = self.state[:4] - steps * self.state[4:]
            self.state = np.concatenate([measured, (measured - previous) / steps])
            variance = (POSITION_STD * _scale(self.state)) ** 2
            block = np.array([[1.0, 1.0 / steps], [1.0 / steps, 2.0 / steps**2]]) * variance
            self.covariance = np.kron(block, np.eye(4))
            return
        observe = np.eye(4, 8)
        noise = np.eye(4) * (POSITION_STD * _scale(self.state)) ** 2
        innovation = observe @ self.covariance @ observe.T + noise
        gain = self.covariance @ observe.T @ np.linalg.inv(innovation)
        self.state = self.state + gain @ (measured - observe @ self.state)
        self.covariance = (np.eye(8) - gain @ observe) @ self.covariance


def box_iou(a: Box | None, b: Box | None) -> float:
    """Intersection over union of two boxes; 0 when either is missing or empty."""
    if a is None or b is None:
        return 0.0
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, width) * max(0.0, height)
    union = _area(a) + _area(b) - inter
    return float(inter / union) if union > 0 else 0.0


def mask_box(mask: np.ndarray) -> Box | None:
    """The box of a boolean mask's pixels (x1, y1 exclusive); None when it is empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return (float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1))


def choose_candidate(
    boxes: Sequence[Box | None], predicted_ious: Sequence[float], motion_box: Box | None, alpha: float
) -> tuple[int, list[float]]:
    """The candidate maximising `alpha * kf_iou + (1 - alpha) * predicted_iou` (the first on ties), and every
    candidate's kf_iou (IoU of its box with `motion_box`). Without a motion box: the highest predicted IoU, as
    sam2 chooses."""
    kf_ious = [box_iou(box, motion_box) for box in boxes]
    if motion_box is None:
        return int(np.argmax(predicted_ious)), kf_ious
    scores = [alpha * kf + (1.0 - alpha) * iou for kf, iou in zip(kf_ious, predicted_ious)]
    return int(np.argmax(scores)), kf_ious


def keeps_memory(object_score: float, predicted_iou: float, kf_iou: float | None, settings: MotionSettings) -> bool:
    """The memory gate: keep a tracked frame's memory only when the mask is confident. `kf_iou` None (no filter
    yet) passes the motion condition."""
    motion_agrees = kf_iou is None or kf_iou > settings.tau_kf
    return object_score > settings.tau_obj and predicted_iou > settings.tau_iou and motion_agrees


def _transition() -> np.ndarray:
    transition = np.eye(8)
    transition[:4, 4:] = np.eye(4)
    return transition


def _process_noise(state: np.ndarray) -> np.ndarray:
    scale = _scale(state)
    return np.diag(np.r_[np.full(4, (POSITION_STD * scale) ** 2), np.full(4, (VELOCITY_STD * scale) ** 2)])


def _scale(state: np.ndarray) -> float:
    return max(float(state[3]), 1.0)


def _to_cxcywh(box: Box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.array([(x0 + x1) / 2.0, (y0 + y1) / 2.0, x1 - x0, y1 - y0], dtype=np.float64)


def _to_box(cxcywh: np.ndarray) -> Box:
    cx, cy = float(cxcywh[0]), float(cxcywh[1])
    half_w, half_h = max(0.0, float(cxcywh[2])) / 2.0, max(0.0, float(cxcywh[3])) / 2.0
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def _area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])
