"""SAM2's training loss: best-of-M mask supervision, IoU-prediction regression and an object-score term.

For each object SAM2 predicts M candidate masks (M = 3 with multimask output, else 1), an IoU estimate per
candidate and one "is the object visible" logit. Only the candidate that fits the target best gets a mask/dice
gradient (so the candidates can specialise on different interpretations of an ambiguous prompt); every candidate's
IoU estimate is regressed onto the IoU it actually reaches; the object score is trained on every object, while the
mask, dice and IoU terms only count objects that are present (an occluded player has no mask to learn).

Void pixels (`valid == False`, e.g. DAVIS 255) are left out of every term.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

MASK_LOSSES = ("focal", "bce")


@dataclass(frozen=True)
class LossWeights:
    mask: float = 20.0  # focal, SAM's weight; the trainer passes mask=1.0 for "bce"
    dice: float = 1.0
    iou: float = 1.0
    object_score: float = 1.0


@dataclass(frozen=True)
class LossTerms:
    """Each term is a 0-dim tensor; `total` is the weighted sum and carries the gradient."""

    total: torch.Tensor
    mask: torch.Tensor
    dice: torch.Tensor
    iou: torch.Tensor
    object_score: torch.Tensor

    def as_floats(self) -> dict[str, float]:
        return {
            "total": float(self.total.detach()),
            "mask": float(self.mask.detach()),
            "dice": float(self.dice.detach()),
            "iou": float(self.iou.detach()),
            "object_score": float(self.object_score.detach()),
        }


# ---------------------------------------------------------------- per-mask terms


def _check_per_mask_inputs(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> None:
    if logits.dim() != 3:
        raise ValueError(f"Mask logits must have shape (N, H, W), got {tuple(logits.shape)}.")
    if targets.shape != logits.shape or valid.shape != logits.shape:
        raise ValueError(
            f"Logits, targets and valid must share one shape, got {tuple(logits.shape)}, "
            f"{tuple(targets.shape)} and {tuple(valid.shape)}."
        )


def _mean_over_valid(per_pixel: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """(N, H, W) -> (N,): mean over the valid pixels of each mask; 0 for a mask with no valid pixel."""
    weights = valid.to(per_pixel.dtype)
    count = weights.sum(dim=(1, 2)).clamp(min=1.0)
    return (per_pixel * weights).sum(dim=(1, 2)) / count


def sigmoid_focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    valid: torch.Tensor,
    alpha: float = 0.25,
    gamma: float = 2.0,
) -> torch.Tensor:
    """Focal loss (Lin et al.) per mask, (N,): mean over valid pixels. A negative alpha disables class weighting."""
    _check_per_mask_inputs(logits, targets, valid)
    logits = logits.float()
    targets = targets.to(logits.dtype)
    probabilities = torch.sigmoid(logits)
    cross_entropy = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    # Probability given to the true class: confident correct pixels get down-weighted by (1 - p_true)^gamma.
    p_true = probabilities * targets + (1.0 - probabilities) * (1.0 - targets)
    per_pixel = cross_entropy * (1.0 - p_true) ** gamma
    if alpha >= 0:
        per_pixel = per_pixel * (alpha * targets + (1.0 - alpha) * (1.0 - targets))
    return _mean_over_valid(per_pixel, valid)


def bce_loss(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy per mask, (N,): mean over valid pixels."""
    _check_per_mask_inputs(logits, targets, valid)
    logits = logits.float()
    per_pixel = F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), reduction="none")
    return _mean_over_valid(per_pixel, valid)


def dice_loss(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """Soft dice loss per mask, (N,): 1 - (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth) over valid pixels."""
    _check_per_mask_inputs(logits, targets, valid)
    weights = valid.float()
    probabilities = torch.sigmoid(logits.float()) * weights
    targets = targets.float() * weights
    overlap = (probabilities * targets).sum(dim=(1, 2))
    total = probabilities.sum(dim=(1, 2)) + targets.sum(dim=(1, 2))
    return 1.0 - (2.0 * overlap + smooth) / (total + smooth)


@torch.no_grad()
def mask_iou(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """IoU of (logits > 0) with the targets over valid pixels, (N,); 1.0 when both are empty. No gradient."""
    _check_per_mask_inputs(logits, targets, valid)
    valid = valid.bool()
    predicted = (logits > 0) & valid
    target = targets.bool() & valid
    intersection = (predicted & target).sum(dim=(1, 2)).float()
    union = (predicted | target).sum(dim=(1, 2)).float()
    return torch.where(union > 0, intersection / union.clamp(min=1.0), torch.ones_like(union))


# ---------------------------------------------------------------- SAM2's loss


def _check_sam_inputs(
    multimask_logits: torch.Tensor,
    iou_predictions: torch.Tensor,
    object_score_logits: torch.Tensor,
    targets: torch.Tensor,
    valid: torch.Tensor,
    mask_loss: str,
) -> None:
    if mask_loss not in MASK_LOSSES:
        raise ValueError(f"Unknown mask loss {mask_loss!r}: use one of {', '.join(MASK_LOSSES)}.")
    if multimask_logits.dim() != 4:
        raise ValueError(f"Multimask logits must have shape (B, M, H, W), got {tuple(multimask_logits.shape)}.")
    batch, candidates, height, width = multimask_logits.shape
    if batch == 0 or candidates == 0:
        raise ValueError(f"sam_loss needs at least one object and one candidate mask, got shape {(batch, candidates)}.")
    expected = {
        "iou_predictions": (iou_predictions, (batch, candidates)),
        "object_score_logits": (object_score_logits, (batch, 1)),
        "targets": (targets, (batch, height, width)),
        "valid": (valid, (batch, height, width)),
    }
    for name, (tensor, shape) in expected.items():
        if tuple(tensor.shape) != shape:
            raise ValueError(f"{name} must have shape {shape} to match the logits, got {tuple(tensor.shape)}.")


def _mean_over_present(per_object: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """Average over present objects by indexing (absent objects get no gradient at all); 0 when none is present."""
    if not bool(present.any()):
        return per_object.new_zeros(())
    return per_object[present].mean()


def sam_loss(
    multimask_logits: torch.Tensor,
    iou_predictions: torch.Tensor,
    object_score_logits: torch.Tensor,
    targets: torch.Tensor,
    valid: torch.Tensor | None = None,
    mask_loss: str = "focal",
    weights: LossWeights = LossWeights(),
) -> LossTerms:
    """SAM2's per-frame loss for B objects with M candidate masks each (logits already at the target size)."""
    if valid is None:
        valid = torch.ones(targets.shape, dtype=torch.bool, device=targets.device)
    _check_sam_inputs(multimask_logits, iou_predictions, object_score_logits, targets, valid, mask_loss)
    batch, candidates, height, width = multimask_logits.shape
    target = targets.bool() if targets.dtype == torch.bool else targets > 0.5
    valid = valid.bool()

    # Score every candidate against its object's target: (B, M, H, W) -> (B*M, H, W) -> (B, M).
    flat_logits = multimask_logits.reshape(batch * candidates, height, width)
    flat_target = target.unsqueeze(1).expand(-1, candidates, -1, -1).reshape(batch * candidates, height, width)
    flat_valid = valid.unsqueeze(1).expand(-1, candidates, -1, -1).reshape(batch * candidates, height, width)
    pixel_loss = sigmoid_focal_loss if mask_loss == "focal" else bce_loss
    mask_per_candidate = pixel_loss(flat_logits, flat_target, flat_valid).reshape(batch, candidates)
    dice_per_candidate = dice_loss(flat_logits, flat_target, flat_valid).reshape(batch, candidates)
    actual_iou = mask_iou(flat_logits, flat_target, flat_valid).reshape(batch, candidates)

    # Best of M: only the candidate with the lowest weighted mask+dice loss is supervised.
    combined = weights.mask * mask_per_candidate + weights.dice * dice_per_candidate
    best = combined.detach().argmin(dim=1, keepdim=True)
    best_mask = mask_per_candidate.gather(1, best).squeeze(1)
    best_dice = dice_per_candidate.gather(1, best).squeeze(1)
    iou_error = ((iou_predictions.float() - actual_iou) ** 2).mean(dim=1)

    present = (target & valid).flatten(1).any(dim=1)
    mask_term = _mean_over_present(best_mask, present)
    dice_term = _mean_over_present(best_dice, present)
    iou_term = _mean_over_present(iou_error, present)
    object_score_term = F.binary_cross_entropy_with_logits(
        object_score_logits.float().squeeze(1), present.float(), reduction="mean"
    )
    total = (
        weights.mask * mask_term
        + weights.dice * dice_term
        + weights.iou * iou_term
        + weights.object_score * object_score_term
    )
    return LossTerms(total=total, mask=mask_term, dice=dice_term, iou=iou_term, object_score=object_score_term)
