"""Sam3VideoTracker on the test-sam3 model (the real Sam3TrackerVideo architecture at toy sizes, random weights) and
a synthetic clip: result counts per pass, masks, same seed same masks, masks equal to transformers' stock video loop
(the whole clip loaded), flat memory, prompts of every kind, one-sentence errors, and the gated hub model offline."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
import torch

from playerseg.errors import PlayerSegError
from playerseg.io.prompts import Box, Point, Prompt, PromptError, PromptSet
from playerseg.tracking import sam3_model
from playerseg.tracking.registry import ModelUnavailableError
from playerseg.tracking.sam3_model import (
    SAM3_HUB_REPO,
    build_random_sam3,
    hub_sam3_spec,
    load_sam3_model,
    random_sam3_spec,
    sam3_config,
)
from playerseg.tracking.sam3_tracker import Sam3VideoTracker
from playerseg.tracking.tracker import TrackingError

HEIGHT, WIDTH = 96, 128


class Clip:
    """A FrameSource over numpy frames: a red and a yellow rectangle moving on green."""

    def __init__(self, num_frames: int) -> None:
        self.height, self.width = HEIGHT, WIDTH
        self.frames = np.zeros((num_frames, HEIGHT, WIDTH, 3), dtype=np.uint8)
        self.frames[:] = (30, 120, 40)
        for t in range(num_frames):
            self.frames[t, 20:50, 10 + 2 * t % 60 : 35 + 2 * t % 60] = (220, 30, 30)
            self.frames[t, 40:80, 90 - t % 50 : 115 - t % 50] = (240, 240, 20)
        self.reads: list[int] = []

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> np.ndarray:
        self.reads.append(index)
        return self.frames[index]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model():
    return load_sam3_model(sam3_model.test_sam3_spec(), "cpu")


def clicks(frame: int = 0) -> list[Prompt]:
    return [Prompt.from_click(frame, 1, 22, 35), Prompt.from_click(frame, 2, 100, 60)]


def run(model, clip: Clip, prompts, masks=()) -> tuple[list, Sam3VideoTracker]:
    with Sam3VideoTracker(model, clip) as tracker:
        tracker.add_prompts(prompts)
        for frame, obj, mask in masks:
            tracker.add_mask(frame, obj, mask)
        results = list(tracker.track())
    return results, tracker


def check_masks(results, ids_per_result=None) -> None:
    for result in results:
        stack = np.stack(list(result.masks.values()))
        assert stack.dtype == bool and stack.shape[1:] == (HEIGHT, WIDTH)
        assert stack.sum(axis=0).max() <= 1, f"masks overlap on frame {result.frame}"
        assert set(result.object_scores) == set(result.masks)


def test_objects_on_frame_0_give_one_forward_result_per_frame(model):
    clip = Clip(10)
    results, tracker = run(model, clip, PromptSet(clicks()))
    assert [r.frame for r in results] == list(range(10))
    assert not any(r.reverse for r in results)
    assert all(sorted(r.masks) == [1, 2] for r in results)
    assert tracker.object_ids == [1, 2]
    check_masks(results)
    assert results[0].prompt_ms > 0 and all(r.prompt_ms == 0 for r in results[1:])
    assert all(r.latency_ms > 0 and r.encoder_ms >= 0 and r.memory_mb > 0 for r in results)
    assert all(r.encoder_ms > 0 for r in results[1:])
    assert any(r.masks[1].any() for r in results)


def test_object_first_prompted_later_gets_a_backward_pass(model):
    clip = Clip(10)
    results, _ = run(model, clip, [Prompt.from_click(0, 1, 22, 35), Prompt.from_click(5, 2, 100, 60)])
    assert len(results) == 10 + 5
    forward, backward = results[:10], results[10:]
    assert [r.frame for r in forward] == list(range(10)) and not any(r.reverse for r in forward)
    assert [r.frame for r in backward] == [4, 3, 2, 1, 0] and all(r.reverse for r in backward)
    assert all(sorted(r.masks) == ([1] if r.frame < 5 else [1, 2]) for r in forward)
    assert all(sorted(r.masks) == [2] for r in backward)
    check_masks(results)


def test_same_seed_same_masks_and_the_callers_rng_untouched(model):
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    again = load_sam3_model(sam3_model.test_sam3_spec(), "cpu")
    assert torch.equal(torch.random.get_rng_state(), state)
    first, _ = run(model, Clip(6), clicks())
    second, _ = run(again, Clip(6), clicks())
    for a, b in zip(first, second):
        assert all(np.array_equal(a.masks[obj], b.masks[obj]) for obj in a.masks)
        assert a.object_scores == b.object_scores


def stock_results(model, clip: Clip, frame: int, reverse: bool = False, **inputs) -> dict[tuple[int, bool], tuple]:
    """transformers' documented video loop on the whole clip: the prompts on one frame, the model on that frame,
    then propagate_in_video_iterator forward (and backward when asked); (frame, reverse) -> (logits, scores)."""
    stock, processor = model.predictor.model, model.predictor.processor
    session = processor.init_video_session(video=list(clip.frames), inference_device="cpu")
    processor.add_inputs_to_inference_session(session, frame_idx=frame, **inputs)
    stock(inference_session=session, frame_idx=frame)
    found = {}
    for pass_reverse in (False, True) if reverse else (False,):
        for out in stock.propagate_in_video_iterator(session, start_frame_idx=frame, reverse=pass_reverse):
            logits = processor.post_process_masks([out.pred_masks], [(HEIGHT, WIDTH)], binarize=False)[0][:, 0]
            found[(out.frame_idx, pass_reverse)] = (logits.numpy(), out.object_score_logits.reshape(-1).tolist())
    return found


def owners(logits: np.ndarray) -> list[np.ndarray]:
    """Each pixel to the object with the highest positive logit (ties: none here)."""
    best = logits.argmax(axis=0)
    positive = logits.max(axis=0) > 0
    return [(best == index) & positive for index in range(len(logits))]


def assert_same_as_stock(results, stock, object_ids) -> None:
    compared = 0
    for result in results:
        if (result.frame, result.reverse) not in stock:
            continue
        logits, scores = stock[(result.frame, result.reverse)]
        for obj, expected in zip(object_ids, owners(logits)):
            assert np.array_equal(result.masks[obj], expected), f"object {obj} differs on frame {result.frame}"
        assert [result.object_scores[obj] for obj in object_ids] == pytest.approx(scores, abs=1e-5)
        compared += 1
    assert compared == len(results)
    assert any(result.masks[object_ids[0]].any() for result in results)


def test_points_give_the_stock_masks_past_the_memory_window(model):
    clip = Clip(20)  # longer than the 15 tracked frames the model reads back: forgetting must not change masks
    results, _ = run(model, clip, clicks())
    points = {"obj_ids": [1, 2], "input_points": [[[[22, 35]], [[100, 60]]]], "input_labels": [[[1], [1]]]}
    assert_same_as_stock(results, stock_results(model, clip, 0, **points), [1, 2])


def test_boxes_give_the_stock_masks(model):
    clip = Clip(8)
    boxes = [Prompt.from_box(0, 1, 10, 20, 35, 50), Prompt.from_box(0, 2, 88, 40, 115, 80)]
    results, _ = run(model, clip, boxes)
    stock = stock_results(model, clip, 0, obj_ids=[1, 2], input_boxes=[[[10, 20, 35, 50], [88, 40, 115, 80]]])
    assert_same_as_stock(results, stock, [1, 2])


def test_backward_pass_gives_the_stock_masks(model):
    clip = Clip(22)  # the backward pass reads forward frames 3..17, kept while the forward pass forgets
    prompt = Prompt(3, 1, points=(Point(25, 35), Point(100, 60, positive=False)), box=Box(12, 20, 40, 50))
    results, _ = run(model, clip, [prompt])
    assert [r.frame for r in results if r.reverse] == [2, 1, 0]
    points = {"input_points": [[[[25, 35], [100, 60]]]], "input_labels": [[[1, 0]]]}
    stock = stock_results(model, clip, 3, reverse=True, obj_ids=1, input_boxes=[[[12, 20, 40, 50]]], **points)
    assert_same_as_stock(results, stock, [1])


def test_frames_held_stay_flat_as_the_clip_grows(model):
    # steady from frame 32 on: the 15 frames read back, and object 2's first 15 tracked frames (3..17) kept for the
    # backward pass, besides the prompted frames and one frame's features
    peaks = []
    for num_frames in (40, 56):
        clip = Clip(num_frames)
        results, tracker = run(model, clip, [Prompt.from_click(0, 1, 22, 35), Prompt.from_click(2, 2, 100, 60)])
        assert len(results) == num_frames + 2
        peaks.append(tracker.frames_held_peak)
        assert sorted(set(clip.reads)) == list(range(num_frames))
        assert len(clip.reads) <= num_frames + 6  # lazily, about once a frame (prompted frames again per pass)
    assert peaks[0] == peaks[1]
    assert peaks[0] <= 2 * 15 + 4


def test_negative_clicks_and_a_later_correction_are_accepted(model):
    clip = Clip(8)
    prompts = [
        Prompt(0, 1, points=(Point(22, 35), Point(100, 60, positive=False))),
        Prompt.from_click(4, 1, 30, 35),
        Prompt.from_click(4, 1, 5, 5, positive=False),  # joined with the click above
    ]
    results, tracker = run(model, clip, prompts)
    assert [r.frame for r in results] == list(range(8)) and tracker.object_ids == [1]
    assert results[4].prompt_ms > 0 and results[4].encoder_ms == 0  # the prompted frame's output is reused
    check_masks(results)


def test_a_whole_mask_is_a_prompt(model):
    clip = Clip(6)
    given = np.zeros((HEIGHT, WIDTH), dtype=bool)
    given[20:50, 10:35] = True
    results, tracker = run(model, clip, [Prompt.from_click(0, 2, 100, 60)], masks=[(0, 1, given)])
    assert tracker.object_ids == [1, 2]
    first = results[0].masks[1]
    iou = (first & given).sum() / (first | given).sum()
    assert iou > 0.9  # the frame's output is the mask given (through the model's 112 px input and back)
    check_masks(results)


def one_sentence(error: BaseException) -> str:
    message = str(error)
    assert message.endswith(".") and ". " not in message.rstrip("."), message
    return message


def test_one_sentence_errors(model):
    tracker = Sam3VideoTracker(model, Clip(5))
    with pytest.raises(PromptError) as outside:
        tracker.add_prompt(Prompt.from_click(5, 1, 10, 10))
    assert "frame 5" in one_sentence(outside.value)
    with pytest.raises(PromptError):
        tracker.add_mask(7, 1, np.ones((HEIGHT, WIDTH), dtype=bool))
    with pytest.raises(PromptError) as empty_mask:
        tracker.add_mask(0, 1, np.zeros((HEIGHT, WIDTH), dtype=bool))
    one_sentence(empty_mask.value)
    with pytest.raises(TrackingError) as no_prompts:
        next(tracker.track())
    assert isinstance(no_prompts.value, PlayerSegError)
    assert "No prompts" in one_sentence(no_prompts.value)
    tracker.add_prompt(Prompt.from_click(0, 1, 10, 10))
    list(tracker.track())
    with pytest.raises(TrackingError) as again:
        next(tracker.track())
    one_sentence(again.value)
    with pytest.raises(TrackingError):
        tracker.add_prompt(Prompt.from_click(1, 1, 10, 10))
    with pytest.raises(TrackingError) as no_frames:
        Sam3VideoTracker(model, Clip(0))
    one_sentence(no_frames.value)
    with pytest.raises(TrackingError) as not_sam3:
        Sam3VideoTracker(dataclasses.replace(model, predictor=object()), Clip(3))
    assert "test-sam3" in one_sentence(not_sam3.value)


def test_the_gated_hub_model_offline_names_the_repo_and_the_token(monkeypatch):
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(repo_id=SAM3_HUB_REPO, filename="config.json"), str):
        pytest.skip("facebook/sam3 is in this machine's Hugging Face cache")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = hub_sam3_spec()
    assert (spec.name, spec.family, spec.source, spec.hf_repo, spec.image_size) == (
        "sam3",
        "sam3",
        "hub",
        SAM3_HUB_REPO,
        1008,
    )
    with pytest.raises(ModelUnavailableError) as unavailable:
        load_sam3_model(spec, "cpu")
    message = one_sentence(unavailable.value)
    for needed in ("facebook/sam3", "gated", "licence", "HF_TOKEN", "huggingface-cli login", "HF_HUB_OFFLINE"):
        assert needed in message


def test_specs_and_the_full_size_architecture_builds():
    test = sam3_model.test_sam3_spec()
    assert (test.name, test.family, test.source) == ("test-sam3", "sam3", "random")
    assert sam3_config(test).image_size == test.image_size
    spec = random_sam3_spec()
    assert (spec.name, spec.family, spec.image_size) == ("random-sam3", "sam3", 1008)
    started = time.perf_counter()
    full = build_random_sam3(spec)
    assert time.perf_counter() - started < 60
    assert full.config.image_size == 1008
    assert sum(p.numel() for p in full.parameters()) > 400_000_000
