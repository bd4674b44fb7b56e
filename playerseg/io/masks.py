"""Masks: per-object per-frame storage (MaskTrack), DAVIS palette PNGs, COCO compressed RLE and bounding boxes.

Label maps are uint8 HxW: 0 = background, 1..254 = object ids, 255 = void (DAVIS). Boolean masks are HxW bool.
PNG decoding and the RLE codec are evaluation's (`evaluation.datasets.mask_pngs`, `evaluation.coco_rle`); their
errors reach users here as MaskError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from evaluation.coco_rle import RleError, counts_to_mask, decode_counts, encode_mask, run_lengths
from evaluation.datasets import DatasetError
from evaluation.datasets.mask_pngs import davis_palette as evaluation_davis_palette
from evaluation.datasets.mask_pngs import read_mask_png
from playerseg.errors import PlayerSegError

VOID = 255
MAX_OBJECT_ID = 254
_PNG_NAME = re.compile(r"^(\d+)\.png$")


class MaskError(PlayerSegError, ValueError):
    """A mask, mask file or RLE that cannot be used; the message is one sentence for the user."""


# ---------------------------------------------------------------- palette PNGs


@lru_cache(maxsize=1)
def _palette() -> np.ndarray:
    palette = evaluation_davis_palette()  # one palette for the runtime and the evaluation package
    palette.flags.writeable = False
    return palette


def davis_palette() -> np.ndarray:
    """The DAVIS / PASCAL VOC palette, (256, 3) uint8: 0 black, 1 (128, 0, 0), 2 (0, 128, 0), 3 (128, 128, 0)..."""
    return _palette().copy()


def write_palette_png(path: str | Path, labels: np.ndarray) -> None:
    """Write a label map as a mode "P" PNG with the DAVIS palette (what DAVIS tools and viewers expect)."""
    labels = _as_label_map(labels, "labels")
    image = Image.frombytes("P", (labels.shape[1], labels.shape[0]), np.ascontiguousarray(labels).tobytes())
    image.putpalette(_palette().tobytes())
    image.save(Path(path), format="PNG")


def read_palette_png(path: str | Path) -> np.ndarray:
    """A mask PNG as uint8 HxW ids: palette indices ("P"), grey values ("L"), or RGB colours mapped back to
    DAVIS palette indices (MaskError when a colour is not in the palette). Decoding is evaluation's, shared."""
    try:
        return read_mask_png(path)
    except DatasetError as error:
        raise MaskError(str(error)) from None


def _as_label_map(labels: Any, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise MaskError(f"{name} must be a 2-D (H, W) array of ids, got shape {labels.shape}.")
    if labels.dtype == np.uint8:
        return labels
    if labels.dtype == bool or (np.issubdtype(labels.dtype, np.integer) and labels.size == 0):
        return labels.astype(np.uint8)
    if np.issubdtype(labels.dtype, np.integer) and labels.min() >= 0 and labels.max() <= 255:
        return labels.astype(np.uint8)
    raise MaskError(f"{name} must hold integer ids 0..255 (uint8), got dtype {labels.dtype}.")


# ---------------------------------------------------------------- boxes


def bbox_from_mask(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) with x1/y1 one past the last column/row, or None for an empty mask."""
    mask = np.asarray(mask, dtype=bool)
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size == 0:
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


# ---------------------------------------------------------------- COCO RLE (evaluation's codec)


def rle_encode(mask: np.ndarray) -> dict[str, Any]:
    """COCO compressed RLE of a bool HxW mask: {"size": [h, w], "counts": str} (pycocotools-compatible)."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise MaskError(f"RLE needs a 2-D (H, W) mask, got shape {mask.shape}.")
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": encode_mask(mask)}


def rle_decode(rle: dict[str, Any]) -> np.ndarray:
    """A bool HxW mask from COCO RLE: compressed ("counts" str or bytes) or uncompressed ("counts" list of ints)."""
    if not isinstance(rle, dict) or "size" not in rle or "counts" not in rle:
        raise MaskError('RLE must be a dict with "size" [h, w] and "counts".')
    size = rle["size"]
    whole = isinstance(size, (list, tuple)) and len(size) == 2
    if not (whole and all(isinstance(v, (int, np.integer)) and v >= 0 for v in size)):
        raise MaskError(f'RLE "size" must be [height, width] of whole numbers, got {size!r}.')
    height, width = int(size[0]), int(size[1])
    raw = rle["counts"]
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", errors="replace")
    counts = _compressed_counts(raw) if isinstance(raw, str) else np.asarray(raw, dtype=np.int64).ravel()
    if counts.size and counts.min() < 0:
        raise MaskError("RLE counts contain a negative run length.")
    if int(counts.sum()) != height * width:
        raise MaskError(
            f"RLE counts cover {int(counts.sum())} pixels but size {height}x{width} needs {height * width}."
        )
    return counts_to_mask(counts, height, width)


def _compressed_counts(text: str) -> np.ndarray:
    """Run lengths of a compressed counts string, its problems worded for playerseg's users."""
    try:
        return np.array(decode_counts(text), dtype=np.int64)
    except RleError as error:
        if error.problem == "truncated":
            raise MaskError("RLE counts string ends in the middle of a number.") from None
        raise MaskError(
            f"RLE counts string has an invalid character {error.character!r} at position {error.position}."
        ) from None


# ---------------------------------------------------------------- MaskTrack


@dataclass(frozen=True)
class _Stored:
    """One mask, kept as column-major run lengths or packed bits, whichever is smaller."""

    runs: np.ndarray | None  # uint32 run lengths (COCO order)
    bits: np.ndarray | None  # np.packbits of the row-major mask
    area: int

    @property
    def nbytes(self) -> int:
        return int((self.runs if self.runs is not None else self.bits).nbytes)


def paint_label_map(masks: dict[int, np.ndarray], height: int, width: int) -> np.ndarray:
    """uint8 HxW ids from bool masks by id, painted in ascending id order (the highest id wins where they overlap)."""
    labels = np.zeros((height, width), dtype=np.uint8)
    for object_id in sorted(masks):
        labels[masks[object_id]] = object_id
    return labels


class MaskTrack:
    """Boolean masks per (frame, object id), stored compactly; frames without masks read as empty."""

    def __init__(self, height: int, width: int) -> None:
        if height < 1 or width < 1:
            raise MaskError(f"MaskTrack needs a positive size, got {height}x{width}.")
        self.height = int(height)
        self.width = int(width)
        self._frames: dict[int, dict[int, _Stored]] = {}

    def __repr__(self) -> str:
        return (
            f"MaskTrack({self.height}x{self.width}, frames={len(self._frames)}, objects={self.object_ids}, "
            f"nbytes={self.nbytes})"
        )

    @property
    def frames(self) -> list[int]:
        """Frames given masks (set, or a label map, even an all-background one)."""
        return sorted(self._frames)

    @property
    def object_ids(self) -> list[int]:
        return sorted({obj for objects in self._frames.values() for obj in objects})

    @property
    def nbytes(self) -> int:
        return sum(stored.nbytes for objects in self._frames.values() for stored in objects.values())

    def object_ids_at(self, frame: int) -> list[int]:
        return sorted(self._frames.get(frame, {}))

    def set(self, frame: int, object_id: int, mask: np.ndarray) -> None:
        self._check_ids(frame, object_id)
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise MaskError(f"Mask for object {object_id} on frame {frame} must be bool, got dtype {mask.dtype}.")
        if mask.shape != (self.height, self.width):
            raise MaskError(
                f"Mask for object {object_id} on frame {frame} is {mask.shape[1] if mask.ndim > 1 else '?'}x"
                f"{mask.shape[0]} (WxH) but this track is {self.width}x{self.height}."
            )
        self._frames.setdefault(int(frame), {})[int(object_id)] = _store(mask)

    def get(self, frame: int, object_id: int) -> np.ndarray:
        """A fresh bool HxW array (all False when the object has no mask on that frame)."""
        stored = self._frames.get(frame, {}).get(object_id)
        if stored is None:
            return np.zeros((self.height, self.width), dtype=bool)
        if stored.runs is not None:
            return counts_to_mask(stored.runs.astype(np.int64), self.height, self.width)
        bits = np.unpackbits(stored.bits, count=self.height * self.width)
        return bits.reshape(self.height, self.width).astype(bool)

    def area(self, frame: int, object_id: int) -> int:
        stored = self._frames.get(frame, {}).get(object_id)
        return 0 if stored is None else stored.area

    def label_map(self, frame: int) -> np.ndarray:
        """uint8 HxW ids; ids are painted in ascending order so the highest id wins where masks overlap."""
        masks = {object_id: self.get(frame, object_id) for object_id in self.object_ids_at(frame)}
        return paint_label_map(masks, self.height, self.width)

    def set_label_map(self, frame: int, labels: np.ndarray) -> None:
        """Store every id in a label map (0 and void 255 ignored); the frame counts as given even if empty."""
        labels = _as_label_map(labels, f"label map for frame {frame}")
        if labels.shape != (self.height, self.width):
            raise MaskError(
                f"Label map for frame {frame} is {labels.shape[1]}x{labels.shape[0]} (WxH) "
                f"but this track is {self.width}x{self.height}."
            )
        self._check_ids(frame, 1)
        self._frames.setdefault(int(frame), {})
        for object_id in np.unique(labels).tolist():
            if object_id not in (0, VOID):
                self.set(frame, object_id, labels == object_id)

    @classmethod
    def from_label_maps(cls, label_maps: dict[int, np.ndarray]) -> MaskTrack:
        """A track from {frame: uint8 HxW label map}; all maps must share one size."""
        if not label_maps:
            raise MaskError("from_label_maps needs at least one label map to know the mask size.")
        first = np.asarray(next(iter(label_maps.values())))
        if first.ndim != 2:
            raise MaskError(f"Label maps must be 2-D (H, W), got shape {first.shape}.")
        track = cls(*first.shape)
        for frame, labels in sorted(label_maps.items()):
            track.set_label_map(frame, labels)
        return track

    def save_pngs(self, folder: str | Path, num_frames: int | None = None) -> list[Path]:
        """Write folder/00000.png ... for frames 0..num_frames-1 (default: up to the last frame with masks);
        frames without masks are written all background. Returns the paths written."""
        frames = self.frames
        if num_frames is None:
            num_frames = frames[-1] + 1 if frames else 0
        if frames and frames[-1] >= num_frames:
            raise MaskError(f"MaskTrack has masks on frame {frames[-1]}, past num_frames={num_frames}.")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for frame in range(num_frames):
            path = folder / f"{frame:05d}.png"
            write_palette_png(path, self.label_map(frame))
            paths.append(path)
        return paths

    @classmethod
    def load_pngs(cls, folder: str | Path, size: tuple[int, int] | None = None) -> MaskTrack:
        """Read folder/NNNNN.png (frame = the number) as label maps; void 255 is ignored.
        All PNGs must share one size, unless `size=(height, width)` is given: then each is resized to it
        (nearest neighbour, so ids stay ids)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise MaskError(f"Mask folder {folder} does not exist.")
        files = sorted((int(m.group(1)), path) for path in folder.iterdir() if (m := _PNG_NAME.match(path.name)))
        if not files:
            raise MaskError(f"Mask folder {folder} has no numbered PNG files (00000.png, 00001.png, ...).")
        track: MaskTrack | None = None if size is None else cls(*size)
        for frame, path in files:
            labels = read_palette_png(path)
            if track is None:
                track = cls(*labels.shape)
            if labels.shape != (track.height, track.width):
                if size is None:
                    raise MaskError(
                        f"{path} is {labels.shape[1]}x{labels.shape[0]} but the first mask in {folder} is "
                        f"{track.width}x{track.height}; pass size=(height, width) to resize them all."
                    )
                labels = _resize_nearest(labels, track.height, track.width)
            track.set_label_map(frame, labels)
        assert track is not None
        return track

    def _check_ids(self, frame: int, object_id: int) -> None:
        if not isinstance(frame, (int, np.integer)) or isinstance(frame, bool) or frame < 0:
            raise MaskError(f"Frame index must be a whole number >= 0, got {frame!r}.")
        if not isinstance(object_id, (int, np.integer)) or not 1 <= object_id <= MAX_OBJECT_ID:
            raise MaskError(f"Object id must be 1..{MAX_OBJECT_ID} (0 is background, 255 void), got {object_id!r}.")


def _store(mask: np.ndarray) -> _Stored:
    area = int(np.count_nonzero(mask))
    runs = run_lengths(mask)
    packed_size = (mask.size + 7) // 8
    if runs.size * 4 <= packed_size:  # typical player masks: a few runs per column
        return _Stored(runs=runs.astype(np.uint32), bits=None, area=area)
    return _Stored(runs=None, bits=np.packbits(mask.ravel()), area=area)


def _resize_nearest(labels: np.ndarray, height: int, width: int) -> np.ndarray:
    rows = np.minimum((np.arange(height) + 0.5) * labels.shape[0] / height, labels.shape[0] - 1).astype(int)
    cols = np.minimum((np.arange(width) + 0.5) * labels.shape[1] / width, labels.shape[1] - 1).astype(int)
    return labels[rows[:, None], cols[None, :]]
