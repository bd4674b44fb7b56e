"""The app's charts: evaluation's plotly figures fitted to a gr.Plot as narrow as a 1000 px window gives (about 700
px). Titles are wrapped to that width and anchored at the left of the plot, the top margin grows with them, legends
go below the plot (full model names there instead of in titles), and bar value labels get headroom so they never
reach a title. evaluation's report keeps its own layout: only the app's copies are changed."""

from __future__ import annotations

import math
import textwrap
from typing import Any

import plotly.graph_objects as go

from evaluation.charts.agreement import agreement_timeline
from evaluation.results.agreement import AgreementResult

# The narrowest chart the app shows: a gr.Plot in a 1000 px window is about 700 px wide.
CHART_WIDTH_PX = 680
# Average width of a character as a share of the font size (system sans-serif), rounded up to stay on the safe side.
CHAR_WIDTH = 0.56
TITLE_SIZE = 17
SUBPLOT_TITLE_SIZE = 13
LEGEND_SIZE = 12
VALUE_LABEL_SIZE = 11
LINE_HEIGHT = 1.3
MARGIN = {"l": 70, "r": 30}
# gr.Plot's label sits over the top left corner of the chart: titles start below it.
LABEL_PX = 40
# Above the tallest bar: room for its value label, as a share of the bar's height.
BAR_HEADROOM = 1.2


def wrap_title(text: str, width_px: float, font_size: float) -> tuple[str, int]:
    """`text` wrapped with <br> so each line fits `width_px` at `font_size` (existing <br> kept); the line count."""
    chars = max(int(width_px / (font_size * CHAR_WIDTH)), 8)
    lines = [line for part in text.split("<br>") for line in (textwrap.wrap(part, chars) or [""])]
    return "<br>".join(lines), len(lines)


def _line_px(lines: int, font_size: float) -> float:
    return lines * font_size * LINE_HEIGHT


def _subplot_titles(fig: go.Figure) -> list[Any]:
    """make_subplots' titles: annotations placed in paper coordinates above a subplot (the "no data" note aside)."""
    return [a for a in fig.layout.annotations if a.yanchor == "bottom" and a.yref == "paper" and a.xref == "paper"]


def _domain_width(fig: go.Figure, annotation: Any, plot_px: float) -> float:
    """The width of the subplot an annotation titles, plus the gap to its neighbours: the room its title has."""
    for axis in fig.layout:
        if axis.startswith("xaxis") and fig.layout[axis].domain is not None:
            low, high = fig.layout[axis].domain
            if low <= annotation.x <= high and math.isclose(annotation.x, (low + high) / 2, abs_tol=1e-6):
                return (high - low) * plot_px + 30
    return plot_px


def _legend_rows(fig: go.Figure, plot_px: float) -> int:
    """Rows a horizontal legend of the figure's entries takes at `plot_px`."""
    widths = [
        len(str(t.name or "")) * LEGEND_SIZE * CHAR_WIDTH + 45 for t in fig.data if t.showlegend is not False and t.name
    ]
    if not widths:
        return 0
    rows, used = 1, 0.0
    for width in widths:
        if used and used + width > plot_px:
            rows, used = rows + 1, 0.0
        used += width
    title = fig.layout.legend.title.text
    return rows + (str(title).count("<br>") + 1 if title else 0)


def _bar_headroom(fig: go.Figure) -> None:
    """Value labels sit above their bars: raise each bar axis's top so the tallest label stays inside the panel."""
    tallest: dict[str, float] = {}
    for trace in fig.data:
        if trace.type != "bar" or trace.text is None or trace.y is None:
            continue
        axis = "yaxis" + str(trace.yaxis or "y")[1:]
        values = [float(v) for v in trace.y if v is not None and not math.isnan(float(v))]
        tallest[axis] = max([tallest.get(axis, 0.0), *values])
        trace.update(textfont={"size": VALUE_LABEL_SIZE}, constraintext="none", cliponaxis=False)
    for axis, top in tallest.items():
        current = fig.layout[axis].range
        upper = max(top * BAR_HEADROOM, current[1] if current else 0.0) or 1.0
        fig.layout[axis].update(range=[0, upper], autorange=False)


def fit(fig: go.Figure | None, width_px: float = CHART_WIDTH_PX) -> go.Figure | None:
    """The figure laid out for the app at `width_px` and wider (None passes through)."""
    return None if fig is None else fit_figure(fig, width_px)


def fit_figure(fig: go.Figure, width_px: float = CHART_WIDTH_PX) -> go.Figure:
    """`fit` of a figure: changed in place and returned."""
    plot_px = width_px - MARGIN["l"] - MARGIN["r"]
    title, title_lines = wrap_title(str(fig.layout.title.text or ""), plot_px, TITLE_SIZE)
    top_lines = 0
    for annotation in _subplot_titles(fig):
        room = _domain_width(fig, annotation, plot_px)
        text, lines = wrap_title(str(annotation.text), room, SUBPLOT_TITLE_SIZE)
        annotation.update(text=text, font={"size": SUBPLOT_TITLE_SIZE})
        if annotation.y >= 0.999:  # above the top row: the top margin holds it
            top_lines = max(top_lines, lines)
    _bar_headroom(fig)
    legend_rows = _legend_rows(fig, plot_px)
    fig.update_layout(
        title={
            "text": title,
            "x": 0,
            "xref": "paper",
            "xanchor": "left",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            # plotly raises a title of several lines by all but its first line: lowered back below the label
            "pad": {"t": round(LABEL_PX + _line_px(title_lines - 1, TITLE_SIZE))},
            "automargin": False,
            "font": {"size": TITLE_SIZE},
        },
        margin={
            **MARGIN,
            "t": round(LABEL_PX + _line_px(title_lines, TITLE_SIZE) + _line_px(top_lines, SUBPLOT_TITLE_SIZE) + 12),
            "b": round(60 + _line_px(legend_rows, LEGEND_SIZE)),
        },
        legend={
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 0,
            "yref": "container",
            "yanchor": "bottom",
            "font": {"size": LEGEND_SIZE},
            "title": {"side": "top"},
        },
        height=(fig.layout.height or 450) + round(_line_px(legend_rows, LEGEND_SIZE)),
    )
    return fig


def agreement_chart(agreement: AgreementResult | None) -> go.Figure:
    """The agreement timeline with short titles: the two models' full names are in the legend's title."""
    fig = agreement_timeline(agreement)
    titles = _subplot_titles(fig)
    if agreement is None or len(titles) != 2:
        return fit_figure(fig)
    fig.update_layout(
        title_text="Disagreement per frame (not accuracy: no ground truth)",
        legend_title_text=f"{agreement.name_a}<br>{agreement.name_b}",
    )
    titles[0].text = "pixels labelled differently by A and B (% of scored pixels, lower = more agreement)"
    titles[1].text = "IoU between A's and B's mask of each object (0..1, higher = more agreement)"
    return fit_figure(fig)
