"""A clip's frames, for optical flow: `FrameFolder` opens one JPEG/PNG per `read`, `VideoFrames` decodes a video
file in order through evaluation's PyAV reader (`evaluation.video_reader`), and `open_frames` picks one."""

from __future__ import annotations

import importlib
from collections import OrderedDict
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image

from evaluation.datasets import (
    FRAME_SUFFIXES,
    IMAGE_ERRORS,
    DatasetError,
    has_files,
    image_header,
    numbered_files,
    reason,
)


class FrameFolder:
    """JPEG/PNG frames named by frame number; `read(frame)` opens one file and returns RGB uint8 HxWx3."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise DatasetError(f"{self.path} is not a folder of frames.")
        self._files = numbered_files(self.path, FRAME_SUFFIXES)
        if not self._files:
            raise DatasetError(f"{self.path} holds no .jpg or .png frames.")
        self.width, self.height, _ = image_header(next(iter(self._files.values())))

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
        except IMAGE_ERRORS as error:
            raise DatasetError(f"{file} cannot be read as an image ({reason(error)}).") from None

    def close(self) -> None:
        """Nothing stays open between reads; here so both frame sources close alike."""

    def __enter__(self) -> FrameFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FrameFolder({str(self.path)!r}, frames={len(self)}, {self.width}x{self.height})"


def _video_reader() -> ModuleType:
    """evaluation.video_reader, imported when a video is opened: the rest of the package works without PyAV."""
    try:
        return importlib.import_module("evaluation.video_reader")
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] != "av":
            raise
        raise DatasetError("Reading video files needs PyAV: pip install av.") from None


class VideoFrames:
    """A video's frames by decode index (0, 1, 2...), decoded sequentially, turned by the display rotation (a phone
    clip's rotation metadata), as playerseg shows and segments them, so frames and predicted masks have one orientation.

        Reading frames in increasing order costs one decode per frame; the last `cache_size` frames are kept, and an
        earlier frame than those reopens the file and decodes from the start (metrics read in order, so this is rare).
    """

    def __init__(self, path: str | Path, cache_size: int = 4) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DatasetError(f"{self.path} is not a video file.")
        self._reader = _video_reader()
        self._cache_size = max(1, cache_size)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._decoder = self._reader.FrameDecoder(self.path)  # no packet index: frames counted from the start
        self._open()
        stream = self._decoder.stream
        self._frame_count: int | None = int(stream.frames) if stream.frames else None
        self._rotation = self._first_frame_rotation()
        width, height = int(stream.codec_context.width), int(stream.codec_context.height)
        self.width, self.height = (height, width) if self._rotation in (90, 270) else (width, height)

    def _first_frame_rotation(self) -> int:
        """The clip's display rotation, read from its first frame (kept in the cache); 0 when that frame cannot be
        decoded, in which case read() reports the problem as before."""
        try:
            for index, decoded in self._decoder.decode_until(0):
                rotation = self._reader.display_rotation(decoded, self._decoder.stream)
                self._remember(index, self._reader.frame_to_rgb(decoded, rotation))
                return rotation
        except self._reader.VideoReadError:
            self._cache.clear()
        self._open()
        return 0

    def _open(self) -> None:
        """(Re)open the file and start decoding from its first frame."""
        try:
            self._decoder.restart()
        except self._reader.VideoReadError as error:
            raise DatasetError(str(error)) from None  # the reader words its sentences as evaluation does

    @property
    def frame_count(self) -> int:
        """Frames in the video: the container's count, else counted by reading packets (no decoding)."""
        if self._frame_count is None:
            try:
                self._frame_count = self._reader.count_packets(self.path)
            except self._reader.VideoReadError as error:
                cause = error.cause or error
                raise DatasetError(f"{self.path} cannot be read as a video ({reason(cause)}).") from None
        return self._frame_count

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
        if frame < self._decoder.next_index or not self._decoder.is_open:
            self._open()  # an earlier frame than the cache holds: decode again from the start
        try:
            for index, decoded in self._decoder.decode_until(frame):
                if frame - index < self._cache_size:  # frames skipped over are not converted to RGB
                    self._remember(index, self._reader.frame_to_rgb(decoded, self._rotation))
        except self._reader.VideoReadError as error:
            if error.stage == "ended":
                self._frame_count = error.decoded  # the true count, whatever the container declared
            raise DatasetError(str(error)) from None
        return self._cache[frame].copy()

    def _remember(self, frame: int, rgb: np.ndarray) -> None:
        self._cache[frame] = rgb
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def close(self) -> None:
        self._decoder.close()

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
        if not has_files(source, FRAME_SUFFIXES) and has_files(source / "JPEGImages", FRAME_SUFFIXES):
            return FrameFolder(source / "JPEGImages")
        return FrameFolder(source)
    if source.is_file():
        return VideoFrames(source)
    raise DatasetError(f"{source} does not exist (expected a video file or a folder of frames).")
