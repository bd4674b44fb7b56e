"""The U-Net baseline's instances: "player" regions given to the prompted objects (playerseg.tracking.unet_regions),
on hand-worked frames and against a brute-force reference of the documented rule."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from playerseg.tracking.unet_regions import ObjectPrior, assign_regions, box_mask, click_disc


def _frame(height: int = 40, width: int = 60) -> np.ndarray:
    return np.zeros((height, width), dtype=bool)


def _prior(height: int, width: int, rows: slice, cols: slice, **kwargs: object) -> ObjectPrior:
    mask = np.zeros((height, width), dtype=bool)
    mask[rows, cols] = True
    return ObjectPrior(mask=mask, **kwargs)  # type: ignore[arg-type]


def test_each_click_takes_the_region_under_it_and_unclaimed_regions_are_dropped() -> None:
    foreground = _frame()
    foreground[5:15, 5:12] = True  # player under object 1's click
    foreground[20:35, 40:50] = True  # player under object 2's click
    foreground[2:6, 50:58] = True  # a third region nobody clicked (a referee, say)
    priors = {
        1: ObjectPrior(mask=click_disc(40, 60, [(8, 10)])),
        2: ObjectPrior(mask=click_disc(40, 60, [(45, 30)])),
    }
    masks = assign_regions(foreground, priors)
    expected_1, expected_2 = _frame(), _frame()
    expected_1[5:15, 5:12] = True
    expected_2[20:35, 40:50] = True
    assert np.array_equal(masks[1], expected_1)
    assert np.array_equal(masks[2], expected_2)
    assert not (masks[1] | masks[2])[2:6, 50:58].any()


def test_the_previous_mask_claims_the_region_it_moved_into_within_reach() -> None:
    foreground = _frame()
    foreground[10:20, 20:26] = True
    overlapping = {1: _prior(40, 60, slice(10, 20), slice(17, 23))}  # last frame's mask, 3 px to the left
    assert assign_regions(foreground, overlapping)[1].sum() == 60
    near = {1: _prior(40, 60, slice(10, 20), slice(10, 15))}  # 5 px away (column 14 to 20): within 6 px
    assert assign_regions(foreground, near, reach_px=6)[1].sum() == 60
    far = {1: _prior(40, 60, slice(10, 20), slice(2, 8))}  # 13 px away
    assert not assign_regions(foreground, far, reach_px=6)[1].any()


def test_touching_players_are_split_by_the_nearest_prior() -> None:
    foreground = _frame(10, 20)
    foreground[:, :] = True  # one region, two players touching
    priors = {1: _prior(10, 20, slice(None), slice(0, 3)), 2: _prior(10, 20, slice(None), slice(17, 20))}
    masks = assign_regions(foreground, priors)
    # column c lies c - 2 from object 1's prior and 17 - c from object 2's: columns 0-9 are nearer object 1
    assert masks[1][:, :10].all() and not masks[1][:, 10:].any()
    assert masks[2][:, 10:].all() and not masks[2][:, :10].any()


def test_a_negative_click_keeps_its_object_out_of_that_region() -> None:
    foreground = _frame()
    foreground[5:15, 5:15] = True
    foreground[5:15, 30:40] = True
    prior = _prior(40, 60, slice(5, 15), slice(5, 40))  # last mask spanned both regions
    masks = assign_regions(foreground, {1: ObjectPrior(mask=prior.mask, negatives=[(35, 10)])})
    assert masks[1][5:15, 5:15].all()
    assert not masks[1][:, 30:40].any()
    # the same region goes to another claimant instead
    other = _prior(40, 60, slice(5, 15), slice(30, 33))
    masks = assign_regions(foreground, {1: ObjectPrior(mask=prior.mask, negatives=[(35, 10)]), 2: other})
    assert masks[2][5:15, 30:40].all() and not masks[1][:, 30:40].any()


def test_a_box_claims_what_it_overlaps_and_keeps_the_mask_inside_it() -> None:
    foreground = _frame()
    foreground[5:30, 10:20] = True  # taller than the box
    box = (8, 10, 22, 20)
    masks = assign_regions(foreground, {1: ObjectPrior(mask=box_mask(40, 60, box), box=box)})
    expected = _frame()
    expected[10:20, 10:20] = True
    assert np.array_equal(masks[1], expected)


def test_nothing_to_give_gives_empty_masks() -> None:
    priors = {1: _prior(40, 60, slice(0, 5), slice(0, 5))}
    assert not assign_regions(_frame(), priors)[1].any()
    foreground = _frame()
    foreground[:5, :5] = True
    assert assign_regions(foreground, {}) == {}
    empty_prior = {1: ObjectPrior(mask=_frame())}
    assert not assign_regions(foreground, empty_prior)[1].any()


def _reference(foreground: np.ndarray, priors: dict[int, ObjectPrior], reach: float) -> dict[int, set[tuple]]:
    """The rule written out pixel by pixel: which objects may own each foreground pixel."""
    from scipy import ndimage

    height, width = foreground.shape
    prior_pixels = {obj: np.argwhere(p.mask) for obj, p in priors.items()}
    regions, count = ndimage.label(foreground, structure=np.ones((3, 3)))
    allowed: dict[tuple[int, int], set[int]] = {}
    for index in range(1, count + 1):
        pixels = np.argwhere(regions == index)
        claimants = set()
        for obj, points in prior_pixels.items():
            if len(points) == 0:
                continue
            gaps = np.sqrt(((pixels[:, None, :] - points[None, :, :]) ** 2).sum(-1))
            nearest_is_obj = gaps.min(axis=1)
            if (gaps.min() == 0) or (nearest_is_obj <= reach).any():
                claimants.add(obj)
        claimants -= {obj for obj, p in priors.items() if any(regions[y, x] == index for x, y in p.negatives)}
        for row, col in pixels:
            distances = {
                obj: float(np.sqrt(((prior_pixels[obj] - (row, col)) ** 2).sum(-1)).min())
                for obj in priors
                if len(prior_pixels[obj])
            }
            best = min(distances.values()) if distances else None
            nearest = {obj for obj, d in distances.items() if d == best}
            allowed[(row, col)] = (nearest & claimants) or claimants
    return allowed


@pytest.mark.parametrize("seed", range(12))
def test_random_frames_follow_the_rule_pixel_by_pixel(seed: int) -> None:
    rng = np.random.default_rng(seed)
    height, width = 18, 22
    foreground = np.zeros((height, width), dtype=bool)
    for _ in range(4):
        top, left = rng.integers(0, height - 4), rng.integers(0, width - 4)
        foreground[top : top + rng.integers(2, 7), left : left + rng.integers(2, 7)] = True
    priors = {}
    for obj in (1, 2, 3):
        top, left = rng.integers(0, height - 3), rng.integers(0, width - 3)
        prior = _prior(height, width, slice(top, top + 3), slice(left, left + 3))
        if rng.random() < 0.3:
            ys, xs = np.nonzero(foreground)
            pick = rng.integers(len(ys))
            prior.negatives.append((int(xs[pick]), int(ys[pick])))
        priors[obj] = prior
    masks = assign_regions(foreground, priors, reach_px=3.0)
    for a, b in itertools.combinations(masks, 2):
        assert not (masks[a] & masks[b]).any()
    allowed = _reference(foreground, priors, 3.0)
    for (row, col), owners in allowed.items():
        got = {obj for obj, mask in masks.items() if mask[row, col]}
        if not owners:
            assert not got, (row, col)
        else:
            assert len(got) == 1 and got <= owners, ((row, col), got, owners)
    assert not any((mask & ~foreground).any() for mask in masks.values())
