"""The report's sections, one per kind of result: summary chart, accuracy (J, F, J&F), flicker, latency and
memory, agreement between two models. Each returns its HTML: a hint, tables and charts."""

from __future__ import annotations

import math
from collections.abc import Sequence

from evaluation.charts.accuracy import jf_per_frame, per_object_box
from evaluation.charts.agreement import agreement_timeline
from evaluation.charts.comparison import model_comparison_bars
from evaluation.charts.profile import MEMORY_KINDS, latency_histogram, latency_timeline, memory_timeline
from evaluation.charts.temporal import temporal_timeline
from evaluation.report.markup import (
    DOWN,
    MISSING,
    UP,
    Cell,
    figure_html,
    html_table,
    num_cell,
    object_list,
    paragraph,
    section,
    text_cell,
)
from evaluation.results.accuracy import AccuracyResult, DatasetAccuracy, flatten_accuracy
from evaluation.results.agreement import AgreementResult
from evaluation.results.by_model import accuracy_by_model, temporal_by_model
from evaluation.results.profile import ProfileResult
from evaluation.results.temporal import TemporalResult

# Per-sequence accuracy charts beyond this many sequences would bury the report; the CSVs hold them all.
MAX_SEQUENCE_CHARTS = 8


def _missing_extra(result: AccuracyResult | DatasetAccuracy) -> tuple[str, str]:
    if isinstance(result, AccuracyResult):
        return object_list(result.missing_objects), object_list(result.extra_objects)
    missing = [object_list(s.missing_objects, s.sequence) for s in result.sequences if s.missing_objects]
    extra = [object_list(s.extra_objects, s.sequence) for s in result.sequences if s.extra_objects]
    return ", ".join(missing) or "none", ", ".join(extra) or "none"


ACCURACY_STATS = [
    f"J&F {UP}",
    f"J mean {UP}",
    f"J recall {UP}",
    f"J decay {DOWN}",
    f"F mean {UP}",
    f"F recall {UP}",
    f"F decay {DOWN}",
]


def _accuracy_model_rows(accuracy: Sequence[AccuracyResult | DatasetAccuracy]) -> list[list[Cell]]:
    """One row per model (its sequences pooled): DAVIS statistics, missing and extra objects."""
    rows = []
    for name, result in accuracy_by_model(accuracy).items():
        sequences = result.sequences if isinstance(result, DatasetAccuracy) else (result,)
        missing, extra = _missing_extra(result)
        rows.append(
            [
                text_cell(name),
                num_cell(len(sequences)),
                num_cell(sum(len(s.frames) for s in sequences)),
                num_cell(result.JF_mean),
                num_cell(result.J_mean),
                num_cell(result.J_recall),
                num_cell(result.J_decay),
                num_cell(result.F_mean),
                num_cell(result.F_recall),
                num_cell(result.F_decay),
                text_cell(missing),
                text_cell(extra),
            ]
        )
    return rows


def _accuracy_object_rows(flat: Sequence[AccuracyResult]) -> list[list[Cell]]:
    """One row per model, sequence and object with its DAVIS statistics."""
    return [
        [
            text_cell(r.name),
            text_cell(r.sequence),
            text_cell(f"object {o.object_id}"),
            num_cell(o.frames),
            text_cell("yes" if o.predicted else "never predicted"),
            num_cell(o.JF),
            num_cell(o.J.mean),
            num_cell(o.J.recall),
            num_cell(o.J.decay),
            num_cell(o.F.mean),
            num_cell(o.F.recall),
            num_cell(o.F.decay),
        ]
        for r in flat
        for o in r.per_object
    ]


def _accuracy_charts(flat: Sequence[AccuracyResult], colors: dict[str, str]) -> list[str]:
    """J and F per frame and the per-object boxes, per sequence, for the first MAX_SEQUENCE_CHARTS sequences."""
    parts = []
    sequences = list(dict.fromkeys(r.sequence for r in flat))
    for sequence in sequences[:MAX_SEQUENCE_CHARTS]:
        results = [r for r in flat if r.sequence == sequence]
        parts.append(figure_html(jf_per_frame(results, colors=colors)))
        parts.append(figure_html(per_object_box(results, "J", colors=colors)))
    if len(sequences) > MAX_SEQUENCE_CHARTS:
        parts.append(
            paragraph(
                f"Per-frame charts are shown for the first {MAX_SEQUENCE_CHARTS} of {len(sequences)} sequences; "
                "accuracy_per_frame.csv holds every frame."
            )
        )
    return parts


def accuracy_section(accuracy: Sequence[AccuracyResult | DatasetAccuracy], colors: dict[str, str]) -> str:
    """J, F and J&F per model and per object, and the per-sequence accuracy charts."""
    flat = flatten_accuracy(accuracy)
    parts = [
        paragraph(
            "J is the region IoU with the ground truth, F the boundary F-measure (DAVIS 2017); recall is the share "
            f"of frames above 0.5, decay the first-quarter mean minus the last-quarter mean. {UP} higher is better, "
            f"{DOWN} lower is better. Statistics are taken per object, then averaged over objects."
        ),
        "<h3>Per model</h3>",
        html_table(
            ["model", "sequences", "frames scored", *ACCURACY_STATS, "missing objects", "extra objects"],
            _accuracy_model_rows(accuracy),
        ),
        "<h3>Per object</h3>",
        html_table(
            ["model", "sequence", "object", "frames", "predicted", *ACCURACY_STATS],
            _accuracy_object_rows(flat),
            caption="J and F per object",
        ),
        *_accuracy_charts(flat, colors),
    ]
    return section("accuracy", "Accuracy against ground truth (J, F, J&F)", *parts)


FLICKER_COLUMNS = [
    f"consecutive IoU {UP}",
    f"flow consistency {UP}",
    f"area volatility {DOWN}",
    f"centroid jitter px {DOWN}",
    f"boundary flip rate {DOWN}",
    f"presence toggles {DOWN}",
]


def temporal_section(temporal: Sequence[TemporalResult], colors: dict[str, str]) -> str:
    """Flicker per model (sequences pooled) and per object, and the flicker timeline."""
    frames_by_model: dict[str, int] = {}
    for result in temporal:
        frames_by_model[result.name] = frames_by_model.get(result.name, 0) + len(result.frames)
    model_rows = [
        [
            text_cell(name),
            num_cell(frames_by_model[name]),
            num_cell(m.consecutive_iou),
            num_cell(m.flow_consistency),
            num_cell(m.area_volatility),
            num_cell(m.centroid_jitter_px, 2),
            num_cell(m.boundary_flip_rate),
            num_cell(None if m.presence_toggles is None else int(m.presence_toggles)),
        ]
        for name, m in temporal_by_model(temporal).items()
    ]
    object_rows = [
        [
            text_cell(r.name),
            text_cell(f"object {o.object_id}"),
            num_cell(o.frames_present),
            num_cell(o.consecutive_iou),
            num_cell(o.flow_consistency),
            num_cell(o.area_volatility),
            num_cell(o.centroid_jitter_px, 2),
            num_cell(o.boundary_flip_rate),
            num_cell(o.presence_toggles),
            num_cell(o.J_decay),
        ]
        for r in temporal
        for o in r.objects
    ]
    parts = [
        paragraph(
            "Flicker without ground truth: how much each mask changes from one frame to the next. "
            f"{UP} higher is steadier, {DOWN} lower is steadier. Flow consistency needs the clip's frames "
            f"({MISSING} when they were not given)."
        ),
        "<h3>Per model</h3>",
        html_table(["model", "frames", *FLICKER_COLUMNS], model_rows),
        "<h3>Per object</h3>",
        html_table(
            ["model", "object", "frames present", *FLICKER_COLUMNS, f"J decay {DOWN}"],
            object_rows,
            caption="Flicker per object",
        ),
        figure_html(temporal_timeline(temporal, colors=colors)),
    ]
    return section("temporal", "Temporal stability (flicker)", *parts)


def latency_section(profiles: Sequence[ProfileResult], colors: dict[str, str]) -> str:
    """The latency summary per run and the latency and memory charts."""
    rows = []
    for profile in profiles:
        s = profile.summary()
        rows.append(
            [
                text_cell(profile.name),
                text_cell(s.device),
                num_cell(s.frames),
                num_cell(s.warmup_frames),
                num_cell(s.p50_ms, 1),
                num_cell(s.p95_ms, 1),
                num_cell(s.p99_ms, 1),
                num_cell(s.max_ms, 1),
                num_cell(s.mean_ms, 1),
                num_cell(s.fps, 2),
                num_cell(s.prompt_frames),
                num_cell(s.prompt_ms, 1),
                num_cell(s.peak_memory_mb, 1),
                text_cell(MEMORY_KINDS.get(s.memory_kind, s.memory_kind)),
            ]
        )
    parts = [
        paragraph(
            "Percentiles are over tracking frames (warm-up and prompt frames excluded); frames per second counts "
            "every frame after warm-up, prompt frames included. Lower latency and memory are better."
        ),
        html_table(
            [
                "model",
                "device",
                "frames",
                "warm-up frames",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "mean ms",
                "frames/s",
                "prompt frames",
                "prompt frame ms",
                "peak memory MiB",
                "memory measured",
            ],
            rows,
        ),
        figure_html(latency_timeline(profiles, colors=colors)),
        figure_html(latency_histogram(profiles, colors=colors)),
        figure_html(memory_timeline(profiles, colors=colors)),
    ]
    return section("latency", "Latency and memory", *parts)


def agreement_section(agreement: AgreementResult) -> str:
    """How alike two models' masks are, overall and per object, labelled as agreement, not accuracy."""
    a, b = agreement.name_a, agreement.name_b
    share = float(agreement.differing_share.mean()) * 100.0 if len(agreement.frames) else math.nan
    rows = [
        [text_cell(f"object {obj}"), num_cell(float(agreement.iou[:, k].mean()) if len(agreement.frames) else None)]
        for k, obj in enumerate(agreement.object_ids)
    ]
    parts = [
        paragraph(
            f"How alike the masks of {a} and {b} are. No ground truth is involved: high agreement does not mean "
            "either model is right."
        ),
        html_table(
            ["frames compared", f"mean IoU between {a} and {b}", "pixels labelled differently, mean %"],
            [[num_cell(len(agreement.frames)), num_cell(agreement.mean_iou), num_cell(share, 2)]],
        ),
        html_table(["object", f"mean IoU between {a} and {b}"], rows),
        figure_html(agreement_timeline(agreement)),
    ]
    return section("agreement", f"Agreement between {a} and {b} (not accuracy)", *parts)


def summary_section(
    accuracy: Sequence[AccuracyResult | DatasetAccuracy], temporal: Sequence[TemporalResult], colors: dict[str, str]
) -> str:
    """The model comparison chart."""
    return section("summary", "Summary", figure_html(model_comparison_bars(accuracy, temporal, colors=colors)))
