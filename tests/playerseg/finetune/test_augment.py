"""Finetuning augmentations: hand-worked geometry on small label maps, photometry on images only, seeded draws."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from playerseg.finetune.augment import VOID, Augmentation, AugmentSettings, augment_clip, draw_augmentation

SIDE = 64


def _identity(**changes: object) -> Augmentation:
    base = Augmentation(
        flip=False,
        rotation_deg=0.0,
        scale=1.0,
        rgb_shift=(0, 0, 0),
        brightness=1.0,
        contrast=1.0,
        saturation=1.0,
        hue=0.0,
        blur_sigma=0.0,
    )
    return dataclasses.replace(base, **changes)


def _clip(frames: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Random-texture images and a label map with a centred 20x20 square (id 3) and a corner block (id 7)."""
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (frames, 3, SIDE, SIDE), dtype=torch.uint8, generator=generator)
    labels = torch.zeros((frames, SIDE, SIDE), dtype=torch.uint8)
    labels[:, 22:42, 22:42] = 3
    labels[:, 2:10, 50:60] = 7
    return images, labels


def test_off_settings_give_identity_draws_and_unchanged_tensors() -> None:
    images, labels = _clip()
    rng = np.random.default_rng(5)
    for _ in range(20):
        aug = draw_augmentation(AugmentSettings.off(), rng)
        assert aug.identity
        out_images, out_labels = augment_clip(aug, images, labels)
        assert torch.equal(out_images, images)
        assert torch.equal(out_labels, labels)
        assert out_images.data_ptr() != images.data_ptr()  # new tensors: the caller may modify them freely


def test_default_draws_are_not_identity() -> None:
    rng = np.random.default_rng(1)
    assert not any(draw_augmentation(AugmentSettings(), rng).identity for _ in range(20))


def test_flip_only_equals_torch_flip_on_images_and_labels() -> None:
    images, labels = _clip()
    out_images, out_labels = augment_clip(_identity(flip=True), images, labels)
    assert torch.equal(out_images, torch.flip(images, dims=[-1]))
    assert torch.equal(out_labels, torch.flip(labels, dims=[-1]))
    # Hand-worked: the corner block at columns 50..59 lands at columns 64-60 .. 64-51 = 4..13.
    assert bool((out_labels[:, 2:10, 4:14] == 7).all())


def test_inputs_are_not_modified() -> None:
    images, labels = _clip()
    images_before, labels_before = images.clone(), labels.clone()
    augment_clip(draw_augmentation(AugmentSettings(blur_probability=1.0), np.random.default_rng(3)), images, labels)
    assert torch.equal(images, images_before)
    assert torch.equal(labels, labels_before)


@pytest.mark.parametrize("seed", range(6))
def test_labels_only_keep_input_ids_plus_void(seed: int) -> None:
    images, labels = _clip()
    aug = draw_augmentation(AugmentSettings(max_rotation_deg=30.0, scale_range=(0.7, 1.3)), np.random.default_rng(seed))
    out_images, out_labels = augment_clip(aug, images, labels)
    assert out_images.shape == images.shape and out_images.dtype == torch.uint8
    assert out_labels.shape == labels.shape and out_labels.dtype == torch.uint8
    assert set(out_labels.unique().tolist()) <= {0, 3, 7, VOID}  # nearest: no blended ids such as 1, 2 or 5


@pytest.mark.parametrize("angle", [-10.0, -4.0, 7.5, 10.0])
def test_small_rotation_keeps_object_area_within_a_few_percent(angle: float) -> None:
    images, labels = _clip(frames=1)
    _, out_labels = augment_clip(_identity(rotation_deg=angle), images, labels)
    area = int((out_labels == 3).sum())
    assert abs(area - 400) <= 0.05 * 400
    # The square is centred, so it rotates in place: its centre of mass stays at (31.5, 31.5).
    rows, cols = torch.nonzero(out_labels[0] == 3, as_tuple=True)
    assert abs(rows.float().mean().item() - 31.5) < 1.0
    assert abs(cols.float().mean().item() - 31.5) < 1.0


def test_rotation_turns_the_object() -> None:
    # A horizontal bar rotated by 10 degrees is no longer confined to its original rows.
    images, _ = _clip(frames=1)
    labels = torch.zeros((1, SIDE, SIDE), dtype=torch.uint8)
    labels[:, 30:34, 8:56] = 1
    _, out_labels = augment_clip(_identity(rotation_deg=10.0), images, labels)
    rows = torch.nonzero(out_labels[0] == 1, as_tuple=True)[0]
    assert rows.min().item() <= 26 and rows.max().item() >= 37


def test_scale_above_one_enlarges_a_centred_square() -> None:
    images, labels = _clip(frames=1)
    _, out_labels = augment_clip(_identity(scale=1.5), images, labels)
    # 20 px side times 1.5 = 30 px, about the same centre: rows and columns 17..46.
    rows, cols = torch.nonzero(out_labels[0] == 3, as_tuple=True)
    assert abs(int((out_labels == 3).sum()) - 900) <= 0.05 * 900
    assert 16 <= rows.min().item() <= 18 and 45 <= rows.max().item() <= 47
    assert 16 <= cols.min().item() <= 18 and 45 <= cols.max().item() <= 47
    assert not bool((out_labels == VOID).any())  # zooming in brings nothing from outside the frame


def test_scale_below_one_brings_out_of_frame_area_as_void_and_black() -> None:
    images, labels = _clip(frames=2)
    images = torch.full_like(images, 200)  # a uniform image makes "0 outside" unambiguous
    out_images, out_labels = augment_clip(_identity(scale=0.5), images, labels)
    # The frame shrinks to its central 32x32 (rows/cols 16..47); the rest came from outside the frame.
    assert bool((out_labels[:, :15, :] == VOID).all()) and bool((out_labels[:, 49:, :] == VOID).all())
    assert bool((out_labels[:, :, :15] == VOID).all()) and bool((out_labels[:, :, 49:] == VOID).all())
    assert bool((out_images[:, :, :15, :] == 0).all()) and bool((out_images[:, :, 49:, :] == 0).all())
    assert not bool((out_labels[:, 18:46, 18:46] == VOID).any())
    assert bool((out_images[:, :, 18:46, 18:46] == 200).all())
    assert abs(int((out_labels[0] == 3).sum()) - 100) <= 10  # 20 px side -> 10 px


def test_rotation_corners_come_from_outside_the_frame() -> None:
    images, labels = _clip(frames=1)
    _, out_labels = augment_clip(_identity(rotation_deg=10.0), images, labels)
    assert out_labels[0, 0, 0].item() == VOID and out_labels[0, -1, -1].item() == VOID
    assert out_labels[0, 32, 32].item() == 3


@pytest.mark.parametrize(
    "changes",
    [
        {"rgb_shift": (10, -5, 0)},
        {"brightness": 1.2},
        {"contrast": 0.8},
        {"saturation": 1.2},
        {"hue": 0.03},
        {"blur_sigma": 1.0},
    ],
)
def test_photometric_ops_change_images_and_leave_labels_untouched(changes: dict[str, object]) -> None:
    images, labels = _clip()
    aug = _identity(**changes)
    assert not aug.identity
    out_images, out_labels = augment_clip(aug, images, labels)
    assert torch.equal(out_labels, labels)
    assert not torch.equal(out_images, images)
    assert out_images.dtype == torch.uint8


def test_rgb_shift_adds_per_channel_and_saturates() -> None:
    images = torch.tensor([0, 100, 250], dtype=torch.uint8).view(1, 3, 1, 1).expand(1, 3, 4, 4).contiguous()
    labels = torch.zeros((1, 4, 4), dtype=torch.uint8)
    out_images, _ = augment_clip(_identity(rgb_shift=(-10, 15, 15)), images, labels)
    assert out_images[0, :, 0, 0].tolist() == [0, 115, 255]


def test_same_seed_same_draw_and_different_seeds_different_draws() -> None:
    settings = AugmentSettings()
    first = draw_augmentation(settings, np.random.default_rng(42))
    assert draw_augmentation(settings, np.random.default_rng(42)) == first
    others = {draw_augmentation(settings, np.random.default_rng(seed)) for seed in range(10)}
    assert len(others) == 10


def test_every_frame_of_a_clip_gets_the_same_augmentation() -> None:
    # A static scene: identical frames must stay identical after augmentation (same geometry, same colours).
    images, labels = _clip(frames=1)
    images, labels = images.expand(5, -1, -1, -1).contiguous(), labels.expand(5, -1, -1).contiguous()
    settings = AugmentSettings(blur_probability=1.0, max_rotation_deg=20.0)
    for seed in range(4):
        out_images, out_labels = augment_clip(draw_augmentation(settings, np.random.default_rng(seed)), images, labels)
        for frame in range(1, 5):
            assert torch.equal(out_labels[frame], out_labels[0])
            assert torch.equal(out_images[frame], out_images[0])


def test_draws_stay_within_the_settings() -> None:
    settings = AugmentSettings(max_rotation_deg=5.0, scale_range=(0.95, 1.05), max_rgb_shift=3, hue=0.01)
    rng = np.random.default_rng(0)
    draws = [draw_augmentation(settings, rng) for _ in range(200)]
    assert all(abs(d.rotation_deg) <= 5.0 and 0.95 <= d.scale <= 1.05 for d in draws)
    assert all(all(abs(s) <= 3 for s in d.rgb_shift) and abs(d.hue) <= 0.01 for d in draws)
    assert all(0.8 <= d.brightness <= 1.2 and 0.8 <= d.contrast <= 1.2 and 0.8 <= d.saturation <= 1.2 for d in draws)
    flips = sum(d.flip for d in draws)
    blurs = sum(d.blur_sigma > 0 for d in draws)
    assert 70 <= flips <= 130  # p = 0.5 over 200 draws
    assert 20 <= blurs <= 60  # p = 0.2 over 200 draws
    assert all(d.blur_sigma == 0.0 or 0.15 <= d.blur_sigma <= 1.5 for d in draws)


@pytest.mark.parametrize(
    "changes",
    [
        {"flip_probability": 1.5},
        {"flip_probability": -0.1},
        {"max_rotation_deg": -1.0},
        {"scale_range": (1.1, 0.9)},
        {"scale_range": (0.0, 1.0)},
        {"max_rgb_shift": 300},
        {"max_rgb_shift": 2.5},
        {"brightness": 1.5},
        {"hue": 0.6},
        {"blur_probability": 2.0},
        {"max_blur_sigma": -1.0},
    ],
)
def test_settings_validation_raises_one_sentence(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError) as error:
        AugmentSettings(**changes)  # type: ignore[arg-type]
    message = str(error.value)
    assert message.endswith(".") and "\n" not in message
    assert next(iter(changes)) in message


def test_mismatched_clip_shapes_raise() -> None:
    images, labels = _clip()
    with pytest.raises(ValueError, match="must match"):
        augment_clip(_identity(), images, labels[:2])
    with pytest.raises(ValueError, match="uint8"):
        augment_clip(_identity(), images.float(), labels)


def test_out_of_frame_pixels_stay_black_when_colours_also_change() -> None:
    images, labels = _clip(frames=1)
    aug = _identity(scale=0.5, rgb_shift=(40, 40, 40), brightness=1.3, blur_sigma=1.0)
    out_images, out_labels = augment_clip(aug, images, labels)
    outside = out_labels[0] == VOID
    assert int(outside.sum()) > 2000
    assert bool((out_images[0][:, outside] == 0).all())  # photometry never lifts the fill above 0


def test_blur_keeps_a_uniform_image_and_spreads_a_bright_pixel_symmetrically() -> None:
    labels = torch.zeros((1, 15, 15), dtype=torch.uint8)
    uniform = torch.full((1, 3, 15, 15), 90, dtype=torch.uint8)
    out_uniform, _ = augment_clip(_identity(blur_sigma=1.5), uniform, labels)
    assert torch.equal(out_uniform, uniform)  # normalised kernel, reflected borders: nothing darkens
    dot = torch.zeros((1, 3, 15, 15), dtype=torch.uint8)
    dot[:, :, 7, 7] = 255
    out_dot, _ = augment_clip(_identity(blur_sigma=1.0), dot, labels)
    plane = out_dot[0, 0].int()
    assert 0 < plane[7, 7].item() < 255
    assert plane[7, 6] == plane[7, 8] == plane[6, 7] == plane[8, 7] > 0
    assert plane[7, 6] > plane[7, 5] and plane[6, 6] < plane[6, 7]
    assert abs(plane.sum().item() - 255) <= 15  # the energy is kept, up to rounding of many small values


@pytest.mark.parametrize("sigma", [0.4, 1.0, 1.5])
def test_blur_matches_torchvision_gaussian_blur(sigma: float) -> None:
    import math

    import torchvision.transforms.v2.functional as F

    images, labels = _clip(frames=2)
    out_images, _ = augment_clip(_identity(blur_sigma=sigma), images, labels)
    kernel = 2 * math.ceil(3 * sigma) + 1  # the same +-3 sigma support
    reference = F.gaussian_blur(images.float(), [kernel, kernel], [sigma, sigma]).round().to(torch.uint8)
    assert (out_images.int() - reference.int()).abs().max().item() <= 1


def test_positive_rotation_is_clockwise_on_screen() -> None:
    images = torch.zeros((1, 3, 21, 21), dtype=torch.uint8)
    labels = torch.zeros((1, 21, 21), dtype=torch.uint8)
    labels[0, 10, 15:20] = 1  # a bar right of the centre pixel (10, 10)
    _, out_labels = augment_clip(_identity(rotation_deg=90.0), images, labels)
    assert torch.nonzero(out_labels[0] == 1).tolist() == [[15, 10], [16, 10], [17, 10], [18, 10], [19, 10]]
