"""Accuracy charts: J and F per annotated frame (one line per model and object), and the spread of J, F or J&F over
frames per object (one box per model)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from evaluation.charts.style import (
    floats,
    frame_axis,
    line_width,
    model_colors,
    no_data_figure,
    object_label,
    object_line,
    style,
)
from evaluation.results.accuracy import AccuracyResult, flatten_accuracy

METRIC_TITLES = {
    "J": "J (region IoU with ground truth)",
    "F": "F (boundary F-measure)",
    "JF": "J&F (mean of J and F)",
}
# Above this many values per box, box plots show outliers only instead of every point.
BOX_POINT_LIMIT = 100


def _several_sequences(results: Sequence[AccuracyResult]) -> bool:
    return len({r.sequence for r in results}) > 1


def _sequence_suffix(results: Sequence[AccuracyResult]) -> str:
    sequences = sorted({r.sequence for r in results if r.sequence})
    return f", sequence {sequences[0]}" if len(sequences) == 1 else ""


def jf_per_frame(results: Sequence[AccuracyResult], *, colors: Mapping[str, str] | None = None) -> go.Figure:
    """J (top row) and F (bottom row) per annotated frame: one line per model and object, colour = model."""
    results = flatten_accuracy(results)
    title = "J and F per frame (0..1, higher is better)" + _sequence_suffix(results)
    if not any(r.frames and r.object_ids for r in results):
        return no_data_figure(title)
    colors = model_colors((r.name for r in results), colors)
    label_sequence = _several_sequences(results)
    width = line_width(sum(len(r.object_ids) for r in results))
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=(METRIC_TITLES["J"], METRIC_TITLES["F"]),
    )
    for result in results:
        for k, obj in enumerate(result.object_ids):
            label = object_label(obj, result.sequence if label_sequence else None)
            for row, values in ((1, result.J[:, k]), (2, result.F[:, k])):
                line = object_line(
                    result.name,
                    label,
                    k,
                    result.frames,
                    values,
                    color=colors[result.name],
                    width=width,
                    showlegend=row == 1,
                )
                fig.add_trace(line, row=row, col=1)
    fig.update_yaxes(range=[-0.02, 1.05], row=1, col=1, title_text="J")
    fig.update_yaxes(range=[-0.02, 1.05], row=2, col=1, title_text="F")
    frame_axis(fig, (f for r in results for f in r.frames), row=2, col=1)
    return style(fig, title, 560)


def per_object_box(
    results: Sequence[AccuracyResult], metric: str = "J", *, colors: Mapping[str, str] | None = None
) -> go.Figure:
    """Spread over frames of J, F or J&F per object, one box per model beside each other."""
    if metric not in METRIC_TITLES:
        raise ValueError(f"per_object_box metric must be one of {sorted(METRIC_TITLES)}, not {metric!r}.")
    results = flatten_accuracy(results)
    title = f"{METRIC_TITLES[metric]} per object over frames (0..1, higher is better)" + _sequence_suffix(results)
    colors = model_colors((r.name for r in results), colors)
    label_sequence = _several_sequences(results)
    per_model: dict[str, tuple[list[str], list[float]]] = {}
    for result in results:
        labels, values = per_model.setdefault(result.name, ([], []))
        table = {"J": result.J, "F": result.F, "JF": (floats(result.J) + floats(result.F)) / 2.0}[metric]
        for k, obj in enumerate(result.object_ids):
            column = floats(table[:, k])
            column = column[~np.isnan(column)]
            labels.extend([object_label(obj, result.sequence if label_sequence else None)] * column.size)
            values.extend(column.tolist())
    if not any(values for _, values in per_model.values()):
        return no_data_figure(title)
    fig = go.Figure()
    for name, (labels, values) in per_model.items():
        boxes = max(len(set(labels)), 1)
        fig.add_trace(
            go.Box(
                x=labels,
                y=values,
                name=name,
                marker_color=colors[name],
                boxpoints="all" if len(values) / boxes <= BOX_POINT_LIMIT else "outliers",
                jitter=0.3,
                pointpos=0,
                marker={"size": 4, "opacity": 0.6},
            )
        )
    fig.update_layout(boxmode="group", legend_title_text="model")
    fig.update_yaxes(range=[-0.02, 1.05], title_text=metric.replace("JF", "J&F"))
    fig.update_xaxes(title_text="object")
    return style(fig, title, 440)
