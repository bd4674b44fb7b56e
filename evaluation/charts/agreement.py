"""The agreement chart: where two models agree per frame, as the share of pixels labelled differently and the
per-object IoU between them. No ground truth is involved, so this is agreement, never accuracy."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from evaluation.charts.style import floats, frame_axis, line_mode, no_data_figure, object_label, style
from evaluation.results.agreement import AgreementResult

# Objects get their own palette here, where there is one model pair and colour means object.
OBJECT_PALETTE = ("#1B9E77", "#D95F02", "#7570B3", "#E7298A", "#66A61E", "#E6AB02", "#A6761D", "#666666")


def agreement_timeline(agreement: AgreementResult | None) -> go.Figure:
    """Where two models agree per frame: share of pixels labelled differently, and per-object IoU between them.
    No ground truth is involved, so this is agreement, never accuracy."""
    if agreement is None:
        return no_data_figure("Agreement between two models (not accuracy)")
    a, b = agreement.name_a, agreement.name_b
    title = f"Agreement between {a} and {b} per frame (not accuracy: no ground truth involved)"
    if not agreement.frames:
        return no_data_figure(title)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=(
            f"pixels labelled differently by {a} and {b} (% of scored pixels, lower = more agreement)",
            f"IoU between {a}'s and {b}'s mask of each object (0..1, higher = more agreement)",
        ),
    )
    frames = list(agreement.frames)
    fig.add_trace(
        go.Scatter(
            x=frames,
            y=floats(agreement.differing_share) * 100.0,
            mode=line_mode(len(frames)),
            name="pixels labelled differently",
            line={"color": "#4b5563", "width": 2},
            marker={"size": 5},
            hovertemplate="frame %{x}<br>%{y:.2f}% of pixels differ<extra></extra>",
        ),
        row=1,
        col=1,
    )
    for k, obj in enumerate(agreement.object_ids):
        fig.add_trace(
            go.Scatter(
                x=frames,
                y=floats(agreement.iou[:, k]),
                mode=line_mode(len(frames)),
                name=f"{object_label(obj)} IoU",
                line={"color": OBJECT_PALETTE[k % len(OBJECT_PALETTE)], "width": 2},
                marker={"size": 5},
                hovertemplate=f"{object_label(obj)}<br>frame %{{x}}<br>IoU %{{y:.3f}}<extra></extra>",
            ),
            row=2,
            col=1,
        )
    fig.update_yaxes(title_text="differing pixels (%)", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="IoU between models", range=[-0.02, 1.05], row=2, col=1)
    frame_axis(fig, frames, row=2, col=1)
    return style(fig, title, 560)
