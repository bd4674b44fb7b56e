"""The training loop's own logic: schedule, prompt groups, settings, early stopping and keeping the best epoch."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from playerseg.finetune.data import FinetuneError, Split
from playerseg.finetune.prompting import SampledPrompt
from playerseg.finetune.settings import TrainSettings
from playerseg.finetune.trainer import (
    EpochRecord,
    Trainer,
    _Schedule,
    prompt_groups,
)
from playerseg.finetune.validate import ValidationResult


def _val(jf: float) -> ValidationResult:
    return ValidationResult(jf, jf, jf, 0.0, jf, jf, jf, 0.5, None, 0.1, 1.0, 0.1, 0, 1, 1, 8, "click")


def test_schedule_warms_up_then_decays_to_zero() -> None:
    schedule = _Schedule(total_steps=100)  # 5 warm-up steps
    assert [schedule(s) for s in range(5)] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert schedule(5) == pytest.approx(1.0)
    assert schedule(5 + 95 // 2) == pytest.approx(0.5 * (1 + math.cos(math.pi * 47 / 95)))
    assert schedule(100) == pytest.approx(0.0)
    values = [schedule(s) for s in range(5, 101)]
    assert all(a >= b for a, b in zip(values, values[1:]))
    assert _Schedule(total_steps=1)(0) == 1.0


def test_single_clicks_are_grouped_apart() -> None:
    def prompt(labels: list[int]) -> SampledPrompt:
        return SampledPrompt(np.zeros((len(labels), 2), np.float32), np.array(labels, np.int32))

    prompts = [prompt([1]), prompt([2, 3]), prompt([1, 0]), prompt([1]), prompt([2, 3, 1])]
    assert prompt_groups(prompts) == [[0, 3], [1, 2, 4]]
    assert prompt_groups([prompt([2, 3])]) == [[0]]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("stage", "decoder", "Unknown stage"),
        ("mask_loss", "l2", "Unknown mask loss"),
        ("val_prompt", "scribble", "Unknown validation prompt"),
        ("epochs", 0, "epochs must be at least 1"),
        ("clip_length", 1, "at least 2 frames"),
        ("lr", -1.0, "learning rate"),
        ("lr", float("nan"), "learning rate"),
        ("weight_decay", -0.1, "weight decay"),
        ("max_steps_per_epoch", 0, "max steps"),
        ("clip_epochs", 0, "clip epochs must be at least 1"),
        ("clip_max_steps_per_epoch", 0, "clip max steps"),
    ],
)
def test_settings_refuse_bad_values(field: str, value: Any, message: str) -> None:
    with pytest.raises(FinetuneError, match=message):
        TrainSettings(**{field: value})


def test_stages_and_loss_weights() -> None:
    assert TrainSettings(stage="both").stages == ("frames", "clips")
    assert TrainSettings(stage="pretrain").stages == ("frames", "clips")
    assert TrainSettings(stage="clips").stages == ("clips",)
    assert TrainSettings().loss_weights.mask == 20.0  # focal, SAM2's weight
    assert TrainSettings(mask_loss="bce").loss_weights.mask == 1.0


class _Net(torch.nn.Module):
    """Stands in for SAM2 in the loop test: one decoder weight the scripted 'training' moves by 1 per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.sam_mask_decoder = torch.nn.Linear(1, 1, bias=False)
        self.image_encoder = torch.nn.Linear(1, 1, bias=False)
        self.memory_attention = torch.nn.Linear(1, 1, bias=False)  # what the clips stage trains


class _ScriptedTrainer(Trainer):
    """Epoch e 'trains' by adding 1 to the decoder weight and validates at the scripted J&F."""

    def __init__(self, scores: list[float], settings: TrainSettings) -> None:
        model = SimpleNamespace(predictor=_Net(), spec=SimpleNamespace(image_size=64), device="cpu")
        super().__init__(model, {}, Split(("a",), ("b",)), settings)  # type: ignore[arg-type]
        self.scores = scores

    def _samples(self, stage: str, names: Any) -> list[Any]:
        return [object()]

    def _train_epoch(self, stage: str, epoch: int, *args: Any) -> EpochRecord:
        with torch.no_grad():
            self.net.sam_mask_decoder.weight += 1.0
        return EpochRecord(
            stage, epoch, 1.0 / epoch, 0, 0, 0, 0, 1e-5, 1, 0.1, 0.0, _val(self.scores[epoch - 1]), False
        )


def test_early_stopping_keeps_the_best_epoch() -> None:
    trainer = _ScriptedTrainer([0.2, 0.5, 0.4, 0.45, 0.9], TrainSettings(epochs=5, patience=2))
    start = trainer.net.sam_mask_decoder.weight.item()
    result = trainer.run_stage("frames", _val(0.1))
    assert [r.epoch for r in result.epochs] == [0, 1, 2, 3, 4]  # epochs 3 and 4 did not beat epoch 2: stop
    assert result.best_epoch == 2 and result.stopped_early
    assert [r.best for r in result.epochs] == [False, True, True, False, False]
    assert trainer.net.sam_mask_decoder.weight.item() == pytest.approx(start + 2)  # epoch 2's weights restored
    assert result.best.val.JF == 0.5


def test_the_clips_stage_runs_its_own_epochs() -> None:
    settings = TrainSettings(epochs=3, clip_epochs=1, max_steps_per_epoch=50, clip_max_steps_per_epoch=7)
    assert (settings.epochs_for("frames"), settings.epochs_for("clips")) == (3, 1)
    assert (settings.max_steps_for("frames"), settings.max_steps_for("clips")) == (50, 7)
    trainer = _ScriptedTrainer([0.2, 0.3, 0.4], settings)
    assert [r.epoch for r in trainer.run_stage("clips", _val(0.1)).epochs] == [0, 1]
    assert [r.epoch for r in trainer.run_stage("frames", _val(0.1)).epochs] == [0, 1, 2, 3]


def test_a_stage_that_never_beats_its_start_hands_back_the_start_weights() -> None:
    trainer = _ScriptedTrainer([0.2, 0.1], TrainSettings(epochs=2, patience=5))
    start = trainer.net.sam_mask_decoder.weight.item()
    result = trainer.run_stage("frames", _val(0.3))
    assert result.best_epoch == 0 and not result.stopped_early and result.epochs[0].best
    assert trainer.net.sam_mask_decoder.weight.item() == pytest.approx(start)
    assert not trainer.net.image_encoder.weight.requires_grad
