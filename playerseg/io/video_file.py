"""Clips that are video files, read through evaluation's PyAV layer (`evaluation.video_reader`).

One demux pass indexes the file when it is opened (display size, rate, per-frame times, keyframes); frames are then
decoded forward from the keyframe before the one asked for and turned to display orientation only when loaded.
The reader's failures reach users as VideoError sentences.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import av.error

from evaluation.video_reader import FrameDecoder, VideoReadError, frame_to_rgb, index_video
from playerseg.io.video_info import RgbLoader, VideoError, VideoInfo, error_reason


class VideoFileSource:
    """A video file: indexed by one demux pass at open; decoded by a second container opened on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            index = index_video(path)
        except VideoReadError as error:
            raise _video_error(error) from error.cause
        self.info = VideoInfo(
            path=str(path),
            width=index.width,
            height=index.height,
            fps=index.fps,
            frame_count=index.frame_count,
            duration_s=index.duration_s,
            codec=index.codec,
            rotation=index.rotation,
            has_audio=index.has_audio,
            variable_frame_rate=index.variable_frame_rate,
        )
        self.times_s = index.times_s
        self._decoder = FrameDecoder(path, index.packets)

    def decode_until(self, target: int) -> Iterator[tuple[int, RgbLoader]]:
        """Yield (source index, loader of the display-oriented RGB frame) up to and including `target`."""
        try:
            for index, frame in self._decoder.decode_until(target):
                yield index, functools.partial(frame_to_rgb, frame, self.info.rotation)
        except VideoReadError as error:
            raise _video_error(error) from error.cause

    def close(self) -> None:
        self._decoder.close()


def _video_error(error: VideoReadError) -> VideoError:
    """The reader's failure in playerseg's words."""
    path, cause = error.path, error.cause
    reason = "" if cause is None else error_reason(cause)
    if error.stage == "open" and not isinstance(cause, (av.error.FFmpegError, UnicodeDecodeError)):
        return VideoError(f"{path} cannot be opened: {reason}.")
    sentences = {
        "open": f"{path} is not a readable video file ({reason}).",
        "demux": f"{path} is not a readable video file ({reason}).",
        "no_stream": f"{path} has no video stream.",
        "empty": f"{path} has a video stream without any decodable frame.",
        "seek": f"seeking to frame {error.frame} of {path} failed: {reason}.",
        "decode": f"decoding frame {error.frame} of {path} failed: {reason}.",
        "ended": f"{path} ended before frame {error.frame} could be decoded.",
    }
    return VideoError(sentences[error.stage])
