"""What the nano models are made of: the data each trains on (synthetic mode, sizes, seeds), the finetune settings,
and the held-out clips they are judged on. One recipe per model, typed; the build key hashes them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from playerseg.finetune.settings import TrainSettings


@dataclass(frozen=True)
class DataRecipe:
    """A synthetic dataset: `python -m playerseg.synthetic OUT --mode MODE --sequences ... --seed SEED`."""

    mode: str  # "generic" or "pitch"
    sequences: int
    frames: int
    players: int
    seed: int
    width: int = 640
    height: int = 360


@dataclass(frozen=True)
class NanoRecipe:
    """One nano model: its base (an architecture with random weights, or another nano model), data and training."""

    name: str
    base: str  # registry name, or the name of a nano model built before it
    data: DataRecipe
    train: TrainSettings
    val_fraction: float
    minutes: float  # expected build time on 2 CPU cores (measured), for the progress line

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HeldOut:
    """Clips no model trained or validated on (seeds never used in training), to judge the two models."""

    pitch: DataRecipe = field(default_factory=lambda: DataRecipe("pitch", 4, 24, 6, seed=9001))
    generic: DataRecipe = field(default_factory=lambda: DataRecipe("generic", 4, 24, 6, seed=9002))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Binary cross-entropy, not SAM2's focal loss: from random weights the focal loss left generic-clip masks empty after
# 150 steps (IoU 0.01) where BCE reached 0.12 (same data, lr, batch). An epoch is capped at max_steps batches; the
# data is large enough that every epoch reaches the cap. Measured on 2 CPU cores: a pretraining frames step (4
# frames, up to 6 objects each, the encoder training) ~0.8 s, a validation ~20 s.
GENERALIST = NanoRecipe(
    name="nano-generalist",
    base="random-sam2.1-nano",
    data=DataRecipe("generic", sequences=120, frames=12, players=6, seed=1),
    train=TrainSettings(
        stage="pretrain",
        epochs=4,
        lr=1.5e-3,
        batch_size=4,
        patience=4,
        clip_length=4,
        max_objects=6,
        mask_loss="bce",
        max_steps_per_epoch=350,
        clip_epochs=1,
        clip_max_steps_per_epoch=80,
        seed=1,
    ),
    val_fraction=0.05,
    minutes=24.0,
)
SPECIALIST = NanoRecipe(
    name="nano-pitch",
    base="nano-generalist",
    data=DataRecipe("pitch", sequences=40, frames=12, players=6, seed=2),
    train=TrainSettings(
        stage="both",
        epochs=2,
        lr=1e-3,
        batch_size=4,
        patience=2,
        clip_length=4,
        max_objects=6,
        mask_loss="bce",
        max_steps_per_epoch=120,
        clip_epochs=1,
        clip_max_steps_per_epoch=60,
        seed=2,
    ),
    val_fraction=0.1,
    minutes=7.0,
)
RECIPES: dict[str, NanoRecipe] = {recipe.name: recipe for recipe in (GENERALIST, SPECIALIST)}
HELD_OUT = HeldOut()


def quick(recipe: NanoRecipe) -> NanoRecipe:
    """A few steps of the same recipe on a small dataset: for tests of the build itself (not a usable model)."""
    from dataclasses import replace

    data = replace(recipe.data, sequences=4, frames=6, players=2, width=160, height=96)
    train = replace(
        recipe.train,
        epochs=1,
        batch_size=2,
        max_steps_per_epoch=2,
        clip_epochs=1,
        clip_max_steps_per_epoch=2,
        clip_length=3,
        max_objects=2,
    )
    return replace(recipe, data=data, train=train, val_fraction=0.25, minutes=0.5)
