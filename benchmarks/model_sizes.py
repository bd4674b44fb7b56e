"""Per-frame cost and peak memory of every SAM 2.1 size at its real 1024 px input, and of SAM 3's tracker at its real
1008 px input, with 1 and with 8 objects.

    .venv/bin/python benchmarks/model_sizes.py --device cuda [--frames 60] [--sizes tiny small base-plus large sam3]
        [--objects 1 4 8] [--compile] [--clip CLIP]

Runs `python -m playerseg bench` (bare propagation and the whole segment job) for each size with random weights
(`random-sam2.1-SIZE`, `random-sam3`: the real architecture, so the costs are real and the masks mean nothing; SAM 3
through transformers' Sam3TrackerVideoModel, --compile is SAM2's only) on a 1080p clip: a
synthetic 1920x1080 clip with 8 players unless --clip is given. Prints one table row per size and object count:
per-frame p50/p95, first frame, peak VRAM (peak RAM on CPU), whole job / bare propagation, and the 8 / 1 object
ratio of the per-frame p50. Writes every bench summary to --out as JSON. Peak RAM is the process's high-water mark so
far (it never goes down between rows: on CPU, run one size per process to compare sizes); peak VRAM is reset for each
row.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from playerseg.bench import BenchJob, run_bench  # noqa: E402
from playerseg.synthetic.dataset import generate_dataset  # noqa: E402

SIZES = ["tiny", "small", "base-plus", "large", "sam3"]
OBJECT_COUNTS = [1, 8]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--frames", type=int, default=60, help="frames of the clip to run (default 60)")
    parser.add_argument("--sizes", nargs="+", default=SIZES, choices=SIZES)
    parser.add_argument("--objects", nargs="+", type=int, default=OBJECT_COUNTS, help="object counts (default 1 8)")
    parser.add_argument("--compile", action="store_true", help="sam2's torch.compile'd predictor (CUDA only)")
    parser.add_argument("--clip", help="a 1080p clip (default: a synthetic 1920x1080 clip with 8 players)")
    parser.add_argument("--out", default="model_sizes.json")
    return parser.parse_args()


def synthetic_1080p_clip(folder: Path, frames: int) -> str:
    generate_dataset(folder, frames=frames, players=8, width=1920, height=1080, seed=7)
    return str(folder / "videos" / "seq000.mp4")


def measure(size: str, objects: int, clip: str, args: argparse.Namespace) -> dict[str, Any]:
    model = "random-sam3" if size == "sam3" else f"random-sam2.1-{size}"
    job = BenchJob(model, clip, objects, args.frames, args.device, compile_model=args.compile and size != "sam3")
    summary = run_bench(job)
    gc.collect()  # the model goes with the summary's last reference: free its memory before the next size
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass
    return summary


def table(rows: list[dict[str, Any]]) -> str:
    header = "size       objects  p50 ms   p95 ms  first ms  peak VRAM MB  peak RAM MB  job/bare  N/1 p50"
    lines = [header]
    p50_of = {(r["size"], r["objects"]): r["per_frame_ms"]["p50"] for r in rows}
    for r in rows:
        ratio = ""
        if r["objects"] > 1 and (r["size"], 1) in p50_of:
            ratio = f"{r['per_frame_ms']['p50'] / p50_of[(r['size'], 1)]:.2f}x"
        vram = r["peak_vram_mb"]
        lines.append(
            f"{r['size']:<10} {r['objects']:>7} {r['per_frame_ms']['p50']:>7.1f} {r['per_frame_ms']['p95']:>8.1f} "
            f"{r['first_frame_ms']:>9.1f} {'' if vram is None else f'{vram:.0f}':>13} {r['peak_ram_mb']:>12.0f} "
            f"{r['overhead_ratio']:>8.3f}x {ratio:>8}"
        )
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = args.clip or synthetic_1080p_clip(Path(tmp) / "clip", args.frames)
        rows = []
        for size in args.sizes:
            for objects in args.objects:
                summary = measure(size, objects, clip, args)
                rows.append({**summary, "size": size})
                print(f"done: {size}, {objects} objects", flush=True)
    first = rows[0]
    print(
        f"device {first['device']}, compiled {first['compiled']}, clip {first['clip']['width']}x"
        f"{first['clip']['height']}, {first['clip']['frames']} frames; random weights: costs real, masks meaningless"
    )
    print(table(rows))
    Path(args.out).write_text(json.dumps(rows, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
