"""`python -m playerseg evaluate` with the local engine against the Ray engine, on the same dataset and models.

    .venv/bin/python benchmarks/evaluate_engines.py [--workers 2] [--frames 24] [--players 4] [--sequences 6]
        [--width 640] [--height 360] [--models test-sam2.1-tiny-128,random-sam2.1-nano] [--address ADDR]

Builds a synthetic DAVIS dataset (seed 5), then runs the evaluate command twice, each in a fresh process (so both
pay for their imports and model loads): `--engine local`, then `--engine ray --workers N` (a Ray started for the run,
or the cluster at --address). Prints each wall time, pairs per minute, the speed-up (local / Ray wall time) and the
mean J&F of each, which agree (to ~1e-6: the thread count changes float sums).

Threads: each engine gets the whole machine. The local engine is one process running the pairs one after another,
so it runs torch on os.cpu_count() threads (OMP_NUM_THREADS); the Ray engine runs N pairs at once and pins each of
its workers to one thread (ray_cluster.THREADS_PER_PAIR), so N workers on N cores do not oversubscribe them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from playerseg.synthetic.dataset import generate_dataset  # noqa: E402

MODELS = "test-sam2.1-tiny-128,random-sam2.1-nano"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="Ray workers (default 2)")
    parser.add_argument("--sequences", type=int, default=6)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--players", type=int, default=4)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--models", default=MODELS, help=f"comma-separated (default {MODELS})")
    parser.add_argument("--address", help="a Ray cluster to use (default: the Ray engine starts one here)")
    parser.add_argument("--local-threads", type=int, help="torch threads of the local engine (default: all cores)")
    return parser.parse_args()


def run_engine(data: Path, out: Path, args: argparse.Namespace, engine: list[str], threads: int) -> float:
    """Wall seconds of one evaluate command, in a fresh process with torch on `threads` threads."""
    command = [sys.executable, "-m", "playerseg", "evaluate", "--data", str(data), "--models", args.models]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    started = time.perf_counter()
    subprocess.run([*command, "--out", str(out), *engine, "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    args = parse_args()
    threads = args.local_threads or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="evaluate-engines-") as folder:
        data = Path(folder) / "data"
        generate_dataset(data, args.sequences, args.frames, args.players, args.width, args.height, seed=5)
        pairs = args.sequences * len(args.models.split(","))
        clip = f"{args.frames} frames {args.width}x{args.height}, {args.players} players"
        print(f"{pairs} pairs: {args.sequences} sequences ({clip}) x {args.models}; {os.cpu_count()} cores")
        local = run_engine(data, Path(folder) / "local", args, ["--engine", "local"], threads)
        ray_engine = ["--engine", "ray", "--workers", str(args.workers)]
        ray_engine += ["--address", args.address] if args.address else []
        ray = run_engine(data, Path(folder) / "ray", args, ray_engine, threads)
        jf = {name: pd.read_csv(Path(folder) / name / "leaderboard.csv")["JF"].mean() for name in ("local", "ray")}
    for label, seconds in ((f"local engine, {threads} torch threads", local), (f"Ray engine, {args.workers} x 1", ray)):
        print(f"{label:<32} {seconds:7.1f} s {pairs / seconds * 60:7.1f} pairs/min")
    print(f"speed-up Ray / local: {local / ray:.2f}x; mean J&F local {jf['local']:.6f}, Ray {jf['ray']:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
