"""`python -m evaluation score | temporal | compare` end to end, on run folders made by `python -m playerseg segment`
and the synthetic ground truth; the compare report opens offline in Chromium with its charts drawn."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.browser import plotly_page_offline

REPO_ROOT = Path(__file__).resolve().parents[2]
SEQ = "seq000"


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=600)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    proc = run_module(
        "playerseg.synthetic", str(out), "--sequences", "1", "--frames", "12", "--players", "3", "--seed", "7"
    )
    assert proc.returncode == 0, proc.stderr
    return out


def segment(data: Path, out: Path, model: str) -> Path:
    proc = run_module(
        "playerseg",
        "segment",
        str(data / "videos" / f"{SEQ}.mp4"),
        "--model",
        model,
        "--prompts",
        str(data / "prompts" / f"{SEQ}.json"),
        "--out",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def run_a(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return segment(data, tmp_path_factory.mktemp("runs") / "tiny128", "test-sam2.1-tiny-128")


@pytest.fixture(scope="module")
def run_b(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return segment(data, tmp_path_factory.mktemp("runs") / "tiny256", "test-sam2.1-tiny-256")


def labels(path: Path) -> np.ndarray:
    return np.array(Image.open(path))


def plain_iou(pred: np.ndarray, gt: np.ndarray) -> float:
    union = np.logical_or(pred, gt).sum()
    return 1.0 if union == 0 else float(np.logical_and(pred, gt).sum() / union)


def test_score_a_run_folder_against_synthetic_ground_truth(data: Path, run_a: Path, tmp_path: Path) -> None:
    out = tmp_path / "score"
    proc = run_module("evaluation", "score", "--pred", str(run_a / "masks"), "--gt", str(data), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    per_frame = pd.read_csv(out / "per_frame.csv")
    assert {"frame", "object_id", "J", "F"} <= set(per_frame.columns)
    assert len(per_frame) == 12 * 3 and set(per_frame.object_id) == {1, 2, 3}
    # J on every frame against plain IoU computed here from the PNGs (the synthetic truth has no void)
    for row in per_frame.itertuples():
        pred = labels(run_a / "masks" / f"{row.frame:05d}.png") == row.object_id
        gt = labels(data / "Annotations" / SEQ / f"{row.frame:05d}.png") == row.object_id
        assert row.J == pytest.approx(plain_iou(pred, gt), abs=1e-9)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["J_mean"] == pytest.approx(per_frame.groupby("object_id").J.mean().mean(), abs=1e-9)
    assert summary["JF_mean"] == pytest.approx((summary["J_mean"] + summary["F_mean"]) / 2)
    assert set(summary["objects"]) == {"1", "2", "3"}
    # the run's clip still exists, so flow-compensated flicker is there too; the notes say the weights are random
    assert summary["temporal"][0]["flow_consistency"] is not None
    assert any("RANDOM WEIGHTS" in note for note in summary["notes"])
    assert (out / "report.html").is_file()


def test_ground_truth_scored_against_itself_is_perfect(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "self"
    gt = data / "Annotations" / SEQ
    proc = run_module("evaluation", "score", "--pred", str(gt), "--gt", str(data), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["J_mean"] == 1.0 and summary["F_mean"] == 1.0 and summary["JF_mean"] == 1.0
    assert summary["missing_objects"] == [] and summary["extra_objects"] == []


def test_sparse_ground_truth_scores_only_annotated_frames(data: Path, run_a: Path, tmp_path: Path) -> None:
    sparse = tmp_path / "sparse"
    sparse.mkdir()
    for frame in (0, 5, 11):
        shutil.copy(data / "Annotations" / SEQ / f"{frame:05d}.png", sparse)
    out = tmp_path / "score"
    proc = run_module("evaluation", "score", "--pred", str(run_a), "--gt", str(sparse), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert sorted(set(pd.read_csv(out / "per_frame.csv").frame)) == [0, 5, 11]


def test_temporal_with_and_without_frames(data: Path, run_a: Path, tmp_path: Path) -> None:
    with_frames = run_module(
        "evaluation",
        "temporal",
        "--pred",
        str(run_a / "masks"),
        "--frames",
        str(data / "videos" / f"{SEQ}.mp4"),
        "--out",
        str(tmp_path / "t1"),
    )
    assert with_frames.returncode == 0, with_frames.stderr
    table = pd.read_csv(tmp_path / "t1" / "temporal_per_frame.csv")
    assert len(table) == 12 * 3 and table.flow_consistency.notna().any()
    masks_only = tmp_path / "masks_only"
    shutil.copytree(run_a / "masks", masks_only)  # no run.json beside it: no clip to compute flow on
    without = run_module("evaluation", "temporal", "--pred", str(masks_only), "--out", str(tmp_path / "t2"))
    assert without.returncode == 0, without.stderr
    summary = json.loads((tmp_path / "t2" / "summary.json").read_text())
    assert summary["sequences"][0]["flow_consistency"] is None
    assert summary["sequences"][0]["consecutive_iou"] is not None


def test_compare_two_runs_writes_a_report_that_renders_offline(
    data: Path, run_a: Path, run_b: Path, tmp_path: Path
) -> None:
    out = tmp_path / "compare"
    proc = run_module("evaluation", "compare", str(run_a), str(run_b), "--gt", str(data), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["models"]) == {"test-sam2.1-tiny-128", "test-sam2.1-tiny-256"}
    for model in summary["models"].values():
        assert model["accuracy"]["JF_mean"] is not None
        assert model["latency"]["p50_ms"] > 0
        assert model["temporal"]["consecutive_iou"] is not None
    assert 0.0 <= summary["agreement"]["mean_iou"] <= 1.0
    for name in ("accuracy_per_frame.csv", "latency_per_frame.csv", "agreement_per_frame.csv"):
        assert (out / name).is_file(), name
    html = (out / "report.html").read_text()
    assert "RANDOM WEIGHTS" in html
    seen = plotly_page_offline(out / "report.html", min_charts=5)
    assert seen["drawn"] == seen["charts"] >= 5
    assert seen["errors"] == [] and seen["outside"] == []


def test_bad_input_is_one_line_and_exit_2(data: Path, run_a: Path, tmp_path: Path) -> None:
    missing = run_module(
        "evaluation", "score", "--pred", str(tmp_path / "nope"), "--gt", str(data), "--out", str(tmp_path / "o")
    )
    assert missing.returncode == 2 and missing.stderr.startswith("error: ")
    assert len(missing.stderr.strip().splitlines()) == 1
    small = tmp_path / "small"
    small.mkdir()
    for frame in range(12):
        mask = Image.open(run_a / "masks" / f"{frame:05d}.png")
        mask.resize((320, 180), Image.NEAREST).save(small / f"{frame:05d}.png")
    mismatch = run_module("evaluation", "score", "--pred", str(small), "--gt", str(data), "--out", str(tmp_path / "o"))
    assert mismatch.returncode == 2 and "nearest" in mismatch.stderr
    assert len(mismatch.stderr.strip().splitlines()) == 1
    resized = run_module(
        "evaluation",
        "score",
        "--pred",
        str(small),
        "--gt",
        str(data),
        "--resize",
        "nearest",
        "--out",
        str(tmp_path / "o"),
    )
    assert resized.returncode == 0, resized.stderr


def test_binary_0_255_ground_truth_is_refused_with_a_hint(run_a: Path, tmp_path: Path) -> None:
    binary = tmp_path / "binary"
    binary.mkdir()
    for frame in range(12):
        mask = labels(run_a / "masks" / f"{frame:05d}.png") > 0
        Image.fromarray((mask * 255).astype(np.uint8), mode="L").save(binary / f"{frame:05d}.png")
    proc = run_module("evaluation", "score", "--pred", str(run_a), "--gt", str(binary), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "0/255" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_importing_evaluation_pulls_in_neither_torch_gradio_nor_playerseg() -> None:
    code = (
        "import sys, evaluation, evaluation.region, evaluation.boundary, evaluation.accuracy, evaluation.temporal, "
        "evaluation.datasets, evaluation.profiling, evaluation.charts, evaluation.report, evaluation.__main__\n"
        "print(sorted(m for m in ('torch', 'gradio', 'playerseg') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
