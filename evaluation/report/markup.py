"""The HTML pieces of the report: table cells and tables (numbers right-aligned, long tables folded), sections,
hint paragraphs and embedded plotly figures."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evaluation.charts.style import object_label

if TYPE_CHECKING:
    import plotly.graph_objects as go

# Plotly's modebar logo links to plotly.com; the report stays free of outside links.
FIGURE_CONFIG = {"displaylogo": False, "responsive": True}
# Tables longer than this start folded.
FOLD_ROWS = 40
MISSING = "–"
UP, DOWN = "↑", "↓"


def number(value: float | int | None, digits: int = 3) -> str:
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


def num_cell(value: float | int | None, digits: int = 3) -> Cell:
    return Cell(number(value, digits), numeric=True)


def text_cell(value: object) -> Cell:
    return Cell(str(value))


def html_table(columns: Sequence[str], rows: Sequence[Sequence[Cell]], caption: str = "") -> str:
    numeric = [bool(rows) and all(row[i].numeric for row in rows) for i in range(len(columns))]
    head = "".join(
        f'<th class="num">{html.escape(c)}</th>' if n else f"<th>{html.escape(c)}</th>"
        for c, n in zip(columns, numeric)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{html.escape(c.text)}</td>' if c.numeric else f"<td>{html.escape(c.text)}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    table = f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    if not caption:
        return table
    opened = " open" if len(rows) <= FOLD_ROWS else ""
    return f"<details{opened}><summary>{html.escape(caption)} ({len(rows)} rows)</summary>{table}</details>"


def object_list(ids: Iterable[int], sequence: str | None = None) -> str:
    labels = [object_label(i, sequence) for i in ids]
    return ", ".join(labels) if labels else "none"


def figure_html(fig: go.Figure) -> str:
    body = fig.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False, config=FIGURE_CONFIG)
    return f'<div class="chart">{body}</div>'


def section(anchor: str, heading: str, *parts: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(heading)}</h2>{"".join(parts)}</section>'


def paragraph(text: str) -> str:
    return f'<p class="hint">{html.escape(text)}</p>'
