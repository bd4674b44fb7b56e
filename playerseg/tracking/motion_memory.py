"""Motion-aware memory (`+motion` models, after SAMURAI): which candidate mask sam2 keeps on a tracked frame, and
which tracked frames' memories it keeps.

The hook: sam2's mask decoder already gives three candidate masks with their predicted IoUs on tracked frames (the
SAM 2.1 configs set `multimask_output_for_tracking`), and `_forward_sam_heads` keeps the one with the highest
predicted IoU (its mask, and its output token as the object pointer). A forward hook on `sam_mask_decoder`
(`CandidateHook`, one per predictor) replaces the predicted IoUs it returns by the motion-aware scores while a
tracker's batch runs under `MotionMemory.choosing`, so sam2 keeps the candidate we choose, mask, pointer and memory
alike; nothing else of sam2's changes. The hook is thread-local: other runs on the same predictor are untouched.

`MotionMemory`: one `BoxKalmanFilter` per object and pass direction, started from the box of the object's prompted
mask nearest behind the frame (a later prompt restarts it). On a tracked frame each object's candidates are scored
against its filter's predicted box (`choose_candidate`), the chosen box updates the filter (not when the object
score is <= 0), and after the frame `gate` drops that frame's memory of each object whose mask is not confident
(`keeps_memory`); prompted frames are always kept. Boxes live in the decoder's low-resolution mask grid.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from playerseg.tracking.memory import Sam2Memory
from playerseg.tracking.motion import Box, BoxKalmanFilter, MotionSettings, choose_candidate, keeps_memory, mask_box

_INSTALL_LOCK = threading.Lock()


@dataclass(frozen=True)
class Choice:
    """What the motion-aware choice saw for one object on one tracked frame."""

    index: int  # the candidate kept
    predicted_iou: float  # the decoder's IoU estimate of that candidate
    kf_iou: float | None  # IoU of its box with the filter's predicted box; None without a filter
    object_score: float  # sam2's object-presence logit
    kept: bool = True  # whether the frame's memory was kept (set by the gate)


class CandidateHook:
    """A forward hook on sam2's mask decoder: while a scorer is set on this thread, the IoU predictions it returns
    are replaced by the scorer's (sam2 then keeps the argmax of those)."""

    def __init__(self) -> None:
        self._local = threading.local()

    @classmethod
    def on(cls, predictor: Any) -> CandidateHook:
        """The predictor's hook, installed the first time."""
        with _INSTALL_LOCK:
            hook = getattr(predictor, "_playerseg_candidate_hook", None)
            if hook is None:
                hook = cls()
                predictor.sam_mask_decoder.register_forward_hook(hook, with_kwargs=True)
                predictor._playerseg_candidate_hook = hook
            return hook

    @contextmanager
    def scoring(self, scorer: Any) -> Iterator[None]:
        """`scorer(masks, ious, object_scores)` -> scores like `ious`, for the decoder calls made inside."""
        self._local.scorer = scorer
        try:
            yield
        finally:
            self._local.scorer = None

    def __call__(self, _module: Any, _args: tuple, _kwargs: dict, output: tuple) -> tuple | None:
        scorer = getattr(self._local, "scorer", None)
        if scorer is None:
            return None
        masks, ious, tokens, object_scores = output
        return masks, scorer(masks, ious, object_scores), tokens, object_scores


class MotionMemory:
    """Per-object Kalman filters, the candidate choice on tracked frames and the memory gate."""

    def __init__(self, predictor: Any, memory: Sam2Memory, settings: MotionSettings | None = None) -> None:
        self.memory = memory
        self.settings = settings or MotionSettings()
        self._hook = CandidateHook.on(predictor)
        self._filters: dict[tuple[int, bool], tuple[BoxKalmanFilter, int]] = {}  # (object, reverse) -> filter, frame
        self.choices: dict[int, Choice] = {}  # object id -> the choice on the frame being processed
        self.dropped = 0  # tracked frames' memories dropped by the gate, all objects

    @contextmanager
    def choosing(self, frame: int, object_ids: list[int], reverse: bool) -> Iterator[None]:
        """sam2 runs these objects (batched, in this order) on a tracked frame inside: choose their candidates."""

        def scorer(masks: Any, ious: Any, object_scores: Any) -> Any:
            return self._score(frame, object_ids, reverse, masks, ious, object_scores)

        with self._hook.scoring(scorer):
            yield

    def _score(self, frame: int, object_ids: list[int], reverse: bool, masks: Any, ious: Any, scores: Any) -> Any:
        """Scores whose argmax per object is the motion-aware choice; records the choice and updates the filters."""
        boxes = candidate_boxes(masks)
        ious_np = ious.float().cpu().numpy()
        chosen = ious.new_zeros(ious.shape)
        for row, obj in enumerate(object_ids):
            kalman = self._filter(obj, frame, reverse)
            predicted = None if kalman is None else kalman.predict(abs(frame - self._filters[(obj, reverse)][1]))
            index, kf_ious = choose_candidate(boxes[row], list(ious_np[row]), predicted, self.settings.alpha)
            object_score = float(scores[row].float().max())
            kf_iou = None if predicted is None else kf_ious[index]
            self.choices[obj] = Choice(index, float(ious_np[row, index]), kf_iou, object_score)
            if kalman is not None:
                self._filters[(obj, reverse)] = (kalman, frame)
                if object_score > 0 and boxes[row][index] is not None:
                    kalman.update(boxes[row][index])
            chosen[row, index] = 1.0
        return chosen

    def _filter(self, obj: int, frame: int, reverse: bool) -> BoxKalmanFilter | None:
        """The object's filter for this pass direction, started from its prompted mask nearest behind the frame
        (the pass's first frame for an object is not always its prompted frame: going backward it is the one before)."""
        if (obj, reverse) not in self._filters:
            prompted = self.memory.outputs(obj)["cond_frame_outputs"]
            behind = [t for t in prompted if (t > frame if reverse else t < frame)]
            if behind:
                self.restart(obj, reverse, min(behind) if reverse else max(behind))
        found = self._filters.get((obj, reverse))
        return None if found is None else found[0]

    def restart(self, obj: int, reverse: bool, frame: int) -> None:
        """(Re)start the object's filter for this direction from its prompted mask on `frame`."""
        logits = self.memory.outputs(obj)["cond_frame_outputs"][frame]["pred_masks"]
        box = mask_box((logits[0, 0] > 0).cpu().numpy())
        if box is not None:
            self._filters[(obj, reverse)] = (BoxKalmanFilter(box), frame)

    def gate(self, frame: int, object_ids: list[int], reverse: bool) -> None:
        """After the frame: restart the filters of objects prompted on it, and drop the frame's memory of each
        tracked object whose mask is not confident."""
        for obj in object_ids:
            if self.memory.is_prompted(obj, frame):
                self.restart(obj, reverse, frame)
                continue
            choice = self.choices.pop(obj, None)
            if choice is None:
                continue
            if not keeps_memory(choice.object_score, choice.predicted_iou, choice.kf_iou, self.settings):
                self.memory.forget_frame(obj, frame)
                self.dropped += 1


def candidate_boxes(masks: Any) -> list[list[Box | None]]:
    """Per object and candidate (masks: BxMxhxw logits), the box of its pixels above 0."""
    on = masks > 0
    rows = on.any(dim=-1).cpu().numpy()  # BxMxh
    cols = on.any(dim=-2).cpu().numpy()  # BxMxw
    boxes: list[list[Box | None]] = []
    for obj_rows, obj_cols in zip(rows, cols):
        boxes.append([_box(r, c) for r, c in zip(obj_rows, obj_cols)])
    return boxes


def _box(rows: Any, cols: Any) -> Box | None:
    ys, xs = rows.nonzero()[0], cols.nonzero()[0]
    if ys.size == 0:
        return None
    return (float(xs[0]), float(ys[0]), float(xs[-1] + 1), float(ys[-1] + 1))
