"""Ground truth from an upload: zip bombs and odd archives refused before anything is written, messages that name
the upload (never a server path), COCO-RLE files sized by the clip, and scoring only the prompted objects."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from evaluation.accuracy import score_sequence
from evaluation.datasets import DatasetError
from evaluation.datasets.coco_json import save_coco_rle
from evaluation.sequence import MaskSequence
from playerseg.compare.ground_truth import GroundTruthError, mask_png_bound, read_ground_truth, score_prompted
from playerseg.io.masks import write_palette_png
from playerseg.io.video import VideoInfo

WIDTH, HEIGHT, FRAMES = 32, 24, 4
UPLOAD_NAME = "my masks (final).zip"


def clip_info(frames: int = FRAMES, width: int = WIDTH, height: int = HEIGHT) -> VideoInfo:
    return VideoInfo(
        path="/srv/clips/clip.mp4",
        width=width,
        height=height,
        fps=24.0,
        frame_count=frames,
        duration_s=frames / 24,
        codec="h264",
    )


def png_bytes(labels: np.ndarray, tmp_path: Path) -> bytes:
    path = tmp_path / "one.png"
    write_palette_png(path, labels)
    return path.read_bytes()


def labels_with(value: int = 1) -> np.ndarray:
    labels = np.zeros((HEIGHT, WIDTH), np.uint8)
    labels[4:12, 6:14] = value
    return labels


def zip_of(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def zero_bomb(path: Path, name: str = "00000.png", size_mb: int = 1024) -> Path:
    """A real zip (about 1 MB) whose one entry inflates to `size_mb` MB of zeros: deflate blocks of 1 MB of zeros,
    each flushed so they are byte-identical and can be repeated, with the true CRC and sizes."""
    zero = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zero) + compressor.flush(zlib.Z_FULL_FLUSH)
    data = block * size_mb + compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(size_mb):
        crc = zlib.crc32(zero, crc)
    size, encoded = size_mb << 20, name.encode()
    fields = (20, 0, zipfile.ZIP_DEFLATED, 0, 0x21, crc, len(data), size, len(encoded))
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + encoded
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, 0, 0) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    path.write_bytes(local + data + central + end)
    return path


def assert_refused_before_writing(path: Path, work: Path, *, match: str, **options: object) -> str:
    with pytest.raises(GroundTruthError, match=match) as caught:
        read_ground_truth(path, work, display_name=UPLOAD_NAME, **options)
    message = str(caught.value)
    assert not work.exists() or not any(work.iterdir()), "something was written before the refusal"
    assert UPLOAD_NAME in message and "/" not in message and "\n" not in message
    return message


# ---------------------------------------------------------------------------------------------------------------
# Refused before extraction


def test_a_1mb_zip_of_1gb_of_zeros_is_refused_before_any_byte_is_written(tmp_path: Path) -> None:
    bomb = zero_bomb(tmp_path / "bomb.zip")
    assert bomb.stat().st_size < 1_100_000
    with zipfile.ZipFile(bomb) as archive:  # a real archive: its entry does inflate to zeros
        (entry,) = archive.infolist()
        assert entry.file_size == 1 << 30
        with archive.open(entry) as reader:
            assert reader.read(4096) == bytes(4096)
    work = tmp_path / "work"
    with_clip = assert_refused_before_writing(bomb, work, match="more than", clip=clip_info())
    assert "00000.png" in with_clip and "32x24" in with_clip
    assert_refused_before_writing(bomb, work, match="more than")  # without a clip: the fixed caps
    assert not work.exists()


def test_more_mask_entries_than_the_clip_has_frames_is_refused_at_once(tmp_path: Path) -> None:
    png = png_bytes(labels_with(), tmp_path)
    upload = zip_of(tmp_path / "gt.zip", {f"{frame:05d}.png": png for frame in range(FRAMES + 1)})
    message = assert_refused_before_writing(upload, tmp_path / "work", match="5 mask PNGs", clip=clip_info())
    assert f"only {FRAMES} frames" in message


def test_too_many_entries_count_even_when_they_are_not_masks(tmp_path: Path) -> None:
    png = png_bytes(labels_with(), tmp_path)
    junk = {f"__MACOSX/._junk{i}.png": b"x" for i in range(FRAMES * 4 + 64)}
    upload = zip_of(tmp_path / "gt.zip", {"00000.png": png, **junk})
    assert_refused_before_writing(upload, tmp_path / "work", match="entries", clip=clip_info())


@pytest.mark.parametrize("content", [b"GIF89a" + bytes(40), b"\xff\xd8\xff\xe0" + bytes(40), b""])
def test_an_entry_that_is_not_a_png_is_refused(content: bytes, tmp_path: Path) -> None:
    png = png_bytes(labels_with(), tmp_path)
    upload = zip_of(tmp_path / "gt.zip", {"masks/00000.png": png, "masks/00001.png": content})
    message = assert_refused_before_writing(upload, tmp_path / "work", match="not a PNG image", clip=clip_info())
    assert "00001.png" in message
    assert_refused_before_writing(upload, tmp_path / "work", match="not a PNG image")


def test_a_mask_of_another_size_than_the_clip_is_refused_from_its_header(tmp_path: Path) -> None:
    upload = zip_of(tmp_path / "gt.zip", {"00000.png": png_bytes(np.zeros((10, 10), np.uint8), tmp_path)})
    message = assert_refused_before_writing(upload, tmp_path / "work", match="10x10", clip=clip_info())
    assert "32x24" in message


def test_an_entry_larger_than_a_mask_of_the_clip_can_be_is_refused(tmp_path: Path) -> None:
    bound = mask_png_bound(WIDTH, HEIGHT)
    padded = png_bytes(labels_with(), tmp_path) + bytes(bound)  # trailing bytes after IEND: PIL would not mind
    upload = zip_of(tmp_path / "gt.zip", {"00000.png": padded})
    assert_refused_before_writing(upload, tmp_path / "work", match="more than", clip=clip_info())


def test_a_coco_json_larger_than_the_clip_can_need_is_refused_before_it_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = MaskSequence.from_arrays("clip", {0: labels_with()})
    path = save_coco_rle(truth, tmp_path / "gt.json")
    document = json.loads(path.read_text())
    path.write_text(json.dumps(document) + " " * (1 << 20))  # still valid JSON, 1 MB of it
    accepted = read_ground_truth(path, tmp_path / "work")  # without a clip: the fixed cap is far away
    assert np.array_equal(accepted.read(0), labels_with())

    def parsed(_: object) -> None:
        raise AssertionError("the file was parsed before its size was checked")

    monkeypatch.setattr("playerseg.compare.ground_truth.load_coco_rle", parsed)
    with pytest.raises(GroundTruthError, match="more than") as caught:
        read_ground_truth(path, tmp_path / "work", clip=clip_info(frames=2), display_name="masks.json")
    assert "masks.json" in str(caught.value) and "/" not in str(caught.value)


# ---------------------------------------------------------------------------------------------------------------
# Accepted uploads, and messages that never show a server path


def test_a_davis_zip_that_fits_the_clip_is_read(tmp_path: Path) -> None:
    png = png_bytes(labels_with(), tmp_path)
    files = {f"davis/Annotations/seq/{frame:05d}.png": png for frame in range(FRAMES)}
    files |= {f"__MACOSX/davis/Annotations/seq/._{frame:05d}.png": b"fork" for frame in range(FRAMES)}
    files["davis/JPEGImages/seq/00000.jpg"] = b"jpeg"
    truth = read_ground_truth(zip_of(tmp_path / "gt.zip", files), tmp_path / "work", clip=clip_info())
    assert truth.frames == tuple(range(FRAMES)) and (truth.width, truth.height) == (WIDTH, HEIGHT)
    assert np.array_equal(truth.read(3), labels_with())
    assert truth.source == "gt.zip"  # what the evaluation package's messages show of it


def test_messages_name_the_upload_and_never_a_server_path(tmp_path: Path) -> None:
    png = png_bytes(labels_with(), tmp_path)
    work = tmp_path / "work"
    # two files for one frame: the evaluation package's message names the extracted files by their server path
    duplicate = zip_of(tmp_path / "dup.zip", {"m/0.png": png, "m/00000.png": png})
    with pytest.raises(GroundTruthError, match="both hold frame 0") as caught:
        read_ground_truth(duplicate, work, display_name=UPLOAD_NAME)
    assert UPLOAD_NAME in str(caught.value) and str(tmp_path) not in str(caught.value)
    # a PNG whose header is fine but whose pixels are cut off fails when scored: named the same way
    broken = zip_of(tmp_path / "cut.zip", {"00000.png": png[: png.index(b"IDAT") + 10]})
    truth = read_ground_truth(broken, work, display_name=UPLOAD_NAME, clip=clip_info())
    with pytest.raises(DatasetError) as caught_later:
        truth.read(0)
    assert UPLOAD_NAME in str(caught_later.value) and str(tmp_path) not in str(caught_later.value)
    bad_json = tmp_path / "gt.json"
    bad_json.write_text("{not json")
    with pytest.raises(GroundTruthError, match="not valid JSON") as caught:
        read_ground_truth(bad_json, work)
    assert "gt.json" in str(caught.value) and str(tmp_path) not in str(caught.value)
    with pytest.raises(GroundTruthError, match="does not exist") as caught:
        read_ground_truth(tmp_path / "absent.zip", work, display_name="C:\\Users\\me\\gt.zip")
    assert str(caught.value) == "Ground truth gt.zip does not exist or is not a file."


# ---------------------------------------------------------------------------------------------------------------
# Scoring only the prompted objects


def test_only_prompted_objects_are_scored_with_a_notice_for_the_rest() -> None:
    """Hand-worked 4x6 maps. Ground truth: objects 1 (4 px), 2 (4 px), 4 (2 px, nobody clicked it). Prediction:
    1 exact, 2 covering 2 of its 4 pixels plus 2 others (J = 2/6), and 5, an auto-labeler track of the unclicked
    player 4. Prompted: 1, 2 and 3 (3 is not in the ground truth)."""
    gt = np.array([[1, 1, 0, 2, 2, 0], [1, 1, 0, 2, 2, 0], [0, 0, 0, 0, 0, 0], [4, 4, 0, 0, 0, 0]], np.uint8)
    pred = np.array([[1, 1, 0, 2, 0, 2], [1, 1, 0, 2, 0, 2], [0, 0, 0, 0, 0, 0], [5, 5, 0, 0, 0, 0]], np.uint8)
    truth = MaskSequence.from_arrays("truth", {7: gt})
    scored = score_prompted(MaskSequence.from_arrays("model", {7: pred}), truth, [1, 2, 3], "model")
    accuracy = scored.accuracy
    assert accuracy.object_ids == (1, 2) and accuracy.frames == (7,)
    np.testing.assert_allclose(accuracy.J, [[1.0, 2 / 6]])
    assert accuracy.J_mean == pytest.approx((1 + 2 / 6) / 2)
    assert accuracy.extra_objects == () and accuracy.missing_objects == ()
    assert scored.notices() == [
        "Ground truth object 4 was not prompted: it is not scored.",
        "Object 3 has no ground-truth mask: it is not scored.",
    ]
    # the same as scoring maps that only ever held the prompted objects
    only = MaskSequence.from_arrays("truth", {7: np.where(np.isin(gt, [1, 2]), gt, 0)})
    direct = score_sequence(MaskSequence.from_arrays("model", {7: np.where(np.isin(pred, [1, 2]), pred, 0)}), only)
    np.testing.assert_allclose(accuracy.J, direct.J)
    np.testing.assert_allclose(accuracy.F, direct.F)
    # several left out: listed together
    many = score_prompted(MaskSequence.from_arrays("model", {7: pred}), truth, [1], "model")
    assert many.notices() == ["Ground truth objects 2, 4 were not prompted: they are not scored."]
