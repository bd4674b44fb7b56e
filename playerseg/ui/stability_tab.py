"""Tab 3, "Temporal stability": flicker per model and object (table) and over time (timelines), from
`evaluation.temporal`. No ground truth needed: a steady mask changes little from one frame to the next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from evaluation.charts.comparison import model_comparison_bars
from evaluation.charts.temporal import temporal_timeline
from playerseg.compare.outcome import Comparison
from playerseg.ui.charts import fit
from playerseg.ui.tables import rounded

COLUMNS = [
    "model",
    "object",
    "frames present",
    "consecutive IoU ↑",
    "flow consistency ↑",
    "area volatility ↓",
    "centroid jitter px ↓",
    "presence toggles ↓",
    "boundary flip rate ↓",
]
HELP = (
    "Higher IoU with the previous frame and flow consistency (IoU after following the motion) mean steadier masks; "
    "area volatility, centroid jitter, toggles (mask vanishing and coming back) and boundary flips measure flicker."
)


@dataclass
class StabilityTab:
    table: gr.Dataframe
    bars: gr.Plot
    timeline: gr.Plot

    def outputs(self) -> list[Any]:
        return [self.table, self.bars, self.timeline]

    def render(self, comparison: Comparison | None) -> list[Any]:
        results = [o.temporal for o in comparison.outcomes if o.temporal is not None] if comparison else []
        if not results:
            return [pd.DataFrame(columns=COLUMNS), None, None]
        return [
            stability_table(comparison),
            fit(model_comparison_bars(temporal=results)),
            fit(temporal_timeline(results)),
        ]


def stability_table(comparison: Comparison) -> pd.DataFrame:
    rows = []
    for outcome in comparison.outcomes:
        if outcome.temporal is None:
            continue
        for o in outcome.temporal.objects:
            rows.append(
                [
                    outcome.display_name,
                    o.object_id,
                    o.frames_present,
                    rounded(o.consecutive_iou),
                    rounded(o.flow_consistency),
                    rounded(o.area_volatility),
                    rounded(o.centroid_jitter_px, 2),
                    o.presence_toggles,
                    rounded(o.boundary_flip_rate),
                ]
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def build_stability_tab() -> StabilityTab:
    gr.Markdown(HELP)
    table = gr.Dataframe(
        headers=COLUMNS, interactive=False, label="Flicker per model and object", elem_id="stability-table"
    )
    bars = gr.Plot(label="Flicker by model", elem_id="plot-stability-bars")
    timeline = gr.Plot(label="Stability per frame", elem_id="plot-stability-timeline")
    return StabilityTab(table, bars, timeline)
