"""Run folders that never lie, through the real CLIs: a folder holding a run is refused without --overwrite and
replaced whole with it; SIGTERM part way leaves the old run (or nothing); compare refuses unknown model names and
exits 1 when a model fails."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL = "test-sam2.1-tiny-128"
SEQ = "seq000"


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
    }


def run_module(*args: object, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *map(str, args)], capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=600
    )


def segment_args(clip: Path, out: Path, *extra: object) -> list[object]:
    return [
        "playerseg",
        "segment",
        clip / "videos" / f"{SEQ}.mp4",
        "--model",
        MODEL,
        "--prompts",
        clip / "prompts" / f"{SEQ}.json",
        "--out",
        out,
        "--device",
        "cpu",
        "--quiet",
        *extra,
    ]


def masks(run: Path) -> list[str]:
    return sorted(path.name for path in (run / "masks").glob("*.png"))


def leftovers(out: Path) -> list[str]:
    return sorted(path.name for path in out.parent.iterdir() if path.name.startswith(f".{out.name}."))


def assert_one_sentence(proc: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == code, proc.stderr
    assert len(lines) == 1 and text in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def no_staging_paths_inside(folder: Path) -> None:
    """Nothing written records where it was written before it moved into place."""
    for path in folder.rglob("*"):
        if path.suffix in (".json", ".csv", ".html"):
            assert ".partial-" not in path.read_text(encoding="utf-8", errors="replace"), path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    proc = run_module(
        "playerseg.synthetic",
        out,
        "--sequences",
        "1",
        "--frames",
        "30",
        "--players",
        "2",
        "--width",
        "320",
        "--height",
        "180",
        "--seed",
        "7",
        env=environment(out),
    )
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def full_run(clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete 30-frame segment run, kept read-only as the 'previous run' copied by each test."""
    out = tmp_path_factory.mktemp("previous") / "run"
    proc = run_module(*segment_args(clip, out), env=environment(out.parent))
    assert proc.returncode == 0, proc.stderr
    assert len(masks(out)) == 30 and json.loads((out / "run.json").read_text())["selection"]["frames"] == 30
    no_staging_paths_inside(out)
    return out


def copy_of(run: Path, where: Path) -> Path:
    import shutil

    return Path(shutil.copytree(run, where))


def test_a_folder_holding_a_run_is_refused_and_replaced_whole_with_overwrite(
    clip: Path, full_run: Path, tmp_path: Path
) -> None:
    out = copy_of(full_run, tmp_path / "run")
    refused = run_module(*segment_args(clip, out, "--max-frames", "12"), env=environment(tmp_path))
    assert_one_sentence(refused, 2, f"{out} already holds files (a previous run?); pass --overwrite to replace it")
    assert len(masks(out)) == 30 and (out / "run.json").read_bytes() == (full_run / "run.json").read_bytes()

    replaced = run_module(*segment_args(clip, out, "--max-frames", "12", "--overwrite"), env=environment(tmp_path))
    assert replaced.returncode == 0, replaced.stderr
    assert masks(out) == [f"{frame:05d}.png" for frame in range(12)]
    facts = json.loads((out / "run.json").read_text())
    assert facts["selection"]["frames"] == 12 and leftovers(out) == []
    assert f"wrote {out} with 12 frames" in replaced.stdout
    no_staging_paths_inside(out)


def terminate_part_way(clip: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Start a segment run, send SIGTERM once its first mask PNGs are in the partial folder, wait for it."""
    process = subprocess.Popen(
        [sys.executable, "-m", *map(str, segment_args(clip, out, "--overwrite"))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=env,
    )
    deadline = time.monotonic() + 300
    while not list(out.parent.glob(f".{out.name}.partial-*/masks/*.png")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no mask appeared in the partial folder"
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_sigterm_over_a_complete_run_leaves_it_intact(clip: Path, full_run: Path, tmp_path: Path) -> None:
    out = copy_of(full_run, tmp_path / "run")
    stopped = terminate_part_way(clip, out, environment(tmp_path))
    assert_one_sentence(stopped, 143, f"Stopped: nothing was written to {out}.")
    assert (out / "run.json").read_bytes() == (full_run / "run.json").read_bytes()
    assert masks(out) == masks(full_run) and leftovers(out) == []


def test_sigterm_on_a_fresh_folder_leaves_no_folder(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "fresh"
    stopped = terminate_part_way(clip, out, environment(tmp_path))
    assert_one_sentence(stopped, 143, f"Stopped: nothing was written to {out}.")
    assert not out.exists() and leftovers(out) == []


def test_evaluation_score_refuses_a_full_out_and_replaces_it_with_overwrite(
    clip: Path, full_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "scores"
    score = ["evaluation", "score", "--pred", full_run, "--gt", clip / "Annotations" / SEQ, "--out", out]
    first = run_module(*score, env=environment(tmp_path))
    assert first.returncode == 0, first.stderr
    assert f"-> {out}" in first.stdout and (out / "summary.json").is_file()
    (out / "notes.txt").write_text("someone's file")
    refused = run_module(*score, env=environment(tmp_path))
    assert_one_sentence(refused, 2, "already holds files (a previous run?); pass --overwrite")
    assert (out / "notes.txt").is_file()
    replaced = run_module(*score, "--overwrite", env=environment(tmp_path))
    assert replaced.returncode == 0, replaced.stderr
    assert not (out / "notes.txt").exists() and (out / "summary.json").is_file() and (out / "report.html").is_file()
    assert leftovers(out) == []
    no_staging_paths_inside(out)
    (out / "x").mkdir()
    deleting = run_module(
        "evaluation", "temporal", "--pred", out / "x", "--out", out, "--overwrite", env=environment(tmp_path)
    )
    assert_one_sentence(deleting, 2, "an input of this run, which --overwrite would delete")


@pytest.mark.parametrize("which", ["--model-a", "--model-b"])
def test_compare_refuses_an_unknown_model_before_anything_runs(clip: Path, tmp_path: Path, which: str) -> None:
    out = tmp_path / "cmp"
    args = [
        "playerseg",
        "compare",
        clip / "videos" / f"{SEQ}.mp4",
        "--prompts",
        clip / "prompts" / f"{SEQ}.json",
        "--model-a",
        MODEL,
        "--model-b",
        MODEL,
        "--out",
        out,
        "--quiet",
    ]
    args[args.index(which) + 1] = "no-such-model"
    proc = run_module(*args, env=environment(tmp_path))
    label = which[-1].upper()
    assert_one_sentence(proc, 2, f"error: Model {label}: Unknown model 'no-such-model'")
    assert not out.exists() and leftovers(out) == []


def test_compare_keeps_the_other_models_results_but_exits_1_when_one_fails(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    # sam2.1-tiny is a known name, but offline with an empty Hugging Face cache it cannot load
    proc = run_module(
        "playerseg",
        "compare",
        clip / "videos" / f"{SEQ}.mp4",
        "--prompts",
        clip / "prompts" / f"{SEQ}.json",
        "--model-a",
        MODEL,
        "--model-b",
        "sam2.1-tiny",
        "--out",
        out,
        "--max-frames",
        "6",
        "--device",
        "cpu",
        "--quiet",
        env=environment(tmp_path),
    )
    assert_one_sentence(proc, 1, "error: Model B (sam2.1-tiny) is not available")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["models"]["A"]["ok"] and not summary["models"]["B"]["ok"]
    assert len(masks(out / "A")) == 6 and Path(summary["files"]["A"]) == out / "A"
    assert Path(summary["files"]["report"]).is_file() and f"run folder A: {out / 'A'}" in proc.stdout
    assert leftovers(out) == []
    no_staging_paths_inside(out)
