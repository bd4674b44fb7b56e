"""How the tracker scales with clip length and object count, against stock sam2, from one run on one input.

    .venv/bin/python benchmarks/tracker_scaling.py [--model test-sam2.1-tiny-128] [--device cpu]

Prints, on one synthetic 640x360 clip of 240 frames with 8 players (each figure from a fresh process, so each peak
RSS is that run's own):
- peak RSS tracking 240 frames / 60 frames, ours (streaming state) and stock sam2 (init_state + propagate_in_video);
- per-frame time with 8 objects / with 1 object, ours batched and ours per object;
- stock sam2 vs ours at 240 frames: peak RSS and seconds.
Random weights: the figures are real compute and memory costs, the masks mean nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from playerseg.synthetic.dataset import generate_dataset

FRAMES_LONG, FRAMES_SHORT, PLAYERS = 240, 60, 8

# One measurement in a fresh interpreter: prints a JSON line {"seconds", "peak_rss_mb", "per_frame_ms"}.
CHILD = r"""
import json, resource, sys, time
import numpy as np, torch
from playerseg.io.prompts import PromptSet
from playerseg.tracking.registry import load_video_model
from playerseg.io.video import FrameStore
from playerseg.tracking.tracker import Sam2VideoTracker
kind, model_name, device, data, frames, objects = sys.argv[1:7]
frames, objects = int(frames), int(objects)
model = load_video_model(model_name, device)
prompts = [p for p in PromptSet.load(f"{data}/prompts/seq000.json").merged().prompts if p.frame == 0][:objects]
latencies = []
started = time.perf_counter()
if kind == "stock":
    # sam2 as documented: the whole clip loaded into the state, then propagate_in_video
    import shutil, tempfile
    folder = tempfile.mkdtemp()
    for i in range(frames):
        shutil.copy(f"{data}/JPEGImages/seq000/{i:05d}.jpg", f"{folder}/{i:05d}.jpg")
    with torch.inference_mode():
        state = model.predictor.init_state(folder)
        for p in prompts:
            model.predictor.add_new_points_or_box(state, 0, p.object_id, points=[[p.points[0].x, p.points[0].y]],
                                                  labels=[1])
        last = time.perf_counter()
        for _ in model.predictor.propagate_in_video(state):
            now = time.perf_counter(); latencies.append((now - last) * 1000); last = now
else:
    store = FrameStore(f"{data}/videos/seq000.mp4", stop=frames)
    with Sam2VideoTracker(model, store, batch_objects=(kind != "unbatched")) as tracker:
        tracker.add_prompts(prompts)
        latencies = [r.latency_ms for r in tracker.track()]
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak, "per_frame_ms": float(np.median(latencies[1:]))}))
"""


def measure(kind: str, model: str, device: str, data: Path, frames: int, objects: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind, model, device, str(data), str(frames), str(objects)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="test-sam2.1-tiny-128")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        generate_dataset(data, frames=FRAMES_LONG, players=PLAYERS, seed=7)
        run = {
            (kind, frames, objects): measure(kind, args.model, args.device, data, frames, objects)
            for kind, frames, objects in [
                ("ours", FRAMES_SHORT, 1),
                ("ours", FRAMES_LONG, 1),
                ("stock", FRAMES_SHORT, 1),
                ("stock", FRAMES_LONG, 1),
                ("ours", FRAMES_SHORT, PLAYERS),
                ("unbatched", FRAMES_SHORT, 1),
                ("unbatched", FRAMES_SHORT, PLAYERS),
            ]
        }
    print(f"{args.model} on {args.device}, synthetic 640x360 clip, random weights (costs real, masks meaningless)")
    for kind in ("ours", "stock"):
        short, long = run[(kind, FRAMES_SHORT, 1)], run[(kind, FRAMES_LONG, 1)]
        print(
            f"{kind:6s} peak RSS {FRAMES_LONG} frames {long['peak_rss_mb']:.0f} MB / {FRAMES_SHORT} frames "
            f"{short['peak_rss_mb']:.0f} MB = {long['peak_rss_mb'] / short['peak_rss_mb']:.3f}"
        )
    for kind in ("ours", "unbatched"):
        one, many = run[(kind, FRAMES_SHORT, 1)], run[(kind, FRAMES_SHORT, PLAYERS)]
        print(
            f"{kind:9s} per-frame p50 {PLAYERS} objects {many['per_frame_ms']:.1f} ms / 1 object "
            f"{one['per_frame_ms']:.1f} ms = {many['per_frame_ms'] / one['per_frame_ms']:.2f}"
        )
    ours, stock = run[("ours", FRAMES_LONG, 1)], run[("stock", FRAMES_LONG, 1)]
    print(
        f"stock / ours at {FRAMES_LONG} frames, 1 object: peak RSS {stock['peak_rss_mb']:.0f} / "
        f"{ours['peak_rss_mb']:.0f} MB = {stock['peak_rss_mb'] / ours['peak_rss_mb']:.2f}; seconds "
        f"{stock['seconds']:.1f} / {ours['seconds']:.1f} = {stock['seconds'] / ours['seconds']:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
