"""Tab 1, "Clip & prompts": upload or load the example, see the clip's facts and the app's limits, pick the frame
range, click players on a frame (points, boxes, corrections on later frames), edit the prompts table, and move
prompts in and out as the prompts JSON."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from playerseg.io.prompts import PromptError, PromptSet
from playerseg.io.video import VideoError, VideoInfo, probe_video
from playerseg.ui.config import AppConfig
from playerseg.ui.example import ExampleClip
from playerseg.ui.frames import display_scale, read_frame, show_frame
from playerseg.ui.limits import RunLimits
from playerseg.ui.public import public_message
from playerseg.ui.session import (
    CLICK_MODES,
    NEW_OBJECT,
    POSITIVE,
    TABLE_COLUMNS,
    ClipState,
    Session,
    SessionError,
)

VIDEO_TYPES = (".mp4", ".mov", ".webm", ".avi", ".mkv")
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
            info = gr.Markdown(_limits_text(config), elem_id="clip-info")
            with gr.Row():
                start = gr.Number(label="Start frame", value=0, precision=0, minimum=0, elem_id="range-start", min_width=80)
                end = gr.Number(label="End frame", value=0, precision=0, minimum=0, elem_id="range-end", min_width=80)
                stride = gr.Number(label="Stride", value=1, precision=0, minimum=1, elem_id="range-stride", min_width=80)
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
        upload, example, info, start, end, stride, frame, image, mode, object_id, status, table, delete, clear,
        download, upload_prompts,
    )


def wire_clip_tab(tab: ClipTab, state: gr.State, config: AppConfig, example: ExampleClip) -> None:
    limits = config.limits
    root = config.work_dir

    def on_upload(session: Session, path: str | None) -> tuple[Any, ...]:
        if not path:
            return (session, *_no_change(tab.clip_outputs()))
        session.load_clip(_clip_from_upload(path))
        return (session, *_clip_view(session, config, limits, "Clip loaded: click the first player."))

    def on_example(session: Session) -> tuple[Any, ...]:
        clip = ClipState(
            path=str(example.video), name="example (synthetic pitch)", info=probe_video(example.video),
            is_example=True, ground_truth=str(example.ground_truth),
        )
        session.load_clip(clip, PromptSet.load(example.prompts))
        message = "Example loaded with its prompts and ground truth: pick two models and run them."
        return (session, *_clip_view(session, config, limits, message))

    def on_range(session: Session, start: float, end: float, stride: float, frame: float) -> tuple[Any, ...]:
        if session.clip is None:
            return (session, gr.update(), gr.update())
        try:
            session.set_range(start, end, stride)
        except SessionError as error:
            raise gr.Error(public_message(str(error))) from None
        shown = min(max(int(frame), session.start), session.end)
        return (
            session,
            _info_text(session, config, limits),
            gr.Slider(minimum=session.start, maximum=session.end, value=shown, step=session.stride),
        )

    def on_frame(session: Session, frame: float) -> tuple[Any, ...]:
        return (session, *_prompt_view(session, int(frame), "", root))

    def on_click(session: Session, frame: float, mode: str, choice: str, evt: gr.SelectData) -> tuple[Any, ...]:
        if session.clip is None:
            raise gr.Error("Upload a clip or load the example first.")
        scale = display_scale(session.clip.info.width, session.clip.info.height)
        x, y = evt.index[0] / scale, evt.index[1] / scale
        try:
            object_id, message = session.click(int(frame), x, y, mode, choice)
        except (SessionError, PromptError) as error:
            raise gr.Error(public_message(str(error))) from None
        return (session, *_prompt_view(session, int(frame), message, root, selected=str(object_id)))

    def on_select_row(session: Session, evt: gr.SelectData) -> tuple[Session, str]:
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else None
        session.selected_row = int(row) if row is not None else None
        return session, f"Row {int(row) + 1} selected." if row is not None else ""

    def on_delete(session: Session, frame: float) -> tuple[Any, ...]:
        try:
            message = session.delete_row(session.selected_row)
        except SessionError as error:
            raise gr.Error(public_message(str(error))) from None
        return (session, *_prompt_view(session, int(frame), message, root))

    def on_clear(session: Session, frame: float) -> tuple[Any, ...]:
        session.clear_prompts()
        return (session, *_prompt_view(session, int(frame), "All prompts cleared.", root))

    def on_upload_prompts(session: Session, path: str | None, frame: float) -> tuple[Any, ...]:
        if session.clip is None:
            raise gr.Error("Load a clip before uploading its prompts.")
        try:
            session.replace_prompts(PromptSet.load(path))
        except (PromptError, SessionError, OSError, UnicodeDecodeError) as error:
            raise gr.Error(public_message(f"Cannot use these prompts: {error}")) from None
        message = f"Loaded {len(session.prompts)} prompt rows for objects {session.object_ids}."
        return (session, *_prompt_view(session, int(frame), message, root))

    private = {"api_visibility": "private"}
    tab.upload.upload(on_upload, [state, tab.upload], [state, *tab.clip_outputs()], **private)
    tab.example.click(on_example, [state], [state, *tab.clip_outputs()], **private)
    for box in (tab.start, tab.end, tab.stride):
        box.submit(on_range, [state, tab.start, tab.end, tab.stride, tab.frame], [state, tab.info, tab.frame], **private)
        box.blur(on_range, [state, tab.start, tab.end, tab.stride, tab.frame], [state, tab.info, tab.frame], **private)
    tab.frame.change(
        on_frame, [state, tab.frame], [state, *tab.prompt_outputs()], trigger_mode="always_last", **private
    )
    tab.image.select(on_click, [state, tab.frame, tab.mode, tab.object_id], [state, *tab.prompt_outputs()], **private)
    tab.table.select(on_select_row, [state], [state, tab.status], **private)
    tab.delete.click(on_delete, [state, tab.frame], [state, *tab.prompt_outputs()], **private)
    tab.clear.click(on_clear, [state, tab.frame], [state, *tab.prompt_outputs()], **private)
    tab.upload_prompts.upload(
        on_upload_prompts, [state, tab.upload_prompts, tab.frame], [state, *tab.prompt_outputs()], **private
    )


def _clip_from_upload(path: str) -> ClipState:
    name = Path(path).name
    if Path(path).suffix.lower() not in VIDEO_TYPES:
        raise gr.Error(f"{name} is not a video this app reads: upload an mp4, mov, webm, avi or mkv file.")
    try:
        info = probe_video(path)
    except VideoError as error:
        raise gr.Error(public_message(f"Cannot read {name}: {error}")) from None
    if info.frame_count < 1:
        raise gr.Error(f"{name} has no video frames.")
    return ClipState(path=path, name=name, info=info)


def _clip_view(session: Session, config: AppConfig, limits: RunLimits, message: str) -> tuple[Any, ...]:
    clip = session.require_clip()
    first = min((p.frame for p in session.prompts), default=0)
    return (
        _info_text(session, config, limits),
        session.start,
        session.end,
        session.stride,
        gr.Slider(minimum=0, maximum=max(clip.info.frame_count - 1, 1), value=first, step=1),
        *_prompt_view(session, first, message, config.work_dir),
    )


def _prompt_view(
    session: Session, frame: int, message: str, work_root: str, selected: str | None = None
) -> tuple[Any, ...]:
    """Image with this frame's markers, the prompts table, the object choices and a fresh prompts JSON file."""
    if session.clip is None:
        return (None, pd.DataFrame(columns=TABLE_COLUMNS), gr.update(), gr.update(), message)
    frame = min(max(frame, 0), session.clip.info.frame_count - 1)
    image = show_frame(read_frame(session.clip.path, frame), session.prompts_on(frame), session.box_corner).image
    choices = session.object_choices()
    value = selected if selected in choices else (choices[-2] if len(choices) > 1 else NEW_OBJECT)
    prompts_file = _prompts_file(session, work_root)
    return (
        image,
        pd.DataFrame(session.table_rows(), columns=TABLE_COLUMNS),
        gr.Dropdown(choices=choices, value=value),
        prompts_file,
        message,
    )


def _prompts_file(session: Session, work_root: str) -> str | None:
    if not session.prompts:
        return None
    path = session.work_dir(work_root) / "prompts.json"
    session.prompt_set().save(path)
    return str(path)


def _info_text(session: Session, config: AppConfig, limits: RunLimits) -> str:
    clip = session.require_clip()
    info = clip.info
    lines = [f"**{clip.name}**: {_facts(info)}", _limits_text(config)]
    _, notices = session.selection(limits)
    lines += [f"**Note:** {notice}" for notice in notices]
    return "\n\n".join(lines)


def _facts(info: VideoInfo) -> str:
    rate = " (variable frame rate)" if info.variable_frame_rate else ""
    return (
        f"{info.width}×{info.height} px, {info.fps:.2f} fps{rate}, {info.frame_count} frames, "
        f"{info.duration_s:.1f} s, {info.codec}"
    )


def _limits_text(config: AppConfig) -> str:
    return (
        f"Limits: at most **{config.max_frames} frames** per run and **{config.max_object_frames} frames x "
        f"objects** (longer ranges are trimmed), **{config.max_objects} objects**, frames up to "
        f"**{config.max_side} px** on the long side (larger clips are downscaled for the models), "
        f"**{config.run_timeout_s / 60:g} min** per run."
    )


def _no_change(outputs: list[Any]) -> list[Any]:
    return [gr.update() for _ in outputs]
