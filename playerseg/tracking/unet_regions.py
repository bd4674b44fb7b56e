"""Instances for the U-Net baseline: its "player" pixels split into connected regions, each region given to the
prompted object that claims it.

The U-Net says which pixels are players, not which player. Each object brings a prior to every frame: on a frame
where it is prompted, its clicks (a small disc around each positive click), its box or its mask; elsewhere its mask
on the pass's previous frame (or, while it is lost, its last mask, for `memory_frames` frames). A region is claimed
by every object whose prior lies within `reach_px` of it, except an object with a negative click inside the region.
A region with one claimant goes to it whole; a region several objects claim (players touching) is split, each pixel
going to the claimant whose prior is nearest. Regions nobody claims are dropped, so the baseline is scored on the
same objects as SAM2. A box keeps its object's mask inside the box.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

CLICK_RADIUS_PX = 3  # a positive click claims the region under a disc of this radius
REACH_PX = 6  # a prior claims the regions within this distance of it (players move a few pixels a frame)
MEMORY_FRAMES = 15  # how many frames a lost object's last mask keeps claiming


@dataclass
class ObjectPrior:
    """What one object brings to one frame: a prior mask, and where it must not be."""

    mask: np.ndarray  # bool HxW: clicks' discs, box, given mask, or the previous mask
    negatives: list[tuple[int, int]] = field(default_factory=list)  # (x, y) pixels the object must not own
    box: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 (exclusive ends): the mask stays inside


def click_disc(height: int, width: int, points: list[tuple[int, int]], radius: int = CLICK_RADIUS_PX) -> np.ndarray:
    """bool HxW: a disc of `radius` pixels around each (x, y)."""
    disc = np.zeros((height, width), dtype=bool)
    ys, xs = np.ogrid[:height, :width]
    for x, y in points:
        disc |= (xs - x) ** 2 + (ys - y) ** 2 <= radius**2
    return disc


def box_mask(height: int, width: int, box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    x0, y0, x1, y1 = box
    mask[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = True
    return mask


def assign_regions(
    foreground: np.ndarray, priors: Mapping[int, ObjectPrior], reach_px: float = REACH_PX
) -> dict[int, np.ndarray]:
    """Each object's mask (bool HxW, non-overlapping) from the foreground (bool HxW) and the objects' priors."""
    height, width = foreground.shape
    masks = {object_id: np.zeros((height, width), dtype=bool) for object_id in priors}
    owners = np.zeros((height, width), dtype=np.int32)  # the nearest prior's object id (0: no prior at all)
    for object_id, prior in priors.items():
        owners[prior.mask & (owners == 0)] = object_id
    if not owners.any() or not foreground.any():
        return masks
    distance, (rows, cols) = ndimage.distance_transform_edt(owners == 0, return_indices=True)
    nearest = owners[rows, cols]
    regions, count = ndimage.label(foreground, structure=np.ones((3, 3), dtype=bool))
    for region_index, region_slice in enumerate(ndimage.find_objects(regions), start=1):
        if region_slice is None:
            continue
        inside = regions[region_slice] == region_index
        claimants = _claimants(inside, region_slice, distance, nearest, priors, reach_px)
        if not claimants:
            continue
        region_owner = nearest[region_slice]
        fallback = max(claimants, key=lambda object_id: int((inside & priors[object_id].mask[region_slice]).sum()))
        pick = np.where(np.isin(region_owner, list(claimants)), region_owner, fallback)
        for object_id in claimants:
            masks[object_id][region_slice] |= inside & (pick == object_id)
    for object_id, prior in priors.items():
        if prior.box is not None:
            masks[object_id] &= box_mask(height, width, prior.box)
    return masks


def _claimants(
    inside: np.ndarray,
    region_slice: tuple[slice, slice],
    distance: np.ndarray,
    nearest: np.ndarray,
    priors: Mapping[int, ObjectPrior],
    reach_px: float,
) -> set[int]:
    """The objects with a prior within reach of the region, less those with a negative click inside it."""
    close = inside & (distance[region_slice] <= reach_px)
    claimants = {int(object_id) for object_id in np.unique(nearest[region_slice][close])}
    # a prior overlapping the region claims it even where another object's prior is nearer to those pixels
    claimants |= {object_id for object_id, prior in priors.items() if (prior.mask[region_slice] & inside).any()}
    top, left = region_slice[0].start, region_slice[1].start
    for object_id in list(claimants):
        for x, y in priors[object_id].negatives:
            row, col = y - top, x - left
            if 0 <= row < inside.shape[0] and 0 <= col < inside.shape[1] and inside[row, col]:
                claimants.discard(object_id)
                break
    claimants.discard(0)
    return claimants
