"""The frames sam2 reads, and the sam2 state built around them.

This module owns the path from a frame source to sam2's input: the `FrameSource` protocol the tracker reads from,
`preprocess_frame` (resize to the model's square input and normalise, like sam2's own loader), `Sam2FrameFeed` (the
lazy `images` sequence sam2 indexes, which reads and preprocesses one frame at a time, keeps the last couple and can
be handed a frame the caller already read), and `new_inference_state`, sam2's `inference_state` dict built over that
feed instead of a tensor holding the whole clip.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Protocol

import numpy as np

IMAGE_MEAN = (0.485, 0.456, 0.406)  # sam2's input normalisation (ImageNet statistics)
IMAGE_STD = (0.229, 0.224, 0.225)


class FrameSource(Protocol):
    """What the tracker reads frames from: a FrameStore, or any indexable sequence of RGB frames with a size."""

    width: int
    height: int

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> np.ndarray: ...


class Sam2FrameFeed:
    """The `images` sequence sam2 reads: frame i resized to the model's square input and normalised, on demand."""

    def __init__(self, frames: FrameSource, image_size: int, cache_size: int = 2) -> None:
        self._frames = frames
        self._image_size = image_size
        self._cache: OrderedDict[int, Any] = OrderedDict()
        self._cache_size = cache_size
        self._primed: tuple[int, np.ndarray] | None = None
        self.last_fetch_ms = 0.0

    def prime(self, index: int, rgb: np.ndarray) -> None:
        """Hand over frame `index`, already read by the caller, so the next fetch of it does not read it again."""
        self._primed = (index, rgb)

    def unprime(self) -> None:
        self._primed = None

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: int) -> Any:
        import torch

        started = time.perf_counter()
        if index in self._cache:
            self._cache.move_to_end(index)
            tensor = self._cache[index]
        else:
            primed = self._primed
            rgb = primed[1] if primed is not None and primed[0] == index else self._frames[index]
            tensor = torch.from_numpy(preprocess_frame(rgb, self._image_size))
            self._cache[index] = tensor
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        self.last_fetch_ms = (time.perf_counter() - started) * 1000.0
        return tensor


def preprocess_frame(rgb: np.ndarray, image_size: int) -> np.ndarray:
    """RGB uint8 HxWx3 -> float32 3xSxS, resized like sam2's own loader (PIL bicubic, no aspect kept), normalised."""
    from PIL import Image

    resized = np.asarray(Image.fromarray(rgb).resize((image_size, image_size), Image.Resampling.BICUBIC))
    image = resized.astype(np.float32) / 255.0
    image = (image - np.array(IMAGE_MEAN, dtype=np.float32)) / np.array(IMAGE_STD, dtype=np.float32)
    return np.ascontiguousarray(image.transpose(2, 0, 1))


def new_inference_state(images: Any, height: int, width: int, device: str) -> dict[str, Any]:
    """sam2's inference_state, built like SAM2VideoPredictor.init_state but over any indexable `images`
    (our lazy frame feed) instead of a tensor holding the whole clip."""
    import torch

    torch_device = torch.device(device)
    return {
        "images": images,
        "num_frames": len(images),
        "offload_video_to_cpu": True,
        "offload_state_to_cpu": False,
        "video_height": height,
        "video_width": width,
        "device": torch_device,
        "storage_device": torch_device,
        "point_inputs_per_obj": {},
        "mask_inputs_per_obj": {},
        "cached_features": {},
        "constants": {},
        "obj_id_to_idx": OrderedDict(),
        "obj_idx_to_id": OrderedDict(),
        "obj_ids": [],
        "output_dict_per_obj": {},
        "temp_output_dict_per_obj": {},
        "frames_tracked_per_obj": {},
    }
