"""evaluation.datasets.summary and `python -m evaluation summary`, on DAVIS folders written here with PIL: hand-worked
counts and areas, one warning line per kind of problem naming its file, and the synthetic generator's output."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evaluation.__main__ import main
from evaluation.datasets import DatasetError
from evaluation.datasets import summary as summary_module
from evaluation.datasets.mask_pngs import davis_palette
from evaluation.datasets.summary import summarize_dataset

W, H = 100, 50  # 5000 pixels: 50 px is 1% of the frame


def write_palette_png(path: Path, labels: np.ndarray) -> None:
    image = Image.frombytes("P", (labels.shape[1], labels.shape[0]), np.ascontiguousarray(labels).tobytes())
    image.putpalette(davis_palette().tobytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def write_jpeg(path: Path, width: int = W, height: int = H) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((height, width, 3), 90, dtype=np.uint8)).save(path)


def seq_a_labels(frame: int, width: int = W, height: int = H) -> np.ndarray:
    """Object 1: a 10x20 rectangle (200 px, 4%) on every frame; object 2: 10 rows by 5*frame columns (50*frame px,
    frame %) from frame 1; frame 0 has a void row (100 px, not an object)."""
    labels = np.zeros((height, width), dtype=np.uint8)
    labels[0:10, 0:20] = 1
    labels[20:30, 50 : 50 + 5 * frame] = 2
    if frame == 0:
        labels[height - 1, :] = 255
    return labels


def seq_b_labels(frame: int) -> np.ndarray:
    """Object 3: a 5x5 square (25 px, 0.5%) moving right."""
    labels = np.zeros((H, W), dtype=np.uint8)
    labels[30:35, 10 * frame : 10 * frame + 5] = 3
    return labels


def make_dataset(root: Path) -> Path:
    """seqA: frames 0..3, objects 1 and 2; seqB: frames 0..2, object 3; all 100x50."""
    for name, frames, labels in (("seqA", 4, seq_a_labels), ("seqB", 3, seq_b_labels)):
        for frame in range(frames):
            write_jpeg(root / "JPEGImages" / name / f"{frame:05d}.jpg")
            write_palette_png(root / "Annotations" / name / f"{frame:05d}.png", labels(frame))
    return root


def test_a_clean_dataset_gives_hand_worked_counts_and_areas_and_no_warning(tmp_path: Path) -> None:
    summary = summarize_dataset(make_dataset(tmp_path / "data"))
    assert summary.warnings == ()
    assert [s.name for s in summary.sequences] == ["seqA", "seqB"]
    seq_a, seq_b = summary.sequences
    assert (seq_a.frames, seq_a.annotated_frames, seq_a.width, seq_a.height) == (4, 4, W, H)
    assert (seq_b.frames, seq_b.annotated_frames) == (3, 3)
    assert seq_a.object_ids == (1, 2) and seq_b.object_ids == (3,)
    one, two = seq_a.objects
    assert (one.frames, one.first_frame, one.last_frame) == (4, 0, 3)
    assert (one.min_area, one.median_area, one.max_area) == (200, 200.0, 200)  # 10x20 on 100x50
    assert one.min_area_pct == one.median_area_pct == one.max_area_pct == pytest.approx(4.0)
    assert (two.frames, two.first_frame, two.last_frame) == (3, 1, 3)
    assert (two.min_area, two.median_area, two.max_area) == (50, 100.0, 150)
    assert (two.min_area_pct, two.median_area_pct, two.max_area_pct) == pytest.approx((1.0, 2.0, 3.0))
    assert seq_b.objects[0].median_area == 25 and seq_b.objects[0].median_area_pct == pytest.approx(0.5)
    assert seq_a.median_object_area_pct == pytest.approx(3.0)  # median of 4% and 2%
    assert (len(summary.sequences), summary.frames, summary.annotated_frames, summary.objects) == (2, 7, 7, 3)


def test_tables_and_json_summary(tmp_path: Path) -> None:
    summary = summarize_dataset(make_dataset(tmp_path / "data"))
    table = summary.to_pandas()
    assert list(table["sequence"]) == ["seqA", "seqB"]
    assert list(table["frames"]) == [4, 3] and list(table["objects"]) == [2, 1]
    assert table["median_object_area_pct"].tolist() == pytest.approx([3.0, 0.5])
    objects = summary.objects_to_pandas()
    assert list(zip(objects["sequence"], objects["object_id"])) == [("seqA", 1), ("seqA", 2), ("seqB", 3)]
    assert objects["max_area"].tolist() == [200, 150, 25]
    document = json.loads(json.dumps(summary.summary()))
    assert (document["sequences"], document["frames"], document["objects"], document["warnings"]) == (2, 7, 3, [])
    assert document["per_sequence"][0]["objects"][1]["median_area"] == 100.0


def test_single_sequence_folder_resolution_folder_and_annotations_folder(tmp_path: Path) -> None:
    single = tmp_path / "clip"
    for frame in range(2):
        write_jpeg(single / "JPEGImages" / f"{frame:05d}.jpg")
        write_palette_png(single / "Annotations" / f"{frame:05d}.png", seq_b_labels(frame))
    summary = summarize_dataset(single)
    assert [(s.name, s.frames, s.annotated_frames, s.object_ids) for s in summary.sequences] == [("clip", 2, 2, (3,))]
    assert summary.warnings == ()
    nested = tmp_path / "davis"
    make_dataset(tmp_path / "flat")
    for top in ("Annotations", "JPEGImages"):
        shutil.copytree(tmp_path / "flat" / top, nested / top / "480p")
    assert [s.name for s in summarize_dataset(nested).sequences] == ["seqA", "seqB"]
    from_annotations = summarize_dataset(nested / "Annotations")
    assert from_annotations.root == str(nested) and from_annotations.warnings == ()


def test_each_annotation_is_decoded_once_and_palette_headers_are_not_reopened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_dataset(tmp_path / "data")
    decoded: list[Path] = []
    headers: list[Path] = []
    read, header = summary_module.read_mask_png, summary_module.image_header
    monkeypatch.setattr(summary_module, "read_mask_png", lambda path: decoded.append(path) or read(path))
    monkeypatch.setattr(summary_module, "image_header", lambda path: headers.append(path) or header(path))
    summarize_dataset(root)
    assert sorted(decoded) == sorted(root.glob("Annotations/*/*.png"))
    assert sorted(headers) == sorted(root.glob("JPEGImages/*/*.jpg"))  # frames: headers only


# ---------------------------------------------------------------------------------------------------------------
# Warnings: each breaks a clean dataset one way and names the file or folder it is about


def _empty(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink()


def _no_frames(root: Path) -> Path:
    _empty(root / "JPEGImages/seqB")
    return root / "JPEGImages/seqB"


def _no_annotations(root: Path) -> Path:
    _empty(root / "Annotations/seqB")
    return root / "Annotations/seqB"


def _annotation_folder_missing(root: Path) -> Path:
    shutil.rmtree(root / "Annotations/seqB")
    return root / "Annotations/seqB"


def _frame_folder_missing(root: Path) -> Path:
    shutil.rmtree(root / "JPEGImages/seqB")
    return root / "JPEGImages/seqB"


def _no_jpegimages_at_all(root: Path) -> Path:
    shutil.rmtree(root / "JPEGImages")
    return root / "JPEGImages"


def _annotation_size_differs_from_frame(root: Path) -> Path:
    path = root / "Annotations/seqA/00002.png"
    write_palette_png(path, seq_a_labels(2, width=60, height=40))
    return path


def _annotation_size_differs_from_annotations(root: Path) -> Path:
    shutil.rmtree(root / "JPEGImages/seqA")  # its own warning; no frame to compare with, so the first annotation
    path = root / "Annotations/seqA/00002.png"
    write_palette_png(path, seq_a_labels(2, width=60, height=40))
    return path


def _frame_size_differs(root: Path) -> Path:
    path = root / "JPEGImages/seqB/00001.jpg"
    write_jpeg(path, 60, 40)  # its annotation then differs from it too: a second warning, naming the PNG
    return path


def _annotation_without_frame(root: Path) -> Path:
    path = root / "Annotations/seqB/00007.png"
    write_palette_png(path, seq_b_labels(0))
    return path


def _unreadable_annotation(root: Path) -> Path:
    path = root / "Annotations/seqA/00001.png"
    path.write_bytes(b"not a png at all")
    return path


def _truncated_annotation(root: Path) -> Path:
    path = root / "Annotations/seqA/00003.png"
    noise = np.random.default_rng(0).integers(0, 4, (H, W)).astype(np.uint8)
    write_palette_png(path, noise)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # the header reads, the pixels do not
    return path


def _unreadable_frame(root: Path) -> Path:
    path = root / "JPEGImages/seqA/00001.jpg"
    path.write_text("this is text, not a JPEG")
    return path


def _rgb_annotation_outside_palette(root: Path) -> Path:
    path = root / "Annotations/seqB/00001.png"
    Image.fromarray(np.full((H, W, 3), 255, dtype=np.uint8), mode="RGB").save(path)
    return path


def _no_objects(root: Path) -> Path:
    for frame in range(3):
        labels = np.zeros((H, W), dtype=np.uint8)
        labels[:5] = 255
        write_palette_png(root / f"Annotations/seqB/{frame:05d}.png", labels)
    return root / "Annotations/seqB"


def _binary_masks(root: Path) -> Path:
    for frame in range(3):
        white = (seq_b_labels(frame) > 0).astype(np.uint8) * 255
        Image.fromarray(white, mode="L").save(root / f"Annotations/seqB/{frame:05d}.png")
    return root / "Annotations/seqB/00000.png"  # the first of them; one line for the folder's three


def _gap_in_frame_numbers(root: Path) -> Path:
    (root / "JPEGImages/seqA/00002.jpg").unlink()
    (root / "Annotations/seqA/00002.png").unlink()
    return root / "JPEGImages/seqA"


def _not_a_frame_number(root: Path) -> Path:
    path = root / "Annotations/seqA/mask.png"
    write_palette_png(path, seq_a_labels(0))
    return path


def _frame_held_twice(root: Path) -> Path:
    path = root / "Annotations/seqA/1.png"
    shutil.copy(root / "Annotations/seqA/00001.png", path)
    return path


# (breakage, warnings in all, a word of the line about the named file)
BREAKAGES: list[tuple[Callable[[Path], Path], int, str]] = [
    (_no_frames, 1, "no frames"),
    (_no_annotations, 1, "no annotation"),
    (_annotation_folder_missing, 1, "missing"),
    (_frame_folder_missing, 1, "missing"),
    (_no_jpegimages_at_all, 1, "missing"),
    (_annotation_size_differs_from_frame, 1, "its frame 00002.jpg is 100x50"),
    (_annotation_size_differs_from_annotations, 2, "00000.png is 100x50"),
    (_frame_size_differs, 2, "00000.jpg is 100x50"),
    (_annotation_without_frame, 1, "frame 7"),
    (_unreadable_annotation, 1, "cannot be read"),
    (_truncated_annotation, 1, "truncated"),
    (_unreadable_frame, 1, "cannot be read"),
    (_rgb_annotation_outside_palette, 1, "DAVIS palette"),
    (_no_objects, 1, "no objects"),
    (_binary_masks, 1, "void"),
    (_gap_in_frame_numbers, 1, "skips frame numbers 2 (1 missing"),
    (_not_a_frame_number, 1, "not named by a frame number"),
    (_frame_held_twice, 1, "holds frame 1, as 00001.png does"),
]


@pytest.mark.parametrize(("breakage", "total", "word"), BREAKAGES, ids=[b[0].__name__.strip("_") for b in BREAKAGES])
def test_each_problem_is_one_warning_line_naming_its_file(
    tmp_path: Path, breakage: Callable[[Path], Path], total: int, word: str
) -> None:
    root = make_dataset(tmp_path / "data")
    named = breakage(root)
    summary = summarize_dataset(root)  # never raises on what is inside the dataset
    about = [line for line in summary.warnings if str(named) in line]
    assert len(about) == 1, summary.warnings
    assert word in about[0]
    assert len(summary.warnings) == total, summary.warnings
    assert all("\n" not in line for line in summary.warnings)
    assert [s.name for s in summary.sequences] == ["seqA", "seqB"]


def test_broken_files_do_not_stop_the_counts_of_the_others(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "data")
    _unreadable_annotation(root)
    _annotation_folder_missing(root)
    seq_a, seq_b = summarize_dataset(root).sequences
    assert (seq_a.annotated_frames, seq_a.object_ids) == (4, (1, 2))  # the file is counted; its objects are not
    assert seq_a.objects[1].frames == 2  # object 2 on frames 2 and 3; frame 1 could not be read
    assert (seq_b.frames, seq_b.annotated_frames, seq_b.objects) == (3, 0, ())


def test_binary_masks_say_why_and_skip_the_no_objects_line(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "data")
    _binary_masks(root)
    (line,) = summarize_dataset(root).warnings
    assert "not a palette PNG" in line and "only 0 and 255" in line
    assert "2 more file(s)" in line and "00001.png, 00002.png" in line


def test_one_problem_in_many_files_is_one_line_naming_the_first(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "data")
    for frame in (1, 2, 3):
        write_palette_png(root / f"Annotations/seqA/{frame:05d}.png", seq_a_labels(frame, width=60, height=40))
    (line,) = summarize_dataset(root).warnings
    assert line.startswith(f"{root / 'Annotations/seqA/00001.png'} is 60x40 but its frame 00001.jpg is 100x50.")
    assert line.endswith(f"The same for 2 more file(s) in {root / 'Annotations/seqA'}: 00002.png, 00003.png.")


def test_a_root_that_is_no_dataset_raises(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="is not a folder"):
        summarize_dataset(tmp_path / "absent")
    (tmp_path / "other").mkdir()
    with pytest.raises(DatasetError, match="neither an Annotations nor a JPEGImages"):
        summarize_dataset(tmp_path / "other")


def test_an_empty_layout_is_a_dataset_without_sequences(tmp_path: Path) -> None:
    (tmp_path / "data/Annotations").mkdir(parents=True)
    (tmp_path / "data/JPEGImages").mkdir()
    summary = summarize_dataset(tmp_path / "data")
    assert summary.sequences == () and len(summary.warnings) == 1 and "holds no sequences" in summary.warnings[0]


# ---------------------------------------------------------------------------------------------------------------
# Command line


def test_cli_prints_the_table_and_totals_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_dataset(tmp_path / "data")
    assert main(["summary", str(root), "--json", str(tmp_path / "summary.json")]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["sequence", "frames", "annotated", "objects", "size", "median", "object", "area"]
    assert re.fullmatch(r"seqA +4 +4 +2 +100x50 +3\.00%", lines[1])
    assert re.fullmatch(r"seqB +3 +3 +1 +100x50 +0\.50%", lines[2])
    assert lines[3] == "total: 2 sequences, 7 frames, 7 annotated frames, 3 objects, 0 warnings"
    assert json.loads((tmp_path / "summary.json").read_text()) == summarize_dataset(root).summary()


def test_cli_prints_warnings_on_stderr_and_still_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_dataset(tmp_path / "data")
    named = _unreadable_frame(root)
    _frame_folder_missing(root)
    assert main(["summary", str(root)]) == 0
    out, err = capsys.readouterr()
    assert "total: 2 sequences, 4 frames, 7 annotated frames, 3 objects, 2 warnings" in out
    warnings = err.splitlines()
    assert len(warnings) == 2 and all(line.startswith("warning: ") for line in warnings)
    assert sum(str(named) in line for line in warnings) == 1
    assert re.search(r"^seqB +0 +3 +1 +100x50 +0\.50%$", out, re.MULTILINE)


@pytest.mark.parametrize("make", [lambda tmp: tmp / "absent", lambda tmp: tmp, lambda tmp: tmp / "file.txt"])
def test_cli_exits_2_with_one_line_when_root_is_no_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], Path]
) -> None:
    (tmp_path / "file.txt").write_text("hello")
    root = make(tmp_path)
    assert main(["summary", str(root)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and str(root) in err


def test_the_synthetic_generator_output_summarises_without_warnings(tmp_path: Path) -> None:
    from playerseg.synthetic.dataset import generate_dataset

    meta = generate_dataset(tmp_path / "syn", sequences=2, frames=4, players=2, seed=3)
    summary = summarize_dataset(tmp_path / "syn")
    assert summary.warnings == ()
    assert [s.name for s in summary.sequences] == ["seq000", "seq001"]
    for sequence in summary.sequences:
        header = meta["sequences"][sequence.name]
        ids = {f["object_id"] for frame in header["frames"] for f in frame["figures"] if f["object_id"] is not None}
        assert (sequence.frames, sequence.annotated_frames) == (4, 4)
        assert (sequence.width, sequence.height) == (header["width"], header["height"])
        assert sequence.object_ids == tuple(sorted(ids)) == (1, 2)
        assert all(0 < o.min_area <= o.median_area <= o.max_area for o in sequence.objects)
    assert (summary.frames, summary.annotated_frames, summary.objects) == (8, 8, 4)
