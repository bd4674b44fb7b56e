"""Saving a run to a dataset (issue 17: a 300-frame 720p clip in <= 10 s beyond the frames' JPEG encoding).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/dataset_save.py [--frames 300] [--width 1280] [--height 720]
        [--players 6] [--threads 2] [--workdir DIR] [--keep]

Makes a synthetic pitch clip and a real run folder of it (`python -m playerseg segment`, test-sam2.1-tiny-128),
then overwrites the run's masks/*.png with the clip's truth masks of the same frames: the random-weight model's
masks mean nothing and their size is arbitrary, the truth's are player-sized, so the PNG and COCO RLE costs are
those of a real save. Times the app's save (`export_run` into a fresh dataset folder), the JPEG encoding of the
same decoded frames alone (PIL, quality 95 as the writer), and the save's parts one by one (one thread each). A
kept --workdir is reused: the clip and run are made only when missing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from playerseg.dataset.export import clip_sha256, export_run, read_run_masks  # noqa: E402
from playerseg.dataset.sequence_writer import JPEG_QUALITY, coco_document  # noqa: E402
from playerseg.io.masks import write_palette_png  # noqa: E402
from playerseg.io.video import FrameStore  # noqa: E402
from playerseg.synthetic.dataset import generate_dataset  # noqa: E402

MODEL = "test-sam2.1-tiny-128"
GOAL_S = 10.0


def make_run(work: Path, frames: int, width: int, height: int, players: int) -> tuple[Path, Path]:
    """The clip and its run folder (masks replaced by the truth), made once per work folder."""
    data, run = work / "data", work / "run"
    clip = data / "videos" / "seq000.mp4"
    if not clip.is_file():
        generate_dataset(data, frames=frames, players=players, width=width, height=height, seed=7)
    if not (run / "run.json").is_file():
        command = [sys.executable, "-m", "playerseg", "segment", str(clip), "--model", MODEL]
        command += ["--prompts", str(data / "prompts" / "seq000.json"), "--out", str(run), "--device", "cpu"]
        subprocess.run([*command, "--quiet", "--overwrite"], check=True, capture_output=True)
        model_masks = sorted((run / "masks").glob("*.png"))
        truth = data / "Annotations" / "seq000"
        covered = np.mean([np.count_nonzero(np.asarray(Image.open(p))) for p in model_masks]) / (width * height)
        print(f"random-weight model's masks cover {covered:.1%} of the frame on average; replaced by the truth's")
        for path in model_masks:
            shutil.copyfile(truth / path.name, path)
    return clip, run


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    return timed_cpu(action)[::2]


def timed_cpu(action: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds of the whole process (every thread), the result."""
    start, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - start, time.process_time() - cpu, result


def decode(clip: Path) -> list[np.ndarray]:
    with FrameStore(clip) as store:
        return list(store)


def encode_jpegs(frames: list[np.ndarray]) -> int:
    size = 0
    for rgb in frames:
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=JPEG_QUALITY)
        size += buffer.tell()
    return size


def write_pngs(masks: dict[int, np.ndarray], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for frame, labels in masks.items():
        write_palette_png(folder / f"{frame:05d}.png", labels)


def parts(clip: Path, run: Path, work: Path, frames: list[np.ndarray]) -> dict[str, float]:
    """The save's parts timed alone, in the order export_run does them."""
    seconds: dict[str, float] = {}
    seconds["sha256 of the clip"], _ = timed(lambda: clip_sha256(clip))
    seconds["run masks read"], masks = timed(lambda: read_run_masks(run, list(range(len(frames)))))
    seconds["decode the clip"], _ = timed(lambda: decode(clip))
    seconds["JPEG encode (in memory)"], _ = timed(lambda: encode_jpegs(frames))
    seconds["palette PNGs written"], _ = timed(lambda: write_pngs(masks, work / "pngs"))
    seconds["COCO document (RLE, boxes)"], coco = timed(lambda: coco_document("seq000", masks, clip.name))
    seconds["COCO json dump + write"], _ = timed(lambda: (work / "coco.json").write_text(json.dumps(coco)))
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--players", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the app's save uses none)")
    parser.add_argument("--workdir", help="folder for the clip, run and dataset (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep --workdir's (or the temporary folder's) files")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="dataset_save."))
    work.mkdir(parents=True, exist_ok=True)
    try:
        report(work, args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    return 0


def report(work: Path, args: argparse.Namespace) -> None:
    clip, run = make_run(work, args.frames, args.width, args.height, args.players)
    dataset = work / "dataset"
    shutil.rmtree(dataset, ignore_errors=True)
    total, total_cpu, _ = timed_cpu(lambda: export_run(run, clip, dataset, "seq000"))
    frames = decode(clip)
    jpeg, jpeg_cpu, size = timed_cpu(lambda: encode_jpegs(frames))
    beyond = total - jpeg
    height, width = frames[0].shape[:2]
    print(f"{len(frames)} frames {width}x{height}, {args.players} players, clip {clip.stat().st_size / 1e6:.1f} MB")
    print(f"export_run (fresh dataset): {total:.2f} s")
    print(f"JPEG encoding alone (PIL, quality {JPEG_QUALITY}, in memory): {jpeg:.2f} s, {size / 1e6:.1f} MB")
    print(f"beyond the JPEG encoding: {beyond:.2f} s; ratio to the {GOAL_S:.0f} s goal: {beyond / GOAL_S:.2f}")
    print(
        f"CPU time (all threads; less swayed by other processes): export_run {total_cpu:.2f} s, JPEG {jpeg_cpu:.2f} s, "
        f"beyond {total_cpu - jpeg_cpu:.2f} s; load average {os.getloadavg()[0]:.1f} at the end"
    )
    alone = parts(clip, run, work, frames)
    print(
        f"the save's parts timed alone, one after another ({sum(alone.values()):.2f} s in all; export_run overlaps "
        "the masks' files with the frames' on a second thread):"
    )
    for name, seconds in alone.items():
        print(f"  {name}: {seconds:.2f} s")
    sizes = {sub: _folder_mb(dataset / sub) for sub in ("JPEGImages", "Annotations", "coco")}
    print("dataset: " + ", ".join(f"{sub} {mb:.1f} MB" for sub, mb in sizes.items()))


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


if __name__ == "__main__":
    sys.exit(main())
