"""`python -m playerseg autolabel` end to end: the real Grounding DINO and SAM2 code at test size, imported boxes on
the real judo frames, and one-sentence errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from playerseg.masks import read_palette_png
from playerseg.synthetic import generate_dataset
from playerseg.video import probe_video

REPO_ROOT = Path(__file__).resolve().parents[2]
# the judo frame 0: the two fighters in the middle of the mat, five spectators and officials around it
JUDO_FIGHTERS = [[325, 45, 445, 400], [385, 35, 530, 420]]
JUDO_OTHERS = [[38, 72, 102, 230], [0, 140, 95, 300], [625, 78, 700, 238], [760, 70, 832, 262], [778, 180, 854, 322]]


def autolabel(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    return subprocess.run(
        [sys.executable, "-m", "playerseg", "autolabel", *map(str, args), "--quiet", "--device", "cpu"],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=600,
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("autolabel-cli")
    generate_dataset(root, frames=6, players=2, width=320, height=180, seed=1)
    return root / "videos" / "seq000.mp4"


def test_real_detector_code_path_runs_end_to_end(clip: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = autolabel(clip, "--out", run, "--detector", "test-gdino-tiny", "--tracker", "test-sam2.1-tiny-128",
                       "--every", "3", "--box-threshold", "0.05", "--text", "Person", "--pitch", "off",
                       "--max-players", "3")
    assert result.returncode == 0, result.stderr
    facts = json.loads((run / "run.json").read_text())
    detector = facts["autolabel"]["detector"]
    assert detector["detector"] == "test-gdino-tiny" and detector["random_weights"] and detector["text"] == "person."
    assert facts["autolabel"]["detection_frames"] == [0, 3]
    records = json.loads((run / "detections.json").read_text())
    assert records, "at box threshold 0.05 the random-weight detector finds boxes"
    assert {r["frame"] for r in records} <= {0, 3}
    kept_per_frame = [sum(r["kept"] for r in records if r["frame"] == f) for f in (0, 3)]
    assert all(k <= 3 for k in kept_per_frame), "--max-players caps the players kept per detection"
    assert sorted({r["track_id"] for r in records if r["track_id"] is not None}) == facts["track_ids"]
    assert all(r["reason"] for r in records if not r["kept"]), "every rejected box says why"
    with open(run / "frames.csv", newline="") as handle:
        detect_ms = [float(row["detect_ms"]) for row in csv.DictReader(handle)]
    assert [d > 0 for d in detect_ms] == [True, False, False, True, False, False], "detection on frames 0 and 3"
    assert probe_video(run / "overlay.mp4").frame_count == 6
    assert len(list((run / "masks").glob("*.png"))) == 6
    assert "random weights" in result.stdout.lower()


def test_judo_imported_boxes_keep_the_two_fighters(shared_data: Path, tmp_path: Path) -> None:
    judo = shared_data / "judo"
    if not (judo / "JPEGImages").is_dir():
        pytest.skip(f"{judo} is absent")
    boxes = [{"box": box, "score": 0.9} for box in JUDO_FIGHTERS + JUDO_OTHERS]
    (tmp_path / "judo.json").write_text(json.dumps({"frames": {"0": boxes}}))
    run = tmp_path / "run"
    result = autolabel(judo, "--out", run, "--detections", tmp_path / "judo.json", "--tracker",
                       "test-sam2.1-tiny-128", "--max-frames", "4", "--max-side", "428")
    assert result.returncode == 0, result.stderr
    records = json.loads((run / "detections.json").read_text())
    assert [r["kept"] for r in records if r["box"] in JUDO_FIGHTERS] == [True, True]
    others = [r for r in records if r["box"] in JUDO_OTHERS]
    assert len(others) == 5 and not any(r["kept"] for r in others)
    assert json.loads((run / "run.json").read_text())["track_ids"] == [1, 2]
    labels = read_palette_png(run / "masks" / "00000.png")
    assert labels.shape == (480, 854) and set(np.unique(labels)) <= {0, 1, 2}


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--detections", "missing.json"], "does not exist"),
        (["--detections", "bad.json"], "not valid JSON"),
        (["--detections", "bad.json", "--detector", "test-gdino-tiny"], "either --detector or --detections"),
        (["--detector", "grounding-dino-tiny"], "IDEA-Research/grounding-dino-tiny"),
        (["--detector", "no-such-detector"], "no-such-detector"),
        (["--detections", "ok.json", "--pitch", "missing-pitch.json"], "missing-pitch.json"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(clip: Path, tmp_path: Path, extra: list[str], words: str) -> None:
    (tmp_path / "bad.json").write_text("{")
    (tmp_path / "ok.json").write_text(json.dumps({"frames": {"0": [{"box": [1, 2, 30, 60]}]}}))
    extra = [str(tmp_path / e) if e.endswith(".json") else e for e in extra]
    result = autolabel(clip, "--out", tmp_path / "run", "--tracker", "test-sam2.1-tiny-128", *extra)
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "run.json").exists()
