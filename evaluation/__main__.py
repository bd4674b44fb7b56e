"""CLI: `python -m evaluation score | temporal | compare | summary | leaderboard`.

score     accuracy (J, F, J&F) of a prediction against ground truth, plus the prediction's temporal stability
temporal  temporal stability (flicker) of a prediction; no ground truth needed
compare   two runs side by side: accuracy (with --gt), flicker, latency, memory, and where they disagree
leaderboard  an evaluate folder's leaderboard and report.html written again from its run folders (no model runs)
summary   what a DAVIS dataset holds (sequences, frames, objects, sizes) and warnings about what is wrong with it

Predictions and ground truth can be a run folder (`python -m playerseg segment`), its masks/ folder, a folder of
mask PNGs, a DAVIS root or sequence folder, or a COCO-RLE json. Bad input ends with one line on stderr and exit 2.
An --out folder (score, temporal, compare) that already holds files is refused unless --overwrite; results are
written into a hidden sibling and moved into place when complete, so Ctrl-C (exit 130) or SIGTERM (exit 143) leaves
--out as it was. summary only reads: it writes nothing but its --json file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluation.summary_cli import add_summary_parser, run_summary

if TYPE_CHECKING:
    from evaluation.datasets.run_folders import RunFolder
    from evaluation.results.accuracy import AccuracyResult, DatasetAccuracy
    from evaluation.results.profile import ProfileResult
    from evaluation.results.temporal import TemporalResult
    from evaluation.sequence import MaskSequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    score = commands.add_parser("score", help="J / F / J&F against ground truth (+ temporal stability)")
    score.add_argument("--pred", required=True, help="prediction: run folder, masks folder, DAVIS folder or json")
    score.add_argument("--gt", required=True, help="ground truth: DAVIS root/sequence, masks folder or COCO-RLE json")
    _add_out_options(score)
    _add_scoring_options(score)
    _add_frames_option(score)

    temporal = commands.add_parser("temporal", help="temporal stability (flicker) of a prediction")
    temporal.add_argument("--pred", required=True, help="prediction: run folder, masks folder, DAVIS folder or json")
    _add_out_options(temporal)
    _add_frames_option(temporal)

    compare = commands.add_parser("compare", help="compare two runs (report.html + CSVs)")
    compare.add_argument("run_a", help="first run folder (or masks folder)")
    compare.add_argument("run_b", help="second run folder (or masks folder)")
    compare.add_argument("--gt", help="ground truth, to add accuracy")
    _add_out_options(compare)
    _add_scoring_options(compare)
    _add_frames_option(compare)

    add_summary_parser(commands)
    leaderboard = commands.add_parser(
        "leaderboard", help="re-render an evaluate folder's leaderboard and report from its run folders"
    )
    leaderboard.add_argument("out", help="the --out folder of python -m playerseg evaluate")
    leaderboard.add_argument("--cached", action="store_true", help="reuse each pair's score.json instead of rescoring")
    return parser


def _add_out_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output folder (refused when it already holds files)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out when it already holds files")


def _add_scoring_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--resize",
        choices=["error", "nearest"],
        default="error",
        help="prediction and ground truth of different sizes: stop with an error (default) or resize the "
        "prediction to the ground truth's size (nearest neighbour)",
    )
    parser.add_argument(
        "--common-frames",
        action="store_true",
        help="score only annotated frames that also have a prediction (default: a missing prediction is an error)",
    )
    parser.add_argument("--name", help="name for the prediction in tables (default: the run's model)")


def _add_frames_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--frames",
        help="the clip (video file or frame folder) for flow-compensated metrics; default: the run's clip or the "
        "ground truth's JPEGImages when they exist",
    )


# ---------------------------------------------------------------------------------------------------------------
# Inputs


@dataclass
class Prediction:
    """One prediction to score: its sequences, where its frames are, and what the run folder says about it."""

    name: str
    sequences: dict[str, MaskSequence]
    clip: str | None = None
    profile: ProfileResult | None = None
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


def load_prediction(path: str, name: str | None = None) -> Prediction:
    from evaluation.datasets.run_folders import load_run_folder
    from evaluation.datasets.sources import load_masks

    source = Path(path)
    run_dir = source.parent if source.name == "masks" and (source.parent / "run.json").is_file() else source
    if (run_dir / "run.json").is_file():
        run = load_run_folder(run_dir)
        return Prediction(
            name=name or run.name,
            sequences={run.masks.name: run.masks},
            clip=run.clip,
            profile=run.profile,
            notes=_run_notes(run),
            facts=run.facts,
        )
    sequences = load_masks(source)
    return Prediction(name=name or source.name, sequences=sequences)


def _run_notes(run: RunFolder) -> list[str]:
    notes = []
    if run.facts.get("random_weights"):
        notes.append(f"RANDOM WEIGHTS: {run.name} is a test-size model; its masks mean nothing.")
    # the run's own random-weights warning would repeat the note above
    notes.extend(
        f"{run.name}: {warning}" for warning in run.facts.get("warnings", []) if "random weights" not in warning
    )
    return notes


def load_ground_truth(path: str) -> tuple[dict[str, MaskSequence], dict[str, str]]:
    """Ground-truth sequences, and for DAVIS layouts the frame folder of each sequence (for optical flow)."""
    from evaluation.datasets.davis import load_davis
    from evaluation.datasets.sources import load_masks

    source = Path(path)
    if (source / "Annotations").is_dir():
        davis = load_davis(source)
        frames = {name: str(seq.frames.path) for name, seq in davis.items() if seq.frames is not None}
        return {name: seq.masks for name, seq in davis.items()}, frames
    return load_masks(source), {}


def pair_sequences(pred: dict[str, MaskSequence], gt: dict[str, MaskSequence]) -> dict[str, MaskSequence]:
    """Prediction sequences keyed by the ground truth's names: one against one pairs whatever the names,
    otherwise names must match."""
    if len(pred) == 1 and len(gt) == 1:
        return {next(iter(gt)): next(iter(pred.values()))}
    missing = sorted(set(gt) - set(pred))
    if missing:
        raise ValueError(
            f"The prediction has no sequence named {', '.join(missing)} (it has {', '.join(sorted(pred))})."
        )
    return {name: pred[name] for name in gt}


def frames_reader(path: str | None) -> Any:
    """An opened frame source for optical flow, or None."""
    if path is None:
        return None
    from evaluation.datasets.frames import open_frames

    return open_frames(path)


# ---------------------------------------------------------------------------------------------------------------
# Commands


def run_score(args: argparse.Namespace, out: Path) -> str:
    """Writes the scores into `out`; returns the line to print once they are in place."""
    from evaluation.accuracy import score_dataset
    from evaluation.report.page import write_report

    prediction = load_prediction(args.pred, args.name)
    gt, gt_frames = load_ground_truth(args.gt)
    paired = pair_sequences(prediction.sequences, gt)
    accuracy = score_dataset(
        paired, gt, name=prediction.name, resize=args.resize, common_frames_only=args.common_frames
    )
    if not any(s.object_ids for s in accuracy.sequences):
        raise ValueError(
            f"The ground truth {args.gt} has no objects, only background (0) and void (255); binary masks saved as "
            "0/255 read as all void: save them with object ids 1, 2, ..."
        )
    temporal = [
        _temporal(
            seq, prediction.name, args.frames or prediction.clip or gt_frames.get(name), accuracy_of(accuracy, name)
        )
        for name, seq in paired.items()
    ]
    accuracy.to_pandas().to_csv(out / "per_frame.csv", index=False)
    accuracy.objects_to_pandas().to_csv(out / "per_object.csv", index=False)
    summary = {**_accuracy_summary(accuracy), "temporal": [t.summary() for t in temporal], "notes": prediction.notes}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    profiles = [prediction.profile] if prediction.profile is not None else []
    write_report(
        out,
        f"Accuracy of {prediction.name}",
        accuracy=list(accuracy.sequences),
        temporal=temporal,
        profiles=profiles,
        notes=prediction.notes,
    )
    return (
        f"{prediction.name}: J&F {accuracy.JF_mean:.3f} (J {accuracy.J_mean:.3f}, F {accuracy.F_mean:.3f}) over "
        f"{sum(len(s.frames) for s in accuracy.sequences)} annotated frames{_random_tag(prediction)} -> {args.out}"
    )


def accuracy_of(accuracy: DatasetAccuracy, sequence: str) -> AccuracyResult | None:
    return next((s for s in accuracy.sequences if s.sequence == sequence), None)


def _accuracy_summary(accuracy: DatasetAccuracy) -> dict[str, Any]:
    """summary.json: the aggregate numbers at the top; with one sequence its objects sit at the top level too."""
    summary = accuracy.summary()
    if len(accuracy.sequences) == 1:
        only = accuracy.sequences[0].summary()
        summary.update({k: only[k] for k in ("objects", "missing_objects", "extra_objects", "frames_scored")})
    return summary


def _temporal(
    seq: MaskSequence, name: str, frames_path: str | None, accuracy: AccuracyResult | None = None
) -> TemporalResult:
    from evaluation.temporal import temporal_stability

    frames = frames_reader(frames_path)
    try:
        return temporal_stability(seq, frames.read if frames is not None else None, name=name, accuracy=accuracy)
    finally:
        if frames is not None and hasattr(frames, "close"):
            frames.close()


def run_temporal(args: argparse.Namespace, out: Path) -> str:
    from evaluation.report.page import write_report

    prediction = load_prediction(args.pred)
    temporal = [
        _temporal(seq, prediction.name, args.frames or prediction.clip) for seq in prediction.sequences.values()
    ]
    summary = {"name": prediction.name, "sequences": [t.summary() for t in temporal], "notes": prediction.notes}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    # the report writes temporal_per_frame.csv and temporal_per_object.csv beside report.html
    write_report(out, f"Temporal stability of {prediction.name}", temporal=temporal, notes=prediction.notes)
    flow = " (no frames: flow-compensated metrics skipped)" if temporal[0].flow_consistency is None else ""
    return f"{prediction.name}: consecutive IoU {_fmt(temporal[0].mean_consecutive_iou)}{flow} -> {args.out}"


def run_compare(args: argparse.Namespace, out: Path) -> str:
    from evaluation.accuracy import agreement, score_dataset
    from evaluation.report.page import write_report

    runs = [load_prediction(args.run_a), load_prediction(args.run_b)]
    _distinct_names(runs, [args.run_a, args.run_b])
    sequences = [_single_sequence(run) for run in runs]
    frames = args.frames or runs[0].clip or runs[1].clip
    accuracy: list[AccuracyResult] = []
    if args.gt:
        gt, gt_frames = load_ground_truth(args.gt)
        frames = frames or next(iter(gt_frames.values()), None)
        for run, seq in zip(runs, sequences):
            scored = score_dataset(
                pair_sequences({seq.name: seq}, gt),
                gt,
                name=run.name,
                resize=args.resize,
                common_frames_only=args.common_frames,
            )
            accuracy.extend(scored.sequences)
    temporal = [_temporal(seq, run.name, frames, _first(accuracy, run.name)) for run, seq in zip(runs, sequences)]
    agree = agreement(sequences[0], sequences[1], runs[0].name, runs[1].name)
    profiles = [run.profile for run in runs if run.profile is not None]
    notes = [note for run in runs for note in run.notes]
    report = write_report(
        out,
        f"{runs[0].name} vs {runs[1].name}",
        accuracy=accuracy,
        temporal=temporal,
        profiles=profiles,
        agreement=agree,
        notes=notes,
    )
    summary = _compare_summary(runs, accuracy, temporal, agree, notes)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return f"{runs[0].name} vs {runs[1].name}: agreement IoU {_fmt(agree.mean_iou)} -> {Path(args.out) / report.name}"


def _compare_summary(
    runs: Sequence[Prediction],
    accuracy: Sequence[AccuracyResult],
    temporal: Sequence[TemporalResult],
    agree: Any,
    notes: list[str],
) -> dict[str, Any]:
    from evaluation.results.profile import latency_summary_dict

    models = {}
    for run, stability in zip(runs, temporal):
        scored = _first(accuracy, run.name)
        models[run.name] = {
            "accuracy": scored.summary() if scored is not None else None,
            "temporal": stability.summary(),
            "latency": latency_summary_dict(run.profile.summary()) if run.profile is not None else None,
        }
    return {"models": models, "agreement": agree.summary(), "notes": notes}


def _first(results: Sequence[AccuracyResult], name: str) -> AccuracyResult | None:
    return next((r for r in results if r.name == name), None)


def _single_sequence(run: Prediction) -> MaskSequence:
    if len(run.sequences) != 1:
        raise ValueError(f"compare takes one sequence per run; {run.name} has {len(run.sequences)}.")
    return next(iter(run.sequences.values()))


def _distinct_names(runs: list[Prediction], paths: list[str]) -> None:
    """Two runs of the same model get their folder names added, so tables and legends tell them apart."""
    if runs[0].name == runs[1].name:
        for run, path in zip(runs, paths):
            run.name = f"{run.name} ({Path(path).resolve().name})"
        if runs[0].name == runs[1].name:
            runs[1].name += " #2"


def _random_tag(prediction: Prediction) -> str:
    return " (RANDOM WEIGHTS: these scores mean nothing)" if prediction.facts.get("random_weights") else ""


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


COMMANDS = {"score": run_score, "temporal": run_temporal, "compare": run_compare}


def _leaderboard(args: argparse.Namespace) -> int:
    from evaluation.leaderboard.cli import run_leaderboard

    try:
        print(run_leaderboard(args.out, args.cached))
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command into a staged --out; Ctrl-C and SIGTERM stop it with one sentence (exit 130 / 143)."""
    from evaluation.outdir import exit_code, identity, sigterm_as_interrupt, staged_folder, stopped_message

    args = build_parser().parse_args(argv)
    if args.command == "summary":  # reads only: no --out to stage
        return run_summary(args)
    if args.command == "leaderboard":  # rewrites its own files in the evaluate folder
        return _leaderboard(args)
    before = identity(args.out)
    with sigterm_as_interrupt():
        try:
            inputs = [getattr(args, name, None) for name in ("pred", "gt", "frames", "run_a", "run_b")]
            with staged_folder(args.out, args.overwrite, inputs) as staged:
                line = COMMANDS[args.command](args, staged.work)
        except KeyboardInterrupt as stop:
            print(stopped_message(args.out, before), file=sys.stderr)
            return exit_code(stop)
        except (ValueError, OSError) as error:  # every user-facing error of the package is a ValueError subclass
            print(f"error: {error}", file=sys.stderr)
            return 2
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
