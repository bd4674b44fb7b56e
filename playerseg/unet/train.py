"""Training the U-Net baseline: the finetune pipeline's data, split and outputs, the seeds' direct PyTorch recipe.

Frames come from any DAVIS-layout root through the finetune reader (sequences split into train and val, frames at
the square input size); the target of a frame is every annotated object's pixels ("player"), void pixels ignored.
Each training frame gets its own augmentation draw (flip, rotation, scale, colour, blur). The loss is BCE + Dice.
After every epoch the whole val split is scored (loss, foreground IoU over all val pixels); the best epoch's weights
are kept. OUT gets checkpoint.pt, model.json (`"family": "unet"`, so OUT is a model name), metrics.csv and
curves.html, written whole at the end.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.sequence import VOID
from playerseg.finetune.augment import AugmentSettings, augment_clip, draw_augmentation
from playerseg.finetune.data import (
    DEFAULT_VAL_FRACTION,
    FinetuneError,
    FrameSample,
    Split,
    data_fingerprint,
    frame_samples,
    load_training_root,
    read_resized,
    read_split_file,
    split_sequences,
    usable_frames,
)
from playerseg.tracking.unet_net import UNet, UNetConfig, build_unet, normalise, parameter_count


@dataclass(frozen=True)
class UNetTrainJob:
    """One `python -m playerseg.unet train`: data, where to write, and the settings."""

    data: Path
    out: Path
    epochs: int = 20
    lr: float = 2e-3
    batch_size: int = 8
    config: UNetConfig = field(default_factory=UNetConfig)
    seed: int = 0
    val_fraction: float = DEFAULT_VAL_FRACTION
    split_file: Path | None = None
    device: str = "cpu"
    max_steps_per_epoch: int | None = None
    synthetic_data: bool = False  # the data is synthetic footage: the model says so wherever it is used

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise FinetuneError("--epochs and --batch-size must be at least 1.")
        if not 0.0 < self.lr < 1.0:
            raise FinetuneError(f"--lr must be between 0 and 1, got {self.lr}.")
        if self.max_steps_per_epoch is not None and self.max_steps_per_epoch < 1:
            raise FinetuneError("--max-steps-per-epoch must be at least 1.")


@dataclass(frozen=True)
class EpochRow:
    """One line of metrics.csv; epoch 0 is the validation before training."""

    epoch: int
    train_loss: float
    val_loss: float
    val_iou: float
    lr: float
    seconds: float


@dataclass
class UNetTraining:
    """What training produced: the per-epoch rows, the best epoch and its weights."""

    rows: list[EpochRow]
    best_epoch: int
    best_state: dict[str, Any]
    split: Split
    sequences: dict[str, Any]
    seconds: float

    @property
    def best(self) -> EpochRow:
        return next(row for row in self.rows if row.epoch == self.best_epoch)


ProgressCallback = Callable[[str], None]


def targets(labels: Any) -> tuple[Any, Any]:
    """Label maps (N, S, S) -> float "player" targets and the valid (not void) pixels."""
    return ((labels > 0) & (labels != VOID)).float(), labels != VOID


def unet_loss(logits: Any, labels: Any) -> Any:
    """BCE + Dice over the valid pixels of each frame, averaged over the frames."""
    from playerseg.finetune.losses import bce_loss, dice_loss

    target, valid = targets(labels)
    return (bce_loss(logits, target, valid) + dice_loss(logits, target, valid)).mean()


def _read_batch(
    sequences: dict[str, Any], samples: Sequence[FrameSample], size: int, rng: np.random.Generator | None
) -> tuple[Any, Any]:
    """uint8 images (N, 3, S, S) and labels (N, S, S); each frame augmented by its own draw when `rng` is given."""
    import torch

    images, labels = [], []
    augment = AugmentSettings()
    for sample in samples:
        image, label = read_resized(sequences[sample.sequence], [sample.frame], size)
        image_t, label_t = torch.from_numpy(image), torch.from_numpy(label)
        if rng is not None:
            image_t, label_t = augment_clip(draw_augmentation(augment, rng), image_t, label_t)
        images.append(image_t)
        labels.append(label_t)
    return torch.cat(images), torch.cat(labels)


def validate(
    net: UNet, sequences: dict[str, Any], samples: list[FrameSample], job: UNetTrainJob
) -> tuple[float, float]:
    """Mean loss over the val frames and the foreground IoU over all their valid pixels."""
    import torch

    net.eval()
    losses, intersection, union = [], 0, 0
    with torch.inference_mode():
        for start in range(0, len(samples), job.batch_size):
            images, labels = _read_batch(
                sequences, samples[start : start + job.batch_size], job.config.image_size, None
            )
            logits = net(normalise(images.to(job.device)))[:, 0]
            labels = labels.to(job.device)
            losses.append(float(unet_loss(logits, labels)) * len(images))
            target, valid = targets(labels)
            predicted = (logits > 0) & valid
            intersection += int((predicted & target.bool()).sum())
            union += int((predicted | (target.bool() & valid)).sum())
    return sum(losses) / max(1, len(samples)), intersection / union if union else 1.0


def _split(job: UNetTrainJob, names: list[str]) -> Split:
    if job.split_file is not None:
        return read_split_file(job.split_file, names)
    return split_sequences(names, job.val_fraction, job.seed)


def train_unet(job: UNetTrainJob, progress: ProgressCallback | None = None) -> UNetTraining:
    """Train from the job's seed; the best epoch by val IoU wins (the earliest on ties)."""
    import torch

    started = time.perf_counter()
    sequences = load_training_root(job.data)
    split = _split(job, sorted(sequences))
    train_samples = frame_samples(sequences, split.train)
    val_samples = frame_samples(sequences, split.val)
    net = build_unet(job.config, job.seed).to(job.device)
    optimiser = torch.optim.AdamW(net.parameters(), lr=job.lr, weight_decay=1e-4)
    steps = -(-len(train_samples) // job.batch_size)
    steps = min(steps, job.max_steps_per_epoch or steps)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=job.lr, total_steps=steps * job.epochs)
    rng = np.random.default_rng(job.seed)
    val_loss, val_iou = validate(net, sequences, val_samples, job)
    rows = [EpochRow(0, float("nan"), val_loss, val_iou, 0.0, 0.0)]
    best_state = _state(net)
    for epoch in range(1, job.epochs + 1):
        epoch_started = time.perf_counter()
        train_loss = _epoch(net, optimiser, schedule, sequences, train_samples, rng, steps, job)
        val_loss, val_iou = validate(net, sequences, val_samples, job)
        seconds = round(time.perf_counter() - epoch_started, 2)
        rows.append(EpochRow(epoch, train_loss, val_loss, val_iou, schedule.get_last_lr()[0], seconds))
        if val_iou > max(row.val_iou for row in rows[:-1]):
            best_state = _state(net)
        if progress is not None:
            progress(
                f"epoch {epoch}/{job.epochs}: train loss {train_loss:.4f}, val loss {val_loss:.4f}, "
                f"val IoU {val_iou:.3f}"
            )
    best_epoch = max(rows, key=lambda row: (row.val_iou, -row.epoch)).epoch
    return UNetTraining(rows, best_epoch, best_state, split, sequences, time.perf_counter() - started)


def _state(net: UNet) -> dict[str, Any]:
    return {key: value.detach().to("cpu").clone() for key, value in net.state_dict().items()}


def _epoch(
    net: UNet,
    optimiser: Any,
    schedule: Any,
    sequences: dict[str, Any],
    samples: list[FrameSample],
    rng: np.random.Generator,
    steps: int,
    job: UNetTrainJob,
) -> float:
    """One pass over a shuffled order of the training frames (at most `steps` batches); the mean loss."""
    net.train()
    order = rng.permutation(len(samples))
    losses = []
    for step in range(steps):
        batch = [samples[i] for i in order[step * job.batch_size : (step + 1) * job.batch_size]]
        if not batch:
            break
        images, labels = _read_batch(sequences, batch, job.config.image_size, rng)
        logits = net(normalise(images.to(job.device)))[:, 0]
        loss = unet_loss(logits, labels.to(job.device))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses)) if losses else float("nan")


def model_facts(job: UNetTrainJob, training: UNetTraining, checkpoint_sha: str) -> dict[str, Any]:
    """model.json: what the registry needs (family, architecture) and what a reader needs (data, split, figures)."""
    sequences = training.sequences
    return {
        "name": job.out.resolve().name,
        "family": "unet",
        "unet": job.config.to_dict(),
        "image_size": job.config.image_size,
        "parameters": parameter_count(build_unet(job.config, 0)),
        "weights": "trained",
        "synthetic_only": job.synthetic_data,
        "loss": "bce+dice",
        "hyperparameters": {
            "epochs": job.epochs,
            "lr": job.lr,
            "batch_size": job.batch_size,
            "seed": job.seed,
            "max_steps_per_epoch": job.max_steps_per_epoch,
            "augmentation": asdict(AugmentSettings()),
        },
        "data": {
            "root": str(Path(job.data).resolve()),
            "files_sha256": data_fingerprint(job.data, sequences),
            "split": training.split.to_dict(),
            "frames": {
                side: sum(len(usable_frames(sequences[n])) for n in names)
                for side, names in (("train", training.split.train), ("val", training.split.val))
            },
        },
        "checkpoint": "checkpoint.pt",
        "checkpoint_sha256": checkpoint_sha,
        "best_epoch": training.best_epoch,
        "val_iou": round(training.best.val_iou, 4),
        "val_iou_before": round(training.rows[0].val_iou, 4),
        "device": job.device,
        "training_seconds": round(training.seconds, 1),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
