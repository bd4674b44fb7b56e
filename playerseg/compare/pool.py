"""The model pool: video models, detectors and SAM 3's concept model loaded once per process and shared read-only
between sessions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from playerseg.autolabel.detector import GroundingDinoDetector, load_detector
from playerseg.autolabel.sam3_labeler import load_sam3_autolabeler
from playerseg.tracking.registry import LoadedModel, default_device, load_video_model

Loaded = TypeVar("Loaded")


class ModelPool:
    """Models loaded once per process and shared read-only between sessions (thread-safe, one lock)."""

    def __init__(self, device: str | None = None, cache: bool = True) -> None:
        self._device = device
        self._cache = cache  # False: load per call (ZeroGPU keeps no GPU state between calls)
        self._models: dict[str, LoadedModel] = {}
        self._detectors: dict[str, GroundingDinoDetector] = {}
        self._sam3_autolabelers: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = default_device()  # resolved late: importing torch is slow
        return self._device

    def get(self, name: str) -> LoadedModel:
        """The loaded model (registry.load_video_model); raises ModelUnavailableError. Failures are not cached, so
        a model made available later (downloaded, copied in) loads on the next call."""
        return self._cached(self._models, name, load_video_model)

    def get_detector(self, name: str) -> GroundingDinoDetector:
        """The loaded detector (detector.load_detector), cached like the SAM2 models."""
        return self._cached(self._detectors, name, load_detector)

    def get_sam3_autolabeler(self, name: str) -> LoadedModel:
        """SAM 3's concept model for `autolabel:sam3` (sam3_labeler.load_sam3_autolabeler), cached like the others."""
        return self._cached(self._sam3_autolabelers, name, load_sam3_autolabeler)

    def _cached(self, table: dict[str, Loaded], name: str, load: Callable[[str, str], Loaded]) -> Loaded:
        """`table[name]`, loaded on this pool's device the first time; without the cache, loaded afresh each call.
        The lock is held while loading: two sessions asking for one model load it once."""
        if not self._cache:
            return load(name, self.device)
        with self._lock:
            loaded = table.get(name)
            if loaded is None:
                loaded = load(name, self.device)
                table[name] = loaded
            return loaded
