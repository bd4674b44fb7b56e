"""Any mask source, by what the path is: a run folder, a DAVIS folder, a folder of mask PNGs (or of such folders),
or a COCO-RLE json file."""

from __future__ import annotations

from pathlib import Path

from evaluation.datasets import MASK_SUFFIXES, DatasetError, has_files
from evaluation.datasets.coco_json import load_coco_rle
from evaluation.datasets.davis import load_davis
from evaluation.datasets.mask_pngs import load_mask_folder
from evaluation.datasets.run_folders import is_run_folder, load_run_folder
from evaluation.sequence import MaskSequence


def load_masks(path: str | Path) -> dict[str, MaskSequence]:
    """Mask sequences by name from whatever `path` is: a run folder (or its masks/), a DAVIS root or sequence
    folder, a folder of mask PNGs (one sequence named after the folder), a folder of such folders, or a COCO-RLE
    .json file."""
    source = Path(path)
    if source.is_file():
        if source.suffix.lower() == ".json":
            return load_coco_rle(source)
        raise DatasetError(
            f"{source} is not a mask source (expected a COCO-RLE .json file, a run folder, a DAVIS folder or a folder "
            "of mask PNGs)."
        )
    if not source.is_dir():
        raise DatasetError(f"{source} does not exist.")
    if is_run_folder(source) or (source.name == "masks" and is_run_folder(source.parent)):
        run = load_run_folder(source)
        return {run.masks.name: run.masks}
    if (source / "Annotations").is_dir() or source.name == "Annotations":
        return {name: seq.masks for name, seq in load_davis(source).items()}
    if has_files(source, MASK_SUFFIXES):
        masks = load_mask_folder(source)
        return {masks.name: masks}
    folders = sorted(p for p in source.iterdir() if has_files(p, MASK_SUFFIXES) and not p.name.startswith("."))
    if folders:
        return {folder.name: load_mask_folder(folder) for folder in folders}
    raise DatasetError(
        f"{source} holds no masks (expected mask PNGs, a run folder, a DAVIS folder or sequence folders of PNGs)."
    )
