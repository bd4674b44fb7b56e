"""Video in and out: probe a clip, stream its frames, random-access them lazily, write browser-playable H.264.

A clip is a video file (anything FFmpeg reads), a folder of frames (*.jpg, *.jpeg, *.png sorted by name) or a
DAVIS single-sequence folder (ROOT/JPEGImages/*.jpg). Frames come out as RGB uint8 in display orientation
(rotation metadata applied), optionally downscaled so the longer side is at most `max_side`. Video files are read
through evaluation's PyAV layer (video_file.py), frame folders by frame_folder.py; the types all share are in
video_info.py.

    info = probe_video("clip.mp4")
    for frame in iter_frames("clip.mp4", stride=2, max_side=640):
        ...
    with FrameStore("clip.mp4", max_side=640) as frames, VideoWriter("out.mp4", fps=frames.fps) as writer:
        for i in range(len(frames)):
            writer.write(frames[i])
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Protocol

import av
import av.error
import cv2
import numpy as np

from playerseg.io.frame_folder import FolderSource
from playerseg.io.video_file import VideoFileSource
from playerseg.io.video_info import Frame, RgbLoader, VideoError, VideoInfo, error_reason

__all__ = [
    "DEFAULT_FOLDER_FPS",
    "Frame",
    "FrameStore",
    "VideoError",
    "VideoInfo",
    "VideoWriter",
    "iter_frames",
    "probe_video",
]

DEFAULT_FOLDER_FPS = 24.0  # frame folders carry no timing; DAVIS sequences are conventionally shown at 24 fps


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
            raise VideoError(f"cannot write a video to {self.path}: {error_reason(error)}.") from error

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
            message = f"encoding frame {self.frames_written} of {self.path} failed: {error_reason(error)}."
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
            raise VideoError(f"finishing {self.path} failed: {error_reason(error)}.") from error
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
# sources: a video file (video_file.py) or a frame folder (frame_folder.py) behind one small interface


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
        return FolderSource(clip, folder_fps)
    return VideoFileSource(clip)


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
