from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from playerseg.finetune.data import (
    FinetuneError,
    clip_samples,
    data_fingerprint,
    frame_samples,
    load_training_root,
    read_resized,
    read_split_file,
    split_sequences,
    usable_frames,
)
from playerseg.synthetic.dataset import generate_dataset


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ftdata")
    generate_dataset(out, sequences=3, frames=5, players=3, width=160, height=90, seed=1)
    return out


def test_split_is_by_sequence_seeded_and_disjoint() -> None:
    names = [f"seq{i:03d}" for i in range(8)]
    split = split_sequences(names, val_fraction=0.25, seed=4)
    assert len(split.val) == 2 and len(split.train) == 6
    assert set(split.train) | set(split.val) == set(names)
    assert not set(split.train) & set(split.val)
    assert split_sequences(list(reversed(names)), 0.25, seed=4) == split  # order of discovery does not matter
    assert any(split_sequences(names, 0.25, seed=s).val != split.val for s in range(5, 15))


def test_split_keeps_one_sequence_on_each_side() -> None:
    assert split_sequences(["a", "b"], val_fraction=0.9).train != ()
    assert len(split_sequences(["a", "b", "c"], val_fraction=0.01).val) == 1
    with pytest.raises(FinetuneError, match="at least 2 sequences"):
        split_sequences(["only"])
    with pytest.raises(FinetuneError, match="between 0 and 1"):
        split_sequences(["a", "b"], val_fraction=1.0)


def test_split_file(tmp_path: Path) -> None:
    path = tmp_path / "split.json"
    path.write_text(json.dumps({"train": ["a", "b"], "val": ["c"]}))
    split = read_split_file(path, ["a", "b", "c"])
    assert split.train == ("a", "b") and split.val == ("c",)
    path.write_text(json.dumps({"train": ["a", "x"], "val": ["c"]}))
    with pytest.raises(FinetuneError, match="does not have: x"):
        read_split_file(path, ["a", "b", "c"])
    path.write_text(json.dumps({"train": ["a"], "val": ["a"]}))
    with pytest.raises(FinetuneError, match="both train and val"):
        read_split_file(path, ["a", "b"])
    path.write_text("[1, 2]")
    with pytest.raises(FinetuneError, match="must hold"):
        read_split_file(path, ["a"])
    with pytest.raises(FinetuneError, match="Cannot read"):
        read_split_file(tmp_path / "missing.json", ["a"])


def test_training_root_lists_frames_with_annotations(root: Path) -> None:
    sequences = load_training_root(root)
    assert sorted(sequences) == ["seq000", "seq001", "seq002"]
    assert usable_frames(sequences["seq000"]) == (0, 1, 2, 3, 4)
    (root / "JPEGImages" / "seq001" / "00004.jpg").rename(root / "moved.jpg")
    try:
        assert usable_frames(load_training_root(root)["seq001"]) == (0, 1, 2, 3)  # no image, no training frame
    finally:
        (root / "moved.jpg").rename(root / "JPEGImages" / "seq001" / "00004.jpg")
    samples = frame_samples(sequences, ["seq000", "seq002"])
    assert len(samples) == 10 and samples[0].sequence == "seq000" and samples[-1].frame == 4


def test_training_root_without_frames_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "Annotations" / "s").mkdir(parents=True)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "Annotations" / "s" / "00000.png")
    with pytest.raises(FinetuneError, match="no sequence with both JPEGImages and Annotations"):
        load_training_root(tmp_path)
    with pytest.raises(FinetuneError, match="Cannot use"):
        load_training_root(tmp_path / "absent")


def test_clip_windows_overlap_by_half(root: Path) -> None:
    sequences = load_training_root(root)
    clips = clip_samples(sequences, ["seq000"], clip_length=2)
    assert [c.frames for c in clips] == [(0, 1), (1, 2), (2, 3), (3, 4)]
    clips = clip_samples(sequences, ["seq000"], clip_length=4)
    assert [c.frames for c in clips] == [(0, 1, 2, 3), (1, 2, 3, 4)]  # the last window ends on the last frame
    assert [c.frames for c in clip_samples(sequences, ["seq000"], clip_length=8)] == [(0, 1, 2, 3, 4)]


def test_read_resized_keeps_ids_and_square_size(root: Path) -> None:
    sequence = load_training_root(root)["seq000"]
    images, labels = read_resized(sequence, [0, 3], 64)
    assert images.shape == (2, 3, 64, 64) and images.dtype == np.uint8
    assert labels.shape == (2, 64, 64) and labels.dtype == np.uint8
    original = set(np.unique(sequence.masks.read(0)).tolist())
    assert set(np.unique(labels[0]).tolist()) <= original  # nearest: no blended ids


def test_fingerprint_follows_the_files(root: Path) -> None:
    sequences = load_training_root(root)
    first = data_fingerprint(root, sequences)
    assert first == data_fingerprint(root, load_training_root(root))
    frame = root / "JPEGImages" / "seq002" / "00000.jpg"
    original = frame.read_bytes()
    try:
        frame.write_bytes(original + b"\0" * 10)
        assert data_fingerprint(root, sequences) != first
    finally:
        frame.write_bytes(original)
