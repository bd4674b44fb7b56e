"""Overlay drawing: colours blended only inside masks, contours, ids, prompt markers, side-by-side frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from playerseg.io.overlay import draw_overlay, object_color, side_by_side
from playerseg.io.prompts import Point, Prompt

H, W = 120, 160
GREY = 100


def scene() -> tuple[np.ndarray, np.ndarray]:
    rgb = np.full((H, W, 3), GREY, dtype=np.uint8)
    labels = np.zeros((H, W), dtype=np.uint8)
    labels[40:100, 30:70] = 1  # rows 40..99, cols 30..69
    labels[50:90, 110:140] = 2
    labels[5:15, 145:155] = 255  # void
    return rgb, labels


def near_drawings(labels: np.ndarray, points: list[tuple[int, int]]) -> np.ndarray:
    """Pixels a contour, an id label or a click marker may touch."""
    near = cv2.dilate((labels > 0).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    for object_id in (1, 2):
        rows, cols = np.nonzero(labels == object_id)
        centre = (cols.min() + cols.max() + 1) // 2
        near[max(0, rows.min() - 35) : rows.min(), max(0, centre - 30) : centre + 30] = True  # the id text
    for x, y in points:
        near[max(0, y - 12) : y + 12, max(0, x - 12) : x + 12] = True
    return near


def test_object_color_is_the_palette_colour() -> None:
    assert object_color(1) == (128, 0, 0)
    assert object_color(2) == (0, 128, 0)
    assert object_color(3) == (128, 128, 0)


def test_blend_inside_masks_and_nothing_outside() -> None:
    rgb, labels = scene()
    out = draw_overlay(rgb, labels, alpha=0.5)
    # well inside object 1: half grey, half (128, 0, 0)
    assert tuple(out[70, 50]) == (114, 50, 50)
    assert tuple(out[70, 125]) == (50, 114, 50)  # object 2, (0, 128, 0)
    far = ~near_drawings(labels, [])
    assert np.array_equal(out[far], rgb[far])
    assert (out[5:15, 145:155] == GREY).all()  # void is left alone


def test_alpha_sets_how_far_towards_the_colour() -> None:
    rgb, labels = scene()
    weak = draw_overlay(rgb, labels, alpha=0.2).astype(int)[70, 50]
    strong = draw_overlay(rgb, labels, alpha=0.8).astype(int)[70, 50]
    colour = np.array(object_color(1))
    assert np.abs(strong - colour).sum() < np.abs(weak - colour).sum() < np.abs(GREY - colour).sum()


def test_contour_in_full_colour() -> None:
    rgb, labels = scene()
    out = draw_overlay(rgb, labels, draw_ids=False)
    assert tuple(out[80, 30]) == object_color(1)  # left edge of object 1
    assert tuple(out[99, 50]) == object_color(1)  # bottom edge
    assert tuple(out[70, 139]) == object_color(2)  # right edge of object 2


def test_inputs_are_not_modified() -> None:
    rgb, labels = scene()
    rgb_before, labels_before = rgb.copy(), labels.copy()
    prompts = [Prompt.from_click(0, 1, 50, 70), Prompt.from_box(0, 2, 100, 40, 150, 100)]
    out = draw_overlay(rgb, labels, prompts)
    assert out is not rgb
    assert np.array_equal(rgb, rgb_before)
    assert np.array_equal(labels, labels_before)


def test_click_markers() -> None:
    rgb, labels = scene()
    prompts = [Prompt(0, 1, points=(Point(50, 70, True), Point(10, 110, False)))]
    out = draw_overlay(rgb, labels, prompts)
    r, g, b = (int(v) for v in out[70, 50])
    assert g > 150 and r < 60 and b < 60  # green at the positive click
    r, g, b = (int(v) for v in out[110, 10])
    assert r > 150 and g < 60 and b < 60  # red at the negative click
    ring = out[110, 6:15].astype(int)
    assert (ring.min(axis=1) > 200).any()  # a white ring around it


def test_box_prompt_in_the_object_colour() -> None:
    rgb, labels = scene()
    out = draw_overlay(rgb, np.zeros_like(labels), [Prompt.from_box(0, 2, 10, 10, 31, 26)])
    assert tuple(out[10, 20]) == object_color(2)  # top edge
    assert tuple(out[18, 10]) == object_color(2)  # left edge
    assert tuple(out[18, 20]) == (GREY,) * 3  # inside the box: untouched


def test_id_drawn_above_the_mask_only_when_asked() -> None:
    rgb, labels = scene()
    above = (slice(5, 40), slice(20, 80))  # over object 1's top (row 40, centre x 50)

    def whites(image: np.ndarray) -> int:
        return int((image[above].min(axis=-1) > 230).sum())

    def darks(image: np.ndarray) -> int:
        return int((image[above].max(axis=-1) < 40).sum())

    with_ids = draw_overlay(rgb, labels)
    without = draw_overlay(rgb, labels, draw_ids=False)
    assert whites(with_ids) > 5 and darks(with_ids) > 5  # white text, dark outline
    assert whites(without) == 0 and darks(without) == 0


def test_rejects_mismatched_labels() -> None:
    rgb, labels = scene()
    with pytest.raises(ValueError, match="labels"):
        draw_overlay(rgb, labels[:, :-1])


def test_side_by_side_layout() -> None:
    rng = np.random.default_rng(0)
    left = rng.integers(0, 256, (90, 161, 3), dtype=np.uint8)
    right = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    out = side_by_side(left, right, "zero-shot", "finetuned")
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert out.shape[1] == 322  # 161 + 160, padded to even for H.264
    assert out.shape[0] % 2 == 0
    top = next(t for t in range(out.shape[0] - 89) if np.array_equal(out[t : t + 90, :161], left))
    assert top >= 10  # a label bar above
    assert np.array_equal(out[top : top + 90, 161:321], right)
    bars = out[:top]
    assert (bars[:, :161].min(axis=-1) > 200).any() and (bars[:, 161:321].min(axis=-1) > 200).any()  # label text
    assert np.median(bars) < 60  # on a dark bar


def test_side_by_side_centres_each_label_over_its_half() -> None:
    """The app's video label floats over the player's top-left corner: each model's name sits centred over its own
    half, clear of that corner."""
    frame = np.zeros((360, 640, 3), dtype=np.uint8)
    out = side_by_side(frame, frame, "A: sam2.1-small", "B: nano-pitch")
    text = np.nonzero((out[:30].min(axis=-1) > 200).any(axis=0))[0]
    left, right = text[text < 640], text[text >= 640] - 640
    for columns in (left, right):
        assert columns.size and columns.min() > 160 and columns.max() < 480  # within the half's middle half
        assert abs((columns.min() + columns.max()) / 2 - 320) <= 8


def test_side_by_side_pads_the_shorter_frame() -> None:
    left = np.full((30, 20, 3), 200, dtype=np.uint8)
    right = np.full((21, 20, 3), 90, dtype=np.uint8)
    out = side_by_side(left, right, "a", "b")
    assert out.shape[0] % 2 == 0
    top = next(t for t in range(out.shape[0]) if (out[t, :20] == 200).all())
    assert (out[top : top + 21, 20:40] == 90).all()
    assert (out[top + 21 : top + 30, 20:40] == 0).all()  # padded, not stretched


def test_caption_bar_covers_only_the_bottom_rows_and_keeps_the_size() -> None:
    from playerseg.io.overlay import with_caption

    frame = np.full((120, 200, 3), 90, np.uint8)
    captioned = with_caption(frame, "RANDOM WEIGHTS")
    assert captioned.shape == frame.shape
    assert np.array_equal(captioned[:100], frame[:100]), "the picture above the bar is untouched"
    assert not np.array_equal(captioned[-20:], frame[-20:]), "the bar and its text are drawn"
    assert (frame == 90).all(), "the input is not modified"
