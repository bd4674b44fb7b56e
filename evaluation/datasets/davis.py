"""DAVIS folders: Annotations/ of mask PNGs beside JPEGImages/ of frames, as a whole dataset or one sequence."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from evaluation.datasets import FRAME_SUFFIXES, MASK_SUFFIXES, DatasetError, has_files
from evaluation.datasets.frames import FrameFolder
from evaluation.datasets.mask_pngs import load_mask_folder
from evaluation.sequence import MaskSequence

# DAVIS 2017 "full" downloads nest sequences under a resolution folder: Annotations/480p/<seq>.
RESOLUTION_FOLDERS = ("480p", "Full-Resolution", "1080p")


@dataclass(frozen=True)
class DavisSequence:
    """One DAVIS sequence: its annotation masks and, when the folder has them, its JPEG frames."""

    name: str
    masks: MaskSequence
    frames: FrameFolder | None


def load_davis(path: str | Path) -> dict[str, DavisSequence]:
    """Sequences of a DAVIS folder, by name. Accepts a DAVIS root (Annotations/<seq>/, JPEGImages/<seq>/, also under
    a resolution folder such as Annotations/480p/), a single-sequence folder (Annotations/*.png, JPEGImages/*.jpg,
    named after the folder), its Annotations/ folder, or a bare sequence folder such as ROOT/Annotations/<seq>
    (frames from ROOT/JPEGImages/<seq> when present)."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a DAVIS folder (it is not a folder).")
    if not (root / "Annotations").is_dir() and root.name == "Annotations":
        root = root.parent
    annotations = root / "Annotations"
    if not annotations.is_dir():
        masks = load_mask_folder(root)
        return {masks.name: DavisSequence(masks.name, masks, _frames_or_none(_sibling_frames(root)))}
    annotations, images = _inside_resolution(annotations), _inside_resolution(root / "JPEGImages")
    if has_files(annotations, MASK_SUFFIXES):  # single-sequence folder
        masks = load_mask_folder(annotations, name=root.name)
        return {root.name: DavisSequence(root.name, masks, _frames_or_none(images))}
    folders = sorted(p for p in annotations.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DatasetError(f"{annotations} holds neither mask PNGs nor sequence folders.")
    return {
        folder.name: DavisSequence(folder.name, load_mask_folder(folder), _frames_or_none(images / folder.name))
        for folder in folders
    }


def _inside_resolution(folder: Path) -> Path:
    """Annotations/480p rather than Annotations when the folder holds only resolution folders."""
    if not folder.is_dir() or has_files(folder, FRAME_SUFFIXES):
        return folder
    children = [p for p in folder.iterdir() if p.is_dir()]
    if children and all(p.name in RESOLUTION_FOLDERS for p in children):
        return next(folder / name for name in RESOLUTION_FOLDERS if (folder / name).is_dir())
    return folder


def _sibling_frames(mask_folder: Path) -> Path | None:
    """ROOT/Annotations/<seq> -> ROOT/JPEGImages/<seq> (also under a resolution folder); None elsewhere."""
    parts = Path(os.path.abspath(mask_folder)).parts
    if "Annotations" not in parts:
        return None
    index = len(parts) - 1 - parts[::-1].index("Annotations")
    return Path(*parts[:index], "JPEGImages", *parts[index + 1 :])


def _frames_or_none(folder: Path | None) -> FrameFolder | None:
    return FrameFolder(folder) if folder is not None and has_files(folder, FRAME_SUFFIXES) else None
