"""Per-frame latency and memory: a recorder for live runs (`FrameProfiler`) and a reader for a run folder's
frames.csv (`profile_from_frames_csv`). Both return a `ProfileResult`.

On CUDA the clock starts and stops after `torch.cuda.synchronize()` (GPU work is asynchronous: without it the time
measured is the time to queue the work), and memory is `torch.cuda.memory_allocated` with the peak from
`max_memory_allocated`, reset by `start()`. On CPU memory is the process resident set size (psutil) and its running
high-water mark. torch is imported only inside the methods that run on CUDA devices.
"""

from __future__ import annotations

import csv
import json
import math
import numbers
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.errors import EvaluationError
from evaluation.results.profile import ProfileResult

MIB = 1024.0 * 1024.0
CUDA_MEMORY = "cuda_allocated"
PROCESS_MEMORY = "process_rss"
# Columns of ProfileResult.to_pandas(); an extra column of the same name would hide them.
RESERVED_COLUMNS = frozenset({"name", "frame", "latency_ms", "memory_mb", "is_prompt", "is_warmup"})


class ProfileError(EvaluationError, ValueError):
    """A profile that cannot be built (a malformed frames.csv, a bad recorded value); the message names the file."""


class FrameProfiler:
    """Records one row per processed frame: latency, memory after the frame, whether it carried prompts.

    >>> profiler = FrameProfiler("cuda:0", warmup_frames=2).start()
    >>> for frame in frames:
    ...     with profiler.measure(frame, prompt=frame == 0):
    ...         track(frame)
    >>> profiler.result().summary().p95_ms

    The first `warmup_frames` recorded frames are flagged as warm-up: kept in the arrays, left out of the summary.
    """

    def __init__(self, device: str = "cpu", warmup_frames: int = 0, name: str = "") -> None:
        if warmup_frames < 0:
            raise ProfileError(f"warmup_frames must be 0 or more, got {warmup_frames}.")
        self.device = str(device)
        self.warmup_frames = int(warmup_frames)
        self.name = name
        self.is_cuda = self.device.startswith("cuda")
        self.memory_kind = CUDA_MEMORY if self.is_cuda else PROCESS_MEMORY
        self._reset()

    def _reset(self) -> None:
        self._frames: list[int] = []
        self._latency_ms: list[float] = []
        self._memory_mb: list[float] = []
        self._is_prompt: list[bool] = []
        self._extra: list[dict[str, float]] = []
        self._rss_peak_mb = 0.0

    def start(self) -> FrameProfiler:
        """Forget earlier rows and, on CUDA, reset the peak memory statistics so the peak is this run's."""
        self._reset()
        if self.is_cuda:
            import torch

            torch.cuda.reset_peak_memory_stats(self.device)
        return self

    @contextmanager
    def measure(self, frame: int, prompt: bool = False, **extra: float) -> Iterator[None]:
        """Time the block as frame `frame` (synchronising CUDA before and after) and record it with the memory
        in use after it. A block that raises records nothing."""
        self.synchronize()
        started = time.perf_counter()
        yield
        self.synchronize()
        self.record(frame, (time.perf_counter() - started) * 1000.0, prompt=prompt, **extra)

    def record(self, frame: int, latency_ms: float, prompt: bool = False, **extra: float) -> FrameProfiler:
        """Record a frame the caller timed itself; memory is read now. `extra` numeric columns (e.g. decode_ms)
        are kept in `ProfileResult.extra` (NaN on frames that did not give them)."""
        who = self.name or "profiler"
        latency = _number(latency_ms, f"{who}: latency of frame {frame}")
        if latency < 0:
            raise ProfileError(f"{who}: latency of frame {frame} is negative ({latency}).")
        reserved = sorted(set(extra) & RESERVED_COLUMNS)
        if reserved:
            raise ProfileError(f"{who}: {', '.join(reserved)} cannot be an extra column (the profile has it already).")
        values = {key: _number(value, f"{who}: {key} of frame {frame}") for key, value in extra.items()}
        memory_mb, _ = self.memory_now()
        self._frames.append(int(frame))
        self._latency_ms.append(latency)
        self._memory_mb.append(memory_mb)
        self._is_prompt.append(bool(prompt))
        self._extra.append(values)
        return self

    def memory_now(self) -> tuple[float, float]:
        """(memory in use, peak since start()) in MiB: CUDA allocated memory, or the process RSS on CPU."""
        if self.is_cuda:
            import torch

            return (
                torch.cuda.memory_allocated(self.device) / MIB,
                torch.cuda.max_memory_allocated(self.device) / MIB,
            )
        import psutil

        rss_mb = psutil.Process().memory_info().rss / MIB
        self._rss_peak_mb = max(self._rss_peak_mb, rss_mb)
        return rss_mb, self._rss_peak_mb

    def device_label(self) -> str:
        """ "cpu", or e.g. "cuda:0 (NVIDIA H200)"."""
        if not self.is_cuda:
            return self.device
        import torch

        index = torch.device(self.device).index
        index = torch.cuda.current_device() if index is None else index
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"

    def result(self) -> ProfileResult:
        """The rows recorded since start(), with the peak memory since start()."""
        _, peak_mb = self.memory_now()
        count = len(self._frames)
        keys = sorted({key for row in self._extra for key in row})
        return ProfileResult(
            name=self.name,
            device=self.device_label(),
            memory_kind=self.memory_kind,
            frames=np.asarray(self._frames, dtype=np.int64),
            latency_ms=np.asarray(self._latency_ms, dtype=np.float64),
            memory_mb=np.asarray(self._memory_mb, dtype=np.float64),
            is_prompt=np.asarray(self._is_prompt, dtype=bool),
            is_warmup=np.arange(count) < self.warmup_frames,
            peak_memory_mb=float(peak_mb),
            extra={key: np.asarray([row.get(key, math.nan) for row in self._extra], dtype=np.float64) for key in keys},
        )

    def synchronize(self) -> None:
        """Wait for queued GPU work (no-op on CPU), so a clock read afterwards measures the work itself."""
        if self.is_cuda:
            import torch

            torch.cuda.synchronize(self.device)


def _number(value: Any, what: str) -> float:
    if isinstance(value, (numbers.Real, np.bool_)):  # ints, floats, bools and numpy scalars; not strings
        return float(value)
    raise ProfileError(f"{what} must be a number, got {value!r}.")


# ---------------------------------------------------------------------------------------------------------------
# frames.csv of a run folder

REQUIRED_COLUMNS = ("frame", "latency_ms")


def profile_from_frames_csv(
    path: str | Path,
    name: str = "",
    device: str = "",
    memory_kind: str = "",
    warmup_frames: int = 0,
) -> ProfileResult:
    """A run folder's frames.csv (columns frame, latency_ms, memory_mb, peak_memory_mb, prompt_ms, decode_ms...)
    as a ProfileResult. A frame is reported apart as a prompt frame when its prompt_frame is 1, or, without that
    column, when its prompt_ms > 0. Every other numeric column (decode_ms, prompt_ms, passes, visible_objects,
    time_s...) goes to `extra`. The peak is the largest peak_memory_mb (else
    memory_mb). Name, device and memory kind default to what the run.json beside the file says."""
    path = Path(path)
    columns = _read_columns(path)
    facts = _run_facts(path.parent / "run.json")
    memory = facts.get("memory") if isinstance(facts.get("memory"), dict) else {}
    latency = columns.pop("latency_ms")
    frames = columns.pop("frame")
    memory_mb = columns.pop("memory_mb", np.full(frames.size, math.nan))
    peaks = columns.get("peak_memory_mb", memory_mb)
    extra = {key: values for key, values in columns.items() if key not in RESERVED_COLUMNS}
    prompt_ms = columns.get("prompt_ms")
    is_prompt = np.nan_to_num(prompt_ms) > 0 if prompt_ms is not None else np.zeros(frames.size, dtype=bool)
    if "prompt_frame" in columns:  # the run says which frames it reports apart (an auto-labeler: only its first)
        is_prompt = np.nan_to_num(columns["prompt_frame"]) > 0
    return ProfileResult(
        name=name or str(facts.get("model") or path.parent.name),
        device=device or str(facts.get("device") or "unknown"),
        memory_kind=memory_kind or str(memory.get("kind") or "unknown"),
        frames=frames.astype(np.int64),
        latency_ms=latency,
        memory_mb=memory_mb,
        is_prompt=is_prompt,
        is_warmup=np.arange(frames.size) < warmup_frames,
        peak_memory_mb=float(np.nanmax(peaks)) if np.isfinite(peaks).any() else math.nan,
        extra=extra,
    )


def _read_columns(path: Path) -> dict[str, np.ndarray]:
    """Numeric columns of a CSV by header name; an empty cell is NaN, any other non-number is a ProfileError."""
    rows: list[tuple[int, list[str]]] = []  # (line number in the file, cells); blank lines skipped
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append((reader.line_num, row))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ProfileError(f"{path} cannot be read as a CSV file ({error}).") from None
    if not rows:
        raise ProfileError(f"{path} is empty; a frames.csv needs a header and one row per frame.")
    header = [cell.strip() for cell in rows[0][1]]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ProfileError(f"{path} has no {', '.join(missing)} column (its columns: {', '.join(header)}).")
    if len(rows) == 1:
        raise ProfileError(f"{path} has a header but no frames.")
    values = np.full((len(rows) - 1, len(header)), math.nan)
    for i, (line, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise ProfileError(f"{path}: line {line} has {len(row)} values for {len(header)} columns.")
        for k, cell in enumerate(row):
            if not cell.strip():
                continue
            try:
                values[i, k] = float(cell)
            except ValueError:
                raise ProfileError(f"{path}: line {line} has {header[k]} {cell!r}, which is not a number.") from None
        if math.isnan(values[i, header.index("frame")]) or math.isnan(values[i, header.index("latency_ms")]):
            raise ProfileError(f"{path}: line {line} has no frame number or no latency_ms.")
        if values[i, header.index("frame")] != round(values[i, header.index("frame")]):
            raise ProfileError(f"{path}: line {line} has frame {row[header.index('frame')]!r}, not a whole number.")
    return {column: values[:, k].copy() for k, column in enumerate(header)}


def _run_facts(run_json: Path) -> dict[str, Any]:
    """run.json beside frames.csv, or {} (it only supplies defaults, so an unreadable one is ignored)."""
    try:
        facts = json.loads(run_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return facts if isinstance(facts, dict) else {}
