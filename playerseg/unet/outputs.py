"""What `python -m playerseg.unet train` leaves in OUT, through the finetune pipeline's writers: checkpoint.pt
(`{"model": state_dict}`), model.json, metrics.csv and curves.html (the U-Net's own curves)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from playerseg.finetune.outputs import write_checkpoint, write_curves_html, write_metrics_csv, write_model_json
from playerseg.tracking.unet_net import build_unet
from playerseg.unet.train import UNetTraining, UNetTrainJob, model_facts


def curves_figure(training: UNetTraining, title: str) -> Any:
    """Training and validation loss, and validation IoU, per epoch (epoch 0: before training)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = training.rows
    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss (BCE + Dice)", "validation IoU of player pixels"))
    trained = [row for row in rows if row.epoch > 0]
    figure.add_trace(
        go.Scatter(x=[r.epoch for r in trained], y=[r.train_loss for r in trained], name="training loss"), row=1, col=1
    )
    figure.add_trace(go.Scatter(x=[r.epoch for r in rows], y=[r.val_loss for r in rows], name="validation loss"), 1, 1)
    figure.add_trace(go.Scatter(x=[r.epoch for r in rows], y=[r.val_iou for r in rows], name="validation IoU"), 1, 2)
    figure.update_xaxes(title_text="epoch")
    figure.update_layout(title=title, height=420, template="plotly_white")
    return figure


def write_outputs(job: UNetTrainJob, training: UNetTraining, folder: Path) -> dict[str, Any]:
    """Write the four files into `folder` (the staged OUT); returns model.json's facts."""
    net = build_unet(job.config, job.seed)
    net.load_state_dict(training.best_state)
    _, sha = write_checkpoint(net, folder)
    facts = model_facts(job, training, sha)
    write_model_json(facts, folder)
    rows = [asdict(row) for row in training.rows]
    write_metrics_csv(rows, folder)
    title = f"U-Net {job.out.resolve().name}: best epoch {training.best_epoch}"
    write_curves_html(rows, folder, title, figure=curves_figure(training, title))
    return facts
