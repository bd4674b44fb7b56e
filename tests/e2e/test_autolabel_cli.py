"""`python -m playerseg autolabel` end to end: the real Grounding DINO and SAM2 code at test size, imported boxes on
the real judo frames and on a synthetic pitch (the referee goes by default, stays with --no-teams), and one-sentence
errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from playerseg.io.masks import read_palette_png
from playerseg.io.video import probe_video
from playerseg.synthetic.dataset import generate_dataset
from tests.playerseg.test_player_filter import RED, paint_person, painted_pitch

REPO_ROOT = Path(__file__).resolve().parents[2]
# the judo frame 0: the two fighters in the middle of the mat, five spectators and officials around it
JUDO_FIGHTERS = [[325, 45, 445, 400], [385, 35, 530, 420]]
JUDO_OTHERS = [[38, 72, 102, 230], [0, 140, 95, 300], [625, 78, 700, 238], [760, 70, 832, 262], [778, 180, 854, 322]]


def autolabel(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    return subprocess.run(
        [sys.executable, "-m", "playerseg", "autolabel", *map(str, args), "--quiet", "--device", "cpu"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("autolabel-cli")
    generate_dataset(root, frames=6, players=2, width=320, height=180, seed=1)
    return root / "videos" / "seq000.mp4"


def test_real_detector_code_path_runs_end_to_end(clip: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = autolabel(
        clip,
        "--out",
        run,
        "--detector",
        "test-gdino-tiny",
        "--tracker",
        "test-sam2.1-tiny-128",
        "--every",
        "3",
        "--box-threshold",
        "0.05",
        "--text",
        "Person",
        "--pitch",
        "off",
        "--max-players",
        "3",
    )
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
    result = autolabel(
        judo,
        "--out",
        run,
        "--detections",
        tmp_path / "judo.json",
        "--tracker",
        "test-sam2.1-tiny-128",
        "--max-frames",
        "4",
        "--max-side",
        "428",
    )
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


@pytest.fixture(scope="module")
def pitch_with_everyone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[tuple[int, tuple], str]]:
    """A synthetic pitch clip and a detections file holding the ground-truth box of everyone in view (players,
    referee, staff, crowd); returns (clip, detections file, role of each (frame, box))."""
    root = tmp_path_factory.mktemp("pitch-everyone")
    meta = generate_dataset(root, frames=6, players=6, width=320, height=180, seed=4, entering=1)
    frames = meta["sequences"]["seq000"]["frames"]
    roles = {(f["frame"], tuple(float(v) for v in g["box"])): g["role"] for f in frames for g in f["figures"]}
    boxes = {
        str(f["frame"]): [
            {"box": g["box"]}
            for g in f["figures"]
            if g["box"][2] - g["box"][0] >= 8 and g["box"][3] - g["box"][1] >= 16
        ]
        for f in frames
    }
    (root / "everyone.json").write_text(json.dumps({"frames": boxes}))
    return root / "videos" / "seq000.mp4", root / "everyone.json", roles


def decisions_by_role(run: Path, roles: dict[tuple[int, tuple], str]) -> dict[str, list[dict]]:
    by_role: dict[str, list[dict]] = {}
    for record in json.loads((run / "detections.json").read_text()):
        by_role.setdefault(roles[(record["frame"], tuple(record["box"]))], []).append(record)
    return by_role


def test_default_drops_the_referee_on_every_detection_frame_and_keeps_every_player(
    pitch_with_everyone: tuple[Path, Path, dict[tuple[int, tuple], str]], tmp_path: Path
) -> None:
    clip, detections, roles = pitch_with_everyone
    run = tmp_path / "run"
    result = autolabel(clip, "--out", run, "--detections", detections, "--tracker", "test-sam2.1-tiny-128")
    assert result.returncode == 0, result.stderr
    by_role = decisions_by_role(run, roles)
    assert [r["frame"] for r in by_role["referee"]] == list(range(6)), "the referee is in view on every frame"
    assert all(r["reason"] == "official's colour" and r["track_id"] is None for r in by_role["referee"])
    # every player passes the filter; players 1 and 3 (same kit) cross, and box-only matching (random-weight
    # masks) may take one of them for a second box on the other's track for a frame: that is association
    assert by_role["player"] and all(r["reason"] in (None, "overlaps a live track") for r in by_role["player"])
    assert sum(not r["kept"] for r in by_role["player"]) <= 1
    facts = json.loads((run / "run.json").read_text())
    officials = facts["autolabel"]["officials"]
    assert officials["removed"] and officials["reason"] is None and officials["dropped"] == 6
    assert officials["separation"] >= officials["needed"]
    assert facts["autolabel"]["rejected_by_reason"]["official's colour"] == 6
    assert "officials were not removed" not in result.stdout


def test_no_teams_keeps_the_referee(
    pitch_with_everyone: tuple[Path, Path, dict[tuple[int, tuple], str]], tmp_path: Path
) -> None:
    clip, detections, roles = pitch_with_everyone
    run = tmp_path / "run"
    result = autolabel(
        clip, "--out", run, "--detections", detections, "--tracker", "test-sam2.1-tiny-128", "--no-teams"
    )
    assert result.returncode == 0, result.stderr
    by_role = decisions_by_role(run, roles)
    assert len(by_role["referee"]) == 6
    assert all(r["kept"] and r["track_id"] is not None for r in by_role["referee"])
    assert all(r["reason"] in (None, "overlaps a live track") for r in by_role["player"])
    assert all(r["cluster"] is None for records in by_role.values() for r in records), "nobody was clustered"
    officials = json.loads((run / "run.json").read_text())["autolabel"]["officials"]
    assert officials == {"teams": "off", "removed": False, "reason": "jersey clustering is off"}


def test_one_kit_for_everyone_keeps_everyone_and_says_why(tmp_path: Path) -> None:
    """Seven people in shirts of one red (lit a little differently): no colour stands apart, nobody is dropped,
    run.json and the run's notes say why with the figures."""
    frames = tmp_path / "frames"
    frames.mkdir()
    boxes = [(10 + 38 * i, 110 + 4 * (i % 3), 38 + 38 * i, 190 + 4 * (i % 3)) for i in range(7)]
    light = np.random.default_rng(1).integers(-20, 21, (len(boxes), 3))
    for index in range(4):
        frame = painted_pitch()
        for box, change in zip(boxes, light, strict=True):
            moved = (box[0] + index, box[1], box[2] + index, box[3])
            paint_person(frame, moved, tuple(int(v) for v in np.clip(np.add(RED, change), 0, 255)))
        Image.fromarray(frame).save(frames / f"{index:05d}.png")
    detections = {str(i): [{"box": [b[0] + i, b[1], b[2] + i, b[3]]} for b in boxes] for i in range(4)}
    (tmp_path / "boxes.json").write_text(json.dumps({"frames": detections}))
    run = tmp_path / "run"
    result = autolabel(
        frames, "--out", run, "--detections", tmp_path / "boxes.json", "--tracker", "test-sam2.1-tiny-128"
    )
    assert result.returncode == 0, result.stderr
    records = json.loads((run / "detections.json").read_text())
    assert len(records) == 28 and all(r["kept"] for r in records)
    facts = json.loads((run / "run.json").read_text())
    officials = facts["autolabel"]["officials"]
    assert officials["teams"] == "auto" and officials["removed"] is False
    assert officials["reason"] == "jersey colours did not separate clearly"
    assert officials["separation"] < officials["needed"] == 2.0
    assert officials["frames_not_removed"] == 4 and officials["dropped"] == 0
    note = (
        f"officials were not removed by jersey colour: jersey colours did not separate clearly "
        f"(separation {officials['separation']:.2f}, needed 2)"
    )
    assert note in facts["warnings"] and f"note: {note}" in result.stdout
