"""Video in and out: probe a clip, stream its frames, random-access them lazily, write browser-playable H.264.

A clip is a video file (anything FFmpeg reads), a folder of frames (*.jpg, *.jpeg, *.png sorted by name) or a
DAVIS single-sequence folder (ROOT/JPEGImages/*.jpg). Frames come out as RGB uint8 in display orientation
(rotation metadata applied), optionally downscaled so the longer side is at most `max_side`.

    info = probe_video("clip.mp4")
    for frame in iter_frames("clip.mp4", stride=2, max_side=640):
        ...
    with FrameStore("clip.mp4", max_side=640) as frames, VideoWriter("out.mp4", fps=frames.fps) as writer:
        for i in range(len(frames)):
            writer.write(frames[i])
"""

from __future__ import annotations

import bisect
import functools
import operator
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Protocol

import av
import av.error
import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from playerseg.errors import PlayerSegError

DEFAULT_FOLDER_FPS = 24.0  # frame folders carry no timing; DAVIS sequences are conventionally shown at 24 fps
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
VFR_TOLERANCE = 0.05  # relative deviation of a frame interval from the median that marks a variable rate

RgbLoader = Callable[[], np.ndarray]


class VideoError(PlayerSegError, ValueError):
    """A clip cannot be read or written as asked; the message is one sentence for the user."""


@dataclass(frozen=True)
class VideoInfo:
    """What a clip is. width/height are the display size (after rotation)."""

    path: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str  # FFmpeg codec name ("h264", ...), or "jpeg" / "png" for frame folders
    rotation: int = 0  # counter-clockwise degrees (0/90/180/270) applied to decoded pictures, as np.rot90 turns
    has_audio: bool = False
    variable_frame_rate: bool = False


@dataclass(frozen=True)
class Frame:
    """One delivered frame."""

    index: int  # source frame index (0 = first frame of the clip)
    time_s: float  # presentation time from the clip's first frame
    rgb: np.ndarray  # HxWx3 uint8


# ---------------------------------------------------------------------------------------------------------------
# public reading API


def probe_video(path: str | Path, folder_fps: float = DEFAULT_FOLDER_FPS) -> VideoInfo:
    """Describe a video file or frame folder without decoding more than its first frame."""
    return _open_source(path, folder_fps).info


def iter_frames(
    path: str | Path,
    start: int = 0,
    stop: int | None = None,
    stride: int = 1,
    max_side: int | None = None,
    folder_fps: float = DEFAULT_FOLDER_FPS,
) -> Iterator[Frame]:
    """Stream source frames start, start + stride, ... (< stop), one decoded frame in memory at a time.

    Arguments are checked now; the clip is decoded only while the iterator is consumed.
    """
    source = _open_source(path, folder_fps)
    selection = _select(source.info, start, stop, stride)
    size = _delivered_size(source.info.width, source.info.height, max_side)
    return _stream_selection(source, selection, size)


class FrameStore:
    """Lazy random access to a selection of a clip's frames, holding at most `cache_size` decoded frames.

    Index i is the i-th selected frame (source frame `source_indices[i]`). Reading forward continues the open
    decoder; reading backward (or far ahead) seeks to the keyframe before the target and decodes forward, keeping
    the selected frames decoded on the way, so a following backward step is usually a cache hit.
    """

    def __init__(
        self,
        path: str | Path,
        start: int = 0,
        stop: int | None = None,
        stride: int = 1,
        max_side: int | None = None,
        cache_size: int = 16,
        folder_fps: float = DEFAULT_FOLDER_FPS,
    ) -> None:
        if cache_size < 1:
            raise VideoError(f"cache_size must be at least 1, got {cache_size}.")
        self._source = _open_source(path, folder_fps)
        self.info: VideoInfo = self._source.info
        selection = _select(self.info, start, stop, stride)
        self.source_indices: list[int] = list(selection)
        self.times_s: list[float] = [self._source.times_s[i] for i in selection]
        self.width, self.height = _delivered_size(self.info.width, self.info.height, max_side)
        self.fps: float = self.info.fps / stride
        self.cache_size = cache_size
        self._selected = {source_index: i for i, source_index in enumerate(self.source_indices)}
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self.source_indices)

    def __getitem__(self, index: int) -> np.ndarray:
        i = operator.index(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"frame {index} is outside the selection of {len(self)} frames")
        if i not in self._cache:
            self._decode_to(i)
        self._cache.move_to_end(i)
        return self._cache[i].copy()  # a copy: callers may draw on it without corrupting the cache

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self[i]

    @property
    def cached_indices(self) -> list[int]:
        """Selection indices currently decoded in memory, least recently used first."""
        return list(self._cache)

    def close(self) -> None:
        self._cache.clear()
        self._source.close()

    def __enter__(self) -> FrameStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _decode_to(self, target: int) -> None:
        size = (self.width, self.height)
        # of the selected frames decoded on the way only the last cache_size can survive in the LRU
        first_kept = target - self.cache_size + 1
        for source_index, load in self._source.decode_until(self.source_indices[target]):
            i = self._selected.get(source_index)
            if i is None or i < first_kept or i in self._cache:
                continue
            self._cache[i] = _resize(load(), size)
            self._cache.move_to_end(i)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)


# ---------------------------------------------------------------------------------------------------------------
# writing


class VideoWriter:
    """Browser-playable H.264 (libx264, yuv420p, +faststart) from RGB uint8 frames of one size.

    Odd widths/heights are padded to even by replicating the last column/row (yuv420p needs even sizes).
    Closing flushes the encoder; a writer closed with no frames removes its empty file.
    `threads`: libx264's encoder threads; None lets it pick from the CPU count. x264's output depends on its thread
    count, so files that must be the same bytes on every machine (synthetic datasets) fix it.
    `preset`: x264's speed preset; "veryfast" encodes a 640x360 overlay about twice as fast as x264's "medium" at a
    similar size, which matters because overlays are written for every run.
    """

    def __init__(
        self, path: str | Path, fps: float, crf: int = 20, threads: int | None = None, preset: str = "veryfast"
    ) -> None:
        self.path = Path(path)
        if not fps > 0:
            raise VideoError(f"fps for {self.path} must be positive, got {fps}.")
        if not 0 <= crf <= 51:
            raise VideoError(f"crf for {self.path} must be between 0 and 51, got {crf}.")
        if threads is not None and threads < 1:
            raise VideoError(f"threads for {self.path} must be at least 1, got {threads}.")
        if not self.path.parent.is_dir():
            raise VideoError(f"cannot write {self.path}: folder {self.path.parent} does not exist.")
        self.fps = fps
        self.crf = crf
        self.threads = threads
        self.preset = preset
        self.frames_written = 0
        # libx264 wants a rational rate; 1001 covers the NTSC rates (29.97 = 30000/1001)
        self._rate = Fraction(fps).limit_denominator(1001)
        self._size: tuple[int, int] | None = None  # (width, height) of the frames given
        self._stream: av.video.stream.VideoStream | None = None
        self._closed = False
        # +faststart moves the index (moov) before the data so browsers start playing before the download ends
        is_mp4 = self.path.suffix.lower() in (".mp4", ".mov", ".m4v")
        container_options = {"movflags": "+faststart"} if is_mp4 else {}
        try:
            self._container = av.open(str(self.path), mode="w", container_options=container_options)
        except (av.error.FFmpegError, ValueError, OSError) as error:
            raise VideoError(f"cannot write a video to {self.path}: {_reason(error)}.") from error

    def write(self, rgb: np.ndarray) -> None:
        """Encode one HxWx3 uint8 RGB frame."""
        if self._closed:
            raise VideoError(f"cannot write to {self.path}: the writer is closed.")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise VideoError(
                f"frames written to {self.path} must be HxWx3 uint8 RGB, got shape {rgb.shape} {rgb.dtype}."
            )
        height, width = rgb.shape[:2]
        if self._size is None:
            self._start_stream(width, height)
        elif self._size != (width, height):
            raise VideoError(
                f"frame {self.frames_written} written to {self.path} is {width}x{height} but the first frame was "
                f"{self._size[0]}x{self._size[1]}."
            )
        assert self._stream is not None
        frame = av.VideoFrame.from_ndarray(_pad_to_even(rgb), format="rgb24")
        frame.pts = self.frames_written
        frame.time_base = 1 / self._rate  # one tick per frame
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except av.error.FFmpegError as error:
            message = f"encoding frame {self.frames_written} of {self.path} failed: {_reason(error)}."
            raise VideoError(message) from error
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and finish the file (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._stream is None:
            self._container.close()
            self.path.unlink(missing_ok=True)  # no stream: the file would not be a playable video
            return
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        except av.error.FFmpegError as error:
            raise VideoError(f"finishing {self.path} failed: {_reason(error)}.") from error
        finally:
            self._container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _start_stream(self, width: int, height: int) -> None:
        options = {"crf": str(self.crf), "preset": self.preset}
        if self.threads is not None:
            options["threads"] = str(self.threads)
        stream = self._container.add_stream("libx264", rate=self._rate, options=options)
        stream.width = width + width % 2
        stream.height = height + height % 2
        stream.pix_fmt = "yuv420p"
        self._stream = stream
        self._size = (width, height)


def _pad_to_even(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return rgb
    return np.pad(rgb, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


# ---------------------------------------------------------------------------------------------------------------
# sources: a video file or a frame folder behind one small interface


class _Source(Protocol):
    info: VideoInfo
    times_s: list[float]  # per source frame

    def decode_until(self, target: int) -> Iterator[tuple[int, RgbLoader]]:
        """Yield (source index, loader of the display-oriented RGB frame) up to and including `target`.

        May start before `target` (frames decoded on the way); the loader converts only when called.
        """
        ...

    def close(self) -> None: ...


def _open_source(path: str | Path, folder_fps: float) -> _Source:
    clip = Path(path)
    if not clip.exists():
        raise VideoError(f"{clip} does not exist.")
    if clip.is_dir():
        return _FolderSource(clip, folder_fps)
    return _VideoFileSource(clip)


def _select(info: VideoInfo, start: int, stop: int | None, stride: int) -> range:
    """The selected source indices; a stop past the end is clipped to the end."""
    if start < 0:
        raise VideoError(f"start frame must be 0 or more, got {start}.")
    if stride < 1:
        raise VideoError(f"stride must be at least 1, got {stride}.")
    if start >= info.frame_count:
        raise VideoError(f"start frame {start} is beyond the end of {info.path} ({info.frame_count} frames).")
    end = info.frame_count if stop is None else min(stop, info.frame_count)
    if end <= start:
        raise VideoError(f"stop frame {stop} must come after start frame {start} for {info.path}.")
    return range(start, end, stride)


def _delivered_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(width, height) with the longer side at most max_side, aspect kept; never upscaled."""
    if max_side is None or max(width, height) <= max_side:
        return width, height
    if max_side < 1:
        raise VideoError(f"max_side must be at least 1, got {max_side}.")
    scale = max_side / max(width, height)
    return max(1, int(width * scale + 0.5)), max(1, int(height * scale + 0.5))


def _resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (rgb.shape[1], rgb.shape[0]) == size:
        return np.ascontiguousarray(rgb)
    return cv2.resize(np.ascontiguousarray(rgb), size, interpolation=cv2.INTER_AREA)


def _stream_selection(source: _Source, selection: range, size: tuple[int, int]) -> Iterator[Frame]:
    try:
        for target in selection:
            loader: RgbLoader | None = None
            for source_index, load in source.decode_until(target):
                if source_index == target:
                    loader = load
            assert loader is not None  # decode_until always ends at the target or raises
            yield Frame(index=target, time_s=source.times_s[target], rgb=_resize(loader(), size))
    finally:
        source.close()


def _reason(error: BaseException) -> str:
    """The human part of an FFmpeg/OS error, without a trailing period (messages add their own)."""
    text = getattr(error, "strerror", None) or str(error)
    return str(text).rstrip(".")


# --- frame folders ---------------------------------------------------------------------------------------------


def _natural_key(path: Path) -> list[int | str]:
    # frame_2 before frame_10; zero-padded names (00000.jpg) sort the same either way
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _frame_folder(root: Path) -> Path:
    """The folder holding the frames: root itself, or root/JPEGImages (DAVIS), or its single sequence."""
    davis = root / "JPEGImages"
    if not davis.is_dir():
        return root
    if _image_files(davis):
        return davis
    sequences = sorted(child for child in davis.iterdir() if child.is_dir())
    if len(sequences) == 1:
        return sequences[0]
    if len(sequences) > 1:
        names = ", ".join(child.name for child in sequences[:5])
        raise VideoError(f"{davis} holds {len(sequences)} sequences ({names}); pass one sequence folder.")
    return davis


def _image_files(folder: Path) -> list[Path]:
    files = [f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=_natural_key)


def _image_size(file: Path) -> tuple[int, int]:
    try:
        with Image.open(file) as image:
            return image.size
    except (UnidentifiedImageError, OSError) as error:
        raise VideoError(f"frame {file} is not a readable image: {_reason(error)}.") from error


def _read_image(file: Path, size: tuple[int, int]) -> np.ndarray:
    try:
        with Image.open(file) as image:
            rgb = np.array(image.convert("RGB"))  # np.array: a writable copy, not a view of PIL's buffer
    except (UnidentifiedImageError, OSError) as error:
        raise VideoError(f"frame {file} is not a readable image: {_reason(error)}.") from error
    if (rgb.shape[1], rgb.shape[0]) != size:
        raise VideoError(
            f"frame {file} is {rgb.shape[1]}x{rgb.shape[0]} but the folder's frames are {size[0]}x{size[1]}."
        )
    return rgb


class _FolderSource:
    """Frames as image files; each is read only when asked for."""

    def __init__(self, root: Path, fps: float) -> None:
        if not fps > 0:
            raise VideoError(f"folder_fps must be positive, got {fps}.")
        folder = _frame_folder(root)
        self.files = _image_files(folder)
        if not self.files:
            raise VideoError(f"folder {folder} has no .jpg, .jpeg or .png frames.")
        width, height = _image_size(self.files[0])
        for file in self.files[1:]:
            other = _image_size(file)  # header only: cheap, and a bad frame is named now, not mid-run
            if other != (width, height):
                raise VideoError(
                    f"frame {file} is {other[0]}x{other[1]} but {self.files[0].name} is {width}x{height}; "
                    "all frames of a folder must have one size."
                )
        count = len(self.files)
        codec = "png" if self.files[0].suffix.lower() == ".png" else "jpeg"
        self.info = VideoInfo(
            path=str(root), width=width, height=height, fps=float(fps), frame_count=count,
            duration_s=count / fps, codec=codec,
        )
        self.times_s = [i / fps for i in range(count)]

    def decode_until(self, target: int) -> Iterator[tuple[int, RgbLoader]]:
        yield target, functools.partial(_read_image, self.files[target], (self.info.width, self.info.height))

    def close(self) -> None:
        pass


# --- video files -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PacketIndex:
    """Per source frame (presentation order): pts, and which frames are keyframes; from one demux pass."""

    pts: list[int]
    keyframes: list[int]  # source indices, ascending
    seekable: bool  # every packet had a unique pts, so decoded frames can be matched to indices after a seek


def _open_container(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise VideoError(f"{path} is not a readable video file ({_reason(error)}).") from error
    except OSError as error:
        raise VideoError(f"{path} cannot be opened: {_reason(error)}.") from error


def _video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    if not container.streams.video:
        raise VideoError(f"{path} has no video stream.")
    return container.streams.video[0]


def _display_rotation(degrees: float) -> int:
    """Counter-clockwise degrees snapped to 0/90/180/270."""
    return int(round(degrees / 90.0)) % 4 * 90


def _frame_to_rgb(frame: av.VideoFrame, rotation: int) -> np.ndarray:
    rgb = frame.to_ndarray(format="rgb24")  # any pix_fmt (gray, yuv, 10-bit) -> RGB uint8
    if rotation:
        rgb = np.rot90(rgb, k=rotation // 90)  # np.rot90 turns counter-clockwise, like the display matrix
    return np.ascontiguousarray(rgb)


def _is_variable_rate(pts: list[int]) -> bool:
    if len(pts) < 3:
        return False
    deltas = np.diff(np.asarray(pts, dtype=np.int64))
    median = float(np.median(deltas))
    # fine time bases round fractional rates (29.97 fps at 1/1000 -> 33, 34 ms): allow one tick there
    tolerance = max(VFR_TOLERANCE * median, 1.0 if median >= 10 else 0.0)
    return bool(np.any(np.abs(deltas - median) > tolerance))


class _VideoFileSource:
    """A video file: indexed by one demux pass at open; decoded by a second container opened on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        container = _open_container(path)
        try:
            stream = _video_stream(container, path)
            self.info, self.index, self.times_s = _scan(container, stream, path)
        finally:
            container.close()
        self._pts_to_index = {p: i for i, p in enumerate(self.index.pts)} if self.index.seekable else {}
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.VideoFrame] | None = None
        self._next = 0  # source index the next decoded frame is expected to have
        self._pending: tuple[int, av.VideoFrame] | None = None  # a frame read ahead while checking a seek

    def decode_until(self, target: int) -> Iterator[tuple[int, RgbLoader]]:
        if self._frames is None or target < self._next or self._should_skip_ahead(target):
            self._position_before(target)
        while self._next <= target:
            decoded = self._next_frame()
            if decoded is None:
                raise VideoError(f"{self.path} ended before frame {target} could be decoded.")
            index, frame = decoded
            yield index, functools.partial(_frame_to_rgb, frame, self.info.rotation)

    def close(self) -> None:
        self._frames = None
        self._pending = None
        if self._container is not None:
            self._container.close()
            self._container = None

    def _should_skip_ahead(self, target: int) -> bool:
        """Whether a keyframe lies between the decoder's position and the target (seeking saves decoding)."""
        return self.index.seekable and self._keyframe_at_or_before(target) > self._next

    def _keyframe_at_or_before(self, target: int) -> int:
        position = bisect.bisect_right(self.index.keyframes, target)
        return self.index.keyframes[position - 1] if position else 0

    def _position_before(self, target: int) -> None:
        """Seek so that the next decoded frame is at or before `target`, else restart from the first frame."""
        if self.index.seekable:
            position = bisect.bisect_right(self.index.keyframes, target)
            # the container's seek may land after the keyframe asked for; try one earlier keyframe, then restart
            for keyframe in reversed(self.index.keyframes[max(0, position - 2) : position]):
                if keyframe == 0:
                    break
                self._seek(keyframe)
                decoded = self._next_frame()
                if decoded is not None and decoded[0] <= target:
                    self._pending = decoded
                    self._next = decoded[0]
                    return
        self._restart()

    def _restart(self) -> None:
        self.close()
        self._container = _open_container(self.path)
        stream = _video_stream(self._container, self.path)
        stream.thread_type = "AUTO"
        self._frames = self._container.decode(stream)
        self._next = 0

    def _seek(self, keyframe: int) -> None:
        if self._container is None:
            self._restart()
        assert self._container is not None
        stream = self._container.streams.video[0]
        try:
            self._container.seek(self.index.pts[keyframe], stream=stream, backward=True)
        except av.error.FFmpegError as error:
            raise VideoError(f"seeking to frame {keyframe} of {self.path} failed: {_reason(error)}.") from error
        self._frames = self._container.decode(stream)
        self._pending = None
        self._next = keyframe

    def _next_frame(self) -> tuple[int, av.VideoFrame] | None:
        """The next decoded frame with its source index, skipping frames that are not in the index."""
        if self._pending is not None:
            decoded, self._pending = self._pending, None
            self._next = decoded[0] + 1
            return decoded
        assert self._frames is not None
        while True:
            try:
                frame = next(self._frames, None)
            except av.error.FFmpegError as error:
                raise VideoError(f"decoding frame {self._next} of {self.path} failed: {_reason(error)}.") from error
            if frame is None:
                return None
            if self.index.seekable and frame.pts is not None:
                index = self._pts_to_index.get(frame.pts)
                if index is None:
                    continue  # e.g. a frame the container marks as discarded (edit list)
            else:
                index = self._next  # no usable timestamps: count frames from the start
            self._next = index + 1
            return index, frame


def _scan(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path
) -> tuple[VideoInfo, _PacketIndex, list[float]]:
    """Demux every video packet once (no decoding beyond the first frame, read for its rotation)."""
    packets: list[tuple[int | None, bool, int]] = []  # (pts, keyframe, duration)
    first_frame: av.VideoFrame | None = None
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue  # the flush packet PyAV yields at the end
            if first_frame is None:
                frames = packet.decode()
                first_frame = frames[0] if frames else None
            if packet.is_discard:
                continue  # dropped by the decoder (e.g. before an edit list's start)
            packets.append((packet.pts, packet.is_keyframe, packet.duration or 0))
        if first_frame is None:
            frames = stream.decode(None)  # frames held back by a decoder delay
            first_frame = frames[0] if frames else None
    except av.error.FFmpegError as error:
        raise VideoError(f"{path} is not a readable video file ({_reason(error)}).") from error
    if not packets or first_frame is None:
        raise VideoError(f"{path} has a video stream without any decodable frame.")

    seekable = all(p[0] is not None for p in packets) and len({p[0] for p in packets}) == len(packets)
    if seekable:
        packets.sort(key=lambda p: p[0])  # decode order -> presentation order
    time_base = stream.time_base or Fraction(1, 1)
    rotation = _rotation_of(first_frame, stream)
    width, height = first_frame.width, first_frame.height
    if rotation in (90, 270):
        width, height = height, width
    count = len(packets)

    if seekable:
        pts = [int(p[0]) for p in packets]  # type: ignore[arg-type]
        variable = _is_variable_rate(pts)
        fps = _average_rate(stream, pts, time_base)
        median_step = float(np.median(np.diff(pts))) if count > 1 else (1 / fps / time_base if fps else 0.0)
        last_duration = packets[-1][2] or median_step
        duration_s = float((pts[-1] - pts[0] + last_duration) * time_base)
        times_s = [float((p - pts[0]) * time_base) for p in pts]
    else:
        pts = list(range(count))
        variable = False
        fps = float(stream.average_rate or stream.guessed_rate or DEFAULT_FOLDER_FPS)
        duration_s = count / fps
        times_s = [i / fps for i in range(count)]
    keyframes = [i for i, p in enumerate(packets) if p[1]] or [0]

    info = VideoInfo(
        path=str(path),
        width=width,
        height=height,
        fps=fps,
        frame_count=count,
        duration_s=duration_s,
        codec=stream.codec_context.name,
        rotation=rotation,
        has_audio=bool(container.streams.audio),
        variable_frame_rate=variable,
    )
    return info, _PacketIndex(pts=pts, keyframes=keyframes, seekable=seekable), times_s


def _average_rate(stream: av.video.stream.VideoStream, pts: list[int], time_base: Fraction) -> float:
    if stream.average_rate:
        return float(stream.average_rate)
    if len(pts) > 1 and pts[-1] > pts[0]:
        return float((len(pts) - 1) / ((pts[-1] - pts[0]) * time_base))
    return float(stream.guessed_rate or DEFAULT_FOLDER_FPS)


def _rotation_of(frame: av.VideoFrame, stream: av.video.stream.VideoStream) -> int:
    """Display rotation from the frame's display matrix, else the legacy clockwise 'rotate' tag."""
    rotation = _display_rotation(frame.rotation)
    if rotation == 0 and "rotate" in stream.metadata:
        try:
            rotation = _display_rotation(-float(stream.metadata["rotate"]))
        except ValueError:
            pass
    return rotation
