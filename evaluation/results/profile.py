"""Latency and memory of one run per frame (ProfileResult) and its summary (LatencySummary)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from evaluation.results.numbers import json_float

if TYPE_CHECKING:  # pandas is imported only when a table is asked for
    import pandas as pd


@dataclass(frozen=True)
class LatencySummary:
    frames: int  # frames summarised (warm-up excluded)
    warmup_frames: int
    p50_ms: float  # percentiles over tracking frames (prompt frames excluded)
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    fps: float  # summarised frames / their summed latency (prompt frames included)
    prompt_frames: int
    prompt_ms: float  # mean latency of the frames that carried prompts (NaN when none)
    peak_memory_mb: float
    memory_kind: str
    device: str


@dataclass(frozen=True)
class ProfileResult:
    """Per-frame latency and memory of one run."""

    name: str
    device: str  # e.g. "cpu" or "cuda:0 (NVIDIA H200)"
    memory_kind: str  # "cuda_allocated" (torch.cuda.memory_allocated) or "process_rss" (psutil resident set)
    frames: np.ndarray  # (N,) frame numbers in processing order
    latency_ms: np.ndarray  # (N,)
    memory_mb: np.ndarray  # (N,)
    is_prompt: np.ndarray  # (N,) bool: the frame carried prompts (its time includes encoding them)
    is_warmup: np.ndarray  # (N,) bool: excluded from the summary
    peak_memory_mb: float
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # other per-frame columns (e.g. decode_ms)

    def summary(self) -> LatencySummary:
        counted = ~self.is_warmup
        tracking = self.latency_ms[counted & ~self.is_prompt]
        prompts = self.latency_ms[counted & self.is_prompt]
        all_counted = self.latency_ms[counted]

        def pct(q: float) -> float:
            return float(np.percentile(tracking, q)) if tracking.size else math.nan

        total_s = float(all_counted.sum()) / 1000.0
        return LatencySummary(
            frames=int(counted.sum()),
            warmup_frames=int(self.is_warmup.sum()),
            p50_ms=pct(50),
            p95_ms=pct(95),
            p99_ms=pct(99),
            max_ms=float(tracking.max()) if tracking.size else math.nan,
            mean_ms=float(tracking.mean()) if tracking.size else math.nan,
            fps=all_counted.size / total_s if total_s > 0 else math.nan,
            prompt_frames=int(prompts.size),
            prompt_ms=float(prompts.mean()) if prompts.size else math.nan,
            peak_memory_mb=float(self.peak_memory_mb),
            memory_kind=self.memory_kind,
            device=self.device,
        )

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        table: dict[str, Any] = {
            "name": self.name,
            "frame": self.frames,
            "latency_ms": self.latency_ms,
            "memory_mb": self.memory_mb,
            "is_prompt": self.is_prompt,
            "is_warmup": self.is_warmup,
        }
        table.update(self.extra)
        return pd.DataFrame(table)


def latency_summary_dict(summary: LatencySummary) -> dict[str, Any]:
    return {k: (json_float(v) if isinstance(v, float) else v) for k, v in summary.__dict__.items()}
