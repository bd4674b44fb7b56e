"""Per-frame latency and memory of `segment` on a synthetic clip, for the test-size models, from one run each.

    .venv/bin/python benchmarks/segment_costs.py [--frames 24] [--players 3] [--device cpu]

Prints p50/p95 per frame, the prompt frame's time, peak memory, and the 256 px / 128 px latency ratio.
Random weights: the figures are real compute costs, the masks mean nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from playerseg.synthetic.dataset import generate_dataset

MODELS = ["test-sam2.1-tiny-128", "test-sam2.1-tiny-256"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--players", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        generate_dataset(data, frames=args.frames, players=args.players, seed=7)
        p50: dict[str, float] = {}
        for model in MODELS:
            run = Path(tmp) / model
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "playerseg",
                    "segment",
                    str(data / "videos" / "seq000.mp4"),
                    "--model",
                    model,
                    "--prompts",
                    str(data / "prompts" / "seq000.json"),
                    "--out",
                    str(run),
                    "--device",
                    args.device,
                    "--quiet",
                ],
                check=True,
                capture_output=True,
            )
            facts = json.loads((run / "run.json").read_text())
            latency, memory = facts["latency"], facts["memory"]
            p50[model] = latency["p50_ms"]
            print(
                f"{model}: {args.frames} frames 640x360, {args.players} objects, {facts['device']}: "
                f"p50 {latency['p50_ms']:.0f} ms, p95 {latency['p95_ms']:.0f} ms, "
                f"prompt frame {latency['prompt_ms']:.0f} ms, peak {memory['kind']} {memory['peak_mb']:.0f} MB"
            )
        print(f"ratio p50 256px / 128px: {p50[MODELS[1]] / p50[MODELS[0]]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
