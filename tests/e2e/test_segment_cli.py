"""`python -m playerseg segment` end to end: synthetic clip, the real juggle clip, the real judo frames, errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from playerseg.io.masks import read_palette_png
from playerseg.io.prompts import Prompt, PromptSet
from playerseg.io.video import probe_video
from tests.browser import video_plays_in_chromium

REPO_ROOT = Path(__file__).resolve().parents[2]


def playerseg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=600
    )


def check_run_folder(run: Path, frames: int, width: int, height: int, objects: int) -> dict:
    masks = sorted((run / "masks").glob("*.png"))
    assert len(masks) == frames
    for mask in masks:
        labels = read_palette_png(mask)
        assert labels.shape == (height, width)
        assert set(np.unique(labels)) <= set(range(objects + 1))
    overlay = probe_video(run / "overlay.mp4")
    assert overlay.codec == "h264" and overlay.frame_count == frames
    with open(run / "frames.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == frames
    assert {"frame", "latency_ms", "memory_mb"} <= set(rows[0])
    assert all(float(row["latency_ms"]) > 0 and float(row["memory_mb"]) > 0 for row in rows)
    facts = json.loads((run / "run.json").read_text())
    assert facts["random_weights"] is True and "random weights" in facts["weights"]
    assert facts["checkpoint_sha256"] == "random"
    assert facts["device"] == "cpu" and facts["image_size"] == 128
    assert len(facts["objects"]) == objects
    return facts


@pytest.fixture(scope="module")
def synthetic_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    proc = playerseg(
        "playerseg.synthetic", str(out), "--sequences", "1", "--frames", "12", "--players", "3", "--seed", "7"
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_segment_synthetic_clip_writes_the_run_folder(synthetic_clip: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = playerseg(
        "playerseg",
        "segment",
        str(synthetic_clip / "videos" / "seq000.mp4"),
        "--model",
        "test-sam2.1-tiny-128",
        "--prompts",
        str(synthetic_clip / "prompts" / "seq000.json"),
        "--out",
        str(run),
    )
    assert proc.returncode == 0, proc.stderr
    assert "RANDOM WEIGHTS" in proc.stdout
    info = probe_video(synthetic_clip / "videos" / "seq000.mp4")
    facts = check_run_folder(run, 12, info.width, info.height, objects=3)
    assert facts["latency"]["p50_ms"] > 0 and facts["memory"]["kind"] == "process_rss"
    assert PromptSet.load(run / "prompts.json") == PromptSet.load(synthetic_clip / "prompts" / "seq000.json")

    # the overlay itself says random weights: a dark caption bar over the bottom rows of every frame
    import av

    with av.open(str(run / "overlay.mp4")) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert abs(float(np.median(first[-4:])) - 32) < 12, "caption bar missing from a random-weight overlay"

    played = video_plays_in_chromium(str(run / "overlay.mp4"))
    assert played["outcome"] == "ended" and played["error"] is None, played
    assert (played["width"], played["height"]) == (info.width + info.width % 2, info.height + info.height % 2)
    assert played["duration"] == pytest.approx(12 / info.fps, abs=0.1)


def test_segment_measures_flicker_as_it_writes(synthetic_clip: Path, tmp_path: Path) -> None:
    """The flicker metrics measured while the folder is written equal the evaluation package's, measured afterwards
    from the mask PNGs and the clip."""
    from evaluation.datasets.frames import open_frames
    from evaluation.datasets.sources import load_masks
    from evaluation.temporal import temporal_stability

    clip = synthetic_clip / "videos" / "seq000.mp4"
    run = tmp_path / "run"
    proc = playerseg(
        "playerseg",
        "segment",
        str(clip),
        "--model",
        "test-sam2.1-tiny-128",
        "--prompts",
        str(synthetic_clip / "prompts" / "seq000.json"),
        "--out",
        str(run),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    flicker_line = next(line for line in proc.stdout.splitlines() if line.startswith("flicker: consecutive IoU"))
    assert "RANDOM WEIGHTS" in flicker_line
    written = json.loads((run / "run.json").read_text())["flicker"]
    (masks,) = load_masks(run).values()
    with open_frames(clip) as frames:
        reference = temporal_stability(masks, frames=frames.read).summary()
    for key in ["consecutive_iou", "flow_consistency", "area_volatility", "boundary_flip_rate", "centroid_jitter_px"]:
        assert written[key] == pytest.approx(reference[key], abs=1e-9), key
    assert written["frames"] == 12 and written["presence_toggles"] == reference["presence_toggles"]


def test_segment_with_frame_skipping_carries_masks_on_skipped_frames(synthetic_clip: Path, tmp_path: Path) -> None:
    """A threshold no motion reaches: every frame that may be skipped is, so processed frames are the prompt frame
    and every (skip-max + 1)-th frame after it; every frame still gets its masks."""
    run = tmp_path / "run"
    proc = playerseg(
        "playerseg",
        "segment",
        str(synthetic_clip / "videos" / "seq000.mp4"),
        "--model",
        "test-sam2.1-tiny-128",
        "--prompts",
        str(synthetic_clip / "prompts" / "seq000.json"),
        "--out",
        str(run),
        "--skip-motion",
        "10000",
        "--skip-max",
        "2",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    assert "frame skipping: 8 of 12 frame visits carried masks" in proc.stdout
    with open(run / "frames.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["skipped_passes"]) for row in rows] == [0 if i % 3 == 0 else 1 for i in range(12)]
    assert all(float(row["gate_ms"]) > 0 for row in rows[1:])
    facts = json.loads((run / "run.json").read_text())
    assert facts["frame_skipping"] == {
        "threshold_px": 10000.0,
        "max_consecutive": 2,
        "work_height": 180,
        "skipped_visits": 8,
        "visits": 12,
        "skipped_share": 0.6667,
    }
    from evaluation.profiling import profile_from_frames_csv

    profile = profile_from_frames_csv(run / "frames.csv")  # the evaluation package reads the new columns
    assert profile.extra["skipped_passes"].sum() == 8 and np.isnan(profile.extra["motion_px"][0])
    carried = read_palette_png(run / "masks" / "00001.png")
    assert set(np.unique(carried)) <= set(np.unique(read_palette_png(run / "masks" / "00000.png")))  # nothing new


def test_segment_real_juggle_clip_with_one_click(juggle_clip: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.json"
    PromptSet([Prompt.from_click(0, 1, 700, 230)]).save(prompts)  # on the juggler's shirt
    proc = playerseg(
        "playerseg",
        "segment",
        str(juggle_clip),
        "--model",
        "test-sam2.1-tiny-128",
        "--prompts",
        str(prompts),
        "--out",
        str(tmp_path / "run"),
        "--max-frames",
        "24",
    )
    assert proc.returncode == 0, proc.stderr
    check_run_folder(tmp_path / "run", 24, 1280, 720, objects=1)
    assert probe_video(tmp_path / "run" / "overlay.mp4").duration_s == pytest.approx(1.0, abs=0.1)


def test_segment_real_judo_frames_with_a_click_on_each_fighter(judo_dir: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.json"
    PromptSet([Prompt.from_click(0, 1, 375, 250), Prompt.from_click(0, 2, 470, 260)]).save(prompts)
    proc = playerseg(
        "playerseg",
        "segment",
        str(judo_dir),
        "--model",
        "test-sam2.1-tiny-128",
        "--prompts",
        str(prompts),
        "--out",
        str(tmp_path / "run"),
    )
    assert proc.returncode == 0, proc.stderr
    check_run_folder(tmp_path / "run", 16, 854, 480, objects=2)
    assert sorted(p.name for p in (tmp_path / "run" / "masks").glob("*.png"))[-1] == "00015.png"


def test_stride_and_start_name_masks_by_clip_frame(synthetic_clip: Path, tmp_path: Path) -> None:
    prompts = PromptSet.load(synthetic_clip / "prompts" / "seq000.json")
    shifted = tmp_path / "prompts.json"
    PromptSet([Prompt(frame=2, object_id=p.object_id, points=p.points) for p in prompts.prompts]).save(shifted)
    proc = playerseg(
        "playerseg",
        "segment",
        str(synthetic_clip / "videos" / "seq000.mp4"),
        "--model",
        "test-sam2.1-tiny-128",
        "--prompts",
        str(shifted),
        "--out",
        str(tmp_path / "run"),
        "--start",
        "2",
        "--stride",
        "3",
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "run" / "masks").glob("*.png")) == [
        "00002.png",
        "00005.png",
        "00008.png",
        "00011.png",
    ]
    with open(tmp_path / "run" / "frames.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(r["frame"]) for r in rows] == [2, 5, 8, 11]


def test_offline_real_model_exits_non_zero_with_one_sentence(synthetic_clip: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    proc = playerseg(
        "playerseg",
        "segment",
        str(synthetic_clip / "videos" / "seq000.mp4"),
        "--model",
        "sam2.1-large",
        "--prompts",
        str(synthetic_clip / "prompts" / "seq000.json"),
        "--out",
        str(tmp_path / "run"),
        env=env,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: Model sam2.1-large needs sam2.1_hiera_large.pt")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "change, message",
    [
        (["--prompts", "missing.json"], "missing.json"),
        (["--clip-is", "nothing"], "unrecognized arguments"),
        (["--compile", "--device", "cpu"], "--compile needs a CUDA GPU"),
        (["--skip-motion", "0"], "must be a positive number of pixels"),
    ],
)
def test_bad_input_is_one_clear_message(synthetic_clip: Path, tmp_path: Path, change: list[str], message: str) -> None:
    args = [
        "playerseg",
        "segment",
        str(synthetic_clip / "videos" / "seq000.mp4"),
        "--model",
        "test-sam2.1-tiny-128",
        "--prompts",
        str(synthetic_clip / "prompts" / "seq000.json"),
        "--out",
        str(tmp_path / "run"),
    ]
    if change[0] == "--prompts":
        args[args.index("--prompts") + 1] = str(tmp_path / change[1])
    else:
        args += change
    proc = playerseg(*args)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_prompt_outside_the_frame_is_rejected(synthetic_clip: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.json"
    PromptSet([Prompt.from_click(0, 1, 5000, 10)]).save(prompts)
    proc = playerseg(
        "playerseg",
        "segment",
        str(synthetic_clip / "videos" / "seq000.mp4"),
        "--model",
        "test-sam2.1-tiny-128",
        "--prompts",
        str(prompts),
        "--out",
        str(tmp_path / "run"),
    )
    assert proc.returncode == 2 and "object 1" in proc.stderr and "Traceback" not in proc.stderr
