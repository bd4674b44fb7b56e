"""Seeded clip augmentations for finetuning: one random draw applied identically to every frame of a clip.

A camera does not change its colour balance from one frame to the next, and geometry must be shared so that the
masks' motion stays real; so `draw_augmentation` draws once and `augment_clip` applies that draw to all T frames.

Images are uint8 (T, 3, S, S); labels are uint8 (T, S, S) DAVIS label maps (0 background, 1..254 ids, 255 void).
Photometric ops touch the images only. Geometry (horizontal flip, rotation about the centre, scale) is applied to
images with bilinear and to labels with nearest interpolation, so object ids never blend; pixels that come from
outside the frame are 0 in the image and VOID in the labels, so the loss ignores them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from evaluation.sequence import VOID

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class AugmentSettings:
    """Ranges the random draw comes from; the defaults are mild, as a broadcast camera would vary."""

    flip_probability: float = 0.5
    max_rotation_deg: float = 10.0  # rotation drawn from [-max, max] degrees (positive = clockwise on screen)
    scale_range: tuple[float, float] = (0.9, 1.1)  # zoom factor about the centre; > 1 enlarges
    max_rgb_shift: int = 15  # per channel, in 0..255 units
    brightness: float = 0.2  # factor drawn from [1-b, 1+b]
    contrast: float = 0.2  # factor drawn from [1-c, 1+c]
    saturation: float = 0.2  # factor drawn from [1-s, 1+s]
    hue: float = 0.03  # shift drawn from [-h, h] (torchvision units, -0.5..0.5)
    blur_probability: float = 0.2
    max_blur_sigma: float = 1.5  # sigma drawn from [0.1 * max, max] pixels when the clip is blurred

    def __post_init__(self) -> None:
        _check_range("flip_probability", self.flip_probability, 0.0, 1.0)
        _check_range("max_rotation_deg", self.max_rotation_deg, 0.0, 180.0)
        if len(self.scale_range) != 2 or not 0.0 < self.scale_range[0] <= self.scale_range[1]:
            raise ValueError(f"scale_range must be two numbers with 0 < low <= high, got {self.scale_range!r}.")
        if isinstance(self.max_rgb_shift, bool) or not isinstance(self.max_rgb_shift, (int, np.integer)):
            raise ValueError(f"max_rgb_shift must be an integer, got {self.max_rgb_shift!r}.")
        _check_range("max_rgb_shift", self.max_rgb_shift, 0, 255)
        _check_range("brightness", self.brightness, 0.0, 1.0)
        _check_range("contrast", self.contrast, 0.0, 1.0)
        _check_range("saturation", self.saturation, 0.0, 1.0)
        _check_range("hue", self.hue, 0.0, 0.5)
        _check_range("blur_probability", self.blur_probability, 0.0, 1.0)
        _check_range("max_blur_sigma", self.max_blur_sigma, 0.0, 50.0)

    @classmethod
    def off(cls) -> AugmentSettings:
        """Every augmentation disabled: every draw is the identity (used for validation data)."""
        return cls(
            flip_probability=0.0,
            max_rotation_deg=0.0,
            scale_range=(1.0, 1.0),
            max_rgb_shift=0,
            brightness=0.0,
            contrast=0.0,
            saturation=0.0,
            hue=0.0,
            blur_probability=0.0,
            max_blur_sigma=0.0,
        )


def _check_range(name: str, value: float, low: float, high: float) -> None:
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not (is_number and low <= value <= high):
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}.")


@dataclass(frozen=True)
class Augmentation:
    """One draw; every frame of a clip gets exactly these parameters."""

    flip: bool
    rotation_deg: float
    scale: float
    rgb_shift: tuple[int, int, int]
    brightness: float
    contrast: float
    saturation: float
    hue: float
    blur_sigma: float  # 0 = no blur

    @property
    def identity(self) -> bool:
        """True when applying this draw changes nothing."""
        return not self._has_geometry and not self._has_photometry

    @property
    def _has_geometry(self) -> bool:
        return self.flip or self.rotation_deg != 0.0 or self.scale != 1.0

    @property
    def _has_photometry(self) -> bool:
        return (
            any(shift != 0 for shift in self.rgb_shift)
            or self.brightness != 1.0
            or self.contrast != 1.0
            or self.saturation != 1.0
            or self.hue != 0.0
            or self.blur_sigma > 0.0
        )


def draw_augmentation(settings: AugmentSettings, rng: np.random.Generator) -> Augmentation:
    """One random draw from `settings`. The generator is always advanced by the same number of values, whatever
    the settings, so that switching one augmentation off does not reshuffle the others for a given seed."""
    flip = bool(rng.random() < settings.flip_probability)
    rotation = float(rng.uniform(-settings.max_rotation_deg, settings.max_rotation_deg))
    scale = float(rng.uniform(settings.scale_range[0], settings.scale_range[1]))
    shift = rng.integers(-settings.max_rgb_shift, settings.max_rgb_shift + 1, size=3)
    brightness = float(rng.uniform(1.0 - settings.brightness, 1.0 + settings.brightness))
    contrast = float(rng.uniform(1.0 - settings.contrast, 1.0 + settings.contrast))
    saturation = float(rng.uniform(1.0 - settings.saturation, 1.0 + settings.saturation))
    hue = float(rng.uniform(-settings.hue, settings.hue))
    blurred = bool(rng.random() < settings.blur_probability)
    sigma = float(rng.uniform(0.1 * settings.max_blur_sigma, settings.max_blur_sigma))
    return Augmentation(
        flip=flip,
        rotation_deg=rotation,
        scale=scale,
        rgb_shift=(int(shift[0]), int(shift[1]), int(shift[2])),
        brightness=brightness,
        contrast=contrast,
        saturation=saturation,
        hue=hue,
        blur_sigma=sigma if blurred else 0.0,
    )


def augment_clip(aug: Augmentation, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply one draw to a clip: images uint8 (T, 3, S, S), labels uint8 (T, S, S). Returns new tensors with the
    same shapes and dtypes; the inputs are not modified."""
    _check_clip(images, labels)
    if aug.identity:
        return images.clone(), labels.clone()
    # Float [0, 1] once for the whole chain; photometry before geometry, so that pixels brought in from outside
    # the frame stay exactly 0.
    pixels = images.float() / 255.0
    if aug._has_photometry:
        pixels = _photometric(aug, pixels)
    if aug._has_geometry:
        pixels, labels = _geometric(aug, pixels, labels)
    else:
        labels = labels.clone()
    images = (pixels * 255.0).round_().clamp_(0.0, 255.0).to(images.dtype)
    return images.contiguous(), labels.contiguous()


def _check_clip(images: torch.Tensor, labels: torch.Tensor) -> None:
    import torch

    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be a uint8 tensor (T, 3, H, W), got {_describe(images)}.")
    if not isinstance(labels, torch.Tensor) or labels.dtype != torch.uint8 or labels.ndim != 3:
        raise ValueError(f"labels must be a uint8 tensor (T, H, W), got {_describe(labels)}.")
    if labels.shape != (images.shape[0], *images.shape[2:]):
        raise ValueError(
            f"labels {tuple(labels.shape)} must match images {tuple(images.shape)} in frames, height and width."
        )


def _describe(value: object) -> str:
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    return f"{type(value).__name__} shape {tuple(shape) if shape is not None else None} dtype {dtype}"


def _photometric(aug: Augmentation, images: torch.Tensor) -> torch.Tensor:
    """Colour ops on float images in [0, 1] (T, 3, H, W); one conversion for the whole chain avoids rounding
    to uint8 after every op."""
    import torch
    import torchvision.transforms.v2.functional as F

    if any(aug.rgb_shift):
        shift = torch.tensor(aug.rgb_shift, dtype=images.dtype, device=images.device).view(1, 3, 1, 1) / 255.0
        images = (images + shift).clamp_(0.0, 1.0)
    if aug.brightness != 1.0:
        images = F.adjust_brightness(images, aug.brightness)
    if aug.contrast != 1.0:
        images = F.adjust_contrast(images, aug.contrast)
    if aug.saturation != 1.0:
        images = F.adjust_saturation(images, aug.saturation)
    if aug.hue != 0.0:
        images = F.adjust_hue(images, aug.hue)
    if aug.blur_sigma > 0.0:
        images = _gaussian_blur(images, aug.blur_sigma)
    return images


def _gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur, kernel covering +-3 sigma, reflect padding so that borders do not darken. Written
    as weighted sums of shifted views: on CPU this is about 10x faster than torch's depthwise conv2d."""
    import torch

    half = min(max(1, math.ceil(3.0 * sigma)), min(images.shape[-2:]) - 1)  # reflect padding needs half < side
    if half < 1:
        return images
    offsets = torch.arange(-half, half + 1, dtype=torch.float64)
    weights = torch.exp(-0.5 * (offsets / sigma) ** 2)
    weights = (weights / weights.sum()).tolist()
    images = _weighted_shifts(images, weights, dim=-1)
    return _weighted_shifts(images, weights, dim=-2)


def _weighted_shifts(images: torch.Tensor, weights: list[float], dim: int) -> torch.Tensor:
    """sum_i weights[i] * images shifted by i - half along `dim` (-1 columns, -2 rows), borders reflected."""
    import torch.nn.functional as nnf

    half = len(weights) // 2
    padding = (half, half, 0, 0) if dim == -1 else (0, 0, half, half)
    padded = nnf.pad(images, padding, mode="reflect")
    length = images.shape[dim]
    blurred = padded.narrow(dim, 0, length) * weights[0]
    for index in range(1, len(weights)):
        blurred.add_(padded.narrow(dim, index, length), alpha=weights[index])
    return blurred


def _geometric(aug: Augmentation, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Flip, then rotate and scale about the centre: float images bilinear (fill 0), labels nearest (fill VOID)."""
    import torchvision.transforms.v2.functional as F
    from torchvision.transforms import InterpolationMode

    if aug.flip:
        images = images.flip(-1)
        labels = labels.flip(-1)
    if aug.rotation_deg == 0.0 and aug.scale == 1.0:
        return images, labels
    # Rotation and scale about the image centre (torchvision's default centre); no translation, no shear.
    images = F.affine(
        images,
        angle=aug.rotation_deg,
        translate=[0.0, 0.0],
        scale=aug.scale,
        shear=[0.0, 0.0],
        interpolation=InterpolationMode.BILINEAR,
        fill=[0.0],
    )
    # Labels as (T, 1, H, W) single-channel images; NEAREST keeps ids intact, fill marks out-of-frame as void.
    labels = F.affine(
        labels.unsqueeze(1),
        angle=aug.rotation_deg,
        translate=[0.0, 0.0],
        scale=aug.scale,
        shear=[0.0, 0.0],
        interpolation=InterpolationMode.NEAREST,
        fill=[float(VOID)],
    ).squeeze(1)
    return images, labels
