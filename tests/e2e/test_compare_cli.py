"""`python -m playerseg compare` end to end on a synthetic clip: the table, summary.json, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SMALL, LARGE = "test-sam2.1-tiny-128", "test-sam2.1-tiny-256"


def playerseg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "playerseg", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=600
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from playerseg.synthetic.dataset import generate_dataset

    out = tmp_path_factory.mktemp("synthetic")
    generate_dataset(out, sequences=1, frames=8, players=2, width=160, height=96, seed=5)
    return out


@pytest.fixture(scope="module")
def gt_zip(dataset: Path) -> Path:
    path = dataset / "gt.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for png in sorted((dataset / "Annotations" / "seq000").glob("*.png")):
            archive.write(png, f"Annotations/seq000/{png.name}")
    return path


def compare_args(dataset: Path, out: Path, *extra: str) -> list[str]:
    return [
        "compare",
        str(dataset / "videos" / "seq000.mp4"),
        "--prompts",
        str(dataset / "prompts" / "seq000.json"),
        "--model-a",
        SMALL,
        "--model-b",
        LARGE,
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


def test_compare_prints_the_table_and_writes_summary_json(dataset: Path, gt_zip: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    proc = playerseg(*compare_args(dataset, out, "--max-frames", "4", "--gt", str(gt_zip)))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert [summary["models"][label]["name"] for label in ("A", "B")] == [SMALL, LARGE]
    assert all(model["ok"] and model["accuracy"]["frames_scored"] == 4 for model in summary["models"].values())
    assert summary["selection"]["frames"] == 4
    lines = proc.stdout.splitlines()
    assert "p50 ms" in lines[0] and "J&F" in lines[0]
    rows = [line for line in lines if line.startswith(("A: ", "B: "))]
    assert len(rows) == 2 and all("process_rss" in row for row in rows)
    assert f"summary: {out / 'summary.json'}" in proc.stdout
    for key in ("side_by_side", "disagreement", "report"):
        assert f"{key}: {summary['files'][key]}" in proc.stdout and Path(summary["files"][key]).is_file()
    assert len(list((out / "A" / "masks").glob("*.png"))) == 4 and (out / "B" / "overlay.mp4").is_file()


@pytest.mark.parametrize("bad", ["prompts", "gt"])
def test_bad_input_exits_2_with_one_line(bad: str, dataset: Path, tmp_path: Path) -> None:
    broken = tmp_path / ("prompts.json" if bad == "prompts" else "gt.zip")
    broken.write_text("{not json" if bad == "prompts" else "not a zip")
    args = compare_args(dataset, tmp_path / "cmp")
    if bad == "prompts":
        args[args.index("--prompts") + 1] = str(broken)
    else:
        args += ["--gt", str(broken)]
    proc = playerseg(*args)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr
    assert not (tmp_path / "cmp" / "summary.json").exists()
