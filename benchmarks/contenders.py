"""The contenders on synthetic pitch clips, from one run: the U-Net baseline vs the SAM2 models trained here, and
motion-aware memory vs plain, on held-out clips and on clips with crossings.

    python benchmarks/contenders.py --unet models/unet-pitch [--threads 2] [--skip-held-out]

The U-Net folder comes from (the same pitch data nano-pitch trains on, seed 2):
    python -m playerseg.synthetic D --sequences 40 --frames 12 --players 6 --seed 2
    python -m playerseg.unet train --data D --out models/unet-pitch --epochs 12 --seed 2 --val-fraction 0.1 \
        --synthetic-data

Two sets of clips no model trained on: "held-out" (the nano models' held-out pitch recipe: 4 clips x 24 frames,
6 players, seed 9001) and "crossing" (4 clips x 32 frames, 3 players, seed 11: players run through each other).
Each model runs through `python -m playerseg evaluate` (one click per player on its first frame, local engine, CPU).
Printed per set and model: J&F with its bootstrap interval, p50 ms/frame, peak RSS, ID switches and IDF1 of the
prompted ids against the truth (evaluation.identity), and "crossing J": the J of each player on the frames where its
true box overlaps another player's (from meta.json), with how many such player-frames there are.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

PLAIN = ("nano-generalist", "nano-pitch", "nano-pitch+motion")
SETS = {
    "held-out": {"sequences": 4, "frames": 24, "players": 6, "seed": 9001},
    "crossing": {"sequences": 4, "frames": 32, "players": 3, "seed": 11},
}


def _labels(folder: Path) -> list[np.ndarray]:
    return [np.asarray(Image.open(path)) for path in sorted(folder.glob("*.png"))]


def _crossing_objects(meta: dict, sequence: str) -> dict[int, set[int]]:
    """Per frame, the players whose true box overlaps another player's box (those crossing or touching)."""
    crossing: dict[int, set[int]] = {}
    for entry in meta["sequences"][sequence]["frames"]:
        boxes = {f["object_id"]: f["box"] for f in entry["figures"] if f["role"] == "player" and f["object_id"]}
        for a, box_a in boxes.items():
            for b, box_b in boxes.items():
                overlap = box_a[0] < box_b[2] and box_b[0] < box_a[2] and box_a[1] < box_b[3] and box_b[1] < box_a[3]
                if a < b and overlap:
                    crossing.setdefault(entry["frame"], set()).update((a, b))
    return crossing


def _identity_and_crossing_j(data: Path, run: Path, sequence: str, meta: dict) -> tuple[int, float, list[float]]:
    """ID switches and IDF1 of the run's ids against the truth, and J of each crossing player on its crossing
    frames."""
    from evaluation.identity import identity_metrics

    truth, predicted = _labels(data / "Annotations" / sequence), _labels(run / "masks")
    result = identity_metrics(truth, predicted)
    ious = []
    for frame, objects in sorted(_crossing_objects(meta, sequence).items()):
        gt, pred = truth[frame], predicted[frame]
        for obj in sorted(objects):
            union = ((gt == obj) | (pred == obj)).sum()
            if union:
                ious.append(float(((gt == obj) & (pred == obj)).sum() / union))
    return result.id_switches, result.idf1, ious


def _evaluate(data: Path, models: list[str], out: Path) -> None:
    from playerseg.__main__ import main

    code = main(["evaluate", "--data", str(data), "--models", ",".join(models), "--out", str(out), "--quiet",
                 "--device", "cpu"])  # fmt: skip
    if code != 0:
        raise SystemExit(f"evaluate failed ({code})")


def _report(name: str, data: Path, out: Path, models: list[str]) -> None:
    from evaluation.leaderboard.manifest import pair_folder
    from playerseg.tracking.registry import display_name

    meta = json.loads((data / "meta.json").read_text())
    with open(out / "models.csv", newline="") as handle:
        rows = {row["model"]: row for row in csv.DictReader(handle)}
    print(f"\n{name}: {len(meta['sequences'])} sequences")
    print("model                   J&F [95% CI]           p50 ms/frame  peak RSS MB  ID switches  IDF1   crossing J")
    for model in models:
        row = rows[model]
        switches, idf1s, crossing = 0, [], []
        for sequence in sorted(meta["sequences"]):
            run = pair_folder(out, model, sequence)
            s, f, ious = _identity_and_crossing_j(data, run, sequence, meta)
            switches, idf1s, crossing = switches + s, [*idf1s, f], [*crossing, *ious]
        interval = f"[{float(row['JF_low']):.3f}, {float(row['JF_high']):.3f}]" if row["JF_low"] else ""
        cross = f"{np.mean(crossing):.3f} ({len(crossing)})" if crossing else "n/a"
        print(
            f"{display_name(model):22s}  {float(row['JF']):.3f} {interval:18s}  {float(row['latency_p50_ms']):8.1f}    "
            f"{float(row['peak_memory_mb']):8.0f}     {switches:6d}     {np.mean(idf1s):.3f}  {cross}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unet", required=True, help="the trained U-Net folder (see the module docstring)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-held-out", action="store_true", help="only the crossing clips")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from playerseg.synthetic.dataset import generate_dataset

    models = [*PLAIN, str(Path(args.unet).resolve())]
    with tempfile.TemporaryDirectory() as scratch:
        for name, recipe in SETS.items():
            if name == "held-out" and args.skip_held_out:
                continue
            data = Path(scratch) / name
            generate_dataset(data, **recipe)
            out = Path(scratch) / f"{name}-out"
            _evaluate(data, models, out)
            _report(name, data, out, models)


if __name__ == "__main__":
    main()
