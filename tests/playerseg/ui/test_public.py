"""What a public server reads, shows and keeps (playerseg.ui.public) and what one run may cost (playerseg.ui.limits)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from playerseg.compare.pool import ModelPool
from playerseg.compare.run import compare_models
from playerseg.io.prompts import PromptSet
from playerseg.io.video import VideoInfo
from playerseg.synthetic.dataset import generate_dataset
from playerseg.ui.limits import LimitError, RunLimits, RunStopped, check_objects, limited_selection, with_deadline
from playerseg.ui.public import UploadError, holding, public_message, sweep, uploaded_file

INFO = VideoInfo(path="clip.mp4", width=1920, height=1080, fps=25.0, frame_count=700, duration_s=28.0, codec="h264")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/srv/app/uploads/3f2a/clip.mp4 is not a readable video file.", "clip.mp4 is not a readable video file."),
        ("Cannot read '/tmp/x/gt.zip' (bad).", "Cannot read 'gt.zip' (bad)."),
        ("masks in /a/b/00000.png and /a/c/00001.png", "masks in 00000.png and 00001.png"),
        ("upload it with gradio_client.handle_file(path); 1/2 of the frames", None),
        ("see http://127.0.0.1:7860/gradio_api/file", None),
        ("a lone /root stays", None),
    ],
)
def test_public_message_names_files_not_server_folders(text: str, expected: str | None) -> None:
    assert public_message(text) == (text if expected is None else expected)


def test_only_files_inside_the_upload_folder_are_accepted(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    (uploads / "abc").mkdir(parents=True)
    inside = uploads / "abc" / "clip.mp4"
    inside.write_bytes(b"x")
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"x")
    accepted = uploaded_file({"path": str(inside), "orig_name": "my clip.mp4"}, "video", uploads)
    assert accepted.path == inside.resolve() and accepted.name == "my clip.mp4"
    sentences = set()
    for value in (
        {"path": str(outside)},
        {"path": str(tmp_path / "missing.mp4")},
        {"path": str(uploads / "abc" / ".." / ".." / "secret.mp4")},
        {"path": str(uploads / "abc")},
    ):
        with pytest.raises(UploadError) as caught:
            uploaded_file(value, "video", uploads)
        sentences.add(str(caught.value))
    assert len(sentences) == 1 and "/" not in sentences.pop().replace("handle_file(path)", "")
    with pytest.raises(UploadError, match="No video file was sent"):
        uploaded_file(str(inside), "video", uploads)  # a plain string is a server path, never an upload


def test_sweep_deletes_what_is_older_than_its_time_but_not_what_a_run_holds(tmp_path: Path) -> None:
    now = time.time()
    for name, age in (("old", 100), ("fresh", 5), ("held", 100)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "file.bin").write_bytes(b"x")
        for path in (folder / "file.bin", folder):
            os.utime(path, (now - age, now - age))
    with holding(tmp_path / "held" / "file.bin"):
        assert sweep(tmp_path, max_age_s=60, now=now) == 1
        assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "held"]
    assert sweep(tmp_path, max_age_s=60, now=now + 120) == 2  # holding refreshed "held": its time started anew
    assert not list(tmp_path.iterdir())


def test_frames_times_objects_are_trimmed_with_a_notice() -> None:
    limits = RunLimits(max_frames=300, max_side=1280, max_objects=20, max_object_frames=1000)
    selection, notices = limited_selection(INFO, 10, 699, 2, limits, objects=8)
    # 345 frames wanted -> 300 (frame limit) -> 1000 // 8 = 125 (frames x objects), downscaled to 1280
    assert (selection.start, selection.max_frames, selection.stride, selection.max_side) == (10, 125, 2, 1280)
    assert len(notices) == 3 and "frames 10..258 (125 frames)" in notices[1]
    selection, notices = limited_selection(INFO, 0, 99, 1, limits, objects=10)
    assert selection.max_frames == 100 and len(notices) == 1  # 100 x 10 = 1000 is within the budget


def test_too_many_objects_are_refused() -> None:
    check_objects(20, RunLimits(300, 1280, max_objects=20))
    with pytest.raises(LimitError, match="21 objects.*at most 20"):
        check_objects(21, RunLimits(300, 1280, max_objects=20))


def test_a_run_past_its_time_stops_the_whole_comparison(tmp_path: Path) -> None:
    """RunStopped is not a model failure: compare_models does not turn it into one model's error."""
    generate_dataset(tmp_path / "data", sequences=1, frames=3, players=1, width=96, height=64, seed=1)
    prompts = PromptSet.load(tmp_path / "data" / "prompts" / "seq000.json")
    seen = []
    with pytest.raises(RunStopped, match="stopped after 0 s"):
        compare_models(
            tmp_path / "data" / "videos" / "seq000.mp4",
            prompts,
            ["test-sam2.1-tiny-128"] * 2,
            tmp_path / "out",
            pool=ModelPool(device="cpu"),
            progress=with_deadline(lambda *a: seen.append(a), 0),
        )
    assert not seen  # stopped at the first report
