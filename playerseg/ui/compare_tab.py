"""Tab 2, "Side by side": pick model A and model B, run both on the same clip and prompts, and watch them together:
one combined video with labels, each model's own overlay, and where the two disagree (video and timeline)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from playerseg.compare.outcome import Comparison
from playerseg.tracking import nano_store
from playerseg.tracking.registry import ModelUnavailableError, display_name, get_spec
from playerseg.ui.charts import agreement_chart
from playerseg.ui.config import AppConfig

DISAGREEMENT_HELP = (
    "Disagreement: pixels where the two models give a different label. The disagreement video greys the frame and "
    "colours only those pixels; the timeline shows their share per frame and each object's IoU between the models."
)


@dataclass
class CompareTab:
    model_a: gr.Dropdown
    model_b: gr.Dropdown
    run: gr.Button
    model_facts: gr.Markdown
    status: gr.Markdown
    side_by_side: gr.Video
    video_a: gr.Video
    video_b: gr.Video
    disagreement: gr.Video
    disagreement_plot: gr.Plot

    def outputs(self) -> list[Any]:
        return [self.side_by_side, self.video_a, self.video_b, self.disagreement, self.disagreement_plot]

    def render(self, comparison: Comparison | None) -> list[Any]:
        if comparison is None:
            return [None, None, None, None, None]
        a, b = comparison.outcomes
        return [
            _path(comparison.side_by_side),
            gr.Video(value=_path(a.overlay), label=f"Model {a.display_name}"),
            gr.Video(value=_path(b.overlay), label=f"Model {b.display_name}"),
            _path(comparison.disagreement),
            agreement_chart(comparison.agreement),
        ]


def build_compare_tab(config: AppConfig) -> CompareTab:
    model_a_default, model_b_default = config.default_pair()
    choices = [(display_name(m), m) for m in config.models]
    with gr.Row():
        model_a = gr.Dropdown(choices, value=model_a_default, label="Model A", elem_id="model-a")
        model_b = gr.Dropdown(choices, value=model_b_default, label="Model B", elem_id="model-b")
        run = gr.Button("Run both models", variant="primary", elem_id="run-models", scale=0, min_width=200)
    model_facts = gr.Markdown(models_facts(model_a_default, model_b_default), elem_id="model-facts")
    for dropdown in (model_a, model_b):
        dropdown.change(models_facts, [model_a, model_b], model_facts, api_visibility="private")
    status = gr.Markdown("Load a clip and click its players, then run both models.", elem_id="run-status")
    side_by_side = gr.Video(label="Side by side (A | B)", interactive=False, elem_id="video-side-by-side")
    with gr.Row():
        video_a = gr.Video(label="Model A", interactive=False, elem_id="video-a")
        video_b = gr.Video(label="Model B", interactive=False, elem_id="video-b")
    with gr.Row():
        disagreement = gr.Video(label="Disagreement", interactive=False, elem_id="video-disagreement")
        gr.Markdown(DISAGREEMENT_HELP)
    disagreement_plot = gr.Plot(label="Disagreement per frame", elem_id="plot-disagreement")
    return CompareTab(
        model_a, model_b, run, model_facts, status, side_by_side, video_a, video_b, disagreement, disagreement_plot
    )


def nano_facts(name: str) -> str:
    """One line on a model trained here: what it is and its held-out J&F (or why its weights cannot be used)."""
    try:
        facts = nano_store.read_facts(name)
    except nano_store.NanoWeightsError as error:
        return str(error)
    parts = [str(facts.get("description") or nano_store.DESCRIPTIONS[name])]
    held_out = facts.get("held_out") or {}
    scores = [f"{kind} {held_out[kind]['JF']:.3f}" for kind in ("pitch", "generic") if kind in held_out]
    if scores:
        parts.append(f"held-out video J&F on synthetic clips: {', '.join(scores)}")
    return ", ".join(parts)


def finetuned_facts(name: str) -> str | None:
    """One line on a finetuned model from its model.json: base, stages, data, and validation before -> after; for
    a model trained here, what nano_facts says."""
    if name in nano_store.NANO_MODELS:
        return nano_facts(name)
    try:
        facts = get_spec(name).facts
    except ModelUnavailableError:
        return None
    if facts.get("family") == "unet":
        return _unet_facts(facts)
    if not facts.get("base"):
        return None
    before, after = facts.get("val_before") or {}, facts.get("val_after") or {}
    sequences = facts.get("data", {}).get("split", {})
    parts = [f"{facts['base']} finetuned ({' + '.join(facts.get('stages', [])) or 'stages not recorded'})"]
    if sequences:
        count = len(sequences.get("train", []))
        parts.append(f"on {count} sequence{'s' if count != 1 else ''}")
    if before.get("JF") is not None and after.get("JF") is not None:
        parts.append(f"validation J&F {before['JF']:.3f} → {after['JF']:.3f}")
    if before.get("consecutive_iou") is not None and after.get("consecutive_iou") is not None:
        parts.append(f"consecutive IoU {before['consecutive_iou']:.3f} → {after['consecutive_iou']:.3f}")
    if facts.get("random_base"):
        parts.append("**trained from random weights: a test model**")
    elif facts.get("synthetic_only"):
        parts.append(f"**{nano_store.SYNTHETIC_ONLY_LABEL}**")
    if facts.get("created"):
        parts.append(str(facts["created"])[:10])
    return ", ".join(parts)


def _unet_facts(facts: dict[str, Any]) -> str:
    """A U-Net baseline folder's model.json in one line."""
    count = len(facts.get("data", {}).get("split", {}).get("train", []))
    parts = [f"U-Net baseline ({facts.get('parameters', 0):,} parameters, {facts.get('image_size', '?')} px)"]
    parts.append(f"trained on {count} sequence{'s' if count != 1 else ''}")
    if facts.get("val_iou_before") is not None and facts.get("val_iou") is not None:
        parts.append(f"validation IoU of player pixels {facts['val_iou_before']:.3f} → {facts['val_iou']:.3f}")
    if facts.get("synthetic_only"):
        parts.append(f"**{nano_store.SYNTHETIC_ONLY_LABEL}**")
    if facts.get("created"):
        parts.append(str(facts["created"])[:10])
    return ", ".join(parts)


def models_facts(model_a: str | None, model_b: str | None) -> str:
    """What model.json says about the finetuned models picked (empty when neither is one)."""
    lines = []
    for label, name in (("A", model_a), ("B", model_b)):
        line = finetuned_facts(name) if name else None
        if line:
            lines.append(f"**Model {label}, {display_name(name)}**: {line}")
    return "\n\n".join(lines)


def _path(path: Any) -> str | None:
    return str(path) if path is not None else None
