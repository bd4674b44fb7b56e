"""Training batches for the finetune trainer: frames or clips read at the model's size, augmented, and one sampled
prompt per visible object with its target masks.

The trainer's random generator is shared (passed in), so the draws (augmentations, object subsets, prompts) happen in
the same order as the trainer makes its batches: a seed gives the same run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation.datasets.davis import DavisSequence
from evaluation.sequence import VOID
from playerseg.finetune.augment import AugmentSettings, augment_clip, draw_augmentation
from playerseg.finetune.data import ClipSample, FrameSample, read_resized
from playerseg.finetune.prompting import PromptSettings, SampledPrompt, sample_prompt
from playerseg.finetune.settings import TrainSettings

MIN_OBJECT_PIXELS = 4  # an object smaller than this at the model's input size is treated as absent
SINGLE_CLICK_SHARE = 0.4  # prompts that are one click, as most users give in the app
SINGLE_CLICK = PromptSettings(box_probability=0.0, max_positive=1, max_negative=0)


@dataclass
class Batch:
    """One forward pass: images (N, 3, S, S) on the device, and per object its image, prompt and targets."""

    images: Any
    image_of_object: Any  # (K,) index into images (stage 1; zeros for a clip)
    prompts: list[SampledPrompt]
    targets: Any  # (T, K, S, S) bool: T = 1 for frames, the clip length for clips
    valid: Any  # (T, K, S, S) bool


class BatchMaker:
    """Makes the batches of one training run from its sequences, settings and random generator."""

    def __init__(
        self,
        sequences: Mapping[str, DavisSequence],
        settings: TrainSettings,
        rng: np.random.Generator,
        size: int,
        device: str,
        augment: AugmentSettings,
    ) -> None:
        self.sequences = sequences
        self.settings = settings
        self.rng = rng
        self.size = size
        self.device = device
        self.augment = augment
        self.prompts = PromptSettings()

    def _read(self, sequence: str, frames: Sequence[int]) -> tuple[Any, Any]:
        import torch

        images, labels = read_resized(self.sequences[sequence], frames, self.size)
        images_t, labels_t = torch.from_numpy(images), torch.from_numpy(labels)
        aug = draw_augmentation(self.augment, self.rng)
        return augment_clip(aug, images_t, labels_t)

    def _objects(self, labels: np.ndarray) -> list[int]:
        ids, counts = np.unique(labels, return_counts=True)
        present = [int(i) for i, c in zip(ids, counts) if i not in (0, VOID) and c >= MIN_OBJECT_PIXELS]
        if len(present) > self.settings.max_objects:
            present = sorted(self.rng.choice(present, self.settings.max_objects, replace=False).tolist())
        return present

    def _prompt(self, mask: np.ndarray, valid: np.ndarray) -> SampledPrompt:
        """A single click (the app's usual prompt) with SINGLE_CLICK_SHARE, else a mix of clicks and boxes."""
        settings = SINGLE_CLICK if self.rng.random() < SINGLE_CLICK_SHARE else self.prompts
        return sample_prompt(mask, self.rng, settings, valid=valid)

    def frames(self, samples: list[FrameSample]) -> Batch | None:
        """Stage 1: the samples' frames in one batch, one prompt per visible object (None: no object visible)."""
        import torch

        images, owners, prompts, targets, valid = [], [], [], [], []
        for sample in samples:
            image, labels = self._read(sample.sequence, [sample.frame])
            label_map = labels[0].numpy()
            objects = self._objects(label_map)
            if not objects:
                continue
            for obj in objects:
                prompts.append(self._prompt(label_map == obj, label_map != VOID))
                owners.append(len(images))
                targets.append(labels[0] == obj)
                valid.append(labels[0] != VOID)
            images.append(image[0])
        if not images:
            return None
        return Batch(
            torch.stack(images).to(self.device),
            torch.tensor(owners, device=self.device),
            prompts,
            torch.stack(targets)[None].to(self.device),
            torch.stack(valid)[None].to(self.device),
        )

    def clip(self, sample: ClipSample) -> Batch | None:
        """Stage 2: one clip, its visible objects prompted on the first frame (None: no object visible)."""
        import torch

        images, labels = self._read(sample.sequence, sample.frames)
        first = labels[0].numpy()
        objects = self._objects(first)
        if not objects:
            return None
        prompts = [self._prompt(first == obj, first != VOID) for obj in objects]
        ids = torch.tensor(objects, dtype=labels.dtype).view(1, -1, 1, 1)
        targets = labels[:, None] == ids  # (T, K, S, S)
        valid = (labels != VOID)[:, None].expand_as(targets)
        owners = torch.zeros(len(objects), dtype=torch.long, device=self.device)
        return Batch(images.to(self.device), owners, prompts, targets.to(self.device), valid.to(self.device))
