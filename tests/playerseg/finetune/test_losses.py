"""SAM2 training loss: per-mask terms against torch/torchvision references, hand-worked cases, best-of-M semantics."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss as torchvision_focal

from playerseg.finetune.losses import (
    MASK_LOSSES,
    LossTerms,
    LossWeights,
    bce_loss,
    dice_loss,
    mask_iou,
    sam_loss,
    sigmoid_focal_loss,
)

BIG = 30.0  # a logit this large is certain for sigmoid in float32


def _random_case(seed: int, shape: tuple[int, int, int] = (4, 9, 7)) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    logits = 3.0 * torch.randn(shape, generator=generator, dtype=torch.float64).float()
    targets = torch.rand(shape, generator=generator) > 0.6
    return logits, targets


def _all_valid(like: torch.Tensor) -> torch.Tensor:
    return torch.ones(like.shape, dtype=torch.bool)


def _certain_logits(mask: torch.Tensor) -> torch.Tensor:
    """Logits that predict `mask` with certainty."""
    return torch.where(mask, torch.tensor(BIG), torch.tensor(-BIG))


# ---------------------------------------------------------------- focal / bce against references


@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (0.5, 1.0), (-1.0, 2.0)])
def test_focal_matches_torchvision(alpha: float, gamma: float) -> None:
    logits, targets = _random_case(0)
    ours = sigmoid_focal_loss(logits, targets, _all_valid(logits), alpha=alpha, gamma=gamma)
    reference = torchvision_focal(logits, targets.float(), alpha=alpha, gamma=gamma, reduction="none").mean(dim=(1, 2))
    assert ours.shape == (4,)
    torch.testing.assert_close(ours, reference, atol=1e-6, rtol=0)


def test_bce_matches_torch() -> None:
    logits, targets = _random_case(1)
    ours = bce_loss(logits, targets, _all_valid(logits))
    reference = F.binary_cross_entropy_with_logits(logits, targets.float(), reduction="none").mean(dim=(1, 2))
    torch.testing.assert_close(ours, reference, atol=1e-6, rtol=0)


@pytest.mark.parametrize("loss", [sigmoid_focal_loss, bce_loss])
def test_void_pixels_are_ignored(loss) -> None:
    logits, targets = _random_case(2)
    valid = torch.rand(logits.shape, generator=torch.Generator().manual_seed(3)) > 0.3
    value = loss(logits, targets, valid)
    # Reference: the same per-pixel loss averaged over each mask's valid pixels only.
    per_pixel = (
        torchvision_focal(logits, targets.float(), reduction="none")
        if loss is sigmoid_focal_loss
        else F.binary_cross_entropy_with_logits(logits, targets.float(), reduction="none")
    )
    reference = torch.stack([per_pixel[i][valid[i]].mean() for i in range(logits.shape[0])])
    torch.testing.assert_close(value, reference, atol=1e-6, rtol=0)
    # Anything under a void pixel may change without changing the loss.
    scrambled_logits = torch.where(valid, logits, -logits + 5.0)
    scrambled_targets = torch.where(valid, targets, ~targets)
    torch.testing.assert_close(loss(scrambled_logits, scrambled_targets, valid), value, atol=0, rtol=0)


def test_mask_with_no_valid_pixel_costs_nothing() -> None:
    logits, targets = _random_case(4, (2, 3, 3))
    valid = torch.zeros(logits.shape, dtype=torch.bool)
    assert sigmoid_focal_loss(logits, targets, valid).tolist() == [0.0, 0.0]
    assert bce_loss(logits, targets, valid).tolist() == [0.0, 0.0]


def test_per_mask_terms_reject_mismatched_shapes() -> None:
    logits, targets = _random_case(5)
    with pytest.raises(ValueError, match="share one shape"):
        dice_loss(logits, targets[:, :-1], _all_valid(logits))
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        bce_loss(logits[0], targets[0], _all_valid(logits[0]))


# ---------------------------------------------------------------- dice, by hand


def test_dice_perfect_and_opposite() -> None:
    target = torch.zeros(1, 8, 8, dtype=torch.bool)
    target[0, 2:6, 1:5] = True  # 16 pixels
    valid = _all_valid(target)
    assert dice_loss(_certain_logits(target), target, valid).item() == pytest.approx(0.0, abs=1e-6)
    # Opposite prediction: no overlap, 48 + 16 predicted+target pixels -> 1 - 1 / 65.
    assert dice_loss(_certain_logits(~target), target, valid).item() == pytest.approx(1 - 1 / 65, abs=1e-6)


def test_dice_two_by_two_by_hand() -> None:
    logits = torch.zeros(1, 2, 2)  # p = 0.5 everywhere
    target = torch.tensor([[[True, False], [False, False]]])
    # sum(p t) = 0.5, sum(p) = 2, sum(t) = 1 -> 1 - (1 + 1) / (3 + 1) = 0.5
    assert dice_loss(logits, target, _all_valid(target)).item() == pytest.approx(0.5)
    # Voiding pixel (1, 1): sum(p) = 1.5 -> 1 - 2 / 3.5
    valid = torch.tensor([[[True, True], [True, False]]])
    assert dice_loss(logits, target, valid).item() == pytest.approx(1 - 2 / 3.5)
    # smooth = 0: 1 - 1 / 3
    assert dice_loss(logits, target, _all_valid(target), smooth=0.0).item() == pytest.approx(2 / 3)


# ---------------------------------------------------------------- mask IoU, by hand


def test_mask_iou_by_hand() -> None:
    logits = torch.tensor([[[1.0, 1.0], [-1.0, -1.0]]])  # predicts the top row
    target = torch.tensor([[[True, False], [True, False]]])  # the left column
    assert mask_iou(logits, target, _all_valid(target)).item() == pytest.approx(1 / 3)
    valid = torch.tensor([[[True, True], [False, True]]])  # void the bottom-left target pixel
    assert mask_iou(logits, target, valid).item() == pytest.approx(1 / 2)


def test_mask_iou_empty_cases_and_no_gradient() -> None:
    empty = torch.zeros(2, 3, 3, dtype=torch.bool)
    logits = torch.full((2, 3, 3), -1.0, requires_grad=True)
    logits.data[1, 0, 0] = 1.0  # object 1 predicts one pixel that is not there
    iou = mask_iou(logits, empty, _all_valid(empty))
    assert iou.tolist() == [1.0, 0.0]
    assert not iou.requires_grad
    # A logit of exactly 0 is not foreground.
    full = torch.ones(1, 2, 2, dtype=torch.bool)
    assert mask_iou(torch.zeros(1, 2, 2), full, full).item() == 0.0


# ---------------------------------------------------------------- sam_loss


def _player_target(batch: int = 1, size: int = 8) -> torch.Tensor:
    target = torch.zeros(batch, size, size, dtype=torch.bool)
    target[:, 2:6, 3:6] = True
    return target


def _three_candidates(target: torch.Tensor, match: int, seed: int = 0) -> torch.Tensor:
    """(B, 3, H, W) logits: random candidates, except candidate `match`, which predicts the target."""
    batch, height, width = target.shape
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch, 3, height, width, generator=generator)
    logits[:, match] = torch.where(target, 4.0, -4.0)
    return logits.requires_grad_(True)


def test_best_candidate_is_supervised_alone() -> None:
    target = _player_target(batch=2)
    valid = _all_valid(target)
    logits = _three_candidates(target, match=1)
    ious = torch.full((2, 3), 0.5, requires_grad=True)
    scores = torch.full((2, 1), 2.0, requires_grad=True)
    terms = sam_loss(logits, ious, scores, target, valid)

    best = logits[:, 1].detach()
    torch.testing.assert_close(terms.mask, sigmoid_focal_loss(best, target, valid).mean())
    torch.testing.assert_close(terms.dice, dice_loss(best, target, valid).mean())
    terms.total.backward()
    assert torch.all(logits.grad[:, [0, 2]] == 0)
    assert torch.all(logits.grad[:, 1].abs().sum(dim=(1, 2)) > 0)
    assert torch.all(ious.grad != 0)  # every candidate's IoU estimate is trained


def test_best_candidate_is_chosen_per_object() -> None:
    target = _player_target(batch=2)
    logits = torch.cat([_three_candidates(target[:1], match=2), _three_candidates(target[1:], match=0)]).detach()
    logits.requires_grad_(True)
    terms = sam_loss(logits, torch.zeros(2, 3), torch.zeros(2, 1), target)
    terms.total.backward()
    supervised = logits.grad.abs().sum(dim=(2, 3)) > 0
    assert supervised.tolist() == [[False, False, True], [True, False, False]]


def test_absent_object_only_trains_its_object_score() -> None:
    target = torch.zeros(1, 8, 8, dtype=torch.bool)
    logits = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    ious = torch.full((1, 3), 0.7, requires_grad=True)
    scores = torch.zeros(1, 1, requires_grad=True)
    terms = sam_loss(logits, ious, scores, target)
    assert terms.mask.item() == terms.dice.item() == terms.iou.item() == 0.0
    assert terms.object_score.item() == pytest.approx(math.log(2))  # BCE(logit 0, label 0)
    terms.total.backward()
    assert logits.grad is None or torch.all(logits.grad == 0)
    assert ious.grad is None or torch.all(ious.grad == 0)
    assert scores.grad.item() > 0  # pushed towards "absent"


def test_object_hidden_by_void_counts_as_absent() -> None:
    target = _player_target()
    valid = ~target  # the whole player is void
    terms = sam_loss(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1), torch.zeros(1, 1), target, valid)
    assert terms.mask.item() == 0.0


def test_absent_object_in_a_batch_gets_no_mask_gradient() -> None:
    target = _player_target(batch=2)
    target[1] = False
    logits = _three_candidates(target, match=0)
    present_only = sam_loss(logits[:1], torch.zeros(1, 3), torch.zeros(1, 1), target[:1])
    terms = sam_loss(logits, torch.zeros(2, 3), torch.zeros(2, 1), target)
    # Mask, dice and IoU average over present objects only; the object score over all.
    torch.testing.assert_close(terms.mask, present_only.mask)
    torch.testing.assert_close(terms.dice, present_only.dice)
    torch.testing.assert_close(terms.iou, present_only.iou)
    assert terms.object_score.item() == pytest.approx(math.log(2))
    terms.total.backward()
    assert torch.all(logits.grad[1] == 0)
    assert logits.grad[0].abs().sum() > 0


def test_iou_term_is_the_mse_to_the_actual_iou() -> None:
    target = torch.tensor([[[True, False], [True, False]]])  # left column
    logits = torch.stack(
        [
            torch.tensor([[1.0, -1.0], [1.0, -1.0]]),  # IoU 1
            torch.tensor([[1.0, 1.0], [-1.0, -1.0]]),  # top row: IoU 1/3
            torch.tensor([[-1.0, 1.0], [-1.0, 1.0]]),  # right column: IoU 0
        ]
    ).unsqueeze(0)
    predicted = torch.tensor([[0.5, 0.5, 0.25]])
    terms = sam_loss(logits, predicted, torch.zeros(1, 1), target)
    expected = ((0.5 - 1.0) ** 2 + (0.5 - 1 / 3) ** 2 + (0.25 - 0.0) ** 2) / 3
    assert terms.iou.item() == pytest.approx(expected)


def test_total_is_the_weighted_sum() -> None:
    target = _player_target(batch=3)
    target[2] = False
    logits = _three_candidates(target, match=2, seed=7)
    ious = torch.rand(3, 3, generator=torch.Generator().manual_seed(8))
    scores = torch.tensor([[1.5], [-0.5], [0.3]])
    weights = LossWeights(mask=7.0, dice=0.5, iou=3.0, object_score=2.0)
    terms = sam_loss(logits, ious, scores, target, weights=weights)
    expected = 7.0 * terms.mask + 0.5 * terms.dice + 3.0 * terms.iou + 2.0 * terms.object_score
    torch.testing.assert_close(terms.total, expected)
    assert all(value > 0 for value in terms.as_floats().values())
    reference_score = F.binary_cross_entropy_with_logits(scores.squeeze(1), torch.tensor([1.0, 1.0, 0.0]))
    torch.testing.assert_close(terms.object_score, reference_score)


def test_bce_option_and_as_floats() -> None:
    target = _player_target()
    logits = _three_candidates(target, match=0)
    weights = LossWeights(mask=1.0)
    terms = sam_loss(logits, torch.zeros(1, 3), torch.zeros(1, 1), target, mask_loss="bce", weights=weights)
    torch.testing.assert_close(terms.mask, bce_loss(logits[:, 0].detach(), target, _all_valid(target)).mean())
    assert isinstance(terms, LossTerms)
    floats = terms.as_floats()
    assert set(floats) == {"total", "mask", "dice", "iou", "object_score"}
    assert all(type(value) is float for value in floats.values())
    assert "bce" in MASK_LOSSES and "focal" in MASK_LOSSES


def test_single_mask_output() -> None:
    target = _player_target()
    logits = torch.where(target, 4.0, -4.0).unsqueeze(1)
    terms = sam_loss(logits, torch.ones(1, 1), torch.full((1, 1), 10.0), target)
    assert terms.iou.item() == pytest.approx(0.0)
    assert terms.dice.item() < 0.05


@pytest.mark.parametrize(
    ("logits_shape", "ious_shape", "scores_shape", "targets_shape", "match"),
    [
        ((2, 3, 8, 8), (2, 2), (2, 1), (2, 8, 8), "iou_predictions"),
        ((2, 3, 8, 8), (2, 3), (2,), (2, 8, 8), "object_score_logits"),
        ((2, 3, 8, 8), (2, 3), (2, 1), (2, 16, 16), "targets"),
        ((2, 3, 8, 8), (2, 3), (2, 1), (1, 8, 8), "targets"),
        ((2, 8, 8), (2, 3), (2, 1), (2, 8, 8), r"\(B, M, H, W\)"),
        ((0, 3, 8, 8), (0, 3), (0, 1), (0, 8, 8), "at least one object"),
    ],
)
def test_sam_loss_rejects_mismatched_shapes(logits_shape, ious_shape, scores_shape, targets_shape, match) -> None:
    with pytest.raises(ValueError, match=match):
        sam_loss(
            torch.zeros(logits_shape),
            torch.zeros(ious_shape),
            torch.zeros(scores_shape),
            torch.zeros(targets_shape, dtype=torch.bool),
        )


def test_sam_loss_rejects_mismatched_valid_and_unknown_loss() -> None:
    target = _player_target()
    args = (torch.zeros(1, 3, 8, 8), torch.zeros(1, 3), torch.zeros(1, 1), target)
    with pytest.raises(ValueError, match="valid"):
        sam_loss(*args, valid=torch.ones(1, 8, 7, dtype=torch.bool))
    with pytest.raises(ValueError, match="Unknown mask loss 'dice'"):
        sam_loss(*args, mask_loss="dice")


# ---------------------------------------------------------------- it trains


@pytest.mark.parametrize("mask_loss", MASK_LOSSES)
def test_optimising_free_logits_raises_the_chosen_iou(mask_loss: str) -> None:
    size = 24
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    target = (((yy - 12) ** 2 + (xx - 10) ** 2) < 49).unsqueeze(0)  # a disc
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(1, 3, size, size, generator=generator).requires_grad_(True)
    ious = torch.zeros(1, 3, requires_grad=True)
    scores = torch.zeros(1, 1, requires_grad=True)
    weights = LossWeights() if mask_loss == "focal" else LossWeights(mask=1.0)
    optimiser = torch.optim.Adam([logits, ious, scores], lr=0.2)

    def chosen_iou() -> float:
        return mask_iou(logits[0], target.expand(3, -1, -1), _all_valid(logits[0])).max().item()

    start_iou = chosen_iou()
    first = last = None
    for _ in range(20):
        optimiser.zero_grad()
        terms = sam_loss(logits, ious, scores, target, mask_loss=mask_loss, weights=weights)
        terms.total.backward()
        optimiser.step()
        first = first if first is not None else terms.total.item()
        last = terms.total.item()
    assert start_iou < 0.5
    assert chosen_iou() > 0.9
    assert last < 0.5 * first
