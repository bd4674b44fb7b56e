"""Tab 4, "Latency": per-frame latency of both models over time and as a distribution, with p50/p95, FPS, the
prompt frame's time apart, and the device named."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from evaluation.charts.profile import latency_histogram, latency_timeline
from playerseg.compare.outcome import Comparison
from playerseg.ui.charts import fit
from playerseg.ui.tables import rounded

COLUMNS = ["model", "device", "frames", "p50 ms", "p95 ms", "p99 ms", "max ms", "FPS", "prompt frame ms"]
HELP = (
    "Time per tracked frame (frame read included), with the GPU synchronised around each step. The prompt frame, "
    "which encodes the clicks, is reported apart; frames that were prompted are marked on the timeline."
)


@dataclass
class LatencyTab:
    table: gr.Dataframe
    timeline: gr.Plot
    histogram: gr.Plot

    def outputs(self) -> list[Any]:
        return [self.table, self.timeline, self.histogram]

    def render(self, comparison: Comparison | None) -> list[Any]:
        profiles = [o.profile for o in comparison.outcomes if o.profile is not None] if comparison else []
        if not profiles:
            return [pd.DataFrame(columns=COLUMNS), None, None]
        return [latency_table(comparison), fit(latency_timeline(profiles)), fit(latency_histogram(profiles))]


def latency_table(comparison: Comparison) -> pd.DataFrame:
    rows = []
    for outcome in comparison.outcomes:
        if outcome.profile is None:
            continue
        s = outcome.profile.summary()
        rows.append(
            [
                outcome.display_name,
                outcome.profile.device,
                s.frames,
                rounded(s.p50_ms, 1),
                rounded(s.p95_ms, 1),
                rounded(s.p99_ms, 1),
                rounded(s.max_ms, 1),
                rounded(s.fps, 2),
                rounded(s.prompt_ms, 1),
            ]
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def build_latency_tab() -> LatencyTab:
    gr.Markdown(HELP)
    table = gr.Dataframe(headers=COLUMNS, interactive=False, label="Latency per model", elem_id="latency-table")
    timeline = gr.Plot(label="Latency per frame", elem_id="plot-latency-timeline")
    histogram = gr.Plot(label="Latency distribution", elem_id="plot-latency-histogram")
    return LatencyTab(table, timeline, histogram)
