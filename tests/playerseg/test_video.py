"""Reading clips (files and frame folders), random access, and writing browser-playable H.264.

Test media are generated with PyAV in tmp_path. Each frame carries a code: its bottom-right quadrant is a flat
grey level 20 + 7 * index, so a decoded frame tells which source frame it is; the other quadrants are red, green
and blue to check colours and orientation.
"""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from playerseg.io.video import FrameStore, VideoError, VideoWriter, iter_frames, probe_video

RED, GREEN, BLUE = (230, 20, 20), (20, 230, 20), (20, 20, 230)
TOLERANCE = 14  # lossy H.264 / JPEG on flat colours stays well within this


def pattern(index: int, width: int = 64, height: int = 48) -> np.ndarray:
    """Quadrants: red top-left, green top-right, blue bottom-left, grey code of `index` bottom-right."""
    rgb = np.empty((height, width, 3), np.uint8)
    half_h, half_w = height // 2, width // 2
    rgb[:half_h, :half_w] = RED
    rgb[:half_h, half_w:] = GREEN
    rgb[half_h:, :half_w] = BLUE
    rgb[half_h:, half_w:] = code_level(index)
    return rgb


def code_level(index: int) -> int:
    return 20 + 7 * index


def decode_code(rgb: np.ndarray) -> int:
    """The source index a delivered frame shows (from the centre of its bottom-right quadrant)."""
    height, width = rgb.shape[:2]
    patch = rgb[3 * height // 4 - 2 : 3 * height // 4 + 2, 3 * width // 4 - 2 : 3 * width // 4 + 2]
    return round((float(patch.mean()) - 20) / 7)


def colour_at(rgb: np.ndarray, fy: float, fx: float) -> np.ndarray:
    """Mean colour of a small patch at fractional position (fy, fx)."""
    y, x = int(fy * rgb.shape[0]), int(fx * rgb.shape[1])
    return rgb[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3).mean(axis=0)


def assert_colour(actual: np.ndarray, expected: tuple[int, int, int]) -> None:
    assert np.all(np.abs(actual - np.array(expected)) <= TOLERANCE), (actual, expected)


def write_clip(
    path: Path,
    frames: list[np.ndarray],
    fps: int = 24,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    pts_ms: list[int] | None = None,
    rotation: int | None = None,
    audio: bool = False,
    gop: int | None = None,
) -> Path:
    """Encode RGB frames with PyAV (explicit millisecond pts when given, for variable frame rates)."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if gop is not None:
            stream.codec_context.gop_size = gop
        if pts_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        sound = container.add_stream("aac", rate=48000, layout="mono") if audio else None
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[i], Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
            if sound is not None:  # 2000 samples per video frame at 24 fps: one second of 440 Hz tone in all
                t = (np.arange(2000) + 2000 * i) / 48000
                chunk = av.AudioFrame.from_ndarray(
                    (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None], format="fltp", layout="mono"
                )
                chunk.sample_rate, chunk.pts = 48000, 2000 * i
                for packet in sound.encode(chunk):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if sound is not None:
            for packet in sound.encode(None):
                container.mux(packet)
    return path


def write_folder(folder: Path, frames: list[np.ndarray], suffix: str = ".jpg") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, rgb in enumerate(frames):
        Image.fromarray(rgb).save(folder / f"{i:05d}{suffix}", quality=95)
    return folder


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 frames, 96x64, 24 fps, H.264 with B-frames and a keyframe every 6 frames (so seeking is exercised)."""
    folder = tmp_path_factory.mktemp("clip")
    return write_clip(folder / "clip.mp4", [pattern(i, 96, 64) for i in range(30)], gop=6)


# --- probing and streaming a video file -------------------------------------------------------------------------


def test_probe_constant_rate_clip(clip: Path) -> None:
    info = probe_video(clip)
    assert (info.width, info.height) == (96, 64)
    assert info.frame_count == 30
    assert info.fps == pytest.approx(24.0)
    assert info.duration_s == pytest.approx(30 / 24, abs=1e-3)
    assert info.codec == "h264"
    assert info.rotation == 0
    assert not info.has_audio
    assert not info.variable_frame_rate


def test_iter_frames_reads_every_frame_with_its_colours_and_time(clip: Path) -> None:
    frames = list(iter_frames(clip))
    assert [f.index for f in frames] == list(range(30))
    assert [decode_code(f.rgb) for f in frames] == list(range(30))
    assert [f.time_s for f in frames] == pytest.approx([i / 24 for i in range(30)], abs=1e-6)
    for frame in frames:
        assert frame.rgb.shape == (64, 96, 3) and frame.rgb.dtype == np.uint8
        assert_colour(colour_at(frame.rgb, 0.25, 0.25), RED)
        assert_colour(colour_at(frame.rgb, 0.25, 0.75), GREEN)
        assert_colour(colour_at(frame.rgb, 0.75, 0.25), BLUE)


def test_iter_frames_selects_start_stop_stride(clip: Path) -> None:
    frames = list(iter_frames(clip, start=3, stop=20, stride=4))
    assert [f.index for f in frames] == [3, 7, 11, 15, 19]
    assert [decode_code(f.rgb) for f in frames] == [3, 7, 11, 15, 19]
    assert [f.time_s for f in frames] == pytest.approx([3 / 24, 7 / 24, 11 / 24, 15 / 24, 19 / 24], abs=1e-6)


def test_stop_past_the_end_is_clipped(clip: Path) -> None:
    assert [f.index for f in iter_frames(clip, start=25, stop=100, stride=2)] == [25, 27, 29]


def test_max_side_downscales_keeping_aspect(clip: Path) -> None:
    # 96x64 with the longer side to 48 -> 48x32; a larger max_side never upscales
    small = list(iter_frames(clip, stop=2, max_side=48))
    assert [f.rgb.shape for f in small] == [(32, 48, 3), (32, 48, 3)]
    assert [decode_code(f.rgb) for f in small] == [0, 1]
    assert_colour(colour_at(small[0].rgb, 0.25, 0.25), RED)
    assert next(iter_frames(clip, max_side=500)).rgb.shape == (64, 96, 3)
    # 96x64 to 40 -> 40 x 26.67, rounded to 27
    assert next(iter_frames(clip, max_side=40)).rgb.shape == (27, 40, 3)


def test_variable_frame_rate_timestamps_come_back_as_written(tmp_path: Path) -> None:
    pts_ms = [0, 40, 100, 130, 200, 210, 300, 420, 450, 500]
    path = write_clip(tmp_path / "vfr.mp4", [pattern(i) for i in range(10)], pts_ms=pts_ms)
    info = probe_video(path)
    assert info.variable_frame_rate
    assert info.frame_count == 10
    assert info.duration_s >= 0.5
    frames = list(iter_frames(path))
    assert [f.time_s for f in frames] == pytest.approx([p / 1000 for p in pts_ms], abs=1e-6)
    assert [decode_code(f.rgb) for f in frames] == list(range(10))


def test_odd_sized_clip_is_read_at_its_size(tmp_path: Path) -> None:
    # yuv444p lets H.264 carry an odd size
    path = write_clip(tmp_path / "odd.mkv", [pattern(i, 63, 47) for i in range(5)], pix_fmt="yuv444p")
    info = probe_video(path)
    assert (info.width, info.height, info.frame_count) == (63, 47, 5)
    frames = list(iter_frames(path))
    assert all(f.rgb.shape == (47, 63, 3) for f in frames)
    assert [decode_code(f.rgb) for f in frames] == list(range(5))


def test_rotation_metadata_gives_display_size_and_orientation(tmp_path: Path) -> None:
    # stored 64x48; the display matrix turns it 90 degrees counter-clockwise for display (48 wide, 64 high)
    path = write_clip(tmp_path / "rotated.mp4", [pattern(i) for i in range(4)], rotation=90)
    info = probe_video(path)
    assert info.rotation == 90
    assert (info.width, info.height) == (48, 64)
    frame = next(iter_frames(path))
    assert frame.rgb.shape == (64, 48, 3)
    # a quarter turn counter-clockwise: stored top-right (green) -> top-left, top-left (red) -> bottom-left,
    # bottom-right (code) -> top-right, bottom-left (blue) -> bottom-right
    assert_colour(colour_at(frame.rgb, 0.25, 0.25), GREEN)
    assert_colour(colour_at(frame.rgb, 0.75, 0.25), RED)
    assert_colour(colour_at(frame.rgb, 0.75, 0.75), BLUE)
    with FrameStore(path, max_side=32) as store:
        assert (store.width, store.height) == (24, 32)
        assert store[0].shape == (32, 24, 3)


def test_grayscale_video_comes_out_rgb(tmp_path: Path) -> None:
    grey = [np.full((48, 64, 3), level, np.uint8) for level in (40, 120, 200)]
    path = write_clip(tmp_path / "grey.mkv", grey, codec="ffv1", pix_fmt="gray")
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "gray"
    frames = list(iter_frames(path))
    assert all(f.rgb.shape == (48, 64, 3) and f.rgb.dtype == np.uint8 for f in frames)
    assert [int(f.rgb[10, 10, c]) for f in frames for c in range(3)] == [40] * 3 + [120] * 3 + [200] * 3


def test_audio_track_is_ignored(tmp_path: Path) -> None:
    path = write_clip(tmp_path / "audio.mp4", [pattern(i) for i in range(24)], audio=True)
    info = probe_video(path)
    assert info.has_audio
    assert info.frame_count == 24
    assert [decode_code(f.rgb) for f in iter_frames(path)] == list(range(24))


# --- frame folders --------------------------------------------------------------------------------------------


def test_jpeg_folder(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "frames", [pattern(i, 80, 60) for i in range(12)])
    info = probe_video(folder, folder_fps=10.0)
    assert (info.width, info.height, info.frame_count, info.codec) == (80, 60, 12, "jpeg")
    assert info.fps == 10.0 and info.duration_s == pytest.approx(1.2)
    frames = list(iter_frames(folder, start=2, stride=3, folder_fps=10.0))
    assert [f.index for f in frames] == [2, 5, 8, 11]
    assert [decode_code(f.rgb) for f in frames] == [2, 5, 8, 11]
    assert [f.time_s for f in frames] == pytest.approx([0.2, 0.5, 0.8, 1.1])
    assert probe_video(folder).fps == 24.0  # the default for folders


def test_folder_sorted_by_name_and_png(tmp_path: Path) -> None:
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i in (10, 2, 1):  # natural order 1, 2, 10 (not 1, 10, 2)
        Image.fromarray(pattern(i)).save(folder / f"frame_{i}.png")
    assert probe_video(folder).codec == "png"
    assert [decode_code(f.rgb) for f in iter_frames(folder)] == [1, 2, 10]


def test_davis_single_sequence_folder(tmp_path: Path) -> None:
    root = tmp_path / "seq"
    write_folder(root / "JPEGImages", [pattern(i) for i in range(6)])
    (root / "Annotations").mkdir()
    info = probe_video(root)
    assert (info.width, info.height, info.frame_count) == (64, 48, 6)
    with FrameStore(root) as store:
        assert [decode_code(store[i]) for i in (5, 0, 3)] == [5, 0, 3]


def test_grayscale_jpeg_folder_comes_out_rgb(tmp_path: Path) -> None:
    folder = tmp_path / "grey"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((30, 40), 50 + 50 * i, np.uint8), mode="L").save(folder / f"{i:05d}.jpg")
    frames = list(iter_frames(folder))
    assert all(f.rgb.shape == (30, 40, 3) for f in frames)
    assert [int(f.rgb[15, 20].mean()) for f in frames] == pytest.approx([50, 100, 150], abs=2)
    assert all(np.all(f.rgb[..., 0] == f.rgb[..., 1]) for f in frames)


def test_folder_with_frames_of_different_sizes_names_the_file(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "mixed", [pattern(0), pattern(1), pattern(2, 62, 48)])
    with pytest.raises(VideoError, match="00002.jpg"):
        probe_video(folder)


def test_real_davis_judo_folder(judo_dir: Path) -> None:
    info = probe_video(judo_dir)
    assert (info.width, info.height, info.frame_count, info.codec) == (854, 480, 16, "jpeg")
    with FrameStore(judo_dir, max_side=427) as store:
        assert len(store) == 16
        assert store[15].shape == (240, 427, 3)


# --- random access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stride, max_side", [(1, None), (2, 48)])
def test_frame_store_random_access_equals_sequential_decode(clip: Path, stride: int, max_side: int | None) -> None:
    sequential = [f.rgb for f in iter_frames(clip, start=1, stride=stride, max_side=max_side)]
    with FrameStore(clip, start=1, stride=stride, max_side=max_side, cache_size=4) as store:
        assert len(store) == len(sequential)
        assert store.source_indices == list(range(1, 30, stride))
        order = list(range(len(store)))
        random.Random(0).shuffle(order)
        for i in order + order[::-1] + list(reversed(range(len(store)))) + list(range(len(store))):
            assert np.array_equal(store[i], sequential[i]), i
            assert len(store.cached_indices) <= 4


def test_frame_store_describes_its_selection(clip: Path) -> None:
    with FrameStore(clip, start=2, stop=12, stride=3, max_side=48) as store:
        assert store.info.frame_count == 30 and (store.info.width, store.info.height) == (96, 64)
        assert (store.width, store.height) == (48, 32)
        assert store.fps == pytest.approx(8.0)
        assert store.source_indices == [2, 5, 8, 11]
        assert store.times_s == pytest.approx([2 / 24, 5 / 24, 8 / 24, 11 / 24])
        assert [decode_code(store[i]) for i in (3, 0, -1)] == [11, 2, 11]
        with pytest.raises(IndexError):
            store[4]


def test_frame_store_without_keyframes_to_seek_to(tmp_path: Path) -> None:
    # a single keyframe: every backward step restarts from the first frame
    path = write_clip(tmp_path / "one_gop.mp4", [pattern(i) for i in range(20)], gop=1000)
    with FrameStore(path, cache_size=3) as store:
        assert [decode_code(store[i]) for i in (19, 4, 18, 0, 10, 9, 8, 7)] == [19, 4, 18, 0, 10, 9, 8, 7]
        assert len(store.cached_indices) <= 3


def test_frame_store_returns_copies(clip: Path) -> None:
    with FrameStore(clip) as store:
        store[0][:] = 0
        assert_colour(colour_at(store[0], 0.25, 0.25), RED)


# --- writing ------------------------------------------------------------------------------------------------


def test_writer_makes_browser_playable_h264(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with VideoWriter(path, fps=24.0) as writer:
        for i in range(20):
            writer.write(pattern(i, 96, 64))
        assert writer.frames_written == 20
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.frames == 20
    data = path.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")  # faststart: the index comes before the media data
    frames = list(iter_frames(path))
    assert [decode_code(f.rgb) for f in frames] == list(range(20))
    assert_colour(colour_at(frames[0].rgb, 0.25, 0.25), RED)
    assert probe_video(path).fps == pytest.approx(24.0)


def test_writer_pads_odd_sizes_by_replicating_the_edge(tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    rgb = pattern(5, 63, 47)
    with VideoWriter(path, fps=10) as writer:
        writer.write(rgb)
        writer.write(rgb)
    info = probe_video(path)
    assert (info.width, info.height, info.frame_count) == (64, 48, 2)
    frame = next(iter_frames(path)).rgb
    # the added last column/row repeat the green (top-right) and code (bottom-right) edges
    assert_colour(frame[5, 63].astype(float), GREEN)
    assert_colour(frame[47, 5].astype(float), BLUE)


def test_writer_fractional_fps(tmp_path: Path) -> None:
    path = tmp_path / "ntsc.mp4"
    with VideoWriter(path, fps=30000 / 1001) as writer:
        for i in range(10):
            writer.write(pattern(i))
    info = probe_video(path)
    assert info.fps == pytest.approx(29.97, abs=0.01)
    assert [f.time_s for f in iter_frames(path)][-1] == pytest.approx(9 * 1001 / 30000, abs=1e-3)


def test_writer_with_fixed_threads_writes_the_same_bytes_each_time(tmp_path: Path) -> None:
    """x264's output depends on its thread count: with the count fixed, a synthetic dataset is the same file on
    every machine; a different count gives a different (equally valid) file."""
    noisy = np.random.default_rng(0).integers(0, 4, (14, 180, 320, 3), dtype=np.uint8) * 64

    def encode(name: str, threads: int) -> bytes:
        with VideoWriter(tmp_path / name, fps=24, threads=threads) as writer:
            for frame in noisy:
                writer.write(frame)
        return (tmp_path / name).read_bytes()

    assert encode("a.mp4", 1) == encode("b.mp4", 1)
    assert encode("c.mp4", 1) != encode("d.mp4", 8)
    with pytest.raises(VideoError, match="threads"):
        VideoWriter(tmp_path / "e.mp4", fps=24, threads=0)


def test_writer_rejects_a_frame_of_another_size(tmp_path: Path) -> None:
    path = tmp_path / "sizes.mp4"
    with VideoWriter(path, fps=24) as writer:
        writer.write(pattern(0))
        with pytest.raises(VideoError, match="sizes.mp4"):
            writer.write(pattern(1, 96, 64))
        with pytest.raises(VideoError):
            writer.write(pattern(1).astype(np.float32))
    assert probe_video(path).frame_count == 1


# --- the real clip ------------------------------------------------------------------------------------------


def test_real_juggle_clip(juggle_clip: Path) -> None:
    info = probe_video(juggle_clip)
    assert (info.width, info.height, info.frame_count, info.codec) == (1280, 720, 247, "h264")
    assert info.fps == pytest.approx(24.0, abs=0.01)
    assert info.duration_s == pytest.approx(247 / 24, abs=0.05)
    frames = list(iter_frames(juggle_clip, stop=3, max_side=640))
    assert [f.rgb.shape for f in frames] == [(360, 640, 3)] * 3
    with FrameStore(juggle_clip, start=200, max_side=640, cache_size=2) as store:
        assert len(store) == 47 and (store.width, store.height) == (640, 360)
        assert np.array_equal(store[1], store[1]) and store[46].shape == (360, 640, 3)


# --- errors -------------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="nothing.mp4 does not exist"):
        probe_video(tmp_path / "nothing.mp4")


def test_text_file_named_mp4(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 20)
    with pytest.raises(VideoError, match="notes.mp4"):
        probe_video(path)
    with pytest.raises(VideoError):
        FrameStore(path)


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="empty"):
        iter_frames(tmp_path / "empty")


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    path = tmp_path / "sound.m4a"
    with av.open(str(path), mode="w") as container:
        sound = container.add_stream("aac", rate=48000, layout="mono")
        chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        chunk.sample_rate, chunk.pts = 48000, 0
        for packet in list(sound.encode(chunk)) + list(sound.encode(None)):
            container.mux(packet)
    with pytest.raises(VideoError, match="no video stream"):
        probe_video(path)


def test_start_beyond_the_end(clip: Path) -> None:
    with pytest.raises(VideoError, match="beyond the end"):
        iter_frames(clip, start=30)
    with pytest.raises(VideoError, match="beyond the end"):
        FrameStore(clip, start=31)


def test_error_is_a_value_error() -> None:
    assert issubclass(VideoError, ValueError)
