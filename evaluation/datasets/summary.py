"""What a DAVIS dataset holds and what is wrong with it: `summarize_dataset(root)` -> `DatasetSummary`.

Counts sequences, frames, annotated frames, objects and their areas, decoding each annotation PNG once, one at a time
(only per-object areas are kept), and reading only the frames' headers. Unlike the loaders, which stop at the first
problem, it keeps going and collects warnings, one line each naming the file or folder (see `_scan_frames`,
`_scan_masks`); one kind of problem in several files of a folder is one line naming the first and counting the others.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from evaluation.datasets import FRAME_SUFFIXES, MASK_SUFFIXES, DatasetError, has_files, image_header, numbered_files
from evaluation.datasets.davis import _inside_resolution  # the resolution-folder rule of load_davis (Annotations/480p)
from evaluation.datasets.mask_pngs import read_mask_png

if TYPE_CHECKING:  # pandas is imported only when a table is asked for
    import pandas as pd

VOID = 255
Size = tuple[int, int]  # (width, height)
SEQUENCE_COLUMNS = ("frames", "annotated_frames", "objects", "object_ids", "width", "height", "median_object_area_pct")
SHOWN_NAMES = 3  # names listed after the first file when one problem repeats in a folder


@dataclass(frozen=True)
class ObjectSummary:
    """One object id of a sequence: the annotated frames it is on and its area there (in pixels and % of the frame)."""

    object_id: int
    frames: int  # annotated frames where the object is present
    first_frame: int
    last_frame: int
    min_area: int
    median_area: float
    max_area: int
    min_area_pct: float
    median_area_pct: float
    max_area_pct: float


@dataclass(frozen=True)
class SequenceSummary:
    """One sequence: its frame images (JPEGImages), annotation PNGs, size and objects."""

    name: str
    frames: int  # frame images named by frame number
    annotated_frames: int  # annotation PNGs named by frame number
    width: int | None  # of the first readable frame, else of the first readable annotation; None when neither
    height: int | None
    objects: tuple[ObjectSummary, ...]  # one per object id found on any annotation, by id

    @property
    def object_ids(self) -> tuple[int, ...]:
        return tuple(o.object_id for o in self.objects)

    @property
    def median_object_area_pct(self) -> float | None:
        """The median over objects of each object's median area, in % of the frame; None without objects."""
        return float(np.median([o.median_area_pct for o in self.objects])) if self.objects else None

    def summary(self) -> dict[str, Any]:
        extra = {"object_ids": list(self.object_ids), "median_object_area_pct": self.median_object_area_pct}
        return {**asdict(self), "objects": [asdict(o) for o in self.objects], **extra}  # lists, as JSON reads back


@dataclass(frozen=True)
class DatasetSummary:
    """Every sequence of a dataset folder and the warnings found while reading it (one line each)."""

    root: str
    sequences: tuple[SequenceSummary, ...]
    warnings: tuple[str, ...]

    @property
    def frames(self) -> int:
        return sum(s.frames for s in self.sequences)

    @property
    def annotated_frames(self) -> int:
        return sum(s.annotated_frames for s in self.sequences)

    @property
    def objects(self) -> int:
        """Objects over all sequences (an id counts once per sequence it is in)."""
        return sum(len(s.objects) for s in self.sequences)

    def to_pandas(self) -> pd.DataFrame:
        """One row per sequence: counts, size, object ids and the median object area (% of the frame)."""
        import pandas as pd

        rows = [{**s.summary(), "objects": len(s.objects)} for s in self.sequences]
        return pd.DataFrame(rows, columns=["name", *SEQUENCE_COLUMNS]).rename(columns={"name": "sequence"})

    def objects_to_pandas(self) -> pd.DataFrame:
        """One row per (sequence, object) with its frames and area statistics."""
        import pandas as pd

        rows = [{"sequence": s.name, **asdict(o)} for s in self.sequences for o in s.objects]
        return pd.DataFrame(rows, columns=["sequence", *ObjectSummary.__dataclass_fields__])

    def summary(self) -> dict[str, Any]:
        totals = {"sequences": len(self.sequences), "frames": self.frames, "annotated_frames": self.annotated_frames}
        details = {"warnings": list(self.warnings), "per_sequence": [s.summary() for s in self.sequences]}
        return {"root": self.root, **totals, "objects": self.objects, **details}


class _Warnings:
    """Warning lines in the order found; `add` groups one kind of problem in one folder into a single line."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, ...], list[tuple[Path, str]]] = {}

    def note(self, line: str) -> None:
        self._groups[(line,)] = [(Path(), line)]

    def add(self, kind: str, path: Path, line: str) -> None:
        self._groups.setdefault((kind, str(path.parent)), []).append((path, line))

    def lines(self) -> tuple[str, ...]:
        lines = []
        for key, found in self._groups.items():
            line, others = found[0][1], [path.name for path, _ in found[1:]]
            if others:
                shown = ", ".join(others[:SHOWN_NAMES]) + (", ..." if len(others) > SHOWN_NAMES else "")
                line += f" The same for {len(others)} more file(s) in {key[1]}: {shown}."
            lines.append(line)
        return tuple(lines)


class _Frames(NamedTuple):
    folder: Path
    files: dict[int, Path]
    sizes: dict[int, Size]  # (width, height) of each frame whose header could be read


def summarize_dataset(root: str | Path) -> DatasetSummary:
    """Summary of a DAVIS root (Annotations/<seq>/, JPEGImages/<seq>/, also under a resolution folder such as
    Annotations/480p/), a single-sequence folder (Annotations/*.png, JPEGImages/*.jpg) or its Annotations/ folder.
    Problems in the files become warnings; only a `root` that is no such folder raises DatasetError."""
    folder = Path(root)
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder.")
    if folder.name in ("Annotations", "JPEGImages") and not _is_davis(folder):
        folder = folder.parent
    if not _is_davis(folder):
        raise DatasetError(f"{folder} is not a DAVIS dataset: it has neither an Annotations nor a JPEGImages folder.")
    warnings = _Warnings()
    folders = _sequence_folders(folder, warnings)
    sequences = tuple(_summarize_sequence(name, masks, frames, warnings) for name, masks, frames in folders)
    return DatasetSummary(str(folder), sequences, warnings.lines())


def _is_davis(folder: Path) -> bool:
    return (folder / "Annotations").is_dir() or (folder / "JPEGImages").is_dir()


def _sequence_folders(root: Path, warnings: _Warnings) -> list[tuple[str, Path, Path]]:
    """(name, annotation folder, frame folder) of each sequence; a folder that is missing gets a warning."""
    annotations, images = _inside_resolution(root / "Annotations"), _inside_resolution(root / "JPEGImages")
    for top, what in ((annotations, "annotations"), (images, "frames")):
        if not top.is_dir():
            warnings.note(f"{top} is missing, so no sequence has {what}.")
    if has_files(annotations, MASK_SUFFIXES) or has_files(images, FRAME_SUFFIXES):  # single-sequence folder
        return [(root.name, annotations, images)]
    found = (p for top in (annotations, images) if top.is_dir() for p in top.iterdir())
    names = sorted({p.name for p in found if p.is_dir() and not p.name.startswith(".")})
    if not names:
        warnings.note(f"{root} holds no sequences: its Annotations and JPEGImages hold neither folders nor images.")
    pairs = ((annotations, images, "frames", "annotations"), (images, annotations, "annotations", "frames"))
    for name in names:
        for top, other, what, lacking in pairs:
            if top.is_dir() and not (top / name).is_dir():
                warnings.note(f"{top / name} is missing, so the {what} in {other / name} have no {lacking}.")
    return [(name, annotations / name, images / name) for name in names]


def _summarize_sequence(name: str, masks: Path, images: Path, warnings: _Warnings) -> SequenceSummary:
    frames = _scan_frames(images, warnings) if images.is_dir() else _Frames(images, {}, {})
    annotated, mask_size, objects = _scan_masks(masks, frames, warnings) if masks.is_dir() else (0, None, ())
    width, height = next(iter(frames.sizes.values()), None) or mask_size or (None, None)
    return SequenceSummary(name, len(frames.files), annotated, width, height, objects)


def _numbered(folder: Path, suffixes: tuple[str, ...], warnings: _Warnings) -> dict[int, Path]:
    """The folder's files by frame number (`numbered_files`); when a name is no frame number or two files hold one
    frame, the well-named files, with a warning for each of the others."""
    with suppress(DatasetError):
        return numbered_files(folder, suffixes)
    numbered: dict[int, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in suffixes or not path.is_file():
            continue
        if not (path.stem.isascii() and path.stem.isdigit()):
            warnings.add("name", path, f"{path} is not named by a frame number (like 00012{path.suffix}); left out.")
        elif int(path.stem) in numbered:
            first = numbered[int(path.stem)].name
            warnings.add("twice", path, f"{path} holds frame {int(path.stem)}, as {first} does; left out.")
        else:
            numbered[int(path.stem)] = path
    return dict(sorted(numbered.items()))


def _scan_frames(folder: Path, warnings: _Warnings) -> _Frames:
    """Frame files and the sizes their headers give; warns about an empty folder, unreadable files, sizes that differ
    from the first frame's and gaps in the frame numbers."""
    files = _numbered(folder, FRAME_SUFFIXES, warnings)
    if not files:
        warnings.note(f"{folder} holds no frames (.jpg, .jpeg or .png).")
    sizes: dict[int, Size] = {}
    for frame, path in files.items():
        try:
            width, height, _ = image_header(path)
        except DatasetError as error:
            warnings.add("unreadable", path, f"{error}")
            continue
        first = next(iter(sizes.items()), None)
        if first is not None and first[1] != (width, height):
            other = f"{files[first[0]].name} is {_size(first[1])}; a sequence's frames must share one size."
            warnings.add("size", path, f"{path} is {_size((width, height))} but {other}")
        sizes[frame] = (width, height)
    gaps = [(a + 1, b - 1) for a, b in zip(files, list(files)[1:]) if b > a + 1]
    if gaps:
        missing = sum(b - a + 1 for a, b in gaps)
        runs = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in gaps[:5]) + (", ..." if len(gaps) > 5 else "")
        warnings.note(f"{folder} skips frame numbers {runs} ({missing} missing between {min(files)} and {max(files)}).")
    return _Frames(folder, files, sizes)


def _scan_masks(
    folder: Path, frames: _Frames, warnings: _Warnings
) -> tuple[int, Size | None, tuple[ObjectSummary, ...]]:
    """Annotation count, the first annotation's size and the objects, decoding one PNG at a time. Warns about an
    empty folder, unreadable files, annotations without a frame, sizes that differ from the frame's or from the first
    annotation's, non-palette 0/255 masks, and a sequence without objects."""
    files = _numbered(folder, MASK_SUFFIXES, warnings)
    if not files:
        warnings.note(f"{folder} holds no annotation PNGs.")
    areas: dict[int, list[tuple[int, int, float]]] = defaultdict(list)  # id -> (frame, pixels, % of the frame)
    reference: tuple[Path, Size] | None = None
    binary = False
    for frame, path in files.items():
        if frames.files and frame not in frames.files:
            warnings.add("no frame", path, f"{path} annotates frame {frame}, but {frames.folder} has no image of it.")
        try:
            labels = read_mask_png(path)
        except DatasetError as error:
            warnings.add("unreadable", path, f"{error}")
            continue
        size = (labels.shape[1], labels.shape[0])
        reference = reference or (path, size)
        if frame in frames.sizes and frames.sizes[frame] != size:
            other = f"its frame {frames.files[frame].name} is {_size(frames.sizes[frame])}."
            warnings.add("frame size", path, f"{path} is {_size(size)} but {other}")
        elif size != reference[1]:  # checked against the first annotation only when the frame's size agrees
            other = f"{reference[0].name} is {_size(reference[1])}; a sequence's annotations must share one size."
            warnings.add("mask size", path, f"{path} is {_size(size)} but {other}")
        counts = np.bincount(labels.reshape(-1), minlength=VOID + 1)
        for object_id in np.flatnonzero(counts[1:VOID]) + 1:
            areas[int(object_id)].append((frame, int(counts[object_id]), 100.0 * counts[object_id] / labels.size))
        binary = _warn_binary(path, counts, warnings) or binary
    if reference is not None and not areas and not binary:
        warnings.note(f"{folder} has no objects on any annotation, only background (0) and void (255).")
    objects = tuple(_object_summary(object_id, areas[object_id]) for object_id in sorted(areas))
    return len(files), reference[1] if reference else None, objects


def _size(size: Size) -> str:
    return f"{size[0]}x{size[1]}"


def _warn_binary(path: Path, counts: np.ndarray, warnings: _Warnings) -> bool:
    """Whether the annotation is a non-palette image holding only 0 and 255: a 0/255 mask whose white reads as void."""
    if counts[1:VOID].any() or not counts[VOID]:
        return False
    mode = image_header(path)[2]  # the header only, and only for annotations without objects
    if mode not in ("P", "PA"):
        why = "255 reads as void, so it has no objects (save object ids 1, 2, ... with 0 as background)"
        warnings.add("binary", path, f"{path} is not a palette PNG (mode {mode}) and holds only 0 and 255: {why}.")
    return mode not in ("P", "PA")


def _object_summary(object_id: int, found: list[tuple[int, int, float]]) -> ObjectSummary:
    frames, pixels, percent = (np.array(column) for column in zip(*found))
    area_stats = (int(pixels.min()), float(np.median(pixels)), int(pixels.max()))
    pct_stats = (float(percent.min()), float(np.median(percent)), float(percent.max()))
    return ObjectSummary(object_id, len(found), int(frames.min()), int(frames.max()), *area_stats, *pct_stats)
