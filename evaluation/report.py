"""One self-contained HTML report (plus CSV tables beside it) from evaluation results.

`write_report` writes OUT/report.html: a header (title, time, models and devices), the caller's notes at the top
(e.g. random-weight warnings), summary tables, and the charts of `evaluation.charts`. plotly.js is inlined once in
<head>, so the file opens offline and loads nothing from the network. The per-frame and per-object numbers are
written beside it as CSV files, one per kind of result that was given.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation import charts
from evaluation.charts import MEMORY_KINDS, object_label
from evaluation.results import (
    AccuracyResult,
    AgreementResult,
    DatasetAccuracy,
    ProfileResult,
    TemporalResult,
    latency_summary_dict,
)

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

REPORT_NAME = "report.html"
CSV_NAMES = (
    "accuracy_per_frame.csv",
    "accuracy_per_object.csv",
    "temporal_per_frame.csv",
    "temporal_per_object.csv",
    "latency_per_frame.csv",
    "latency_summary.csv",
    "agreement_per_frame.csv",
)
# Plotly's modebar logo links to plotly.com; the report stays free of outside links.
FIGURE_CONFIG = {"displaylogo": False, "responsive": True}
# Per-sequence accuracy charts beyond this many sequences would bury the report; the CSVs hold them all.
MAX_SEQUENCE_CHARTS = 8
# Tables longer than this start folded.
FOLD_ROWS = 40
MISSING = "–"
UP, DOWN = "↑", "↓"


# ---------------------------------------------------------------------------------------------------------------
# Formatting


def _number(value: float | int | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{float(value):.{digits}f}"


@dataclass(frozen=True)
class Cell:
    """A table cell: its text and whether it is a number (numbers align right)."""

    text: str
    numeric: bool = False


def _num(value: float | int | None, digits: int = 3) -> Cell:
    return Cell(_number(value, digits), numeric=True)


def _text(value: object) -> Cell:
    return Cell(str(value))


def _table(columns: Sequence[str], rows: Sequence[Sequence[Cell]], caption: str = "") -> str:
    numeric = [bool(rows) and all(row[i].numeric for row in rows) for i in range(len(columns))]
    head = "".join(f'<th class="num">{html.escape(c)}</th>' if n else f"<th>{html.escape(c)}</th>"
                   for c, n in zip(columns, numeric))
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{html.escape(c.text)}</td>' if c.numeric else f"<td>{html.escape(c.text)}</td>"
                  for c in row)
        + "</tr>"
        for row in rows
    )
    table = f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    if not caption:
        return table
    opened = " open" if len(rows) <= FOLD_ROWS else ""
    return f"<details{opened}><summary>{html.escape(caption)} ({len(rows)} rows)</summary>{table}</details>"


def _objects(ids: Iterable[int], sequence: str | None = None) -> str:
    labels = [object_label(i, sequence) for i in ids]
    return ", ".join(labels) if labels else "none"


def _figure_html(fig: go.Figure) -> str:
    body = fig.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False, config=FIGURE_CONFIG)
    return f'<div class="chart">{body}</div>'


def _section(anchor: str, heading: str, *parts: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(heading)}</h2>{"".join(parts)}</section>'


def _paragraph(text: str) -> str:
    return f'<p class="hint">{html.escape(text)}</p>'


# ---------------------------------------------------------------------------------------------------------------
# Sections


def _flatten(accuracy: Sequence[AccuracyResult | DatasetAccuracy]) -> list[AccuracyResult]:
    flat: list[AccuracyResult] = []
    for result in accuracy:
        flat.extend(result.sequences if isinstance(result, DatasetAccuracy) else (result,))
    return flat


def _missing_extra(result: AccuracyResult | DatasetAccuracy) -> tuple[str, str]:
    if isinstance(result, AccuracyResult):
        return _objects(result.missing_objects), _objects(result.extra_objects)
    missing = [_objects(s.missing_objects, s.sequence) for s in result.sequences if s.missing_objects]
    extra = [_objects(s.extra_objects, s.sequence) for s in result.sequences if s.extra_objects]
    return ", ".join(missing) or "none", ", ".join(extra) or "none"


def _accuracy_section(accuracy: Sequence[AccuracyResult | DatasetAccuracy], colors: dict[str, str]) -> str:
    by_model = charts.accuracy_by_model(accuracy)
    model_rows = []
    for name, result in by_model.items():
        sequences = result.sequences if isinstance(result, DatasetAccuracy) else (result,)
        missing, extra = _missing_extra(result)
        model_rows.append(
            [
                _text(name),
                _num(len(sequences)),
                _num(sum(len(s.frames) for s in sequences)),
                _num(result.JF_mean),
                _num(result.J_mean),
                _num(result.J_recall),
                _num(result.J_decay),
                _num(result.F_mean),
                _num(result.F_recall),
                _num(result.F_decay),
                _text(missing),
                _text(extra),
            ]
        )
    flat = _flatten(accuracy)
    object_rows = [
        [
            _text(r.name),
            _text(r.sequence),
            _text(f"object {o.object_id}"),
            _num(o.frames),
            _text("yes" if o.predicted else "never predicted"),
            _num(o.JF),
            _num(o.J.mean),
            _num(o.J.recall),
            _num(o.J.decay),
            _num(o.F.mean),
            _num(o.F.recall),
            _num(o.F.decay),
        ]
        for r in flat
        for o in r.per_object
    ]
    stats = [f"J&F {UP}", f"J mean {UP}", f"J recall {UP}", f"J decay {DOWN}", f"F mean {UP}", f"F recall {UP}",
             f"F decay {DOWN}"]
    parts = [
        _paragraph(
            "J is the region IoU with the ground truth, F the boundary F-measure (DAVIS 2017); recall is the share "
            f"of frames above 0.5, decay the first-quarter mean minus the last-quarter mean. {UP} higher is better, "
            f"{DOWN} lower is better. Statistics are taken per object, then averaged over objects."
        ),
        "<h3>Per model</h3>",
        _table(["model", "sequences", "frames scored", *stats, "missing objects", "extra objects"], model_rows),
        "<h3>Per object</h3>",
        _table(["model", "sequence", "object", "frames", "predicted", *stats], object_rows,
               caption="J and F per object"),
    ]
    sequences = list(dict.fromkeys(r.sequence for r in flat))
    for sequence in sequences[:MAX_SEQUENCE_CHARTS]:
        results = [r for r in flat if r.sequence == sequence]
        parts.append(_figure_html(charts.jf_per_frame(results, colors=colors)))
        parts.append(_figure_html(charts.per_object_box(results, "J", colors=colors)))
    if len(sequences) > MAX_SEQUENCE_CHARTS:
        parts.append(_paragraph(
            f"Per-frame charts are shown for the first {MAX_SEQUENCE_CHARTS} of {len(sequences)} sequences; "
            "accuracy_per_frame.csv holds every frame."
        ))
    return _section("accuracy", "Accuracy against ground truth (J, F, J&F)", *parts)


FLICKER_COLUMNS = [
    f"consecutive IoU {UP}",
    f"flow consistency {UP}",
    f"area volatility {DOWN}",
    f"centroid jitter px {DOWN}",
    f"boundary flip rate {DOWN}",
    f"presence toggles {DOWN}",
]


def _temporal_section(temporal: Sequence[TemporalResult], colors: dict[str, str]) -> str:
    frames_by_model: dict[str, int] = {}
    for result in temporal:
        frames_by_model[result.name] = frames_by_model.get(result.name, 0) + len(result.frames)
    model_rows = [
        [
            _text(name),
            _num(frames_by_model[name]),
            _num(m["consecutive_iou"]),
            _num(m["flow_consistency"]),
            _num(m["area_volatility"]),
            _num(m["centroid_jitter_px"], 2),
            _num(m["boundary_flip_rate"]),
            _num(None if m["presence_toggles"] is None else int(m["presence_toggles"])),
        ]
        for name, m in charts.temporal_by_model(temporal).items()
    ]
    object_rows = [
        [
            _text(r.name),
            _text(f"object {o.object_id}"),
            _num(o.frames_present),
            _num(o.consecutive_iou),
            _num(o.flow_consistency),
            _num(o.area_volatility),
            _num(o.centroid_jitter_px, 2),
            _num(o.boundary_flip_rate),
            _num(o.presence_toggles),
            _num(o.J_decay),
        ]
        for r in temporal
        for o in r.objects
    ]
    parts = [
        _paragraph(
            "Flicker without ground truth: how much each mask changes from one frame to the next. "
            f"{UP} higher is steadier, {DOWN} lower is steadier. Flow consistency needs the clip's frames "
            f"({MISSING} when they were not given)."
        ),
        "<h3>Per model</h3>",
        _table(["model", "frames", *FLICKER_COLUMNS], model_rows),
        "<h3>Per object</h3>",
        _table(["model", "object", "frames present", *FLICKER_COLUMNS, f"J decay {DOWN}"], object_rows,
               caption="Flicker per object"),
        _figure_html(charts.temporal_timeline(temporal, colors=colors)),
    ]
    return _section("temporal", "Temporal stability (flicker)", *parts)


def _latency_section(profiles: Sequence[ProfileResult], colors: dict[str, str]) -> str:
    rows = []
    for profile in profiles:
        s = profile.summary()
        rows.append(
            [
                _text(profile.name),
                _text(s.device),
                _num(s.frames),
                _num(s.warmup_frames),
                _num(s.p50_ms, 1),
                _num(s.p95_ms, 1),
                _num(s.p99_ms, 1),
                _num(s.max_ms, 1),
                _num(s.mean_ms, 1),
                _num(s.fps, 2),
                _num(s.prompt_frames),
                _num(s.prompt_ms, 1),
                _num(s.peak_memory_mb, 1),
                _text(MEMORY_KINDS.get(s.memory_kind, s.memory_kind)),
            ]
        )
    parts = [
        _paragraph(
            "Percentiles are over tracking frames (warm-up and prompt frames excluded); frames per second counts "
            "every frame after warm-up, prompt frames included. Lower latency and memory are better."
        ),
        _table(
            ["model", "device", "frames", "warm-up frames", "p50 ms", "p95 ms", "p99 ms", "max ms", "mean ms",
             "frames/s", "prompt frames", "prompt frame ms", "peak memory MiB", "memory measured"],
            rows,
        ),
        _figure_html(charts.latency_timeline(profiles, colors=colors)),
        _figure_html(charts.latency_histogram(profiles, colors=colors)),
        _figure_html(charts.memory_timeline(profiles, colors=colors)),
    ]
    return _section("latency", "Latency and memory", *parts)


def _agreement_section(agreement: AgreementResult) -> str:
    a, b = agreement.name_a, agreement.name_b
    share = float(agreement.differing_share.mean()) * 100.0 if len(agreement.frames) else math.nan
    rows = [
        [_text(f"object {obj}"), _num(float(agreement.iou[:, k].mean()) if len(agreement.frames) else None)]
        for k, obj in enumerate(agreement.object_ids)
    ]
    parts = [
        _paragraph(
            f"How alike the masks of {a} and {b} are. No ground truth is involved: high agreement does not mean "
            "either model is right."
        ),
        _table(
            ["frames compared", f"mean IoU between {a} and {b}", "pixels labelled differently, mean %"],
            [[_num(len(agreement.frames)), _num(agreement.mean_iou), _num(share, 2)]],
        ),
        _table(["object", f"mean IoU between {a} and {b}"], rows),
        _figure_html(charts.agreement_timeline(agreement)),
    ]
    return _section("agreement", f"Agreement between {a} and {b} (not accuracy)", *parts)


def _summary_section(
    accuracy: Sequence[AccuracyResult | DatasetAccuracy], temporal: Sequence[TemporalResult], colors: dict[str, str]
) -> str:
    return _section("summary", "Summary", _figure_html(charts.model_comparison_bars(accuracy, temporal, colors=colors)))


# ---------------------------------------------------------------------------------------------------------------
# CSV tables


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    import pandas as pd

    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else None


def _csv_tables(
    accuracy: Sequence[AccuracyResult | DatasetAccuracy],
    temporal: Sequence[TemporalResult],
    profiles: Sequence[ProfileResult],
    agreement: AgreementResult | None,
) -> dict[str, pd.DataFrame | None]:
    import pandas as pd

    flat = _flatten(accuracy)
    agreement_table = None
    if agreement is not None and len(agreement.frames):
        agreement_table = agreement.to_pandas()
        agreement_table.insert(0, "name_b", agreement.name_b)
        agreement_table.insert(0, "name_a", agreement.name_a)
    latency_rows = [{"name": p.name, **latency_summary_dict(p.summary())} for p in profiles]
    return {
        "accuracy_per_frame.csv": _concat([r.to_pandas() for r in flat]),
        "accuracy_per_object.csv": _concat([r.objects_to_pandas() for r in flat if r.object_ids]),
        "temporal_per_frame.csv": _concat([t.to_pandas() for t in temporal]),
        "temporal_per_object.csv": _concat([t.objects_to_pandas() for t in temporal if t.objects]),
        "latency_per_frame.csv": _concat([p.to_pandas() for p in profiles]),
        "latency_summary.csv": pd.DataFrame(latency_rows) if latency_rows else None,
        "agreement_per_frame.csv": agreement_table,
    }


def _write_csvs(out_dir: Path, tables: dict[str, pd.DataFrame | None]) -> list[str]:
    written = []
    for name in CSV_NAMES:
        path = out_dir / name
        table = tables.get(name)
        if table is None:
            # A report folder written again with less data must not keep tables from the earlier run.
            path.unlink(missing_ok=True)
            continue
        table.to_csv(path, index=False)
        written.append(name)
    return written


# ---------------------------------------------------------------------------------------------------------------
# Page


CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f6f8; color: #1f2933;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 48px; }
header.top { background: #1f2933; color: #f9fafb; }
header.top .inner { max-width: 1320px; margin: 0 auto; padding: 22px 28px 18px; }
header.top h1 { margin: 0 0 6px; font-size: 26px; font-weight: 650; }
header.top dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 10px 0 0;
  font-size: 14px; color: #d1d5db; }
header.top dt { color: #9ca3af; }
header.top dd { margin: 0; }
nav { margin-top: 12px; font-size: 14px; }
nav a { color: #bfdbfe; margin-right: 16px; text-decoration: none; }
nav a:hover { text-decoration: underline; }
.notes { margin: 0 0 22px; padding: 14px 18px; border-radius: 8px; background: #fff7e6;
  border: 1px solid #f5c16c; border-left: 6px solid #e69500; }
.notes h2 { margin: 0 0 6px; font-size: 17px; border: 0; padding: 0; }
.notes ul { margin: 0; padding-left: 20px; }
.notes li.warning { color: #9b1c1c; font-weight: 650; }
.notes.has-warning { background: #fdecec; border-color: #f3a5a5; border-left-color: #c81e1e; }
section { background: #fff; border: 1px solid #e5e7eb; border-radius: 10px; padding: 6px 22px 18px;
  margin: 0 0 22px; box-shadow: 0 1px 2px rgba(0,0,0,.04); }
h2 { font-size: 20px; margin: 14px 0 8px; padding-bottom: 6px; border-bottom: 1px solid #eef0f3; }
h3 { font-size: 16px; margin: 18px 0 6px; }
p.hint { color: #4b5563; margin: 6px 0 10px; font-size: 14px; }
.table-wrap { overflow-x: auto; margin: 6px 0 14px; }
table { border-collapse: collapse; font-size: 13.5px; min-width: 40%; }
th, td { padding: 5px 9px; border-bottom: 1px solid #e5e7eb; text-align: left; }
td { white-space: nowrap; }
th { background: #f3f4f6; font-weight: 600; vertical-align: bottom; max-width: 9em; line-height: 1.25; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) td { background: #fafbfc; }
details > summary { cursor: pointer; color: #374151; margin: 6px 0; font-size: 14px; }
.chart { margin: 12px 0 6px; border-top: 1px solid #f0f1f3; padding-top: 8px; }
h2 + .chart { border-top: 0; }
ul.files { margin: 4px 0 0; padding-left: 20px; }
footer { color: #6b7280; font-size: 13px; text-align: center; margin-top: 10px; }
"""


def _model_names(
    accuracy: Sequence[AccuracyResult | DatasetAccuracy],
    temporal: Sequence[TemporalResult],
    profiles: Sequence[ProfileResult],
    agreement: AgreementResult | None,
) -> list[str]:
    names = [r.name for r in accuracy] + [t.name for t in temporal] + [p.name for p in profiles]
    if agreement is not None:
        names += [agreement.name_a, agreement.name_b]
    return list(dict.fromkeys(names))


def _header(title: str, created: datetime, names: list[str], profiles: Sequence[ProfileResult],
            links: list[tuple[str, str]]) -> str:
    devices: dict[str, list[str]] = {}
    for profile in profiles:
        kind = MEMORY_KINDS.get(profile.memory_kind, profile.memory_kind)
        devices.setdefault(profile.name, []).append(f"{profile.device}, memory: {kind}")
    models = "; ".join(
        f"{name} ({' / '.join(dict.fromkeys(devices[name]))})" if name in devices else name for name in names
    )
    rows = [("Created", created.strftime("%Y-%m-%d %H:%M %Z").strip()), ("Models", models or "none")]
    if not profiles:
        rows.append(("Devices", "not recorded (no latency profile given)"))
    info = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
    nav = "".join(f'<a href="#{anchor}">{html.escape(text)}</a>' for anchor, text in links)
    return (
        f'<header class="top"><div class="inner"><h1>{html.escape(title)}</h1><dl>{info}</dl>'
        f"<nav>{nav}</nav></div></header>"
    )


def _is_warning(note: str) -> bool:
    lowered = note.lower()
    return "random" in lowered or "warning" in lowered


def _notes(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    warning = any(_is_warning(n) for n in notes)
    items = "".join(
        f'<li class="warning">{html.escape(n)}</li>' if _is_warning(n) else f"<li>{html.escape(n)}</li>"
        for n in notes
    )
    css = "notes has-warning" if warning else "notes"
    return f'<aside class="{css}" role="alert"><h2>Read first</h2><ul>{items}</ul></aside>'


def _files_section(written: list[str]) -> str:
    if not written:
        return ""
    items = "".join(f'<li><a href="{html.escape(n)}">{html.escape(n)}</a></li>' for n in written)
    return _section(
        "files", "Data files", _paragraph("The numbers behind this report, as CSV files beside it."),
        f'<ul class="files">{items}</ul>',
    )


def write_report(
    out_dir: str | Path,
    title: str,
    *,
    accuracy: Sequence[AccuracyResult | DatasetAccuracy] = (),
    temporal: Sequence[TemporalResult] = (),
    profiles: Sequence[ProfileResult] = (),
    agreement: AgreementResult | None = None,
    notes: Sequence[str] = (),
) -> Path:
    """Write OUT/report.html (self-contained, opens offline) and the CSV tables that have data; returns the HTML
    path. Sections without data are left out; notes are shown first, warnings about random weights in red."""
    import plotly.offline

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    accuracy, temporal, profiles = tuple(accuracy), tuple(temporal), tuple(profiles)
    names = _model_names(accuracy, temporal, profiles, agreement)
    colors = charts.model_colors(names)

    sections: list[tuple[str, str, str]] = []  # (anchor, nav text, html)
    if accuracy or temporal:
        sections.append(("summary", "Summary", _summary_section(accuracy, temporal, colors)))
    if accuracy:
        sections.append(("accuracy", "Accuracy", _accuracy_section(accuracy, colors)))
    if temporal:
        sections.append(("temporal", "Stability", _temporal_section(temporal, colors)))
    if profiles:
        sections.append(("latency", "Latency & memory", _latency_section(profiles, colors)))
    if agreement is not None:
        sections.append(("agreement", "Agreement", _agreement_section(agreement)))
    written = _write_csvs(out, _csv_tables(accuracy, temporal, profiles, agreement))
    files = _files_section(written)
    links = [(anchor, text) for anchor, text, _ in sections] + ([("files", "Data files")] if files else [])

    body = "".join(part for _, _, part in sections) or _section("empty", "No results", _paragraph(
        "No results were given, so there is nothing to show."))
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style>"
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script></head><body>'
        f"{_header(title, datetime.now().astimezone(), names, profiles, links)}"
        f"<main>{_notes(notes)}{body}{files}"
        "<footer>Written by the evaluation package; charts are interactive (hover, zoom, click legend entries)."
        "</footer></main></body></html>\n"
    )
    path = out / REPORT_NAME
    path.write_text(page, encoding="utf-8")
    return path
