"""Tab 1's event handlers, testable without a browser: each takes the Session and the components' values and returns
the Session and what the tab shows next (clip facts, range, the frame with its prompts, the prompts table, the
object choices, the prompts JSON, one status line) as a typed reply in the order of the wired outputs. A request the
app refuses raises a gr.Error of one sentence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr
import numpy as np
import pandas as pd

from playerseg.io.prompts import PromptError, PromptSet
from playerseg.io.video import VideoError, VideoInfo, probe_video
from playerseg.ui.config import AppConfig
from playerseg.ui.example import ExampleClip
from playerseg.ui.frames import display_scale, read_frame, show_frame
from playerseg.ui.public import public_message
from playerseg.ui.session import NEW_OBJECT, TABLE_COLUMNS, ClipState, Session, SessionError

VIDEO_TYPES = (".mp4", ".mov", ".webm", ".avi", ".mkv")
Update = dict[str, Any]  # gr.update(): the component stays as it is


class PromptReply(NamedTuple):
    """A prompt edit's reply: [state, *ClipTab.prompt_outputs()]."""

    session: Session
    image: np.ndarray | None  # the frame with its prompts drawn
    table: pd.DataFrame
    object_id: gr.Dropdown | Update
    download: str | None | Update  # the prompts JSON file, None when there are no prompts
    status: str


class ClipReply(NamedTuple):
    """A new clip's reply: [state, *ClipTab.clip_outputs()]."""

    session: Session
    info: str | Update
    start: int | Update
    end: int | Update
    stride: int | Update
    frame: gr.Slider | Update
    image: np.ndarray | None | Update
    table: pd.DataFrame | Update
    object_id: gr.Dropdown | Update
    download: str | None | Update
    status: str | Update

    @classmethod
    def unchanged(cls, session: Session) -> ClipReply:
        return cls(session, *(gr.update() for _ in cls._fields[1:]))


class RangeReply(NamedTuple):
    """A frame-range edit's reply: [state, clip info, frame slider]."""

    session: Session
    info: str | Update
    frame: gr.Slider | Update


@dataclass(frozen=True)
class ClipHandlers:
    """The clip tab's handlers with what they need: the app's settings (limits, work folder) and the example clip."""

    config: AppConfig
    example: ExampleClip

    def on_upload(self, session: Session, path: str | None) -> ClipReply:
        if not path:
            return ClipReply.unchanged(session)
        session.load_clip(clip_from_upload(path))
        return self._clip_reply(session, "Clip loaded: click the first player.")

    def on_example(self, session: Session) -> ClipReply:
        example = self.example
        clip = ClipState(
            path=str(example.video),
            name="example (synthetic pitch)",
            info=probe_video(example.video),
            is_example=True,
            ground_truth=str(example.ground_truth),
        )
        session.load_clip(clip, PromptSet.load(example.prompts))
        message = "Example loaded with its prompts and ground truth: pick two models and run them."
        return self._clip_reply(session, message)

    def on_range(self, session: Session, start: float, end: float, stride: float, frame: float) -> RangeReply:
        if session.clip is None:
            return RangeReply(session, gr.update(), gr.update())
        try:
            session.set_range(start, end, stride)
        except SessionError as error:
            raise gr.Error(public_message(str(error))) from None
        shown = min(max(int(frame), session.start), session.end)
        slider = gr.Slider(minimum=session.start, maximum=session.end, value=shown, step=session.stride)
        return RangeReply(session, info_text(session, self.config), slider)

    def on_frame(self, session: Session, frame: float) -> PromptReply:
        return prompt_reply(session, int(frame), "", self.config.work_dir)

    def on_click(self, session: Session, frame: float, mode: str, choice: str, evt: gr.SelectData) -> PromptReply:
        """A click on the shown frame (evt.index: x, y in shown pixels) adds a point or a box corner."""
        if session.clip is None:
            raise gr.Error("Upload a clip or load the example first.")
        scale = display_scale(session.clip.info.width, session.clip.info.height)
        x, y = evt.index[0] / scale, evt.index[1] / scale
        try:
            object_id, message = session.click(int(frame), x, y, mode, choice)
        except (SessionError, PromptError) as error:
            raise gr.Error(public_message(str(error))) from None
        return prompt_reply(session, int(frame), message, self.config.work_dir, selected=str(object_id))

    def on_delete(self, session: Session, frame: float) -> PromptReply:
        try:
            message = session.delete_row(session.selected_row)
        except SessionError as error:
            raise gr.Error(public_message(str(error))) from None
        return prompt_reply(session, int(frame), message, self.config.work_dir)

    def on_clear(self, session: Session, frame: float) -> PromptReply:
        session.clear_prompts()
        return prompt_reply(session, int(frame), "All prompts cleared.", self.config.work_dir)

    def on_upload_prompts(self, session: Session, path: str | None, frame: float) -> PromptReply:
        if session.clip is None:
            raise gr.Error("Load a clip before uploading its prompts.")
        try:
            session.replace_prompts(PromptSet.load(path))
        except (PromptError, SessionError, OSError, UnicodeDecodeError) as error:
            raise gr.Error(public_message(f"Cannot use these prompts: {error}")) from None
        message = f"Loaded {len(session.prompts)} prompt rows for objects {session.object_ids}."
        return prompt_reply(session, int(frame), message, self.config.work_dir)

    def _clip_reply(self, session: Session, message: str) -> ClipReply:
        """The facts of the clip just loaded, its full range, and the first prompted frame."""
        clip = session.require_clip()
        first = min((p.frame for p in session.prompts), default=0)
        slider = gr.Slider(minimum=0, maximum=max(clip.info.frame_count - 1, 1), value=first, step=1)
        shown = prompt_reply(session, first, message, self.config.work_dir)
        info = info_text(session, self.config)
        return ClipReply(session, info, session.start, session.end, session.stride, slider, *shown[1:])


def on_select_row(session: Session, evt: gr.SelectData) -> tuple[Session, str]:
    """A click on a row of the prompts table selects it for Delete."""
    row = evt.index[0] if isinstance(evt.index, (list, tuple)) else None
    session.selected_row = int(row) if row is not None else None
    return session, f"Row {int(row) + 1} selected." if row is not None else ""


def clip_from_upload(path: str) -> ClipState:
    """An uploaded file as the session's clip; one sentence when it is not a video the app reads."""
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


def prompt_reply(
    session: Session, frame: int, message: str, work_root: str, selected: str | None = None
) -> PromptReply:
    """Image with this frame's markers, the prompts table, the object choices and a fresh prompts JSON file."""
    if session.clip is None:
        return PromptReply(session, None, pd.DataFrame(columns=TABLE_COLUMNS), gr.update(), gr.update(), message)
    frame = min(max(frame, 0), session.clip.info.frame_count - 1)
    image = show_frame(read_frame(session.clip.path, frame), session.prompts_on(frame), session.box_corner).image
    choices = session.object_choices()
    value = selected if selected in choices else (choices[-2] if len(choices) > 1 else NEW_OBJECT)
    return PromptReply(
        session,
        image,
        pd.DataFrame(session.table_rows(), columns=TABLE_COLUMNS),
        gr.Dropdown(choices=choices, value=value),
        _prompts_file(session, work_root),
        message,
    )


def _prompts_file(session: Session, work_root: str) -> str | None:
    if not session.prompts:
        return None
    path = session.work_dir(work_root) / "prompts.json"
    session.prompt_set().save(path)
    return str(path)


def info_text(session: Session, config: AppConfig) -> str:
    """The clip's facts, the app's limits and a notice for each limit this range runs into."""
    clip = session.require_clip()
    lines = [f"**{clip.name}**: {_facts(clip.info)}", limits_text(config)]
    _, notices = session.selection(config.limits)
    lines += [f"**Note:** {notice}" for notice in notices]
    return "\n\n".join(lines)


def _facts(info: VideoInfo) -> str:
    rate = " (variable frame rate)" if info.variable_frame_rate else ""
    return (
        f"{info.width}×{info.height} px, {info.fps:.2f} fps{rate}, {info.frame_count} frames, "
        f"{info.duration_s:.1f} s, {info.codec}"
    )


def limits_text(config: AppConfig) -> str:
    return (
        f"Limits: at most **{config.max_frames} frames** per run and **{config.max_object_frames} frames x "
        f"objects** (longer ranges are trimmed), **{config.max_objects} objects**, frames up to "
        f"**{config.max_side} px** on the long side (larger clips are downscaled for the models), "
        f"**{config.run_timeout_s / 60:g} min** per run."
    )
