"""Validation on the held-out sequences, two ways, with the prompts a user would give:

- video (J, F, JF and the flicker metrics): the real tracker follows each object from one prompt on the first frame
  it is annotated on, as in the app. This is the headline and what stage 2 (clips) is judged on.
- frames (frame_J, frame_F, frame_JF): every annotated frame is segmented on its own from a prompt on that frame
  (SAM2's image path, no memory). This is what stage 1 (frames) trains, and what it is judged on.

A prompt is a click at the object's deepest interior point ("click", how users click) or its tight box ("box",
what the auto-labeler's detector gives). The same prompts are used before and after training.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from evaluation.accuracy import JFMetric
from evaluation.datasets.davis import DavisSequence
from evaluation.results.accuracy import AccuracyResult, DatasetAccuracy
from evaluation.results.temporal import ObjectStability
from evaluation.sequence import VOID
from evaluation.temporal import TemporalMetric
from playerseg.finetune.data import usable_frames
from playerseg.finetune.model import frame_forward, image_features
from playerseg.finetune.prompting import SampledPrompt, box_prompt, click_prompt, collate_prompts, scale_prompt
from playerseg.io.masks import MaskTrack
from playerseg.io.prompts import Box, Point, Prompt
from playerseg.tracking.frames import preprocess_frame
from playerseg.tracking.registry import LoadedModel
from playerseg.tracking.tracker import Sam2VideoTracker

VAL_PROMPTS = ("click", "box")


@dataclass(frozen=True)
class ValidationResult:
    """Validation figures over all objects of all validation sequences (DAVIS: per object, then the mean)."""

    J: float  # video: tracked from first-frame prompts
    F: float
    JF: float
    J_recall: float
    frame_J: float  # frames: each frame prompted on its own
    frame_F: float
    frame_JF: float
    consecutive_iou: float  # flicker: higher is steadier
    flow_consistency: float | None  # higher is steadier; None without frames
    area_volatility: float  # lower is steadier
    centroid_jitter_px: float  # lower
    boundary_flip_rate: float  # lower
    presence_toggles: int  # lower
    sequences: int
    objects: int
    frames: int
    prompt: str

    def score(self, stage: str) -> float:
        """The J&F a stage is judged on (early stopping): frames for stage 1, video for stage 2."""
        return self.frame_JF if stage == "frames" else self.JF

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


class _SequenceFrames:
    """A sequence's usable frames as the tracker's frame source (index i -> i-th usable frame)."""

    def __init__(self, sequence: DavisSequence, frames: Sequence[int]) -> None:
        assert sequence.frames is not None
        self._folder = sequence.frames
        self._frames = list(frames)
        self.width = sequence.frames.width
        self.height = sequence.frames.height

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: int) -> np.ndarray:
        return self._folder.read(self._frames[index])


def _object_prompt(mask: np.ndarray, kind: str) -> SampledPrompt:
    return click_prompt(mask) if kind == "click" else box_prompt(mask)


def first_frame_prompts(sequence: DavisSequence, frames: Sequence[int], kind: str) -> list[Prompt]:
    """One prompt per object, on the first of `frames` (as tracker indices) where it is annotated."""
    if kind not in VAL_PROMPTS:
        raise ValueError(f"Unknown validation prompt {kind!r}: use one of {', '.join(VAL_PROMPTS)}.")
    prompts: dict[int, Prompt] = {}
    for index, frame in enumerate(frames):
        labels = sequence.masks.read(frame)
        for obj in (int(v) for v in np.unique(labels)):
            if obj in (0, VOID) or obj in prompts:
                continue
            coords = _object_prompt(labels == obj, kind).coords.tolist()
            if kind == "click":
                prompts[obj] = Prompt(frame=index, object_id=obj, points=(Point(*coords[0], True),))
            else:
                prompts[obj] = Prompt(frame=index, object_id=obj, box=Box(*coords[0], *coords[1]))
    return list(prompts.values())


def validate_sequence(
    model: LoadedModel, sequence: DavisSequence, prompt: str = "click"
) -> tuple[AccuracyResult, tuple[ObjectStability, ...], int] | None:
    """Track one sequence and score it; None when it has no annotated object."""
    frames = usable_frames(sequence)
    prompts = first_frame_prompts(sequence, frames, prompt)
    if not prompts:
        return None
    source = _SequenceFrames(sequence, frames)
    predicted = MaskTrack(source.height, source.width)
    with Sam2VideoTracker(model, source) as tracker:
        tracker.add_prompts(prompts)
        for result in tracker.track():  # forward and backward passes each bring their own objects
            for obj, mask in result.masks.items():
                predicted.set(result.frame, obj, mask)
    jf, flicker = JFMetric(), TemporalMetric(flow=True)
    for index, frame in enumerate(frames):
        pred = predicted.label_map(index)
        jf.update(frame, pred, sequence.masks.read(frame))
        flicker.update(frame, pred, source[index])
    accuracy = jf.compute(name=model.spec.name, sequence=sequence.name)
    return accuracy, flicker.compute(name=sequence.name, accuracy=accuracy).objects, len(frames)


def segment_frame(model: LoadedModel, rgb: np.ndarray, labels: np.ndarray, prompt: str = "click") -> np.ndarray:
    """One frame segmented on its own (SAM2's image path) from a prompt per ground-truth object; a label map."""
    import torch

    objects = [int(v) for v in np.unique(labels) if v not in (0, VOID)]
    height, width = labels.shape
    result = np.zeros((height, width), dtype=np.uint8)
    if not objects:
        return result
    size = model.spec.image_size
    net = model.predictor
    prompts = [scale_prompt(_object_prompt(labels == obj, prompt), size / width, size / height) for obj in objects]
    coords, point_labels = collate_prompts(prompts)
    image = torch.from_numpy(preprocess_frame(rgb, size))[None].to(model.device)
    with torch.inference_mode():
        features = image_features(net, image).select(torch.zeros(len(objects), dtype=torch.long, device=model.device))
        output = frame_forward(net, features, coords.to(model.device), point_labels.to(model.device))
        # as SAM2's predictors do: of several candidates, the one with the highest predicted IoU
        best = output.iou_predictions.argmax(dim=1)
        logits = output.multimask_logits[torch.arange(len(objects)), best][:, None].float()
        upsampled = torch.nn.functional.interpolate(logits, size=(height, width), mode="bilinear", align_corners=False)[
            :, 0
        ]
        owner = upsampled.argmax(dim=0)
        positive = (upsampled.max(dim=0).values > 0).cpu().numpy()
    ids = np.array(objects, dtype=np.uint8)
    result[positive] = ids[owner.cpu().numpy()[positive]]
    return result


def frame_accuracy(model: LoadedModel, sequence: DavisSequence, prompt: str = "click") -> AccuracyResult | None:
    """J&F with every annotated frame segmented on its own; None when the sequence has no object."""
    assert sequence.frames is not None
    metric = JFMetric()
    for frame in usable_frames(sequence):
        labels = sequence.masks.read(frame)
        metric.update(frame, segment_frame(model, sequence.frames.read(frame), labels, prompt), labels)
    accuracy = metric.compute(name=model.spec.name, sequence=sequence.name)
    return accuracy if accuracy.object_ids else None


def _mean(values: Sequence[float | None]) -> float:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def validate(
    model: LoadedModel, sequences: Mapping[str, DavisSequence], names: Sequence[str], prompt: str = "click"
) -> ValidationResult:
    """J&F and flicker of `model` over the named sequences, each tracked from its first-frame prompts."""
    accuracies: list[AccuracyResult] = []
    per_frame: list[AccuracyResult] = []
    stability: list[ObjectStability] = []
    frame_count = 0
    for name in names:
        single = frame_accuracy(model, sequences[name], prompt)
        if single is not None:
            per_frame.append(single)
        scored = validate_sequence(model, sequences[name], prompt)
        if scored is None:
            continue
        accuracy, objects, frames = scored
        accuracies.append(accuracy)
        stability.extend(objects)
        frame_count += frames
    overall = DatasetAccuracy(name=model.spec.name, sequences=tuple(accuracies))
    frames_overall = DatasetAccuracy(name=model.spec.name, sequences=tuple(per_frame))
    flow = [o.flow_consistency for o in stability]
    return ValidationResult(
        J=overall.J_mean,
        F=overall.F_mean,
        JF=overall.JF_mean,
        J_recall=overall.J_recall,
        frame_J=frames_overall.J_mean,
        frame_F=frames_overall.F_mean,
        frame_JF=frames_overall.JF_mean,
        consecutive_iou=_mean([o.consecutive_iou for o in stability]),
        flow_consistency=_mean(flow) if any(v is not None for v in flow) else None,
        area_volatility=_mean([o.area_volatility for o in stability]),
        centroid_jitter_px=_mean([o.centroid_jitter_px for o in stability]),
        boundary_flip_rate=_mean([o.boundary_flip_rate for o in stability]),
        presence_toggles=int(sum(o.presence_toggles for o in stability)),
        sequences=len(accuracies),
        objects=sum(len(a.object_ids) for a in accuracies),
        frames=frame_count,
        prompt=prompt,
    )
