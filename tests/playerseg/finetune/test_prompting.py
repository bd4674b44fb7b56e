"""Prompt sampling from ground truth: clicks inside/outside where users click, jittered boxes, batching."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from playerseg.finetune.prompting import (
    PromptSettings,
    SampledPrompt,
    box_prompt,
    click_prompt,
    collate_prompts,
    sample_prompt,
    scale_prompt,
)

CLICKS_ONLY = PromptSettings(box_probability=0.0)
BOX_ONLY = PromptSettings(box_probability=1.0, box_with_clicks_probability=0.0)


def _disc(side: int, cy: int, cx: int, radius: int) -> np.ndarray:
    rows, cols = np.mgrid[:side, :side]
    return (rows - cy) ** 2 + (cols - cx) ** 2 <= radius**2


def _rim(mask: np.ndarray) -> np.ndarray:
    """Object pixels with a 4-neighbour outside the object (or outside the frame)."""
    padded = np.pad(mask, 1)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:] & mask
    return mask & ~interior


def _distance_to_mask(mask: np.ndarray, x: float, y: float) -> float:
    rows, cols = np.nonzero(mask)
    return float(np.sqrt((cols - x) ** 2 + (rows - y) ** 2).min())


def _points(prompt: SampledPrompt, label: int) -> np.ndarray:
    return prompt.coords[prompt.labels == label]


def test_positive_clicks_are_inside_the_mask_for_many_seeds() -> None:
    mask = _disc(64, 30, 22, 12)
    mask[40:46, 20:60] = True  # a thin bar attached to the disc: an irregular object
    for seed in range(200):
        prompt = sample_prompt(mask, np.random.default_rng(seed), CLICKS_ONLY)
        positives = _points(prompt, 1)
        assert 1 <= len(positives) <= 3
        assert positives.dtype == np.float32
        for x, y in positives:
            assert x == int(x) and y == int(y)  # pixel indices: SAM adds the half-pixel itself
            assert mask[int(y), int(x)]


def test_positive_clicks_favour_the_interior_over_the_rim() -> None:
    mask = _disc(64, 32, 32, 15)
    rim = _rim(mask)
    assert rim.sum() / mask.sum() > 0.10  # uniform sampling would hit the rim this often
    on_rim = total = 0
    for seed in range(300):
        for x, y in _points(sample_prompt(mask, np.random.default_rng(seed), CLICKS_ONLY), 1):
            on_rim += int(rim[int(y), int(x)])
            total += 1
    assert on_rim / total < 0.05


def test_positive_clicks_of_one_prompt_are_distinct() -> None:
    mask = np.zeros((16, 16), bool)
    mask[4:6, 4:6] = True
    settings = PromptSettings(box_probability=0.0, max_positive=10)
    for seed in range(30):
        positives = _points(sample_prompt(mask, np.random.default_rng(seed), settings), 1)
        assert len({(float(x), float(y)) for x, y in positives}) == len(positives) <= 4


def test_negative_clicks_lie_outside_the_object_within_the_ring_and_the_frame() -> None:
    mask = np.zeros((48, 64), bool)
    mask[10:30, 40:50] = True  # 10 wide, 20 tall: ring = 0.5 x 20 = 10 px around the object
    settings = PromptSettings(box_probability=0.0, max_negative=2)
    counted = 0
    for seed in range(200):
        negatives = _points(sample_prompt(mask, np.random.default_rng(seed), settings), 0)
        counted += len(negatives)
        for x, y in negatives:
            assert 0 <= x < 64 and 0 <= y < 48
            assert not mask[int(y), int(x)]
            assert _distance_to_mask(mask, x, y) <= 10.0 + 1e-6
    assert counted > 150  # 0..2 negatives per prompt: about 200 expected


def test_negative_clicks_respect_valid() -> None:
    mask = np.zeros((40, 40), bool)
    mask[15:25, 15:25] = True
    valid = np.ones((40, 40), bool)
    valid[:, :20] = False  # e.g. void pixels of a DAVIS label map
    settings = PromptSettings(box_probability=0.0, max_negative=2)
    counted = 0
    for seed in range(100):
        negatives = _points(sample_prompt(mask, np.random.default_rng(seed), settings, valid=valid), 0)
        counted += len(negatives)
        assert all(x >= 20 for x, _ in negatives)
    assert counted > 50


def test_no_negative_when_there_is_no_room_for_one() -> None:
    full = np.ones((8, 8), bool)
    object_in_void = np.zeros((8, 8), bool)
    object_in_void[3:5, 3:5] = True
    settings = PromptSettings(box_probability=0.0, max_negative=2)
    for seed in range(20):
        assert not (sample_prompt(full, np.random.default_rng(seed), settings).labels == 0).any()
        prompt = sample_prompt(object_in_void, np.random.default_rng(seed), settings, valid=object_in_void)
        assert not (prompt.labels == 0).any() and (prompt.labels == 1).any()


def test_box_corners_come_first_labelled_2_and_3() -> None:
    mask = np.zeros((32, 32), bool)
    mask[8:20, 10:24] = True
    settings = PromptSettings(box_probability=1.0, box_with_clicks_probability=1.0)
    prompt = sample_prompt(mask, np.random.default_rng(0), settings)
    assert prompt.labels.tolist() == [2, 3, 1]
    assert prompt.has_box
    (x0, y0), (x1, y1) = prompt.coords[:2]
    assert x0 < x1 and y0 < y1
    x, y = prompt.coords[2]
    assert mask[int(y), int(x)]
    assert sample_prompt(mask, np.random.default_rng(0), BOX_ONLY).labels.tolist() == [2, 3]


def test_box_jitter_is_bounded_by_the_pixel_cap() -> None:
    mask = np.zeros((256, 256), bool)
    mask[50:200, 40:240] = True  # 200 x 150 px: 10 % std is 20 / 15 px, so the 5 px cap binds often
    settings = PromptSettings(box_probability=1.0, box_with_clicks_probability=0.0, max_box_jitter_px=5.0)
    tight = np.array([40, 50, 240, 200], np.float32)
    moved = 0
    for seed in range(100):
        box = sample_prompt(mask, np.random.default_rng(seed), settings).coords.reshape(4)
        assert np.all(np.abs(box - tight) <= 5.0 + 1e-4)
        moved += int(np.any(np.abs(box - tight) > 1.0))
    assert moved > 80  # the jitter really moves the box


def test_box_jitter_is_clipped_to_the_frame_and_keeps_corners_ordered() -> None:
    touching = np.zeros((40, 50), bool)
    touching[0:25, 30:50] = True  # touches the top and right edges
    one_pixel = np.zeros((40, 50), bool)
    one_pixel[39, 0] = True  # bottom-left corner
    settings = PromptSettings(box_probability=1.0, box_with_clicks_probability=0.0, box_jitter=1.0)
    for mask in (touching, one_pixel):
        for seed in range(100):
            (x0, y0), (x1, y1) = sample_prompt(mask, np.random.default_rng(seed), settings).coords
            assert 0.0 <= x0 < x1 <= 50.0
            assert 0.0 <= y0 < y1 <= 40.0


def test_zero_jitter_gives_the_tight_box() -> None:
    mask = np.zeros((32, 32), bool)
    mask[5:9, 3:12] = True
    settings = PromptSettings(box_probability=1.0, box_with_clicks_probability=0.0, box_jitter=0.0)
    assert sample_prompt(mask, np.random.default_rng(1), settings).coords.tolist() == [[3, 5], [12, 9]]


def test_one_pixel_mask_works() -> None:
    mask = np.zeros((9, 9), bool)
    mask[4, 6] = True
    settings = PromptSettings(box_probability=0.0, max_positive=3, max_negative=2)
    for seed in range(30):
        prompt = sample_prompt(mask, np.random.default_rng(seed), settings)
        assert _points(prompt, 1).tolist() == [[6, 4]]
        for x, y in _points(prompt, 0):  # the ring of a one-pixel object is its 4 neighbours
            assert abs(x - 6) + abs(y - 4) == 1
    assert click_prompt(mask).coords.tolist() == [[6, 4]]
    assert box_prompt(mask).coords.tolist() == [[6, 4], [7, 5]]


def test_empty_or_non_bool_mask_raises() -> None:
    with pytest.raises(ValueError, match="empty"):
        sample_prompt(np.zeros((8, 8), bool), np.random.default_rng(0))
    with pytest.raises(ValueError, match="empty"):
        click_prompt(np.zeros((8, 8), bool))
    with pytest.raises(ValueError, match="bool"):
        sample_prompt(np.ones((8, 8), np.uint8), np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        sample_prompt(np.ones((8, 8), bool), np.random.default_rng(0), valid=np.ones((4, 4), bool))


def test_click_prompt_picks_the_centre_of_the_disc_not_the_long_rectangle() -> None:
    mask = np.zeros((60, 80), bool)
    mask[5:13, 2:78] = True  # a long bar 8 px tall: depth at most 4
    mask |= _disc(80, 38, 50, 12)[:60, :80]  # a disc of radius 12 centred at x=50, y=38
    prompt = click_prompt(mask)
    assert prompt.labels.tolist() == [1]
    assert prompt.coords.tolist() == [[50, 38]]


def test_click_prompt_breaks_ties_in_row_major_order() -> None:
    mask = np.zeros((10, 10), bool)
    mask[3:5, 6:8] = True  # a 2x2 square: all four pixels equally deep
    assert click_prompt(mask).coords.tolist() == [[6, 3]]


def test_click_prompt_treats_the_frame_edge_as_background() -> None:
    assert click_prompt(np.ones((9, 9), bool)).coords.tolist() == [[4, 4]]
    wide = np.zeros((20, 20), bool)
    wide[0:5, 2:18] = True  # cut by the top edge: without the edge as background the click would hug row 0
    assert click_prompt(wide).coords.tolist()[0][1] == 2


def test_box_prompt_of_a_known_rectangle() -> None:
    mask = np.zeros((32, 32), bool)
    mask[5:9, 3:12] = True
    prompt = box_prompt(mask)
    assert prompt.coords.dtype == np.float32 and prompt.labels.dtype == np.int32
    assert prompt.coords.tolist() == [[3, 5], [12, 9]]
    assert prompt.labels.tolist() == [2, 3]


def test_collate_pads_with_zero_points_labelled_minus_one() -> None:
    first = SampledPrompt(coords=np.array([[1, 2], [3, 4], [5, 6]]), labels=np.array([2, 3, 1]))
    second = SampledPrompt(coords=np.array([[7, 8]]), labels=np.array([1]))
    coords, labels = collate_prompts([first, second])
    assert coords.shape == (2, 3, 2) and coords.dtype == torch.float32
    assert labels.shape == (2, 3) and labels.dtype == torch.int32
    assert coords[1].tolist() == [[7, 8], [0, 0], [0, 0]]
    assert labels.tolist() == [[2, 3, 1], [1, -1, -1]]
    assert coords[0].tolist() == [[1, 2], [3, 4], [5, 6]]
    with pytest.raises(ValueError, match="at least one"):
        collate_prompts([])


def test_scale_prompt_multiplies_x_and_y() -> None:
    prompt = SampledPrompt(coords=np.array([[10, 20], [30, 40]]), labels=np.array([2, 3]))
    scaled = scale_prompt(prompt, 0.5, 2.0)
    assert scaled.coords.tolist() == [[5, 40], [15, 80]]
    assert scaled.labels.tolist() == [2, 3] and scaled.coords.dtype == np.float32
    assert prompt.coords.tolist() == [[10, 20], [30, 40]]  # the input is unchanged


def test_sampled_prompt_rejects_mismatched_points_and_labels() -> None:
    with pytest.raises(ValueError, match="one label per point"):
        SampledPrompt(coords=np.zeros((2, 2)), labels=np.array([1]))
    with pytest.raises(ValueError, match=r"\(P, 2\)"):
        SampledPrompt(coords=np.zeros((2, 3)), labels=np.array([1, 1]))


def test_same_seed_gives_the_same_prompt() -> None:
    mask = _disc(48, 20, 25, 9)
    first = sample_prompt(mask, np.random.default_rng(7))
    again = sample_prompt(mask, np.random.default_rng(7))
    assert np.array_equal(first.coords, again.coords) and np.array_equal(first.labels, again.labels)


def test_mix_of_prompt_types_matches_the_probabilities() -> None:
    mask = _disc(48, 24, 24, 10)
    rng = np.random.default_rng(0)
    draws = 2000
    box_only = box_and_click = 0
    positives: list[int] = []
    negatives: list[int] = []
    for _ in range(draws):
        labels = sample_prompt(mask, rng).labels.tolist()
        if labels[:2] == [2, 3]:
            assert labels[2:] in ([], [1])
            box_only += labels[2:] == []
            box_and_click += labels[2:] == [1]
        else:
            assert 2 not in labels and 3 not in labels
            positives.append(labels.count(1))
            negatives.append(labels.count(0))
            assert labels == [1] * positives[-1] + [0] * negatives[-1]  # positives first, then negatives
    # Defaults: box 0.5 of which 0.25 with a click -> 0.375 box only, 0.125 box + click, 0.5 clicks only.
    assert abs(box_only / draws - 0.375) < 0.04
    assert abs(box_and_click / draws - 0.125) < 0.03
    assert abs(len(positives) / draws - 0.5) < 0.04
    for count in (1, 2, 3):  # uniform over 1..3 positives
        assert abs(positives.count(count) / len(positives) - 1 / 3) < 0.05
    for count in (0, 1, 2):  # uniform over 0..2 negatives (there is room in the ring)
        assert abs(negatives.count(count) / len(negatives) - 1 / 3) < 0.05


@pytest.mark.parametrize(
    "changes",
    [
        {"box_probability": 1.5},
        {"box_with_clicks_probability": -0.1},
        {"max_positive": 0},
        {"max_positive": 2.5},
        {"max_negative": -1},
        {"box_jitter": -0.1},
        {"max_box_jitter_px": -1.0},
        {"negative_ring": -0.5},
    ],
)
def test_settings_validation_raises_one_sentence(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError) as error:
        PromptSettings(**changes)  # type: ignore[arg-type]
    message = str(error.value)
    assert message.endswith(".") and "\n" not in message
    assert next(iter(changes)) in message
