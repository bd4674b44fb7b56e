"""What a finetuning run leaves in OUT: checkpoint.pt (sam2's format), model.json, metrics.csv and curves.html.

`OUT` is then a model name anywhere a model is asked for (`segment --model OUT`, PLAYERSEG_MODELS, the app's
`models/` folder): the registry reads the architecture from model.json and the weights from checkpoint.pt.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from playerseg.tracking.registry import file_sha256

CHECKPOINT_FILE = "checkpoint.pt"
MODEL_JSON = "model.json"
METRICS_CSV = "metrics.csv"
CURVES_HTML = "curves.html"


def write_checkpoint(model: Any, out: Path) -> tuple[Path, str]:
    """The whole model's state dict as `{"model": state_dict}` (loadable by sam2's builder); returns path, sha256."""
    import torch

    state = {key: value.detach().to("cpu") for key, value in model.state_dict().items()}
    path = out / CHECKPOINT_FILE
    partial = path.with_suffix(".pt.partial")  # a crash mid-write must not leave a loadable half checkpoint
    torch.save({"model": state}, partial)
    partial.replace(path)
    return path, file_sha256(path)


def _finite(value: Any) -> Any:
    """JSON has no NaN: missing numbers are null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def write_model_json(facts: dict[str, Any], out: Path) -> Path:
    path = out / MODEL_JSON
    path.write_text(json.dumps(_finite(facts), indent=2) + "\n", encoding="utf-8")
    return path


def write_metrics_csv(rows: list[dict[str, Any]], out: Path) -> Path:
    path = out / METRICS_CSV
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: ("" if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in row.items()}
            )
    return path


def curves_figure(rows: list[dict[str, Any]], title: str) -> Any:
    """Per-epoch training loss, validation J&F and consecutive IoU (flicker), one line per stage; epoch 0 is the
    validation before the stage trained."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=("training loss", "validation J&F", "validation consecutive IoU (steadier: higher)"),
    )
    for stage in dict.fromkeys(row["stage"] for row in rows):
        stage_rows = [row for row in rows if row["stage"] == stage]
        trained = [row for row in stage_rows if row["epoch"] > 0]
        figure.add_trace(
            go.Scatter(
                x=[r["epoch"] for r in trained],
                y=[r["train_loss"] for r in trained],
                name=f"{stage}: training loss",
                mode="lines+markers",
            ),
            row=1,
            col=1,
        )
        # stage 1 is judged on frame J&F, stage 2 on video J&F: both are drawn for each stage
        lines = (
            (2, "val_JF", "video J&F"),
            (2, "val_frame_JF", "frame J&F"),
            (3, "val_consecutive_iou", "consecutive IoU"),
        )
        for col, key, label in lines:
            figure.add_trace(
                go.Scatter(
                    x=[r["epoch"] for r in stage_rows],
                    y=[r[key] for r in stage_rows],
                    name=f"{stage}: {label}",
                    mode="lines+markers",
                ),
                row=1,
                col=col,
            )
    figure.update_xaxes(title_text="epoch")
    figure.update_layout(title=title, height=420, template="plotly_white")
    return figure


def write_curves_html(rows: list[dict[str, Any]], out: Path, title: str, figure: Any | None = None) -> Path:
    """curves.html: finetuning's curves from `rows`, or another trainer's `figure` (the U-Net baseline's)."""
    path = out / CURVES_HTML
    (figure if figure is not None else curves_figure(rows, title)).write_html(
        path, include_plotlyjs=True, full_html=True
    )
    return path


def push_to_hub(out: Path, repo_id: str) -> str:
    """Upload OUT's files to a Hugging Face model repo; raises RuntimeError with one sentence when it cannot."""
    from huggingface_hub import HfApi

    try:
        api = HfApi()
        api.create_repo(repo_id, repo_type="model", exist_ok=True)
        api.upload_folder(folder_path=str(out), repo_id=repo_id, repo_type="model")
    except Exception as error:  # offline, no token, no permission: all mean "not pushed"
        raise RuntimeError(
            f"Could not push {out} to the Hugging Face Hub repo {repo_id} ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else 'no detail'}); the model is saved locally in {out}."
        ) from error
    return f"https://huggingface.co/{repo_id}"
