"""Command line: `python -m playerseg segment CLIP --model NAME --prompts PROMPTS.json --out RUN_DIR`.

Bad input ends with one sentence on stderr and exit code 2; slow imports (torch, sam2) happen after parsing.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m playerseg", description="PlayerSeg: SAM2 player segmentation.")
    commands = parser.add_subparsers(dest="command", required=True)
    segment = commands.add_parser(
        "segment",
        help="track the clicked objects through a clip and write a run folder",
        description="Track every prompted object with SAM2 and write masks/, overlay.mp4, frames.csv, run.json.",
    )
    segment.add_argument("clip", help="video file, folder of JPEG frames, or DAVIS single-sequence folder")
    segment.add_argument("--model", required=True, help="model name (see --list-models) or local checkpoint path")
    segment.add_argument("--prompts", required=True, help="prompts JSON (clip frame numbers and pixels)")
    segment.add_argument("--out", required=True, help="run folder to write")
    segment.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    segment.add_argument("--start", type=_non_negative, default=0, help="first clip frame to process")
    segment.add_argument("--max-frames", type=_positive, default=None, help="process at most N frames")
    segment.add_argument("--stride", type=_positive, default=1, help="process every K-th frame")
    segment.add_argument("--max-side", type=_positive, default=None, help="downscale frames to this longest side")
    segment.add_argument("--quiet", action="store_true", help="no progress bars")
    commands.add_parser("models", help="list the built-in model names")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from playerseg.errors import USER_ERRORS

    try:
        if args.command == "models":
            return _list_models()
        return _segment(args, argv)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as error:  # a missing prompts file, an unwritable output folder, a full disk
        where = f": {error.filename}" if error.filename else ""
        print(f"error: {error.strerror or error}{where}", file=sys.stderr)
        return EXIT_USER_ERROR


def _list_models() -> int:
    from playerseg.registry import BUILTIN_MODELS

    for name, spec in BUILTIN_MODELS.items():
        print(f"{name:24s} {spec.description}")
    return 0


def _segment(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    from playerseg.pipelines import PromptedTracking, open_selection
    from playerseg.prompts import PromptSet
    from playerseg.registry import load_video_model
    from playerseg.runfolder import write_run_folder

    prompts = PromptSet.load(args.prompts)
    with open_selection(args.clip, args.start, args.max_frames, args.stride, args.max_side) as store:
        model = load_video_model(args.model, args.device)
        with _ProgressBar("track", args.quiet) as track_bar:
            result = PromptedTracking(model).run(store, prompts, progress=track_bar.update)
        with _ProgressBar("render", args.quiet) as render_bar:
            command = shlex.join(["python", "-m", "playerseg", *(sys.argv[1:] if argv is None else argv)])
            out = write_run_folder(result, store, args.out, command, render_bar.update, source_prompts=prompts)
    label = " (RANDOM WEIGHTS: masks mean nothing)" if model.random_weights else ""
    print(f"wrote {out} with {len(result.source_indices)} frames, {len(result.object_ids)} objects{label}")
    return 0


class _ProgressBar:
    """tqdm on stderr, driven by (done, total) callbacks."""

    def __init__(self, description: str, quiet: bool) -> None:
        self._description = description
        self._quiet = quiet
        self._bar = None

    def __enter__(self) -> "_ProgressBar":
        return self

    def update(self, done: int, total: int) -> None:
        if self._quiet:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self._description, unit="frame", file=sys.stderr)
        self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.close()


if __name__ == "__main__":
    sys.exit(main())
