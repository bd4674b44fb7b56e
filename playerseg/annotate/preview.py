"""A mask preview for one click: one SAM2 image-decoder call on a frame, before anything is re-tracked.

`MaskPreview` wraps sam2's own `SAM2ImagePredictor` around a loaded video model (the video predictor is a SAM2Base,
so the image path shares its weights). The frame's image embedding is computed once per caller-chosen key (e.g. the
frame index) and kept for the last key only, so each further click on that frame costs one prompt-encoder and
mask-decoder call. What the decoder is given (`decoder_prompt`):

- the clicks, clipped to the frame, as points (label 1 positive, 0 negative);
- the user's box, clipped to the frame; else, with a prior (the object's current mask on the frame), the prior's
  bounding box;
- the prior as the decoder's low-resolution mask input, as logits (+10 inside, -10 outside) at the prompt encoder's
  mask size: what lets a negative click on a player take a part off its current mask;
- several candidate masks (the best by predicted IoU is kept) only for a single positive click with no box and no
  prior, SAM's rule for an ambiguous prompt; one mask otherwise.

Heavy imports (torch, sam2) happen inside the methods that need them, as in playerseg.tracking.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from playerseg.errors import PlayerSegError
from playerseg.io.masks import bbox_from_mask
from playerseg.io.prompts import Box, Point
from playerseg.tracking.registry import LoadedModel

PRIOR_LOGIT = 10.0  # the prior mask as decoder input: +10 inside, -10 outside (sigmoid 0.99995 / 0.00005)
_NO_KEY = object()  # no image embedded yet


class PreviewError(PlayerSegError, ValueError):
    """A preview that cannot be made from what was given; the message is one sentence for the user."""


@dataclass(frozen=True)
class PreviewMask:
    """The decoder's mask for one set of clicks on one frame."""

    mask: np.ndarray  # bool HxW at the frame's size
    score: float  # the decoder's predicted IoU of this mask


@dataclass(frozen=True)
class DecoderPrompt:
    """The arguments of SAM2ImagePredictor.predict for one preview (coordinates in the frame's pixels)."""

    point_coords: np.ndarray | None  # N x 2 float32 (x, y)
    point_labels: np.ndarray | None  # N int32: 1 positive, 0 negative
    box: np.ndarray | None  # 4 float32: x0, y0, x1, y1
    mask_input: np.ndarray | None  # 1 x S x S float32 logits
    multimask_output: bool


def checked_frame(rgb: np.ndarray) -> np.ndarray:
    """The frame as a contiguous uint8 H x W x 3 array; PreviewError for anything else."""
    frame = np.asarray(rgb)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] < 1 or frame.shape[1] < 1:
        raise PreviewError(
            f"The frame to preview on must be an RGB image (height x width x 3), got shape {frame.shape}."
        )
    if frame.dtype != np.uint8:
        raise PreviewError(f"The frame to preview on must hold 8-bit colours (uint8), got {frame.dtype}.")
    # a private writable copy where needed: torch warns on read-only arrays (e.g. a frame read with PIL)
    return frame if frame.flags.c_contiguous and frame.flags.writeable else frame.copy()


def checked_prior(prior: np.ndarray | None, frame_hw: tuple[int, int]) -> np.ndarray | None:
    """The prior as a bool mask at the frame's size, None when absent or empty; PreviewError on a size mismatch."""
    if prior is None:
        return None
    mask = np.asarray(prior)
    if mask.shape != frame_hw:
        raise PreviewError(
            f"The object's current mask is {mask.shape[1]}x{mask.shape[0]} but the frame is "
            f"{frame_hw[1]}x{frame_hw[0]}: give the mask of this frame."
        )
    mask = mask.astype(bool)
    return mask if mask.any() else None


def clipped_points(points: Sequence[Point], frame_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """Clicks as (coords N x 2, labels N), each clipped to the frame's pixels; None for no clicks."""
    if not points:
        return None
    height, width = frame_hw
    coords = np.array([[p.x, p.y] for p in points], dtype=np.float32)
    coords[:, 0] = np.clip(coords[:, 0], 0, width - 1)
    coords[:, 1] = np.clip(coords[:, 1], 0, height - 1)
    labels = np.array([1 if p.positive else 0 for p in points], dtype=np.int32)
    return coords, labels


def clipped_box(box: Box, frame_hw: tuple[int, int]) -> np.ndarray:
    """The box clipped to the frame as x0, y0, x1, y1; PreviewError when nothing of it is on the frame."""
    height, width = frame_hw
    x0, x1 = np.clip([box.x0, box.x1], 0, width)
    y0, y1 = np.clip([box.y0, box.y1], 0, height)
    if x1 <= x0 or y1 <= y0:
        raise PreviewError(f"The box lies outside the {width}x{height} frame: draw it on the frame.")
    return np.array([x0, y0, x1, y1], dtype=np.float32)


def prior_logits(prior: np.ndarray, mask_size: tuple[int, int]) -> np.ndarray:
    """The prior at the decoder's mask-input size (the whole frame squeezed to a square, as SAM2 resizes images),
    as 1 x S x S logits: +PRIOR_LOGIT where at least half of a cell is inside the mask, -PRIOR_LOGIT elsewhere."""
    height, width = mask_size
    share = cv2.resize(prior.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
    return np.where(share >= 0.5, PRIOR_LOGIT, -PRIOR_LOGIT).astype(np.float32)[None]


def decoder_prompt(
    points: Sequence[Point],
    box: Box | None,
    prior: np.ndarray | None,
    frame_hw: tuple[int, int],
    mask_size: tuple[int, int],
) -> DecoderPrompt:
    """What the decoder is given for these clicks (see the module docstring); PreviewError when nothing says where
    the object is: no positive click, no box and no prior."""
    if box is None and prior is None and not any(p.positive for p in points):
        raise PreviewError(
            "Nothing to preview: negative clicks alone do not say where the object is, so start with a positive "
            "click on it or a box around it."
        )
    clicks = clipped_points(points, frame_hw)
    if box is not None:
        box_xyxy: np.ndarray | None = clipped_box(box, frame_hw)
    elif prior is not None:
        box_xyxy = np.array(bbox_from_mask(prior), dtype=np.float32)
    else:
        box_xyxy = None
    single_click = len(points) == 1 and box is None and prior is None
    return DecoderPrompt(
        point_coords=None if clicks is None else clicks[0],
        point_labels=None if clicks is None else clicks[1],
        box=box_xyxy,
        mask_input=None if prior is None else prior_logits(prior, mask_size),
        multimask_output=single_click,  # a lone click is necessarily positive here
    )


class MaskPreview:
    """Mask previews on one model, keeping the image embedding of the last frame key it was given."""

    def __init__(self, model: LoadedModel) -> None:
        if model.spec.family != "sam2":  # the preview is one SAM2 decoder call per click
            raise PreviewError(
                f"The mask preview needs a SAM2 model and {model.spec.name} is a {model.spec.family} model: "
                "track again from the clicks to see their effect."
            )
        self.model = model
        self._predictor: Any = None  # sam2.sam2_image_predictor.SAM2ImagePredictor, built on first use
        self._key: Any = _NO_KEY  # (key, frame shape) of the embedded image

    def preview(
        self,
        key: Hashable,
        rgb: np.ndarray,
        points: Sequence[Point],
        box: Box | None = None,
        prior: np.ndarray | None = None,
    ) -> PreviewMask:
        """The decoder's mask for these clicks (x, y in rgb's pixels), box and prior (the object's current mask on
        this frame, HxW) on frame `rgb`, which the caller names by `key`: a frame key seen last time (with the same
        frame size) reuses its image embedding, any other key encodes `rgb` and forgets the previous embedding."""
        import torch

        frame = checked_frame(rgb)
        frame_hw = (int(frame.shape[0]), int(frame.shape[1]))
        prompt = decoder_prompt(points, box, checked_prior(prior, frame_hw), frame_hw, self._mask_size())
        with torch.inference_mode(), self._autocast():
            predictor = self._embedded(key, frame)
            masks, scores, _ = predictor.predict(
                point_coords=prompt.point_coords,
                point_labels=prompt.point_labels,
                box=prompt.box,
                mask_input=prompt.mask_input,
                multimask_output=prompt.multimask_output,
            )
        best = int(np.argmax(scores))
        return PreviewMask(mask=np.asarray(masks[best]) > 0.5, score=float(scores[best]))

    def forget(self) -> None:
        """Drop the kept image embedding (e.g. when the review closes)."""
        if self._predictor is not None:
            self._predictor.reset_predictor()
        self._key = _NO_KEY

    def _image_predictor(self) -> Any:
        if self._predictor is None:
            from sam2.sam2_image_predictor import SAM2ImagePredictor

            sam = self.model.predictor
            predictor = SAM2ImagePredictor(sam_model=sam)
            # sam2 hard-codes the feature-map sizes of a 1024 px model; the backbone's three levels are at strides
            # 4, 8 and 16 of whatever image size this model has
            grid = int(sam.sam_image_embedding_size)
            predictor._bb_feat_sizes = [(grid * 4, grid * 4), (grid * 2, grid * 2), (grid, grid)]
            self._predictor = predictor
        return self._predictor

    def _embedded(self, key: Hashable, frame: np.ndarray) -> Any:
        """The image predictor with `frame`'s embedding set: computed only when (key, frame size) is new."""
        predictor = self._image_predictor()
        wanted = (key, frame.shape)
        if self._key != wanted:
            self._key = _NO_KEY  # an encoding that fails half-way leaves nothing kept
            predictor.set_image(frame)
            self._key = wanted
        return predictor

    def _mask_size(self) -> tuple[int, int]:
        """The decoder's mask-input size (image size / 4: 256 x 256 for a 1024 px model)."""
        height, width = self.model.predictor.sam_prompt_encoder.mask_input_size
        return int(height), int(width)

    def _autocast(self) -> AbstractContextManager[Any]:
        """bf16 autocast on CUDA, as the tracker runs sam2; nothing on CPU."""
        import torch

        if self.model.device.startswith("cuda"):
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return nullcontext()
