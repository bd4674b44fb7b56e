"""FrameProfiler and frames.csv parsing: CPU path for real, CUDA path against a stand-in torch module."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from evaluation.profiling import FrameProfiler, ProfileError, profile_from_frames_csv

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_summary_leaves_out_warmup_and_separates_prompt_frames() -> None:
    latencies = [900.0, 400.0, 250.0, 10.0, 12.0, 11.0, 30.0, 14.0, 13.0, 260.0, 15.0]
    prompts = {2, 9}  # frame 2 and frame 9 carried prompts
    profiler = FrameProfiler("cpu", warmup_frames=2, name="tiny").start()
    for frame, latency in enumerate(latencies):
        profiler.record(frame, latency, prompt=frame in prompts)
    result = profiler.result()

    assert result.name == "tiny" and result.device == "cpu" and result.memory_kind == "process_rss"
    np.testing.assert_array_equal(result.frames, np.arange(len(latencies)))
    np.testing.assert_array_equal(result.latency_ms, latencies)  # warm-up frames stay in the arrays
    np.testing.assert_array_equal(result.is_warmup, [True, True] + [False] * 9)
    np.testing.assert_array_equal(result.is_prompt, [frame in prompts for frame in range(len(latencies))])

    summary = result.summary()
    tracking = np.array([10.0, 12.0, 11.0, 30.0, 14.0, 13.0, 15.0])  # counted frames without prompts, by hand
    counted = np.array(latencies[2:])
    assert summary.frames == 9 and summary.warmup_frames == 2 and summary.prompt_frames == 2
    for q, value in ((50, summary.p50_ms), (95, summary.p95_ms), (99, summary.p99_ms)):
        assert value == pytest.approx(np.percentile(tracking, q))
    assert summary.max_ms == 30.0 and summary.mean_ms == pytest.approx(tracking.mean())
    assert summary.prompt_ms == pytest.approx((250.0 + 260.0) / 2)
    assert summary.fps == pytest.approx(9 / (counted.sum() / 1000.0))


def test_cpu_memory_is_the_process_rss_with_a_high_water_mark() -> None:
    import psutil

    profiler = FrameProfiler("cpu").start()
    before, _ = profiler.memory_now()
    assert before == pytest.approx(psutil.Process().memory_info().rss / 2**20, rel=0.1)
    block = np.ones(64 * 2**20, dtype=np.uint8)  # 64 MiB, every page touched
    profiler.record(0, 5.0)
    with_block = profiler.result().memory_mb[0]
    # the reference reading: in a long test process the allocator may reuse pages freed earlier, so the block does
    # not always grow the RSS; what the profiler reports must be the RSS, whichever it is
    assert with_block == pytest.approx(psutil.Process().memory_info().rss / 2**20, rel=0.02)
    del block
    profiler.record(1, 5.0)
    result = profiler.result()
    assert result.peak_memory_mb >= max(with_block, before)  # the peak remembers the block after it is freed
    assert np.all(result.memory_mb > 0)


def test_measure_times_the_block_and_records_nothing_when_it_raises() -> None:
    profiler = FrameProfiler(warmup_frames=0).start()
    with profiler.measure(7, prompt=True, passes=2):
        time.sleep(0.03)
    with pytest.raises(RuntimeError):
        with profiler.measure(8):
            raise RuntimeError("the tracker failed")
    result = profiler.result()
    assert result.frames.tolist() == [7]
    assert 30.0 <= result.latency_ms[0] < 1000.0
    assert result.is_prompt.tolist() == [True]
    assert result.extra["passes"].tolist() == [2.0]


def test_extra_columns_are_nan_where_missing_and_start_resets() -> None:
    profiler = FrameProfiler().start()
    profiler.record(0, 20.0, decode_ms=1.5)
    profiler.record(1, 21.0)
    profiler.record(2, 22.0, decode_ms=np.float32(2.5), visible_objects=3)
    extra = profiler.result().extra
    assert set(extra) == {"decode_ms", "visible_objects"}
    np.testing.assert_array_equal(extra["decode_ms"], [1.5, np.nan, 2.5])
    np.testing.assert_array_equal(extra["visible_objects"], [np.nan, np.nan, 3.0])
    assert profiler.result().to_pandas().columns.tolist()[-2:] == ["decode_ms", "visible_objects"]

    profiler.start()
    assert profiler.result().frames.size == 0
    assert profiler.result().summary().frames == 0 and math.isnan(profiler.result().summary().p50_ms)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: p.record(3, "fast"), "latency of frame 3 must be a number"),
        (lambda p: p.record(3, -1.0), "latency of frame 3 is negative"),
        (lambda p: p.record(3, 1.0, decode_ms="x"), "decode_ms of frame 3 must be a number"),
        (lambda p: p.record(3, 1.0, memory_mb=5.0), "memory_mb cannot be an extra column"),
    ],
)
def test_bad_records_are_profile_errors(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProfileError, match=message):
        call(FrameProfiler(name="mine"))


def test_cpu_profiling_never_imports_torch() -> None:
    code = (
        "import sys\n"
        "from evaluation.profiling import FrameProfiler, profile_from_frames_csv\n"
        "p = FrameProfiler('cpu', warmup_frames=1).start()\n"
        "with p.measure(0):\n    pass\n"
        "p.record(1, 3.0)\n"
        "p.memory_now(); p.result().summary()\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


class FakeCuda:
    """Stands in for torch.cuda: logs every call so the order of synchronize and memory reads can be checked."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.allocated = 100 * 2**20
        self.peak = 100 * 2**20

    def synchronize(self, device: str) -> None:
        self.calls.append(f"synchronize {device}")

    def reset_peak_memory_stats(self, device: str) -> None:
        self.calls.append("reset")
        self.peak = self.allocated

    def memory_allocated(self, device: str) -> int:
        self.calls.append("allocated")
        return self.allocated

    def max_memory_allocated(self, device: str) -> int:
        return self.peak

    def current_device(self) -> int:
        return 0

    def get_device_name(self, index: int) -> str:
        return f"Fake GPU {index}"


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch) -> FakeCuda:
    cuda = FakeCuda()
    fake_torch = types.ModuleType("torch")
    fake_torch.cuda = cuda  # type: ignore[attr-defined]
    fake_torch.device = lambda name: types.SimpleNamespace(  # type: ignore[attr-defined]
        index=int(name.split(":")[1]) if ":" in name else None
    )
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    return cuda


def test_cuda_path_synchronises_around_the_block_and_reads_cuda_memory(fake_cuda: FakeCuda) -> None:
    profiler = FrameProfiler("cuda:1", warmup_frames=1, name="gpu").start()
    assert fake_cuda.calls == ["reset"]
    with profiler.measure(0, prompt=True):
        fake_cuda.calls.append("block")
        fake_cuda.allocated = 300 * 2**20
        fake_cuda.peak = 500 * 2**20
    assert fake_cuda.calls == ["reset", "synchronize cuda:1", "block", "synchronize cuda:1", "allocated"]
    fake_cuda.allocated = 200 * 2**20
    profiler.record(1, 12.0)
    result = profiler.result()
    assert result.device == "cuda:1 (Fake GPU 1)" and result.memory_kind == "cuda_allocated"
    np.testing.assert_array_equal(result.memory_mb, [300.0, 200.0])
    assert result.peak_memory_mb == 500.0
    assert result.is_warmup.tolist() == [True, False]
    assert FrameProfiler("cuda").device_label() == "cuda:0 (Fake GPU 0)"


# ---------------------------------------------------------------------------------------------------------------
# frames.csv

FRAMES_CSV = """frame,time_s,latency_ms,decode_ms,prompt_ms,memory_mb,peak_memory_mb,passes,visible_objects
0,0.0,256.0,0.0,202.0,769.0,769.5,1,3
1,0.0417,129.5,2.9,0.0,774.0,774.0,1,3
2,0.0833,121.0,4.2,0.0,772.0,780.25,1,2

3,0.125,124.0,2.7,,776.0,776.0,2,3
"""


def test_frames_csv_with_run_json_beside_it(tmp_path: Path) -> None:
    (tmp_path / "frames.csv").write_text(FRAMES_CSV)
    facts = {"model": "sam2.1-large", "device": "cuda", "memory": {"kind": "cuda_allocated"}}
    (tmp_path / "run.json").write_text(json.dumps(facts))
    result = profile_from_frames_csv(tmp_path / "frames.csv")
    assert (result.name, result.device, result.memory_kind) == ("sam2.1-large", "cuda", "cuda_allocated")
    np.testing.assert_array_equal(result.frames, [0, 1, 2, 3])
    assert result.frames.dtype == np.int64
    np.testing.assert_array_equal(result.latency_ms, [256.0, 129.5, 121.0, 124.0])
    np.testing.assert_array_equal(result.memory_mb, [769.0, 774.0, 772.0, 776.0])
    np.testing.assert_array_equal(result.is_prompt, [True, False, False, False])  # an empty prompt_ms is no prompt
    assert not result.is_warmup.any()
    assert result.peak_memory_mb == 780.25  # the largest peak_memory_mb, not the last
    assert {"decode_ms", "prompt_ms", "passes", "visible_objects"} <= set(result.extra)
    np.testing.assert_array_equal(result.extra["passes"], [1, 1, 1, 2])
    assert math.isnan(result.extra["prompt_ms"][3])
    summary = result.summary()
    assert summary.prompt_frames == 1 and summary.prompt_ms == 256.0
    assert summary.p50_ms == pytest.approx(np.median([129.5, 121.0, 124.0]))

    named = profile_from_frames_csv(
        tmp_path / "frames.csv", name="A", device="cpu", memory_kind="process_rss", warmup_frames=1
    )
    assert (named.name, named.device, named.memory_kind) == ("A", "cpu", "process_rss")
    assert named.is_warmup.tolist() == [True, False, False, False]


def test_frames_csv_alone_uses_folder_name_and_unknowns(tmp_path: Path) -> None:
    folder = tmp_path / "my-run"
    folder.mkdir()
    (folder / "frames.csv").write_text("frame,latency_ms,memory_mb\n0,10,100\n1,11,150\n2,12,120\n")
    result = profile_from_frames_csv(folder / "frames.csv")
    assert (result.name, result.device, result.memory_kind) == ("my-run", "unknown", "unknown")
    assert result.peak_memory_mb == 150.0 and result.extra == {}
    assert not result.is_prompt.any()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("frame,memory_mb\n0,1\n", "has no latency_ms column"),
        ("frame,latency_ms\n", "has a header but no frames"),
        ("frame,latency_ms\n0,1\n1,abc\n", "line 3 has latency_ms 'abc', which is not a number"),
        ("frame,latency_ms\n0,1\n1\n", "line 3 has 1 values for 2 columns"),
        ("frame,latency_ms\n0,\n", "line 2 has no frame number or no latency_ms"),
        ("frame,latency_ms\n0.5,3\n", "line 2 has frame '0.5', not a whole number"),
    ],
)
def test_bad_frames_csv_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "frames.csv"
    path.write_text(text)
    with pytest.raises(ProfileError, match=message) as caught:
        profile_from_frames_csv(path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, ValueError)
