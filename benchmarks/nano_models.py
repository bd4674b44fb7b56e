"""The models trained here, judged from one run: size, held-out J&F and flicker on pitch and generic clips, and the
specialist's gain over the generalist.

    python benchmarks/nano_models.py [--sequences 4] [--frames 24] [--players 6] [--threads 2]

Generates held-out clips (seeds the builds never used: pitch 9001, generic 9002, 640x360), tracks every player of
each from one click at its deepest point on its first frame (the finetune validation's prompt), and prints per
model: parameters, checkpoint size, video J, F, J&F, frame J&F, consecutive IoU, area volatility; then the
differences nano-pitch - nano-generalist. Trained on synthetic footage only: these are synthetic-footage figures.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

MODELS = ("nano-generalist", "nano-pitch")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=4)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--players", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    import torch

    torch.set_num_threads(args.threads)
    from playerseg.finetune.data import load_training_root
    from playerseg.finetune.validate import validate
    from playerseg.nano.recipe import HELD_OUT
    from playerseg.synthetic.dataset import generate_dataset
    from playerseg.tracking.registry import load_video_model

    scores: dict[tuple[str, str], object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for kind, data in (("pitch", HELD_OUT.pitch), ("generic", HELD_OUT.generic)):
            root = Path(scratch) / kind
            generate_dataset(
                root, args.sequences, args.frames, args.players, data.width, data.height, seed=data.seed, mode=kind
            )
            sequences = load_training_root(root)
            for name in MODELS:
                model = load_video_model(name, "cpu")
                if kind == "pitch":
                    params = sum(p.numel() for p in model.predictor.parameters())
                    size = Path(model.checkpoint).stat().st_size / 2**20
                    sha = model.checkpoint_sha256[:12]
                    print(f"{name}: {params / 1e6:.2f} M parameters, checkpoint {size:.1f} MB ({sha})")
                scores[(name, kind)] = validate(model, sequences, sorted(sequences), "click")
    print(f"held-out clips: {args.sequences} x {args.frames} frames, {args.players} players, 640x360 per kind")
    print("model            kind     J      F      J&F    frameJ&F  consecIoU  areaVol")
    for (name, kind), val in scores.items():
        print(
            f"{name:16s} {kind:8s} {val.J:.3f}  {val.F:.3f}  {val.JF:.3f}  {val.frame_JF:.3f}     "
            f"{val.consecutive_iou:.3f}      {val.area_volatility:.3f}"
        )
    for kind in ("pitch", "generic"):
        general, special = scores[(MODELS[0], kind)], scores[(MODELS[1], kind)]
        print(
            f"{kind}: nano-pitch - nano-generalist: J&F {special.JF - general.JF:+.3f}, consecutive IoU "
            f"{special.consecutive_iou - general.consecutive_iou:+.3f}, area volatility "
            f"{special.area_volatility - general.area_volatility:+.3f}"
        )


if __name__ == "__main__":
    main()
