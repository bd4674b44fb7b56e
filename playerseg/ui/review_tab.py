"""Tab 9, "Review & save": keep model A's or B's masks, step through the frames (the models' worst disagreements
first), fix an object on a frame with clicks or a box (a preview per click, then Track again from the fix), rename or
delete objects, and add the clip to the dataset as a DAVIS sequence; the dataset's sequences are listed with their
counts and the whole dataset downloads as a zip. The handlers live in playerseg.ui.review_handlers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from playerseg.compare.outcome import Comparison
from playerseg.ui.review_handlers import CLICK_KINDS, OBJECT_COLUMNS, SEQUENCE_COLUMNS, ReviewHandlers

PRIVATE = {"api_visibility": "private"}
INTRO = (
    "Turn a run into ground truth. Keep the masks of the better model, fix the frames where they are wrong, and add "
    "the clip to the dataset that finetuning (`python -m playerseg.finetune --data`) and evaluation "
    "(`python -m playerseg evaluate --data`) read. **Next disagreement** jumps to the frames where the two models "
    "disagree most. To fix an object, pick it, click on the frame (a negative click removes what the mask wrongly "
    "covers, a positive click adds what it misses, a box redraws it): the white outline previews the new mask. "
    "**Track again** makes the preview this frame's mask and tracks the object again, forward and backward."
)
LEGEND = (
    "Coloured: the kept masks, each object's id above it. White outline: the preview of the fix being made. "
    "Green and red dots: positive and negative clicks."
)
NO_RUN = "Run the models first (tab 2); then pick the model whose masks to keep."


@dataclass
class ReviewTab:
    keep: gr.Radio
    start: gr.Button
    status: gr.Markdown
    frame: gr.Slider
    next_disagreement: gr.Button
    image: gr.Image
    object_id: gr.Dropdown
    kind: gr.Radio
    accept: gr.Button
    discard: gr.Button
    name: gr.Textbox
    rename: gr.Button
    delete: gr.Button
    objects: gr.Dataframe
    sequence: gr.Textbox
    save: gr.Button
    download: gr.Button
    zipped: gr.File
    sequences: gr.Dataframe
    saved: gr.Markdown
    page: gr.Tab | None = None  # the tab itself: opening it lists the dataset's sequences afresh

    def outputs(self) -> list[Any]:
        """What a new comparison resets: the choice of model and the status."""
        return [self.keep, self.status]

    def render(self, comparison: Comparison | None) -> list[Any]:
        done = [o for o in comparison.outcomes if o.ok] if comparison is not None else []
        if not done:
            return [gr.Radio(choices=[], value=None), NO_RUN]
        choices = [(o.display_name, o.label) for o in done]
        return [gr.Radio(choices=choices, value=done[-1].label), "Pick the model whose masks to keep, then Start."]

    def review_outputs(self) -> list[Any]:
        return [self.frame, self.image, self.object_id, self.objects, self.status]

    def dataset_outputs(self) -> list[Any]:
        return [self.sequences, self.sequence, self.saved]


def build_review_tab(dataset_dir: str) -> ReviewTab:
    gr.Markdown(INTRO)
    with gr.Row():
        keep = gr.Radio([], label="Keep the masks of", elem_id="review-keep", scale=3)
        start = gr.Button("Start the review", variant="primary", elem_id="review-start", scale=1)
    status = gr.Markdown(NO_RUN, elem_id="review-status")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            object_id = gr.Dropdown([], label="Object", elem_id="review-object")
            kind = gr.Radio(list(CLICK_KINDS), value=next(iter(CLICK_KINDS)), label="Click adds", elem_id="review-kind")
            with gr.Row():
                accept = gr.Button("Track again from this fix", variant="primary", size="sm", elem_id="review-accept")
                discard = gr.Button("Discard the clicks", size="sm", elem_id="review-discard")
            name = gr.Textbox(label="Name (player number or name)", max_length=40, elem_id="review-name")
            with gr.Row():
                rename = gr.Button("Rename object", size="sm", elem_id="review-rename")
                delete = gr.Button("Delete object", variant="stop", size="sm", elem_id="review-delete")
        with gr.Column(scale=3):
            with gr.Row():
                frame = gr.Slider(0, 1, value=0, step=1, label="Frame", elem_id="review-frame", scale=4)
                next_disagreement = gr.Button("Next disagreement", elem_id="review-next", scale=1)
            image = gr.Image(
                label="Click to fix the chosen object", type="numpy", interactive=False, buttons=[],
                elem_id="review-image",
            )  # fmt: skip
            gr.Markdown(LEGEND)
            objects = gr.Dataframe(
                value=pd.DataFrame(columns=OBJECT_COLUMNS), interactive=False, label="Objects", elem_id="review-objects"
            )
    gr.Markdown(
        f"### The dataset\nSequences are added to the dataset **{Path(dataset_dir).name}** on this server (DAVIS "
        "folders, prompts with every click, COCO json, meta.json); saving a clip under a name it already has "
        "replaces that sequence."
    )
    with gr.Row():
        sequence = gr.Textbox(label="Sequence name (default: the clip's name)", elem_id="review-sequence", scale=3)
        save = gr.Button("Add to dataset", variant="primary", elem_id="review-save", scale=1)
        download = gr.Button("Download dataset (zip)", elem_id="review-download", scale=1)
    saved = gr.Markdown("", elem_id="review-saved")
    zipped = gr.File(label="Dataset zip", visible=False, elem_id="review-zip")
    sequences = gr.Dataframe(
        value=pd.DataFrame(columns=SEQUENCE_COLUMNS), interactive=False, label="Sequences in the dataset",
        elem_id="review-sequences",
    )  # fmt: skip
    return ReviewTab(
        keep, start, status, frame, next_disagreement, image, object_id, kind, accept, discard, name, rename, delete,
        objects, sequence, save, download, zipped, sequences, saved,
    )  # fmt: skip


def wire_review_tab(tab: ReviewTab, state: gr.State, handlers: ReviewHandlers, gpu: dict[str, Any]) -> None:
    """Each event to its handler; the preview (a click) and Track again use the model, so they queue in the GPU
    group (`gpu`: concurrency_limit and concurrency_id)."""
    outputs = [state, *tab.review_outputs()]
    tab.start.click(handlers.on_start, [state, tab.keep], outputs, **PRIVATE)
    frame_inputs = [state, tab.frame, tab.object_id]
    tab.frame.change(handlers.on_frame, frame_inputs, outputs, trigger_mode="always_last", **PRIVATE)
    tab.next_disagreement.click(handlers.on_next_disagreement, [state, tab.object_id], outputs, **PRIVATE)
    click_inputs = [state, tab.frame, tab.kind, tab.object_id]
    tab.image.select(handlers.on_click, click_inputs, outputs, **PRIVATE, **gpu)
    tab.accept.click(handlers.on_accept, [state, tab.frame], outputs, **PRIVATE, **gpu)
    tab.discard.click(handlers.on_discard, [state, tab.frame], outputs, **PRIVATE)
    tab.rename.click(handlers.on_rename, [state, tab.object_id, tab.name, tab.frame], outputs, **PRIVATE)
    tab.delete.click(handlers.on_delete, [state, tab.object_id, tab.frame], outputs, **PRIVATE)
    save_outputs = [state, *tab.dataset_outputs()]
    # two users may save at once (the dataset's lock keeps each sequence whole); more wait in the queue
    tab.save.click(handlers.on_save, [state, tab.sequence], save_outputs, concurrency_limit=2, **PRIVATE)
    tab.download.click(handlers.on_download, [state], [tab.zipped], **PRIVATE)
    if tab.page is not None:  # other sessions add sequences too
        tab.page.select(handlers.sequences_table, None, [tab.sequences], **PRIVATE)
