"""The models trained here, judged from one run: size, held-out J&F and flicker on pitch and generic clips, and the
specialist's gain over the generalist.

    python benchmarks/nano_models.py [--threads 2]

Runs the build's own held-out judgement (`playerseg.nano.build.held_out_figures`: seeds the builds never used, pitch
9001 and generic 9002, 4 clips x 24 frames, 6 players, 640x360, every player tracked from one click at its deepest
point on its first frame) on the installed weights, and prints per model: parameters, checkpoint size, video J, F,
J&F, frame J&F, consecutive IoU, area volatility; then the differences nano-pitch - nano-generalist. Trained on
synthetic footage only: these are synthetic-footage figures.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

MODELS = ("nano-generalist", "nano-pitch")
KINDS = ("pitch", "generic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from playerseg.nano.build import held_out_figures
    from playerseg.tracking import nano_store
    from playerseg.tracking.registry import load_video_model

    figures = {}
    with tempfile.TemporaryDirectory() as scratch:  # the held-out clips are generated once, then reused
        for name in MODELS:
            model = load_video_model(name, "cpu")  # checks the checkpoint's sha256
            params = sum(p.numel() for p in model.predictor.parameters())
            size = Path(model.checkpoint).stat().st_size / 2**20
            print(f"{name}: {params / 1e6:.2f} M parameters, checkpoint {size:.1f} MB ({model.checkpoint_sha256[:12]})")
            figures[name] = held_out_figures(nano_store.model_folder(name), Path(scratch))
    print("model            kind     J      F      J&F    frameJ&F  consecIoU  areaVol")
    for name in MODELS:
        for kind in KINDS:
            v = figures[name][kind]
            print(
                f"{name:16s} {kind:8s} {v['J']:.3f}  {v['F']:.3f}  {v['JF']:.3f}  {v['frame_JF']:.3f}     "
                f"{v['consecutive_iou']:.3f}      {v['area_volatility']:.3f}"
            )
    for kind in KINDS:
        general, special = figures[MODELS[0]][kind], figures[MODELS[1]][kind]
        print(
            f"{kind}: nano-pitch - nano-generalist: J&F {special['JF'] - general['JF']:+.3f}, consecutive IoU "
            f"{special['consecutive_iou'] - general['consecutive_iou']:+.3f}, area volatility "
            f"{special['area_volatility'] - general['area_volatility']:+.3f}"
        )


if __name__ == "__main__":
    main()
