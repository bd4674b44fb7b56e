"""The dataset panel's listing (`list_sequences`) and download (`zip_dataset`) over sequences written by
`write_sequence`: rows and counts, refusals, the zip's members, the unzipped folder read by evaluation's summary,
and a zip taken while saves run holding only whole sequences."""

from __future__ import annotations

import json
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from evaluation.datasets.summary import summarize_dataset
from playerseg.dataset.listing import SequenceRow, list_sequences, zip_dataset
from playerseg.dataset.sequence_writer import SequenceError, SequenceMeta, dataset_lock, write_sequence
from playerseg.io.prompts import Point, Prompt, PromptSet

WIDTH, HEIGHT = 48, 32


def save(dataset: Path, name: str, frames: int = 3, objects: int = 2, fixed: int = 0, clicks: int = 0) -> None:
    """A sequence of random frames and masks with one box-shaped object per id on every frame."""
    rng = np.random.default_rng(len(name) * 31 + frames)
    rgb = [(frame, rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)) for frame in range(frames)]
    masks = {}
    for frame in range(frames):
        labels = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
        for object_id in range(1, objects + 1):
            x0 = 4 + 10 * (object_id - 1) + frame
            labels[6:20, x0 : x0 + 6] = object_id
        masks[frame] = labels
    prompts = PromptSet(
        [Prompt(frame=0, object_id=i, points=(Point(7.0 + 10 * (i - 1), 12.0),)) for i in range(1, objects + 1)]
    )
    meta = SequenceMeta(
        objects={i: f"player {i}" for i in range(1, objects + 1)},
        source_clip=f"{name}.mp4",
        source_sha256="0" * 64,
        model="test-model",
        frames_fixed=fixed,
        clicks=clicks,
    )
    write_sequence(dataset, name, rgb, masks, prompts, meta)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "dataset"
    save(root, "beta", frames=4, objects=2, fixed=2, clicks=5)
    save(root, "alpha", frames=3, objects=1)
    return root


def test_rows_are_sorted_with_their_counts(dataset: Path) -> None:
    assert list_sequences(dataset) == [
        SequenceRow(
            "alpha", frames=3, objects=1, frames_fixed=0, clicks=0, model="test-model", source_clip="alpha.mp4"
        ),
        SequenceRow("beta", frames=4, objects=2, frames_fixed=2, clicks=5, model="test-model", source_clip="beta.mp4"),
    ]


def test_a_missing_folder_or_meta_json_lists_nothing(tmp_path: Path) -> None:
    assert list_sequences(tmp_path / "nowhere") == []
    (tmp_path / "empty").mkdir()
    assert list_sequences(tmp_path / "empty") == []


def test_a_sequence_without_its_frames_folder_is_not_listed(dataset: Path) -> None:
    for path in (dataset / "JPEGImages" / "alpha").iterdir():
        path.unlink()
    (dataset / "JPEGImages" / "alpha").rmdir()
    assert [row.name for row in list_sequences(dataset)] == ["beta"]


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"sequences": []}',
        '{"sequences": {"alpha": 3}}',
        '{"sequences": {"alpha": {"objects": {}, "frames": "3", "fixes": {"frames_fixed": 0, "clicks": 0}, '
        '"model": "m", "source_clip": "c"}}}',
        '{"sequences": {"alpha": {"objects": {}, "frames": 3, "model": "m", "source_clip": "c"}}}',
    ],
)
def test_a_broken_meta_json_is_one_sentence_naming_it(dataset: Path, text: str) -> None:
    (dataset / "meta.json").write_text(text)
    with pytest.raises(SequenceError) as caught:
        list_sequences(dataset)
    message = str(caught.value)
    assert str(dataset / "meta.json") in message and "\n" not in message


def test_the_zip_holds_the_dataset_and_nothing_hidden(dataset: Path, tmp_path: Path) -> None:
    (dataset / ".alpha.x.partial").mkdir()
    (dataset / ".alpha.x.partial" / "00000.jpg").write_bytes(b"staged")
    (dataset / "JPEGImages" / "alpha" / ".stray").write_bytes(b"hidden")
    out = zip_dataset(dataset, tmp_path / "out" / "dataset.zip")
    assert out == tmp_path / "out" / "dataset.zip"
    with zipfile.ZipFile(out) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    expected = {"meta.json"}
    for name, frames in (("alpha", 3), ("beta", 4)):
        expected |= {f"JPEGImages/{name}/{frame:05d}.jpg" for frame in range(frames)}
        expected |= {f"Annotations/{name}/{frame:05d}.png" for frame in range(frames)}
        expected |= {f"prompts/{name}.json", f"coco/{name}.json"}
    assert set(infos) == expected
    assert infos["meta.json"].compress_type == zipfile.ZIP_DEFLATED
    assert infos["JPEGImages/alpha/00000.jpg"].compress_type == zipfile.ZIP_STORED
    assert infos["Annotations/alpha/00000.png"].compress_type == zipfile.ZIP_DEFLATED
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["dataset.zip"]


def test_the_unzipped_folder_is_a_dataset_evaluation_reads(dataset: Path, tmp_path: Path) -> None:
    out = zip_dataset(dataset, dataset / "download.zip")  # beside the data: not zipped into itself
    unzipped = tmp_path / "unzipped"
    with zipfile.ZipFile(out) as archive:
        assert not any("download" in name for name in archive.namelist())
        archive.extractall(unzipped)
    summary = summarize_dataset(unzipped)
    assert summary.warnings == ()
    assert sorted(sequence.name for sequence in summary.sequences) == ["alpha", "beta"]
    assert list_sequences(unzipped) == list_sequences(dataset)


def test_an_empty_or_missing_dataset_has_nothing_to_download(tmp_path: Path) -> None:
    for folder in (tmp_path / "missing", tmp_path / "empty"):
        if folder.name == "empty":
            folder.mkdir()
            (folder / "meta.json").write_text('{"sequences": {}}')
        with pytest.raises(SequenceError, match="has no sequences yet"):
            zip_dataset(folder, tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()


def test_the_zip_waits_for_a_save_holding_the_lock(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "dataset.zip"
    with dataset_lock(dataset):
        zipping = threading.Thread(target=zip_dataset, args=(dataset, out))
        zipping.start()
        time.sleep(0.5)
        assert zipping.is_alive() and not out.exists()
    zipping.join(timeout=30)
    assert not zipping.is_alive() and out.is_file()


def test_a_zip_taken_while_saving_holds_only_whole_sequences(dataset: Path, tmp_path: Path) -> None:
    names = [f"seq{index:02d}" for index in range(12)]

    def keep_saving() -> None:
        for name in names:
            save(dataset, name, frames=6)

    saving = threading.Thread(target=keep_saving)
    saving.start()
    zips = []
    while saving.is_alive() or not zips:
        zips.append(zip_dataset(dataset, tmp_path / f"{len(zips)}.zip"))
    saving.join()
    for path in zips:
        assert_whole(path)
    assert {row.name for row in list_sequences(dataset)} == {"alpha", "beta", *names}


def assert_whole(path: Path) -> None:
    """Every sequence in the zip is in its meta.json, with a PNG for each JPEG, its prompts and its COCO json."""
    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())
        sequences = json.loads(archive.read("meta.json"))["sequences"]
    folders = {member.split("/")[1] for member in members if member.startswith(("JPEGImages/", "Annotations/"))}
    assert folders == set(sequences)
    for name, entry in sequences.items():
        jpegs = {m.rsplit("/", 1)[1][:-4] for m in members if m.startswith(f"JPEGImages/{name}/")}
        pngs = {m.rsplit("/", 1)[1][:-4] for m in members if m.startswith(f"Annotations/{name}/")}
        assert jpegs == pngs and len(jpegs) == entry["frames"]
        assert {f"prompts/{name}.json", f"coco/{name}.json"} <= members
