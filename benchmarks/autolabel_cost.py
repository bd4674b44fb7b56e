"""The auto-labeler's per-frame cost split into detection (Grounding DINO + player filter + association) and
tracking (SAM2), on one synthetic clip, for the real detector code at test size and for imported boxes.

    .venv/bin/python benchmarks/autolabel_cost.py [--frames 24] [--players 4] [--every 5] [--device cpu]
        [--detector test-gdino-tiny] [--tracker test-sam2.1-tiny-128]

Prints per-frame p50 of each part over detection frames and the other frames, and the detection share of the
whole run, from one run each. Random weights: real compute costs, meaningless boxes and masks.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from playerseg.autolabel.labeler import AutoLabelJob, AutoLabelSettings, run_autolabel
from playerseg.autolabel.player_filter import FilterSettings
from playerseg.synthetic.dataset import generate_dataset


def everyone_detected(meta: dict, every: int) -> dict:
    """Imported boxes of every figure (players, referee, staff, crowd) on every `every`-th frame."""
    frames = meta["sequences"]["seq000"]["frames"]
    return {
        "frames": {
            str(f["frame"]): [{"box": g["box"], "score": 0.9} for g in f["figures"]]
            for f in frames
            if f["frame"] % every == 0
        }
    }


def report(name: str, result: object, every: int) -> None:
    stats = result.frame_stats  # type: ignore[attr-defined]
    detect = np.array([s.detect_ms for s in stats])
    total = np.array([s.latency_ms for s in stats])
    track = total - detect
    on = np.arange(len(stats)) % every == 0
    tracks = len(result.object_ids)  # type: ignore[attr-defined]
    print(f"{name}: {len(stats)} frames, detection every {every}, {tracks} tracks")
    print(f"  detection frames: detect p50 {np.median(detect[on]):7.1f} ms, track p50 {np.median(track[on]):7.1f} ms")
    if (~on).any():
        print(
            f"  other frames:     detect p50 {np.median(detect[~on]):7.1f} ms, "
            f"track p50 {np.median(track[~on]):7.1f} ms"
        )
    print(
        f"  per frame over the clip: detect {detect.mean():.1f} ms + track {track.mean():.1f} ms = "
        f"{total.mean():.1f} ms; detection share {detect.sum() / total.sum():.0%}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--players", type=int, default=4)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--detector", default="test-gdino-tiny")
    parser.add_argument("--tracker", default="test-sam2.1-tiny-128")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        meta = generate_dataset(root / "data", frames=args.frames, players=args.players, seed=7)
        clip = str(root / "data" / "videos" / "seq000.mp4")
        (root / "boxes.json").write_text(json.dumps(everyone_detected(meta, args.every)))
        print(f"clip: {args.frames} frames 640x360, {args.players} players + referee, staff, crowd; {args.device}")
        imported = AutoLabelJob(
            clip=clip,
            out=str(root / "imported"),
            tracker=args.tracker,
            detections=str(root / "boxes.json"),
            settings=AutoLabelSettings(player_filter=FilterSettings(teams="on")),
            device=args.device,
        )
        _, result = run_autolabel(imported)
        report(f"imported boxes -> filter -> {args.tracker}", result, args.every)
        # the random-weight detector finds arbitrary boxes: cap the players so both runs track a similar number
        detected = AutoLabelJob(
            clip=clip,
            out=str(root / "detected"),
            tracker=args.tracker,
            detector=args.detector,
            box_threshold=0.05,
            device=args.device,
            settings=AutoLabelSettings(
                every=args.every, player_filter=FilterSettings(pitch="off", max_count=args.players)
            ),
        )
        _, result = run_autolabel(detected)
        report(f"{args.detector} -> filter -> {args.tracker}", result, args.every)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
