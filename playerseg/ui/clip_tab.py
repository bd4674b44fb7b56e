"""Tab 1, "Clip & prompts": its layout and its wiring. Upload or load the example, see the clip's facts and the app's
limits, pick the frame range, click players on a frame (points, boxes, corrections on later frames), edit the prompts
table, and move prompts in and out as the prompts JSON. The handlers live in playerseg.ui.clip_handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from playerseg.ui.clip_handlers import VIDEO_TYPES, ClipHandlers, limits_text, on_select_row
from playerseg.ui.config import AppConfig
from playerseg.ui.example import ExampleClip
from playerseg.ui.session import CLICK_MODES, NEW_OBJECT, POSITIVE, TABLE_COLUMNS

PRIVATE = {"api_visibility": "private"}  # the UI's events: no API endpoint (the API is /compare alone)
HOW_TO = (
    "Click a player on the frame to add a **positive point** for the chosen object (pick *New object* for the next "
    "player). Negative points remove what a mask wrongly covers; a box takes two clicks on opposite corners. A click "
    "on a later frame for an existing object is a **correction**: it refines that object's track from there."
)


@dataclass
class ClipTab:
    upload: gr.File
    example: gr.Button
    info: gr.Markdown
    start: gr.Number
    end: gr.Number
    stride: gr.Number
    frame: gr.Slider
    image: gr.Image
    mode: gr.Radio
    object_id: gr.Dropdown
    status: gr.Markdown
    table: gr.Dataframe
    delete: gr.Button
    clear: gr.Button
    download: gr.DownloadButton
    upload_prompts: gr.UploadButton

    def prompt_outputs(self) -> list[Any]:
        return [self.image, self.table, self.object_id, self.download, self.status]

    def clip_outputs(self) -> list[Any]:
        return [self.info, self.start, self.end, self.stride, self.frame, *self.prompt_outputs()]


def build_clip_tab(config: AppConfig) -> ClipTab:
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            upload = gr.File(
                label="Upload a clip (mp4, mov, webm, avi, mkv)", file_types=list(VIDEO_TYPES), elem_id="clip-upload"
            )
            example = gr.Button("Load the example clip (synthetic pitch, with ground truth)", variant="secondary")
            info = gr.Markdown(limits_text(config), elem_id="clip-info")
            with gr.Row():
                start = _whole_number("Start frame", 0, minimum=0, elem_id="range-start")
                end = _whole_number("End frame", 0, minimum=0, elem_id="range-end")
                stride = _whole_number("Stride", 1, minimum=1, elem_id="range-stride")
            mode = gr.Radio(list(CLICK_MODES), value=POSITIVE, label="Click adds", elem_id="click-mode")
            object_id = gr.Dropdown([NEW_OBJECT], value=NEW_OBJECT, label="Object", elem_id="object-id")
            status = gr.Markdown("", elem_id="prompt-status")
        with gr.Column(scale=3):
            frame = gr.Slider(0, 1, value=0, step=1, label="Frame", elem_id="frame-slider")
            image = gr.Image(
                label="Click to prompt",
                type="numpy",
                interactive=False,
                buttons=[],
                elem_id="prompt-frame",
            )
            gr.Markdown(HOW_TO)
    table = gr.Dataframe(
        headers=TABLE_COLUMNS,
        value=pd.DataFrame(columns=TABLE_COLUMNS),
        interactive=False,
        label="Prompts (click a row to select it)",
        elem_id="prompt-table",
    )
    with gr.Row():
        delete = gr.Button("Delete selected row", size="sm", elem_id="delete-row")
        clear = gr.Button("Clear all prompts", size="sm", elem_id="clear-prompts")
        download = gr.DownloadButton("Download prompts JSON", size="sm", elem_id="download-prompts")
        upload_prompts = gr.UploadButton(
            "Upload prompts JSON", file_types=[".json"], size="sm", elem_id="upload-prompts"
        )
    return ClipTab(
        upload,
        example,
        info,
        start,
        end,
        stride,
        frame,
        image,
        mode,
        object_id,
        status,
        table,
        delete,
        clear,
        download,
        upload_prompts,
    )


def _whole_number(label: str, value: int, minimum: int, elem_id: str) -> gr.Number:
    """A frame-range box (start, end, stride): a whole number."""
    return gr.Number(label=label, value=value, precision=0, minimum=minimum, elem_id=elem_id, min_width=80)


def wire_clip_tab(tab: ClipTab, state: gr.State, config: AppConfig, example: ExampleClip) -> None:
    """Each event of the tab to its handler in playerseg.ui.clip_handlers, all private (no API endpoint)."""
    handlers = ClipHandlers(config, example)
    _wire_clip_loading(tab, state, handlers)
    _wire_range(tab, state, handlers)
    _wire_prompting(tab, state, handlers)
    _wire_prompt_table(tab, state, handlers)


def _wire_clip_loading(tab: ClipTab, state: gr.State, handlers: ClipHandlers) -> None:
    """Upload a clip or load the example."""
    tab.upload.upload(handlers.on_upload, [state, tab.upload], [state, *tab.clip_outputs()], **PRIVATE)
    tab.example.click(handlers.on_example, [state], [state, *tab.clip_outputs()], **PRIVATE)


def _wire_range(tab: ClipTab, state: gr.State, handlers: ClipHandlers) -> None:
    """Start, end and stride: applied on Enter and when the box loses focus (one handler, one queue for all six)."""
    on_range = handlers.on_range
    inputs = [state, tab.start, tab.end, tab.stride, tab.frame]
    for box in (tab.start, tab.end, tab.stride):
        box.submit(on_range, inputs, [state, tab.info, tab.frame], **PRIVATE)
        box.blur(on_range, inputs, [state, tab.info, tab.frame], **PRIVATE)


def _wire_prompting(tab: ClipTab, state: gr.State, handlers: ClipHandlers) -> None:
    """Move through the frames and click players on the shown one."""
    tab.frame.change(
        handlers.on_frame, [state, tab.frame], [state, *tab.prompt_outputs()], trigger_mode="always_last", **PRIVATE
    )
    tab.image.select(
        handlers.on_click, [state, tab.frame, tab.mode, tab.object_id], [state, *tab.prompt_outputs()], **PRIVATE
    )


def _wire_prompt_table(tab: ClipTab, state: gr.State, handlers: ClipHandlers) -> None:
    """Select and delete a row, clear all prompts, replace them with an uploaded prompts JSON."""
    tab.table.select(on_select_row, [state], [state, tab.status], **PRIVATE)
    tab.delete.click(handlers.on_delete, [state, tab.frame], [state, *tab.prompt_outputs()], **PRIVATE)
    tab.clear.click(handlers.on_clear, [state, tab.frame], [state, *tab.prompt_outputs()], **PRIVATE)
    tab.upload_prompts.upload(
        handlers.on_upload_prompts, [state, tab.upload_prompts, tab.frame], [state, *tab.prompt_outputs()], **PRIVATE
    )
