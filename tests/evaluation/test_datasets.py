"""Loaders of evaluation.datasets against real files written here with PIL, pycocotools and PyAV."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evaluation import coco_rle
from evaluation.datasets import DatasetError, mask_pngs
from evaluation.datasets.coco_json import load_coco_rle, save_coco_rle
from evaluation.datasets.davis import load_davis
from evaluation.datasets.frames import FrameFolder, VideoFrames, open_frames
from evaluation.datasets.mask_pngs import davis_palette, load_mask_folder, read_mask_png
from evaluation.datasets.run_folders import load_run_folder
from evaluation.datasets.sources import load_masks
from evaluation.sequence import MaskSequence

H, W = 24, 32

# The first DAVIS / PASCAL VOC colours and the void colour, as the DAVIS toolkit's palette lists them.
KNOWN_COLOURS = {
    0: (0, 0, 0),
    1: (128, 0, 0),
    2: (0, 128, 0),
    3: (128, 128, 0),
    4: (0, 0, 128),
    5: (128, 0, 128),
    6: (0, 128, 128),
    7: (128, 128, 128),
    8: (64, 0, 0),
    255: (224, 224, 192),
}


def labels_with(*objects: tuple[int, slice, slice], height: int = H, width: int = W) -> np.ndarray:
    labels = np.zeros((height, width), dtype=np.uint8)
    for object_id, rows, cols in objects:
        labels[rows, cols] = object_id
    return labels


def frame_labels(frame: int) -> np.ndarray:
    """A different label map per frame: object 1 moves right, object 2 sits still, void strip at the bottom."""
    return labels_with(
        (1, slice(2, 8), slice(frame, frame + 5)), (2, slice(10, 16), slice(20, 26)), (255, slice(22, 24), slice(0, W))
    )


def palette_bytes() -> bytes:
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index, colour in KNOWN_COLOURS.items():
        palette[index] = colour
    return palette.tobytes()


def write_palette_png(path: Path, labels: np.ndarray) -> None:
    image = Image.frombytes("P", (labels.shape[1], labels.shape[0]), np.ascontiguousarray(labels).tobytes())
    image.putpalette(palette_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def write_rgb_png(path: Path, labels: np.ndarray) -> None:
    rgb = np.zeros(labels.shape + (3,), dtype=np.uint8)
    for index, colour in KNOWN_COLOURS.items():
        rgb[labels == index] = colour
    Image.fromarray(rgb, mode="RGB").save(path)


def write_mask_folder(folder: Path, frames: list[int]) -> dict[int, np.ndarray]:
    truth = {frame: frame_labels(frame) for frame in frames}
    for frame, labels in truth.items():
        write_palette_png(folder / f"{frame:05d}.png", labels)
    return truth


def write_jpegs(folder: Path, frames: list[int], height: int = H, width: int = W) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        Image.fromarray(np.full((height, width, 3), 10 * frame, dtype=np.uint8)).save(folder / f"{frame:05d}.jpg")


# ---------------------------------------------------------------------------------------------------------------
# Mask PNGs


def test_davis_palette_matches_the_known_colours() -> None:
    palette = davis_palette()
    assert palette.shape == (256, 3) and palette.dtype == np.uint8
    for index, colour in KNOWN_COLOURS.items():
        assert tuple(palette[index]) == colour
    assert len({tuple(c) for c in palette}) == 256  # every id has its own colour, so RGB maps back


def test_palette_grey_and_rgb_pngs_give_the_same_ids(tmp_path: Path) -> None:
    labels = labels_with(
        (1, slice(0, 5), slice(0, 5)),
        (3, slice(5, 9), slice(10, 20)),
        (8, slice(20, 24), slice(1, 2)),
        (255, slice(12, 13), slice(0, W)),
    )
    write_palette_png(tmp_path / "p.png", labels)
    Image.fromarray(labels, mode="L").save(tmp_path / "l.png")
    write_rgb_png(tmp_path / "rgb.png", labels)
    rgba = np.dstack([np.array(Image.open(tmp_path / "rgb.png")), np.full((H, W), 255, np.uint8)])
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "rgba.png")
    for name in ("p.png", "l.png", "rgb.png", "rgba.png"):
        read = read_mask_png(tmp_path / name)
        assert read.dtype == np.uint8 and read.shape == (H, W), name
        np.testing.assert_array_equal(read, labels, err_msg=name)


def test_rgb_colour_outside_the_palette_is_an_error_naming_file_and_colour(tmp_path: Path) -> None:
    rgb = np.zeros((H, W, 3), dtype=np.uint8)
    rgb[3:5, 3:6] = (200, 10, 10)
    Image.fromarray(rgb, mode="RGB").save(tmp_path / "00000.png")
    sequence = load_mask_folder(tmp_path)
    with pytest.raises(DatasetError, match=r"00000\.png.*\(200, 10, 10\) in 6 pixels"):
        sequence.read(0)


def test_sixteen_bit_masks_read_when_values_fit_and_fail_naming_the_file_when_not(tmp_path: Path) -> None:
    small = labels_with((4, slice(1, 3), slice(1, 3))).astype(np.uint16)
    big = small.copy()
    big[0, 0] = 300
    Image.fromarray(small).save(tmp_path / "small.png")
    Image.fromarray(big).save(tmp_path / "big.png")
    assert Image.open(tmp_path / "big.png").mode.startswith("I")
    np.testing.assert_array_equal(read_mask_png(tmp_path / "small.png"), small)
    with pytest.raises(DatasetError, match=r"big\.png holds values up to 300"):
        read_mask_png(tmp_path / "big.png")


def test_mask_folder_numbers_frames_by_file_name_and_reads_lazily(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = write_mask_folder(tmp_path / "clip", [12, 0, 3])
    opened: list[str] = []
    real_read = mask_pngs.read_mask_png
    monkeypatch.setattr(mask_pngs, "read_mask_png", lambda path: opened.append(Path(path).name) or real_read(path))

    sequence = load_mask_folder(tmp_path / "clip")
    assert isinstance(sequence, MaskSequence)
    assert (sequence.name, sequence.frames, sequence.height, sequence.width) == ("clip", (0, 3, 12), H, W)
    assert opened == []  # loading reads headers only
    np.testing.assert_array_equal(sequence.read(12), truth[12])
    assert opened == ["00012.png"]
    for frame, labels in sequence:
        np.testing.assert_array_equal(labels, truth[frame])
    assert sequence.object_ids() == (1, 2)
    assert load_mask_folder(tmp_path / "clip", name="other").name == "other"


def test_mask_file_of_another_size_is_named_with_both_sizes_at_load(tmp_path: Path) -> None:
    write_palette_png(tmp_path / "00000.png", np.zeros((H, W), np.uint8))
    write_palette_png(tmp_path / "00001.png", np.zeros((H, W), np.uint8))
    write_palette_png(tmp_path / "00002.png", np.zeros((H, W - 1), np.uint8))
    with pytest.raises(DatasetError, match=rf"00002\.png is {W - 1}x{H} but 00000\.png is {W}x{H}"):
        load_mask_folder(tmp_path)


def test_unreadable_masks_are_named(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt"
    write_mask_folder(corrupt, [0])
    (corrupt / "00001.png").write_bytes(b"not a png at all" * 10)
    with pytest.raises(DatasetError, match=r"00001\.png cannot be read as an image"):
        load_mask_folder(corrupt)

    truncated = tmp_path / "truncated"
    write_mask_folder(truncated, [0, 1])
    data = (truncated / "00001.png").read_bytes()
    (truncated / "00001.png").write_bytes(data[:-30])  # the header survives, the pixels do not
    sequence = load_mask_folder(truncated)
    sequence.read(0)
    with pytest.raises(DatasetError, match=r"00001\.png cannot be read as a mask image"):
        sequence.read(1)


def test_mask_names_must_be_frame_numbers_and_unique(tmp_path: Path) -> None:
    write_mask_folder(tmp_path / "a", [0])
    write_palette_png(tmp_path / "a" / "frame_one.png", np.zeros((H, W), np.uint8))
    with pytest.raises(DatasetError, match=r"frame_one\.png is not named by a frame number"):
        load_mask_folder(tmp_path / "a")

    write_mask_folder(tmp_path / "b", [12])
    write_palette_png(tmp_path / "b" / "12.png", np.zeros((H, W), np.uint8))
    with pytest.raises(DatasetError, match=r"both hold frame 12"):
        load_mask_folder(tmp_path / "b")


def test_empty_or_missing_mask_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no masks here")
    with pytest.raises(DatasetError, match=r"empty holds no mask \.png files"):
        load_mask_folder(tmp_path / "empty")
    with pytest.raises(DatasetError, match="is not a folder"):
        load_mask_folder(tmp_path / "nowhere")


# ---------------------------------------------------------------------------------------------------------------
# DAVIS


def test_davis_root_with_two_sequences(tmp_path: Path) -> None:
    truth_a = write_mask_folder(tmp_path / "Annotations" / "alpha", [0, 1, 2])
    write_mask_folder(tmp_path / "Annotations" / "beta", [0, 5])
    write_jpegs(tmp_path / "JPEGImages" / "alpha", [0, 1, 2])  # beta has no frames

    davis = load_davis(tmp_path)
    assert list(davis) == ["alpha", "beta"]
    alpha, beta = davis["alpha"], davis["beta"]
    assert alpha.masks.frames == (0, 1, 2) and beta.masks.frames == (0, 5)
    np.testing.assert_array_equal(alpha.masks.read(2), truth_a[2])
    assert isinstance(alpha.frames, FrameFolder) and alpha.frames.frames == (0, 1, 2)
    rgb = alpha.frames.read(2)
    assert rgb.shape == (H, W, 3) and rgb.dtype == np.uint8 and abs(int(rgb.mean()) - 20) <= 2
    assert beta.frames is None
    assert set(load_masks(tmp_path)) == {"alpha", "beta"}
    assert set(load_masks(tmp_path / "Annotations")) == {"alpha", "beta"}


def test_davis_full_download_nests_sequences_under_480p(tmp_path: Path) -> None:
    write_mask_folder(tmp_path / "Annotations" / "480p" / "judo", [0, 1])
    write_jpegs(tmp_path / "JPEGImages" / "480p" / "judo", [0, 1])
    davis = load_davis(tmp_path)
    assert list(davis) == ["judo"]
    assert davis["judo"].frames is not None and davis["judo"].frames.frames == (0, 1)


def test_single_sequence_folder_and_bare_sequence_folder(tmp_path: Path) -> None:
    single = tmp_path / "match"
    truth = write_mask_folder(single / "Annotations", [0, 4])
    write_jpegs(single / "JPEGImages", [0, 1, 2, 3, 4])
    davis = load_davis(single)
    assert list(davis) == ["match"]
    assert davis["match"].masks.frames == (0, 4) and davis["match"].frames is not None
    assert len(davis["match"].frames.frames) == 5
    np.testing.assert_array_equal(load_masks(single)["match"].read(4), truth[4])
    assert list(load_davis(single / "Annotations")) == ["match"]

    # ROOT/Annotations/<seq> alone: its frames are found at ROOT/JPEGImages/<seq>
    write_mask_folder(tmp_path / "root" / "Annotations" / "seq7", [0])
    write_jpegs(tmp_path / "root" / "JPEGImages" / "seq7", [0])
    bare = load_davis(tmp_path / "root" / "Annotations" / "seq7")
    assert list(bare) == ["seq7"] and bare["seq7"].frames is not None
    assert bare["seq7"].frames.path == (tmp_path / "root" / "JPEGImages" / "seq7")


def test_real_judo_folder_reports_the_narrow_mask(judo_dir: Path) -> None:
    with pytest.raises(DatasetError, match=r"00005\.png is 853x480 but 00000\.png is 854x480") as caught:
        load_davis(judo_dir)
    assert str(judo_dir / "Annotations" / "00005.png") in str(caught.value)
    with open_frames(judo_dir) as frames:
        assert frames.frames == tuple(range(16))
        assert (frames.width, frames.height) == (854, 480)
        assert frames.read(15).shape == (480, 854, 3)


# ---------------------------------------------------------------------------------------------------------------
# COCO RLE


def coco_counts(mask: np.ndarray) -> str:
    from pycocotools import mask as mask_api

    return mask_api.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"].decode("ascii")


def column_major_runs(mask: np.ndarray) -> list[int]:
    """Uncompressed COCO counts, written out here: alternating runs down the columns, background first."""
    flat = mask.reshape(-1, order="F").astype(np.uint8)
    runs, current, length = [], 0, 0
    for value in flat:
        if value == current:
            length += 1
        else:
            runs.append(length)
            current, length = value, 1
    runs.append(length)
    return runs


def test_coco_file_decodes_per_frame_with_higher_id_winning(tmp_path: Path) -> None:
    person = np.zeros((H, W), bool)
    person[2:12, 2:12] = True
    ball = np.zeros((H, W), bool)
    ball[8:14, 8:14] = True  # overlaps the person on rows 8-11, columns 8-11
    document = {
        "images": [
            {"id": 10, "file_name": "clip/frame_00003.jpg", "height": H, "width": W},
            {"id": 11, "file_name": "clip/frame_00007.jpg", "height": H, "width": W},
            {"id": 12, "file_name": "clip/frame_00009.jpg", "height": H, "width": W},  # no annotations: empty
        ],
        "annotations": [
            {
                "image_id": 10,
                "track_id": 5,
                "category_id": 1,
                "segmentation": {"size": [H, W], "counts": coco_counts(ball)},
            },
            {"image_id": 10, "track_id": 2, "segmentation": {"size": [H, W], "counts": coco_counts(person)}},
            {"image_id": 11, "object_id": 2, "segmentation": {"size": [H, W], "counts": column_major_runs(person)}},
        ],
    }
    path = tmp_path / "preds.json"
    path.write_text(json.dumps(document))

    sequences = load_coco_rle(path)
    assert list(sequences) == ["preds"]
    sequence = sequences["preds"]
    assert (sequence.frames, sequence.height, sequence.width) == ((3, 7, 9), H, W)
    expected = np.zeros((H, W), np.uint8)
    expected[person] = 2
    expected[ball] = 5  # the higher id wins the overlap
    np.testing.assert_array_equal(sequence.read(3), expected)
    np.testing.assert_array_equal(sequence.read(7), person.astype(np.uint8) * 2)  # uncompressed counts
    np.testing.assert_array_equal(sequence.read(9), np.zeros((H, W), np.uint8))
    assert load_masks(path)["preds"].frames == (3, 7, 9)


def test_coco_object_id_precedence_sequences_and_frame_index(tmp_path: Path) -> None:
    mask = np.zeros((H, W), bool)
    mask[1:4, 1:4] = True
    rle = {"size": [H, W], "counts": coco_counts(mask)}
    document = {
        "videos": [{"id": 1, "name": "left"}, {"id": 2, "name": "right"}],
        "images": [
            {"id": 1, "video_id": 1, "frame_index": 4, "file_name": "a_99.jpg", "height": H, "width": W},
            {"id": 2, "video_id": 2, "file_name": "b.jpg", "height": H, "width": W},
            {"id": 3, "video_id": 2, "file_name": "c.jpg", "height": H, "width": W},
        ],
        "annotations": [
            {"image_id": 1, "track_id": 7, "object_id": 6, "instance_id": 5, "category_id": 4, "segmentation": rle},
            {"image_id": 2, "instance_id": 5, "category_id": 4, "segmentation": rle},
            {"image_id": 3, "category_id": 4, "segmentation": rle},
        ],
    }
    path = tmp_path / "multi.json"
    path.write_text(json.dumps(document))
    sequences = load_coco_rle(path)
    assert set(sequences) == {"left", "right"}
    assert sequences["left"].frames == (4,)  # frame_index beats the file name's digits
    assert sequences["right"].frames == (0, 1)  # no digits in the names: image order
    assert set(np.unique(sequences["left"].read(4))) == {0, 7}
    assert set(np.unique(sequences["right"].read(0))) == {0, 5}
    assert set(np.unique(sequences["right"].read(1))) == {0, 4}


def test_flat_rle_list_and_dict_forms(tmp_path: Path) -> None:
    a = np.zeros((H, W), bool)
    a[0:3, 0:3] = True
    b = np.zeros((H, W), bool)
    b[5:9, 5:9] = True
    entries = [
        {"frame": 2, "object_id": 1, "segmentation": {"size": [H, W], "counts": coco_counts(a)}},
        {"frame": 2, "object_id": 3, "rle": {"size": [H, W], "counts": coco_counts(b)}},
        {"frame": 6, "object_id": 3, "segmentation": {"size": [H, W], "counts": column_major_runs(b)}},
    ]
    (tmp_path / "flat.json").write_text(json.dumps(entries))
    (tmp_path / "named.json").write_text(json.dumps({"sequence": "game", "frames": entries}))
    flat = load_coco_rle(tmp_path / "flat.json")["flat"]
    named = load_coco_rle(tmp_path / "named.json")["game"]
    expected = a.astype(np.uint8) + 3 * b.astype(np.uint8)
    for sequence in (flat, named):
        assert sequence.frames == (2, 6)
        np.testing.assert_array_equal(sequence.read(2), expected)
        np.testing.assert_array_equal(sequence.read(6), 3 * b.astype(np.uint8))


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # pycocotools under numpy 2
def test_save_coco_rle_round_trip_keeps_ids_void_and_frames(tmp_path: Path) -> None:
    truth = {frame: frame_labels(frame) for frame in (0, 2, 9)}
    truth[2][:, :] = 0  # an empty frame survives as an image without annotations
    original = MaskSequence.from_arrays("seq000", truth)
    path = save_coco_rle(original, tmp_path / "out.json")
    document = json.loads(path.read_text())
    assert len(document["images"]) == 3
    assert {a["track_id"] for a in document["annotations"]} == {1, 2, 255}

    from pycocotools import mask as mask_api  # the written RLE decodes with pycocotools itself

    first = document["annotations"][0]
    segmentation = first["segmentation"]
    decoded = mask_api.decode({"size": segmentation["size"], "counts": segmentation["counts"].encode()})
    np.testing.assert_array_equal(decoded.astype(bool), truth[0] == first["track_id"])

    loaded = load_coco_rle(path)["seq000"]
    assert loaded.frames == (0, 2, 9)
    for frame, labels in truth.items():
        np.testing.assert_array_equal(loaded.read(frame), labels)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # pycocotools under numpy 2
def test_save_coco_rle_writes_what_pycocotools_computes(tmp_path: Path) -> None:
    from pycocotools import mask as mask_api  # the independent reference (requirements-dev.txt)

    rng = np.random.default_rng(7)
    truth = {
        frame: rng.choice(np.array([0, 1, 2, 9, 255], np.uint8), size=(H, W), p=[0.6, 0.1, 0.1, 0.1, 0.1])
        for frame in range(3)
    }
    document = json.loads(save_coco_rle(MaskSequence.from_arrays("seq", truth), tmp_path / "out.json").read_text())
    for annotation in document["annotations"]:
        labels = truth[document["images"][annotation["image_id"] - 1]["frame_index"]]
        encoded = mask_api.encode(np.asfortranarray(labels == annotation["track_id"], dtype=np.uint8))
        assert annotation["segmentation"]["counts"] == encoded["counts"].decode("ascii")
        assert annotation["area"] == int(mask_api.area(encoded))
        assert annotation["bbox"] == [float(v) for v in mask_api.toBbox(encoded)]


def one_annotation(**annotation: object) -> dict[str, object]:
    """A COCO document with one 32x24 image (id 1) and the given annotation."""
    return {"images": [{"id": 1, "height": H, "width": W}], "annotations": [annotation]}


FULL = {"size": [H, W], "counts": [H * W]}  # an empty mask as uncompressed counts


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"images": [{"id": 1, "height": H}], "annotations": []}, r"images\[0\] has no 'width'"),
        (one_annotation(image_id=1, segmentation=FULL), r"annotations\[0\] has no object id"),
        (one_annotation(image_id=9, track_id=1, segmentation=FULL), r"annotations\[0\] refers to image id 9"),
        (
            one_annotation(image_id=1, track_id=1, segmentation={"size": [H, W + 1], "counts": [H * (W + 1)]}),
            r"annotations\[0\] has an RLE of size 33x24 on an image of 32x24",
        ),
        (
            one_annotation(image_id=1, track_id=1, segmentation={"size": [H, W], "counts": [1, 2]}),
            r"annotations\[0\] counts cover 3 pixels",
        ),
        (one_annotation(image_id=1, track_id=300, segmentation=FULL), r"annotations\[0\] has track_id 300"),
        (one_annotation(image_id=1, track_id=1, segmentation=[[0, 0, 5, 0, 5, 5]]), r"annotations\[0\] is a polygon"),
        (one_annotation(image_id=1, track_id=1), r"annotations\[0\] has no 'segmentation'"),
        ([{"frame": 0, "object_id": 1}], r"entry 0 has no \"segmentation\""),
        ({"nothing": True}, r"neither a COCO file"),
    ],
)
def test_malformed_coco_names_file_and_entry(tmp_path: Path, document: object, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(DatasetError, match=message) as caught:
        load_coco_rle(path)
    assert str(path) in str(caught.value)


def test_invalid_json_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"images": [')
    with pytest.raises(DatasetError, match=r"broken\.json is not valid JSON \(line 1"):
        load_coco_rle(tmp_path / "broken.json")


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ("0", "counts cover 0 pixels"),  # pycocotools would decode this into uninitialised memory
        ("623049", "counts cover 31 pixels"),
        ("6230~", "counts hold '~', which is not an RLE character"),
        ("6230P", "counts end in the middle of a number"),
    ],
)
def test_compressed_counts_that_do_not_fill_the_image_are_rejected_at_load(
    tmp_path: Path, counts: str, message: str
) -> None:
    document = [{"frame": 0, "object_id": 1, "segmentation": {"size": [5, 4], "counts": counts}}]
    (tmp_path / "garbage.json").write_text(json.dumps(document))
    with pytest.raises(DatasetError, match=rf"garbage\.json: entry 0 {message}"):
        load_coco_rle(tmp_path / "garbage.json")


def test_compressed_counts_parse_to_the_column_major_runs() -> None:
    rng = np.random.default_rng(3)
    for density in (0.02, 0.5, 0.98):
        mask = rng.random((37, 23)) < density
        parsed = coco_rle.decode_counts(coco_counts(mask))
        assert parsed == column_major_runs(mask)


def test_coco_rle_is_read_and_written_without_pycocotools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pycocotools", None)  # makes `from pycocotools import mask` fail
    truth = {frame: frame_labels(frame) for frame in (0, 1)}
    path = save_coco_rle(MaskSequence.from_arrays("seq", truth), tmp_path / "a.json")
    loaded = load_coco_rle(path)["seq"]
    for frame, labels in truth.items():
        np.testing.assert_array_equal(loaded.read(frame), labels)


# ---------------------------------------------------------------------------------------------------------------
# Run folders

FRAMES_CSV = """frame,time_s,latency_ms,decode_ms,prompt_ms,memory_mb,peak_memory_mb,passes,visible_objects
0,0.0,250.0,0.0,200.0,700.0,700.0,1,2
1,0.0417,100.0,2.5,0.0,710.0,710.0,1,2
2,0.0833,120.0,3.0,0.0,705.0,712.5,1,1
"""


def write_run_folder(run: Path, clip: Path, model: str = "test-sam2.1-tiny-128") -> dict[int, np.ndarray]:
    """A run folder laid out as `python -m playerseg segment --out RUN` writes it."""
    truth = write_mask_folder(run / "masks", [0, 1, 2])
    (run / "frames.csv").write_text(FRAMES_CSV)
    facts = {
        "model": model,
        "random_weights": True,
        "device": "cpu",
        "clip": {"path": str(clip), "width": W, "height": H, "fps": 24.0, "frame_count": 3},
        "objects": [1, 2],
        "latency": {"p50_ms": 110.0},
        "memory": {"kind": "process_rss", "peak_mb": 712.5},
        "warnings": ["random weights"],
    }
    (run / "run.json").write_text(json.dumps(facts, indent=2))
    (run / "prompts.json").write_text(json.dumps({"version": 1, "prompts": []}))
    return truth


def test_run_folder_gives_masks_profile_facts_and_clip(tmp_path: Path) -> None:
    clip = tmp_path / "videos" / "seq000.mp4"
    clip.parent.mkdir()
    clip.write_bytes(b"")  # only its existence matters here
    truth = write_run_folder(tmp_path / "run", clip)

    run = load_run_folder(tmp_path / "run")
    assert run.name == "test-sam2.1-tiny-128"
    assert run.masks.name == "seq000" and run.masks.frames == (0, 1, 2)
    np.testing.assert_array_equal(run.masks.read(1), truth[1])
    assert run.clip == str(clip)
    assert run.facts["random_weights"] is True
    assert run.profile is not None
    assert run.profile.name == "test-sam2.1-tiny-128" and run.profile.device == "cpu"
    assert run.profile.memory_kind == "process_rss" and run.profile.peak_memory_mb == 712.5
    np.testing.assert_array_equal(run.profile.is_prompt, [True, False, False])
    np.testing.assert_allclose(run.profile.extra["decode_ms"], [0.0, 2.5, 3.0])
    assert run.profile.summary().prompt_ms == 250.0

    assert load_run_folder(tmp_path / "run" / "masks").path == tmp_path / "run"
    assert list(load_masks(tmp_path / "run")) == ["seq000"]
    assert list(load_masks(tmp_path / "run" / "masks")) == ["seq000"]


def test_run_folder_without_clip_or_frames_csv(tmp_path: Path) -> None:
    write_run_folder(tmp_path / "run", tmp_path / "gone.mp4")
    (tmp_path / "run" / "frames.csv").unlink()
    run = load_run_folder(tmp_path / "run")
    assert run.clip is None and run.profile is None and run.masks.name == "gone"


def test_not_a_run_folder(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text("{}")
    with pytest.raises(DatasetError, match=r"is not a run folder: it has no masks/ folder"):
        load_run_folder(tmp_path / "run")


def test_bad_frames_csv_in_a_run_folder_is_a_dataset_error(tmp_path: Path) -> None:
    write_run_folder(tmp_path / "run", tmp_path / "clip.mp4")
    (tmp_path / "run" / "frames.csv").write_text("frame,latency_ms\n0,fast\n")
    with pytest.raises(DatasetError, match=r"frames\.csv: line 2 has latency_ms 'fast'"):
        load_run_folder(tmp_path / "run")


def test_load_masks_dispatch_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DatasetError, match=r"notes\.txt is not a mask source"):
        load_masks(tmp_path / "notes.txt")
    with pytest.raises(DatasetError, match="does not exist"):
        load_masks(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no masks"):
        load_masks(tmp_path / "empty")
    write_mask_folder(tmp_path / "pngs", [3])
    assert list(load_masks(tmp_path / "pngs")) == ["pngs"]


# ---------------------------------------------------------------------------------------------------------------
# Frame sources


def test_frame_folder_reads_rgb_by_frame_number(tmp_path: Path) -> None:
    write_jpegs(tmp_path / "frames", [0, 2, 10])
    Image.fromarray(np.full((H, W), 200, np.uint8), mode="L").save(tmp_path / "frames" / "00011.png")
    with open_frames(tmp_path / "frames") as frames:
        assert isinstance(frames, FrameFolder)
        assert frames.frames == (0, 2, 10, 11) and (frames.width, frames.height) == (W, H)
        assert abs(int(frames.read(10).mean()) - 100) <= 2
        grey = frames.read(11)
        assert grey.shape == (H, W, 3) and int(grey.min()) == 200  # greyscale comes back as RGB
        with pytest.raises(DatasetError, match="has no frame 1"):
            frames.read(1)


def write_video(path: Path, colours: list[tuple[int, int, int]], size: tuple[int, int] = (64, 48)) -> None:
    import av

    width, height = size
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "10"}
        for colour in colours:
            rgb = np.empty((height, width, 3), dtype=np.uint8)
            rgb[:] = colour
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


COLOURS = [
    (200, 30, 30),
    (30, 200, 30),
    (30, 30, 200),
    (200, 200, 30),
    (30, 200, 200),
    (200, 30, 200),
    (120, 120, 120),
    (240, 240, 240),
]


def assert_colour(rgb: np.ndarray, colour: tuple[int, int, int]) -> None:
    assert rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8
    np.testing.assert_allclose(rgb.reshape(-1, 3).mean(axis=0), colour, atol=8)


def test_video_frames_read_in_order_and_out_of_order(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    write_video(path, COLOURS)
    with open_frames(path) as video:
        assert isinstance(video, VideoFrames)
        assert (video.width, video.height) == (64, 48) and video.frames == tuple(range(len(COLOURS)))
        reopened = []
        real_open = video._open
        video._open = lambda: reopened.append(1) or real_open()  # type: ignore[method-assign]

        for frame, colour in enumerate(COLOURS):  # sequential: one decode per frame, never a reopen
            assert_colour(video.read(frame), colour)
        assert reopened == []
        assert_colour(video.read(6), COLOURS[6])  # still cached
        assert reopened == []
        assert_colour(video.read(1), COLOURS[1])  # earlier than the cache: decode again from the start
        assert reopened == [1]
        assert_colour(video.read(5), COLOURS[5])  # forward again, skipping frames
        assert_colour(video.read(3), COLOURS[3])
        with pytest.raises(DatasetError, match=rf"clip\.mp4 has {len(COLOURS)} frames; frame 20 does not exist"):
            video.read(20)

        first = video.read(0)
        first[:] = 0  # callers get copies: the cache is not changed through them
        assert_colour(video.read(0), COLOURS[0])

        video._frame_count = None  # as for a container that does not say: count packets
        assert video.frame_count == len(COLOURS)


def test_open_frames_rejects_what_is_not_a_video(tmp_path: Path) -> None:
    (tmp_path / "fake.mp4").write_text("not a video")
    with pytest.raises(DatasetError, match=r"fake\.mp4 cannot be opened as a video"):
        open_frames(tmp_path / "fake.mp4")
    with pytest.raises(DatasetError, match="does not exist"):
        open_frames(tmp_path / "nothing.mp4")


def test_video_frames_turn_a_rotated_clip_as_it_is_displayed(tmp_path: Path) -> None:
    # a phone clip: stored 64 wide x 48 high with a display matrix turning it a quarter counter-clockwise; playerseg
    # shows and segments it 48 wide x 64 high, so the frames the flicker metrics read must come out that way too
    import av

    path = tmp_path / "rotated.mp4"
    rng = np.random.default_rng(3)
    stored = [np.repeat(np.repeat(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), 8, 0), 8, 1) for _ in range(3)]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.set_display_rotation(90)
        for rgb in stored:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with av.open(str(path)) as container:  # what the file holds, decoded by PyAV itself and turned by numpy
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    with VideoFrames(path) as frames:
        assert (frames.width, frames.height) == (48, 64)
        for index in (0, 2, 1):  # frame 1 after 2: decoded again from the start
            got = frames.read(index)
            assert got.shape == (64, 48, 3)
            assert np.array_equal(got, np.rot90(decoded[index], k=1))
