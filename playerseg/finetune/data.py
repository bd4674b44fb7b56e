"""Finetuning data: a DAVIS-layout root split by sequence into train/val, and frames or clips read at the model's
input size.

Any DAVIS-layout root works: the synthetic generator's output, exports from the app, or a real annotated set
(`ROOT/JPEGImages/<seq>/00000.jpg`, `ROOT/Annotations/<seq>/00000.png`). Only annotated frames that have an image
are used. Sequences, not frames, are split: frames of one clip are near-copies, and a frame split would score the
model on what it has just seen.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluation.datasets import DatasetError
from evaluation.datasets.davis import DavisSequence, load_davis
from playerseg.errors import PlayerSegError

DEFAULT_VAL_FRACTION = 0.25


class FinetuneError(PlayerSegError, ValueError):
    """Finetuning cannot run as asked (data, split, settings); the message is for the user."""


@dataclass(frozen=True)
class Split:
    train: tuple[str, ...]
    val: tuple[str, ...]

    def to_dict(self) -> dict[str, list[str]]:
        return {"train": list(self.train), "val": list(self.val)}


@dataclass(frozen=True)
class FrameSample:
    """One annotated frame of one sequence (stage 1)."""

    sequence: str
    frame: int


@dataclass(frozen=True)
class ClipSample:
    """Consecutive annotated frames of one sequence (stage 2); prompts go on the first one."""

    sequence: str
    frames: tuple[int, ...]


def load_training_root(root: str | Path) -> dict[str, DavisSequence]:
    """The sequences of a DAVIS-layout root that have both frames and annotations; FinetuneError when none do."""
    try:
        sequences = load_davis(root)
    except DatasetError as error:
        raise FinetuneError(f"Cannot use {root} as training data: {error}") from error
    usable = {name: seq for name, seq in sequences.items() if seq.frames is not None and usable_frames(seq)}
    if not usable:
        raise FinetuneError(
            f"{root} has no sequence with both JPEGImages and Annotations for the same frames; training needs a "
            f"DAVIS-layout folder (JPEGImages/<seq>/00000.jpg with Annotations/<seq>/00000.png)."
        )
    return usable


def usable_frames(sequence: DavisSequence) -> tuple[int, ...]:
    """Annotated frames that also have an image."""
    if sequence.frames is None:
        return ()
    images = set(sequence.frames.frames)
    return tuple(frame for frame in sequence.masks.frames if frame in images)


def split_sequences(names: Sequence[str], val_fraction: float = DEFAULT_VAL_FRACTION, seed: int = 0) -> Split:
    """Seeded split by sequence: about `val_fraction` of them for validation, at least one on each side."""
    names = sorted(names)
    if len(names) < 2:
        raise FinetuneError(
            f"Training needs at least 2 sequences (one to train on, one to validate on); the data has {len(names)}."
        )
    if not 0.0 < val_fraction < 1.0:
        raise FinetuneError(f"The validation fraction must be between 0 and 1, got {val_fraction}.")
    order = np.random.default_rng(seed).permutation(len(names))
    val_count = min(max(1, round(len(names) * val_fraction)), len(names) - 1)
    val = sorted(names[i] for i in order[:val_count])
    train = sorted(names[i] for i in order[val_count:])
    return Split(tuple(train), tuple(val))


def read_split_file(path: str | Path, names: Sequence[str]) -> Split:
    """A split file `{"train": [...], "val": [...]}` naming sequences of the data (no sequence on both sides)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise FinetuneError(f"Cannot read the split file {path}: {error}.") from error
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("train", "val")):
        raise FinetuneError(f'The split file {path} must hold {{"train": [sequence names], "val": [sequence names]}}.')
    train, val = tuple(str(n) for n in data["train"]), tuple(str(n) for n in data["val"])
    unknown = sorted(set(train + val) - set(names))
    if unknown:
        raise FinetuneError(f"The split file {path} names sequences the data does not have: {', '.join(unknown)}.")
    both = sorted(set(train) & set(val))
    if both:
        raise FinetuneError(f"The split file {path} puts {', '.join(both)} in both train and val.")
    if not train or not val:
        raise FinetuneError(f"The split file {path} needs at least one train and one val sequence.")
    return Split(train, val)


def frame_samples(sequences: Mapping[str, DavisSequence], names: Sequence[str]) -> list[FrameSample]:
    return [FrameSample(name, frame) for name in names for frame in usable_frames(sequences[name])]


def clip_samples(sequences: Mapping[str, DavisSequence], names: Sequence[str], clip_length: int) -> list[ClipSample]:
    """Windows of `clip_length` consecutive usable frames, starting every half clip (overlapping, so each frame
    is seen both early and late in a clip); a sequence shorter than a clip gives one shorter clip."""
    clips: list[ClipSample] = []
    step = max(1, clip_length // 2)
    for name in names:
        frames = usable_frames(sequences[name])
        if len(frames) <= clip_length:
            clips.append(ClipSample(name, frames))
            continue
        starts = list(range(0, len(frames) - clip_length + 1, step))
        if starts[-1] != len(frames) - clip_length:
            starts.append(len(frames) - clip_length)
        clips.extend(ClipSample(name, tuple(frames[s : s + clip_length])) for s in starts)
    return clips


def read_resized(sequence: DavisSequence, frames: Sequence[int], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames and label maps at the model's square input size: uint8 (T, 3, S, S) images, resized like sam2's own
    loader (bicubic, aspect not kept), and uint8 (T, S, S) labels (nearest: ids never blend)."""
    from PIL import Image

    assert sequence.frames is not None
    images, labels = [], []
    for frame in frames:
        rgb = sequence.frames.read(frame)
        images.append(np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.BICUBIC)))
        label_map = sequence.masks.read(frame)
        labels.append(np.asarray(Image.fromarray(label_map).resize((size, size), Image.Resampling.NEAREST)))
    return np.stack(images).transpose(0, 3, 1, 2).copy(), np.stack(labels)


def data_fingerprint(root: str | Path, sequences: Mapping[str, DavisSequence]) -> str:
    """sha256 of the data's file list (relative path and size of every frame and annotation used): the same
    folder gives the same hash, an added, removed or rewritten file changes it."""
    root_path = Path(root).resolve()
    digest = hashlib.sha256()
    for name in sorted(sequences):
        seq = sequences[name]
        assert seq.frames is not None
        for folder in (Path(seq.frames.path), Path(seq.masks.source)):
            for file in sorted(p for p in folder.iterdir() if p.is_file()):
                relative = file.resolve().relative_to(root_path) if file.resolve().is_relative_to(root_path) else file
                digest.update(f"{relative}\t{file.stat().st_size}\n".encode())
    return digest.hexdigest()
