"""`python -m playerseg evaluate`: one run folder per (model, sequence), rows equal to `python -m evaluation score`
run by hand, failures recorded per pair, resumable after a kill, and bad input refused in one sentence."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.leaderboard.manifest import MANIFEST_FILE, EvaluateManifest, pair_folder, safe_model_folder
from evaluation.leaderboard.rows import FAILURE_FILE, SCORE_FILE
from playerseg.__main__ import main
from tests.playerseg.evaluate.conftest import MODELS, UNAVAILABLE

SEQUENCES = [f"seq{i:03d}" for i in range(6)]


def test_every_pair_has_a_run_folder_and_the_unloadable_model_only_failures(evaluated: tuple[Path, int]) -> None:
    out, code = evaluated
    assert code == 3  # some pairs failed
    for model in MODELS:
        for sequence in SEQUENCES:
            folder = pair_folder(out, model, sequence)
            assert (folder / "masks" / "00000.png").is_file()
            assert {"run.json", "frames.csv", "overlay.mp4", SCORE_FILE} <= {p.name for p in folder.iterdir()}
    board = pd.read_csv(out / "leaderboard.csv")
    assert list(board.columns[:7]) == ["model", "sequence", "J", "F", "JF", "latency_p50_ms", "peak_memory_mb"]
    assert sorted(zip(board.model, board.sequence)) == sorted((m, s) for m in MODELS for s in SEQUENCES)
    for sequence in SEQUENCES:
        failure = json.loads((pair_folder(out, UNAVAILABLE, sequence) / FAILURE_FILE).read_text())
        assert failure["reason"].startswith(f"{UNAVAILABLE} on {sequence}: the model is not available")
        assert "\n" not in failure["reason"]
    models = pd.read_csv(out / "models.csv")
    assert list(models.model) == [*MODELS, UNAVAILABLE]
    assert list(models.sequences) == [6, 6, 0] and list(models.failed) == [0, 0, 6]
    summary = json.loads((out / "leaderboard.json").read_text())
    assert len(summary["rows"]) == 12 and len(summary["failures"]) == 6
    manifest = EvaluateManifest.read(out)
    first = manifest.models[0]
    assert first.random_weights is True and first.checkpoint_sha256 == "random" and first.parameters > 1_000_000


@pytest.mark.parametrize("model", MODELS)
def test_rows_equal_the_score_command_run_by_hand(
    evaluated: tuple[Path, int], six_sequences: Path, tmp_path: Path, model: str
) -> None:
    from evaluation.__main__ import main as evaluation_main

    out, _ = evaluated
    board = pd.read_csv(out / "leaderboard.csv").set_index(["model", "sequence"])
    for sequence in SEQUENCES:
        scored = tmp_path / f"{sequence}-score"
        run = pair_folder(out, model, sequence)
        gt = six_sequences / "Annotations" / sequence
        assert evaluation_main(["score", "--pred", str(run), "--gt", str(gt), "--out", str(scored)]) == 0
        by_hand = json.loads((scored / "summary.json").read_text())
        row = board.loc[(model, sequence)]
        for column, key in (("J", "J_mean"), ("F", "F_mean"), ("JF", "JF_mean"), ("J_decay", "J_decay")):
            assert row[column] == pytest.approx(by_hand[key], abs=1e-9), (sequence, column)
        stability = by_hand["temporal"][0]
        for column in ("consecutive_iou", "flow_consistency", "area_volatility", "boundary_flip_rate"):
            assert row[column] == pytest.approx(stability[column], abs=1e-9), (sequence, column)
        frames = pd.read_csv(run / "frames.csv")
        assert row["peak_memory_mb"] == pytest.approx(frames["peak_memory_mb"].max(), rel=1e-6)


def test_rerunning_a_finished_evaluation_runs_nothing(evaluated: tuple[Path, int], six_sequences: Path) -> None:
    out, _ = evaluated
    stamps = {p: p.stat().st_mtime_ns for p in out.glob(f"runs/*/*/{SCORE_FILE}")}
    models = ",".join(MODELS)
    assert main(["evaluate", "--data", str(six_sequences), "--models", models, "--out", str(out), "--quiet"]) == 0
    assert {p: p.stat().st_mtime_ns for p in out.glob(f"runs/*/*/{SCORE_FILE}")} == stamps
    assert list(pd.read_csv(out / "models.csv").model) == list(MODELS)  # the leaderboard of what was asked


def test_a_killed_run_keeps_its_finished_pairs_and_the_rerun_finishes_only_the_rest(
    six_sequences: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "playerseg", "evaluate", "--data", str(six_sequences), "--models", MODELS[0]]
    process = subprocess.Popen([*command, "--out", str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while len(list(out.glob(f"runs/*/*/{SCORE_FILE}"))) < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "the evaluation did not finish two pairs in 5 minutes"
        time.sleep(0.1)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in out.glob(f"runs/*/*/{SCORE_FILE}")}
    assert 2 <= len(finished) < 6
    import playerseg.evaluate.local as local

    ran: list[str] = []
    real = local.run_pair
    monkeypatch.setattr(local, "run_pair", lambda task, *a, **k: ran.append(task.sequence) or real(task, *a, **k))
    assert main([*command[3:], "--out", str(out), "--quiet"]) == 0
    assert sorted(ran) == sorted(set(SEQUENCES) - set(finished))
    assert {
        p.parent.name: p.stat().st_mtime_ns for p in out.glob(f"runs/*/*/{SCORE_FILE}") if p.parent.name in finished
    } == finished
    assert not list(out.glob("runs/*/.*"))  # what the killed run was writing is gone
    assert len(pd.read_csv(out / "leaderboard.csv")) == 6


def test_ctrl_c_stops_with_one_sentence_and_keeps_what_finished(six_sequences: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "playerseg", "evaluate", "--data", str(six_sequences), "--models", MODELS[0]]
    process = subprocess.Popen([*command, "--out", str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not list(out.glob(f"runs/*/*/{SCORE_FILE}")) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    kept = len(list(out.glob(f"runs/*/*/{SCORE_FILE}")))
    assert process.returncode == 130
    assert f"Stopped: {kept} of 6 pairs are finished and kept in {out}" in stderr.decode()
    assert "Traceback" not in stderr.decode()


def test_derived_prompts_click_the_deepest_point_or_box_the_first_mask(tmp_path: Path) -> None:
    from evaluation.sequence import MaskSequence
    from playerseg.evaluate.prompts import derived_prompts, sequence_prompts

    first = np.zeros((20, 30), np.uint8)
    first[2:9, 3:14] = 2  # 11 x 7 rectangle: row 5 is 4 px deep from x 6 to 10; raster order picks (6, 5)
    second = first.copy()
    second[12:15, 20:23] = 1  # object 1 appears only on frame 4
    truth = MaskSequence.from_arrays("s", {3: first, 4: second})
    clicks = derived_prompts(truth, "clicks").to_dict()["prompts"]
    assert clicks == [
        {"frame": 4, "object_id": 1, "points": [[21, 13, 1]], "box": None},
        {"frame": 3, "object_id": 2, "points": [[6, 5, 1]], "box": None},
    ]
    boxes = derived_prompts(truth, "boxes").to_dict()["prompts"]
    assert [p["box"] for p in boxes] == [[20, 12, 23, 15], [3, 2, 14, 9]]
    (tmp_path / "prompts").mkdir()
    given = {"version": 1, "prompts": [{"frame": 3, "object_id": 2, "points": [[4, 4, 1]], "box": None}]}
    (tmp_path / "prompts" / "s.json").write_text(json.dumps(given))
    prompts, source = sequence_prompts(tmp_path, "s", truth, "clicks")
    assert prompts.to_dict()["prompts"] == given["prompts"] and source.endswith("s.json")


def test_model_folders_are_path_safe_and_distinct() -> None:
    assert safe_model_folder("test-sam2.1-tiny-128") == "test-sam2.1-tiny-128"
    assert safe_model_folder("autolabel:test-gdino-tiny+test-sam2.1-tiny-128").startswith(
        "autolabel_test-gdino-tiny+test-sam2.1-tiny-128-"
    )
    one, two = safe_model_folder("models/a b"), safe_model_folder("models/a_b")
    assert "/" not in one and one != two and ".." not in safe_model_folder("../../etc")


def test_bad_input_is_refused_in_one_sentence(
    six_sequences: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*args: str) -> tuple[int, str]:
        code = main(["evaluate", *args, "--quiet"])
        return code, capsys.readouterr().err.strip()

    code, err = run("--data", str(tmp_path), "--models", MODELS[0], "--out", str(tmp_path / "o"))
    assert code == 2 and err.startswith("error: --data") and "DAVIS" in err and err.count("\n") == 0
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    code, err = run("--data", str(six_sequences), "--models", MODELS[0], "--out", str(busy))
    assert code == 2 and "not an evaluate folder" in err and (busy / "notes.txt").read_text() == "mine"
    code, err = run("--data", str(six_sequences), "--models", f"{MODELS[0]},{MODELS[0]}", "--out", str(tmp_path / "o"))
    assert code == 2 and "more than once" in err


def test_an_evaluation_of_another_dataset_is_not_resumed(six_sequences: Path, tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(six_sequences, data, ignore=shutil.ignore_patterns("seq00[2-5]", "seq00[2-5].*"))
    out = tmp_path / "out"
    args = ["evaluate", "--data", str(data), "--models", MODELS[0], "--out", str(out), "--quiet"]
    assert main(args) == 0
    annotation = data / "Annotations" / "seq000" / "00003.png"
    annotation.write_bytes(annotation.read_bytes() + b"\0")  # an edited annotation: another dataset
    assert main(args) == 2
    before = (pair_folder(out, MODELS[0], "seq000") / SCORE_FILE).stat().st_mtime_ns
    assert main([*args, "--force"]) == 0
    assert (pair_folder(out, MODELS[0], "seq000") / SCORE_FILE).stat().st_mtime_ns != before
    assert json.loads((out / MANIFEST_FILE).read_text())["sequences"] == ["seq000", "seq001"]


def test_an_auto_labeler_gets_id_metrics_and_kept_counts(six_sequences: Path, tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(six_sequences, data, ignore=shutil.ignore_patterns("seq00[1-5]", "seq00[1-5].*"))
    out = tmp_path / "out"
    labeler = "autolabel:test-gdino-tiny+test-sam2.1-tiny-128"
    args = ["evaluate", "--data", str(data), "--models", f"{MODELS[0]},{labeler}", "--out", str(out), "--quiet"]
    assert main(args) == 0
    rows = pd.read_csv(out / "leaderboard.csv").set_index("model")
    auto, prompted = rows.loc[labeler], rows.loc[MODELS[0]]
    assert np.isfinite(auto["idf1"]) and np.isfinite(auto["id_switches"]) and auto["players"] == 2
    assert np.isfinite(auto["non_players_kept"])
    assert np.isnan(prompted["idf1"]) and np.isnan(prompted["players"])  # prompted ids are given, not made
    assert (out / "runs" / safe_model_folder(labeler) / "seq000" / "detections.json").is_file()


def test_kept_players_and_non_players_are_counted_by_hand() -> None:
    from evaluation.leaderboard.scoring import FigureBox, _kept
    from evaluation.sequence import MaskSequence

    gt = np.zeros((40, 60), np.uint8)
    gt[5:25, 5:15] = 1  # player 1
    gt[5:25, 40:50] = 2  # player 2, never found
    pred = np.zeros_like(gt)
    pred[5:25, 5:15] = 7  # finds player 1
    pred[10:30, 22:32] = 9  # sits on the referee
    pred[0:3, 0:3] = 4  # a speck on nobody
    roles = {0: [FigureBox("player", 1, (5, 5, 15, 25)), FigureBox("referee", None, (22, 10, 32, 30))]}
    truth = MaskSequence.from_arrays("s", {0: gt})
    assert _kept(truth, MaskSequence.from_arrays("p", {0: pred}), roles) == (1.0, 2.0, 1.0)


def test_mask_prompts_give_the_ground_truth_mask_on_the_prompted_frame(six_sequences: Path, tmp_path: Path) -> None:
    """--prompts masks hands each object's first annotated mask to sam2 (add_new_mask): even a random-weight model
    outputs that mask on that frame (up to sam2's resizing), where a click gives it nothing to go on."""
    import shutil

    from evaluation.datasets.mask_pngs import load_mask_folder

    data = tmp_path / "data"
    shutil.copytree(six_sequences, data, ignore=shutil.ignore_patterns("seq00[1-5]", "seq00[1-5].*"))
    first_iou = {}
    for mode in ("masks", "clicks"):
        out = tmp_path / mode
        args = ["evaluate", "--data", str(data), "--models", MODELS[0], "--out", str(out), "--prompts", mode]
        assert main([*args, "--quiet"]) == 0
        truth = load_mask_folder(data / "Annotations" / "seq000").read(0)
        predicted = load_mask_folder(pair_folder(out, MODELS[0], "seq000") / "masks").read(0)
        ious = [
            np.logical_and(truth == k, predicted == k).sum() / np.logical_or(truth == k, predicted == k).sum()
            for k in (1, 2)
        ]
        first_iou[mode] = min(ious)
        assert json.loads((out / MANIFEST_FILE).read_text())["prompts"] == mode
    # the 128 px test model sees the mask at a quarter of its input (32 x 32 logits): small players come back coarse
    assert first_iou["masks"] > 0.5 and first_iou["masks"] > first_iou["clicks"] + 0.3


def test_a_model_that_cannot_load_is_tried_once_per_run(
    six_sequences: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playerseg.compare.pool import ModelPool

    tries: list[str] = []
    real = ModelPool.get
    monkeypatch.setattr(ModelPool, "get", lambda pool, name: tries.append(name) or real(pool, name))
    out = tmp_path / "out"
    assert main(["evaluate", "--data", str(six_sequences), "--models", UNAVAILABLE, "--out", str(out), "--quiet"]) == 3
    assert tries == [UNAVAILABLE]
    reasons = {json.loads((pair_folder(out, UNAVAILABLE, s) / FAILURE_FILE).read_text())["reason"] for s in SEQUENCES}
    assert len(reasons) == 6 and all("the model is not available (Model sam2.1-large needs" in r for r in reasons)
