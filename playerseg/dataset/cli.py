"""`python -m playerseg export-sequence RUN_DIR --clip CLIP --dataset DIR [--name SEQ] [--overwrite]`: a run folder
as one sequence of a DAVIS-layout dataset folder. Bad input: one sentence on stderr, exit 2."""

from __future__ import annotations

import argparse


def add_export_parser(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export-sequence",
        help="turn a run folder into one sequence of a DAVIS-layout dataset folder",
        description="Write the run's clip frames, masks, prompts, COCO json and meta.json entry as one sequence of "
        "DIR (JPEGImages/<seq>, Annotations/<seq>, prompts/<seq>.json, coco/<seq>.json, meta.json).",
    )
    export.add_argument("run_dir", help="run folder written by segment (masks/, run.json)")
    export.add_argument("--clip", required=True, help="the clip the run was made on (video file or frame folder)")
    export.add_argument("--dataset", required=True, help="dataset folder to add the sequence to")
    export.add_argument("--name", help="sequence name (default: the clip's file name without its extension)")
    export.add_argument("--overwrite", action="store_true", help="replace a sequence of the same name")


def run_export(args: argparse.Namespace) -> int:
    """Export; print one line saying what was written. Bad input raises PlayerSegError or OSError, which the
    command line (playerseg.__main__) reports in one sentence."""
    from playerseg.dataset.export import export_run, sequence_name

    folder = export_run(args.run_dir, args.clip, args.dataset, args.name, overwrite=args.overwrite)
    seq = sequence_name(args.clip, args.name)
    frames = sum(1 for _ in folder.glob("*.jpg"))
    print(
        f"wrote sequence {seq} to {args.dataset} ({frames} frames: JPEGImages/{seq}, Annotations/{seq}, "
        f"prompts/{seq}.json, coco/{seq}.json, meta.json)"
    )
    return 0
