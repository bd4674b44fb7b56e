"""`python -m playerseg evaluate --data ROOT --models A,B[,C...] --out OUT`: every model on every sequence, the
leaderboard (leaderboard.csv, models.csv, leaderboard.json) and report.html in OUT. Rerunning the same command
runs only the pairs that have not finished (failed pairs are tried again); --force runs them all."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.leaderboard.manifest import EvaluateManifest
from evaluation.leaderboard.rows import PairFailure
from playerseg.evaluate.job import (
    ENGINES,
    PROMPT_MODES,
    EvaluateError,
    EvaluateJob,
    check_models,
    dataset_sequences,
    open_manifest,
)

if TYPE_CHECKING:  # the pair runner imports torch and sam2: only once the arguments are known to be good
    from evaluation.leaderboard.table import Leaderboard
    from playerseg.evaluate.pair import PairOutcome, PairTask

EXIT_PAIRS_FAILED = 3


def add_evaluate_parser(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="run several models over a whole dataset and write a leaderboard and a stakeholder report",
        description="Run every model on every sequence of a DAVIS-layout dataset; write OUT/runs/<model>/<seq>/ run "
        "folders, leaderboard.csv, models.csv, leaderboard.json and report.html. Resumable: finished pairs are kept.",
    )
    evaluate.add_argument("--data", required=True, help="dataset root (Annotations/<seq>/, JPEGImages/<seq>/)")
    evaluate.add_argument("--models", required=True, help="comma-separated model names; the first is the baseline")
    evaluate.add_argument("--out", required=True, help="output folder (an earlier evaluate's OUT resumes)")
    evaluate.add_argument(
        "--prompts",
        choices=PROMPT_MODES,
        default="clicks",
        help="where a sequence has no prompts/<seq>.json: one click at the deepest point of each object's first "
        "annotated mask (clicks, default) or the box around it (boxes); masks: that mask itself (always, "
        "prompts/<seq>.json or not)",
    )
    evaluate.add_argument("--force", action="store_true", help="run every pair again, finished or not")
    evaluate.add_argument("--engine", choices=ENGINES, default="local", help="local (default) or ray")
    evaluate.add_argument("--address", help="Ray cluster address (default: start a local Ray on this machine)")
    evaluate.add_argument("--workers", type=int, default=None, help="Ray: at most this many pairs at once")
    evaluate.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")


def job_from_args(args: argparse.Namespace, command: str) -> EvaluateJob:
    if args.workers is not None and args.workers < 1:
        raise EvaluateError(f"--workers must be a positive integer, got {args.workers}.")
    if args.address and args.engine != "ray":
        raise EvaluateError("--address is for --engine ray.")
    return EvaluateJob(
        data=Path(args.data),
        models=check_models(tuple(args.models.split(","))),
        out=Path(args.out),
        prompts=args.prompts,
        force=args.force,
        engine=args.engine,
        address=args.address,
        workers=args.workers,
        device=args.device,
        quiet=args.quiet,
        command=command,
    )


class _Recorder:
    """Keeps the manifest's model facts current as pairs finish (engines may call from another thread)."""

    def __init__(self, job: EvaluateJob, manifest: EvaluateManifest) -> None:
        self.job, self.manifest = job, manifest
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, outcome: PairOutcome) -> None:
        with self._lock:
            if outcome.model is not None:
                self.manifest = self.manifest.with_model(outcome.model)
                self.manifest.write(self.job.out)
            result = outcome.result
            if isinstance(result, PairFailure):
                self.failures.append(result.reason)
                if not self.job.quiet:
                    print(f"\nfailed: {result.reason}", file=sys.stderr)


def run_evaluate(args: argparse.Namespace, command: str) -> int:
    """The evaluate command: plan, run the missing pairs, write the leaderboard and report."""
    from evaluation.leaderboard.collect import collect, missing_pairs
    from playerseg.evaluate.pair import PairTask, remove_stale_partials

    job = job_from_args(args, command)
    sequences = dataset_sequences(job.data)
    manifest = open_manifest(job, sequences)
    job.out.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(job.out)  # what a killed run was writing
    manifest.write(job.out)
    todo = [(m, s) for m in manifest.model_names for s in sequences] if job.force else missing_pairs(job.out)
    tasks = [PairTask(manifest.data, str(job.out), m, s, job.prompts, command) for m, s in todo]
    total = len(manifest.model_names) * len(sequences)
    print(f"{len(tasks)} of {total} pairs to run ({total - len(tasks)} finished earlier) -> {job.out}")
    recorder = _Recorder(job, manifest)
    try:
        _run(job, tasks, recorder)
    except KeyboardInterrupt:
        left = len(missing_pairs(job.out))
        print(
            f"Stopped: {total - left} of {total} pairs are finished and kept in {job.out}; run the same command "
            "again to finish the rest.",
            file=sys.stderr,
        )
        raise
    board = collect(job.out)
    _write_outputs(job.out, board)
    _print_board(board)
    return EXIT_PAIRS_FAILED if board.failures else 0


def _run(job: EvaluateJob, tasks: list[PairTask], recorder: _Recorder) -> None:
    if job.engine == "ray":
        from playerseg.evaluate.ray_engine import run_ray

        run_ray(tasks, recorder, job.address, job.workers, job.device, job.quiet)
    else:
        from playerseg.evaluate.local import run_local

        run_local(tasks, recorder, job.device, job.quiet)


def _write_outputs(out: Path, board: Leaderboard) -> None:
    from evaluation.leaderboard.table import write_leaderboard

    write_leaderboard(out, board)
    try:
        from evaluation.leaderboard.report import write_leaderboard_report
    except ImportError:  # the report module lands separately
        return
    write_leaderboard_report(out, board)


def _print_board(board: Leaderboard) -> None:
    """One line per model: J&F with its interval, speed, memory; then the failed pairs."""
    for summary in board.models:
        label = " (RANDOM WEIGHTS)" if summary.random_weights else ""
        if not summary.sequences:
            print(f"{summary.model}: no sequence finished")
            continue
        print(
            f"{summary.model}: J&F {summary.JF.mean:.3f} [{summary.JF.low:.3f}, {summary.JF.high:.3f}] over "
            f"{summary.sequences} sequences, p50 {summary.latency_p50_ms:.1f} ms/frame, "
            f"peak {summary.peak_memory_mb:.0f} MB{label}"
        )
    if board.failures:
        print(f"{len(board.failures)} pairs failed (rerun the same command to try them again):")
        for failure in board.failures:
            print(f"  {failure.reason}")
