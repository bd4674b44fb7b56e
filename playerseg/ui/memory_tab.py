"""Tab 5, "Memory": memory per frame and the peak per model: GPU memory allocated by torch on CUDA, the process's
resident memory (RSS) on CPU, labelled as such because the two are not comparable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from evaluation.charts.profile import memory_timeline
from playerseg.compare.outcome import Comparison
from playerseg.ui.charts import fit

COLUMNS = ["model", "device", "measure", "peak MB", "mean MB per frame"]
KIND_LABELS = {
    "cuda_allocated": "GPU memory allocated (VRAM)",
    "process_rss": "process RSS (CPU run: not VRAM)",
}


@dataclass
class MemoryTab:
    note: gr.Markdown
    table: gr.Dataframe
    timeline: gr.Plot

    def outputs(self) -> list[Any]:
        return [self.note, self.table, self.timeline]

    def render(self, comparison: Comparison | None) -> list[Any]:
        profiles = [o.profile for o in comparison.outcomes if o.profile is not None] if comparison else []
        if not profiles:
            return ["", pd.DataFrame(columns=COLUMNS), None]
        kinds = {p.memory_kind for p in profiles}
        note = (
            "These runs were on CPU: the figures are the process's resident memory (RSS), which includes Python, "
            "the app and both models, not GPU memory. Run on a GPU to see VRAM."
            if kinds == {"process_rss"}
            else "GPU memory allocated by torch per frame; the peak is reset at the start of each model's run."
        )
        return [note, memory_table(comparison), fit(memory_timeline(profiles))]


def memory_table(comparison: Comparison) -> pd.DataFrame:
    rows = []
    for outcome in comparison.outcomes:
        profile = outcome.profile
        if profile is None:
            continue
        mean = float(profile.memory_mb.mean()) if len(profile.memory_mb) else None
        rows.append(
            [
                outcome.display_name,
                profile.device,
                KIND_LABELS.get(profile.memory_kind, profile.memory_kind),
                round(float(profile.peak_memory_mb), 1),
                None if mean is None else round(mean, 1),
            ]
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def build_memory_tab() -> MemoryTab:
    note = gr.Markdown("", elem_id="memory-note")
    table = gr.Dataframe(headers=COLUMNS, interactive=False, label="Peak memory per model", elem_id="memory-table")
    timeline = gr.Plot(label="Memory per frame", elem_id="plot-memory-timeline")
    return MemoryTab(note, table, timeline)
