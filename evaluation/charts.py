"""Plotly figures of evaluation results: accuracy (J, F), flicker, latency, memory, and agreement between two models.

Every function reads the dataclasses of `evaluation.results` and returns a `plotly.graph_objects.Figure` with one
shared look: a white template with system fonts, titles that carry units and say whether higher or lower is better,
objects named "object 3", and a fixed colour per model (`model_colors`; pass the same `colors` mapping to every chart
so model A keeps its colour everywhere). Empty inputs give a figure that says "no data" instead of raising.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from evaluation.results import (
    AccuracyResult,
    AgreementResult,
    DatasetAccuracy,
    ProfileResult,
    TemporalResult,
)

# Tableau 10 without its grey (grey marks warm-up frames): colour-blind friendly and distinct on white.
MODEL_PALETTE = ("#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#B07AA1", "#76B7B2", "#EDC948", "#FF9DA7", "#9C755F")
# Objects get their own palette in the agreement chart, where there is one model pair and colour means object.
OBJECT_PALETTE = ("#1B9E77", "#D95F02", "#7570B3", "#E7298A", "#66A61E", "#E6AB02", "#A6761D", "#666666")
WARMUP_GREY = "#9A9A9A"
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
NO_DATA = "no data"

MEMORY_AXIS_TITLES = {
    "cuda_allocated": "GPU memory allocated (MiB)",
    "process_rss": "process RSS (MiB), CPU",
}
# Short names of what was measured, for legends and tables.
MEMORY_KINDS = {"cuda_allocated": "GPU allocated", "process_rss": "CPU process RSS"}
METRIC_TITLES = {
    "J": "J (region IoU with ground truth)",
    "F": "F (boundary F-measure)",
    "JF": "J&F (mean of J and F)",
}
# Above this many frames, lines drop their markers (they would hide the line).
MARKER_FRAME_LIMIT = 60
# Clips spanning up to this many frames get one x tick per frame.
FRAME_TICK_LIMIT = 12
# Above this many values per box, box plots show outliers only instead of every point.
BOX_POINT_LIMIT = 100


def _template() -> go.layout.Template:
    template = go.layout.Template(pio.templates["plotly_white"])
    template.layout.font = {"family": FONT_FAMILY, "size": 13, "color": "#1f2933"}
    template.layout.title = {"font": {"size": 17}, "x": 0.01, "xanchor": "left"}
    template.layout.colorway = MODEL_PALETTE
    template.layout.hoverlabel = {"font": {"family": FONT_FAMILY}}
    return template


TEMPLATE = _template()


# ---------------------------------------------------------------------------------------------------------------
# Shared helpers


def model_colors(names: Iterable[str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A fixed colour per model: the `base` colours kept, new names get the next unused palette colour in order."""
    colors = dict(base or {})
    for name in names:
        if name not in colors:
            used = set(colors.values())
            free = [c for c in MODEL_PALETTE if c not in used]
            colors[name] = free[0] if free else MODEL_PALETTE[len(colors) % len(MODEL_PALETTE)]
    return colors


def object_label(object_id: int, sequence: str | None = None) -> str:
    """How charts and tables name an object: "object 3", or "seq / object 3" when several sequences are shown."""
    return f"{sequence} / object {object_id}" if sequence else f"object {object_id}"


def no_data_figure(title: str, message: str = NO_DATA, height: int = 260) -> go.Figure:
    """A figure that says there is nothing to plot (used for every empty input)."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 16, "color": "#6b7280"}
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, title, height)


def _style(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title},
        height=height,
        margin={"l": 70, "r": 30, "t": 80, "b": 60},
        legend={"tracegroupgap": 4},
    )
    return fig


def _mode(frame_count: int) -> str:
    return "lines+markers" if frame_count <= MARKER_FRAME_LIMIT else "lines"


def _frame_axis(fig: go.Figure, frames: Iterable[int], **where: int) -> None:
    """Label the x axis "frame"; short clips get a tick per frame (plotly would otherwise show frame 0.5)."""
    frames = [int(f) for f in frames]
    span = (max(frames) - min(frames)) if frames else 0
    fig.update_xaxes(title_text="frame", **where)
    if span <= FRAME_TICK_LIMIT:
        fig.update_xaxes(dtick=1, tick0=0)


def _line_width(lines: int) -> float:
    """Thinner lines when many share a panel, so crossings stay readable."""
    return 2.0 if lines <= 6 else 1.2


def _values(array: np.ndarray) -> np.ndarray:
    return np.asarray(array, dtype=np.float64)


def _finite(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and not math.isnan(float(v))]


def _flatten_accuracy(results: Sequence[AccuracyResult | DatasetAccuracy]) -> list[AccuracyResult]:
    flat: list[AccuracyResult] = []
    for result in results:
        flat.extend(result.sequences if isinstance(result, DatasetAccuracy) else (result,))
    return flat


def _several_sequences(results: Sequence[AccuracyResult]) -> bool:
    return len({r.sequence for r in results}) > 1


def _sequence_suffix(results: Sequence[AccuracyResult]) -> str:
    sequences = sorted({r.sequence for r in results if r.sequence})
    return f", sequence {sequences[0]}" if len(sequences) == 1 else ""


# ---------------------------------------------------------------------------------------------------------------
# Accuracy


def jf_per_frame(results: Sequence[AccuracyResult], *, colors: Mapping[str, str] | None = None) -> go.Figure:
    """J (top row) and F (bottom row) per annotated frame: one line per model and object, colour = model."""
    results = _flatten_accuracy(results)
    title = "J and F per frame (0..1, higher is better)" + _sequence_suffix(results)
    if not any(r.frames and r.object_ids for r in results):
        return no_data_figure(title)
    colors = model_colors((r.name for r in results), colors)
    label_sequence = _several_sequences(results)
    width = _line_width(sum(len(r.object_ids) for r in results))
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
                fig.add_trace(
                    go.Scatter(
                        x=list(result.frames),
                        y=_values(values),
                        mode=_mode(len(result.frames)),
                        name=f"{result.name} · {label}",
                        legendgroup=f"{result.name} · {label}",
                        showlegend=row == 1,
                        line={"color": colors[result.name], "dash": DASHES[k % len(DASHES)], "width": width},
                        marker={"size": 5},
                        hovertemplate=f"{result.name}, {label}<br>frame %{{x}}<br>%{{y:.3f}}<extra></extra>",
                    ),
                    row=row,
                    col=1,
                )
    fig.update_yaxes(range=[-0.02, 1.05], row=1, col=1, title_text="J")
    fig.update_yaxes(range=[-0.02, 1.05], row=2, col=1, title_text="F")
    _frame_axis(fig, (f for r in results for f in r.frames), row=2, col=1)
    return _style(fig, title, 560)


def per_object_box(
    results: Sequence[AccuracyResult], metric: str = "J", *, colors: Mapping[str, str] | None = None
) -> go.Figure:
    """Spread over frames of J, F or J&F per object, one box per model beside each other."""
    if metric not in METRIC_TITLES:
        raise ValueError(f"per_object_box metric must be one of {sorted(METRIC_TITLES)}, not {metric!r}.")
    results = _flatten_accuracy(results)
    title = f"{METRIC_TITLES[metric]} per object over frames (0..1, higher is better)" + _sequence_suffix(results)
    colors = model_colors((r.name for r in results), colors)
    label_sequence = _several_sequences(results)
    per_model: dict[str, tuple[list[str], list[float]]] = {}
    for result in results:
        labels, values = per_model.setdefault(result.name, ([], []))
        table = {"J": result.J, "F": result.F, "JF": (_values(result.J) + _values(result.F)) / 2.0}[metric]
        for k, obj in enumerate(result.object_ids):
            column = _values(table[:, k])
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
    return _style(fig, title, 440)


# ---------------------------------------------------------------------------------------------------------------
# Model comparison


def accuracy_by_model(
    results: Sequence[AccuracyResult | DatasetAccuracy],
) -> dict[str, AccuracyResult | DatasetAccuracy]:
    """One result per model name, as charted and tabled: several sequences of one model are pooled as a
    DatasetAccuracy (statistics per object, then the mean over all objects)."""
    grouped: dict[str, list[AccuracyResult | DatasetAccuracy]] = {}
    for result in results:
        grouped.setdefault(result.name, []).append(result)
    merged: dict[str, AccuracyResult | DatasetAccuracy] = {}
    for name, items in grouped.items():
        merged[name] = items[0] if len(items) == 1 else DatasetAccuracy(name, tuple(_flatten_accuracy(items)))
    return merged


def temporal_by_model(results: Sequence[TemporalResult]) -> dict[str, dict[str, float | None]]:
    """Per model name, the mean of each flicker metric over all its objects (sequences pooled); toggles are summed."""
    grouped: dict[str, list] = {}
    for result in results:
        grouped.setdefault(result.name, []).extend(result.objects)
    summary: dict[str, dict[str, float | None]] = {}
    for name, objects in grouped.items():

        def mean(attribute: str) -> float | None:
            values = _finite(getattr(o, attribute) for o in objects)
            return float(np.mean(values)) if values else None

        summary[name] = {
            "consecutive_iou": mean("consecutive_iou"),
            "flow_consistency": mean("flow_consistency"),
            "area_volatility": mean("area_volatility"),
            "centroid_jitter_px": mean("centroid_jitter_px"),
            "boundary_flip_rate": mean("boundary_flip_rate"),
            "presence_toggles": float(sum(o.presence_toggles for o in objects)) if objects else None,
        }
    return summary


# Flicker metrics on their own scales: (key, subplot title).
LOWER_IS_BETTER_PANELS = (
    ("area_volatility", "area volatility<br>(lower is better)"),
    ("centroid_jitter_px", "centroid jitter, px<br>(lower is better)"),
    ("boundary_flip_rate", "boundary flip rate<br>(lower is better)"),
    ("presence_toggles", "presence toggles, count<br>(lower is better)"),
)


def _nan_to_none(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


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

    categories = ["J", "F", "J&F"] if by_accuracy else []
    if by_temporal:
        categories.append("consecutive IoU")
        if any(t["flow_consistency"] is not None for t in by_temporal.values()):
            categories.append("flow consistency")

    def top_row_value(name: str, category: str) -> float | None:
        acc, flick = by_accuracy.get(name), by_temporal.get(name)
        if category in ("J", "F", "J&F"):
            if acc is None:
                return None
            return _nan_to_none({"J": acc.J_mean, "F": acc.F_mean, "J&F": acc.JF_mean}[category])
        if flick is None:
            return None
        return flick["consecutive_iou" if category == "consecutive IoU" else "flow_consistency"]

    shown = [name for name, present in (("J, F, J&F", by_accuracy), ("steadiness", by_temporal)) if present]
    top_title = " and ".join(shown) + " (0..1, higher is better)"
    if by_temporal:
        fig = make_subplots(
            rows=2,
            cols=4,
            specs=[[{"colspan": 4}, None, None, None], [{}, {}, {}, {}]],
            subplot_titles=(top_title, *(t for _, t in LOWER_IS_BETTER_PANELS)),
            vertical_spacing=0.2,
            horizontal_spacing=0.08,
            row_heights=[0.58, 0.42],
        )
    else:
        fig = make_subplots(rows=1, cols=1, subplot_titles=(top_title,))
    for name in names:
        y = [top_row_value(name, c) for c in categories]
        fig.add_trace(
            go.Bar(
                x=categories,
                y=y,
                name=name,
                legendgroup=name,
                marker_color=colors[name],
                text=[f"{v:.3f}" if v is not None else "" for v in y],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"{name}<br>%{{x}}: %{{y:.3f}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        for col, (key, panel_title) in enumerate(LOWER_IS_BETTER_PANELS if by_temporal else (), start=1):
            value = by_temporal.get(name, {}).get(key)
            label = panel_title.split("<br>")[0]
            fig.add_trace(
                go.Bar(
                    x=[label],
                    y=[value],
                    name=name,
                    legendgroup=name,
                    showlegend=False,
                    marker_color=colors[name],
                    text=[f"{value:.3g}" if value is not None else ""],
                    textposition="outside",
                    cliponaxis=False,
                    hovertemplate=f"{name}<br>{label}: %{{y:.4g}}<extra></extra>",
                ),
                row=2,
                col=col,
            )
    fig.update_layout(barmode="group", legend_title_text="model", bargap=0.25)
    fig.update_yaxes(range=[0, 1.12], row=1, col=1)
    if by_temporal:
        fig.update_xaxes(showticklabels=False, row=2)
        fig.update_yaxes(rangemode="tozero", row=2)
    return _style(fig, title, 640 if by_temporal else 440)


# ---------------------------------------------------------------------------------------------------------------
# Temporal stability


def temporal_timeline(results: Sequence[TemporalResult], *, colors: Mapping[str, str] | None = None) -> go.Figure:
    """Per frame and object: IoU with the previous frame, flow consistency (when frames were given) and mask area."""
    title = "Temporal stability per frame (steadier masks score higher IoU and flow consistency)"
    results = [r for r in results if r.frames and r.object_ids]
    if not results:
        return no_data_figure(title)
    colors = model_colors((r.name for r in results), colors)
    width = _line_width(sum(len(r.object_ids) for r in results))
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
                fig.add_trace(
                    go.Scatter(
                        x=list(result.frames),
                        y=_values(table[:, k]),
                        mode=_mode(len(result.frames)),
                        name=f"{result.name} · {label}",
                        legendgroup=f"{result.name} · {label}",
                        showlegend=row == 1,
                        line={"color": colors[result.name], "dash": DASHES[k % len(DASHES)], "width": width},
                        marker={"size": 5},
                        hovertemplate=f"{result.name}, {label}<br>frame %{{x}}<br>%{{y:.3f}}<extra></extra>",
                    ),
                    row=row,
                    col=1,
                )
    for row, (attribute, _, axis_title) in enumerate(rows, start=1):
        if attribute == "area":
            fig.update_yaxes(title_text=axis_title, rangemode="tozero", row=row, col=1)
        else:
            fig.update_yaxes(title_text=axis_title, range=[-0.02, 1.05], row=row, col=1)
    _frame_axis(fig, (f for r in results for f in r.frames), row=len(rows), col=1)
    return _style(fig, title, 260 * len(rows) + 80)


# ---------------------------------------------------------------------------------------------------------------
# Latency and memory


def _horizontal_line(
    fig: go.Figure, x: np.ndarray, value: float, name: str, color: str, dash: str, group: str
) -> None:
    if x.size == 0 or math.isnan(value):
        return
    fig.add_trace(
        go.Scatter(
            x=[float(x.min()), float(x.max())],
            y=[value, value],
            mode="lines",
            name=name,
            legendgroup=group,
            line={"color": color, "dash": dash, "width": 1.5},
            hovertemplate=f"{name}<extra></extra>",
        )
    )


def _mark_frames(
    fig: go.Figure, model: str, frames: np.ndarray, latency: np.ndarray, what: str, marker: dict[str, Any]
) -> None:
    """Markers on some frames of a latency line (warm-up, prompt frames), grouped with the model's legend entry."""
    if frames.size == 0:
        return
    fig.add_trace(
        go.Scatter(
            x=frames,
            y=latency,
            mode="markers",
            name=f"{model} · {what}",
            legendgroup=model,
            marker=marker,
            hovertemplate=f"{model} {what}<br>frame %{{x}}<br>%{{y:.1f}} ms<extra></extra>",
        )
    )


def latency_timeline(profiles: Sequence[ProfileResult], *, colors: Mapping[str, str] | None = None) -> go.Figure:
    """Latency per frame per model, prompt frames starred, warm-up frames grey, p50 and p95 of tracking frames as
    lines."""
    title = "Latency per frame (ms, lower is better)"
    profiles = [p for p in profiles if len(p.frames)]
    if not profiles:
        return no_data_figure(title)
    colors = model_colors((p.name for p in profiles), colors)
    fig = go.Figure()
    for profile in profiles:
        color = colors[profile.name]
        frames = np.asarray(profile.frames)
        latency = _values(profile.latency_ms)
        warmup = np.asarray(profile.is_warmup, dtype=bool)
        prompt = np.asarray(profile.is_prompt, dtype=bool)
        fig.add_trace(
            go.Scatter(
                x=frames,
                y=latency,
                mode=_mode(len(frames)),
                name=profile.name,
                legendgroup=profile.name,
                line={"color": color, "width": 2},
                marker={"size": 5},
                hovertemplate=f"{profile.name}<br>frame %{{x}}<br>%{{y:.1f}} ms<extra></extra>",
            )
        )
        _mark_frames(fig, profile.name, frames[warmup], latency[warmup], "warm-up (not counted)",
                     {"color": WARMUP_GREY, "size": 9, "symbol": "circle-open", "line": {"width": 2}})
        _mark_frames(fig, profile.name, frames[prompt], latency[prompt], "prompt frame",
                     {"color": color, "size": 13, "symbol": "star", "line": {"color": "#1f2933", "width": 1}})
        summary = profile.summary()
        _horizontal_line(fig, frames, summary.p50_ms, f"{profile.name} · p50 {summary.p50_ms:.1f} ms", color, "dash",
                         profile.name)
        _horizontal_line(fig, frames, summary.p95_ms, f"{profile.name} · p95 {summary.p95_ms:.1f} ms", color, "dot",
                         profile.name)
    _frame_axis(fig, (f for p in profiles for f in p.frames))
    fig.update_yaxes(title_text="latency (ms)", rangemode="tozero")
    return _style(fig, title, 440)


def latency_histogram(profiles: Sequence[ProfileResult], *, colors: Mapping[str, str] | None = None) -> go.Figure:
    """Distribution of tracking-frame latency (warm-up and prompt frames excluded), models overlaid."""
    title = "Latency of tracking frames (ms, lower is better; warm-up and prompt frames excluded)"
    tracking = {}
    for profile in profiles:
        counted = ~np.asarray(profile.is_warmup, dtype=bool) & ~np.asarray(profile.is_prompt, dtype=bool)
        values = _values(profile.latency_ms)[counted]
        values = values[~np.isnan(values)]
        if values.size:
            tracking.setdefault(profile.name, []).extend(values.tolist())
    if not tracking:
        return no_data_figure(title)
    colors = model_colors(tracking, colors)
    fig = go.Figure()
    for name, values in tracking.items():
        fig.add_trace(
            go.Histogram(
                x=values,
                name=name,
                bingroup="latency",  # one set of bins for all models, so bars line up
                marker={"color": colors[name], "line": {"color": colors[name], "width": 1.5}},
                opacity=0.55,
                hovertemplate=f"{name}<br>%{{x}} ms<br>%{{y}} frames<extra></extra>",
            )
        )
    fig.update_layout(barmode="overlay", legend_title_text="model")
    fig.update_xaxes(title_text="latency per frame (ms)")
    fig.update_yaxes(title_text="frames")
    return _style(fig, title, 400)


def memory_axis_title(kinds: Iterable[str]) -> str:
    """Y axis title for memory: what was measured (GPU allocated or CPU process RSS), in MiB."""
    kinds = sorted(set(kinds))
    if len(kinds) == 1:
        return MEMORY_AXIS_TITLES.get(kinds[0], f"memory (MiB), {kinds[0]}")
    return "memory (MiB)"  # mixed kinds: the legend names what each line measured


def memory_timeline(profiles: Sequence[ProfileResult], *, colors: Mapping[str, str] | None = None) -> go.Figure:
    """Memory per frame per model with its peak as a dashed line."""
    title = "Memory per frame (MiB, lower is better)"
    profiles = [p for p in profiles if len(p.frames)]
    if not profiles:
        return no_data_figure(title)
    colors = model_colors((p.name for p in profiles), colors)
    mixed = len({p.memory_kind for p in profiles}) > 1
    fig = go.Figure()
    for profile in profiles:
        color = colors[profile.name]
        frames = np.asarray(profile.frames)
        kind = f" ({MEMORY_KINDS.get(profile.memory_kind, profile.memory_kind)})" if mixed else ""
        fig.add_trace(
            go.Scatter(
                x=frames,
                y=_values(profile.memory_mb),
                mode=_mode(len(frames)),
                name=f"{profile.name}{kind}",
                legendgroup=profile.name,
                line={"color": color, "width": 2},
                marker={"size": 5},
                hovertemplate=f"{profile.name}<br>frame %{{x}}<br>%{{y:.1f}} MiB<extra></extra>",
            )
        )
        peak = float(profile.peak_memory_mb)
        _horizontal_line(fig, frames, peak, f"{profile.name} · peak {peak:.1f} MiB", color, "dash", profile.name)
    _frame_axis(fig, (f for p in profiles for f in p.frames))
    fig.update_yaxes(title_text=memory_axis_title(p.memory_kind for p in profiles), rangemode="tozero")
    return _style(fig, title, 400)


# ---------------------------------------------------------------------------------------------------------------
# Agreement between two models


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
            y=_values(agreement.differing_share) * 100.0,
            mode=_mode(len(frames)),
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
                y=_values(agreement.iou[:, k]),
                mode=_mode(len(frames)),
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
    _frame_axis(fig, frames, row=2, col=1)
    return _style(fig, title, 560)
