"""SAM2 forward passes for training: frozen image encoder, trainable heads, frames (stage 1) and clips (stage 2).

The model is the same SAM2VideoPredictor the tracker uses (so validation runs the real tracking code on it). Its
image encoder is frozen for real: `requires_grad=False`, eval mode, and run under `torch.no_grad()` so no autograd
graph is built through it. SAM2 projects the encoder's two high-resolution feature maps with the mask decoder's
`conv_s0`/`conv_s1`; those belong to the decoder, so they run outside no_grad and train with it.

Pretraining (a model built from scratch, `--stage pretrain`) trains every part: in its frames stage the image
encoder, the prompt encoder and the mask decoder together (the encoder then runs with its graph, in train mode), in
its clips stage everything but the image encoder (memory path and heads together).

Stage 1 (frames) trains the mask decoder (and optionally the prompt encoder) on single frames, exactly SAM2's
image path: no memory, `no_mem_embed` added. Stage 2 (clips) runs short clips through SAM2's memory path: prompts
on the first frame, then each frame attends to the memories of the earlier ones; it trains the memory encoder, the
memory attention and the small embeddings that feed them (temporal position encodings, object pointers).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from playerseg.tracking.frames import IMAGE_MEAN, IMAGE_STD

STAGES = ("frames", "clips")
IMAGE_ENCODER_PREFIX = "image_encoder."
# Parameter name prefixes trained in each stage.
FRAME_STAGE_MODULES = ("sam_mask_decoder.",)
PROMPT_ENCODER_MODULES = ("sam_prompt_encoder.",)
CLIP_STAGE_MODULES = (
    "memory_encoder.",
    "memory_attention.",
    "maskmem_tpos_enc",
    "no_mem_embed",
    "no_mem_pos_enc",
    "obj_ptr_proj.",
    "obj_ptr_tpos_proj.",
    "no_obj_ptr",
    "no_obj_embed_spatial",
    "mask_downsample.",
)


ALL_PARAMETERS = ("",)  # the prefix every parameter name starts with


def trainable_prefixes(stage: str, train_prompt_encoder: bool = False, pretrain: bool = False) -> tuple[str, ...]:
    """Parameter name prefixes a stage trains; `pretrain`: everything (frames) or everything but the encoder (clips)."""
    if stage not in STAGES:
        raise ValueError(f"Unknown stage {stage!r}: use one of {', '.join(STAGES)}.")
    if pretrain:
        return ALL_PARAMETERS
    if stage == "frames":
        return FRAME_STAGE_MODULES + (PROMPT_ENCODER_MODULES if train_prompt_encoder else ())
    return CLIP_STAGE_MODULES


def set_trainable(model: Any, prefixes: Sequence[str], train_encoder: bool = False) -> list[torch.nn.Parameter]:
    """Freeze everything, then unfreeze the parameters under `prefixes` (the image encoder only when
    `train_encoder`); returns them."""
    trainable = []
    for name, parameter in model.named_parameters():
        encoder = name.startswith(IMAGE_ENCODER_PREFIX)
        wanted = any(name.startswith(p) for p in prefixes) and (train_encoder or not encoder)
        parameter.requires_grad_(wanted)
        if wanted:
            trainable.append(parameter)
    return trainable


def train_mode(model: Any, train_encoder: bool = False) -> None:
    """Training mode (dropout on) for everything but the image encoder, unless it trains too."""
    model.train()
    if not train_encoder:
        model.image_encoder.eval()


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, S, S) -> float, normalised like sam2's loader."""
    mean = torch.tensor(IMAGE_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGE_STD, device=images.device).view(1, 3, 1, 1)
    return (images.float() / 255.0 - mean) / std


@dataclass
class Features:
    """Per-image backbone features, flattened the way SAM2's heads take them: levels of (HW, N, C)."""

    vision_feats: list[torch.Tensor]
    vision_pos: list[torch.Tensor]
    sizes: list[tuple[int, int]]

    def select(self, index: torch.Tensor) -> Features:
        """Features of images `index` (one entry per object: objects of one image share its features)."""
        return Features(
            [f.index_select(1, index) for f in self.vision_feats],
            [p.index_select(1, index) for p in self.vision_pos],
            self.sizes,
        )


def image_features(model: Any, images: torch.Tensor, train_encoder: bool = False) -> Features:
    """Backbone features of normalised images (N, 3, S, S): encoder frozen (no graph) unless `train_encoder`,
    decoder projections trained."""
    with torch.enable_grad() if train_encoder else torch.no_grad():
        backbone_out = model.image_encoder(images)
    if model.use_high_res_features_in_sam:
        fpn = list(backbone_out["backbone_fpn"])
        fpn[0] = model.sam_mask_decoder.conv_s0(fpn[0])
        fpn[1] = model.sam_mask_decoder.conv_s1(fpn[1])
        backbone_out = {**backbone_out, "backbone_fpn": fpn}
    _, feats, pos, sizes = model._prepare_backbone_features(backbone_out)
    return Features(feats, pos, sizes)


@dataclass
class HeadOutput:
    """What the loss reads for one frame of a batch of objects."""

    multimask_logits: torch.Tensor  # (B, M, S, S) at the input size
    iou_predictions: torch.Tensor  # (B, M)
    object_score_logits: torch.Tensor  # (B, 1)


def _empty_memory() -> dict[str, dict[int, Any]]:
    return {"cond_frame_outputs": {}, "non_cond_frame_outputs": {}}


def _point_inputs(coords: torch.Tensor | None, labels: torch.Tensor | None) -> dict[str, torch.Tensor] | None:
    if coords is None or labels is None:
        return None
    return {"point_coords": coords, "point_labels": labels}


def frame_forward(model: Any, features: Features, coords: torch.Tensor, labels: torch.Tensor) -> HeadOutput:
    """Stage 1: SAM2's image path for a batch of prompted objects (one feature column per object)."""
    _, sam_outputs, _, _ = model._track_step(
        frame_idx=0,
        is_init_cond_frame=True,
        current_vision_feats=features.vision_feats,
        current_vision_pos_embeds=features.vision_pos,
        feat_sizes=features.sizes,
        point_inputs=_point_inputs(coords, labels),
        mask_inputs=None,
        output_dict=_empty_memory(),
        num_frames=1,
        track_in_reverse=False,
        prev_sam_mask_logits=None,
    )
    _, high_res_multimasks, ious, _, _, _, object_score_logits = sam_outputs
    return HeadOutput(high_res_multimasks, ious, object_score_logits)


def clip_forward(
    model: Any, frame_features: Iterable[Features], coords: torch.Tensor, labels: torch.Tensor
) -> list[HeadOutput]:
    """Stage 2: a batch of objects through consecutive frames with SAM2's memory; prompts on the first frame only.

    Each frame's prediction is encoded into memory (kept with its graph, so the loss on later frames trains the
    memory encoder and attention through time) and read by the following frames, as in tracking."""
    memory = _empty_memory()
    outputs: list[HeadOutput] = []
    features_list = list(frame_features)
    for t, features in enumerate(features_list):
        first = t == 0
        point_inputs = _point_inputs(coords, labels) if first else None
        current_out, sam_outputs, _, _ = model._track_step(
            frame_idx=t,
            is_init_cond_frame=first,
            current_vision_feats=features.vision_feats,
            current_vision_pos_embeds=features.vision_pos,
            feat_sizes=features.sizes,
            point_inputs=point_inputs,
            mask_inputs=None,
            output_dict=memory,
            num_frames=len(features_list),
            track_in_reverse=False,
            prev_sam_mask_logits=None,
        )
        _, high_res_multimasks, ious, low_res_masks, high_res_masks, obj_ptr, object_score_logits = sam_outputs
        current_out.update(pred_masks=low_res_masks, pred_masks_high_res=high_res_masks, obj_ptr=obj_ptr)
        current_out["object_score_logits"] = object_score_logits
        model._encode_memory_in_output(
            features.vision_feats,
            features.sizes,
            point_inputs,
            True,
            high_res_masks,
            object_score_logits,
            current_out,
        )
        memory["cond_frame_outputs" if first else "non_cond_frame_outputs"][t] = current_out
        outputs.append(HeadOutput(high_res_multimasks, ious, object_score_logits))
    return outputs


def drop_inference_caches(model: Any) -> None:
    """Forget position encodings cached while validating under torch.inference_mode: inference tensors cannot
    take part in a training step's autograd graph."""
    for module in model.modules():
        cache = getattr(module, "cache", None)
        if isinstance(cache, dict):
            cache.clear()
