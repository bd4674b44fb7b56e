"""The app's chart fitting (issue 17, item 4): titles wrapped to the narrowest chart, the top margin made for them,
legends below the plot, headroom over bars for their value labels, short agreement titles with the model names in
the legend. The browser check of the same is tests/e2e/test_app_chart_titles.py."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

from evaluation.charts.agreement import agreement_timeline
from evaluation.charts.comparison import model_comparison_bars
from evaluation.charts.style import NO_DATA
from playerseg.ui.charts import (
    CHAR_WIDTH,
    CHART_WIDTH_PX,
    LABEL_PX,
    SUBPLOT_TITLE_SIZE,
    TITLE_SIZE,
    agreement_chart,
    fit,
    wrap_title,
)
from tests.evaluation.test_charts import agreement_result, stability, temporal

LONG_A = "A: test-sam2.1-tiny-128 (random weights)"
LONG_B = "B: test-sam2.1-tiny-256 (random weights)"


def _lines(text: str) -> list[str]:
    return str(text).split("<br>")


def _fits(text: str, width_px: float, font_size: float) -> bool:
    return all(len(line) * font_size * CHAR_WIDTH <= width_px for line in _lines(text))


def test_wrap_title_breaks_between_words_to_fit_the_width() -> None:
    text, lines = wrap_title(
        "Latency of tracking frames (ms, lower is better; warm-up and prompt frames excluded)", 300, 17
    )
    assert lines == len(_lines(text)) > 1
    assert _fits(text, 300, 17)
    assert (
        text.replace("<br>", " ")
        == "Latency of tracking frames (ms, lower is better; warm-up and prompt frames excluded)"
    )
    assert wrap_title("short", 300, 17) == ("short", 1)
    assert wrap_title("kept<br>break", 300, 17) == ("kept<br>break", 2)


def test_agreement_chart_titles_are_short_and_the_models_are_named_in_the_legend() -> None:
    result = dataclasses.replace(agreement_result(), name_a=LONG_A, name_b=LONG_B)
    fig = agreement_chart(result)
    plot_px = CHART_WIDTH_PX - fig.layout.margin.l - fig.layout.margin.r
    title = str(fig.layout.title.text)
    assert "Disagreement per frame" in title and LONG_A not in title
    assert _fits(title, plot_px, TITLE_SIZE)
    for annotation in fig.layout.annotations:
        assert LONG_A not in annotation.text and _fits(annotation.text, plot_px + 30, SUBPLOT_TITLE_SIZE)
    assert fig.layout.legend.title.text == f"{LONG_A}<br>{LONG_B}"
    assert fig.layout.legend.orientation == "h"
    # the original figure (the report's) keeps its titles
    assert LONG_A in str(agreement_timeline(result).layout.title.text)


def test_titles_start_at_the_plot_left_below_the_plot_label_with_room_for_every_line() -> None:
    fig = fit(agreement_timeline(dataclasses.replace(agreement_result(), name_a=LONG_A, name_b=LONG_B)))
    title_lines = len(_lines(fig.layout.title.text))
    top_lines = len(_lines(fig.layout.annotations[0].text))
    assert title_lines > 1  # the long original title wraps
    assert (fig.layout.title.x, fig.layout.title.xanchor, fig.layout.title.xref) == (0, "left", "paper")
    assert fig.layout.margin.t >= LABEL_PX + title_lines * TITLE_SIZE + top_lines * SUBPLOT_TITLE_SIZE


def test_bar_value_labels_get_headroom_above_the_tallest_bar() -> None:
    objects_a = (stability(1, 0.9, 0.8, 0.2, 25.0, 3, 0.3),)
    objects_b = (stability(1, 0.7, 0.6, 0.1, 15.0, 1, 0.2),)
    fig = fit(model_comparison_bars(temporal=[temporal(LONG_A, objects_a), temporal(LONG_B, objects_b)]))
    checked = 0
    for trace in fig.data:
        if trace.type == "bar" and trace.text is not None:
            axis = fig.layout["yaxis" + str(trace.yaxis or "y")[1:]]
            tallest = max(v for v in trace.y if v is not None)
            assert axis.range[1] >= 1.15 * tallest, (trace.yaxis, axis.range, tallest)
            assert trace.cliponaxis is False
            checked += 1
    assert checked == 2 * 5  # each model: the top panel and four flicker panels
    # the four small panels' titles wrap to their panel's width
    for annotation in fig.layout.annotations[1:]:
        assert _fits(annotation.text, 0.25 * CHART_WIDTH_PX, SUBPLOT_TITLE_SIZE)


def test_no_data_and_none_pass_through() -> None:
    assert fit(None) is None
    fig = agreement_chart(None)
    assert isinstance(fig, go.Figure) and fig.layout.annotations[0].text == NO_DATA
