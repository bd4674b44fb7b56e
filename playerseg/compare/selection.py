"""Which frames of the clip a comparison processes (both models the same ones): the Selection settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Selection:
    """Which frames of the clip both models process: from `start`, every `stride`-th, at most `max_frames`,
    downscaled so the longer side is at most `max_side`."""

    start: int = 0
    max_frames: int | None = None
    stride: int = 1
    max_side: int | None = None

    def __post_init__(self) -> None:
        if self.start < 0:
            raise ValueError(f"start must be 0 or more, got {self.start}.")
        if self.stride < 1:
            raise ValueError(f"stride must be at least 1, got {self.stride}.")
        for name in ("max_frames", "max_side"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 (or None for no limit), got {value}.")
