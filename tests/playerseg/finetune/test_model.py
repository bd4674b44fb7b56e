"""The training forward passes on the real SAM2 code (test-size model, random weights)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from playerseg.finetune.losses import sam_loss
from playerseg.finetune.model import (
    IMAGE_ENCODER_PREFIX,
    clip_forward,
    frame_forward,
    image_features,
    normalise,
    set_trainable,
    train_mode,
    trainable_prefixes,
)
from playerseg.finetune.prompting import box_prompt, click_prompt, collate_prompts
from playerseg.finetune.settings import TrainSettings
from playerseg.tracking.registry import load_video_model

SIZE = 128


@pytest.fixture(scope="module")
def net() -> Any:
    return load_video_model("test-sam2.1-tiny-128", "cpu").predictor


def _images(count: int, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.integers(0, 255, (count, 3, SIZE, SIZE), dtype=np.uint8))


def _square(x0: int, y0: int, side: int) -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), bool)
    mask[y0 : y0 + side, x0 : x0 + side] = True
    return mask


def _grads(net: Any, prefix: str) -> list[torch.Tensor | None]:
    return [p.grad for name, p in net.named_parameters() if name.startswith(prefix)]


def test_stage_parameters(net: Any) -> None:
    frames = set_trainable(net, trainable_prefixes("frames"))
    names = {n for n, p in net.named_parameters() if p.requires_grad}
    assert names and all(n.startswith("sam_mask_decoder.") for n in names)
    assert len(frames) == len(names)
    set_trainable(net, trainable_prefixes("frames", train_prompt_encoder=True))
    assert any(n.startswith("sam_prompt_encoder.") for n, p in net.named_parameters() if p.requires_grad)
    set_trainable(net, trainable_prefixes("clips"))
    names = {n for n, p in net.named_parameters() if p.requires_grad}
    assert any(n.startswith("memory_attention.") for n in names) and any(n.startswith("memory_encoder.") for n in names)
    assert not any(n.startswith(("sam_mask_decoder.", IMAGE_ENCODER_PREFIX)) for n in names)
    # the image encoder is never trainable, whatever is asked
    assert not any(p.requires_grad for n, p in net.named_parameters() if n.startswith(IMAGE_ENCODER_PREFIX))
    assert not any(p.requires_grad for p in set_trainable(net, (IMAGE_ENCODER_PREFIX,)))
    with pytest.raises(ValueError, match="Unknown stage"):
        trainable_prefixes("decoder")


def test_pretraining_trains_every_part_in_frames_and_all_but_the_encoder_in_clips(net: Any) -> None:
    settings = TrainSettings(stage="pretrain")
    assert settings.stages == ("frames", "clips") and settings.trains_encoder("frames")
    assert not settings.trains_encoder("clips")
    frames = set_trainable(net, trainable_prefixes("frames", pretrain=True), settings.trains_encoder("frames"))
    assert len(frames) == len(list(net.parameters()))
    clips = set_trainable(net, trainable_prefixes("clips", pretrain=True), settings.trains_encoder("clips"))
    names = {n for n, p in net.named_parameters() if p.requires_grad}
    assert len(clips) == len(names) and any(n.startswith("sam_mask_decoder.") for n in names)
    assert not any(n.startswith(IMAGE_ENCODER_PREFIX) for n in names)


def test_a_pretraining_frame_step_reaches_the_image_encoder(net: Any) -> None:
    set_trainable(net, trainable_prefixes("frames", pretrain=True), train_encoder=True)
    train_mode(net, train_encoder=True)
    assert net.image_encoder.training
    net.zero_grad(set_to_none=True)
    features = image_features(net, normalise(_images(1)), train_encoder=True)
    assert features.vision_feats[-1].grad_fn is not None
    mask = _square(10, 20, 30)
    coords, labels = collate_prompts([click_prompt(mask)])
    output = frame_forward(net, features.select(torch.tensor([0])), coords, labels)
    targets = torch.from_numpy(mask[None])
    sam_loss(output.multimask_logits, output.iou_predictions, output.object_score_logits, targets).total.backward()
    encoder = _grads(net, IMAGE_ENCODER_PREFIX)
    assert sum(g is not None and bool(g.abs().sum() > 0) for g in encoder) > len(encoder) // 2
    net.zero_grad(set_to_none=True)
    set_trainable(net, ())
    train_mode(net)
    assert not net.image_encoder.training


def test_frame_step_trains_the_decoder_without_a_graph_through_the_encoder(net: Any) -> None:
    set_trainable(net, trainable_prefixes("frames"))
    train_mode(net)
    assert not net.image_encoder.training and net.sam_mask_decoder.training
    net.zero_grad(set_to_none=True)
    features = image_features(net, normalise(_images(2)))
    assert features.vision_feats[-1].grad_fn is None  # straight from the frozen encoder
    assert features.vision_feats[0].grad_fn is not None  # through the decoder's conv_s0, which trains
    masks = [_square(10, 20, 30), _square(60, 60, 20)]
    coords, labels = collate_prompts([click_prompt(m) for m in masks])
    output = frame_forward(net, features.select(torch.tensor([0, 1])), coords, labels)
    assert output.multimask_logits.shape == (2, 3, SIZE, SIZE)  # one click: SAM2's three candidates
    targets = torch.from_numpy(np.stack(masks))
    sam_loss(output.multimask_logits, output.iou_predictions, output.object_score_logits, targets).total.backward()
    assert all(g is None for g in _grads(net, IMAGE_ENCODER_PREFIX))
    decoder = _grads(net, "sam_mask_decoder.")
    assert sum(g is not None and bool(g.abs().sum() > 0) for g in decoder) > len(decoder) // 2
    net.zero_grad(set_to_none=True)


def test_box_prompts_give_one_mask(net: Any) -> None:
    features = image_features(net, normalise(_images(1)))
    coords, labels = collate_prompts([box_prompt(_square(10, 20, 30))])
    with torch.no_grad():
        output = frame_forward(net, features, coords, labels)
    assert output.multimask_logits.shape == (1, 1, SIZE, SIZE)
    assert output.iou_predictions.shape == (1, 1) and output.object_score_logits.shape == (1, 1)


def test_clip_step_trains_the_memory_path(net: Any) -> None:
    set_trainable(net, trainable_prefixes("clips"))
    train_mode(net)
    net.zero_grad(set_to_none=True)
    features = image_features(net, normalise(_images(3, seed=1)))
    per_frame = [features.select(torch.tensor([t, t])) for t in range(3)]
    masks = [_square(10, 20, 30), _square(60, 60, 20)]
    coords, labels = collate_prompts([click_prompt(m) for m in masks])
    outputs = clip_forward(net, per_frame, coords, labels)
    assert len(outputs) == 3
    targets = torch.from_numpy(np.stack(masks))
    # the loss on the LAST frame alone reaches the memory encoder, which only ran on the earlier frames' masks
    last = outputs[-1]
    sam_loss(last.multimask_logits, last.iou_predictions, last.object_score_logits, targets).total.backward()
    for prefix in ("memory_attention.", "memory_encoder."):
        grads = _grads(net, prefix)
        assert any(g is not None and bool(g.abs().sum() > 0) for g in grads), prefix
    assert all(g is None for g in _grads(net, IMAGE_ENCODER_PREFIX))
    assert all(g is None for g in _grads(net, "sam_mask_decoder."))  # frozen in this stage
    net.zero_grad(set_to_none=True)
    set_trainable(net, ())
    net.eval()
