"""Command line: `python -m playerseg segment CLIP --model NAME --prompts PROMPTS.json --out RUN_DIR`,
`python -m playerseg compare CLIP --prompts PROMPTS.json --model-a NAME --model-b NAME --out DIR [--gt PATH]`,
`python -m playerseg autolabel CLIP --out RUN_DIR [--detector NAME] [--tracker NAME] [--detections FILE] ...`,
`python -m playerseg evaluate --data ROOT --models A,B[,C...] --out OUT [--engine ray]`,
`python -m playerseg export-sequence RUN_DIR --clip CLIP --dataset DIR [--name SEQ] [--overwrite]`.

Bad input ends with one sentence on stderr and exit code 2; slow imports (torch, sam2) happen after parsing.
segment, compare and autolabel refuse an OUT that already holds files unless --overwrite, write into a hidden sibling
of OUT and move it into place only when the run succeeds (evaluation/outdir.py): Ctrl-C (exit 130) and SIGTERM
(exit 143) leave OUT as it was.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playerseg.autolabel.labeler import AutoLabelJob
    from playerseg.tracking.frameskip import SkipSettings

# options that may name files or folders the run reads: an OUT holding one of them is never replaced
INPUT_OPTIONS = ("clip", "prompts", "model", "gt", "model_a", "model_b", "detections", "pitch", "detector", "tracker")


OVERWRITE_HELP = "replace OUT when it already holds files (without it such an OUT is refused)"
COMPILE_HELP = "CUDA only: sam2's torch.compile'd predictor (vos_optimized); the first frames pay for compiling"


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
    segment.add_argument("--compile", action="store_true", help=COMPILE_HELP)
    segment.add_argument(
        "--skip-motion",
        type=_positive_pixels,
        metavar="PX",
        help="skip the model on frames that moved less than PX pixels since the last processed frame (99th "
        "percentile of the optical flow) and carry the masks forward by the flow; off by default",
    )
    segment.add_argument(
        "--memory",
        choices=("sam2", "motion"),
        default="sam2",
        help="motion: the model's +motion variant (motion-aware candidate choice and memory); default sam2's own",
    )
    segment.add_argument(
        "--skip-max", type=_positive, default=4, metavar="N", help="never skip more than N frames in a row (default 4)"
    )
    _add_run_options(segment)
    _add_compare_parser(commands)
    _add_autolabel_parser(commands)
    from playerseg.evaluate.cli import add_evaluate_parser

    add_evaluate_parser(commands)
    from playerseg.dataset.cli import add_export_parser

    add_export_parser(commands)
    commands.add_parser("models", help="list the built-in model and detector names")
    bench = commands.add_parser(
        "bench",
        help="time one model on one clip: per-frame latency, stages, peak memory, whole job vs bare propagation",
        description="Run bare SAM2 propagation and the whole segment job (run folder + flicker metrics) on the same "
        "frames; print the figures and write them as JSON.",
    )
    bench.add_argument("--model", required=True, help="model name or local checkpoint path")
    bench.add_argument("--clip", required=True, help="video file or frame folder")
    bench.add_argument("--objects", type=_positive, default=1, help="grid clicks on frame 0 (default 1)")
    bench.add_argument("--prompts", help="prompts JSON instead of grid clicks")
    bench.add_argument("--frames", type=_positive, help="only the first N frames")
    bench.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when available)")
    bench.add_argument("--out", default="bench.json", help="JSON file to write (default bench.json)")
    bench.add_argument("--compile", action="store_true", help=COMPILE_HELP)
    return parser


def _add_compare_parser(commands: argparse._SubParsersAction) -> None:
    compare = commands.add_parser(
        "compare",
        help="run two models on one clip with the same prompts and compare them",
        description="Track the prompted objects with models A and B on the same frames; write both run folders "
        "(DIR/A, DIR/B), side_by_side.mp4, disagreement.mp4, report/report.html and summary.json.",
    )
    compare.add_argument("clip", help="video file, folder of JPEG frames, or DAVIS single-sequence folder")
    compare.add_argument("--prompts", required=True, help="prompts JSON (clip frame numbers and pixels)")
    compare.add_argument("--model-a", required=True, help="model A: a model name or local checkpoint path")
    compare.add_argument("--model-b", required=True, help="model B: a model name or local checkpoint path")
    compare.add_argument("--out", required=True, help="folder to write")
    compare.add_argument("--gt", default=None, help="ground truth: .zip of mask PNGs or COCO-RLE .json")
    _add_run_options(compare)


def _add_autolabel_parser(commands: argparse._SubParsersAction) -> None:
    autolabel = commands.add_parser(
        "autolabel",
        help="find the players with a text prompt (Grounding DINO + SAM2, or SAM 3) and track them",
        description="The zero-shot auto-labeler: detect every person, keep the players, track them with stable ids. "
        "Writes the run folder (masks/, overlay.mp4, frames.csv, run.json with track_ids) and detections.json. "
        "--detector sam3 (or test-sam3) runs SAM 3 instead, which detects the text's concept on every frame and "
        "tracks it itself: --tracker and --every do not apply to it.",
    )
    autolabel.add_argument("clip", help="video file, folder of JPEG frames, or DAVIS single-sequence folder")
    autolabel.add_argument("--out", required=True, help="run folder to write")
    autolabel.add_argument(
        "--detector",
        default=None,
        help="detector name or local folder (default grounding-dino-tiny); sam3 (gated facebook/sam3 weights) or "
        "test-sam3 (random weights, for tests): SAM 3 detects and tracks",
    )
    autolabel.add_argument(
        "--tracker",
        default=None,
        help="SAM2 model name or checkpoint (default sam2.1-large); not with --detector sam3",
    )
    autolabel.add_argument("--text", default="person.", help='what to detect (default "person.")')
    autolabel.add_argument(
        "--box-threshold",
        type=_fraction,
        default=None,
        help="Grounding DINO's box score threshold (default 0.35); with --detector sam3: the score a SAM 3 detection "
        "needs to count and to start a new object (default the model's own: 0.5 to count, 0.7 to start)",
    )
    autolabel.add_argument(
        "--text-threshold",
        type=_fraction,
        default=None,
        help="Grounding DINO's text token threshold (default 0.25); not with --detector sam3",
    )
    autolabel.add_argument(
        "--every",
        type=_positive,
        default=None,
        help="re-detect every N processed frames (default 5; with --detections: every listed frame); "
        "not with --detector sam3, which detects on every frame",
    )
    autolabel.add_argument("--detections", default=None, help="use these detections (JSON) instead of the detector")
    _add_filter_options(autolabel)
    _add_run_options(autolabel)


def _add_filter_options(autolabel: argparse.ArgumentParser) -> None:
    """The player filter's options: the pitch, how many players, excluded pixels, teams, when a track ends."""
    autolabel.add_argument(
        "--pitch",
        default="auto",
        help='pitch region: "auto" (dominant field colour), "off", or a JSON file {"pitch": [[x, y], ...]}',
    )
    autolabel.add_argument("--max-players", type=_positive, default=None, help="keep at most N players per detection")
    autolabel.add_argument(
        "--exclude",
        action="append",
        type=_point,
        default=[],
        metavar="X,Y",
        help="reject boxes containing this pixel (repeatable)",
    )
    autolabel.add_argument(
        "--teams",
        dest="teams",
        action="store_const",
        const="on",
        default="auto",
        help="drop the officials' jersey-colour cluster even when the colours do not separate "
        "clearly (default: only when they do)",
    )
    autolabel.add_argument(
        "--no-teams",
        dest="teams",
        action="store_const",
        const="off",
        help="no jersey-colour clustering: nobody is dropped for the colour of their shirt",
    )
    autolabel.add_argument(
        "--lost-frames",
        type=_positive,
        default=None,
        help="end a track no detection confirmed for N processed frames (default 15)",
    )


def _autolabel_job(args: argparse.Namespace) -> AutoLabelJob:
    from dataclasses import replace

    from playerseg.autolabel.association import AssociationSettings
    from playerseg.autolabel.labeler import DEFAULT_TRACKER, AutoLabelJob, AutoLabelSettings
    from playerseg.autolabel.player_filter import FilterSettings, load_polygon
    from playerseg.errors import UsageError

    if args.detections and args.detector:
        raise UsageError("Give either --detector or --detections, not both.")
    _check_sam3_options(args)
    player_filter = FilterSettings(exclusions=tuple(args.exclude), teams=args.teams)
    if args.pitch == "off":
        player_filter = replace(player_filter, pitch="off")
    elif args.pitch != "auto":
        player_filter = replace(player_filter, pitch="polygon", polygon=load_polygon(args.pitch))
    if args.max_players is not None:
        player_filter = replace(player_filter, max_count=args.max_players)
    association = AssociationSettings()
    if args.lost_frames is not None:
        association = replace(association, lost_frames=args.lost_frames)
    return AutoLabelJob(
        clip=args.clip,
        out=args.out,
        tracker=args.tracker or DEFAULT_TRACKER,
        detector=args.detector,
        detections=args.detections,
        text=args.text,
        box_threshold=args.box_threshold,
        text_threshold=args.text_threshold,
        settings=AutoLabelSettings(every=args.every, association=association, player_filter=player_filter),
        start=args.start,
        max_frames=args.max_frames,
        stride=args.stride,
        max_side=args.max_side,
        device=args.device,
    )


def _check_sam3_options(args: argparse.Namespace) -> None:
    """SAM 3 detects on every frame, tracks what it detects and has no text-token threshold: --tracker, --every and
    --text-threshold are refused with it."""
    from playerseg.autolabel.labeler import is_sam3_detector
    from playerseg.errors import UsageError

    if not is_sam3_detector(args.detector):
        return
    if args.tracker is not None:
        raise UsageError(f"--detector {args.detector} tracks what it detects itself (SAM 3): drop --tracker.")
    if args.every is not None:
        raise UsageError(f"--detector {args.detector} detects on every frame (SAM 3): drop --every.")
    if args.text_threshold is not None:
        raise UsageError(
            f"--detector {args.detector} has no text-token threshold (SAM 3): drop --text-threshold "
            "(--box-threshold sets the score a detection needs)."
        )


def _add_run_options(command: argparse.ArgumentParser) -> None:
    """Device, frame selection, progress and --overwrite options shared by segment, compare and autolabel."""
    command.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    command.add_argument("--start", type=_non_negative, default=0, help="first clip frame to process")
    command.add_argument("--max-frames", type=_positive, default=None, help="process at most N frames")
    command.add_argument("--stride", type=_positive, default=1, help="process every K-th frame")
    command.add_argument("--max-side", type=_positive, default=None, help="downscale frames to this longest side")
    command.add_argument("--quiet", action="store_true", help="no progress bars")
    command.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {text}")
    return value


def _point(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be X,Y in pixels, got {text}") from None
    return x, y


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_pixels(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of pixels, got {text}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number of pixels, got {text}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; Ctrl-C and SIGTERM stop it with one sentence (exit 130 / 143) and leave OUT as it was."""
    args = build_parser().parse_args(argv)
    from evaluation.outdir import OutputExistsError, run_stoppable
    from playerseg.errors import report_user_errors

    def run() -> int:
        return report_user_errors(lambda: _run_command(args, argv), (OutputExistsError,))

    stopped = "" if args.command == "evaluate" else None  # evaluate keeps its finished pairs and has said so
    return run_stoppable(run, getattr(args, "out", None), stopped)


def _run_command(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    """The command's exit code; bad input raises (PlayerSegError, OutputExistsError, OSError) for main to report."""
    from evaluation.outdir import check_output_folder

    command = shlex.join(["python", "-m", "playerseg", *(sys.argv[1:] if argv is None else argv)])
    if args.command == "models":
        return _list_models()
    if args.command == "bench":
        return _bench(args)
    if args.command == "evaluate":  # OUT may be an earlier evaluate's folder: it resumes
        from playerseg.evaluate.cli import run_evaluate

        return run_evaluate(args, command)
    if args.command == "export-sequence":  # writes a sequence of a dataset, not an OUT
        from playerseg.dataset.cli import run_export

        return run_export(args)
    inputs = [getattr(args, name, None) for name in INPUT_OPTIONS]
    check_output_folder(args.out, args.overwrite, inputs)  # before anything slow runs
    if args.command == "compare":
        from playerseg.compare.cli import run_compare_command

        return run_compare_command(args, command)
    if args.command == "autolabel":
        return _autolabel(args, command)
    return _segment(args, command)


def _list_models() -> int:
    from playerseg.autolabel.detector import DETECTORS
    from playerseg.tracking.registry import BUILTIN_MODELS, DEFAULT_MODELS_DIR, finetuned_folders

    for name, spec in BUILTIN_MODELS.items():
        print(f"{name:24s} {spec.description}")
    for name, detector in DETECTORS.items():
        print(f"{name:24s} detector: {detector.description}")
    from playerseg.tracking.registry import get_spec

    for folder in finetuned_folders(os.environ.get("PLAYERSEG_MODELS_DIR") or DEFAULT_MODELS_DIR):
        print(f"{str(folder):24s} {get_spec(str(folder)).description}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from playerseg.bench import BenchJob, format_bench, run_bench, write_bench

    job = BenchJob(args.model, args.clip, args.objects, args.frames, args.device, args.prompts, args.compile)
    summary = run_bench(job)
    print(format_bench(summary))
    print(f"wrote {write_bench(summary, args.out)}")
    return 0


def _autolabel(args: argparse.Namespace, command: str) -> int:
    from dataclasses import replace

    from evaluation.outdir import staged_folder
    from playerseg.autolabel.labeler import run_autolabel
    from playerseg.progress_bars import ProgressBar

    job = _autolabel_job(args)
    with staged_folder(args.out, args.overwrite) as staged, ProgressBar("autolabel", args.quiet) as bar:
        _, result = run_autolabel(replace(job, out=str(staged.work)), command, bar.update)
    report = result.autolabel
    assert report is not None
    facts = report.facts()
    rejected = ", ".join(f"{count} {reason}" for reason, count in facts["rejected_by_reason"].items()) or "none"
    timings = result.timings
    print(
        f"detections: {facts['detections']} on {len(facts['detection_frames'])} frames, kept {facts['kept']}; "
        f"rejected: {rejected}"
    )
    for cluster in facts["clusters"]:  # jersey colours of the last detection frame (--teams)
        print(
            f"jersey cluster {cluster['index']}: {cluster['label']}, RGB {tuple(cluster['rgb'])}, "
            f"{cluster['members']} players"
        )
    print(f"tracks: {facts['tracks']} (ids {report.track_ids}), suspected id switches: {report.suspected_id_switches}")
    print(f"time: detection {timings.detection_s:.2f} s, tracking {timings.tracking_s:.2f} s")
    for warning in result.warnings:
        print(f"note: {warning}")
    print(f"wrote {args.out} (masks/, overlay.mp4, frames.csv, run.json, detections.json)")
    return 0


def _segment(args: argparse.Namespace, command: str) -> int:
    from evaluation.outdir import staged_folder
    from playerseg.io.prompts import PromptSet
    from playerseg.progress_bars import ProgressBar
    from playerseg.runs.pipeline import open_selection
    from playerseg.runs.runfolder import segment_to_folder
    from playerseg.runs.selection_prompts import SelectionPrompts
    from playerseg.tracking.registry import load_video_model

    prompts = PromptSet.load(args.prompts)
    with open_selection(args.clip, args.start, args.max_frames, args.stride, args.max_side) as store:
        name = f"{args.model}+motion" if args.memory == "motion" and not args.model.endswith("+motion") else args.model
        model = load_video_model(name, args.device, compile_model=args.compile)
        with staged_folder(args.out, args.overwrite) as staged, ProgressBar("track", args.quiet) as track_bar:
            selected = SelectionPrompts.check(prompts, store)  # checked and mapped once, here
            result, outputs = segment_to_folder(
                model, store, selected, staged.work, command, track_bar.update, skip=_skip_settings(args)
            )
    label = " (RANDOM WEIGHTS: masks mean nothing)" if model.random_weights else ""
    print(f"wrote {args.out} with {len(result.source_indices)} frames, {len(result.object_ids)} objects{label}")
    if result.frame_skipping is not None:
        skipped = result.frame_skipping
        print(
            f"frame skipping: {skipped.skipped_visits} of {skipped.visits} frame visits carried masks "
            f"instead of running the model (motion < {skipped.threshold_px} px)"
        )
    if outputs.flicker is not None:
        print(_flicker_line(outputs.flicker.summary(), model.random_weights))
    return 0


def _skip_settings(args: argparse.Namespace) -> SkipSettings | None:
    from playerseg.tracking.frameskip import SkipSettings

    return None if args.skip_motion is None else SkipSettings(args.skip_motion, max_consecutive=args.skip_max)


def _flicker_line(summary: dict, random_weights: bool) -> str:
    """The run's flicker metrics in one line (higher IoUs, lower flips and volatility: steadier masks)."""
    label = " (RANDOM WEIGHTS: these figures mean nothing)" if random_weights else ""

    def show(key: str) -> str:
        value = summary.get(key)
        return "n/a" if value is None else f"{value:.3f}"

    return (
        f"flicker: consecutive IoU {show('consecutive_iou')}, flow consistency {show('flow_consistency')}, "
        f"boundary flips {show('boundary_flip_rate')}, area volatility {show('area_volatility')}{label}"
    )


if __name__ == "__main__":
    sys.exit(main())
