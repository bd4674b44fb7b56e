from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from playerseg.finetune.outputs import curves_figure, write_metrics_csv, write_model_json


def _row(stage: str, epoch: int, jf: float, frame_jf: float) -> dict:
    return {
        "stage": stage,
        "epoch": epoch,
        "train_loss": math.nan if epoch == 0 else 1.0 / epoch,
        "val_JF": jf,
        "val_frame_JF": frame_jf,
        "val_consecutive_iou": 0.5,
        "val_flow_consistency": None,
    }


ROWS = [
    _row("frames", 0, 0.01, 0.02),
    _row("frames", 1, 0.05, 0.2),
    _row("clips", 0, 0.05, 0.2),
    _row("clips", 1, 0.08, 0.2),
]


def test_curves_show_both_judged_metrics_per_stage() -> None:
    figure = curves_figure(ROWS, "t")
    names = [trace.name for trace in figure.data]
    for stage in ("frames", "clips"):
        for label in ("training loss", "video J&F", "frame J&F", "consecutive IoU"):
            assert f"{stage}: {label}" in names
    loss = next(t for t in figure.data if t.name == "frames: training loss")
    assert list(loss.x) == [1]  # epoch 0 is a validation, not training
    frame_jf = next(t for t in figure.data if t.name == "frames: frame J&F")
    assert list(frame_jf.y) == [0.02, 0.2]


def test_missing_numbers_are_blank_in_csv_and_null_in_json(tmp_path: Path) -> None:
    with open(write_metrics_csv(ROWS, tmp_path), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["train_loss"] == "" and rows[0]["val_flow_consistency"] == "" and rows[1]["train_loss"] == "1.0"
    facts = json.loads(
        write_model_json({"val_before": {"F": math.nan, "JF": 0.1}, "x": [math.inf]}, tmp_path).read_text()
    )
    assert facts == {"val_before": {"F": None, "JF": 0.1}, "x": [None]}
