"""The U-Net baseline's network: a lightweight U-Net that scores every pixel of a frame as "player" or not.

The seeds' direct PyTorch baseline: no prompts, no memory, one frame at a time. Encoder blocks of two 3x3
convolutions (batch norm, ReLU) halve the size `depth` times while the channels double from `base_channels`;
the decoder upsamples (transposed convolution), joins the encoder's map of the same size and convolves again; a
1x1 convolution gives one logit per pixel. Input: normalised RGB (N, 3, S, S) with S a multiple of 2**depth.
Which player a pixel belongs to is not this network's business: the U-Net tracker (`unet_tracker`) gives its
regions to the prompted objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

IMAGE_MEAN = (0.485, 0.456, 0.406)  # the same input normalisation as SAM2's (ImageNet statistics)
IMAGE_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class UNetConfig:
    """The architecture: channels of the first block, how many times it halves, and the square input size."""

    base_channels: int = 8
    depth: int = 4
    image_size: int = 256

    def __post_init__(self) -> None:
        if not 4 <= self.base_channels <= 128:
            raise ValueError(f"base_channels must be from 4 to 128, got {self.base_channels}.")
        if not 1 <= self.depth <= 6:
            raise ValueError(f"depth must be from 1 to 6, got {self.depth}.")
        if self.image_size < 2**self.depth or self.image_size % 2**self.depth:
            raise ValueError(
                f"The U-Net input size must be a multiple of {2**self.depth} (2 ** depth), got {self.image_size}."
            )

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, facts: dict[str, Any]) -> UNetConfig:
        return cls(
            base_channels=int(facts.get("base_channels", cls.base_channels)),
            depth=int(facts.get("depth", cls.depth)),
            image_size=int(facts.get("image_size", cls.image_size)),
        )


def _block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """Normalised RGB (N, 3, S, S) -> "player" logits (N, 1, S, S)."""

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        widths = [config.base_channels * 2**level for level in range(config.depth + 1)]
        self.down = nn.ModuleList([_block(3, widths[0])])
        self.down.extend(_block(widths[level], widths[level + 1]) for level in range(config.depth))
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[level + 1], widths[level], 2, stride=2) for level in reversed(range(config.depth))
        )
        self.merge = nn.ModuleList(_block(2 * widths[level], widths[level]) for level in reversed(range(config.depth)))
        self.head = nn.Conv2d(widths[0], 1, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        skips = []
        features = images
        for level, block in enumerate(self.down):
            features = block(features if level == 0 else self.pool(features))
            skips.append(features)
        skips.pop()  # the bottom of the U is `features` itself
        for upsample, merge in zip(self.up, self.merge):
            features = merge(torch.cat([skips.pop(), upsample(features)], dim=1))
        return self.head(features)


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, S, S) -> float, scaled to [0, 1] and normalised like SAM2's input."""
    mean = torch.tensor(IMAGE_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGE_STD, device=images.device).view(1, 3, 1, 1)
    return (images.float() / 255.0 - mean) / std


def build_unet(config: UNetConfig, seed: int) -> UNet:
    """A U-Net with weights initialised under `seed` (the caller's RNG is left alone): same seed, same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return UNet(config)


def parameter_count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())
