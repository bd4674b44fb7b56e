"""python -m playerseg.unet train --data ROOT --out models/NAME [options]

Trains the U-Net baseline (BCE + Dice, augmentations) on a DAVIS-layout dataset and writes OUT/checkpoint.pt,
model.json, metrics.csv and curves.html; OUT is then a contender (`--model models/NAME`, or `unet:NAME` for a folder
in models/). Bad input ends with one sentence on stderr and exit code 2. OUT is written whole: Ctrl-C (exit 130) or
SIGTERM (exit 143) leaves it as it was; an OUT that holds files is refused unless --overwrite.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from playerseg.finetune.data import DEFAULT_VAL_FRACTION


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m playerseg.unet",
        description="The U-Net baseline: a lightweight per-frame 'player' segmenter, the cheap end of the cost axis.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a U-Net on a DAVIS-layout dataset")
    train.add_argument(
        "--data", required=True, help="DAVIS-layout root: JPEGImages/<seq>/*.jpg, Annotations/<seq>/*.png"
    )
    train.add_argument("--out", required=True, help="output folder, e.g. models/unet-pitch; it becomes a model name")
    train.add_argument("--epochs", type=int, default=20, help="epochs (the best by validation IoU is kept)")
    train.add_argument("--lr", type=float, default=2e-3, help="AdamW peak learning rate (one-cycle schedule)")
    train.add_argument("--batch-size", type=int, default=8, help="frames per batch")
    train.add_argument("--size", type=int, default=256, help="square input size in pixels (a multiple of 2**depth)")
    train.add_argument("--base-channels", type=int, default=8, help="channels of the first block (doubling per level)")
    train.add_argument("--depth", type=int, default=4, help="how many times the U-Net halves the image")
    train.add_argument("--seed", type=int, default=0, help="seed for the split, weights, order and augmentation")
    train.add_argument(
        "--split", dest="split_file", help='split file {"train": [...], "val": [...]} (default: seeded split)'
    )
    train.add_argument("--val-fraction", type=float, default=DEFAULT_VAL_FRACTION, help="share of sequences for val")
    train.add_argument("--max-steps-per-epoch", type=int, help="cut each epoch short (smoke runs)")
    train.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    train.add_argument(
        "--synthetic-data", action="store_true", help="the data is synthetic footage (the model will say so)"
    )
    train.add_argument("--overwrite", action="store_true", help="replace OUT when it already holds files")
    train.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from evaluation.outdir import OutputExistsError, run_stoppable
    from playerseg.errors import report_user_errors

    return run_stoppable(lambda: report_user_errors(lambda: _train(args), (OutputExistsError,)), args.out)


def _train(args: argparse.Namespace) -> int:
    from evaluation.outdir import check_output_folder, staged_folder
    from playerseg.errors import UsageError
    from playerseg.tracking.registry import check_device
    from playerseg.tracking.unet_net import UNetConfig
    from playerseg.unet.outputs import write_outputs
    from playerseg.unet.train import UNetTrainJob, train_unet

    try:
        config = UNetConfig(base_channels=args.base_channels, depth=args.depth, image_size=args.size)
    except ValueError as error:
        raise UsageError(str(error)) from None
    check_device(args.device)
    job = UNetTrainJob(
        data=Path(args.data),
        out=Path(args.out),
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        config=config,
        seed=args.seed,
        val_fraction=args.val_fraction,
        split_file=Path(args.split_file) if args.split_file else None,
        device=args.device,
        max_steps_per_epoch=args.max_steps_per_epoch,
        synthetic_data=args.synthetic_data,
    )
    check_output_folder(job.out, args.overwrite, inputs=[job.data])
    training = train_unet(job, progress=None if args.quiet else print)
    with staged_folder(job.out, args.overwrite, inputs=[job.data]) as staged:
        facts = write_outputs(job, training, staged.work)
    print(
        f"val IoU of player pixels: {facts['val_iou_before']:.3f} before, {facts['val_iou']:.3f} after "
        f"(epoch {facts['best_epoch']})"
    )
    print(f"Wrote {job.out}/checkpoint.pt, model.json, metrics.csv, curves.html")
    print(f"Use it with: python -m playerseg segment CLIP --model {job.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
