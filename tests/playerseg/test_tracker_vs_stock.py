"""Our tracking against stock sam2: on one synthetic clip, with the same prompts and the same test-size weights
(`test-sam2.1-tiny-128`), PromptedTracking's masks equal what sam2's own SAM2VideoPredictor gives with its own
frame loading (init_state over the JPEG folder), add_new_points_or_box and propagate_in_video.

Stock sam2 tracks every object of a state on every frame of a pass, so it is driven the way our tracker defines a
track: one state per first-prompted frame; forward from that frame, then (when it is not frame 0) reverse=True from
it, the reverse pass reading the forward pass's memories as stock sam2 does. Where objects share a pass, each pixel
goes to the object with the highest positive logit (our tracker's rule, computed here with an argmax).

test_tracker_memory.py checks our pruned and batched path against our own unbatched one; this file checks the
whole path (frame reading, preprocessing, prompts, memory, passes) against code we did not write.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch

from playerseg.io.prompts import Box, Prompt, PromptSet
from playerseg.io.video import FrameStore
from playerseg.runs.pipeline import PromptedTracking
from playerseg.runs.selection_prompts import SelectionPrompts
from playerseg.synthetic.dataset import generate_dataset
from playerseg.tracking.registry import LoadedModel, load_video_model

WIDTH, HEIGHT, FRAMES = 192, 108, 8
LATE = 4  # the frame where the backward test first prompts object 3
# Of each frame's pixels (all its objects' masks together). Batching objects changes float rounding only
# (test_tracker_memory measures ~2e-6 of the pixels) and the stock loader scales to [0, 1] in float64 where ours
# uses float32; on this clip nothing flips. Reading the backward pass's memories the wrong way flips ~1e-3.
MAX_FLIPPED_PIXEL_SHARE = 1e-4

MaskKey = tuple[int, int]  # (frame, object id)


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    return load_video_model("test-sam2.1-tiny-128", "cpu")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic pitch sequence with 3 players: JPEGImages/seq000 (stock sam2's input), prompts, meta.json."""
    root = tmp_path_factory.mktemp("stock-clip")
    generate_dataset(root, sequences=1, frames=FRAMES, players=3, width=WIDTH, height=HEIGHT, seed=3)
    return root


def our_masks(
    model: LoadedModel, frames: Path, prompts: PromptSet, given: dict[MaskKey, np.ndarray] | None = None
) -> dict[MaskKey, np.ndarray]:
    store = FrameStore(frames)
    masks = PromptedTracking(model, masks=given).run(store, SelectionPrompts.check(prompts, store)).masks
    return {(frame, obj): masks.get(frame, obj) for frame in range(FRAMES) for obj in masks.object_ids_at(frame)}


def stock_masks(
    model: LoadedModel, frames: Path, prompts: PromptSet, given: dict[MaskKey, np.ndarray] | None = None
) -> dict[MaskKey, np.ndarray]:
    """Stock sam2's masks for the same prompts (then `given` masks through add_new_mask): logits per pass and
    frame, then one owner per pixel."""
    predictor = model.predictor
    by_object: dict[int, list[Prompt]] = defaultdict(list)
    for prompt in prompts.merged().prompts:
        by_object[prompt.object_id].append(prompt)
    groups: dict[int, list[Prompt]] = defaultdict(list)  # first prompted frame -> the prompts of its objects
    for object_prompts in by_object.values():
        groups[min(p.frame for p in object_prompts)].extend(object_prompts)
    logits: dict[tuple[int, bool], dict[int, torch.Tensor]] = defaultdict(dict)  # (frame, reverse) -> id -> HxW
    with torch.inference_mode():
        for first, group in groups.items():
            state = predictor.init_state(video_path=str(frames))
            for p in group:
                predictor.add_new_points_or_box(
                    state,
                    p.frame,
                    p.object_id,
                    points=[[q.x, q.y] for q in p.points] or None,
                    labels=[int(q.positive) for q in p.points] or None,
                    box=None if p.box is None else [p.box.x0, p.box.y0, p.box.x1, p.box.y1],
                )
            for (frame, obj), mask in sorted((given or {}).items(), key=lambda item: item[0]):
                if obj in {p.object_id for p in group}:
                    predictor.add_new_mask(state, frame, obj, torch.from_numpy(mask))
            passes = [predictor.propagate_in_video(state, start_frame_idx=first)]
            if first > 0:
                passes.append(predictor.propagate_in_video(state, start_frame_idx=first, reverse=True))
            for reverse, frames_out in enumerate(passes):
                for frame, ids, video_res in frames_out:
                    if reverse and frame == first:
                        continue  # the prompted frame again: the forward pass gave it
                    for obj, obj_logits in zip(ids, video_res[:, 0], strict=True):
                        logits[(frame, bool(reverse))][obj] = obj_logits.float().clone()
    masks: dict[MaskKey, np.ndarray] = {}
    for (frame, _), per_object in logits.items():
        ids = list(per_object)
        stacked = torch.stack([per_object[obj] for obj in ids])
        best, owner = stacked.max(dim=0)
        for index, obj in enumerate(ids):
            masks[(frame, obj)] = ((owner == index) & (best > 0)).numpy()
    return masks


def assert_same_masks(ours: dict[MaskKey, np.ndarray], stock: dict[MaskKey, np.ndarray]) -> None:
    assert sorted(ours) == sorted(stock), "the same objects on the same frames"
    for key, mask in stock.items():
        # random weights can give empty masks; these prompts give real ones, so a match says something
        assert 0 < mask.sum() < mask.size, f"stock mask of object {key[1]} on frame {key[0]} is trivial"
    for frame in range(FRAMES):  # frame by frame, so a difference in a few frames of one pass is not averaged away
        keys = [key for key in stock if key[0] == frame]
        flipped = sum(int((ours[key] != stock[key]).sum()) for key in keys)
        total = sum(stock[key].size for key in keys)
        assert flipped / total <= MAX_FLIPPED_PIXEL_SHARE, f"frame {frame}: {flipped} of {total} pixels differ"


def test_forward_tracking_equals_stock_propagate_in_video(model: LoadedModel, clip: Path) -> None:
    prompts = PromptSet.load(clip / "prompts" / "seq000.json")  # a click on each player, all on frame 0
    assert {p.frame for p in prompts.prompts} == {0} and len(prompts.object_ids) == 3
    frames = clip / "JPEGImages" / "seq000"
    assert_same_masks(our_masks(model, frames, prompts), stock_masks(model, frames, prompts))


def test_backward_pass_equals_stock_reverse_propagation(model: LoadedModel, clip: Path) -> None:
    """Object 3 is first prompted (with its box) on frame LATE: tracked forward from there and backward to 0."""
    clicks = PromptSet.load(clip / "prompts" / "seq000.json")
    meta = json.loads((clip / "meta.json").read_text())
    figures = meta["sequences"]["seq000"]["frames"][LATE]["figures"]
    box = next(f["box"] for f in figures if f["object_id"] == 3)
    late = Prompt(frame=LATE, object_id=3, box=Box(*(float(v) for v in box)))
    prompts = PromptSet([p for p in clicks.prompts if p.object_id != 3] + [late])
    frames = clip / "JPEGImages" / "seq000"
    ours, stock = our_masks(model, frames, prompts), stock_masks(model, frames, prompts)
    assert {frame for frame, obj in stock if obj == 3} == set(range(FRAMES)), "object 3 on every frame"
    assert_same_masks(ours, stock)


def test_mask_prompts_equal_stock_add_new_mask(model: LoadedModel, clip: Path) -> None:
    """Whole-mask prompts (evaluate --prompts masks): each player's frame-0 ground truth through add_mask, after a
    box that the mask replaces, as stock sam2's add_new_mask does it."""
    from evaluation.datasets.mask_pngs import load_mask_folder

    truth = load_mask_folder(clip / "Annotations" / "seq000").read(0)
    given = {(0, obj): truth == obj for obj in (1, 2, 3)}
    boxes = PromptSet([Prompt(frame=0, object_id=obj, box=Box(0.0, 0.0, 40.0, 40.0)) for obj in (1, 2, 3)])
    frames = clip / "JPEGImages" / "seq000"
    ours, stock = our_masks(model, frames, boxes, given), stock_masks(model, frames, boxes, given)
    assert_same_masks(ours, stock)
    for obj in (1, 2, 3):  # the mask, not the box, made frame 0: it overlaps the player, not the corner box
        assert (ours[(0, obj)] & given[(0, obj)]).sum() > 0.5 * ours[(0, obj)].sum()
