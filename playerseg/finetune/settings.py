"""The settings of one finetuning run: which stages, the optimiser's hyper-parameters, batches and clips, the
mask loss, augmentation and the validation prompt; each checked when made, with a sentence naming the bad value."""

from __future__ import annotations

import math
from dataclasses import dataclass

from playerseg.finetune.data import FinetuneError
from playerseg.finetune.losses import MASK_LOSSES, LossWeights
from playerseg.finetune.model import STAGES
from playerseg.finetune.validate import VAL_PROMPTS

STAGE_CHOICES = ("frames", "clips", "both", "pretrain")


@dataclass(frozen=True)
class TrainSettings:
    """Hyper-parameters of one finetuning run (defaults: the seeds' known-good settings for real SAM2 weights)."""

    # frames, clips or both (frames, then clips from the frames stage's best weights); pretrain: both, training every
    # part of a model built from scratch (image encoder and prompt encoder in the frames stage)
    stage: str = "frames"
    epochs: int = 15
    lr: float = 1e-5
    batch_size: int = 4  # frames (stage 1) or clips (stage 2) per optimiser step, before accumulation
    weight_decay: float = 0.01
    patience: int = 3  # epochs without a better validation J&F before a stage stops
    accumulate: int = 1  # batches per optimiser step
    clip_length: int = 8
    max_objects: int = 8  # objects per frame or clip (a random subset when more are annotated)
    mask_loss: str = "focal"  # focal (SAM2's own, weight 20) or bce (weight 1)
    augment: bool = True
    train_prompt_encoder: bool = False
    val_prompt: str = "click"
    max_steps_per_epoch: int | None = None  # smoke runs: cut each epoch short
    # the clips stage's own epochs and cut (None: as the frames stage); a clip step costs clip_length frames
    clip_epochs: int | None = None
    clip_max_steps_per_epoch: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.stage not in STAGE_CHOICES:
            raise FinetuneError(f"Unknown stage {self.stage!r}: use one of {', '.join(STAGE_CHOICES)}.")
        if self.mask_loss not in MASK_LOSSES:
            raise FinetuneError(f"Unknown mask loss {self.mask_loss!r}: use one of {', '.join(MASK_LOSSES)}.")
        if self.val_prompt not in VAL_PROMPTS:
            raise FinetuneError(f"Unknown validation prompt {self.val_prompt!r}: use one of {', '.join(VAL_PROMPTS)}.")
        whole = {
            "epochs": self.epochs,
            "batch size": self.batch_size,
            "patience": self.patience,
            "accumulate": self.accumulate,
            "clip length": self.clip_length,
            "max objects": self.max_objects,
        }
        for name, value in whole.items():
            if value < 1:
                raise FinetuneError(f"The {name} must be at least 1, got {value}.")
        if self.clip_length < 2:
            raise FinetuneError(f"A training clip needs at least 2 frames, got {self.clip_length}.")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise FinetuneError(f"The learning rate must be a positive number, got {self.lr}.")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise FinetuneError(f"The weight decay must be 0 or more, got {self.weight_decay}.")
        optional = {
            "max steps per epoch": self.max_steps_per_epoch,
            "clip epochs": self.clip_epochs,
            "clip max steps per epoch": self.clip_max_steps_per_epoch,
        }
        for name, value in optional.items():
            if value is not None and value < 1:
                raise FinetuneError(f"The {name} must be at least 1, got {value}.")

    @property
    def stages(self) -> tuple[str, ...]:
        return STAGES if self.stage in ("both", "pretrain") else (self.stage,)

    def epochs_for(self, stage: str) -> int:
        return self.clip_epochs if stage == "clips" and self.clip_epochs is not None else self.epochs

    def max_steps_for(self, stage: str) -> int | None:
        if stage == "clips" and self.clip_max_steps_per_epoch is not None:
            return self.clip_max_steps_per_epoch
        return self.max_steps_per_epoch

    @property
    def pretrain(self) -> bool:
        return self.stage == "pretrain"

    def trains_encoder(self, stage: str) -> bool:
        """The image encoder trains only in pretraining's frames stage."""
        return self.pretrain and stage == "frames"

    @property
    def loss_weights(self) -> LossWeights:
        return LossWeights() if self.mask_loss == "focal" else LossWeights(mask=1.0)
