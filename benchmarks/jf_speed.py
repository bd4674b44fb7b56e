"""J&F speed: evaluation.accuracy.JFMetric (windowed) vs. the full-frame DAVIS algorithm, same masks, one run.

The reference is vos-benchmark's `Evaluator.feed_frame`, which follows the DAVIS 2017 code on the whole frame for
every object. Both score the same synthetic 1920x1080 label maps (player-sized ellipses with ragged edges, and a
prediction that is shifted, resized and nibbled); the script checks that the values are identical and prints
milliseconds per frame for both and the speed ratio. OpenCV runs on one thread so the ratio is not skewed by how
each side happens to use the shared cores.

    .venv/bin/python benchmarks/jf_speed.py [--frames 30] [--objects 10] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from evaluation.accuracy import JFMetric  # noqa: E402

HEIGHT, WIDTH = 1080, 1920
HALF_AXES = (20, 55)  # ellipse half-axes: a ~40x110 px player


def draw_frame(centres: np.ndarray, rng: np.random.Generator, jitter: float, nibble: float) -> np.ndarray:
    """Label map with one ragged ellipse per object (id k + 1 at centres[k])."""
    labels = np.zeros((HEIGHT, WIDTH), np.uint8)
    for k, (x, y) in enumerate(centres):
        axes = tuple(int(round(a * (1 + rng.uniform(-jitter, jitter)))) for a in HALF_AXES)
        centre = (int(round(x + rng.normal(0, 4 * jitter))), int(round(y + rng.normal(0, 4 * jitter))))
        cv2.ellipse(labels, centre, axes, float(rng.uniform(-10, 10)), 0, 360, k + 1, -1)
        for _ in range(6):  # ragged edges: small blobs added or bitten out near the outline
            angle = rng.uniform(0, 2 * np.pi)
            px = int(centre[0] + axes[0] * np.cos(angle))
            py = int(centre[1] + axes[1] * np.sin(angle))
            value = 0 if rng.random() < nibble else k + 1
            cv2.circle(labels, (px, py), int(rng.integers(2, 7)), value, -1)
    return labels


def make_sequence(frames: int, objects: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(prediction, ground truth) label maps per frame; objects drift a few pixels per frame and stay in view."""
    rng = np.random.default_rng(seed)
    margin = 80
    centres = np.column_stack(
        [rng.uniform(margin, WIDTH - margin, objects), rng.uniform(margin + 60, HEIGHT - margin - 60, objects)]
    )
    velocity = rng.normal(0, 3, size=(objects, 2))
    pairs = []
    for _ in range(frames):
        gt = draw_frame(centres, rng, jitter=0.0, nibble=0.5)
        pred = draw_frame(centres + rng.normal(0, 10, size=centres.shape), rng, jitter=0.25, nibble=0.7)
        pairs.append((pred, gt))
        centres = np.clip(centres + velocity, [margin, margin + 60], [WIDTH - margin, HEIGHT - margin - 60])
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--objects", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        from vos_benchmark.evaluator import Evaluator
    except ImportError:
        print("vos-benchmark is not installed (pip install vos-benchmark==0.1.0): it is the full-frame reference.")
        return 1

    cv2.setNumThreads(1)
    pairs = make_sequence(args.frames, args.objects, args.seed)
    ours, reference = JFMetric(), Evaluator()
    ours_s = reference_s = 0.0
    for frame, (pred, gt) in enumerate(pairs):  # interleaved, so machine noise hits both alike
        start = time.perf_counter()
        ours.update(frame, pred, gt)
        ours_s += time.perf_counter() - start
        start = time.perf_counter()
        reference.feed_frame(pred, gt)
        reference_s += time.perf_counter() - start
    result = ours.compute(name="windowed", sequence="synthetic")

    diff = 0.0
    for column, obj in enumerate(result.object_ids):
        diff = max(diff, float(np.max(np.abs(result.J[:, column] - np.asarray(reference.object_iou[obj])))))
        diff = max(diff, float(np.max(np.abs(result.F[:, column] - np.asarray(reference.boundary_f[obj])))))
    n = len(pairs)
    print(f"{n} frames {WIDTH}x{HEIGHT}, {len(result.object_ids)} objects, OpenCV threads 1")
    print(f"J mean {result.J_mean:.4f}  F mean {result.F_mean:.4f}")
    print(f"values: max abs difference {diff:.3g} ({'identical' if diff < 1e-9 else 'DIFFERENT'})")
    print(f"ours (windowed JFMetric):           {1000 * ours_s / n:8.2f} ms/frame")
    print(f"reference (vos_benchmark, full frame): {1000 * reference_s / n:8.2f} ms/frame")
    print(f"speed ratio: {reference_s / ours_s:.1f}x")
    return 0 if diff < 1e-9 else 2


if __name__ == "__main__":
    raise SystemExit(main())
