"""Tab 8, "Dataset": several models over a whole dataset, as `python -m playerseg evaluate --out OUT` scores them.
The user uploads OUT (a .zip; only its leaderboard.json and report.html are read) or its leaderboard.json, or runs
the example dataset (three small synthetic clips, the app's two default models). The tab shows the verdict, a table
per model (J&F with its 95% interval, speed and memory against the baseline, the weights), the failed pairs with
their reasons, three charts (J&F per model, speed per model, J&F per sequence), the per-sequence leaderboard and the
downloads (report.html, leaderboard.csv, models.csv, leaderboard.json). Files come from playerseg.ui.dataset_sources.
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
import plotly.graph_objects as go

from evaluation.charts.style import model_colors, no_data_figure, style
from evaluation.leaderboard.figures import jf_per_sequence
from evaluation.leaderboard.table import Leaderboard, ModelSummary
from playerseg.errors import PlayerSegError
from playerseg.ui.config import AppConfig
from playerseg.ui.dataset_sources import (
    EXAMPLE_FRAMES,
    EXAMPLE_SEQUENCES,
    DatasetResult,
    DatasetUploadError,
    dataset_folder,
    drop_older,
    read_upload,
    run_example,
)
from playerseg.ui.public import UploadError, public_message, uploaded_file
from playerseg.ui.session import Session
from playerseg.ui.tables import rounded

HELP = (
    "**Several models over a whole dataset.** `python -m playerseg evaluate --data ROOT --models A,B --out OUT` runs "
    "every model on every sequence and writes a leaderboard; upload its OUT folder as a .zip (only `leaderboard.json` "
    "and `report.html` are read, so `runs/` may be left out) or its `leaderboard.json` alone. Or run the example: "
    "three small synthetic clips with this app's two default models. The first model is the baseline."
)
EXAMPLE_BUTTON = f"Run the example dataset ({EXAMPLE_SEQUENCES} synthetic clips)"
MODEL_COLUMNS = [
    "model",
    "sequences",
    "J&F ↑ (95% interval)",
    "p50 ms ↓",
    "fps vs baseline ↑",
    "peak memory ↓",
    "weights",
]
SEQUENCE_COLUMNS = {  # leaderboard.csv column -> table header, digits
    "model": ("model", None),
    "sequence": ("sequence", None),
    "JF": ("J&F ↑", 3),
    "J": ("J ↑", 3),
    "F": ("F ↑", 3),
    "latency_p50_ms": ("p50 ms ↓", 1),
    "peak_memory_mb": ("peak MB ↓", 0),
    "consecutive_iou": ("steady IoU ↑", 3),
}
SEQUENCE_WIDTHS = ["27%", "13%", "9.5%", "9.5%", "9.5%", "10%", "9%", "12.5%"]
# At a 1000 px window the tables are 700 px wide: these widths break no word there (14 px monospace, 8.4 px a letter)
MODEL_WIDTHS = ["27%", "14%", "14%", "9%", "12%", "10%", "14%"]
MEMORY_KINDS = {"cuda_allocated": "VRAM", "process_rss": "RSS"}
RANDOM_LABEL = "random weights"
SYNTHETIC_LABEL = "synthetic only"
CHART_HEIGHT = 380
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


@dataclass
class DatasetTab:
    upload: gr.File
    example: gr.Button
    summary: gr.Markdown
    models: gr.Dataframe
    failures: gr.Markdown
    jf_models: gr.Plot
    latency: gr.Plot
    jf_sequences: gr.Plot
    sequences: gr.Dataframe
    downloads: gr.File

    def outputs(self) -> list[Any]:
        return [
            self.summary,
            self.models,
            self.failures,
            self.jf_models,
            self.latency,
            self.jf_sequences,
            self.sequences,
            self.downloads,
        ]

    def render(self, result: DatasetResult | None) -> list[Any]:
        if result is None:
            empty = pd.DataFrame(columns=[header for header, _ in SEQUENCE_COLUMNS.values()])
            return ["", pd.DataFrame(columns=MODEL_COLUMNS), "", None, None, None, empty, None]
        board = result.board
        colors = model_colors(board.manifest.model_names)
        return [
            summary_markdown(result),
            models_table(board),
            failures_markdown(board),
            jf_by_model(board, colors),
            latency_by_model(board, colors),
            jf_by_sequence(board, colors),
            sequences_table(board),
            [str(path) for path in result.files],
        ]


def build_dataset_tab(config: AppConfig) -> DatasetTab:
    gr.Markdown(HELP)
    with gr.Row():
        upload = gr.File(
            label="OUT folder (.zip) or leaderboard.json",
            file_types=[".zip", ".json"],
            height=180,
            elem_id="dataset-upload",
            scale=3,
        )
        with gr.Column(scale=2, min_width=280):
            example = gr.Button(EXAMPLE_BUTTON, elem_id="dataset-example", variant="primary")
            gr.Markdown(example_note(config), elem_id="dataset-example-note")
    summary = gr.Markdown("", elem_id="dataset-summary")
    models = gr.Dataframe(
        headers=MODEL_COLUMNS,
        interactive=False,
        wrap=True,
        column_widths=MODEL_WIDTHS,
        label="Per model",
        elem_id="dataset-models",
    )
    failures = gr.Markdown("", elem_id="dataset-failures")
    with gr.Row():
        jf_models = gr.Plot(label="J&F per model", elem_id="plot-dataset-jf")
        latency = gr.Plot(label="Speed per model", elem_id="plot-dataset-latency")
    jf_sequences = gr.Plot(label="J&F per sequence", elem_id="plot-dataset-sequences")
    sequences = gr.Dataframe(
        headers=[header for header, _ in SEQUENCE_COLUMNS.values()],
        interactive=False,
        wrap=True,
        column_widths=SEQUENCE_WIDTHS,
        label="Per sequence (steady IoU: consecutive-frame IoU; leaderboard.csv has every column and frame counts)",
        elem_id="dataset-sequences",
    )
    downloads = gr.File(label="Downloads", file_count="multiple", interactive=False, elem_id="dataset-files")
    return DatasetTab(
        upload, example, summary, models, failures, jf_models, latency, jf_sequences, sequences, downloads
    )


# ---------------------------------------------------------------------------------------------------------------
# Handlers


@dataclass(frozen=True)
class DatasetHandler:
    """The upload and the example button: each publishes into a new folder of the session (the previous leaderboard
    is deleted once the new one is there) and returns the tab's values."""

    config: AppConfig
    tab: DatasetTab
    evaluate_example: Callable[..., DatasetResult] = run_example  # the app wraps it for ZeroGPU

    def load_dataset(self, session: Session, path: str | None) -> list[Any]:
        """An uploaded .zip of an evaluate OUT folder or its leaderboard.json; returns the tab's values."""
        if not path:
            return self.tab.render(None)
        try:
            upload = uploaded_file({"path": path, "orig_name": Path(path).name}, "evaluate folder")
        except UploadError as error:
            raise gr.Error(str(error)) from None
        folder = dataset_folder(session.work_dir(self.config.work_dir))
        try:
            result = read_upload(upload.path, folder, display_name=upload.name)
        except (DatasetUploadError, OSError) as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise gr.Error(public_message(_sentence(error))) from None
        drop_older(folder)
        return self.tab.render(result)

    def run_example_dataset(self, session: Session, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> list[Any]:
        """The example clips with the app's default pair (evaluate's tqdm bars drive the progress bar)."""
        models = example_models(self.config)
        folder = dataset_folder(session.work_dir(self.config.work_dir))
        try:
            result = self.evaluate_example(folder, models, self.config.device, _described(progress))
        except (PlayerSegError, ValueError, OSError) as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise gr.Error(public_message(_sentence(error))) from None
        drop_older(folder)
        for failure in result.board.failures[:1]:
            gr.Warning(public_message(f"Some pairs failed, for instance {failure.reason}"))
        return self.tab.render(result)


def example_note(config: AppConfig) -> str:
    names = " and ".join(code(name) for name in example_models(config))
    return (
        f"Runs {names} on {EXAMPLE_SEQUENCES} synthetic clips of {EXAMPLE_FRAMES} frames (the first is the "
        "baseline); it queues with the other runs of this server."
    )


def example_models(config: AppConfig) -> tuple[str, ...]:
    """The app's default pair, model A first (the baseline); one model when both defaults are the same."""
    return tuple(dict.fromkeys(config.default_pair()))


def _described(progress: gr.Progress) -> Callable[[float, str], None]:
    def report(done: float, desc: str) -> None:
        progress(done, desc=desc)

    return report


def _sentence(error: BaseException) -> str:
    if isinstance(error, OSError) and not isinstance(error, PlayerSegError):
        return f"The files could not be written here ({error.strerror or 'an I/O error'})."
    return str(error)


# ---------------------------------------------------------------------------------------------------------------
# Text and tables


def md(text: str) -> str:
    """Text from a leaderboard (reasons, verdict sentences) shown literally in Markdown."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", public_message(str(text)))


def code(text: str) -> str:
    """A model name as a Markdown code span (shown literally; a backquote in it cannot end the span)."""
    return "`" + public_message(str(text)).replace("`", "'") + "`"


def weights_label(summary: ModelSummary) -> str:
    """'random weights', 'synthetic only' or '' for a model."""
    if summary.random_weights:
        return RANDOM_LABEL
    return SYNTHETIC_LABEL if "synthetic" in (summary.weights or "").lower() else ""


def legend_name(summary: ModelSummary) -> str:
    label = weights_label(summary)
    return f"{summary.model} ({label})" if label else summary.model


def summary_markdown(result: DatasetResult) -> str:
    """What is shown, the weights' labels, then the verdict (when evaluation has one)."""
    board = result.board
    names = ", ".join(code(name) for name in board.manifest.model_names)
    lines = [
        f"**Showing {md(result.source)}:** {len(board.manifest.model_names)} models ({names}) on "
        f"{len(board.manifest.sequences)} sequences; the baseline is {code(board.baseline)}."
    ]
    if result.example:
        lines.append(
            "These clips are synthetic (generated here): they show how the tab works, not how the models do on real "
            "footage."
        )
    for label, meaning in (
        (RANDOM_LABEL, "their accuracy and flicker mean nothing; their speed and memory are real"),
        (SYNTHETIC_LABEL, "trained on synthetic footage only, never on real video"),
    ):
        flagged = [code(m.model) for m in board.models if weights_label(m) == label]
        if flagged:
            lines.append(f"⚠️ **{label.capitalize()}:** {', '.join(flagged)} ({meaning}).")
    lines += verdict_lines(board)
    return "\n\n".join(lines)


def verdict_lines(board: Leaderboard) -> list[str]:
    """The verdict's headline in bold and its other sentences as a list; nothing when evaluation has no verdict."""
    try:
        from evaluation.leaderboard.verdict import verdict
    except ImportError:
        return []
    said = verdict(board)
    rest = [*said.details, *(sentence for c in said.challengers for sentence in c.sentences)]
    return [f"### Verdict\n**{md(said.headline)}**", "\n".join(f"- {md(sentence)}" for sentence in rest)]


def models_table(board: Leaderboard) -> pd.DataFrame:
    total = len(board.manifest.sequences)
    rows = []
    for m in board.models:
        failed = f", {m.failed} failed" if m.failed else ""
        memory = f"{m.peak_memory_mb:,.0f} MB {MEMORY_KINDS.get(m.memory_kind, m.memory_kind)}".strip()
        rows.append(
            [
                m.model,
                f"{m.sequences} of {total}{failed}",
                interval_text(m),
                rounded(m.latency_p50_ms, 1),
                "baseline" if m.model == board.baseline else _ratio(m.fps_vs_baseline),
                memory if math.isfinite(m.peak_memory_mb) else "—",
                m.weights or ("not loaded" if not m.sequences else "—"),
            ]
        )
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def interval_text(summary: ModelSummary) -> str:
    jf = summary.JF
    if not math.isfinite(jf.mean):
        return "—"
    if not (math.isfinite(jf.low) and math.isfinite(jf.high)):
        return f"{jf.mean:.3f} (one sequence: no interval)"
    return f"{jf.mean:.3f} [{jf.low:.3f}, {jf.high:.3f}]"


def sequences_table(board: Leaderboard) -> pd.DataFrame:
    frame = board.to_pandas()
    columns = {}
    for key, (header, digits) in SEQUENCE_COLUMNS.items():
        values = frame[key].tolist()
        columns[header] = values if digits is None else [rounded(_float(v), digits) for v in values]
    return pd.DataFrame(columns, columns=[header for header, _ in SEQUENCE_COLUMNS.values()])


def failures_markdown(board: Leaderboard) -> str:
    """The failed pairs, one line per model and reason (the sequences it failed on listed together)."""
    if not board.failures:
        return ""
    grouped: dict[tuple[str, str], list[str]] = {}
    for f in board.failures:
        reason = f.reason.removeprefix(f"{f.model} on {f.sequence}: ")
        grouped.setdefault((f.model, reason), []).append(f.sequence)
    count = len(board.failures)
    lines = [f"**{count} failed pair{'s' if count != 1 else ''}** (no scores; the figures cover the other pairs):"]
    for (model, reason), sequences in grouped.items():
        lines.append(f"- {code(model)} on {md(', '.join(sequences))}: {md(reason)}")
    return "\n".join(lines)


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _ratio(value: float) -> str:
    return f"{value:.2f}×" if math.isfinite(value) else "—"


# ---------------------------------------------------------------------------------------------------------------
# Charts


def jf_by_model(board: Leaderboard, colors: dict[str, str]) -> go.Figure:
    """Mean J&F per model as bars with the 95% bootstrap interval as error bars; one legend entry per model."""
    title = "Mean J&F per model (95% interval)"
    scored = [m for m in board.models if math.isfinite(m.JF.mean)]
    if not scored:
        return no_data_figure(title, "no scored sequence: J&F was not measured", CHART_HEIGHT)
    fig = go.Figure()
    for m in scored:
        low, high = _spread(m.JF.mean, m.JF.low, m.JF.high)
        fig.add_trace(
            go.Bar(
                x=[m.model],
                y=[m.JF.mean],
                name=legend_name(m),
                marker_color=colors[m.model],
                error_y={"type": "data", "array": [high], "arrayminus": [low], "visible": bool(high or low)},
                text=[f"{m.JF.mean:.3f}"],
                textposition="inside",
                insidetextanchor="start",
                hovertemplate=f"{m.model}<br>J&F %{{y:.3f}} ({interval_text(m)})<extra></extra>",
            )
        )
    top = max(m.JF.high if math.isfinite(m.JF.high) else m.JF.mean for m in scored)
    fig.update_yaxes(title_text="mean J&F (higher is better)", range=[0, jf_axis_top(top)])
    return _per_model_layout(fig, title)


def latency_by_model(board: Leaderboard, colors: dict[str, str]) -> go.Figure:
    """Median ms per frame (p50) per model as bars, the value above each bar."""
    title = "Speed: ms per frame (p50)"
    timed = [m for m in board.models if math.isfinite(m.latency_p50_ms)]
    if not timed:
        return no_data_figure(title, "no frames.csv: latency was not recorded", CHART_HEIGHT)
    top = max(m.latency_p50_ms for m in timed)
    fig = go.Figure()
    for m in timed:
        fig.add_trace(
            go.Bar(
                x=[m.model],
                y=[m.latency_p50_ms],
                name=legend_name(m),
                marker_color=colors[m.model],
                text=[f"{m.latency_p50_ms:,.1f} ms"],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"{m.model}<br>p50 %{{y:.1f}} ms per frame<extra></extra>",
            )
        )
    fig.update_yaxes(title_text="ms per frame (lower is better)", range=[0, top * 1.2 if top > 0 else 1])
    return _per_model_layout(fig, title)


def jf_by_sequence(board: Leaderboard, colors: dict[str, str]) -> go.Figure:
    """evaluation's grouped bars (J&F of every model on every sequence), legend entries labelled by weights; a model
    whose every pair failed is left out of the legend (the failures list says why)."""
    fig = jf_per_sequence(board, colors)
    fig.data = [trace for trace in fig.data if any(value is not None for value in trace.y or ())]  # all pairs failed
    labels = {m.model: legend_name(m) for m in board.models}
    fig.for_each_trace(lambda trace: trace.update(name=labels.get(trace.name, trace.name)))
    scores = [row.JF for row in board.rows if math.isfinite(row.JF)]
    if scores:  # zoomed like the per-model chart: random models' J&F of 0.01 would not show on a 0..1 axis
        fig.update_yaxes(range=[0, jf_axis_top(max(scores))])
    fig.update_layout(height=CHART_HEIGHT + 40, legend={"orientation": "h", "y": -0.25, "x": 0})
    return fig


def jf_axis_top(highest: float) -> float:
    """The J&F axis ends a little above the highest value (at most 1.05), so small scores stay visible."""
    return min(1.05, max(highest, 0.05) * 1.15 + 0.02)


def _spread(mean: float, low: float, high: float) -> tuple[float, float]:
    if not (math.isfinite(low) and math.isfinite(high)):
        return 0.0, 0.0
    return max(mean - low, 0.0), max(high - mean, 0.0)


def _per_model_layout(fig: go.Figure, title: str) -> go.Figure:
    """Bars named in the legend (model names can be long), no x tick labels, the legend below the plot."""
    fig.update_xaxes(showticklabels=False, type="category")
    style(fig, title, CHART_HEIGHT)
    fig.update_layout(
        showlegend=True,
        bargap=0.35,
        legend={"orientation": "h", "y": -0.08, "x": 0, "yanchor": "top"},
        margin={"l": 70, "r": 20, "t": 60, "b": 20},
    )
    return fig
