"""COCO-RLE json files: mask sequences read from COCO (or flat per-frame) annotations, and written back.

Counts are encoded and decoded by evaluation's one codec (`evaluation.coco_rle`); pycocotools is not needed. Every
problem with a file raises `DatasetError` with one sentence naming the file and the entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.coco_rle import RleError, counts_to_mask, decode_counts, encode_mask, iter_counts
from evaluation.datasets import DIGITS, DatasetError, read_json
from evaluation.sequence import VOID, MaskSequence

# Where a COCO annotation's object id comes from, first key present wins: a track id names the object across
# frames; category_id is the last resort (right for one object per category, as in single-player exports).
OBJECT_ID_KEYS = ("track_id", "object_id", "instance_id", "category_id")


@dataclass(frozen=True)
class _Rle:
    object_id: int
    size: tuple[int, int]
    counts: str | list[int]  # checked when the file is loaded: they cover the image exactly


class _RleLabels:
    """Reader of a COCO-RLE sequence: decodes one frame's masks when asked and paints them in increasing object id
    order, so the higher id wins where masks overlap (and 255, void, wins over everything)."""

    def __init__(self, path: Path, per_frame: Mapping[int, list[_Rle]], height: int, width: int) -> None:
        self.path, self.per_frame, self.height, self.width = path, dict(per_frame), height, width

    def __call__(self, frame: int) -> np.ndarray:
        labels = np.zeros((self.height, self.width), dtype=np.uint8)
        for rle in sorted(self.per_frame[frame], key=lambda r: r.object_id):
            counts = decode_counts(rle.counts) if isinstance(rle.counts, str) else rle.counts
            labels[counts_to_mask(np.asarray(counts, dtype=np.int64), *rle.size)] = rle.object_id
        return labels


def load_coco_rle(path: str | Path) -> dict[str, MaskSequence]:
    """Mask sequences from a COCO-RLE json file, by sequence name, decoded lazily one frame at a time.

    Two forms are read:
    (a) COCO: {"images": [{"id", "height", "width", "file_name"?, "frame_index"?, "video"|"sequence"|"video_id"?}],
        "annotations": [{"image_id", "segmentation": {"size": [h, w], "counts"}, <object id>}]}. The object id is
        the first of track_id, object_id, instance_id, category_id present. Images are grouped into sequences by
        "video"/"sequence" (or "video_id", named through a top-level "videos" list), else one sequence named after
        the file. Frame numbers: "frame_index" when every image of the sequence has it, else the last number in
        every file_name's stem ("frame_00012.jpg" -> 12), else the images' order. An image without annotations is
        an empty (all background) frame.
    (b) flat: [{"frame", "object_id", "segmentation" | "rle"}, ...], or {"sequence": name, "frames" |
        "annotations": [...]}.
    Counts may be compressed (str) or uncompressed (list of ints). Ids are 1..254, or 255 for void pixels; where
    masks overlap the higher id wins."""
    path = Path(path)
    data = read_json(path)
    if isinstance(data, dict) and "images" in data:
        return _coco_sequences(data, path)
    return _flat_sequence(data, path)


def _coco_sequences(data: dict[str, Any], path: Path) -> dict[str, MaskSequence]:
    images = data["images"]
    annotations = data.get("annotations")
    if not isinstance(images, list) or not images:
        raise DatasetError(f'{path}: "images" must be a non-empty list.')
    if not isinstance(annotations, list):
        raise DatasetError(f'{path}: "annotations" must be a list.')
    video_names = _video_names(data.get("videos"), path)
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, image in enumerate(images):
        _require(image, ("id", "height", "width"), path, f"images[{index}]")
        if isinstance(image["id"], bool) or not isinstance(image["id"], (int, str)):
            raise DatasetError(f"{path}: images[{index}] has id {image['id']!r}; image ids are numbers or strings.")
        groups.setdefault(_sequence_name(image, video_names, path), []).append((index, image))

    where: dict[Any, tuple[str, int, tuple[int, int]]] = {}  # image id -> (sequence, frame, (h, w))
    sizes: dict[str, tuple[int, int]] = {}
    for name, members in groups.items():
        numbers = _frame_numbers(members, path)
        seen: dict[int, int] = {}
        for (index, image), frame in zip(members, numbers):
            if frame in seen:
                raise DatasetError(
                    f"{path}: images[{index}] and images[{seen[frame]}] are both frame {frame} of {name}."
                )
            seen[frame] = index
            size = (
                _whole(image["height"], path, f"images[{index}].height"),
                _whole(image["width"], path, f"images[{index}].width"),
            )
            sizes.setdefault(name, size)
            if size != sizes[name]:
                raise DatasetError(
                    f"{path}: images[{index}] is {size[1]}x{size[0]} but sequence {name} is "
                    f"{sizes[name][1]}x{sizes[name][0]}."
                )
            if image["id"] in where:
                raise DatasetError(f"{path}: images[{index}] repeats image id {image['id']!r}.")
            where[image["id"]] = (name, frame, size)

    per_frame: dict[str, dict[int, list[_Rle]]] = {name: {} for name in groups}
    for name, frame, _ in where.values():
        per_frame[name][frame] = []
    for index, annotation in enumerate(annotations):
        entry = f"annotations[{index}]"
        _require(annotation, ("image_id", "segmentation"), path, entry)
        if not isinstance(annotation["image_id"], (int, str)) or annotation["image_id"] not in where:
            raise DatasetError(
                f"{path}: {entry} refers to image id {annotation['image_id']!r}, which is not in images."
            )
        name, frame, size = where[annotation["image_id"]]
        rle = _parse_rle(annotation["segmentation"], _object_id(annotation, path, entry), path, entry)
        if rle.size != size:
            raise DatasetError(
                f"{path}: {entry} has an RLE of size {rle.size[1]}x{rle.size[0]} on an image of {size[1]}x{size[0]}."
            )
        per_frame[name][frame].append(rle)
    return {name: _rle_sequence(name, frames, sizes[name], path) for name, frames in per_frame.items()}


def _flat_sequence(data: Any, path: Path) -> dict[str, MaskSequence]:
    name = path.stem
    entries = data
    if isinstance(data, dict):
        name = str(data.get("sequence") or data.get("name") or path.stem)
        entries = data.get("frames", data.get("annotations"))
    if not isinstance(entries, list) or not entries:
        raise DatasetError(
            f'{path} is neither a COCO file ("images" and "annotations") nor a non-empty list of '
            '{"frame", "object_id", "segmentation"} entries.'
        )
    per_frame: dict[int, list[_Rle]] = {}
    size: tuple[int, int] | None = None
    for index, item in enumerate(entries):
        entry = f"entry {index}"
        _require(item, ("frame",), path, entry)
        segmentation = item.get("segmentation", item.get("rle"))
        if segmentation is None:
            raise DatasetError(f'{path}: {entry} has no "segmentation" (or "rle").')
        rle = _parse_rle(segmentation, _object_id(item, path, entry), path, entry)
        size = size or rle.size
        if rle.size != size:
            raise DatasetError(
                f"{path}: {entry} is {rle.size[1]}x{rle.size[0]}, the entries before it {size[1]}x{size[0]}."
            )
        frame = _whole(item["frame"], path, f"{entry} frame")
        per_frame.setdefault(frame, []).append(rle)
    assert size is not None  # entries is non-empty
    return {name: _rle_sequence(name, per_frame, size, path)}


def _rle_sequence(name: str, per_frame: dict[int, list[_Rle]], size: tuple[int, int], path: Path) -> MaskSequence:
    frames = dict(sorted(per_frame.items()))
    return MaskSequence(name, tuple(frames), size[0], size[1], _RleLabels(path, frames, *size), source=str(path))


def _require(item: Any, keys: tuple[str, ...], path: Path, entry: str) -> None:
    if not isinstance(item, dict):
        raise DatasetError(f"{path}: {entry} is not a JSON object.")
    missing = [key for key in keys if key not in item]
    if missing:
        raise DatasetError(f"{path}: {entry} has no {', '.join(repr(k) for k in missing)}.")


def _whole(value: Any, path: Path, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
        raise DatasetError(f"{path}: {what} must be a whole number >= 0, got {value!r}.")
    return int(value)


def _object_id(item: dict[str, Any], path: Path, entry: str) -> int:
    key = next((k for k in OBJECT_ID_KEYS if item.get(k) is not None), None)
    if key is None:
        raise DatasetError(f"{path}: {entry} has no object id (one of {', '.join(OBJECT_ID_KEYS)}).")
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= VOID:
        raise DatasetError(f"{path}: {entry} has {key} {value!r}; object ids are 1..254 (255 marks void pixels).")
    return value


def _parse_rle(segmentation: Any, object_id: int, path: Path, entry: str) -> _Rle:
    if isinstance(segmentation, list):
        raise DatasetError(f"{path}: {entry} is a polygon; only RLE segmentations ({{'size', 'counts'}}) are read.")
    _require(segmentation, ("size", "counts"), path, f"{entry} segmentation")
    size = segmentation["size"]
    if not isinstance(size, list) or len(size) != 2:
        raise DatasetError(f"{path}: {entry} segmentation size must be [height, width], got {size!r}.")
    height, width = (_whole(v, path, f"{entry} segmentation size") for v in size)
    counts = segmentation["counts"]
    if isinstance(counts, list):
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
            raise DatasetError(f"{path}: {entry} counts must be whole numbers >= 0.")
        if sum(counts) != height * width:
            raise DatasetError(
                f"{path}: {entry} counts cover {sum(counts)} pixels, but its size {width}x{height} has "
                f"{height * width}."
            )
    elif isinstance(counts, str):
        # counts that fall short of the image or overrun it are rejected now, not when the frame is read
        total = _compressed_total(counts, path, entry)
        if total != height * width:
            raise DatasetError(
                f"{path}: {entry} counts cover {total} pixels, but its size {width}x{height} has {height * width}."
            )
    else:
        raise DatasetError(f"{path}: {entry} counts must be a string (compressed RLE) or a list of run lengths.")
    return _Rle(object_id, (height, width), counts)


def _compressed_total(text: str, path: Path, entry: str) -> int:
    """Pixels covered by a compressed counts string, checked run by run (the first problem met is the one named)."""
    total = 0
    try:
        for run in iter_counts(text):
            if run < 0:
                raise DatasetError(f"{path}: {entry} counts hold a negative run length.")
            total += run
    except RleError as error:
        if error.problem == "truncated":
            raise DatasetError(f"{path}: {entry} counts end in the middle of a number.") from None
        raise DatasetError(f"{path}: {entry} counts hold {error.character!r}, which is not an RLE character.") from None
    return total


def _video_names(videos: Any, path: Path) -> dict[Any, str]:
    if videos is None:
        return {}
    if not isinstance(videos, list):
        raise DatasetError(f'{path}: "videos" must be a list.')
    names = {}
    for index, video in enumerate(videos):
        _require(video, ("id",), path, f"videos[{index}]")
        names[video["id"]] = str(video.get("name") or video.get("file_name") or video["id"])
    return names


def _sequence_name(image: dict[str, Any], video_names: dict[Any, str], path: Path) -> str:
    for key in ("video", "sequence"):
        if image.get(key) is not None:
            return str(image[key])
    if image.get("video_id") is not None:
        return video_names.get(image["video_id"], str(image["video_id"]))
    return path.stem


def _frame_numbers(members: list[tuple[int, dict[str, Any]]], path: Path) -> list[int]:
    """frame_index when every image has it, else the last number in every file name's stem, else the order."""
    if all(image.get("frame_index") is not None for _, image in members):
        return [_whole(image["frame_index"], path, f"images[{index}].frame_index") for index, image in members]
    digits = [DIGITS.findall(Path(str(image.get("file_name", ""))).stem) for _, image in members]
    if all(digits):
        return [int(found[-1]) for found in digits]
    return list(range(len(members)))


def save_coco_rle(seq: MaskSequence, path: str | Path) -> Path:
    """Write a sequence as a COCO-RLE json (form (a) of `load_coco_rle`): one image per frame (with "frame_index"
    and "video"), one annotation per object and frame with compressed counts and "track_id". Void pixels (255) are
    written as object 255, so a round trip keeps them."""
    images, annotations = [], []
    for row, (frame, labels) in enumerate(seq):
        image_id = row + 1
        images.append(
            {
                "id": image_id,
                "file_name": f"{frame:05d}.png",
                "height": seq.height,
                "width": seq.width,
                "frame_index": frame,
                "video": seq.name,
            }
        )
        for object_id in (int(v) for v in np.unique(labels) if v != 0):
            mask = labels == object_id
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "track_id": object_id,
                    "category_id": 1,
                    "iscrowd": 0,
                    "area": int(np.count_nonzero(mask)),
                    "bbox": _coco_bbox(mask),
                    "segmentation": {"size": [seq.height, seq.width], "counts": encode_mask(mask)},
                }
            )
    document = {
        "info": {"description": f"masks of {seq.name}"},
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 1, "name": "object"}],
    }
    out = Path(path)
    out.write_text(json.dumps(document), encoding="utf-8")
    return out


def _coco_bbox(mask: np.ndarray) -> list[float]:
    """[x, y, width, height] of the mask's pixels, as COCO writes it ([0.0] * 4 for an empty mask)."""
    rows, columns = np.nonzero(mask)
    if rows.size == 0:
        return [0.0, 0.0, 0.0, 0.0]
    x, y = int(columns.min()), int(rows.min())
    return [float(x), float(y), float(int(columns.max()) - x + 1), float(int(rows.max()) - y + 1)]
