"""`python -m evaluation summary ROOT [--json FILE]`: a table of what a DAVIS dataset holds, then its totals on stdout,
and one `warning: ...` line on stderr per problem found (evaluation.datasets.summary). Reads only; writes no --out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evaluation.datasets.summary import DatasetSummary, SequenceSummary

HEADER = ("sequence", "frames", "annotated", "objects", "size", "median object area")
LEFT_ALIGNED = (0, 4)  # sequence and size; counts and areas are right-aligned


def add_summary_parser(commands: argparse._SubParsersAction) -> None:
    summary = commands.add_parser("summary", help="what a DAVIS dataset holds, and what is wrong with it")
    summary.add_argument("root", help="DAVIS root (Annotations/, JPEGImages/) or single-sequence folder")
    summary.add_argument("--json", metavar="FILE", help="also write the summary, per object too, as JSON")


def format_table(summary: DatasetSummary) -> str:
    """One row per sequence (frames, annotated frames, objects, size, median object area in % of the frame), then
    a totals line."""
    rows = [HEADER, *(_row(sequence) for sequence in summary.sequences)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADER))]
    lines = [
        "  ".join(
            cell.ljust(width) if column in LEFT_ALIGNED else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths))
        ).rstrip()
        for row in rows
    ]
    count = len(summary.sequences)
    lines.append(
        f"total: {count} sequence{'s' * (count != 1)}, {summary.frames} frames, {summary.annotated_frames} annotated "
        f"frames, {summary.objects} objects, {len(summary.warnings)} warnings"
    )
    return "\n".join(lines)


def _row(sequence: SequenceSummary) -> tuple[str, ...]:
    size = f"{sequence.width}x{sequence.height}" if sequence.width is not None else "?"
    area = sequence.median_object_area_pct
    return (
        sequence.name,
        str(sequence.frames),
        str(sequence.annotated_frames),
        str(len(sequence.objects)),
        size,
        "-" if area is None else f"{area:.2f}%",
    )


def run_summary(args: argparse.Namespace) -> int:
    """Prints the table and the warnings; exit 0 (warnings too), 2 with one line on stderr when ROOT is no dataset
    or --json cannot be written, 130 on Ctrl-C."""
    from evaluation.datasets.summary import summarize_dataset

    try:
        summary = summarize_dataset(args.root)
        if args.json:
            Path(args.json).write_text(json.dumps(summary.summary(), indent=2) + "\n", encoding="utf-8")
    except (ValueError, OSError) as error:  # DatasetError is a ValueError; OSError: an unreadable folder, --json
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Stopped before the summary was complete.", file=sys.stderr)
        return 130
    print(format_table(summary))
    for line in summary.warnings:
        print(f"warning: {line}", file=sys.stderr)
    return 0
