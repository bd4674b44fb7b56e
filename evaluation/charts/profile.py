"""Latency and memory charts of profiled runs: latency per frame (prompt and warm-up frames marked, p50 and p95
lines), the latency distribution of tracking frames, and memory per frame with its peak."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from evaluation.charts.style import floats, frame_axis, line_mode, model_colors, no_data_figure, style
from evaluation.results.profile import ProfileResult

# Grey marks warm-up frames (the model palette leaves grey out).
WARMUP_GREY = "#9A9A9A"
MEMORY_AXIS_TITLES = {
    "cuda_allocated": "GPU memory allocated (MiB)",
    "process_rss": "process RSS (MiB), CPU",
}
# Short names of what was measured, for legends and tables.
MEMORY_KINDS = {"cuda_allocated": "GPU allocated", "process_rss": "CPU process RSS"}


def _horizontal_line(fig: go.Figure, x: np.ndarray, value: float, name: str, color: str, dash: str, group: str) -> None:
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
        latency = floats(profile.latency_ms)
        warmup = np.asarray(profile.is_warmup, dtype=bool)
        prompt = np.asarray(profile.is_prompt, dtype=bool)
        fig.add_trace(
            go.Scatter(
                x=frames,
                y=latency,
                mode=line_mode(len(frames)),
                name=profile.name,
                legendgroup=profile.name,
                line={"color": color, "width": 2},
                marker={"size": 5},
                hovertemplate=f"{profile.name}<br>frame %{{x}}<br>%{{y:.1f}} ms<extra></extra>",
            )
        )
        _mark_frames(
            fig,
            profile.name,
            frames[warmup],
            latency[warmup],
            "warm-up (not counted)",
            {"color": WARMUP_GREY, "size": 9, "symbol": "circle-open", "line": {"width": 2}},
        )
        _mark_frames(
            fig,
            profile.name,
            frames[prompt],
            latency[prompt],
            "prompt frame",
            {"color": color, "size": 13, "symbol": "star", "line": {"color": "#1f2933", "width": 1}},
        )
        summary = profile.summary()
        _horizontal_line(
            fig, frames, summary.p50_ms, f"{profile.name} · p50 {summary.p50_ms:.1f} ms", color, "dash", profile.name
        )
        _horizontal_line(
            fig, frames, summary.p95_ms, f"{profile.name} · p95 {summary.p95_ms:.1f} ms", color, "dot", profile.name
        )
    frame_axis(fig, (f for p in profiles for f in p.frames))
    fig.update_yaxes(title_text="latency (ms)", rangemode="tozero")
    return style(fig, title, 440)


def latency_histogram(profiles: Sequence[ProfileResult], *, colors: Mapping[str, str] | None = None) -> go.Figure:
    """Distribution of tracking-frame latency (warm-up and prompt frames excluded), models overlaid."""
    title = "Latency of tracking frames (ms, lower is better; warm-up and prompt frames excluded)"
    tracking = {}
    for profile in profiles:
        counted = ~np.asarray(profile.is_warmup, dtype=bool) & ~np.asarray(profile.is_prompt, dtype=bool)
        values = floats(profile.latency_ms)[counted]
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
    return style(fig, title, 400)


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
                y=floats(profile.memory_mb),
                mode=line_mode(len(frames)),
                name=f"{profile.name}{kind}",
                legendgroup=profile.name,
                line={"color": color, "width": 2},
                marker={"size": 5},
                hovertemplate=f"{profile.name}<br>frame %{{x}}<br>%{{y:.1f}} MiB<extra></extra>",
            )
        )
        peak = float(profile.peak_memory_mb)
        _horizontal_line(fig, frames, peak, f"{profile.name} · peak {peak:.1f} MiB", color, "dash", profile.name)
    frame_axis(fig, (f for p in profiles for f in p.frames))
    fig.update_yaxes(title_text=memory_axis_title(p.memory_kind for p in profiles), rangemode="tozero")
    return style(fig, title, 400)
