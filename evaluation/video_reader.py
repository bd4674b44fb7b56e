"""The project's one PyAV reading layer: open a video file, index its packets, decode frames forward from a keyframe.

`index_video` demuxes the first video stream once (decoding only its first frame, for the rotation) into a
`VideoIndex`: display size, rate, duration, per-frame times, variable-rate detection and the `PacketIndex` (pts and
keyframes) that makes seeking exact. `FrameDecoder` decodes frames by index: with a packet index it seeks to the
keyframe before a target; without one it counts frames from the start and goes back by reopening the file.
`frame_to_rgb` turns a decoded frame into RGB uint8 in display orientation.

Both evaluation's frame source (`evaluation.datasets.frames.VideoFrames`) and playerseg's clip reader
(`playerseg.io.video_file`) build on it. Every failure raises `VideoReadError`, whose `stage` says what failed and
whose `cause` is the FFmpeg or OS error, so that each caller words its own sentence.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal, NamedTuple

import av
import av.error
import numpy as np

from evaluation.errors import EvaluationError

FALLBACK_FPS = 24.0  # a stream that states no rate and has no usable timestamps is taken to be 24 fps
VFR_TOLERANCE = 0.05  # relative deviation of a frame interval from the median that marks a variable rate

ReadStage = Literal["open", "no_stream", "demux", "empty", "seek", "decode", "ended"]
_SENTENCES = {
    "open": "{path} cannot be opened as a video ({cause}).",
    "no_stream": "{path} has no video stream.",
    "demux": "{path} cannot be read as a video ({cause}).",
    "empty": "{path} has a video stream without any decodable frame.",
    "seek": "seeking to frame {frame} of {path} failed ({cause}).",
    "decode": "{path}: frame {frame} cannot be decoded ({cause}).",
    "ended": "{path} has {decoded} frames; frame {frame} does not exist.",
}


class VideoReadError(EvaluationError, ValueError):
    """A video file that cannot be read as asked. `stage`: what failed; `cause`: the FFmpeg or OS error, if any;
    `frame`: the frame concerned (the one decoded, sought, or asked for past the end); `decoded`: frames decoded
    when the stream ended."""

    def __init__(
        self,
        stage: ReadStage,
        path: Path,
        cause: BaseException | None = None,
        frame: int | None = None,
        decoded: int | None = None,
    ) -> None:
        self.stage, self.path, self.cause, self.frame, self.decoded = stage, path, cause, frame, decoded
        cause_text = "" if cause is None else str(cause) or type(cause).__name__
        super().__init__(_SENTENCES[stage].format(path=path, cause=cause_text, frame=frame, decoded=decoded))


@dataclass(frozen=True)
class PacketIndex:
    """Per frame (presentation order): pts, and which frames are keyframes; from one demux pass."""

    pts: list[int]
    keyframes: list[int]  # frame indices, ascending
    seekable: bool  # every packet had a unique pts, so decoded frames can be matched to indices after a seek


@dataclass(frozen=True)
class VideoIndex:
    """What one demux pass tells about a file's first video stream. width/height are the display size."""

    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str  # FFmpeg codec name ("h264", ...)
    rotation: int  # counter-clockwise degrees (0/90/180/270) applied to decoded pictures, as np.rot90 turns
    has_audio: bool
    variable_frame_rate: bool
    times_s: list[float]  # per frame, from the first frame's presentation time
    packets: PacketIndex


class _Packet(NamedTuple):
    pts: int | None
    keyframe: bool
    duration: int


@dataclass(frozen=True)
class _Timing:
    pts: list[int]
    fps: float
    duration_s: float
    times_s: list[float]
    variable: bool


# ---------------------------------------------------------------------------------------------------------------
# opening and indexing


def open_container(path: Path) -> av.container.InputContainer:
    """The file opened for reading."""
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as error:
        raise VideoReadError("open", path, cause=error) from error


def video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    """The container's first video stream."""
    if not container.streams.video:
        raise VideoReadError("no_stream", path)
    return container.streams.video[0]


def index_video(path: Path) -> VideoIndex:
    """Index a video file with one demux pass (no decoding beyond the first frame)."""
    container = open_container(path)
    try:
        stream = video_stream(container, path)
        return _index(container, stream, path)
    finally:
        container.close()


def count_packets(path: Path) -> int:
    """Packets holding data in the first video stream: the frame count of a file whose container does not state it."""
    container = open_container(path)
    with container:
        stream = video_stream(container, path)
        try:
            return sum(1 for packet in container.demux(stream) if packet.size)
        except av.error.FFmpegError as error:
            raise VideoReadError("demux", path, cause=error) from error


def _index(container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path) -> VideoIndex:
    packets, first_frame = _demux(container, stream, path)
    seekable = all(p.pts is not None for p in packets) and len({p.pts for p in packets}) == len(packets)
    if seekable:
        packets.sort(key=lambda p: p.pts)  # decode order -> presentation order
    rotation = display_rotation(first_frame, stream)
    width, height = first_frame.width, first_frame.height
    if rotation in (90, 270):
        width, height = height, width
    timing = _timing(stream, packets, seekable)
    keyframes = [i for i, p in enumerate(packets) if p.keyframe] or [0]
    return VideoIndex(
        width=width,
        height=height,
        fps=timing.fps,
        frame_count=len(packets),
        duration_s=timing.duration_s,
        codec=stream.codec_context.name,
        rotation=rotation,
        has_audio=bool(container.streams.audio),
        variable_frame_rate=timing.variable,
        times_s=timing.times_s,
        packets=PacketIndex(pts=timing.pts, keyframes=keyframes, seekable=seekable),
    )


def _demux(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path
) -> tuple[list[_Packet], av.VideoFrame]:
    """Every video packet the decoder keeps, in decode order, and the first decoded frame."""
    packets: list[_Packet] = []
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
            packets.append(_Packet(packet.pts, packet.is_keyframe, packet.duration or 0))
        if first_frame is None:
            frames = stream.decode(None)  # frames held back by a decoder delay
            first_frame = frames[0] if frames else None
    except av.error.FFmpegError as error:
        raise VideoReadError("demux", path, cause=error) from error
    if not packets or first_frame is None:
        raise VideoReadError("empty", path)
    return packets, first_frame


def _timing(stream: av.video.stream.VideoStream, packets: list[_Packet], seekable: bool) -> _Timing:
    """Rate, duration and per-frame times: from the pts when they are usable, else from the stated rate."""
    count = len(packets)
    if not seekable:
        fps = float(stream.average_rate or stream.guessed_rate or FALLBACK_FPS)
        return _Timing(list(range(count)), fps, count / fps, [i / fps for i in range(count)], variable=False)
    time_base = stream.time_base or Fraction(1, 1)
    pts = [int(p.pts) for p in packets]  # type: ignore[arg-type]
    fps = _average_rate(stream, pts, time_base)
    median_step = float(np.median(np.diff(pts))) if count > 1 else (1 / fps / time_base if fps else 0.0)
    last_duration = packets[-1].duration or median_step
    duration_s = float((pts[-1] - pts[0] + last_duration) * time_base)
    times_s = [float((p - pts[0]) * time_base) for p in pts]
    return _Timing(pts, fps, duration_s, times_s, variable=_is_variable_rate(pts))


def _is_variable_rate(pts: list[int]) -> bool:
    if len(pts) < 3:
        return False
    deltas = np.diff(np.asarray(pts, dtype=np.int64))
    median = float(np.median(deltas))
    # fine time bases round fractional rates (29.97 fps at 1/1000 -> 33, 34 ms): allow one tick there
    tolerance = max(VFR_TOLERANCE * median, 1.0 if median >= 10 else 0.0)
    return bool(np.any(np.abs(deltas - median) > tolerance))


def _average_rate(stream: av.video.stream.VideoStream, pts: list[int], time_base: Fraction) -> float:
    if stream.average_rate:
        return float(stream.average_rate)
    if len(pts) > 1 and pts[-1] > pts[0]:
        return float((len(pts) - 1) / ((pts[-1] - pts[0]) * time_base))
    return float(stream.guessed_rate or FALLBACK_FPS)


def _display_rotation(degrees: float) -> int:
    """Counter-clockwise degrees snapped to 0/90/180/270."""
    return int(round(degrees / 90.0)) % 4 * 90


def display_rotation(frame: av.VideoFrame, stream: av.video.stream.VideoStream) -> int:
    """Display rotation from the frame's display matrix, else the legacy clockwise 'rotate' tag."""
    rotation = _display_rotation(frame.rotation)
    if rotation == 0 and "rotate" in stream.metadata:
        with contextlib.suppress(ValueError):  # a tag that is not a number leaves the rotation at 0
            rotation = _display_rotation(-float(stream.metadata["rotate"]))
    return rotation


def frame_to_rgb(frame: av.VideoFrame, rotation: int) -> np.ndarray:
    """RGB uint8 HxWx3 of a decoded frame of any pixel format, turned by `rotation` counter-clockwise degrees."""
    rgb = frame.to_ndarray(format="rgb24")  # any pix_fmt (gray, yuv, 10-bit) -> RGB uint8
    if rotation:
        rgb = np.rot90(rgb, k=rotation // 90)  # np.rot90 turns counter-clockwise, like the display matrix
    return np.ascontiguousarray(rgb)


# ---------------------------------------------------------------------------------------------------------------
# decoding


class FrameDecoder:
    """Decodes a video file's frames by index, holding one open container.

    With a seekable `PacketIndex` (from `index_video`), frames are matched to indices by pts, and reaching a frame
    behind the decoder, or past a keyframe ahead of it, seeks to the keyframe before it. Without one, frames are
    counted from the first, and going back reopens the file. The file is opened on first use or by `restart`.
    """

    def __init__(self, path: Path, packets: PacketIndex | None = None) -> None:
        self.path = path
        self.packets = packets if packets is not None else PacketIndex(pts=[], keyframes=[0], seekable=False)
        self._pts_to_index = {p: i for i, p in enumerate(self.packets.pts)} if self.packets.seekable else {}
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.VideoFrame] | None = None
        self._next = 0  # index the next decoded frame is expected to have
        self._pending: tuple[int, av.VideoFrame] | None = None  # a frame read ahead while checking a seek

    @property
    def next_index(self) -> int:
        """The index the next decoded frame is expected to have (after the end: the frames decoded)."""
        return self._next

    @property
    def stream(self) -> av.video.stream.VideoStream | None:
        """The open container's video stream (None until the file is opened)."""
        return None if self._container is None else self._container.streams.video[0]

    @property
    def is_open(self) -> bool:
        return self._container is not None

    def decode_until(self, target: int) -> Iterator[tuple[int, av.VideoFrame]]:
        """Yield (index, decoded frame) up to and including `target`, starting where the decoder stands or at the
        keyframe before `target`; VideoReadError ("ended") when the stream ends first."""
        if self._frames is None or target < self._next or self._should_skip_ahead(target):
            self._position_before(target)
        while self._next <= target:
            decoded = self._next_frame()
            if decoded is None:
                raise VideoReadError("ended", self.path, frame=target, decoded=self._next)
            yield decoded

    def restart(self) -> None:
        """(Re)open the file and start decoding from its first frame."""
        self.close()
        container = open_container(self.path)
        try:
            stream = video_stream(container, self.path)
        except VideoReadError:
            container.close()
            raise
        stream.thread_type = "AUTO"  # frame-parallel decoding: same frames, in the same order, sooner
        self._container = container
        self._frames = container.decode(stream)
        self._next = 0

    def close(self) -> None:
        self._frames = None
        self._pending = None
        if self._container is not None:
            self._container.close()
            self._container = None

    def _should_skip_ahead(self, target: int) -> bool:
        """Whether a keyframe lies between the decoder's position and the target (seeking saves decoding)."""
        return self.packets.seekable and self._keyframe_at_or_before(target) > self._next

    def _keyframe_at_or_before(self, target: int) -> int:
        position = bisect.bisect_right(self.packets.keyframes, target)
        return self.packets.keyframes[position - 1] if position else 0

    def _position_before(self, target: int) -> None:
        """Seek so that the next decoded frame is at or before `target`, else restart from the first frame."""
        if self.packets.seekable:
            position = bisect.bisect_right(self.packets.keyframes, target)
            # the container's seek may land after the keyframe asked for; try one earlier keyframe, then restart
            for keyframe in reversed(self.packets.keyframes[max(0, position - 2) : position]):
                if keyframe == 0:
                    break
                self._seek(keyframe)
                decoded = self._next_frame()
                if decoded is not None and decoded[0] <= target:
                    self._pending = decoded
                    self._next = decoded[0]
                    return
        self.restart()

    def _seek(self, keyframe: int) -> None:
        if self._container is None:
            self.restart()
        assert self._container is not None
        stream = self._container.streams.video[0]
        try:
            self._container.seek(self.packets.pts[keyframe], stream=stream, backward=True)
        except av.error.FFmpegError as error:
            raise VideoReadError("seek", self.path, cause=error, frame=keyframe) from error
        self._frames = self._container.decode(stream)
        self._pending = None
        self._next = keyframe

    def _next_frame(self) -> tuple[int, av.VideoFrame] | None:
        """The next decoded frame with its index, skipping frames that are not in the index."""
        if self._pending is not None:
            decoded, self._pending = self._pending, None
            self._next = decoded[0] + 1
            return decoded
        assert self._frames is not None
        while True:
            try:
                frame = next(self._frames, None)
            except av.error.FFmpegError as error:
                raise VideoReadError("decode", self.path, cause=error, frame=self._next) from error
            if frame is None:
                return None
            if self.packets.seekable and frame.pts is not None:
                index = self._pts_to_index.get(frame.pts)
                if index is None:
                    continue  # e.g. a frame the container marks as discarded (edit list)
            else:
                index = self._next  # no usable timestamps: count frames from the start
            self._next = index + 1
            return index, frame
