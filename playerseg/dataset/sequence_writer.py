"""The one writer of a dataset sequence (DESIGN.md section 2), used by `export-sequence` and the app.

    DIR/JPEGImages/<seq>/00000.jpg   the processed frames, named by clip frame number (JPEG quality 95)
    DIR/Annotations/<seq>/00000.png  palette PNGs, object ids as given
    DIR/prompts/<seq>.json           the prompts (clip frames and pixels, PromptSet format version 1)
    DIR/coco/<seq>.json              COCO: images, annotations (RLE by evaluation's codec, bbox from the mask), videos
    DIR/meta.json                    {"sequences": {<seq>: {objects, source_clip, source_sha256, model, fixes, frames,
                                     width, height}}}, the other sequences' entries kept

Atomic: the files are written into a hidden folder inside DIR, then renamed into place (an existing sequence of the
same name is replaced only then) and meta.json is merged by write-then-replace, both under an exclusive lock on
DIR/.lock, so two processes saving different sequences at once both end up in meta.json.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from evaluation.coco_rle import encode_counts, run_lengths
from playerseg.errors import PlayerSegError
from playerseg.io.masks import write_palette_png
from playerseg.io.prompts import PromptSet

JPEG_QUALITY = 95
MAX_NAME_LENGTH = 64
DEFAULT_NAME = "sequence"
LOCK_NAME = ".lock"
META_NAME = "meta.json"
CATEGORY = {"id": 1, "name": "player"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class SequenceError(PlayerSegError, ValueError):
    """A sequence that cannot be written as asked; the message is one sentence for the user."""


@dataclass(frozen=True)
class SequenceMeta:
    """What meta.json says of one sequence, beside its frame count and size."""

    objects: Mapping[int, str]  # object id -> name
    source_clip: str  # the clip's file (or folder) name
    source_sha256: str
    model: str
    frames_fixed: int = 0
    clicks: int = 0

    def to_json(self, frames: int, width: int, height: int) -> dict[str, Any]:
        return {
            "objects": {str(object_id): name for object_id, name in sorted(self.objects.items())},
            "source_clip": self.source_clip,
            "source_sha256": self.source_sha256,
            "model": self.model,
            "fixes": {"frames_fixed": int(self.frames_fixed), "clicks": int(self.clicks)},
            "frames": frames,
            "width": width,
            "height": height,
        }


def safe_sequence_name(text: str) -> str:
    """A sequence name from user input with no path in it: "../../etc" -> "etc", "a/b" -> "a_b", only
    [A-Za-z0-9._-], at most 64 characters, never hidden, "." or ".." ("sequence" when nothing is left)."""
    parts = [part for part in re.split(r"[\\/]+", str(text)) if part not in ("", ".", "..")]
    name = _UNSAFE.sub("_", "_".join(parts))[:MAX_NAME_LENGTH].lstrip(".")
    return name or DEFAULT_NAME


def sequence_paths(dataset_dir: str | Path, name: str) -> dict[str, Path]:
    """Where each part of sequence `name` lives in the dataset folder, by the staged name it is written under."""
    root = Path(dataset_dir)
    return {
        "JPEGImages": root / "JPEGImages" / name,
        "Annotations": root / "Annotations" / name,
        "prompts.json": root / "prompts" / f"{name}.json",
        "coco.json": root / "coco" / f"{name}.json",
    }


def sequence_exists(dataset_dir: str | Path, name: str) -> bool:
    """Whether any part of sequence `name` is in the dataset folder already."""
    return any(path.exists() for path in sequence_paths(dataset_dir, name).values())


def write_sequence(
    dataset_dir: str | Path,
    name: str,
    frames: Iterable[tuple[int, np.ndarray]],
    masks: Mapping[int, np.ndarray],
    prompts: PromptSet,
    meta: SequenceMeta,
) -> Path:
    """Write one sequence (frames: (clip frame number, RGB uint8); masks: clip frame number -> uint8 label map, one
    per frame) into the dataset folder, replacing a sequence of the same name; returns its JPEGImages folder."""
    seq = safe_sequence_name(name)
    root = Path(dataset_dir)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{seq}.", suffix=".partial", dir=root))
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:  # the masks' files beside the frames': half the wall time
            masks_written = pool.submit(_write_mask_files, staging, seq, masks, meta.source_clip)
            size = _write_frames(staging, frames, masks)
            masks_written.result()
        (staging / "prompts.json").write_text(json.dumps(prompts.to_dict(), indent=2), encoding="utf-8")
        entry = meta.to_json(len(masks), *size)
        with dataset_lock(root):
            _move_into_place(staging, sequence_paths(root, seq))
            _merge_meta(root, seq, entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root / "JPEGImages" / seq


@contextmanager
def dataset_lock(root: Path) -> Iterator[None]:
    """An exclusive lock on DIR/.lock for as long as the block runs (other writers of the dataset wait)."""
    with open(root / LOCK_NAME, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_frames(
    staging: Path, frames: Iterable[tuple[int, np.ndarray]], masks: Mapping[int, np.ndarray]
) -> tuple[int, int]:
    """The frames as JPEGs; refuses a frame without a mask, of another size than its mask, or a mask left without
    a frame. Returns (width, height)."""
    folder = staging / "JPEGImages"
    folder.mkdir()
    written: set[int] = set()
    size: tuple[int, int] | None = None
    for frame, rgb in frames:
        if frame not in masks:
            raise SequenceError(f"Frame {frame} has no mask, so it cannot go into the dataset.")
        height, width = np.asarray(masks[frame]).shape[:2]
        if rgb.shape[:2] != (height, width):
            raise SequenceError(
                f"Frame {frame} is {rgb.shape[1]}x{rgb.shape[0]} but its mask is {width}x{height}; a sequence's "
                "frames and masks must share one size."
            )
        Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(
            folder / f"{frame:05d}.jpg", format="JPEG", quality=JPEG_QUALITY
        )
        written.add(frame)
        size = size or (int(width), int(height))
    missing = sorted(set(masks) - written)
    if missing:
        raise SequenceError(f"The masks of frames {missing} have no frame to go with them.")
    if size is None:
        raise SequenceError("A sequence needs at least one frame with its mask; none was given.")
    return size


def _write_mask_files(staging: Path, name: str, masks: Mapping[int, np.ndarray], source_clip: str) -> None:
    """The palette PNGs and the COCO json (run on a worker thread while the frames are decoded and encoded: zlib,
    JPEG and the decoder release the GIL, so on two cores the masks cost little wall time)."""
    folder = staging / "Annotations"
    folder.mkdir()
    for frame in sorted(masks):
        write_palette_png(folder / f"{frame:05d}.png", masks[frame])
    coco = coco_document(name, masks, source_clip)
    (staging / "coco.json").write_text(json.dumps(coco), encoding="utf-8")


def coco_document(name: str, masks: Mapping[int, np.ndarray], source_clip: str = "") -> dict[str, Any]:
    """COCO of one sequence: an image per frame ("frame_index", "video"), an annotation per object and frame with
    compressed RLE counts, "track_id" and bbox [x, y, w, h] from `bbox_from_mask`, one category, one video."""
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for row, frame in enumerate(sorted(masks)):
        labels = np.asarray(masks[frame], dtype=np.uint8)
        height, width = labels.shape
        image = {"id": row + 1, "file_name": f"{name}/{frame:05d}.jpg", "height": int(height), "width": int(width)}
        images.append({**image, "frame_index": frame, "video": name, "video_id": 1})
        annotations += _frame_annotations(len(annotations) + 1, row + 1, labels)
    video = {"id": 1, "name": name, "file_name": source_clip or name}
    return {
        "info": {"description": f"sequence {name}"},
        "videos": [video],
        "images": images,
        "annotations": annotations,
        "categories": [dict(CATEGORY)],
    }


def _frame_annotations(first_id: int, image_id: int, labels: np.ndarray) -> list[dict[str, Any]]:
    """One annotation per object of a label map, in id order. The frame is read whole once (its foreground
    pixels); each object's box, area and RLE come from those pixels and the columns of its box only, which is what
    makes saving a 720p sequence cheap (comparing the whole frame per object cost ~4x more)."""
    flat = np.ascontiguousarray(labels).ravel()
    where = np.flatnonzero(flat)
    ys, xs = np.divmod(where, labels.shape[1])
    values = flat[where]
    annotations = []
    for object_id in np.flatnonzero(np.bincount(values)):  # the ids present, ascending (0 is not among values)
        inside = values == object_id
        object_xs, object_ys = xs[inside], ys[inside]
        box = (int(object_xs.min()), int(object_ys.min()), int(object_xs.max()) + 1, int(object_ys.max()) + 1)
        annotation_id = first_id + len(annotations)
        annotations.append(_annotation(annotation_id, image_id, int(object_id), labels, box, int(object_xs.size)))
    return annotations


def _annotation(
    annotation_id: int, image_id: int, object_id: int, labels: np.ndarray, box: tuple[int, int, int, int], area: int
) -> dict[str, Any]:
    x0, y0, x1, y1 = box
    height, width = labels.shape
    return {
        "id": annotation_id,
        "image_id": image_id,
        "track_id": object_id,
        "category_id": CATEGORY["id"],
        "iscrowd": 0,
        "area": area,
        "bbox": [x0, y0, x1 - x0, y1 - y0],
        "segmentation": {"size": [int(height), int(width)], "counts": _object_rle(labels, object_id, x0, x1)},
    }


def _object_rle(labels: np.ndarray, object_id: int, x0: int, x1: int) -> str:
    """The compressed RLE of `labels == object_id` (evaluation's codec, counted down the columns), from the columns
    x0..x1-1 that hold the object: the columns before them add to the first (background) run, those after to the
    last one, or make a last background run when the object reaches the bottom of column x1-1."""
    height, width = labels.shape
    counts = run_lengths(labels[:, x0:x1] == object_id)
    counts[0] += x0 * height
    after = (width - x1) * height
    if after and counts.size % 2 == 1:  # runs alternate from background: an odd count ends on background
        counts[-1] += after
    elif after:
        counts = np.append(counts, after)
    return encode_counts(counts)


def _move_into_place(staging: Path, targets: Mapping[str, Path]) -> None:
    """Rename each staged part onto its place; a part already there is first moved aside into the staging folder
    (deleted with it), so the new part replaces it by one rename."""
    aside = staging / "replaced"
    aside.mkdir()
    for index, (staged, target) in enumerate(targets.items()):
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            os.replace(target, aside / str(index))
        os.replace(staging / staged, target)


def _merge_meta(root: Path, name: str, entry: dict[str, Any]) -> None:
    """Add or replace the sequence's entry of DIR/meta.json, keeping the others (the caller holds the lock)."""
    path = root / META_NAME
    data: dict[str, Any] = {"sequences": {}}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise SequenceError(f"{path} cannot be read as JSON ({error}); fix or remove it first.") from None
        if not isinstance(data, dict) or not isinstance(data.setdefault("sequences", {}), dict):
            raise SequenceError(f'{path} is not {{"sequences": {{...}}}}; fix or remove it first.')
    data["sequences"][name] = entry
    handle, temporary = tempfile.mkstemp(prefix=".meta.", suffix=".json", dir=root)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
