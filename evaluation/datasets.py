"""Dataset loaders: mask PNG folders, DAVIS folders, COCO-RLE json, run folders, and the clip frames behind them.

Everything is lazy. A loader checks names and image headers (PIL reads only the header on open, so checking every
file's size up front is cheap) and returns a `MaskSequence` whose reader opens one PNG, or decodes one frame's RLE,
when that frame is asked for; a whole clip is never held in memory. Frame sources (`open_frames`) work the same way:
`FrameFolder` opens one image per `read`, `VideoFrames` decodes a video sequentially with PyAV.

Every problem with the input raises `DatasetError` (a ValueError) with one sentence naming the file.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from evaluation.errors import EvaluationError
from evaluation.sequence import VOID, MaskSequence

if TYPE_CHECKING:
    from evaluation.results import ProfileResult

MASK_SUFFIXES = (".png",)
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")
# DAVIS 2017 "full" downloads nest sequences under a resolution folder: Annotations/480p/<seq>.
RESOLUTION_FOLDERS = ("480p", "Full-Resolution", "1080p")
# Where a COCO annotation's object id comes from, first key present wins: a track id names the object across
# frames; category_id is the last resort (right for one object per category, as in single-player exports).
OBJECT_ID_KEYS = ("track_id", "object_id", "instance_id", "category_id")
_IMAGE_ERRORS = (OSError, SyntaxError, ValueError)  # what PIL raises for unreadable, broken or truncated files
_DIGITS = re.compile(r"[0-9]+")


class DatasetError(EvaluationError, ValueError):
    """A dataset file or folder that cannot be used; the message is one sentence naming the file."""


# ---------------------------------------------------------------------------------------------------------------
# DAVIS palette


def davis_palette() -> np.ndarray:
    """The DAVIS / PASCAL VOC palette, (256, 3) uint8: id 1 is (128, 0, 0), 2 (0, 128, 0), 3 (128, 128, 0)...

    Bit 3k, 3k+1, 3k+2 of the id go to bit 7-k of red, green and blue."""
    ids = np.arange(256)
    palette = np.zeros((256, 3), dtype=np.uint8)
    for k in range(3):
        for channel in range(3):
            palette[:, channel] |= (((ids >> (3 * k + channel)) & 1) << (7 - k)).astype(np.uint8)
    return palette


def _colour_keys(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


# ---------------------------------------------------------------------------------------------------------------
# Files named by frame number


def _numbered_files(folder: Path, suffixes: tuple[str, ...]) -> dict[int, Path]:
    """Files of `folder` with one of `suffixes`, keyed by the frame number their name gives (00012.png -> 12)."""
    numbered: dict[int, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in suffixes or not path.is_file():
            continue  # hidden files (macOS "._00001.png") and other file types are not frames
        if not _DIGITS.fullmatch(path.stem):
            raise DatasetError(
                f"{path} is not named by a frame number (expected names like 00012{path.suffix} for frame 12)."
            )
        frame = int(path.stem)
        if frame in numbered:
            raise DatasetError(f"{path} and {numbered[frame].name} both hold frame {frame}.")
        numbered[frame] = path
    return dict(sorted(numbered.items()))


def _has_files(folder: Path, suffixes: tuple[str, ...]) -> bool:
    return folder.is_dir() and any(
        p.suffix.lower() in suffixes and not p.name.startswith(".") and p.is_file() for p in folder.iterdir()
    )


def _image_header(path: Path) -> tuple[int, int, str]:
    """(width, height, mode) from the file's header only."""
    try:
        with Image.open(path) as image:
            return image.size[0], image.size[1], image.mode
    except _IMAGE_ERRORS as error:
        raise DatasetError(f"{path} cannot be read as an image ({_reason(error)}).") from None


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


# ---------------------------------------------------------------------------------------------------------------
# Mask PNG folders

# Modes a label map can come in; anything else (CMYK, float...) is rejected when the folder is loaded.
_MASK_MODES = frozenset({"P", "L", "1", "LA", "PA", "RGB", "RGBA", "I", "I;16", "I;16B", "I;16L"})


def read_mask_png(path: str | Path) -> np.ndarray:
    """One mask image as an HxW uint8 label map: palette indices ("P"), grey values ("L"), exact DAVIS palette
    colours mapped back to ids ("RGB"/"RGBA"), or 16-bit values when every value is at most 255."""
    path = Path(path)
    mode, pixels = _decoded_pixels(path)
    if mode not in _MASK_MODES:
        raise DatasetError(f"{path} is a {mode} image; masks must be palette, greyscale or RGB PNGs.")
    if mode in ("RGB", "RGBA"):
        return _rgb_to_labels(pixels, path)
    if mode.startswith("I"):
        return _values_as_labels(pixels, path)
    return pixels.astype(np.uint8, copy=False)


def _decoded_pixels(path: Path) -> tuple[str, np.ndarray]:
    """The image's mode and pixels: RGB for colour images, the first band when an alpha band rides along (it
    carries no ids), 0/1 for bilevel images (white is object 1), the stored values otherwise."""
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("RGB", "RGBA"):
                return image.mode, np.array(image.convert("RGB"))
            if image.mode in ("LA", "PA"):
                return image.mode, np.array(image.getchannel(0))
            if image.mode == "1":
                return image.mode, np.array(image, dtype=bool).astype(np.uint8)
            return image.mode, np.array(image)
    except _IMAGE_ERRORS as error:
        raise DatasetError(f"{path} cannot be read as a mask image ({_reason(error)}).") from None


def _values_as_labels(values: np.ndarray, path: Path) -> np.ndarray:
    values = values.astype(np.int64, copy=False)
    if values.size and (values.min() < 0 or values.max() > 255):
        raise DatasetError(
            f"{path} holds values up to {int(values.max())}; a label map holds ids 0..255 (255 = void)."
        )
    return values.astype(np.uint8)


def _rgb_to_labels(rgb: np.ndarray, path: Path) -> np.ndarray:
    """Map each DAVIS palette colour back to its id; any other colour means the ids cannot be recovered."""
    palette_keys = _colour_keys(davis_palette())
    id_of_key = {int(key): index for index, key in enumerate(palette_keys)}
    colours, inverse = np.unique(_colour_keys(rgb).reshape(-1), return_inverse=True)
    ids = np.empty(colours.size, dtype=np.uint8)
    for k, colour in enumerate(colours):
        found = id_of_key.get(int(colour))
        if found is None:
            r, g, b = int(colour) >> 16, (int(colour) >> 8) & 255, int(colour) & 255
            count = int((inverse == k).sum())
            raise DatasetError(
                f"{path} is an RGB mask with a colour outside the DAVIS palette ({r}, {g}, {b}) in {count} pixels, "
                "so its object ids cannot be recovered (save masks as palette or greyscale PNGs)."
            )
        ids[k] = found
    return ids[inverse].reshape(rgb.shape[:2])


class _PngLabels:
    """Reader of a mask folder: frame number -> label map, opening the PNG only when asked."""

    def __init__(self, files: Mapping[int, Path]) -> None:
        self.files = dict(files)

    def __call__(self, frame: int) -> np.ndarray:
        return read_mask_png(self.files[frame])


def load_mask_folder(path: str | Path, name: str | None = None) -> MaskSequence:
    """A folder of mask PNGs named by frame number (00012.png is frame 12) as a lazily read MaskSequence.

    Every file's header is checked now: a file of another size or an unreadable file is a DatasetError naming it
    (masks of one sequence must all be the same size; resize them or drop the odd one)."""
    folder = Path(path)
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder of mask PNGs.")
    files = _numbered_files(folder, MASK_SUFFIXES)
    if not files:
        raise DatasetError(f"{folder} holds no mask .png files.")
    first_frame = next(iter(files))
    width, height, _ = _check_mask_header(files[first_frame])
    for frame, file in files.items():
        if frame == first_frame:
            continue
        other_width, other_height, _ = _check_mask_header(file)
        if (other_width, other_height) != (width, height):
            raise DatasetError(
                f"{file} is {other_width}x{other_height} but {files[first_frame].name} is {width}x{height}; "
                "all masks of a sequence must be the same size."
            )
    return MaskSequence(name or folder.name, tuple(files), height, width, _PngLabels(files), source=str(folder))


def _check_mask_header(path: Path) -> tuple[int, int, str]:
    width, height, mode = _image_header(path)
    if mode not in _MASK_MODES:
        raise DatasetError(f"{path} is a {mode} image; masks must be palette, greyscale or RGB PNGs.")
    return width, height, mode


# ---------------------------------------------------------------------------------------------------------------
# Frame sources: image folders and videos


class FrameFolder:
    """JPEG/PNG frames named by frame number; `read(frame)` opens one file and returns RGB uint8 HxWx3."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise DatasetError(f"{self.path} is not a folder of frames.")
        self._files = _numbered_files(self.path, FRAME_SUFFIXES)
        if not self._files:
            raise DatasetError(f"{self.path} holds no .jpg or .png frames.")
        self.width, self.height, _ = _image_header(next(iter(self._files.values())))

    @property
    def frames(self) -> tuple[int, ...]:
        return tuple(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def read(self, frame: int) -> np.ndarray:
        file = self._files.get(frame)
        if file is None:
            raise DatasetError(f"{self.path} has no frame {frame}.")
        try:
            with Image.open(file) as image:
                return np.array(image.convert("RGB"), dtype=np.uint8)
        except _IMAGE_ERRORS as error:
            raise DatasetError(f"{file} cannot be read as an image ({_reason(error)}).") from None

    def close(self) -> None:
        """Nothing stays open between reads; here so both frame sources close alike."""

    def __enter__(self) -> FrameFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FrameFolder({str(self.path)!r}, frames={len(self)}, {self.width}x{self.height})"


def _import_av() -> ModuleType:
    try:
        import av
    except ImportError:
        raise DatasetError("Reading video files needs PyAV: pip install av.") from None
    return av


class VideoFrames:
    """A video's frames by decode index (0, 1, 2...), decoded sequentially with PyAV.

    Reading frames in increasing order costs one decode per frame; the last `cache_size` frames are kept, and an
    earlier frame than those reopens the file and decodes from the start (metrics read in order, so this is rare).
    """

    def __init__(self, path: str | Path, cache_size: int = 4) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DatasetError(f"{self.path} is not a video file.")
        self._av = _import_av()
        self._cache_size = max(1, cache_size)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._container: Any = None
        self._open()
        stream = self._container.streams.video[0]
        self.width = int(stream.codec_context.width)
        self.height = int(stream.codec_context.height)
        self._frame_count: int | None = int(stream.frames) if stream.frames else None

    def _open(self) -> None:
        """(Re)open the file and start decoding from its first frame."""
        self.close()
        try:
            container = self._av.open(str(self.path))
        except (self._av.FFmpegError, OSError) as error:
            raise DatasetError(f"{self.path} cannot be opened as a video ({_reason(error)}).") from None
        if not container.streams.video:
            container.close()
            raise DatasetError(f"{self.path} has no video stream.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame-parallel decoding: same frames, in the same order, sooner
        self._container = container
        self._decoded: Iterator[Any] = container.decode(stream)
        self._next_index = 0

    @property
    def frame_count(self) -> int:
        """Frames in the video: the container's count, else counted by reading packets (no decoding)."""
        if self._frame_count is None:
            self._frame_count = self._count_packets()
        return self._frame_count

    def _count_packets(self) -> int:
        try:
            with self._av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                return sum(1 for packet in container.demux(stream) if packet.size)
        except self._av.FFmpegError as error:
            raise DatasetError(f"{self.path} cannot be read as a video ({_reason(error)}).") from None

    @property
    def frames(self) -> tuple[int, ...]:
        return tuple(range(self.frame_count))

    def __len__(self) -> int:
        return self.frame_count

    def read(self, frame: int) -> np.ndarray:
        """RGB uint8 HxWx3 of frame number `frame` (its index in decode order)."""
        if frame < 0:
            raise DatasetError(f"{self.path}: frame {frame} does not exist (frames start at 0).")
        if frame in self._cache:
            self._cache.move_to_end(frame)
            return self._cache[frame].copy()
        if frame < self._next_index or self._container is None:
            self._open()  # an earlier frame than the cache holds: decode again from the start
        while self._next_index <= frame:
            decoded = self._decode_next(frame)
            if frame - self._next_index < self._cache_size:  # frames skipped over are not converted to RGB
                self._remember(self._next_index, decoded.to_ndarray(format="rgb24"))
            self._next_index += 1
        return self._cache[frame].copy()

    def _decode_next(self, wanted: int) -> Any:
        try:
            return next(self._decoded)
        except StopIteration:
            self._frame_count = self._next_index  # the true count, whatever the container declared
            raise DatasetError(
                f"{self.path} has {self._next_index} frames; frame {wanted} does not exist."
            ) from None
        except self._av.FFmpegError as error:
            raise DatasetError(
                f"{self.path}: frame {self._next_index} cannot be decoded ({_reason(error)})."
            ) from None

    def _remember(self, frame: int, rgb: np.ndarray) -> None:
        self._cache[frame] = rgb
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> VideoFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"VideoFrames({str(self.path)!r}, {self.width}x{self.height})"


def open_frames(path: str | Path) -> FrameFolder | VideoFrames:
    """The clip's frames for optical flow: a folder of JPEG/PNG frames (or a DAVIS single-sequence folder, whose
    JPEGImages/ is used) or a video file. Use as a context manager, or call `close()`."""
    source = Path(path)
    if source.is_dir():
        if not _has_files(source, FRAME_SUFFIXES) and _has_files(source / "JPEGImages", FRAME_SUFFIXES):
            return FrameFolder(source / "JPEGImages")
        return FrameFolder(source)
    if source.is_file():
        return VideoFrames(source)
    raise DatasetError(f"{source} does not exist (expected a video file or a folder of frames).")


# ---------------------------------------------------------------------------------------------------------------
# DAVIS


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
    if _has_files(annotations, MASK_SUFFIXES):  # single-sequence folder
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
    if not folder.is_dir() or _has_files(folder, FRAME_SUFFIXES):
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
    return FrameFolder(folder) if folder is not None and _has_files(folder, FRAME_SUFFIXES) else None


# ---------------------------------------------------------------------------------------------------------------
# COCO RLE


def _pycocotools_mask() -> ModuleType:
    try:
        from pycocotools import mask
    except ImportError:
        raise DatasetError("Reading COCO RLE needs pycocotools: pip install pycocotools.") from None
    return mask


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path} is not valid JSON (line {error.lineno}: {error.msg}).") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path} cannot be read ({_reason(error)}).") from None


@dataclass(frozen=True)
class _Rle:
    object_id: int
    size: tuple[int, int]
    counts: str | bytes | list[int]


class _RleLabels:
    """Reader of a COCO-RLE sequence: decodes one frame's masks when asked and paints them in increasing object id
    order, so the higher id wins where masks overlap (and 255, void, wins over everything)."""

    def __init__(self, path: Path, per_frame: Mapping[int, list[_Rle]], height: int, width: int) -> None:
        self.path, self.per_frame, self.height, self.width = path, dict(per_frame), height, width

    def __call__(self, frame: int) -> np.ndarray:
        mask_api = _pycocotools_mask()
        labels = np.zeros((self.height, self.width), dtype=np.uint8)
        for rle in sorted(self.per_frame[frame], key=lambda r: r.object_id):
            labels[self._decode(mask_api, rle, frame)] = rle.object_id
        return labels

    def _decode(self, mask_api: ModuleType, rle: _Rle, frame: int) -> np.ndarray:
        height, width = rle.size
        try:
            if isinstance(rle.counts, list):
                encoded = mask_api.frPyObjects({"size": [height, width], "counts": rle.counts}, height, width)
            else:
                counts = rle.counts.encode("ascii") if isinstance(rle.counts, str) else rle.counts
                encoded = {"size": [height, width], "counts": counts}
            with warnings.catch_warnings():  # pycocotools' Cython warns about numpy 2's copy keyword on every call
                warnings.simplefilter("ignore", DeprecationWarning)
                return np.asarray(mask_api.decode(encoded), dtype=bool)
        except (ValueError, TypeError, UnicodeEncodeError) as error:
            raise DatasetError(
                f"{self.path}: the RLE of object {rle.object_id} on frame {frame} cannot be decoded ({_reason(error)})."
            ) from None


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
    data = _read_json(path)
    _pycocotools_mask()  # a missing dependency shows now, not on the first read
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
    return {
        name: _rle_sequence(name, frames, sizes[name], path) for name, frames in per_frame.items()
    }


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
        # pycocotools decodes counts that fall short of the image without complaint (the rest is uninitialised
        # memory), so the total is checked here.
        total = sum(_compressed_counts(counts, path, entry))
        if total != height * width:
            raise DatasetError(
                f"{path}: {entry} counts cover {total} pixels, but its size {width}x{height} has {height * width}."
            )
    else:
        raise DatasetError(f"{path}: {entry} counts must be a string (compressed RLE) or a list of run lengths.")
    return _Rle(object_id, (height, width), counts)


def _compressed_counts(text: str, path: Path, entry: str) -> list[int]:
    """Run lengths of a compressed COCO counts string: each number is 5-bit groups (low first) in characters
    offset by 48, bit 0x20 meaning "more groups follow" and bit 0x10 of the last group the sign; from the third
    run on, a number is the difference to the run two before (a run of the same kind)."""
    counts: list[int] = []
    position = 0
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(text):
                raise DatasetError(f"{path}: {entry} counts end in the middle of a number.")
            group = ord(text[position]) - 48
            if not 0 <= group < 64:
                raise DatasetError(f"{path}: {entry} counts hold {text[position]!r}, which is not an RLE character.")
            value |= (group & 0x1F) << shift
            more = bool(group & 0x20)
            position += 1
            shift += 5
            if not more and group & 0x10:
                value -= 1 << shift  # sign-extend
        if len(counts) > 2:
            value += counts[-2]
        if value < 0:
            raise DatasetError(f"{path}: {entry} counts hold a negative run length.")
        counts.append(value)
    return counts


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
    digits = [_DIGITS.findall(Path(str(image.get("file_name", ""))).stem) for _, image in members]
    if all(digits):
        return [int(found[-1]) for found in digits]
    return list(range(len(members)))


def save_coco_rle(seq: MaskSequence, path: str | Path) -> Path:
    """Write a sequence as a COCO-RLE json (form (a) of `load_coco_rle`): one image per frame (with "frame_index"
    and "video"), one annotation per object and frame with compressed counts and "track_id". Void pixels (255) are
    written as object 255, so a round trip keeps them."""
    mask_api = _pycocotools_mask()
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
            encoded = mask_api.encode(np.asfortranarray(labels == object_id, dtype=np.uint8))
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "track_id": object_id,
                    "category_id": 1,
                    "iscrowd": 0,
                    "area": int(mask_api.area(encoded)),
                    "bbox": [float(v) for v in mask_api.toBbox(encoded)],
                    "segmentation": {"size": [seq.height, seq.width], "counts": encoded["counts"].decode("ascii")},
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


# ---------------------------------------------------------------------------------------------------------------
# Run folders (`python -m playerseg segment` output)


@dataclass(frozen=True)
class RunFolder:
    """A run folder: its masks, its per-frame profile (frames.csv) and what run.json says about it."""

    path: Path
    name: str  # the model that made it (run.json "model"), else the folder's name
    masks: MaskSequence  # named after the clip (its file stem), else the folder
    profile: ProfileResult | None  # None without frames.csv
    facts: dict[str, Any]  # run.json as written ({} without one)
    clip: str | None  # the clip's path when that file still exists


def load_run_folder(run_dir: str | Path) -> RunFolder:
    """A run folder (or its masks/ folder): masks from masks/, profile from frames.csv, facts from run.json."""
    from evaluation.profiling import ProfileError, profile_from_frames_csv

    run = Path(run_dir)
    if run.name == "masks" and not (run / "masks").is_dir() and (run.parent / "run.json").is_file():
        run = run.parent
    if not (run / "masks").is_dir():
        raise DatasetError(
            f"{run} is not a run folder: it has no masks/ folder (run folders are written by "
            "python -m playerseg segment)."
        )
    facts: dict[str, Any] = {}
    if (run / "run.json").is_file():
        facts = _read_json(run / "run.json")
        if not isinstance(facts, dict):
            raise DatasetError(f"{run / 'run.json'} is not a JSON object.")
    name = str(facts.get("model") or run.resolve().name)
    clip_path = _clip_path(facts)
    masks = load_mask_folder(run / "masks", name=Path(clip_path).stem if clip_path else run.resolve().name)
    profile = None
    if (run / "frames.csv").is_file():
        try:
            profile = profile_from_frames_csv(run / "frames.csv", name=name)
        except ProfileError as error:
            raise DatasetError(str(error)) from error
    return RunFolder(run, name, masks, profile, facts, _existing_clip(clip_path, run))


def _clip_path(facts: dict[str, Any]) -> str | None:
    clip = facts.get("clip")
    path = clip.get("path") if isinstance(clip, dict) else None
    return str(path) if path else None


def _existing_clip(clip_path: str | None, run: Path) -> str | None:
    if clip_path is None:
        return None
    for candidate in (Path(clip_path), run / clip_path):  # a relative path may be relative to the run folder
        if candidate.exists():
            return str(candidate)
    return None


# ---------------------------------------------------------------------------------------------------------------
# Any mask source


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
    if _is_run_folder(source) or (source.name == "masks" and _is_run_folder(source.parent)):
        run = load_run_folder(source)
        return {run.masks.name: run.masks}
    if (source / "Annotations").is_dir() or source.name == "Annotations":
        return {name: seq.masks for name, seq in load_davis(source).items()}
    if _has_files(source, MASK_SUFFIXES):
        masks = load_mask_folder(source)
        return {masks.name: masks}
    folders = sorted(p for p in source.iterdir() if _has_files(p, MASK_SUFFIXES) and not p.name.startswith("."))
    if folders:
        return {folder.name: load_mask_folder(folder) for folder in folders}
    raise DatasetError(
        f"{source} holds no masks (expected mask PNGs, a run folder, a DAVIS folder or sequence folders of PNGs)."
    )


def _is_run_folder(folder: Path) -> bool:
    return (folder / "masks").is_dir() and ((folder / "run.json").is_file() or (folder / "frames.csv").is_file())
