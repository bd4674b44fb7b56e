"""The leaderboard report's two charts: J&F per sequence as grouped bars (one colour per model), and speed against
accuracy (p50 ms per frame against mean J&F with its 95% interval), each a plotly figure in the shared chart style."""

from __future__ import annotations

import math
from collections.abc import Mapping

import plotly.graph_objects as go

from evaluation.charts.style import no_data_figure, style
from evaluation.leaderboard.table import Leaderboard

NO_TRUTH = "no ground truth: J&F was not measured"


def _value(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def jf_per_sequence(board: Leaderboard, colors: Mapping[str, str]) -> go.Figure:
    """Grouped bars: J&F of every model on every sequence (a gap where a pair failed or has no score)."""
    title = "J&F per sequence (higher is better)"
    if not any(math.isfinite(row.JF) for row in board.rows):
        return no_data_figure(title, NO_TRUTH)
    sequences = [s for s in board.manifest.sequences if any(row.sequence == s for row in board.rows)]
    fig = go.Figure()
    for name in board.manifest.model_names:
        by_sequence = {row.sequence: row for row in board.rows_of(name)}
        rows = [by_sequence.get(s) for s in sequences]
        fig.add_trace(
            go.Bar(
                x=sequences,
                y=[_value(r.JF) if r else None for r in rows],
                name=name,
                marker_color=colors[name],
                customdata=[[_value(r.J) if r else None, _value(r.F) if r else None] for r in rows],
                hovertemplate=(
                    f"{name}<br>%{{x}}<br>J&F %{{y:.3f}}<br>J %{{customdata[0]:.3f}}, F %{{customdata[1]:.3f}}"
                    "<extra></extra>"
                ),
            )
        )
    fig.update_layout(barmode="group", bargap=0.25, legend={"orientation": "h", "y": -0.22})
    fig.update_yaxes(title_text="J&F", range=[0, 1.05])
    fig.update_xaxes(title_text="sequence", type="category")
    return style(fig, title, 420)


def speed_vs_accuracy(board: Leaderboard, colors: Mapping[str, str]) -> go.Figure:
    """One point per model: p50 ms per frame (x, lower is better) against mean J&F (y, higher is better), with the
    J&F 95% interval as error bars. Without ground truth: the p50 latency per model as bars."""
    models = [m for m in board.models if math.isfinite(m.latency_p50_ms)]
    if not models:
        return no_data_figure("Speed and accuracy", "no frames.csv: latency was not recorded")
    if not any(math.isfinite(m.JF.mean) for m in models):
        return _latency_bars(board, colors)
    fig = go.Figure()
    for m in models:
        spread = [_value(m.JF.high - m.JF.mean) or 0.0], [_value(m.JF.mean - m.JF.low) or 0.0]
        fig.add_trace(
            go.Scatter(
                x=[m.latency_p50_ms],
                y=[_value(m.JF.mean)],
                mode="markers+text",
                name=m.model,
                text=[m.model],
                textposition="top center",
                marker={"color": colors[m.model], "size": 14, "line": {"color": "#ffffff", "width": 1.5}},
                error_y={"type": "data", "array": spread[0], "arrayminus": spread[1], "color": colors[m.model]},
                hovertemplate=(
                    f"{m.model}<br>p50 %{{x:.1f}} ms per frame<br>J&F %{{y:.3f}}"
                    f" (95% interval {m.JF.low:.3f} to {m.JF.high:.3f})<extra></extra>"
                ),
            )
        )
    fig.update_xaxes(title_text="ms per frame, p50 (lower is better: further left is faster)", rangemode="tozero")
    fig.update_yaxes(title_text="mean J&F (higher is better)", range=[0, 1.08])
    fig.update_layout(showlegend=False)
    return style(fig, "Speed against accuracy (best: top left)", 440)


def _latency_bars(board: Leaderboard, colors: Mapping[str, str]) -> go.Figure:
    names = [m.model for m in board.models]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=[_value(m.latency_p50_ms) for m in board.models],
            marker_color=[colors[n] for n in names],
            text=[f"{m.latency_p50_ms:.1f} ms" if math.isfinite(m.latency_p50_ms) else "" for m in board.models],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}<br>p50 %{y:.1f} ms per frame<extra></extra>",
        )
    )
    fig.update_yaxes(title_text="ms per frame, p50 (lower is better)", rangemode="tozero")
    fig.update_xaxes(type="category")
    return style(fig, f"Speed: ms per frame ({NO_TRUTH})", 400)
