"""The shared look of every chart: palettes, the plotly template, a fixed colour per model, object labels, the
"no data" figure and the helpers that style axes and lines the same way in every figure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

# Tableau 10 without its grey (grey marks warm-up frames): colour-blind friendly and distinct on white.
MODEL_PALETTE = ("#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#B07AA1", "#76B7B2", "#EDC948", "#FF9DA7", "#9C755F")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
NO_DATA = "no data"
# Above this many frames, lines drop their markers (they would hide the line).
MARKER_FRAME_LIMIT = 60
# Clips spanning up to this many frames get one x tick per frame.
FRAME_TICK_LIMIT = 12


def _template() -> go.layout.Template:
    template = go.layout.Template(pio.templates["plotly_white"])
    template.layout.font = {"family": FONT_FAMILY, "size": 13, "color": "#1f2933"}
    template.layout.title = {"font": {"size": 17}, "x": 0.01, "xanchor": "left"}
    template.layout.colorway = MODEL_PALETTE
    template.layout.hoverlabel = {"font": {"family": FONT_FAMILY}}
    return template


TEMPLATE = _template()


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
    return style(fig, title, height)


def style(fig: go.Figure, title: str, height: int) -> go.Figure:
    """The shared template, title, height, margins and legend spacing."""
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title},
        height=height,
        margin={"l": 70, "r": 30, "t": 80, "b": 60},
        legend={"tracegroupgap": 4},
    )
    return fig


def line_mode(frame_count: int) -> str:
    """Lines with markers on short clips, plain lines on long ones."""
    return "lines+markers" if frame_count <= MARKER_FRAME_LIMIT else "lines"


def frame_axis(fig: go.Figure, frames: Iterable[int], **where: int) -> None:
    """Label the x axis "frame"; short clips get a tick per frame (plotly would otherwise show frame 0.5)."""
    frames = [int(f) for f in frames]
    span = (max(frames) - min(frames)) if frames else 0
    fig.update_xaxes(title_text="frame", **where)
    if span <= FRAME_TICK_LIMIT:
        fig.update_xaxes(dtick=1, tick0=0)


def line_width(lines: int) -> float:
    """Thinner lines when many share a panel, so crossings stay readable."""
    return 2.0 if lines <= 6 else 1.2


def floats(array: np.ndarray) -> np.ndarray:
    """Values as a float64 array, as the figures plot them."""
    return np.asarray(array, dtype=np.float64)


def object_line(name: str, label: str, k: int, frames: Sequence[int], values: np.ndarray, **look: Any) -> go.Scatter:
    """One object's line over frames: model colour, a dash per object, one legend entry per model and object
    (`look`: color, width, showlegend)."""
    return go.Scatter(
        x=list(frames),
        y=floats(values),
        mode=line_mode(len(frames)),
        name=f"{name} · {label}",
        legendgroup=f"{name} · {label}",
        showlegend=look["showlegend"],
        line={"color": look["color"], "dash": DASHES[k % len(DASHES)], "width": look["width"]},
        marker={"size": 5},
        hovertemplate=f"{name}, {label}<br>frame %{{x}}<br>%{{y:.3f}}<extra></extra>",
    )
