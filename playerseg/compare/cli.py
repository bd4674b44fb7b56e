"""`python -m playerseg compare`: model names checked before anything runs, the comparison written into a hidden
sibling of OUT and moved into place when done, a table on stdout, exit 1 when a model failed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_MODEL_FAILED = 1


def check_model_names(names: dict[str, str]) -> None:
    """Refuse an unknown model (label -> name) with one sentence, as the registry would when loading it:
    registry names, auto-labeler names (`autolabel:DETECTOR+TRACKER`, `autolabel:sam3`), finetuned folders,
    checkpoint paths."""
    from playerseg.autolabel.detector import get_detector_spec
    from playerseg.autolabel.labeler import parse_autolabel_name
    from playerseg.errors import UsageError
    from playerseg.tracking.registry import ModelUnavailableError, get_spec

    for label, name in names.items():
        try:
            autolabeler = parse_autolabel_name(name)
            if autolabeler is None:
                get_spec(name)
            elif not autolabeler.is_sam3:  # SAM 3's names were checked by parsing them
                get_detector_spec(autolabeler.detector)
                get_spec(autolabeler.tracker)
        except (ModelUnavailableError, ValueError) as error:
            raise UsageError(f"Model {label}: {error}") from None


def run_compare_command(args: argparse.Namespace, command: str) -> int:
    """Compare models A and B on the clip; returns the exit code (1 when a model failed, its results kept)."""
    from evaluation.outdir import staged_folder
    from playerseg.compare.ground_truth import GroundTruthError, read_ground_truth
    from playerseg.compare.pool import ModelPool
    from playerseg.compare.run import compare_models
    from playerseg.compare.selection import Selection
    from playerseg.io.prompts import PromptSet
    from playerseg.io.video import probe_video
    from playerseg.progress_bars import StageBars

    check_model_names({"A": args.model_a, "B": args.model_b})
    prompts = PromptSet.load(args.prompts)
    selection = Selection(args.start, args.max_frames, args.stride, args.max_side)
    try:
        with staged_folder(args.out, args.overwrite) as staged:
            ground_truth = None
            if args.gt:  # checked against the clip (frame count, mask size) before anything is unpacked
                clip = probe_video(args.clip)
                ground_truth = read_ground_truth(args.gt, staged.work / "ground_truth", clip=clip)
            with StageBars(args.quiet) as bars:
                comparison = compare_models(
                    args.clip,
                    prompts,
                    [args.model_a, args.model_b],
                    staged.work,
                    pool=ModelPool(args.device),
                    selection=selection,
                    ground_truth=ground_truth,
                    progress=bars.update,
                    command=command,
                )
            summary = final_paths(comparison.summary(), staged.work, staged.final)
            (staged.work / "summary.json").write_text(json.dumps(summary, indent=2))
    except GroundTruthError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_comparison(summary, staged.final / "summary.json")
    failed = [model["error"] for model in summary["models"].values() if not model["ok"]]
    for sentence in failed:
        print(f"error: {sentence}", file=sys.stderr)
    return EXIT_MODEL_FAILED if failed else 0


def final_paths(summary: dict[str, Any], work: Path, final: Path) -> dict[str, Any]:
    """The summary's file paths where they will be once the staged folder has moved into place."""
    files = {}
    for key, path in summary["files"].items():
        inside = path is not None and Path(path).is_relative_to(work)
        files[key] = str(final / Path(path).relative_to(work)) if inside else path
    return {**summary, "files": files}


def print_comparison(summary: dict[str, Any], summary_path: object) -> None:
    """A short table per model, failures as one line, notices and the files written."""
    with_gt = any(model["accuracy"] for model in summary["models"].values())
    header = f"{'model':44s} {'p50 ms':>8s} {'p95 ms':>8s} {'peak MB':>9s} {'memory':14s} {'cons. IoU':>9s}"
    print(header + (f" {'J&F':>6s}" if with_gt else ""))
    for model in summary["models"].values():
        if not model["ok"]:
            print(f"{model['display_name']:44s} FAILED: {model['error']}")
            continue
        latency, memory, flicker = model["latency"], model["memory"], model["flicker"]
        row = (
            f"{model['display_name']:44s} {_cell(latency['p50_ms'], 8, 1)} {_cell(latency['p95_ms'], 8, 1)} "
            f"{_cell(memory['peak_mb'], 9, 1)} {memory['kind']:14s} {_cell(flicker['consecutive_iou'], 9, 3)}"
        )
        if with_gt:
            row += " " + _cell((model["accuracy"] or {}).get("JF_mean"), 6, 3)
        print(row)
    if summary["agreement"] is not None:
        print(f"agreement A vs B: mean IoU {_cell(summary['agreement']['mean_iou'], 0, 3)} (not accuracy)")
    for notice in summary["notices"]:
        print(f"note: {notice}")
    for key, path in summary["files"].items():
        if path is not None:
            print(f"{'run folder ' + key if key in ('A', 'B') else key}: {path}")
    print(f"summary: {summary_path}")


def _cell(value: float | None, width: int, digits: int) -> str:
    return f"{'-' if value is None else f'{value:.{digits}f}':>{width}s}"
