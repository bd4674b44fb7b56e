"""python -m playerseg.finetune --data ROOT --base NAME --out OUT [options]

Finetunes a SAM2 model on a DAVIS-layout dataset and writes OUT/checkpoint.pt, model.json, metrics.csv and
curves.html; OUT is then a model name (`python -m playerseg segment --model OUT`). Bad input ends with one sentence
on stderr and exit code 2; slow imports (torch, sam2) happen after parsing. An OUT that already holds files is
refused unless --overwrite; the files appear in OUT together once all are written, so Ctrl-C (exit 130) or SIGTERM
(exit 143) during training or writing leaves OUT as it was.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from playerseg.finetune.data import DEFAULT_VAL_FRACTION
from playerseg.progress_bars import batch_bars

EXIT_NOT_PUSHED = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m playerseg.finetune",
        description="Finetune SAM2 on your own annotated footage (image encoder frozen): stage 1 trains the mask "
        "decoder on frames, stage 2 the memory path on short clips. Early stopping on validation J&F.",
    )
    parser.add_argument(
        "--data", required=True, help="DAVIS-layout root: JPEGImages/<seq>/*.jpg, Annotations/<seq>/*.png"
    )
    parser.add_argument(
        "--base", required=True, help="model to start from: a registry name (e.g. sam2.1-small) or a checkpoint path"
    )
    parser.add_argument("--out", required=True, help="output folder; it becomes a model name")
    parser.add_argument(
        "--stage",
        choices=("frames", "clips", "both", "pretrain"),
        default="frames",
        help="frames: mask decoder on single frames; clips: memory path on clips; both: frames then clips; "
        "pretrain: both, training every part of a model built from scratch (e.g. --base random-sam2.1-nano)",
    )
    parser.add_argument("--epochs", type=int, default=15, help="most epochs per stage (early stopping may end sooner)")
    parser.add_argument("--lr", type=float, default=1e-5, help="AdamW learning rate (peak, after warm-up)")
    parser.add_argument("--batch-size", type=int, default=4, help="frames (stage 1) or clips (stage 2) per batch")
    parser.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay")
    parser.add_argument(
        "--patience", type=int, default=3, help="epochs without a better validation J&F before stopping"
    )
    parser.add_argument("--accumulate", type=int, default=1, help="batches per optimiser step (gradient accumulation)")
    parser.add_argument("--clip-length", type=int, default=8, help="frames per training clip (stage 2)")
    parser.add_argument("--max-objects", type=int, default=8, help="most objects per frame or clip")
    parser.add_argument("--mask-loss", choices=("focal", "bce"), default="focal", help="mask loss beside Dice and IoU")
    parser.add_argument("--no-augment", action="store_true", help="train without augmentations")
    parser.add_argument("--train-prompt-encoder", action="store_true", help="also train the prompt encoder (stage 1)")
    parser.add_argument(
        "--val-prompt",
        choices=("click", "box"),
        default="click",
        help="validation prompts: one click at each object's centre, or its box",
    )
    parser.add_argument(
        "--split", dest="split_file", help='split file {"train": [...], "val": [...]} (default: seeded split)'
    )
    parser.add_argument(
        "--val-fraction", type=float, default=DEFAULT_VAL_FRACTION, help="share of sequences for validation"
    )
    parser.add_argument("--max-steps-per-epoch", type=int, help="cut each epoch short (smoke runs)")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when available)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the split, sampling, augmentation and dropout")
    parser.add_argument(
        "--push-to-hub", metavar="REPO_ID", help="upload OUT to this Hugging Face model repo afterwards"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace OUT when it already holds files (a model from an earlier run)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Finetunes; Ctrl-C and SIGTERM stop it with one sentence (exit 130 / 143) and leave OUT as it was."""
    args = build_parser().parse_args(argv)
    from evaluation.outdir import OutputExistsError, run_stoppable
    from playerseg.errors import report_user_errors

    return run_stoppable(lambda: report_user_errors(lambda: _finetune(args), (OutputExistsError,)), args.out)


def _finetune(args: argparse.Namespace) -> int:
    from playerseg.finetune.run import FinetuneJob, run_finetune
    from playerseg.finetune.settings import TrainSettings
    from playerseg.finetune.trainer import describe

    settings = TrainSettings(
        stage=args.stage,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        weight_decay=args.weight_decay,
        patience=args.patience,
        accumulate=args.accumulate,
        clip_length=args.clip_length,
        max_objects=args.max_objects,
        mask_loss=args.mask_loss,
        augment=not args.no_augment,
        train_prompt_encoder=args.train_prompt_encoder,
        val_prompt=args.val_prompt,
        max_steps_per_epoch=args.max_steps_per_epoch,
        seed=args.seed,
    )
    job = FinetuneJob(
        data=args.data,
        base=args.base,
        out=args.out,
        settings=settings,
        device=args.device,
        split_file=args.split_file,
        val_fraction=args.val_fraction,
        push_to_hub=args.push_to_hub,
        overwrite=args.overwrite,
    )
    outcome = run_finetune(job, report=print, progress=batch_bars(args.quiet))
    training = outcome.training
    print(f"before: {describe(training.val_before)}")
    print(f"after:  {describe(training.val_after)}")
    print(f"Wrote {outcome.out}/checkpoint.pt, model.json, metrics.csv, curves.html ({outcome.facts['weights']})")
    print(f"Use it with: python -m playerseg segment CLIP --model {outcome.out}")
    if outcome.hub_error:
        print(f"error: {outcome.hub_error}", file=sys.stderr)
        return EXIT_NOT_PUSHED
    if outcome.hub_url:
        print(f"Pushed to {outcome.hub_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
