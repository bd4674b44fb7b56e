"""The tracker's flat memory and batched objects give sam2's own results: pruning drops only memories sam2 never
reads again (masks bit-identical to the unpruned path), batching changes only float rounding (a stated tolerance).
Real sam2 code, test-size model (random weights, 128 px, CPU)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from playerseg.io.prompts import Prompt
from playerseg.tracking.memory import memory_window
from playerseg.tracking.registry import LoadedModel, load_video_model
from playerseg.tracking.step import FrameResult, owner_masks
from playerseg.tracking.tracker import Sam2VideoTracker

WIDTH, HEIGHT = 96, 64
LONG = 40  # well past the test model's memory window (15 frames)
# batching: the same maths in another order. Measured on this model: ~2e-6 of the pixels flip, scores move ~1e-7.
MAX_FLIPPED_PIXEL_SHARE = 1e-4
MAX_SCORE_CHANGE = 1e-4


class BouncingSquaresClip(list):
    """A green field with a red and a blue square bouncing left and right."""

    width = WIDTH
    height = HEIGHT

    def __init__(self, frames: int = LONG) -> None:
        super().__init__()
        for t in range(frames):
            rgb = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
            rgb[..., 1] = 120
            x = abs((4 * t) % 120 - 60) + 4
            rgb[8:28, x : x + 20] = (200, 30, 30)
            rgb[36:56, 70 - x // 2 : 90 - x // 2] = (30, 30, 200)
            self.append(rgb)


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    return load_video_model("test-sam2.1-tiny-128", "cpu")


PROMPTS = [
    Prompt.from_click(0, 1, 14, 18),
    Prompt.from_click(0, 2, 62, 46),
    Prompt.from_click(0, 3, 40, 60),
    Prompt.from_click(22, 4, 50, 4),  # first prompted later: tracked backward to frame 0 too
]


def track(model: LoadedModel, prune: bool, batch: bool) -> tuple[list[FrameResult], list[int]]:
    """Results of track(), and how many per-frame memories each object holds at the end."""
    with Sam2VideoTracker(model, BouncingSquaresClip(), prune_memory=prune, batch_objects=batch) as tracker:
        tracker.add_prompts(PROMPTS)
        results = list(tracker.track())
        held = [len(out["non_cond_frame_outputs"]) for out in tracker._state["output_dict_per_obj"].values()]
    return results, held


@pytest.fixture(scope="module")
def plain(model: LoadedModel) -> tuple[list[FrameResult], list[int]]:
    return track(model, prune=False, batch=False)


def test_memory_window_of_the_sam2_1_settings_and_a_strided_model(model: LoadedModel) -> None:
    # 7 memories (num_maskmem) = the previous frame + 5 more; 16 object pointers = 15 earlier frames
    assert memory_window(model.predictor) == 15
    strided = SimpleNamespace(
        num_maskmem=7, memory_temporal_stride_for_eval=3, max_obj_ptrs_in_encoder=16, use_obj_ptrs_in_encoder=False
    )
    assert memory_window(strided) == 1 + 3 * 5


def test_pruned_memory_gives_bit_identical_masks_and_stays_within_the_window(
    model: LoadedModel, plain: tuple[list[FrameResult], list[int]]
) -> None:
    unpruned, unpruned_held = plain
    pruned, held = track(model, prune=True, batch=False)
    assert [(r.frame, r.reverse) for r in pruned] == [(r.frame, r.reverse) for r in unpruned]
    for a, b in zip(unpruned, pruned):
        assert a.object_scores == b.object_scores
        for obj in a.masks:
            assert np.array_equal(a.masks[obj], b.masks[obj]), f"frame {a.frame} object {obj}"
    window = memory_window(model.predictor)
    assert max(held) <= window, "no more memories than sam2 can read"
    assert min(unpruned_held) >= LONG - 23, "the unpruned path keeps a memory for every tracked frame"


def test_batched_objects_match_the_per_object_path_within_rounding(
    model: LoadedModel, plain: tuple[list[FrameResult], list[int]]
) -> None:
    unbatched, _ = plain
    batched, _ = track(model, prune=True, batch=True)
    flipped = total = 0
    for a, b in zip(unbatched, batched):
        assert set(a.masks) == set(b.masks)
        for obj in a.masks:
            flipped += int((a.masks[obj] != b.masks[obj]).sum())
            total += a.masks[obj].size
            assert abs(a.object_scores[obj] - b.object_scores[obj]) <= MAX_SCORE_CHANGE
    assert flipped / total <= MAX_FLIPPED_PIXEL_SHARE


def test_streaming_memory_stays_flat_while_the_unpruned_state_grows(model: LoadedModel) -> None:
    def held_after_streaming(prune: bool) -> list[int]:
        with Sam2VideoTracker(model, BouncingSquaresClip(), prune_memory=prune) as tracker:
            tracker.add_prompts(PROMPTS[:2])
            counts = []
            for frame in range(LONG):
                if frame == 10:  # an object joining later: a batch of its own until its memory lines up
                    tracker.add_prompt(Prompt.from_click(10, 5, 50, 4))
                tracker.step(frame)
                counts.append(len(tracker._state["output_dict_per_obj"][0]["non_cond_frame_outputs"]))
        return counts

    window = memory_window(model.predictor)
    assert max(held_after_streaming(prune=True)) == window
    assert held_after_streaming(prune=False)[-1] == LONG - 1


def test_streamed_later_object_batched_gives_the_per_object_masks(model: LoadedModel) -> None:
    def stream(batch: bool) -> list[FrameResult]:
        with Sam2VideoTracker(model, BouncingSquaresClip(24), batch_objects=batch) as tracker:
            tracker.add_prompts(PROMPTS[:2])
            results = []
            for frame in range(24):
                if frame == 6:
                    tracker.add_prompt(Prompt.from_click(6, 5, 50, 4))
                results.append(tracker.step(frame))
        return results

    for a, b in zip(stream(batch=False), stream(batch=True)):
        assert set(a.masks) == set(b.masks)
        for obj in a.masks:
            assert (a.masks[obj] != b.masks[obj]).mean() <= MAX_FLIPPED_PIXEL_SHARE * 10


def test_image_encoder_time_is_reported_once_per_frame(plain: tuple[list[FrameResult], list[int]]) -> None:
    results, _ = plain
    by_pass = {(r.frame, r.reverse): r for r in results}
    assert by_pass[(0, False)].encoder_ms == 0, "all objects on frame 0 are prompted there: no image encoder call"
    tracked = [r for r in results if r.frame not in (0, 22)]
    assert all(0 < r.encoder_ms < r.latency_ms for r in tracked)


def test_mask_owner_is_the_object_with_the_highest_positive_logit() -> None:
    logits = torch.randn(5, 1, 16, 24, generator=torch.Generator().manual_seed(0))
    logits[2, 0, :4] = logits[3, 0, :4]  # ties go to the first object, as with argmax
    masks = owner_masks(logits, HEIGHT, WIDTH)
    upsampled = torch.nn.functional.interpolate(logits, size=(HEIGHT, WIDTH), mode="bilinear", align_corners=False)
    reference = torch.where(upsampled.max(dim=0).values > 0, upsampled.argmax(dim=0), -1)[0].numpy()
    for index, mask in enumerate(masks):
        assert np.array_equal(mask, reference == index)
    assert not np.logical_and(masks[0], masks[1]).any()


def test_the_compiled_predictor_tracks_like_the_plain_one(model: LoadedModel) -> None:
    """`--compile` builds sam2's SAM2VideoPredictorVOS, which overrides several model steps to suit torch.compile.
    Its parts run uncompiled here (no GPU, no compiler): the tracker (batched objects, pruned memory) must run
    those steps and get the plain predictor's masks."""
    from playerseg.tracking.predictor_build import build_predictor

    predictor = build_predictor(model.spec, "cpu", [], compile_model=True)
    assert type(predictor).__name__ == "SAM2VideoPredictorVOS"
    for part in ["image_encoder", "memory_encoder", "memory_attention", "sam_prompt_encoder", "sam_mask_decoder"]:
        module = getattr(predictor, part)
        assert "forward" in vars(module), f"{part} is not compiled"
        del module.forward  # back to the module's own forward: eager
    predictor.load_state_dict(model.predictor.state_dict())
    predictor.eval()
    compiled = LoadedModel(model.spec, predictor, "cpu", "random", "random", compiled=True)
    clip = BouncingSquaresClip(12)
    results = []
    for loaded in (model, compiled):
        with Sam2VideoTracker(loaded, clip) as tracker:
            tracker.add_prompts([p for p in PROMPTS if p.frame < 12])
            results.append(list(tracker.track()))
    plain_results, compiled_results = results
    assert [r.frame for r in plain_results] == [r.frame for r in compiled_results]
    for a, b in zip(plain_results, compiled_results):
        for obj, mask in a.masks.items():
            assert np.mean(mask != b.masks[obj]) <= MAX_FLIPPED_PIXEL_SHARE
