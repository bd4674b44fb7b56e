"""A model that fails in a comparison: its one-sentence error, and memory handed back after running out of it."""

from __future__ import annotations

import gc

from playerseg.compare.pool import ModelPool
from playerseg.tracking.registry import ModelUnavailableError
from playerseg.tracking.tracker import TrackingError


def failure_sentence(label: str, name: str, error: BaseException) -> str:
    who = f"Model {label} ({name})"
    if is_out_of_memory(error):
        return f"{who} ran out of GPU memory on this clip: try fewer frames, a smaller max side or a smaller model."
    if isinstance(error, MemoryError):
        return f"{who} ran out of memory on this clip: try fewer frames or a smaller max side."
    if isinstance(error, ModelUnavailableError):
        return f"{who} is not available: {one_line(error)}."
    if isinstance(error, TrackingError):
        return f"{who} could not track: {one_line(error)}."
    return f"{who} failed while tracking ({type(error).__name__}: {one_line(error)})."


def one_line(error: BaseException, limit: int = 400) -> str:
    lines = str(error).strip().splitlines()
    text = lines[0].strip().rstrip(".") if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def is_out_of_memory(error: BaseException) -> bool:
    import torch

    return isinstance(error, torch.OutOfMemoryError)  # torch.cuda.OutOfMemoryError is the same class


def free_memory(pool: ModelPool) -> None:
    """After running out of memory, hand the failed run's cached blocks back so the other model has room."""
    gc.collect()
    if pool.device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
