"""One self-contained HTML report (plus CSV tables beside it) from evaluation results.

`write_report` writes OUT/report.html: a header (title, time, models and devices), the caller's notes at the top
(e.g. random-weight warnings), summary tables, and the charts of `evaluation.charts`. plotly.js is inlined once in
<head>, so the file opens offline and loads nothing from the network. The per-frame and per-object numbers are
written beside it as CSV files, one per kind of result that was given.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from evaluation.charts.profile import MEMORY_KINDS
from evaluation.charts.style import model_colors
from evaluation.report.markup import paragraph, section
from evaluation.report.sections import (
    accuracy_section,
    agreement_section,
    latency_section,
    summary_section,
    temporal_section,
)
from evaluation.report.tables import csv_tables, write_csvs
from evaluation.results.accuracy import AccuracyResult, DatasetAccuracy
from evaluation.results.agreement import AgreementResult
from evaluation.results.profile import ProfileResult
from evaluation.results.temporal import TemporalResult

REPORT_NAME = "report.html"
# The page's own style: no external stylesheet or font, so the file opens offline.
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


def _header(
    title: str, created: datetime, names: list[str], profiles: Sequence[ProfileResult], links: list[tuple[str, str]]
) -> str:
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
        f'<li class="warning">{html.escape(n)}</li>' if _is_warning(n) else f"<li>{html.escape(n)}</li>" for n in notes
    )
    css = "notes has-warning" if warning else "notes"
    return f'<aside class="{css}" role="alert"><h2>Read first</h2><ul>{items}</ul></aside>'


def _files_section(written: list[str]) -> str:
    if not written:
        return ""
    items = "".join(f'<li><a href="{html.escape(n)}">{html.escape(n)}</a></li>' for n in written)
    return section(
        "files",
        "Data files",
        paragraph("The numbers behind this report, as CSV files beside it."),
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
    colors = model_colors(names)

    sections: list[tuple[str, str, str]] = []  # (anchor, nav text, html)
    if accuracy or temporal:
        sections.append(("summary", "Summary", summary_section(accuracy, temporal, colors)))
    if accuracy:
        sections.append(("accuracy", "Accuracy", accuracy_section(accuracy, colors)))
    if temporal:
        sections.append(("temporal", "Stability", temporal_section(temporal, colors)))
    if profiles:
        sections.append(("latency", "Latency & memory", latency_section(profiles, colors)))
    if agreement is not None:
        sections.append(("agreement", "Agreement", agreement_section(agreement)))
    written = write_csvs(out, csv_tables(accuracy, temporal, profiles, agreement))
    files = _files_section(written)
    links = [(anchor, text) for anchor, text, _ in sections] + ([("files", "Data files")] if files else [])

    body = "".join(part for _, _, part in sections) or section(
        "empty", "No results", paragraph("No results were given, so there is nothing to show.")
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
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
