"""Charts: each figure carries the dataclasses' numbers, one colour per model, and copes with NaN, None and empty
inputs. Results are built by hand with numpy (no metric code involved)."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from evaluation.charts.accuracy import jf_per_frame, per_object_box
from evaluation.charts.agreement import agreement_timeline
from evaluation.charts.comparison import model_comparison_bars
from evaluation.charts.profile import latency_histogram, latency_timeline, memory_timeline
from evaluation.charts.style import MODEL_PALETTE, NO_DATA, model_colors
from evaluation.charts.temporal import temporal_timeline
from evaluation.results.accuracy import AccuracyResult, DatasetAccuracy
from evaluation.results.agreement import AgreementResult
from evaluation.results.profile import ProfileResult
from evaluation.results.temporal import ObjectStability, TemporalResult

# ---------------------------------------------------------------------------------------------------------------
# Hand-made results


def accuracy(
    name: str,
    J: list[list[float]],
    F: list[list[float]] | None = None,
    sequence: str = "seq",
    object_ids: tuple[int, ...] | None = None,
    first_frame: int = 0,
) -> AccuracyResult:
    j = np.asarray(J, dtype=np.float64)
    f = np.asarray(F, dtype=np.float64) if F is not None else j.copy()
    return AccuracyResult(
        name=name,
        sequence=sequence,
        frames=tuple(range(first_frame, first_frame + j.shape[0])),
        object_ids=object_ids or tuple(range(1, j.shape[1] + 1)),
        J=j,
        F=f,
    )


def stability(
    object_id: int, iou: float, flow: float | None, volatility: float, jitter: float, toggles: int, flips: float
) -> ObjectStability:
    return ObjectStability(object_id, 5, iou, flow, volatility, jitter, toggles, flips)


def temporal(name: str, objects: tuple[ObjectStability, ...], frames: int = 5, flow: bool = True) -> TemporalResult:
    k = len(objects)
    iou = np.linspace(0.5, 1.0, frames * k).reshape(frames, k)
    iou[0] = np.nan  # row 0 has no previous frame
    return TemporalResult(
        name=name,
        frames=tuple(range(frames)),
        object_ids=tuple(o.object_id for o in objects),
        objects=objects,
        area=np.arange(frames * k, dtype=np.float64).reshape(frames, k) * 100.0,
        centroid=np.zeros((frames, k, 2)),
        consecutive_iou=iou,
        flow_consistency=iou * 0.9 if flow else None,
        boundary_flip=np.zeros((frames, k)),
    )


def profile(
    name: str,
    latency: list[float],
    prompt: list[int] = (),
    warmup: int = 0,
    kind: str = "process_rss",
    peak: float = 512.0,
) -> ProfileResult:
    n = len(latency)
    frames = np.arange(n)
    return ProfileResult(
        name=name,
        device="cpu" if kind == "process_rss" else "cuda:0 (NVIDIA H200)",
        memory_kind=kind,
        frames=frames,
        latency_ms=np.asarray(latency, dtype=np.float64),
        memory_mb=np.linspace(100.0, peak, n),
        is_prompt=np.isin(frames, list(prompt)),
        is_warmup=frames < warmup,
        peak_memory_mb=peak,
    )


def agreement_result(frames: int = 4) -> AgreementResult:
    iou = np.tile([[1.0, 0.25]], (frames, 1))
    return AgreementResult(
        name_a="A",
        name_b="B",
        frames=tuple(range(frames)),
        object_ids=(1, 2),
        iou=iou,
        differing_pixels=np.full(frames, 50.0),
        differing_share=np.linspace(0.0, 0.03, frames),
    )


def is_no_data(fig: go.Figure) -> bool:
    return any(a.text == NO_DATA for a in fig.layout.annotations) and not fig.data


def trace_colors(fig: go.Figure, model: str) -> set[str]:
    colors = set()
    for trace in fig.data:
        if trace.name.startswith(model):
            color = getattr(trace, "line", None) and trace.line.color
            colors.add(color or trace.marker.color)
    return colors


A_J = [[1.0, 0.5], [0.5, 0.5], [0.0, 1.0]]
B_J = [[0.25, 0.75], [0.25, 0.75], [0.25, 0.75]]

# ---------------------------------------------------------------------------------------------------------------
# Colours


def test_model_colors_are_fixed_by_first_appearance_and_kept_when_extended() -> None:
    colors = model_colors(["A", "B", "A"])
    assert colors == {"A": MODEL_PALETTE[0], "B": MODEL_PALETTE[1]}
    # A chart that sees only B, with the report's mapping, keeps B's colour; a newcomer takes an unused colour.
    extended = model_colors(["C", "B"], base=colors)
    assert extended["B"] == MODEL_PALETTE[1]
    assert extended["C"] == MODEL_PALETTE[2]


def test_a_model_keeps_its_colour_across_charts_given_one_mapping() -> None:
    colors = model_colors(["A", "B"])
    figures = [
        jf_per_frame([accuracy("B", B_J), accuracy("A", A_J)], colors=colors),
        per_object_box([accuracy("B", B_J), accuracy("A", A_J)], colors=colors),
        latency_timeline([profile("B", [5.0, 6.0]), profile("A", [5.0, 6.0])], colors=colors),
        memory_timeline([profile("B", [5.0, 6.0])], colors=colors),
    ]
    for fig in figures:
        assert trace_colors(fig, "B") == {MODEL_PALETTE[1]}
    for fig in figures[:3]:
        assert trace_colors(fig, "A") == {MODEL_PALETTE[0]}


# ---------------------------------------------------------------------------------------------------------------
# Accuracy


def test_jf_per_frame_has_one_line_per_model_object_and_row() -> None:
    F = [[0.9, 0.8], [0.7, 0.6], [0.5, 0.4]]
    fig = jf_per_frame([accuracy("A", A_J, F), accuracy("B", B_J)])
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 2 * 2 * 2  # models x objects x (J, F)
    names = {t.name for t in fig.data}
    assert names == {"A · object 1", "A · object 2", "B · object 1", "B · object 2"}
    j_a1 = next(t for t in fig.data if t.name == "A · object 1" and t.yaxis == "y")
    f_a2 = next(t for t in fig.data if t.name == "A · object 2" and t.yaxis == "y2")
    np.testing.assert_array_equal(j_a1.y, [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(f_a2.y, [0.8, 0.6, 0.4])
    assert list(j_a1.x) == [0, 1, 2]
    # Each (model, object) appears once in the legend; its F line toggles with its J line.
    assert sum(bool(t.showlegend) for t in fig.data) == 4
    assert "0..1" in fig.layout.title.text and "higher is better" in fig.layout.title.text
    assert trace_colors(fig, "A") != trace_colors(fig, "B")


def test_jf_per_frame_names_sequences_when_several_are_shown() -> None:
    fig = jf_per_frame([accuracy("A", A_J, sequence="s1"), accuracy("A", A_J, sequence="s2")])
    assert {t.name for t in fig.data} >= {"A · s1 / object 1", "A · s2 / object 2"}


def test_per_object_box_groups_frames_per_object_and_model() -> None:
    J = [[1.0, 0.5], [np.nan, 0.5], [0.0, 1.0]]
    fig = per_object_box([accuracy("A", J), accuracy("B", B_J)])
    assert [t.name for t in fig.data] == ["A", "B"]
    box_a = fig.data[0]
    # NaN frames are dropped, not plotted as zero.
    assert list(box_a.x) == ["object 1", "object 1", "object 2", "object 2", "object 2"]
    np.testing.assert_array_equal(box_a.y, [1.0, 0.0, 0.5, 0.5, 1.0])
    assert fig.layout.boxmode == "group"
    f_fig = per_object_box([accuracy("A", A_J, [[0.1, 0.2]] * 3)], metric="F")
    np.testing.assert_array_equal(f_fig.data[0].y, [0.1, 0.1, 0.1, 0.2, 0.2, 0.2])
    jf_fig = per_object_box([accuracy("A", [[1.0]], [[0.5]])], metric="JF")
    np.testing.assert_array_equal(jf_fig.data[0].y, [0.75])


def test_per_object_box_rejects_an_unknown_metric() -> None:
    with pytest.raises(ValueError, match="metric"):
        per_object_box([accuracy("A", A_J)], metric="IoU")


# ---------------------------------------------------------------------------------------------------------------
# Model comparison


def bar(fig: go.Figure, model: str, x: str) -> float | None:
    for trace in fig.data:
        if trace.name == model and x in list(trace.x):
            return trace.y[list(trace.x).index(x)]
    raise AssertionError(f"no bar {x!r} for {model}")


def test_model_comparison_bars_show_davis_means_per_model() -> None:
    fig = model_comparison_bars([accuracy("A", A_J), accuracy("B", B_J, [[0.5, 0.5]] * 3)])
    assert [t.name for t in fig.data] == ["A", "B"]
    assert list(fig.data[0].x) == ["J", "F", "J&F"]
    # A: object means 0.5 and 2/3 -> J = 7/12; F equals J here.
    assert bar(fig, "A", "J") == pytest.approx(7 / 12)
    assert bar(fig, "A", "J&F") == pytest.approx(7 / 12)
    assert bar(fig, "B", "J") == pytest.approx(0.5)
    assert bar(fig, "B", "J&F") == pytest.approx(0.5)
    titles = [a.text for a in fig.layout.annotations]
    assert any("higher is better" in t for t in titles)


def test_model_comparison_pools_sequences_of_one_model_over_objects() -> None:
    pooled = model_comparison_bars([accuracy("A", [[1.0]], sequence="s1"), accuracy("A", [[0.0, 0.5]], sequence="s2")])
    assert bar(pooled, "A", "J") == pytest.approx(0.5)  # mean of three objects: 1, 0, 0.5
    dataset = DatasetAccuracy("A", (accuracy("A", [[1.0]], sequence="s1"), accuracy("A", [[0.0, 0.5]], sequence="s2")))
    assert bar(model_comparison_bars([dataset]), "A", "J") == pytest.approx(0.5)


def test_model_comparison_bars_add_flicker_panels_with_directions() -> None:
    a = temporal("A", (stability(1, 0.9, 0.8, 0.1, 2.0, 1, 0.05), stability(2, 0.7, 0.6, 0.3, 4.0, 2, 0.15)))
    b = temporal("B", (stability(1, 0.5, None, 0.5, 1.0, 0, 0.25),), flow=False)
    fig = model_comparison_bars([accuracy("A", A_J)], [a, b])
    top = [t for t in fig.data if t.xaxis == "x"]
    assert list(top[0].x) == ["J", "F", "J&F", "consecutive IoU", "flow consistency"]
    assert bar(fig, "A", "consecutive IoU") == pytest.approx(0.8)
    assert bar(fig, "A", "flow consistency") == pytest.approx(0.7)
    assert bar(fig, "B", "flow consistency") is None  # no frames, no flow: no bar rather than a zero
    assert bar(fig, "B", "J") is None  # B has no ground-truth score
    assert bar(fig, "A", "centroid jitter, px") == pytest.approx(3.0)
    assert bar(fig, "A", "presence toggles, count") == 3
    assert bar(fig, "B", "boundary flip rate") == pytest.approx(0.25)
    titles = [a.text for a in fig.layout.annotations]
    assert sum("lower is better" in t for t in titles) == 4
    assert any("px" in t for t in titles)
    # The legend lists each model once.
    assert sorted(t.name for t in fig.data if t.showlegend is not False) == ["A", "B"]


def test_model_comparison_without_flow_leaves_the_flow_bar_out() -> None:
    b = temporal("B", (stability(1, 0.5, None, 0.5, 1.0, 0, 0.25),), flow=False)
    fig = model_comparison_bars(temporal=[b])
    assert list(fig.data[0].x) == ["consecutive IoU"]


# ---------------------------------------------------------------------------------------------------------------
# Temporal stability


def test_temporal_timeline_rows_follow_what_was_measured() -> None:
    objects = (stability(1, 0.9, 0.8, 0.1, 2.0, 1, 0.05), stability(2, 0.7, 0.6, 0.3, 4.0, 2, 0.15))
    with_flow = temporal("A", objects)
    without_flow = temporal("B", objects, flow=False)
    fig = temporal_timeline([with_flow, without_flow])
    subplot_titles = [a.text for a in fig.layout.annotations]
    assert len(subplot_titles) == 3 and "flow" in subplot_titles[1] and "px" in subplot_titles[2]
    # A: 2 objects x 3 rows; B has no flow row.
    assert sum(t.name.startswith("A ·") for t in fig.data) == 6
    assert sum(t.name.startswith("B ·") for t in fig.data) == 4
    iou_a1 = next(t for t in fig.data if t.name == "A · object 1")
    assert math.isnan(iou_a1.y[0])
    np.testing.assert_array_equal(iou_a1.y[1:], with_flow.consecutive_iou[1:, 0])
    only_b = temporal_timeline([without_flow])
    assert len(only_b.layout.annotations) == 2


# ---------------------------------------------------------------------------------------------------------------
# Latency and memory


def test_latency_timeline_marks_prompt_and_warmup_frames_and_percentiles() -> None:
    latency = [300.0, 40.0, 10.0, 20.0, 30.0, 50.0]
    fig = latency_timeline([profile("A", latency, prompt=[0], warmup=2), profile("B", [5.0, 6.0])])
    by_name = {t.name: t for t in fig.data}
    np.testing.assert_array_equal(by_name["A"].y, latency)
    assert list(by_name["A · prompt frame"].x) == [0]
    assert list(by_name["A · warm-up (not counted)"].x) == [0, 1]
    tracking = [10.0, 20.0, 30.0, 50.0]
    p50 = next(t for n, t in by_name.items() if n.startswith("A · p50"))
    p95 = next(t for n, t in by_name.items() if n.startswith("A · p95"))
    assert list(p50.y) == pytest.approx([np.percentile(tracking, 50)] * 2)
    assert list(p95.y) == pytest.approx([np.percentile(tracking, 95)] * 2)
    assert "25.0 ms" in p50.name
    assert "B · prompt frame" not in by_name and "B · warm-up (not counted)" not in by_name
    assert "ms" in fig.layout.title.text and "ms" in fig.layout.yaxis.title.text


def test_latency_histogram_uses_tracking_frames_only() -> None:
    fig = latency_histogram(
        [profile("A", [300.0, 40.0, 10.0, 20.0], prompt=[0], warmup=2), profile("B", [7.0, 8.0, 9.0])]
    )
    assert [t.name for t in fig.data] == ["A", "B"]
    assert list(fig.data[0].x) == [10.0, 20.0]
    assert list(fig.data[1].x) == [7.0, 8.0, 9.0]
    assert fig.layout.barmode == "overlay"


@pytest.mark.parametrize(
    ("kind", "axis"),
    [("cuda_allocated", "GPU memory allocated (MiB)"), ("process_rss", "process RSS (MiB), CPU")],
)
def test_memory_axis_says_what_was_measured(kind: str, axis: str) -> None:
    fig = memory_timeline(
        [profile("A", [1.0, 2.0, 3.0], kind=kind, peak=700.0), profile("B", [1.0, 2.0], kind=kind, peak=300.0)]
    )
    assert fig.layout.yaxis.title.text == axis
    peak = next(t for t in fig.data if t.name.startswith("A · peak"))
    assert peak.line.dash == "dash"
    assert list(peak.y) == [700.0, 700.0]


def test_memory_timeline_with_mixed_kinds_names_the_kind_per_model() -> None:
    fig = memory_timeline([profile("A", [1.0], kind="cuda_allocated"), profile("B", [1.0])])
    names = [t.name for t in fig.data]
    assert "A (GPU allocated)" in names and "B (CPU process RSS)" in names
    assert fig.layout.yaxis.title.text == "memory (MiB)"


# ---------------------------------------------------------------------------------------------------------------
# Agreement


def test_agreement_timeline_is_titled_as_agreement_not_accuracy() -> None:
    result = agreement_result()
    fig = agreement_timeline(result)
    title = fig.layout.title.text
    assert title.startswith("Agreement between A and B") and "not accuracy" in title
    share = next(t for t in fig.data if t.name == "pixels labelled differently")
    np.testing.assert_allclose(share.y, result.differing_share * 100.0)
    iou_2 = next(t for t in fig.data if t.name == "object 2 IoU")
    np.testing.assert_array_equal(iou_2.y, [0.25] * 4)
    assert len(fig.data) == 1 + len(result.object_ids)


# ---------------------------------------------------------------------------------------------------------------
# NaN, None, single frames and empty inputs


EMPTY_CALLS = {
    "jf_per_frame": lambda: jf_per_frame([]),
    "model_comparison_bars": lambda: model_comparison_bars(),
    "per_object_box": lambda: per_object_box([]),
    "temporal_timeline": lambda: temporal_timeline([]),
    "latency_timeline": lambda: latency_timeline([]),
    "latency_histogram": lambda: latency_histogram([]),
    "memory_timeline": lambda: memory_timeline([]),
    "agreement_none": lambda: agreement_timeline(None),
    "agreement_no_frames": lambda: agreement_timeline(agreement_result(frames=0)),
    "accuracy_without_objects": lambda: jf_per_frame([accuracy("A", np.zeros((3, 0)))]),
    "box_all_nan": lambda: per_object_box([accuracy("A", [[np.nan]])]),
    "histogram_prompt_only": lambda: latency_histogram([profile("A", [100.0], prompt=[0])]),
}


@pytest.mark.parametrize("call", EMPTY_CALLS.values(), ids=EMPTY_CALLS.keys())
def test_empty_inputs_give_a_no_data_figure(call) -> None:
    fig = call()
    assert isinstance(fig, go.Figure)
    assert is_no_data(fig)
    assert fig.layout.title.text  # still says what would have been shown
    fig.to_json()


# SummaryStats of an all-NaN column warns (numpy's nanmean of nothing); the chart must still be drawn.
@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
def test_nan_none_and_single_frames_do_not_crash() -> None:
    nan_acc = accuracy("A", [[np.nan, 0.5]], [[np.nan, np.nan]])
    single = temporal("A", (stability(1, math.nan, None, math.nan, math.nan, 0, math.nan),), frames=1, flow=False)
    nan_profile = profile("A", [math.nan], kind="cuda_allocated", peak=math.nan)
    figures = [
        jf_per_frame([nan_acc]),
        per_object_box([nan_acc]),
        model_comparison_bars([nan_acc], [single]),
        temporal_timeline([single]),
        latency_timeline([nan_profile]),
        latency_histogram([nan_profile]),
        memory_timeline([nan_profile]),
        agreement_timeline(agreement_result(frames=1)),
    ]
    for fig in figures:
        assert isinstance(fig, go.Figure)
        fig.to_json()
    # A single frame is drawn as a marker, not an invisible one-point line.
    assert "markers" in figures[0].data[0].mode
    # All-NaN values plot as gaps; the comparison leaves NaN bars empty rather than at zero.
    assert bar(figures[2], "A", "F") is None
    assert bar(figures[2], "A", "consecutive IoU") is None
    assert is_no_data(figures[5])  # the only tracking frame has no latency
    assert not any(t.name.startswith("A · peak") for t in figures[6].data)  # NaN peak: no line


def test_short_clips_get_whole_frame_ticks() -> None:
    short = latency_timeline([profile("A", [1.0, 2.0, 3.0])])
    assert short.layout.xaxis.dtick == 1 and short.layout.xaxis.title.text == "frame"
    long = latency_timeline([profile("A", [1.0] * 100)])
    assert long.layout.xaxis.dtick is None  # plotly picks its own (integer) steps
