"""Where the time of one app comparison goes: model load, tracking, rendering (one pass writing four videos) and
scoring (flicker with optical flow, agreement, report), for the test-size models on one synthetic clip.

    .venv/bin/python benchmarks/compare_stages.py [--frames 24] [--players 3] [--device cpu]

Prints seconds per stage and the share of the run spent outside tracking (the app's overhead over `segment`).
Random weights: real compute costs, meaningless masks.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from playerseg.compare.pool import ModelPool
from playerseg.compare.run import compare_models
from playerseg.io.prompts import PromptSet
from playerseg.synthetic.dataset import generate_dataset

MODELS = ["test-sam2.1-tiny-128", "test-sam2.1-tiny-256"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--players", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    spans: dict[tuple[str, str], list[float]] = defaultdict(list)

    def record(label: str, stage: str, done: int, total: int) -> None:
        spans[(label, stage)].append(time.perf_counter())

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        generate_dataset(data, sequences=1, frames=args.frames, players=args.players, seed=7)
        prompts = PromptSet.load(data / "prompts" / "seq000.json")
        pool = ModelPool(device=args.device)
        started = time.perf_counter()
        comparison = compare_models(
            data / "videos" / "seq000.mp4", prompts, MODELS, Path(tmp) / "run", pool=pool, progress=record
        )
        total = time.perf_counter() - started
    tracking_s = sum(float(o.profile.latency_ms.sum()) / 1000 for o in comparison.outcomes if o.profile)
    print(f"{' vs '.join(MODELS)}: {args.frames} frames 640x360, {args.players} objects, {args.device}")
    for stage in ("load", "track", "render", "score"):
        # a stage's span per model: from its first progress report to its last; models run one after the other
        # (summed), except rendering, one pass for both (the longer span)
        per_model = [t[-1] - t[0] for (_, name), t in spans.items() if name == stage]
        seconds = max(per_model, default=0.0) if stage == "render" else sum(per_model)
        print(f"  {stage:7s} {seconds:6.2f} s")
    print(f"  tracking (sum of per-frame latency, both models): {tracking_s:.2f} s")
    print(
        f"  whole comparison: {total:.2f} s; outside tracking: {total - tracking_s:.2f} s "
        f"({(total - tracking_s) / total:.0%} of the run)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
