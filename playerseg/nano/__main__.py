"""python -m playerseg.nano build [--only NAME ...] [--out DIR] [--force] [--fast] | status [--out DIR]

build: builds the models trained here (nano-generalist, then nano-pitch from it) into DIR (default: where the
registry loads them from, playerseg/tracking/nano_weights/ or PLAYERSEG_NANO_WEIGHTS), keeping a model that is up to
date and rebuilding, with a notice, one that is missing, stale, partial or edited. Deterministic for the recipes'
seeds on the same torch and thread count. `make models` runs it. Ctrl-C stops it and leaves every folder as it was.
status: one line per model (up to date / missing / stale / corrupted) and exit 0 only when all are up to date.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from playerseg.nano.recipe import RECIPES
from playerseg.progress_bars import batch_bars

EXIT_NOT_UP_TO_DATE = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m playerseg.nano",
        description="Build the SAM2 models trained here on synthetic footage (nano-generalist, nano-pitch).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the models that are not up to date")
    build.add_argument("--only", nargs="+", choices=list(RECIPES), help="these models (and the bases they need)")
    build.add_argument("--out", help="folder of the model folders (default: where the registry loads them from)")
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")
    build.add_argument("--fast", action="store_true", help="a few steps on tiny data: checks the build, not a model")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    status = commands.add_parser("status", help="say which models are up to date")
    status.add_argument("--out", help="folder of the model folders (default: where the registry loads them from)")
    status.add_argument("--fast", action="store_true", help="compare with the quick recipes' keys")
    return parser


def _out(value: str | None) -> Path:
    from playerseg.tracking.nano_store import weights_dir

    return Path(value) if value else weights_dir()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from evaluation.outdir import run_stoppable
    from playerseg.errors import report_user_errors

    command = _status if args.command == "status" else _build
    stopped = "Stopped: every model folder is as it was before this build."
    return run_stoppable(lambda: report_user_errors(lambda: command(args)), stopped=stopped)


def _build(args: argparse.Namespace) -> int:
    from playerseg.nano.build import build_models

    names = args.only or list(RECIPES)
    built = build_models(names, _out(args.out), args.force, args.fast, print, batch_bars(args.quiet))
    for model in built:
        how = f"built in {model.seconds / 60:.1f} min" if model.rebuilt else "kept (up to date)"
        print(f"{model.name}: {how}: {model.folder}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from playerseg.nano.build import folder_state, model_keys

    out = _out(args.out)
    states = {name: folder_state(out / name, key) for name, key in model_keys(RECIPES, args.fast).items()}
    for name, state in states.items():
        print(f"{name}: {state.status}" + (f" ({state.reason})" if state.reason else "") + f": {out / name}")
    return 0 if all(s.status == "up to date" for s in states.values()) else EXIT_NOT_UP_TO_DATE


if __name__ == "__main__":
    sys.exit(main())
