"""evaluation.video_reader, the one PyAV reading layer: indexing, decoding with and without a packet index, errors."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from evaluation.video_reader import FrameDecoder, VideoReadError, count_packets, frame_to_rgb, index_video


def write_clip(path: Path, count: int = 20, gop: int = 5) -> Path:
    """Frames whose grey level is 10 * index, H.264 with a keyframe every `gop` frames (B-frames on)."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        stream.codec_context.gop_size = gop
        for index in range(count):
            rgb = np.full((24, 32, 3), 10 * index, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def level(frame: av.VideoFrame) -> int:
    return round(float(frame_to_rgb(frame, 0).mean()) / 10)


def test_index_describes_the_stream(tmp_path: Path) -> None:
    index = index_video(write_clip(tmp_path / "clip.mp4"))
    assert (index.width, index.height, index.frame_count, index.codec) == (32, 24, 20, "h264")
    assert index.fps == pytest.approx(24.0) and not index.variable_frame_rate and index.rotation == 0
    assert index.times_s == pytest.approx([i / 24 for i in range(20)])
    assert index.packets.seekable and index.packets.keyframes[0] == 0 and len(index.packets.keyframes) > 1
    assert count_packets(tmp_path / "clip.mp4") == 20


@pytest.mark.parametrize("indexed", [True, False])
def test_decoding_backwards_and_forwards_gives_the_frames_asked_for(tmp_path: Path, indexed: bool) -> None:
    path = write_clip(tmp_path / "clip.mp4")
    decoder = FrameDecoder(path, index_video(path).packets if indexed else None)
    try:
        for target in (17, 3, 12, 0, 19, 8):
            decoded = list(decoder.decode_until(target))
            assert decoded[-1][0] == target and level(decoded[-1][1]) == target
            assert [i for i, _ in decoded] == list(range(decoded[0][0], target + 1))
        with pytest.raises(VideoReadError, match="has 20 frames; frame 25 does not exist") as caught:
            list(decoder.decode_until(25))
        assert (caught.value.stage, caught.value.frame, caught.value.decoded) == ("ended", 25, 20)
    finally:
        decoder.close()
    assert not decoder.is_open


def test_failures_name_their_stage(tmp_path: Path) -> None:
    (tmp_path / "notes.mp4").write_text("not a video\n" * 10)
    with pytest.raises(VideoReadError, match="cannot be opened as a video") as caught:
        index_video(tmp_path / "notes.mp4")
    assert caught.value.stage == "open" and isinstance(caught.value.cause, av.error.FFmpegError)
    with av.open(str(tmp_path / "sound.m4a"), mode="w") as container:
        sound = container.add_stream("aac", rate=48000, layout="mono")
        chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        chunk.sample_rate, chunk.pts = 48000, 0
        for packet in list(sound.encode(chunk)) + list(sound.encode(None)):
            container.mux(packet)
    with pytest.raises(VideoReadError, match="has no video stream") as caught:
        FrameDecoder(tmp_path / "sound.m4a").restart()
    assert caught.value.stage == "no_stream" and caught.value.cause is None
