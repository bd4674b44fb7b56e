"""export-sequence: a run folder made by the real CLI on a small synthetic clip, exported as a dataset sequence that
evaluation's summary, the COCO reader and finetuning all take."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evaluation.__main__ import main as evaluation_main
from evaluation.datasets.sources import load_masks
from evaluation.datasets.summary import summarize_dataset
from playerseg.__main__ import main
from playerseg.dataset.sequence_writer import SequenceError, SequenceMeta, safe_sequence_name, write_sequence
from playerseg.io.masks import bbox_from_mask, read_palette_png
from playerseg.io.prompts import Prompt, PromptSet
from playerseg.synthetic.dataset import generate_dataset

MODEL = "test-sam2.1-tiny-128"
ROOT = Path(__file__).resolve().parents[3]
META_KEYS = {"objects", "source_clip", "source_sha256", "model", "fixes", "frames", "width", "height"}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A synthetic clip, a run of it, and a dataset with the run exported twice (train and val for finetuning)."""
    root = tmp_path_factory.mktemp("export")
    generate_dataset(root / "synthetic", sequences=1, frames=6, players=2, width=192, height=108, seed=3)
    clip = root / "synthetic" / "videos" / "seq000.mp4"
    prompts = root / "synthetic" / "prompts" / "seq000.json"
    run = root / "run"
    assert main(["segment", str(clip), "--model", MODEL, "--prompts", str(prompts), "--out", str(run), "--quiet"]) == 0
    dataset = root / "dataset"
    for name in ("first", "second"):
        assert export(run, clip, dataset, "--name", name) == 0
    return {"root": root, "clip": clip, "prompts": prompts, "run": run, "dataset": dataset}


def export(run: Path, clip: Path, dataset: Path, *options: str) -> int:
    return main(["export-sequence", str(run), "--clip", str(clip), "--dataset", str(dataset), *options])


def pngs(folder: Path) -> dict[int, np.ndarray]:
    return {int(path.stem): read_palette_png(path) for path in sorted(folder.glob("*.png"))}


def test_the_annotations_are_the_runs_masks_and_the_frames_the_clips(made: dict[str, Path]) -> None:
    run_masks = pngs(made["run"] / "masks")
    exported = pngs(made["dataset"] / "Annotations" / "first")
    assert list(exported) == list(run_masks) == list(range(6))
    for frame, labels in run_masks.items():
        assert labels.dtype == np.uint8 and np.array_equal(exported[frame], labels)
    assert set(np.unique(np.stack(list(exported.values())))) <= {0, 1, 2}
    jpegs = sorted(path.name for path in (made["dataset"] / "JPEGImages" / "first").iterdir())
    assert jpegs == [f"{frame:05d}.jpg" for frame in range(6)]


def test_the_prompts_are_the_runs_in_clip_frames_and_pixels(made: dict[str, Path]) -> None:
    exported = json.loads((made["dataset"] / "prompts" / "first.json").read_text())
    assert exported["version"] == 1
    assert PromptSet.from_dict(exported).merged() == PromptSet.load(made["prompts"]).merged()


def test_meta_json_holds_the_contracts_keys_for_every_sequence(made: dict[str, Path]) -> None:
    sequences = json.loads((made["dataset"] / "meta.json").read_text())["sequences"]
    assert set(sequences) == {"first", "second"}
    entry = sequences["first"]
    assert set(entry) == META_KEYS
    assert entry["objects"] == {"1": "player 1", "2": "player 2"}
    assert entry["source_clip"] == "seq000.mp4" and len(entry["source_sha256"]) == 64
    assert entry["model"] == MODEL and entry["fixes"] == {"frames_fixed": 0, "clicks": 0}
    assert (entry["frames"], entry["width"], entry["height"]) == (6, 192, 108)


def test_evaluation_summary_finds_nothing_wrong(made: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert summarize_dataset(made["dataset"]).warnings == ()
    assert evaluation_main(["summary", str(made["dataset"])]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err and "0 warnings" in captured.out


def test_the_coco_json_decodes_to_the_masks_with_boxes_from_them(made: dict[str, Path]) -> None:
    path = made["dataset"] / "coco" / "first.json"
    saved = pngs(made["dataset"] / "Annotations" / "first")
    sequence = load_masks(path)["first"]
    assert tuple(sequence.frames) == tuple(saved)
    for frame, labels in sequence:
        assert np.array_equal(labels, saved[frame])
    document = json.loads(path.read_text())
    assert document["categories"] == [{"id": 1, "name": "player"}] and len(document["videos"]) == 1
    frame_of = {image["id"]: image["frame_index"] for image in document["images"]}
    assert document["annotations"]
    for annotation in document["annotations"]:
        x0, y0, x1, y1 = bbox_from_mask(saved[frame_of[annotation["image_id"]]] == annotation["track_id"])
        assert annotation["bbox"] == [x0, y0, x1 - x0, y1 - y0]


def test_finetuning_trains_one_epoch_on_the_exported_dataset(made: dict[str, Path]) -> None:
    out = made["root"] / "finetuned"
    command = [sys.executable, "-m", "playerseg.finetune", "--data", str(made["dataset"]), "--base", MODEL]
    command += ["--out", str(out), "--epochs", "1", "--batch-size", "1", "--max-steps-per-epoch", "2", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600, env=_env())
    assert done.returncode == 0, done.stderr
    assert (out / "model.json").is_file()


def test_names_from_users_stay_inside_the_dataset(made: dict[str, Path], tmp_path: Path) -> None:
    assert safe_sequence_name("../../etc") == "etc"
    assert safe_sequence_name("a/b") == "a_b"
    assert safe_sequence_name("") == safe_sequence_name("..") == safe_sequence_name(".") == "sequence"
    assert safe_sequence_name("x y*" + "z" * 80) == "x_y_" + "z" * 60
    assert safe_sequence_name(".hidden") == "hidden"
    dataset = tmp_path / "inside" / "dataset"
    for name in ("../../etc", "a/b"):
        assert export(made["run"], made["clip"], dataset, "--name", name) == 0
    assert sorted(path.name for path in (dataset / "Annotations").iterdir()) == ["a_b", "etc"]
    assert sorted(path.name for path in tmp_path.rglob("*") if path.is_dir() and "dataset" not in path.parts) == [
        "inside"
    ]


def test_exporting_again_needs_overwrite_and_replaces_the_sequence_whole(
    made: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = tmp_path / "dataset"
    assert export(made["run"], made["clip"], dataset) == 0
    stray = dataset / "JPEGImages" / "seq000" / "00099.jpg"
    stray.write_bytes(b"left from before")
    capsys.readouterr()
    assert export(made["run"], made["clip"], dataset) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "--overwrite" in error and stray.exists()
    assert export(made["run"], made["clip"], dataset, "--overwrite") == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("wrote sequence seq000 to ") and out.count("\n") == 0
    assert not stray.exists() and len(list((dataset / "JPEGImages" / "seq000").iterdir())) == 6
    assert sorted(path.name for path in dataset.iterdir() if path.name.startswith(".")) == [".lock"]
    assert list(json.loads((dataset / "meta.json").read_text())["sequences"]) == ["seq000"]


def test_two_processes_exporting_at_once_both_land_in_meta_json(made: dict[str, Path], tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    base = [sys.executable, "-m", "playerseg", "export-sequence", str(made["run"]), "--clip", str(made["clip"])]
    runs = [
        subprocess.Popen([*base, "--dataset", str(dataset), "--name", name], cwd=ROOT, env=_env(), text=True)
        for name in ("one", "two")
    ]
    assert [process.wait(timeout=300) for process in runs] == [0, 0]
    assert set(json.loads((dataset / "meta.json").read_text())["sequences"]) == {"one", "two"}
    assert summarize_dataset(dataset).warnings == ()


def test_a_strided_downscaled_run_exports_its_processed_frames_with_their_prompts(
    made: dict[str, Path], tmp_path: Path
) -> None:
    prompts = PromptSet([Prompt.from_click(0, 1, 117, 50), Prompt.from_click(2, 2, 67, 57)])
    prompts.save(tmp_path / "prompts.json")
    run = tmp_path / "run"
    options = ["--stride", "2", "--max-side", "96", "--out", str(run), "--quiet"]
    assert (
        main(["segment", str(made["clip"]), "--model", MODEL, "--prompts", str(tmp_path / "prompts.json"), *options])
        == 0
    )
    dataset = tmp_path / "dataset"
    assert export(run, made["clip"], dataset) == 0
    assert sorted(path.name for path in (dataset / "JPEGImages" / "seq000").iterdir()) == [
        "00000.jpg",
        "00002.jpg",
        "00004.jpg",
    ]
    saved = pngs(dataset / "Annotations" / "seq000")
    assert list(saved) == [0, 2, 4] and all(labels.shape == (108, 192) for labels in saved.values())
    for frame, labels in pngs(run / "masks").items():
        assert np.array_equal(saved[frame], labels)
    assert PromptSet.load(dataset / "prompts" / "seq000.json").merged() == prompts.merged()
    assert json.loads((dataset / "meta.json").read_text())["sequences"]["seq000"]["frames"] == 3


def test_a_bad_run_folder_or_another_clip_is_refused_in_one_sentence(
    made: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = tmp_path / "dataset"
    assert export(tmp_path, made["clip"], dataset) == 2
    assert "no run.json" in capsys.readouterr().err
    short = tmp_path / "short"
    short.mkdir()
    for frame in range(3):
        source = made["root"] / "synthetic" / "JPEGImages" / "seq000" / f"{frame:05d}.jpg"
        (short / source.name).write_bytes(source.read_bytes())
    assert export(made["run"], short, dataset) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and "3 frames" in error and error.count("\n") == 0
    assert not dataset.exists() or not (dataset / "meta.json").exists()


def test_frames_of_another_size_than_their_masks_are_refused(tmp_path: Path) -> None:
    meta = SequenceMeta({1: "player 1"}, "clip.mp4", "0" * 64, MODEL)
    masks = {0: np.ones((8, 10), dtype=np.uint8)}
    prompts = PromptSet([Prompt.from_click(0, 1, 2, 2)])
    with pytest.raises(SequenceError, match="frames and masks must share one size"):
        write_sequence(tmp_path, "s", [(0, np.zeros((8, 12, 3), dtype=np.uint8))], masks, prompts, meta)
    assert not (tmp_path / "JPEGImages").exists()
    assert [path.name for path in tmp_path.iterdir()] == []


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1"}
