"""`python -m playerseg.synthetic OUT ...`: write procedural pitch or generic clips (playerseg.synthetic.dataset)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from playerseg.synthetic.dataset import MAX_PLAYERS, MODES, SyntheticError, generate_dataset


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m playerseg.synthetic",
        description="Write procedural pitch clips with exact player masks, boxes and prompts (DAVIS layout); "
        "--mode generic writes clips that are not a pitch (varied backgrounds, people and shapes as the objects).",
    )
    parser.add_argument("out", help="output folder")
    parser.add_argument("--sequences", type=int, default=1, help="number of sequences (seq000, seq001...)")
    parser.add_argument("--frames", type=int, default=24, help="frames per sequence")
    parser.add_argument(
        "--players", type=int, default=3, help=f"players (objects in generic mode) per sequence, 1..{MAX_PLAYERS}"
    )
    parser.add_argument("--width", type=int, default=640, help="frame width in pixels")
    parser.add_argument("--height", type=int, default=360, help="frame height in pixels")
    parser.add_argument("--fps", type=float, default=24.0, help="frame rate of the videos")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same data)")
    parser.add_argument("--entering", type=int, default=0, help="how many of the players run into view after the start")
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="pitch",
        help="pitch: football-pitch clips (the default); generic: not a pitch (gradients, blobs, patches, stripes, "
        "checkers or noise behind people and shapes), for pretraining a model that segments whatever is clicked",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        generate_dataset(
            args.out,
            args.sequences,
            args.frames,
            args.players,
            args.width,
            args.height,
            args.fps,
            args.seed,
            args.entering,
            args.mode,
        )
    except SyntheticError as error:
        parser.error(str(error))  # exits 2 with the message on stderr
    except (OSError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    objects = "players" if args.mode == "pitch" else "objects (generic mode)"
    print(
        f"Wrote {args.sequences} sequence(s) of {args.frames} frames, {args.players} {objects}, "
        f"{args.width}x{args.height} to {Path(args.out).resolve()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
