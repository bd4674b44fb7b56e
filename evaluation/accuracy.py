"""J, F and J&F of predicted label maps against ground truth (DAVIS 2017), per annotated frame and object.

Definitions follow the DAVIS 2017 toolkit (see `evaluation.region` and `evaluation.boundary`): every ground-truth
object is scored on every scored frame, J = F = 1 on frames where the object is neither annotated nor predicted,
void pixels (255 in the ground truth) are not scored, and a prediction value of 255 just means "no object".
Statistics (mean, recall, decay) are taken per object, then averaged over objects (`evaluation.results`).

One deliberate deviation: an object that is in the ground truth but that the prediction never contains on any
scored frame is listed in `missing_objects` and scores J = F = 0 on every frame, including frames where it is not
annotated (DAVIS would give it 1 there, rewarding a model for never tracking it). Predicted ids absent from the
ground truth are listed in `extra_objects` and not scored.

Only annotated frames are scored (sparse ground truth is fine). The metrics only keep per-frame, per-object numbers,
never masks, so a sequence of any length is scored in bounded memory. Each object is scored inside the bounding
window of its two masks (padded by the boundary tolerance), which gives the full-frame values at a fraction of the cost.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from evaluation.boundary import DEFAULT_BOUND_TH, boundary_counts_in_window, tolerance_px, window_margin
from evaluation.errors import EvaluationError
from evaluation.region import Window, jaccard_from_counts, region_counts
from evaluation.results.accuracy import AccuracyResult, DatasetAccuracy
from evaluation.results.agreement import AgreementResult
from evaluation.sequence import VOID, MaskSequence

RESIZE_MODES = ("error", "nearest")


class AccuracyError(EvaluationError, ValueError):
    """Prediction and ground truth cannot be scored together; the message names the sequence, frame or size."""


# ---------------------------------------------------------------------------------------------------------------
# Label maps


def as_label_map(labels: np.ndarray, what: str) -> np.ndarray:
    """A C-contiguous HxW uint8 label map (values 0..255), or AccuracyError naming `what`."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise AccuracyError(f"{what}: a label map must be 2-D (H, W), got shape {labels.shape}.")
    if labels.dtype != np.uint8:
        if labels.dtype.kind not in "biu" or (labels.size and (labels.min() < 0 or labels.max() > 255)):
            raise AccuracyError(f"{what}: labels must be integers 0..255, got dtype {labels.dtype}.")
        labels = labels.astype(np.uint8)
    return np.ascontiguousarray(labels)


def label_windows(labels: np.ndarray) -> dict[int, Window]:
    """Bounding window of every non-zero value of a uint8 label map (void 255 included), in one pass."""
    points = cv2.findNonZero(labels)  # one scan of the frame; returns only the (few) foreground pixels
    if points is None:
        return {}
    xy = points.reshape(-1, 2)
    x, y = xy[:, 0], xy[:, 1]
    values = labels[y, x]
    windows: dict[int, Window] = {}
    for value in np.flatnonzero(np.bincount(values, minlength=256)):
        chosen = values == value
        xs, ys = x[chosen], y[chosen]
        windows[int(value)] = Window(int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1)
    return windows


def _size(height: int, width: int) -> str:
    return f"{width}x{height}"


def _describe(sequence: MaskSequence) -> str:
    return f"{sequence.name!r} ({sequence.source})" if sequence.source else repr(sequence.name)


# ---------------------------------------------------------------------------------------------------------------
# Streaming metric


class JFMetric:
    """Streaming DAVIS J and F: `update()` once per annotated frame, `compute()` at the end.

    Keeps two floats per frame and object (never masks). See the module docstring for how objects that are
    never predicted (score 0) and predicted objects absent from the ground truth (listed, not scored) are treated.
    """

    def __init__(self, bound_th: float = DEFAULT_BOUND_TH) -> None:
        tolerance_px(bound_th, 1, 1)  # fail now on a bad threshold, not on the first frame
        self.bound_th = bound_th
        self.reset()

    def reset(self) -> None:
        # frame -> {object id: (J, F)} for every id annotated or predicted on that frame
        self._scores: dict[int, dict[int, tuple[float, float]]] = {}
        self._gt_ids: set[int] = set()
        self._pred_ids: set[int] = set()

    def update(self, frame: int, pred_labels: np.ndarray, gt_labels: np.ndarray) -> JFMetric:
        """Score one annotated frame: HxW label maps (0 background, 1..254 objects, 255 void / not scored)."""
        frame = int(frame)
        if frame in self._scores:
            raise AccuracyError(f"frame {frame} was already scored.")
        pred = as_label_map(pred_labels, f"prediction, frame {frame}")
        gt = as_label_map(gt_labels, f"ground truth, frame {frame}")
        if pred.shape != gt.shape:
            raise AccuracyError(
                f"frame {frame}: prediction is {_size(*pred.shape)} but ground truth is {_size(*gt.shape)}; "
                "use resize='nearest' to resize the prediction."
            )
        pred_windows, gt_windows = label_windows(pred), label_windows(gt)
        pred_windows.pop(VOID, None)  # 255 in a prediction is "no object"
        void_window = gt_windows.pop(VOID, None)
        self._pred_ids.update(pred_windows)
        self._gt_ids.update(gt_windows)
        bound_pix = tolerance_px(self.bound_th, *gt.shape)
        # ids only predicted are scored too: they may turn up in the ground truth of a later frame
        self._scores[frame] = {
            obj: _score_object(pred, gt, obj, pred_windows.get(obj), gt_windows.get(obj), void_window, bound_pix)
            for obj in sorted(pred_windows.keys() | gt_windows.keys())
        }
        return self

    def compute(self, name: str = "", sequence: str = "") -> AccuracyResult:
        frames = tuple(sorted(self._scores))
        object_ids = tuple(sorted(self._gt_ids))
        missing = tuple(sorted(self._gt_ids - self._pred_ids))
        j = np.ones((len(frames), len(object_ids)))  # absent from both on a frame: 1, as DAVIS
        f = np.ones_like(j)
        for row, frame in enumerate(frames):
            for column, obj in enumerate(object_ids):
                if obj in missing:
                    j[row, column] = f[row, column] = 0.0
                elif obj in self._scores[frame]:
                    j[row, column], f[row, column] = self._scores[frame][obj]
        return AccuracyResult(
            name=name,
            sequence=sequence,
            frames=frames,
            object_ids=object_ids,
            J=j,
            F=f,
            missing_objects=missing,
            extra_objects=tuple(sorted(self._pred_ids - self._gt_ids)),
        )


def _score_object(
    pred: np.ndarray,
    gt: np.ndarray,
    obj: int,
    pred_window: Window | None,
    gt_window: Window | None,
    void_window: Window | None,
    bound_pix: int,
) -> tuple[float, float]:
    """(J, F) of one object on one frame, computed inside the padded window of its two masks."""
    height, width = gt.shape
    either = pred_window if gt_window is None else gt_window.union(pred_window)
    if either is None:
        return 1.0, 1.0
    window = either.padded(window_margin(bound_pix), height, width)
    rows, cols = window.slices
    pred_mask, gt_crop = pred[rows, cols] == obj, gt[rows, cols]
    gt_mask = gt_crop == obj
    void = gt_crop == VOID if void_window is not None and void_window.intersects(window) else None
    j = jaccard_from_counts(*region_counts(pred_mask, gt_mask, void))
    f = boundary_counts_in_window(pred_mask, gt_mask, void, bound_pix).f_measure
    return j, f


# ---------------------------------------------------------------------------------------------------------------
# Sequences and datasets


def score_sequence(
    pred: MaskSequence,
    gt: MaskSequence,
    name: str = "",
    resize: str = "error",
    common_frames_only: bool = False,
    bound_th: float = DEFAULT_BOUND_TH,
) -> AccuracyResult:
    """J and F of `pred` on the annotated frames of `gt`.

    resize: "error" (a prediction of another size is an error) or "nearest" (resize it to the ground truth's size,
    nearest neighbour). common_frames_only: score only annotated frames that have a prediction (otherwise an
    annotated frame without one is an error).
    """
    _check_resize(resize)
    frames = _frames_to_score(pred, gt, common_frames_only)
    needs_resize = _needs_resize(pred, gt, resize)
    metric = JFMetric(bound_th)
    for frame in frames:
        labels = pred.read(frame)
        if needs_resize:
            labels = cv2.resize(labels, (gt.width, gt.height), interpolation=cv2.INTER_NEAREST)
        metric.update(frame, labels, gt.read(frame))
    return metric.compute(name=name or pred.name, sequence=gt.name)


def score_dataset(
    preds: Mapping[str, MaskSequence],
    gts: Mapping[str, MaskSequence],
    name: str = "",
    resize: str = "error",
    common_frames_only: bool = False,
    bound_th: float = DEFAULT_BOUND_TH,
) -> DatasetAccuracy:
    """Score every ground-truth sequence (sorted by name) with the prediction of the same name.

    Predicted sequences without ground truth are ignored.
    """
    if not gts:
        raise AccuracyError("no ground-truth sequences to score.")
    results = []
    for sequence in sorted(gts):
        if sequence not in preds:
            available = ", ".join(sorted(preds)) or "none"
            raise AccuracyError(f"no prediction for ground-truth sequence {sequence!r} (predictions: {available}).")
        results.append(score_sequence(preds[sequence], gts[sequence], name, resize, common_frames_only, bound_th))
    return DatasetAccuracy(name=name, sequences=tuple(results))


def _check_resize(resize: str) -> None:
    if resize not in RESIZE_MODES:
        raise AccuracyError(f"resize must be one of {', '.join(map(repr, RESIZE_MODES))}, got {resize!r}.")


def _frames_to_score(pred: MaskSequence, gt: MaskSequence, common_frames_only: bool) -> tuple[int, ...]:
    unpredicted = [frame for frame in gt.frames if frame not in pred]
    if not unpredicted:
        return gt.frames
    if not common_frames_only:
        raise AccuracyError(
            f"prediction {_describe(pred)} has no mask for annotated frame {unpredicted[0]} of ground truth "
            f"{_describe(gt)} ({len(unpredicted)} of {len(gt.frames)} annotated frames unpredicted); "
            "use common_frames_only=True to score only the frames both have."
        )
    frames = tuple(frame for frame in gt.frames if frame in pred)
    if not frames:
        raise AccuracyError(f"prediction {_describe(pred)} and ground truth {_describe(gt)} have no frame in common.")
    return frames


def _needs_resize(pred: MaskSequence, gt: MaskSequence, resize: str) -> bool:
    if (pred.height, pred.width) == (gt.height, gt.width):
        return False
    if resize == "nearest":
        return True
    raise AccuracyError(
        f"prediction {_describe(pred)} is {_size(pred.height, pred.width)} but ground truth {_describe(gt)} is "
        f"{_size(gt.height, gt.width)}; use resize='nearest' to resize the prediction to the ground truth's size."
    )


# ---------------------------------------------------------------------------------------------------------------
# Agreement between two predictions (no ground truth)


def agreement(a: MaskSequence, b: MaskSequence, name_a: str = "A", name_b: str = "B") -> AgreementResult:
    """Per-object IoU between two predictions and the share of pixels whose label differs, on their common frames.

    Pixels that are void (255) in either prediction are left out of both measures. An object absent from both on a
    frame has IoU 1 there; a frame where every pixel is void has a NaN differing share.
    """
    if (a.height, a.width) != (b.height, b.width):
        raise AccuracyError(
            f"{name_a} {_describe(a)} is {_size(a.height, a.width)} but {name_b} {_describe(b)} is "
            f"{_size(b.height, b.width)}; agreement needs predictions of one size."
        )
    frames = tuple(sorted(set(a.frames) & set(b.frames)))
    if not frames:
        raise AccuracyError(f"{name_a} {_describe(a)} and {name_b} {_describe(b)} have no frame in common.")
    per_frame: list[dict[int, float]] = []
    differing = np.zeros(len(frames), dtype=np.int64)
    scored = np.zeros(len(frames), dtype=np.int64)
    for row, frame in enumerate(frames):
        labels_a = as_label_map(a.read(frame), f"{name_a}, frame {frame}")
        labels_b = as_label_map(b.read(frame), f"{name_b}, frame {frame}")
        ious, differing[row], scored[row] = _compare_frame(labels_a, labels_b)
        per_frame.append(ious)
    object_ids = tuple(sorted(set().union(*per_frame)))
    iou = np.array([[ious.get(obj, 1.0) for obj in object_ids] for ious in per_frame]).reshape(
        len(frames), len(object_ids)
    )
    share = np.where(scored > 0, differing / np.maximum(scored, 1), np.nan)
    return AgreementResult(name_a, name_b, frames, object_ids, iou, differing, share)


def _compare_frame(labels_a: np.ndarray, labels_b: np.ndarray) -> tuple[dict[int, float], int, int]:
    """({object: IoU}, differing pixels, scored pixels) of two label maps of one frame."""
    windows_a, windows_b = label_windows(labels_a), label_windows(labels_b)
    has_void = windows_a.pop(VOID, None) is not None
    has_void = windows_b.pop(VOID, None) is not None or has_void
    ious = {}
    for obj in sorted(windows_a.keys() | windows_b.keys()):
        window = windows_a[obj].union(windows_b.get(obj)) if obj in windows_a else windows_b[obj]
        rows, cols = window.slices
        crop_a, crop_b = labels_a[rows, cols], labels_b[rows, cols]
        void = (crop_a == VOID) | (crop_b == VOID) if has_void else None
        ious[obj] = jaccard_from_counts(*region_counts(crop_a == obj, crop_b == obj, void))
    if not has_void:
        return ious, int(np.count_nonzero(labels_a != labels_b)), labels_a.size
    valid = (labels_a != VOID) & (labels_b != VOID)
    return ious, int(np.count_nonzero((labels_a != labels_b) & valid)), int(np.count_nonzero(valid))
