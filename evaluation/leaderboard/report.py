"""OUT/report.html of an evaluate folder: the page a stakeholder reads in two minutes.

Top to bottom: title and dates; a "Read first" box (random or synthetic-only weights, failed pairs, no ground truth);
the verdict; one table row per model (size, speed, memory, J&F with its interval, flicker, ids, non-players); J&F per
sequence; speed against accuracy; the frames where the first two models differ most, as stills; provenance (weights,
checkpoint sha256, device, dataset and its fingerprint). The page style, tables and plotly embedding are the
evaluation report's (plotly.js inlined once: the file opens offline and loads nothing from the network).
"""

from __future__ import annotations

import html
import math
from datetime import datetime
from pathlib import Path

from evaluation.charts.style import model_colors
from evaluation.leaderboard.figures import jf_per_sequence, speed_vs_accuracy
from evaluation.leaderboard.stills import Still, stills
from evaluation.leaderboard.table import LEADERBOARD_CSV, LEADERBOARD_JSON, MODELS_CSV, Leaderboard, ModelSummary
from evaluation.leaderboard.verdict import (
    LESS,
    MORE,
    SAME,
    Verdict,
    device_of,
    memory_kind,
    signed,
    verdict,
    weights_sentence,
)
from evaluation.report.markup import (
    DOWN,
    MISSING,
    UP,
    Cell,
    figure_html,
    html_table,
    num_cell,
    number,
    paragraph,
    section,
)
from evaluation.report.page import CSS

REPORT_NAME = "report.html"
EXTRA_CSS = """
p.headline { font-size: 19px; line-height: 1.45; font-weight: 600; margin: 14px 0 12px; }
.challenger { border-left: 5px solid #9ca3af; padding: 2px 0 2px 14px; margin: 12px 0; }
.challenger h3 { margin: 4px 0 4px; }
.challenger ul, ul.details { margin: 4px 0 8px; padding-left: 20px; }
li.warning { color: #9b1c1c; font-weight: 650; }
.tag { display: inline-block; font-size: 12.5px; font-weight: 600; padding: 1px 8px; margin-left: 8px;
  border-radius: 10px; background: #e5e7eb; color: #374151; vertical-align: 2px; }
.tag.more { background: #dcfce7; color: #166534; }
.tag.less { background: #fee2e2; color: #991b1b; }
figure.still { margin: 16px 0 22px; max-width: 100%; }
figure.still img { display: block; width: 100%; height: auto; border-radius: 4px; }
figure.still .panels { display: grid; gap: 8px; margin-top: 4px; font-size: 13px; color: #374151;
  text-align: center; font-weight: 600; }
figure.still figcaption { font-size: 14px; color: #4b5563; margin-top: 2px; }
#models td { white-space: pre; vertical-align: top; }
#models th, #models td { padding: 5px 7px; }
#models th { max-width: 7.5em; }
#models td:first-child { white-space: pre-wrap; overflow-wrap: anywhere; min-width: 8em; max-width: 16em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; font-size: 14px; margin: 10px 0; }
dl.facts dt { color: #6b7280; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
#provenance td:nth-child(4) { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
"""
TAGS = {MORE: "more", LESS: "less", SAME: "same"}


def _esc(text: object) -> str:
    return html.escape(str(text))


def _finite(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


# ---------------------------------------------------------------------------------------------------------------
# header and notes


def _header(board: Leaderboard, links: list[tuple[str, str]]) -> str:
    manifest = board.manifest
    names = manifest.model_names
    title = f"Which model? {' vs '.join(names)}" if len(names) <= 3 else f"Leaderboard of {len(names)} models"
    rows = [
        ("Report written", datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()),
        ("Models run", manifest.created or MISSING),
        ("Dataset", f"{Path(manifest.data).name}: {len(manifest.sequences)} sequences ({manifest.data})"),
        ("Baseline", f"{board.baseline} (the first model asked for; every other model is compared with it)"),
    ]
    info = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in rows)
    nav = "".join(f'<a href="#{anchor}">{_esc(text)}</a>' for anchor, text in links)
    return (
        f'<header class="top"><div class="inner"><h1>{_esc(title)}</h1><dl>{info}</dl><nav>{nav}</nav></div></header>'
    )


def notes(board: Leaderboard) -> list[tuple[str, bool]]:
    """(note, is a warning): weights labels, failed pairs with their reasons, no ground truth."""
    found: list[tuple[str, bool]] = []
    for summary in board.models:
        label = weights_sentence(summary)
        if label:
            found.append((label, summary.random_weights))
    found += [(f"{f.model} failed on {f.sequence}: {f.reason}", True) for f in board.failures]
    if board.rows and not any(_finite(row.JF) for row in board.rows):
        found.append(
            (
                "No ground truth: J&F is not measured, so the flicker figures say how steady the masks are, not "
                "whether they are right.",
                False,
            )
        )
    return found


def _notes_box(board: Leaderboard) -> str:
    found = notes(board)
    if not found:
        return ""
    items = "".join(f'<li class="warning">{_esc(n)}</li>' if w else f"<li>{_esc(n)}</li>" for n, w in found)
    css = "notes has-warning" if any(w for _, w in found) else "notes"
    return f'<aside class="{css}" role="alert"><h2>Read first</h2><ul>{items}</ul></aside>'


# ---------------------------------------------------------------------------------------------------------------
# sections


def _item(sentence: str) -> str:
    css = ' class="warning"' if sentence.startswith("RANDOM WEIGHTS") else ""
    return f"<li{css}>{_esc(sentence)}</li>"


def verdict_section(result: Verdict, colors: dict[str, str]) -> str:
    """The headline, a block per challenger (its accuracy tag and sentences), then the sentences about all."""
    blocks = []
    for challenger in result.challengers:
        sentences = challenger.sentences[1:] if len(result.challengers) == 1 else challenger.sentences
        tag = f'<span class="tag {TAGS.get(challenger.accuracy, "")}">{_esc(challenger.accuracy)}</span>'
        blocks.append(
            f'<div class="challenger" style="border-left-color: {colors[challenger.model]}">'
            f"<h3>{_esc(challenger.model)} vs {_esc(result.baseline)}{tag}</h3>"
            f"<ul>{''.join(_item(s) for s in sentences)}</ul></div>"
        )
    details = f'<ul class="details">{"".join(_item(s) for s in result.details)}</ul>'
    hint = paragraph(
        "How this is decided: J&F (0 to 1, higher is better) measures how well the masks match the ground truth. "
        "A challenger is called more or less accurate only when the 95% interval of its J&F difference to the "
        "baseline (a paired bootstrap over sequences) lies wholly above or below 0. Speed is the median time per "
        "frame; flicker is reported only beside J&F, because steady masks can be steadily wrong."
    )
    return section("verdict", "Verdict", f'<p class="headline">{_esc(result.headline)}</p>', *blocks, details, hint)


def _parameters(count: int | None) -> str:
    if count is None:
        return MISSING
    return f"{count / 1e6:.1f} M" if count >= 1_000_000 else f"{count:,}"


def _times(value: float) -> str:
    return f"{value:.2f}×" if _finite(value) else MISSING


def _versus(summary: ModelSummary, baseline: str) -> str:
    d = summary.JF_vs_baseline
    if summary.model == baseline:
        return "baseline"
    if d is None or not _finite(d.mean):
        return MISSING
    if not (_finite(d.low) and _finite(d.high)):
        return signed(d.mean)
    return f"{signed(d.mean)}\n{signed(d.low)} to {signed(d.high)}"


def _interval(summary: ModelSummary) -> str:
    jf = summary.JF
    return f"{jf.low:.3f} to {jf.high:.3f}" if _finite(jf.low) and _finite(jf.high) else MISSING


def _with(value: str, extra: str) -> str:
    """A figure and its companion ('98.8' + ' / 100.5'; a second line: the models table keeps line breaks), or the
    dash when the figure is missing."""
    return value if value == MISSING or extra == MISSING else f"{value}{extra}"


def _model_row(board: Leaderboard, s: ModelSummary) -> list[Cell]:
    device = device_of(board, s.model)
    total = len(board.manifest.sequences)
    name = s.model + ("\nbaseline" if s.model == board.baseline else "")
    if s.sequences != total:
        name += f"\n{s.sequences} of {total} sequences"
    memory = number(s.peak_memory_mb, 0)
    if memory != MISSING:
        memory = f"{s.peak_memory_mb:,.0f} MiB {memory_kind(s.memory_kind, device)}" + (f"\n{device}" if device else "")
    jf = _with(number(s.JF.mean), f"\n{_interval(s)}" if _interval(s) != MISSING else "")
    return [
        Cell(name),
        Cell(_parameters(s.parameters), numeric=True),
        Cell(_with(number(s.latency_p50_ms, 1), f" / {number(s.latency_p95_ms, 1)}"), numeric=True),
        Cell(_with(number(s.fps, 1), f"\n{_times(s.fps_vs_baseline)}"), numeric=True),
        Cell(memory, numeric=True),
        Cell(_times(s.streams_vs_baseline), numeric=True),
        Cell(jf, numeric=True),
        Cell(_versus(s, board.baseline), numeric=True),
        num_cell(s.consecutive_iou),
        num_cell(s.area_volatility),
        num_cell(s.id_switches, 0),
        num_cell(s.idf1),
        num_cell(s.non_players_kept, 0),
    ]


MODEL_COLUMNS = [
    "model",
    "parameters",
    "ms/frame p50 / p95",
    "frames/s (vs baseline)",
    "peak memory",
    "streams vs baseline",
    f"J&F {UP} (95% interval)",
    "J&F vs baseline (95% interval)",
    f"consecutive IoU {UP}",
    f"area volatility {DOWN}",
    f"id switches {DOWN}",
    f"IDF1 {UP}",
    f"non-players kept {DOWN}",
]


def models_section(board: Leaderboard) -> str:
    hint = paragraph(
        f"One row per model, figures over the sequences it was scored on. {UP} higher is better, {DOWN} lower is "
        "better. Speed: the median over sequences of each run's median (p50) and 95th-percentile time per frame; "
        "frames/s and streams are relative to the baseline (streams: how many times as many runs fit in the "
        f"baseline's peak memory). Memory is GPU memory (VRAM) on cuda, process memory (RSS) on a CPU. {MISSING}: "
        "not measured (id metrics only for models that pick their own ids, non-players only where the dataset "
        "records who is a player)."
    )
    return section("models", "Models", hint, html_table(MODEL_COLUMNS, [_model_row(board, s) for s in board.models]))


def sequences_section(board: Leaderboard, colors: dict[str, str]) -> str:
    rows = [
        [
            Cell(r.model),
            Cell(r.sequence),
            num_cell(r.JF),
            num_cell(r.J),
            num_cell(r.F),
            num_cell(r.latency_p50_ms, 1),
            num_cell(r.peak_memory_mb, 0),
            num_cell(r.consecutive_iou),
            num_cell(r.area_volatility),
            num_cell(r.idf1),
            num_cell(r.id_switches, 0),
        ]
        for r in board.rows
    ]
    columns = ["model", "sequence", f"J&F {UP}", f"J {UP}", f"F {UP}", "ms/frame p50", "peak memory MiB"]
    columns += [f"consecutive IoU {UP}", f"area volatility {DOWN}", f"IDF1 {UP}", f"id switches {DOWN}"]
    table = html_table(columns, rows, caption="Every model on every sequence")
    return section("sequences", "Per sequence", figure_html(jf_per_sequence(board, colors)), table)


def speed_section(board: Leaderboard, colors: dict[str, str]) -> str:
    hint = paragraph(
        "Each point is a model: further left is faster, higher is more accurate; the vertical bar is the 95% "
        "interval of its mean J&F over sequences."
    )
    return section("speed", "Speed and accuracy", hint, figure_html(speed_vs_accuracy(board, colors)))


def _still(still: Still) -> str:
    columns = f"grid-template-columns: repeat({len(still.panels)}, 1fr)"
    labels = "".join(f"<span>{_esc(name)}</span>" for name in still.panels)
    return (
        f'<figure class="still" style="width: {still.width}px">'
        f'<img src="{still.image}" width="{still.width}" height="{still.height}" '
        f'alt="{_esc(still.sequence)} frame {still.frame}: {_esc(", ".join(still.panels))}">'
        f'<div class="panels" style="{columns}">{labels}</div>'
        f"<figcaption>{_esc(still.sequence)}, frame {still.frame}: the two models label {still.agreement:.0%} of "
        "the object pixels the same</figcaption>"
        "</figure>"
    )


def stills_section(found: list[Still], line: str) -> str:
    names = found[0].panels[-2:] if found else ()
    heading = f"Where {names[0]} and {names[1]} differ most" if names else "Where the models differ most"
    return section("stills", heading, paragraph(line), *(_still(still) for still in found))


def _weights(summary: ModelSummary) -> str:
    if summary.random_weights and "random" not in summary.weights.lower():
        return f"random weights ({summary.weights})" if summary.weights else "random weights"
    return summary.weights or MISSING


def provenance_section(board: Leaderboard, out: Path) -> str:
    """Which models (weights, checkpoint sha256, device) ran on which dataset (path, fingerprint, sequences)."""
    manifest = board.manifest
    entries = {entry.name: entry for entry in manifest.models}
    summaries = {summary.model: summary for summary in board.models}
    rows = []
    for name in manifest.model_names:
        devices = sorted({row.device for row in board.rows_of(name) if row.device}) or [manifest.device or MISSING]
        rows.append(
            [
                Cell(name),
                Cell(_weights(summaries[name])),
                Cell(_parameters(entries[name].parameters), numeric=True),
                Cell(entries[name].checkpoint_sha256 or MISSING),
                Cell(", ".join(devices)),
            ]
        )
    table = html_table(["model", "weights", "parameters", "checkpoint sha256", "device"], rows)
    facts = [
        ("Dataset", manifest.data),
        ("Dataset fingerprint", f"sha256 {manifest.dataset_fingerprint}"),
        ("Sequences", f"{len(manifest.sequences)}: {', '.join(manifest.sequences)}"),
        ("Prompts", manifest.prompts),
        ("Models run", manifest.created),
        ("Engine", manifest.engine),
        ("Evaluate folder", str(out.resolve())),
    ]
    facts_html = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v or MISSING)}</dd>" for k, v in facts)
    files = [name for name in (LEADERBOARD_CSV, MODELS_CSV, LEADERBOARD_JSON) if (out / name).is_file()]
    links = ", ".join(f'<a href="{_esc(name)}">{_esc(name)}</a>' for name in files)
    data = f'<p class="hint">The numbers behind this page: {links} (beside this file).</p>' if files else ""
    return section("provenance", "Provenance", table, f'<dl class="facts">{facts_html}</dl>', data)


def write_leaderboard_report(out: str | Path, board: Leaderboard) -> Path:
    """Write OUT/report.html (self-contained: plotly.js inlined once, stills embedded) and return its path."""
    import plotly.offline

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    colors = model_colors(board.manifest.model_names)
    found, line = stills(folder, board)
    sections = [
        ("verdict", "Verdict", verdict_section(verdict(board), colors)),
        ("models", "Models", models_section(board)),
        ("sequences", "Per sequence", sequences_section(board, colors)),
        ("speed", "Speed and accuracy", speed_section(board, colors)),
        ("stills", "Where they differ", stills_section(found, line)),
        ("provenance", "Provenance", provenance_section(board, folder)),
    ]
    title = f"Leaderboard: {', '.join(board.manifest.model_names)}"
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{CSS}{EXTRA_CSS}</style>"
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script></head><body>'
        f"{_header(board, [(anchor, text) for anchor, text, _ in sections])}"
        f"<main>{_notes_box(board)}{''.join(part for _, _, part in sections)}"
        "<footer>Written by python -m evaluation leaderboard from the run folders; charts are interactive (hover, "
        "zoom, click legend entries).</footer></main></body></html>\n"
    )
    path = folder / REPORT_NAME
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(path)
    return path
