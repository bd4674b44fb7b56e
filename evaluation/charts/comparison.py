"""The model comparison chart: grouped bars per model, J, F, J&F and the 0..1 flicker scores on top, the other
flicker metrics below, each on its own scale."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from evaluation.charts.style import model_colors, no_data_figure, style
from evaluation.results.accuracy import AccuracyResult, DatasetAccuracy
from evaluation.results.by_model import ModelStability, accuracy_by_model, temporal_by_model
from evaluation.results.temporal import TemporalResult

# Top-row categories read from the accuracy results, with the attribute that holds each.
ACCURACY_CATEGORIES = {"J": "J_mean", "F": "F_mean", "J&F": "JF_mean"}
# Flicker metrics on their own scales: (key, subplot title).
LOWER_IS_BETTER_PANELS = (
    ("area_volatility", "area volatility<br>(lower is better)"),
    ("centroid_jitter_px", "centroid jitter, px<br>(lower is better)"),
    ("boundary_flip_rate", "boundary flip rate<br>(lower is better)"),
    ("presence_toggles", "presence toggles, count<br>(lower is better)"),
)


def _nan_to_none(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _top_categories(by_accuracy: Mapping[str, object], by_temporal: Mapping[str, ModelStability]) -> list[str]:
    """J, F, J&F when there is accuracy; consecutive IoU (and flow consistency when measured) when there is flicker."""
    categories = list(ACCURACY_CATEGORIES) if by_accuracy else []
    if by_temporal:
        categories.append("consecutive IoU")
        if any(t.flow_consistency is not None for t in by_temporal.values()):
            categories.append("flow consistency")
    return categories


def _top_row_value(
    accuracy: AccuracyResult | DatasetAccuracy | None, stability: ModelStability | None, category: str
) -> float | None:
    if category in ACCURACY_CATEGORIES:
        return None if accuracy is None else _nan_to_none(getattr(accuracy, ACCURACY_CATEGORIES[category]))
    if stability is None:
        return None
    return stability.consecutive_iou if category == "consecutive IoU" else stability.flow_consistency


def _grid(with_accuracy: bool, with_temporal: bool) -> go.Figure:
    """One panel for the 0..1 scores; with flicker, a second row of four panels for the other metrics."""
    shown = [name for name, present in (("J, F, J&F", with_accuracy), ("steadiness", with_temporal)) if present]
    top_title = " and ".join(shown) + " (0..1, higher is better)"
    if not with_temporal:
        return make_subplots(rows=1, cols=1, subplot_titles=(top_title,))
    return make_subplots(
        rows=2,
        cols=4,
        specs=[[{"colspan": 4}, None, None, None], [{}, {}, {}, {}]],
        subplot_titles=(top_title, *(t for _, t in LOWER_IS_BETTER_PANELS)),
        vertical_spacing=0.2,
        horizontal_spacing=0.08,
        row_heights=[0.58, 0.42],
    )


def _top_bar(name: str, color: str, categories: list[str], values: list[float | None]) -> go.Bar:
    return go.Bar(
        x=categories,
        y=values,
        name=name,
        legendgroup=name,
        marker_color=color,
        text=[f"{v:.3f}" if v is not None else "" for v in values],
        textposition="outside",
        cliponaxis=False,
        hovertemplate=f"{name}<br>%{{x}}: %{{y:.3f}}<extra></extra>",
    )


def _add_panel_bars(fig: go.Figure, name: str, color: str, stability: ModelStability | None) -> None:
    """One bar per lower-is-better flicker panel (an empty one where the model has no flicker results)."""
    for col, (key, panel_title) in enumerate(LOWER_IS_BETTER_PANELS, start=1):
        value = getattr(stability, key) if stability is not None else None
        label = panel_title.split("<br>")[0]
        fig.add_trace(
            go.Bar(
                x=[label],
                y=[value],
                name=name,
                legendgroup=name,
                showlegend=False,
                marker_color=color,
                text=[f"{value:.3g}" if value is not None else ""],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"{name}<br>{label}: %{{y:.4g}}<extra></extra>",
            ),
            row=2,
            col=col,
        )


def model_comparison_bars(
    accuracy: Sequence[AccuracyResult | DatasetAccuracy] = (),
    temporal: Sequence[TemporalResult] = (),
    *,
    colors: Mapping[str, str] | None = None,
) -> go.Figure:
    """Grouped bars per model: J, F, J&F and the 0..1 flicker scores on top; the other flicker metrics below,
    each on its own scale."""
    title = "Model comparison"
    by_accuracy = accuracy_by_model(accuracy)
    by_temporal = temporal_by_model(temporal)
    if not by_accuracy and not by_temporal:
        return no_data_figure(title)
    names = list(dict.fromkeys([*by_accuracy, *by_temporal]))
    colors = model_colors(names, colors)
    categories = _top_categories(by_accuracy, by_temporal)
    fig = _grid(bool(by_accuracy), bool(by_temporal))
    for name in names:
        values = [_top_row_value(by_accuracy.get(name), by_temporal.get(name), c) for c in categories]
        fig.add_trace(_top_bar(name, colors[name], categories, values), row=1, col=1)
        if by_temporal:
            _add_panel_bars(fig, name, colors[name], by_temporal.get(name))
    fig.update_layout(barmode="group", legend_title_text="model", bargap=0.25)
    fig.update_yaxes(range=[0, 1.12], row=1, col=1)
    if by_temporal:
        fig.update_xaxes(showticklabels=False, row=2)
        fig.update_yaxes(rangemode="tozero", row=2)
    return style(fig, title, 640 if by_temporal else 440)
