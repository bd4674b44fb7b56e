"""Ground truth from an upload: a .zip of mask PNGs named by clip frame number, or a COCO-RLE .json of one sequence.

An upload is a stranger's file on a public server, so nothing is written before the archive's directory has been
checked against what the masks of the clip can take (UploadLimits): the number of entries, each mask's declared
uncompressed size and the total, and the first bytes of every mask (the PNG signature and the image size in its
header). Extraction then counts the real bytes (declared sizes can lie) and stops at the same caps. Messages name
the uploaded file by its own name (`display_name`), never a server path. `score_prompted` scores a prediction on
the prompted objects only and says which ground-truth objects were left out.

    truth = read_ground_truth(upload, work_dir, clip=probe_video(clip_path), display_name="gt.zip")
"""

from __future__ import annotations

import math
import os
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from evaluation.accuracy import score_sequence
from evaluation.datasets import DatasetError
from evaluation.datasets.coco_json import load_coco_rle
from evaluation.datasets.mask_pngs import load_mask_folder
from evaluation.results.accuracy import AccuracyResult
from evaluation.sequence import VOID, MaskSequence, SequenceError
from playerseg.compare.failures import one_line
from playerseg.errors import PlayerSegError
from playerseg.io.video import VideoInfo

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_HEADER_BYTES = 24  # signature, IHDR length and type, width, height
MAX_BYTES_PER_PIXEL = 8  # 16-bit RGBA, the widest mask image the evaluation package reads
PNG_SLACK = 1.01  # deflate's stored blocks and IDAT chunk headers around the raw rows
PNG_OVERHEAD_BYTES = 64 << 10  # palette, transparency, text and colour-profile chunks
ENTRIES_PER_FRAME = 4  # a DAVIS zip may hold a frame's mask, its JPEG and their macOS "._" forks
EXTRA_ENTRIES = 64  # folders, a readme
COCO_BYTES_PER_PIXEL = 0.25  # RLE needing more than this is boundary every few pixels: noise, not players
COCO_OVERHEAD_BYTES = 64 << 10  # per frame: the image record and annotation keys
READ_CHUNK = 1 << 20

# Without a clip to size them by (generous fixed caps)
MAX_ENTRIES = 20_000
MAX_ENTRY_BYTES = 64 << 20
MAX_TOTAL_BYTES = 1 << 30
MAX_JSON_BYTES = 256 << 20
MAX_MASK_PIXELS = 8192 * 8192


class GroundTruthError(PlayerSegError, ValueError):
    """Ground truth that cannot be used for this comparison; the message is one sentence for the user."""


@dataclass(frozen=True)
class UploadLimits:
    """What a ground-truth upload may hold before anything is extracted or parsed."""

    entries: int  # every entry of the zip: folders and files that are not masks too
    masks: int  # mask PNGs
    entry_bytes: int  # one mask PNG, uncompressed
    total_bytes: int  # all mask PNGs, uncompressed
    json_bytes: int  # a COCO-RLE json file
    size: tuple[int, int] | None  # (width, height) every mask must have, when a clip is known
    max_pixels: int  # width x height a mask may declare

    @classmethod
    def for_clip(cls, clip: VideoInfo | None) -> UploadLimits:
        """Limits sized by the clip (a mask per frame at the clip's size), or generous fixed caps without one."""
        if clip is None:
            return cls(
                MAX_ENTRIES, MAX_ENTRIES, MAX_ENTRY_BYTES, MAX_TOTAL_BYTES, MAX_JSON_BYTES, None, MAX_MASK_PIXELS
            )
        frames = max(int(clip.frame_count), 1)
        width, height = int(clip.width), int(clip.height)
        entry = mask_png_bound(width, height)
        coco = frames * (math.ceil(width * height * COCO_BYTES_PER_PIXEL) + COCO_OVERHEAD_BYTES)
        return cls(
            entries=frames * ENTRIES_PER_FRAME + EXTRA_ENTRIES,
            masks=frames,
            entry_bytes=entry,
            total_bytes=min(frames * entry, MAX_TOTAL_BYTES),
            json_bytes=min(coco, MAX_JSON_BYTES),
            size=(width, height),
            max_pixels=width * height,
        )


def mask_png_bound(width: int, height: int) -> int:
    """The most bytes a mask PNG of width x height can take: its raw rows (a filter byte each) at the widest pixel
    format, stored without compression, plus headers and metadata chunks."""
    raw = height * (width * MAX_BYTES_PER_PIXEL + 1)
    return math.ceil(raw * PNG_SLACK) + PNG_OVERHEAD_BYTES


def read_ground_truth(
    path: str | Path, work_dir: str | Path, *, clip: VideoInfo | None = None, display_name: str | None = None
) -> MaskSequence:
    """Ground truth of one clip: a .zip of palette PNGs named by clip frame number (at any folder depth: a DAVIS
    Annotations/<seq>/ or a flat folder), extracted under `work_dir` once its directory passed the checks, or a
    COCO-RLE .json holding one sequence. `clip` sizes the limits; `display_name` is the uploaded file's own name
    (default: the path's file name). Raises GroundTruthError with one sentence on anything wrong."""
    source = Path(path)
    shown = _own_name(display_name) or source.name
    limits = UploadLimits.for_clip(clip)
    if not source.is_file():
        raise GroundTruthError(f"Ground truth {shown} does not exist or is not a file.")
    if zipfile.is_zipfile(source):
        return _zip_ground_truth(source, Path(work_dir), shown, limits)
    if source.suffix.lower() == ".json" or Path(shown).suffix.lower() == ".json":
        return _coco_ground_truth(source, shown, limits)
    if source.suffix.lower() == ".zip" or Path(shown).suffix.lower() == ".zip":
        raise GroundTruthError(f"Ground truth {shown} is not a readable zip archive.")
    raise GroundTruthError(
        f"Ground truth {shown} must be a .zip of mask PNGs named by frame number or a COCO-RLE .json file."
    )


def _own_name(display_name: str | None) -> str:
    """The file name alone, whatever folders (of any system) the client sent with it."""
    if not display_name:
        return ""
    return display_name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------------------------------------------
# COCO-RLE json


def _coco_ground_truth(source: Path, shown: str, limits: UploadLimits) -> MaskSequence:
    size = source.stat().st_size
    if size > limits.json_bytes:
        raise GroundTruthError(
            f"Ground truth {shown} is {megabytes(size)}, more than the {megabytes(limits.json_bytes)} a COCO-RLE "
            "file of this clip's masks can need; give the masks of this clip only."
        )
    paths = _PathHider(shown, (source,))
    try:
        sequences = load_coco_rle(source)
        if len(sequences) != 1:
            names = ", ".join(sorted(sequences))
            raise GroundTruthError(
                f"Ground truth {shown} holds {len(sequences)} sequences ({names}); give the masks of this clip only."
            )
        sequence = paths.sequence(next(iter(sequences.values())))
        sequence.read(sequence.frames[0])  # a broken RLE shows now, not halfway through scoring
        return sequence
    except (DatasetError, SequenceError) as error:
        raise GroundTruthError(paths.message(error)) from None


# ---------------------------------------------------------------------------------------------------------------
# Zip of mask PNGs


@dataclass(frozen=True)
class _Mask:
    member: zipfile.ZipInfo
    parts: tuple[str, ...]  # safe relative path inside the archive


def _zip_ground_truth(source: Path, work_dir: Path, shown: str, limits: UploadLimits) -> MaskSequence:
    target: Path | None = None
    try:
        with zipfile.ZipFile(source) as archive:
            masks = _checked_masks(archive, shown, limits)  # nothing is written before this passes
            work_dir.mkdir(parents=True, exist_ok=True)
            target = Path(tempfile.mkdtemp(prefix="ground_truth-", dir=work_dir))
            folders = _extract(archive, masks, target, shown, limits)
        folder = _mask_folder(shown, target, folders)
        paths = _PathHider(shown, (target, source))
        try:
            sequence = load_mask_folder(folder, name=Path(shown).stem if folder == target else folder.name)
        except (DatasetError, SequenceError) as error:
            raise GroundTruthError(paths.message(error)) from None
        return paths.sequence(sequence)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError) as error:
        _remove(target)  # RuntimeError: encrypted entries, an unknown compression method (NotImplementedError)
        raise GroundTruthError(f"Ground truth {shown} cannot be extracted ({_reason(error)}).") from None
    except OSError as error:  # a full disk: say so without the server's path
        _remove(target)
        reason = error.strerror or "an I/O error"
        raise GroundTruthError(f"Ground truth {shown} cannot be extracted here ({reason}).") from None
    except GroundTruthError:  # nothing half-extracted is left behind
        _remove(target)
        raise


def _checked_masks(archive: zipfile.ZipFile, shown: str, limits: UploadLimits) -> list[_Mask]:
    """The archive's mask PNGs, once its directory and each mask's first bytes fit `limits`."""
    entries = archive.infolist()
    if len(entries) > limits.entries:
        raise GroundTruthError(
            f"Ground truth {shown} holds {len(entries)} entries, more than the {limits.entries} the masks of "
            f"{_clip_words(limits)} can need; zip the masks of this clip only."
        )
    files = [_Mask(member, _safe_parts(shown, member)) for member in entries if not member.is_dir()]
    masks = [mask for mask in files if _is_mask_png(mask.parts)]
    if not masks:
        raise GroundTruthError(f"Ground truth {shown} holds no .png masks.")
    if len(masks) > limits.masks:
        most = f"the clip has only {limits.masks} frames" if limits.size else f"at most {limits.masks} are read"
        raise GroundTruthError(
            f"Ground truth {shown} holds {len(masks)} mask PNGs but {most}; zip the masks of this clip only."
        )
    for mask in masks:
        if mask.member.file_size > limits.entry_bytes:
            raise GroundTruthError(_too_big_entry(shown, mask, limits))
    if sum(mask.member.file_size for mask in masks) > limits.total_bytes:
        raise GroundTruthError(_too_big(shown, limits))
    for mask in masks:
        _check_png_header(archive, mask, shown, limits)
    return masks


def _check_png_header(archive: zipfile.ZipFile, mask: _Mask, shown: str, limits: UploadLimits) -> None:
    """The PNG signature and the size in its IHDR chunk, read from the entry's first bytes (nothing extracted)."""
    with archive.open(mask.member) as reader:
        head = reader.read(PNG_HEADER_BYTES)
    name = mask.parts[-1]
    if len(head) < PNG_HEADER_BYTES or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        raise GroundTruthError(f"Ground truth {shown} holds {name}, which is not a PNG image; masks must be PNGs.")
    width, height = struct.unpack(">II", head[16:24])
    if limits.size is not None and (width, height) != limits.size:
        raise GroundTruthError(
            f"Ground truth {shown} holds {name} at {width}x{height} but the clip is {limits.size[0]}x{limits.size[1]}; "
            "give masks at the clip's own size."
        )
    if width * height > limits.max_pixels:
        raise GroundTruthError(
            f"Ground truth {shown} holds {name} at {width}x{height}, larger than a mask this app reads "
            f"({limits.max_pixels} pixels at most)."
        )


def _extract(archive: zipfile.ZipFile, masks: list[_Mask], target: Path, shown: str, limits: UploadLimits) -> set[Path]:
    """Write the masks under `target`, counting what really comes out; returns the folders that received them."""
    written = 0
    folders: set[Path] = set()
    for mask in masks:
        destination = target.joinpath(*mask.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        entry_written = 0
        with archive.open(mask.member) as reader, open(destination, "wb") as writer:
            while chunk := reader.read(min(READ_CHUNK, limits.entry_bytes + 1 - entry_written)):
                entry_written += len(chunk)
                written += len(chunk)
                if entry_written > limits.entry_bytes:
                    raise GroundTruthError(_too_big_entry(shown, mask, limits))
                if written > limits.total_bytes:
                    raise GroundTruthError(_too_big(shown, limits))
                writer.write(chunk)
        folders.add(destination.parent)
    return folders


def zip_entry_parts(member: zipfile.ZipInfo) -> tuple[str, ...] | None:
    """The path parts of a zip entry (no empty or "." parts), or None when extracting it would be unsafe: an
    absolute path, a drive letter, '..' or a symbolic link."""
    name = member.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]) or stat.S_ISLNK(member.external_attr >> 16):
        return None
    return tuple(part for part in parts if part not in ("", "."))


def _safe_parts(shown: str, member: zipfile.ZipInfo) -> tuple[str, ...]:
    parts = zip_entry_parts(member)
    if parts is None:
        raise GroundTruthError(
            f"Ground truth {shown} holds an unsafe entry {member.filename!r} (an absolute path, '..' or a "
            "link); zip the mask files with plain relative paths."
        )
    return parts


def _is_mask_png(parts: tuple[str, ...]) -> bool:
    """PNG files, leaving out macOS resource forks (__MACOSX/, ._name) and other hidden files."""
    if not parts or not parts[-1].lower().endswith(".png"):
        return False
    return not any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _mask_folder(shown: str, target: Path, folders: set[Path]) -> Path:
    """The one folder of masks; with several, the one inside a DAVIS Annotations folder."""
    if len(folders) > 1:
        annotations = {folder for folder in folders if "Annotations" in folder.relative_to(target).parts}
        folders = annotations or folders
    if len(folders) > 1:
        listed = ", ".join(sorted(folder.name for folder in folders)[:5])
        raise GroundTruthError(
            f"Ground truth {shown} holds masks in {len(folders)} folders ({listed}); zip the masks of this clip only."
        )
    return next(iter(folders))


def _remove(target: Path | None) -> None:
    if target is not None:
        shutil.rmtree(target, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# Messages


class _PathHider:
    """Rewrites the evaluation package's messages, which name files by their server path, to name the upload;
    wraps a sequence so that a mask failing to read later (while scoring) is named the same way."""

    def __init__(self, shown: str, roots: tuple[Path, ...]) -> None:
        self.shown = shown
        self.roots = roots

    def message(self, error: BaseException) -> str:
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        for root in self.roots:
            text = text.replace(f"{root}{os.sep}", "").replace(str(root), self.shown)
        text = text.rstrip(".")
        if text.startswith(self.shown):
            return f"Ground truth {text}."
        return f"Ground truth {self.shown}: {text}."

    def sequence(self, sequence: MaskSequence) -> MaskSequence:
        return MaskSequence(
            sequence.name,
            sequence.frames,
            sequence.height,
            sequence.width,
            _HiddenPathReader(sequence, self),
            source=self.shown,
        )


class _HiddenPathReader:
    def __init__(self, sequence: MaskSequence, paths: _PathHider) -> None:
        self.reader = sequence.reader
        self.paths = paths

    def __call__(self, frame: int) -> np.ndarray:
        try:
            return self.reader(frame)
        except DatasetError as error:
            raise DatasetError(self.paths.message(error)) from None


def _too_big_entry(shown: str, mask: _Mask, limits: UploadLimits) -> str:
    return (
        f"Ground truth {shown} holds {mask.parts[-1]}, which unpacks to more than the "
        f"{megabytes(limits.entry_bytes)} a mask of {_clip_words(limits)} can take; give the masks of this clip only."
    )


def _too_big(shown: str, limits: UploadLimits) -> str:
    return (
        f"Ground truth {shown} unpacks to more than the {megabytes(limits.total_bytes)} the masks of "
        f"{_clip_words(limits)} can take; give the masks of this clip only."
    )


def _clip_words(limits: UploadLimits) -> str:
    if limits.size is None:
        return "one clip"
    return f"this {limits.size[0]}x{limits.size[1]} clip of {limits.masks} frames"


def megabytes(size: int) -> str:
    """A byte count as people read a file size limit: "1.5 MB" below 10 MB, whole MB above."""
    return f"{size / (1 << 20):.1f} MB" if size < (10 << 20) else f"{size >> 20} MB"


def _reason(error: BaseException) -> str:
    return one_line(error, 200)


# ---------------------------------------------------------------------------------------------------------------
# Scoring only the prompted objects


@dataclass(frozen=True)
class PromptedScore:
    """A model's accuracy on the objects the user prompted, and which ids were left out of it."""

    accuracy: AccuracyResult
    not_prompted: tuple[int, ...]  # ground-truth ids on the scored frames that no prompt names
    without_truth: tuple[int, ...]  # prompted ids with no ground-truth mask on the scored frames

    def notices(self) -> list[str]:
        notices = []
        if self.not_prompted:
            ids = _id_list(self.not_prompted)
            notices.append(
                f"Ground truth object {ids} was not prompted: it is not scored."
                if len(self.not_prompted) == 1
                else f"Ground truth objects {ids} were not prompted: they are not scored."
            )
        if self.without_truth:
            ids = _id_list(self.without_truth)
            notices.append(
                f"Object {ids} has no ground-truth mask: it is not scored."
                if len(self.without_truth) == 1
                else f"Objects {ids} have no ground-truth mask: they are not scored."
            )
        return notices


def score_prompted(pred: MaskSequence, truth: MaskSequence, object_ids: Iterable[int], name: str = "") -> PromptedScore:
    """J/F of `pred` against `truth` on their common frames (the prediction resized to the truth's size), scoring
    only `object_ids`: other ids become background in both (ground-truth players nobody clicked, auto-labeler
    tracks of unclicked players), so they neither count as missed nor as found."""
    keep = frozenset(int(obj) for obj in object_ids)
    seen = _SeenIds()
    accuracy = score_sequence(
        _only_objects(pred, keep),
        _only_objects(truth, keep, seen),
        name=name or pred.name,
        resize="nearest",
        common_frames_only=True,
    )
    return PromptedScore(
        accuracy=accuracy,
        not_prompted=tuple(sorted(seen.ids - keep)),
        without_truth=tuple(sorted(keep - seen.ids)),
    )


class _SeenIds:
    """Object ids met on the label maps read (void and background left out)."""

    def __init__(self) -> None:
        self.ids: set[int] = set()

    def add(self, labels: np.ndarray) -> None:
        counts = np.bincount(np.asarray(labels, dtype=np.uint8).ravel(), minlength=256)
        self.ids.update(int(value) for value in np.flatnonzero(counts) if value not in (0, VOID))


def _only_objects(sequence: MaskSequence, keep: frozenset[int], seen: _SeenIds | None = None) -> MaskSequence:
    lookup = np.zeros(256, dtype=np.uint8)
    for obj in keep:
        lookup[obj] = obj
    lookup[VOID] = VOID

    def read(frame: int) -> np.ndarray:
        labels = np.asarray(sequence.read(frame), dtype=np.uint8)
        if seen is not None:
            seen.add(labels)
        return lookup[labels]

    return MaskSequence(sequence.name, sequence.frames, sequence.height, sequence.width, read, sequence.source)


def _id_list(ids: tuple[int, ...]) -> str:
    return ", ".join(str(obj) for obj in ids)
