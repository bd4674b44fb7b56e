"""Masks: DAVIS palette PNGs, COCO RLE (hand-worked and against pycocotools), bounding boxes, MaskTrack."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from playerseg.io.masks import (
    MaskError,
    MaskTrack,
    bbox_from_mask,
    davis_palette,
    read_palette_png,
    rle_decode,
    rle_encode,
    write_palette_png,
)

# ---------------------------------------------------------------- palette


def test_palette_by_hand() -> None:
    palette = davis_palette()
    assert palette.shape == (256, 3) and palette.dtype == np.uint8
    assert tuple(palette[0]) == (0, 0, 0)
    assert tuple(palette[1]) == (128, 0, 0)  # bit 0 -> red's top bit
    assert tuple(palette[2]) == (0, 128, 0)  # bit 1 -> green's top bit
    assert tuple(palette[3]) == (128, 128, 0)
    assert tuple(palette[4]) == (0, 0, 128)  # bit 2 -> blue's top bit
    assert tuple(palette[8]) == (64, 0, 0)  # bit 3 -> red's second bit
    # 255 = 0b11111111: groups 111, 111, 11 -> r = g = 128+64+32, b = 128+64
    assert tuple(palette[255]) == (224, 224, 192)
    assert len({tuple(c) for c in palette}) == 256  # distinct colours: RGB masks map back to ids


def test_palette_is_a_fresh_copy() -> None:
    davis_palette()[1] = (1, 2, 3)
    assert tuple(davis_palette()[1]) == (128, 0, 0)


# ---------------------------------------------------------------- PNG I/O


def odd_labels() -> np.ndarray:
    labels = np.zeros((21, 37), dtype=np.uint8)
    labels[2:9, 3:30] = 1
    labels[10:20, 0:5] = 7
    labels[0, 36] = 254
    labels[20, 0] = 255
    return labels


def test_palette_png_round_trip_odd_size(tmp_path: Path) -> None:
    path = tmp_path / "00000.png"
    write_palette_png(path, odd_labels())
    with Image.open(path) as image:
        assert image.mode == "P"
        assert image.size == (37, 21)
        assert np.array_equal(np.array(image.getpalette()[: 256 * 3]).reshape(256, 3), davis_palette())
    labels = read_palette_png(path)
    assert labels.dtype == np.uint8
    assert np.array_equal(labels, odd_labels())


def test_reads_greyscale_png_values_as_ids(tmp_path: Path) -> None:
    path = tmp_path / "grey.png"
    Image.fromarray(odd_labels()).save(path)  # a uint8 array saves as mode "L"
    with Image.open(path) as image:
        assert image.mode == "L"
    assert np.array_equal(read_palette_png(path), odd_labels())


def test_reads_rgb_png_of_palette_colours_as_ids(tmp_path: Path) -> None:
    path = tmp_path / "rgb.png"
    Image.fromarray(davis_palette()[odd_labels()]).save(path)
    assert np.array_equal(read_palette_png(path), odd_labels())


def test_rgb_png_with_other_colours_is_rejected(tmp_path: Path) -> None:
    rgb = davis_palette()[odd_labels()]
    rgb[5, 5] = (10, 200, 30)
    path = tmp_path / "photo.png"
    Image.fromarray(rgb).save(path)
    with pytest.raises(MaskError, match=r"photo\.png.*\(10, 200, 30\)"):
        read_palette_png(path)


def test_non_image_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("not a png")
    with pytest.raises(MaskError, match=r"notes\.png"):
        read_palette_png(path)


def test_real_judo_annotation(judo_dir: Path) -> None:
    labels = read_palette_png(judo_dir / "Annotations" / "00000.png")
    assert labels.shape == (480, 854)
    assert set(np.unique(labels).tolist()) == {0, 1}
    # a real-world quirk (see the data README): this one is one pixel narrower than its 854 px frame
    assert read_palette_png(judo_dir / "Annotations" / "00005.png").shape == (480, 853)


# ---------------------------------------------------------------- bbox


def test_bbox_single_pixel() -> None:
    mask = np.zeros((10, 8), dtype=bool)
    mask[5, 3] = True  # y=5, x=3
    assert bbox_from_mask(mask) == (3, 5, 4, 6)


def test_bbox_empty() -> None:
    assert bbox_from_mask(np.zeros((4, 4), dtype=bool)) is None


def test_bbox_l_shape() -> None:
    mask = np.zeros((12, 12), dtype=bool)
    mask[2:9, 4] = True  # vertical bar, rows 2..8 at x=4
    mask[8, 4:10] = True  # foot, x 4..9 at row 8
    assert bbox_from_mask(mask) == (4, 2, 10, 9)


# ---------------------------------------------------------------- RLE


def test_rle_hand_worked_counts() -> None:
    # columns (top to bottom): 0000 | 0110 | 1000 -> runs 5 zeros, 2 ones, 1 zero, 1 one, 3 zeros.
    # chars: 5, 2, 1 written as chr(48 + n); from the 4th count on, the difference to the count two before:
    # 1 - 2 = -1 -> low 5 bits 31 (sign bit set, nothing more) -> chr(48 + 31) = "O"; 3 - 1 = 2 -> "2"
    mask = np.array([[0, 0, 1], [0, 1, 0], [0, 1, 0], [0, 0, 0]], dtype=bool)
    rle = rle_encode(mask)
    assert rle == {"size": [4, 3], "counts": "521O2"}
    assert np.array_equal(rle_decode(rle), mask)


def test_rle_hand_worked_edge_cases() -> None:
    # a mask starting with foreground starts with an empty background run
    assert rle_encode(np.ones((2, 2), dtype=bool))["counts"] == "04"
    assert rle_encode(np.zeros((1, 1), dtype=bool))["counts"] == "1"
    # 100 = 0b11_00100: low group 4 with the "more" bit (4 | 32 = 36 -> "T"), then 3 -> "3"
    assert rle_encode(np.zeros((10, 10), dtype=bool))["counts"] == "T3"


def random_masks() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    masks = [
        np.zeros((5, 7), dtype=bool),
        np.ones((5, 7), dtype=bool),
        np.zeros((1, 1), dtype=bool),
        np.ones((1, 1), dtype=bool),
    ]
    for shape in [(21, 37), (1, 13), (13, 1), (64, 48), (101, 3)]:
        for density in (0.03, 0.5, 0.97):
            masks.append(rng.random(shape) < density)
    blob = np.zeros((360, 640), dtype=bool)
    blob[100:300, 200:260] = True
    masks.append(blob)
    return masks


@pytest.mark.parametrize("index", range(len(random_masks())))
def test_rle_round_trip(index: int) -> None:
    mask = random_masks()[index]
    rle = rle_encode(mask)
    assert rle["size"] == list(mask.shape)
    decoded = rle_decode(rle)
    assert decoded.dtype == bool
    assert np.array_equal(decoded, mask)


@pytest.mark.parametrize("index", range(len(random_masks())))
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # inside pycocotools' decode
def test_rle_matches_pycocotools(index: int) -> None:
    from pycocotools import mask as coco  # the independent reference (requirements-dev.txt)

    mask = random_masks()[index]
    theirs = coco.encode(np.asfortranarray(mask.astype(np.uint8)))
    ours = rle_encode(mask)
    assert ours["counts"] == theirs["counts"].decode("ascii")
    assert np.array_equal(rle_decode(theirs), mask)  # bytes counts, as pycocotools returns them
    assert np.array_equal(coco.decode({"size": ours["size"], "counts": ours["counts"].encode()}).astype(bool), mask)


def test_rle_decode_uncompressed_counts() -> None:
    mask = rle_decode({"size": [2, 3], "counts": [1, 2, 3]})
    assert np.array_equal(mask, np.array([[0, 1, 0], [1, 0, 0]], dtype=bool))


def test_rle_decode_rejects_bad_input() -> None:
    with pytest.raises(MaskError, match="cover 35 pixels"):
        rle_decode({"size": [4, 3], "counts": rle_encode(np.zeros((5, 7), dtype=bool))["counts"]})
    with pytest.raises(MaskError, match="invalid character"):
        rle_decode({"size": [1, 1], "counts": " "})
    with pytest.raises(MaskError, match="size"):
        rle_decode({"size": [4], "counts": "4"})
    with pytest.raises(MaskError, match="counts"):
        rle_decode({"size": [2, 2]})


# ---------------------------------------------------------------- MaskTrack


def box_mask(shape: tuple[int, int], x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_set_get_area() -> None:
    track = MaskTrack(21, 37)
    mask = box_mask((21, 37), 3, 4, 10, 9)
    track.set(2, 1, mask)
    got = track.get(2, 1)
    assert got.dtype == bool and np.array_equal(got, mask)
    assert track.area(2, 1) == 7 * 5
    assert track.area(0, 1) == 0
    assert not track.get(0, 1).any() and track.get(0, 1).shape == (21, 37)
    assert not track.get(2, 9).any()
    assert track.frames == [2] and track.object_ids == [1]


def test_get_returns_a_fresh_array() -> None:
    track = MaskTrack(8, 8)
    mask = box_mask((8, 8), 1, 1, 4, 4)
    track.set(0, 1, mask)
    mask[:] = False  # the caller reusing its buffer must not change the stored mask
    got = track.get(0, 1)
    got[:] = True
    assert track.area(0, 1) == 9
    assert np.array_equal(track.get(0, 1), box_mask((8, 8), 1, 1, 4, 4))


def test_noisy_masks_round_trip() -> None:
    rng = np.random.default_rng(3)
    track = MaskTrack(33, 17)
    masks = {(f, o): rng.random((33, 17)) < 0.5 for f in range(3) for o in (1, 2)}
    for (frame, obj), mask in masks.items():
        track.set(frame, obj, mask)
    for (frame, obj), mask in masks.items():
        assert np.array_equal(track.get(frame, obj), mask)
    assert track.nbytes <= len(masks) * ((33 * 17 + 7) // 8)  # never worse than packed bits


def test_label_map_highest_id_wins_on_overlap() -> None:
    track = MaskTrack(10, 10)
    track.set(0, 5, box_mask((10, 10), 0, 0, 6, 6))
    track.set(0, 2, box_mask((10, 10), 4, 4, 10, 10))  # set after 5, still loses where they overlap
    labels = track.label_map(0)
    assert labels.dtype == np.uint8
    assert labels[5, 5] == 5  # overlap
    assert labels[0, 0] == 5 and labels[9, 9] == 2 and labels[0, 9] == 0
    assert not track.label_map(3).any()


def test_nbytes_is_compact_for_a_720p_player_mask() -> None:
    track = MaskTrack(720, 1280)
    mask = np.zeros((720, 1280), dtype=bool)
    yy, xx = np.mgrid[:720, :1280]
    mask[((xx - 640) / 60) ** 2 + ((yy - 400) / 180) ** 2 <= 1] = True  # a player-sized ellipse
    track.set(0, 1, mask)
    assert track.nbytes * 50 < mask.nbytes  # raw bool is 921,600 bytes
    assert np.array_equal(track.get(0, 1), mask)


def test_set_rejects_wrong_masks() -> None:
    track = MaskTrack(10, 12)
    with pytest.raises(MaskError, match="12x10"):
        track.set(0, 1, np.zeros((12, 10), dtype=bool))
    with pytest.raises(MaskError, match="bool"):
        track.set(0, 1, np.zeros((10, 12), dtype=np.float32))
    with pytest.raises(MaskError, match="Object id"):
        track.set(0, 255, np.zeros((10, 12), dtype=bool))
    with pytest.raises(MaskError, match="Frame"):
        track.set(-1, 1, np.zeros((10, 12), dtype=bool))


def test_save_and_load_pngs_round_trip(tmp_path: Path) -> None:
    track = MaskTrack(21, 37)
    track.set(0, 1, box_mask((21, 37), 0, 0, 5, 5))
    track.set(0, 3, box_mask((21, 37), 10, 10, 20, 20))
    track.set(2, 3, box_mask((21, 37), 30, 1, 37, 21))
    paths = track.save_pngs(tmp_path / "masks", num_frames=4)
    assert [p.name for p in paths] == ["00000.png", "00001.png", "00002.png", "00003.png"]
    assert not read_palette_png(tmp_path / "masks" / "00001.png").any()  # no masks -> all background
    assert not read_palette_png(tmp_path / "masks" / "00003.png").any()
    loaded = MaskTrack.load_pngs(tmp_path / "masks")
    assert (loaded.height, loaded.width) == (21, 37)
    assert loaded.frames == [0, 1, 2, 3]
    assert loaded.object_ids == [1, 3]
    for frame in range(4):
        for obj in (1, 3):
            assert np.array_equal(loaded.get(frame, obj), track.get(frame, obj))


def test_save_pngs_default_frame_count_and_too_small(tmp_path: Path) -> None:
    track = MaskTrack(4, 4)
    track.set(2, 1, np.ones((4, 4), dtype=bool))
    assert len(track.save_pngs(tmp_path / "a")) == 3
    with pytest.raises(MaskError, match="frame 2"):
        track.save_pngs(tmp_path / "b", num_frames=2)


def test_load_pngs_ignores_void(tmp_path: Path) -> None:
    labels = np.zeros((6, 6), dtype=np.uint8)
    labels[0:2] = 255
    labels[3:5, 3:5] = 4
    write_palette_png(tmp_path / "00007.png", labels)
    loaded = MaskTrack.load_pngs(tmp_path)
    assert loaded.frames == [7] and loaded.object_ids == [4]
    assert loaded.area(7, 4) == 4


def test_from_label_maps() -> None:
    a = np.zeros((5, 6), dtype=np.uint8)
    a[1, 1] = 2
    a[2, 2] = 9
    track = MaskTrack.from_label_maps({3: a, 1: np.zeros((5, 6), dtype=np.uint8)})
    assert track.frames == [1, 3]
    assert track.object_ids == [2, 9]
    assert np.array_equal(track.label_map(3), a)
    with pytest.raises(MaskError, match="7x5"):
        MaskTrack.from_label_maps({0: a, 1: np.zeros((5, 7), dtype=np.uint8)})


def test_load_real_judo_annotations(judo_dir: Path) -> None:
    folder = judo_dir / "Annotations"
    with pytest.raises(MaskError, match=r"00005\.png is 853x480"):
        MaskTrack.load_pngs(folder)
    track = MaskTrack.load_pngs(folder, size=(480, 854))
    assert track.frames == [0, 5, 8, 13]
    assert track.object_ids == [1, 2, 3, 4]
    assert track.object_ids_at(5) == [2]
    assert track.area(0, 1) == int((read_palette_png(folder / "00000.png") == 1).sum())
