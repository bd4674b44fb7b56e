"""`python -m playerseg bench` on a short synthetic clip with the test-size model (random weights, CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playerseg.__main__ import main
from playerseg.bench import grid_prompts
from playerseg.synthetic.dataset import generate_dataset


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench")
    generate_dataset(root / "data", frames=6, players=2, width=320, height=180, seed=5)
    return root / "data" / "videos" / "seq000.mp4"


def test_grid_prompts_put_one_click_per_object_inside_the_frame() -> None:
    prompts = grid_prompts(320, 180, 5)
    assert prompts.object_ids == [1, 2, 3, 4, 5]
    points = [(p.points[0].x, p.points[0].y) for p in prompts.prompts]
    assert len(set(points)) == 5 and all(0 < x < 320 and 0 < y < 180 for x, y in points)
    assert all(p.frame == 0 for p in prompts.prompts)


def test_bench_prints_and_writes_the_figures(clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    code = main(
        [
            "bench",
            "--model",
            "test-sam2.1-tiny-128",
            "--clip",
            str(clip),
            "--objects",
            "3",
            "--frames",
            "5",
            "--device",
            "cpu",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "RANDOM WEIGHTS" in printed and "bare propagation" in printed
    summary = json.loads(out.read_text())
    assert summary["objects"] == 3 and summary["clip"]["frames"] == 5 and summary["random_weights"]
    assert summary["per_frame_ms"]["p50"] <= summary["per_frame_ms"]["p95"]
    stages = summary["stages_ms_per_frame"]
    assert all(value >= 0 for value in stages.values())
    model_stages = stages["decode"] + stages["image_encoder"] + stages["memory_attention_and_decoder"]
    assert model_stages == pytest.approx(summary["per_frame_ms"]["p50"], rel=0.5), "the split adds up to a frame"
    assert summary["overhead_ratio"] == pytest.approx(summary["whole_job_s"] / summary["bare_propagation_s"])
    parts = summary["whole_job_parts_s"]
    assert parts["masks_s"] > 0 and parts["overlay_s"] > 0 and parts["flicker_s"] > 0
    assert summary["peak_ram_mb"] > 100 and summary["peak_vram_mb"] is None


def test_bench_bad_input_is_one_sentence_and_exit_2(clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--model", "test-sam2.1-tiny-128", "--clip", str(clip.parent / "missing.mp4")]) == 2
    assert "missing.mp4" in capsys.readouterr().err
    assert main(["bench", "--model", "no-such-model", "--clip", str(clip)]) == 2
