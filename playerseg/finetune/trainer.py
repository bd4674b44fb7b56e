"""The finetuning loop: stage 1 on frames, stage 2 on clips, validation and early stopping on J&F.

    result = finetune(FinetuneConfig(data="data/", base="sam2.1-small", out="models/my-team"))

Each stage trains its own parameters (model.py) with AdamW, a linear warm-up then cosine learning-rate schedule,
gradient accumulation and, on GPU, bf16 autocast. After every epoch the model tracks the validation sequences
(validate.py); the best epoch's weights are kept, and a stage stops after `patience` epochs without a better
validation J&F. Validation before any training counts as the starting point, so a stage never hands on weights
that validate worse than what it started from.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np

from evaluation.datasets.davis import DavisSequence
from playerseg.finetune.augment import AugmentSettings
from playerseg.finetune.batches import Batch, BatchMaker
from playerseg.finetune.data import (
    ClipSample,
    FinetuneError,
    FrameSample,
    Split,
    clip_samples,
    frame_samples,
)
from playerseg.finetune.losses import sam_loss
from playerseg.finetune.model import (
    HeadOutput,
    clip_forward,
    drop_inference_caches,
    frame_forward,
    image_features,
    normalise,
    set_trainable,
    train_mode,
    trainable_prefixes,
)
from playerseg.finetune.prompting import SampledPrompt, collate_prompts
from playerseg.finetune.settings import TrainSettings
from playerseg.finetune.validate import ValidationResult, validate
from playerseg.tracking.registry import LoadedModel

WARMUP_SHARE = 0.05  # share of a stage's optimiser steps spent warming the learning rate up

T = TypeVar("T")


@dataclass(frozen=True)
class EpochRecord:
    """One row of metrics.csv."""

    stage: str
    epoch: int  # 0 = validation before this stage trained
    train_loss: float
    train_mask: float
    train_dice: float
    train_iou: float
    train_object_score: float
    lr: float
    steps: int
    step_seconds: float  # mean wall time of an optimiser step
    peak_memory_mb: float  # CUDA peak allocated, or process RSS high-water mark on CPU
    val: ValidationResult
    best: bool

    def row(self) -> dict[str, Any]:
        row = {k: v for k, v in self.__dict__.items() if k != "val"}
        row.update({f"val_{k}": v for k, v in self.val.to_dict().items() if k != "prompt"})
        return row


@dataclass
class StageResult:
    stage: str
    epochs: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False

    @property
    def best(self) -> EpochRecord:
        return next(r for r in self.epochs if r.epoch == self.best_epoch)


@dataclass
class TrainingResult:
    val_before: ValidationResult
    val_after: ValidationResult
    stages: list[StageResult]
    seconds: float

    @property
    def records(self) -> list[EpochRecord]:
        return [record for stage in self.stages for record in stage.epochs]


def _batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class _Schedule:
    """Linear warm-up, then cosine decay to zero over the stage's optimiser steps."""

    def __init__(self, total_steps: int) -> None:
        self.total = max(1, total_steps)
        self.warmup = max(1, round(self.total * WARMUP_SHARE))

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        progress = (step - self.warmup) / max(1, self.total - self.warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


class Trainer:
    """Runs the stages of one finetuning run on a loaded model (its predictor is trained in place)."""

    def __init__(
        self,
        model: LoadedModel,
        sequences: Mapping[str, DavisSequence],
        split: Split,
        settings: TrainSettings,
        report: Callable[[str], None] = lambda line: None,
        progress: Callable[[Iterable[Any], str, int], Iterable[Any]] | None = None,
    ) -> None:
        self.model = model
        self.net = model.predictor
        self.sequences = sequences
        self.split = split
        self.settings = settings
        self.report = report
        self.progress = progress or (lambda items, desc, total: items)
        self.rng = np.random.default_rng(settings.seed)
        self.size = model.spec.image_size
        self.device = model.device
        augment = AugmentSettings() if settings.augment else AugmentSettings.off()
        self.batches = BatchMaker(sequences, settings, self.rng, model.spec.image_size, model.device, augment)

    # -- validation -------------------------------------------------------------------------------------------

    def validate(self) -> ValidationResult:
        self.net.eval()
        try:
            return validate(self.model, self.sequences, self.split.val, self.settings.val_prompt)
        finally:
            drop_inference_caches(self.net)

    # -- the run ----------------------------------------------------------------------------------------------

    def run(self) -> TrainingResult:
        import torch

        started = time.perf_counter()
        torch.manual_seed(self.settings.seed)
        val_before = self.validate()
        self.report(f"validation before training: {describe(val_before)}")
        results, current = [], val_before
        for stage in self.settings.stages:
            result = self.run_stage(stage, current)
            results.append(result)
            current = result.best.val
        set_trainable(self.net, ())
        self.net.eval()
        return TrainingResult(val_before, current, results, time.perf_counter() - started)

    def _samples(self, stage: str, names: Sequence[str]) -> list[FrameSample] | list[ClipSample]:
        if stage == "frames":
            return frame_samples(self.sequences, names)
        return clip_samples(self.sequences, names, self.settings.clip_length)

    def run_stage(self, stage: str, start: ValidationResult) -> StageResult:
        import torch

        settings = self.settings
        samples = self._samples(stage, self.split.train)
        if not samples:
            raise FinetuneError(f"The training sequences have no annotated frames for the {stage} stage.")
        prefixes = trainable_prefixes(stage, settings.train_prompt_encoder, settings.pretrain)
        parameters = set_trainable(self.net, prefixes, settings.trains_encoder(stage))
        optimiser = torch.optim.AdamW(parameters, lr=settings.lr, weight_decay=settings.weight_decay)
        batches_per_epoch = math.ceil(len(samples) / settings.batch_size)
        epochs, max_steps = settings.epochs_for(stage), settings.max_steps_for(stage)
        if max_steps is not None:
            batches_per_epoch = min(batches_per_epoch, max_steps * settings.accumulate)
        steps_per_epoch = math.ceil(batches_per_epoch / settings.accumulate)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, _Schedule(steps_per_epoch * epochs))
        result = StageResult(stage)
        result.epochs.append(_start_record(stage, start))
        best_jf, best_state, waited = start.score(stage), _copy_state(parameters), 0
        for epoch in range(1, epochs + 1):
            record = self._train_epoch(stage, epoch, samples, batches_per_epoch, optimiser, scheduler, parameters)
            improved = record.val.score(stage) > best_jf + 1e-9
            record = replace(record, best=improved)
            result.epochs.append(record)
            self.report(_epoch_line(record))
            if improved:
                best_jf, best_state, waited = record.val.score(stage), _copy_state(parameters), 0
                result.best_epoch = epoch
            else:
                waited += 1
                if waited >= settings.patience and epoch < epochs:
                    result.stopped_early = True
                    self.report(f"{stage}: no better validation J&F for {waited} epochs, stopping early")
                    break
        _restore_state(parameters, best_state)
        result.epochs[0] = replace(result.epochs[0], best=result.best_epoch == 0)
        self.report(f"{stage}: keeping epoch {result.best_epoch} ({_judged_on(stage)} {best_jf:.3f})")
        return result

    def _train_epoch(
        self,
        stage: str,
        epoch: int,
        samples: Sequence[Any],
        batch_count: int,
        optimiser: Any,
        scheduler: Any,
        parameters: list[Any],
    ) -> EpochRecord:
        import torch

        order = self.rng.permutation(len(samples))[: batch_count * self.settings.batch_size]
        batches = list(_batches([samples[i] for i in order], self.settings.batch_size))
        totals: dict[str, float] = {}
        counted, steps, step_seconds = 0, 0, 0.0
        _reset_peak_memory(self.device)
        train_mode(self.net, self.settings.trains_encoder(stage))
        optimiser.zero_grad(set_to_none=True)
        step_started = time.perf_counter()
        bar = self.progress(batches, f"{stage} epoch {epoch}", len(batches))
        for index, batch_samples in enumerate(bar, start=1):
            terms = self._batch_loss(stage, batch_samples)
            if terms is not None:
                (terms.total / self.settings.accumulate).backward()
                for key, value in terms.as_floats().items():
                    totals[key] = totals.get(key, 0.0) + value
                counted += 1
            if index % self.settings.accumulate == 0 or index == len(batches):
                torch.nn.utils.clip_grad_norm_(parameters, max_norm=1.0)
                optimiser.step()
                optimiser.zero_grad(set_to_none=True)
                scheduler.step()
                steps += 1
                _synchronize(self.device)
                step_seconds += time.perf_counter() - step_started
                step_started = time.perf_counter()
        lr = optimiser.param_groups[0]["lr"]
        peak = _peak_memory_mb(self.device)
        val = self.validate()
        mean = {key: value / max(counted, 1) for key, value in totals.items()}
        return EpochRecord(
            stage=stage,
            epoch=epoch,
            train_loss=mean.get("total", math.nan),
            train_mask=mean.get("mask", math.nan),
            train_dice=mean.get("dice", math.nan),
            train_iou=mean.get("iou", math.nan),
            train_object_score=mean.get("object_score", math.nan),
            lr=lr,
            steps=steps,
            step_seconds=step_seconds / max(steps, 1),
            peak_memory_mb=peak,
            val=val,
            best=False,
        )

    # -- one batch --------------------------------------------------------------------------------------------

    def _autocast(self) -> AbstractContextManager[Any]:
        import torch

        if self.device.startswith("cuda"):
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return nullcontext()

    def _batch_loss(self, stage: str, samples: list[Any]) -> Any:
        """The batch's loss terms (None when no sample had a visible object)."""
        batches = [self.batches.frames(samples)] if stage == "frames" else [self.batches.clip(s) for s in samples]
        weighted = []
        for batch in (b for b in batches if b is not None):
            with self._autocast():
                features = image_features(self.net, normalise(batch.images), self.settings.trains_encoder(stage))
            # SAM2 answers a single click with 3 candidate masks and any other prompt with one: each group takes its
            # own decoder path, as it will when users prompt the model
            for group in prompt_groups(batch.prompts):
                coords, labels = (t.to(self.device) for t in collate_prompts([batch.prompts[i] for i in group]))
                index = torch_index(group, self.device)
                with self._autocast():
                    if stage == "frames":
                        owners = features.select(batch.image_of_object[index])
                        outputs = [frame_forward(self.net, owners, coords, labels)]
                    else:
                        frames = [
                            features.select(torch_index([t] * len(group), self.device))
                            for t in range(len(batch.images))
                        ]
                        outputs = clip_forward(self.net, frames, coords, labels)
                weighted.append((self._loss(outputs, batch, index), len(group)))
        return _weighted_terms(weighted) if weighted else None

    def _loss(self, outputs: list[HeadOutput], batch: Batch, index: Any) -> Any:
        """Mean over frames of SAM2's loss for the objects `index` of the batch."""
        terms = [
            sam_loss(
                out.multimask_logits.float(),
                out.iou_predictions.float(),
                out.object_score_logits.float(),
                batch.targets[t][index],
                batch.valid[t][index],
                self.settings.mask_loss,
                self.settings.loss_weights,
            )
            for t, out in enumerate(outputs)
        ]
        return _weighted_terms([(term, 1) for term in terms])


def prompt_groups(prompts: Sequence[SampledPrompt]) -> list[list[int]]:
    """Indices of single-click prompts and of the others (each non-empty group once)."""
    single = [i for i, p in enumerate(prompts) if len(p.labels) == 1]
    other = [i for i, p in enumerate(prompts) if len(p.labels) != 1]
    return [group for group in (single, other) if group]


def torch_index(values: Sequence[int], device: str) -> Any:
    import torch

    return torch.tensor(list(values), dtype=torch.long, device=device)


def _weighted_terms(terms: list[tuple[Any, int]]) -> Any:
    """Loss terms averaged with weights (object counts); one entry comes back as it is."""
    if len(terms) == 1:
        return terms[0][0]
    total = sum(weight for _, weight in terms)
    fields = terms[0][0].__dict__
    return type(terms[0][0])(**{key: sum(getattr(t, key) * w for t, w in terms) / total for key in fields})


def _start_record(stage: str, val: ValidationResult) -> EpochRecord:
    nan = math.nan
    return EpochRecord(stage, 0, nan, nan, nan, nan, nan, 0.0, 0, 0.0, nan, val, best=True)


def _copy_state(parameters: list[Any]) -> list[Any]:
    return [p.detach().to("cpu", copy=True) for p in parameters]


def _restore_state(parameters: list[Any], state: list[Any]) -> None:
    import torch

    with torch.no_grad():
        for parameter, saved in zip(parameters, state):
            parameter.copy_(saved.to(parameter.device))


def _synchronize(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _reset_peak_memory(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()


def _peak_memory_mb(device: str) -> float:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def _judged_on(stage: str) -> str:
    return "validation frame J&F" if stage == "frames" else "validation video J&F"


def describe(val: ValidationResult) -> str:
    return (
        f"video J&F {val.JF:.3f} (J {val.J:.3f}, F {val.F:.3f}), frame J&F {val.frame_JF:.3f}, consecutive IoU "
        f"{_fmt(val.consecutive_iou)}, area volatility {_fmt(val.area_volatility)} over {val.objects} objects in "
        f"{val.sequences} sequences"
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"


def _epoch_line(record: EpochRecord) -> str:
    marker = "  (best)" if record.best else ""
    return (
        f"{record.stage} epoch {record.epoch}: train loss {record.train_loss:.4f}, val J&F video {record.val.JF:.3f} "
        f"frames {record.val.frame_JF:.3f}, "
        f"consecutive IoU {_fmt(record.val.consecutive_iou)}, lr {record.lr:.2e}, "
        f"{record.step_seconds:.2f} s/step{marker}"
    )
