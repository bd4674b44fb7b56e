"""Seconds per optimiser step and peak memory of both finetuning stages, from one run on one synthetic dataset.

    python benchmarks/finetune_step.py [--model test-sam2.1-tiny-128] [--device cpu|cuda] [--steps 10]

Runs the real training step (frozen encoder, SAM2's loss, AdamW; bf16 autocast on CUDA) for a few warm-up steps,
then times `--steps` steps per stage (torch.cuda.synchronize around each on GPU). Prints s/step, peak VRAM (CUDA) or
peak RSS (CPU), and the clips/frames ratio. A random-weight model gives real speed and memory, not accuracy.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from playerseg.finetune.trainer import Trainer


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="test-sam2.1-tiny-128")
    parser.add_argument("--device", default=None)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--clip-length", type=int, default=8)
    parser.add_argument("--size", default="640x360", help="synthetic frame size WxH")
    return parser.parse_args()


def _trainer(args: argparse.Namespace) -> Trainer:
    """A Trainer of the model on a fresh synthetic dataset of 4 sequences (each a little longer than a clip)."""
    from playerseg.finetune.data import load_training_root, split_sequences
    from playerseg.finetune.settings import TrainSettings
    from playerseg.finetune.trainer import Trainer
    from playerseg.synthetic.dataset import generate_dataset
    from playerseg.tracking.registry import load_video_model

    width, height = (int(v) for v in args.size.split("x"))
    root = Path(tempfile.mkdtemp(prefix="finetune-bench-"))
    generate_dataset(root, sequences=4, frames=args.clip_length + 4, players=6, width=width, height=height, seed=7)
    model = load_video_model(args.model, args.device)
    sequences = load_training_root(root)
    split = split_sequences(sorted(sequences))
    settings = TrainSettings(batch_size=args.batch_size, clip_length=args.clip_length, lr=1e-5)
    return Trainer(model, sequences, split, settings)


def _samples(trainer: Trainer, stage: str, clip_length: int) -> list[Any]:
    from playerseg.finetune.data import clip_samples, frame_samples

    if stage == "frames":
        return frame_samples(trainer.sequences, trainer.split.train)
    return clip_samples(trainer.sequences, trainer.split.train, clip_length)


def _step_seconds(trainer: Trainer, stage: str, pool: list[Any], args: argparse.Namespace) -> list[float]:
    """Seconds of each timed training step of the stage (the warm-up steps run first, untimed)."""
    import torch

    from playerseg.finetune.model import set_trainable, train_mode, trainable_prefixes

    predictor, device = trainer.model.predictor, trainer.device
    parameters = set_trainable(predictor, trainable_prefixes(stage))
    optimiser = torch.optim.AdamW(parameters, lr=1e-5, weight_decay=0.01)
    train_mode(predictor)
    rng = np.random.default_rng(0)
    times = []
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    for step in range(args.warmup + args.steps):
        batch = [pool[i] for i in rng.choice(len(pool), min(args.batch_size, len(pool)), replace=False)]
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        terms = trainer._batch_loss(stage, batch)
        terms.total.backward()
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if step >= args.warmup:
            times.append(time.perf_counter() - started)
    return times


def _peak_memory(device: str) -> tuple[float, str]:
    """Peak memory in MB and what it measured: VRAM on CUDA, else the process's RSS high-water mark."""
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20, "peak VRAM"
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "peak RSS (process so far)"


def main() -> None:
    args = _arguments()
    trainer = _trainer(args)
    device = trainer.device
    print(
        f"model {args.model} ({trainer.model.spec.image_size} px) on {device}; batch {args.batch_size}, "
        f"clip {args.clip_length}"
    )

    results = {}
    for stage in ("frames", "clips"):
        times = _step_seconds(trainer, stage, _samples(trainer, stage, args.clip_length), args)
        peak, where = _peak_memory(device)
        results[stage] = float(np.median(times))
        p90 = np.percentile(times, 90)
        print(
            f"{stage}: {results[stage]:.3f} s/step median over {len(times)} steps (p90 {p90:.3f}), "
            f"{where} {peak:.0f} MB"
        )
    print(f"ratio clips/frames per step: {results['clips'] / results['frames']:.1f}x")
    if device.startswith("cuda"):
        import torch

        print(f"device: {torch.cuda.get_device_name()}")


if __name__ == "__main__":
    main()
