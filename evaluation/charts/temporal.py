"""The flicker timeline: per frame and object, IoU with the previous frame, flow consistency (when frames were
given) and mask area."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from evaluation.charts.style import (
    frame_axis,
    line_width,
    model_colors,
    no_data_figure,
    object_label,
    object_line,
    style,
)
from evaluation.results.temporal import TemporalResult


def temporal_timeline(results: Sequence[TemporalResult], *, colors: Mapping[str, str] | None = None) -> go.Figure:
    """Per frame and object: IoU with the previous frame, flow consistency (when frames were given) and mask area."""
    title = "Temporal stability per frame (steadier masks score higher IoU and flow consistency)"
    results = [r for r in results if r.frames and r.object_ids]
    if not results:
        return no_data_figure(title)
    colors = model_colors((r.name for r in results), colors)
    width = line_width(sum(len(r.object_ids) for r in results))
    with_flow = any(r.flow_consistency is not None for r in results)
    rows = [("consecutive_iou", "IoU with the previous frame (0..1, higher is steadier)", "IoU")]
    if with_flow:
        flow_title = "flow consistency: mask vs previous mask moved by optical flow (0..1)"
        rows.append(("flow_consistency", flow_title, "flow"))
    rows.append(("area", "mask area (px)", "area (px)"))
    fig = make_subplots(
        rows=len(rows), cols=1, shared_xaxes=True, vertical_spacing=0.09, subplot_titles=[r[1] for r in rows]
    )
    for result in results:
        for k, obj in enumerate(result.object_ids):
            label = object_label(obj)
            for row, (attribute, _, _) in enumerate(rows, start=1):
                table = getattr(result, attribute)
                if table is None:  # this model ran without frames: no flow consistency
                    continue
                line = object_line(
                    result.name,
                    label,
                    k,
                    result.frames,
                    table[:, k],
                    color=colors[result.name],
                    width=width,
                    showlegend=row == 1,
                )
                fig.add_trace(line, row=row, col=1)
    for row, (attribute, _, axis_title) in enumerate(rows, start=1):
        if attribute == "area":
            fig.update_yaxes(title_text=axis_title, rangemode="tozero", row=row, col=1)
        else:
            fig.update_yaxes(title_text=axis_title, range=[-0.02, 1.05], row=row, col=1)
    frame_axis(fig, (f for r in results for f in r.frames), row=len(rows), col=1)
    return style(fig, title, 260 * len(rows) + 80)
