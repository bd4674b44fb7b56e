"""Tab 6, "Accuracy": with ground truth (a zip of DAVIS palette PNGs or a COCO-RLE json, named by clip frame), J
(mIoU), F and J&F per model, per object and per frame. Without it, the two models' agreement, clearly labelled as
not accuracy. The example clip brings its own ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from evaluation.charts.accuracy import jf_per_frame, per_object_box
from evaluation.charts.comparison import model_comparison_bars
from playerseg.compare.outcome import Comparison
from playerseg.ui.charts import agreement_chart, fit
from playerseg.ui.tables import rounded

COLUMNS = ["model", "J (mIoU) ↑", "F ↑", "J&F ↑", "J recall ↑", "F recall ↑", "frames scored", "missing objects"]
AGREEMENT_COLUMNS = ["object", "mean IoU between A and B"]
NO_GROUND_TRUTH = (
    "**No ground truth given: this is agreement, not accuracy.** The chart shows how much model A and model B agree "
    "(IoU between their masks per object and frame); two models can agree and both be wrong. Upload ground truth "
    "and press *Score* to get J, F and J&F."
)
RANDOM_NOTE = " Random-weight models are in this comparison: their scores mean nothing."


@dataclass
class AccuracyTab:
    ground_truth: gr.File
    score: gr.Button
    note: gr.Markdown
    table: gr.Dataframe
    bars: gr.Plot
    per_frame: gr.Plot
    per_object: gr.Plot

    def outputs(self) -> list[Any]:
        return [self.note, self.table, self.bars, self.per_frame, self.per_object]

    def render(self, comparison: Comparison | None) -> list[Any]:
        if comparison is None:
            return ["", pd.DataFrame(columns=COLUMNS), None, None, None]
        results = [o.accuracy for o in comparison.outcomes if o.accuracy is not None]
        random = RANDOM_NOTE if any(o.random_weights for o in comparison.outcomes) else ""
        if results:
            frames = max(len(r.frames) for r in results)
            note = f"J&F against the ground truth on {frames} annotated frames (DAVIS 2017 definitions).{random}"
            return [
                note,
                accuracy_table(comparison),
                fit(model_comparison_bars(accuracy=results)),
                fit(jf_per_frame(results)),
                fit(per_object_box(results)),
            ]
        if comparison.agreement is None:
            return [
                "No ground truth and only one model completed: nothing to score.",
                pd.DataFrame(columns=COLUMNS),
                None,
                None,
                None,
            ]
        return [
            NO_GROUND_TRUTH + random,
            agreement_table(comparison),
            agreement_chart(comparison.agreement),
            None,
            None,
        ]


def accuracy_table(comparison: Comparison) -> pd.DataFrame:
    rows = []
    for outcome in comparison.outcomes:
        r = outcome.accuracy
        if r is None:
            continue
        rows.append(
            [
                outcome.display_name,
                rounded(r.J_mean),
                rounded(r.F_mean),
                rounded(r.JF_mean),
                rounded(r.J_recall),
                rounded(r.F_recall),
                len(r.frames),
                ", ".join(str(i) for i in r.missing_objects) or "none",
            ]
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def agreement_table(comparison: Comparison) -> pd.DataFrame:
    agreement = comparison.agreement
    if agreement is None:
        return pd.DataFrame(columns=AGREEMENT_COLUMNS)
    rows = [
        [f"object {obj}", rounded(float(pd.Series(agreement.iou[:, k]).mean()))]
        for k, obj in enumerate(agreement.object_ids)
    ]
    rows.append(["all objects", rounded(agreement.mean_iou)])
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def build_accuracy_tab() -> AccuracyTab:
    with gr.Row():
        ground_truth = gr.File(
            label="Ground truth: zip of DAVIS palette PNGs (00000.png = clip frame 0) or COCO-RLE json",
            file_types=[".zip", ".json"],
            elem_id="ground-truth",
        )
        score = gr.Button("Score against ground truth", elem_id="score-ground-truth", scale=0, min_width=220)
    note = gr.Markdown("", elem_id="accuracy-note")
    table = gr.Dataframe(interactive=False, label="Accuracy per model", elem_id="accuracy-table")
    bars = gr.Plot(label="By model", elem_id="plot-accuracy-bars")
    per_frame = gr.Plot(label="Per frame", elem_id="plot-accuracy-frames")
    per_object = gr.Plot(label="Per object", elem_id="plot-accuracy-objects")
    return AccuracyTab(ground_truth, score, note, table, bars, per_frame, per_object)
