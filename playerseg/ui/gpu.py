"""Hugging Face ZeroGPU support: `@spaces.GPU` on the GPU-bound work, a no-op anywhere else.

On ZeroGPU a GPU is attached only for the duration of a decorated call and nothing on it survives the call, so the
model pool does not cache models there (each call loads its two models inside the call); tracker state is per call
anyway. ZeroGPU runs torch 2.8-2.11 and no torch.compile (see README, "Run it as a Space")."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
GPU_SECONDS = 120  # ZeroGPU quota per run: two models on up to max_frames frames


def on_zero_gpu() -> bool:
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in {"1", "true"}


def gpu_function(fn: F, duration: int = GPU_SECONDS) -> F:
    """`spaces.GPU(duration=...)(fn)` when the `spaces` package is installed (it is on Spaces), else fn."""
    try:
        import spaces
    except ImportError:
        return fn
    return spaces.GPU(duration=duration)(fn)
