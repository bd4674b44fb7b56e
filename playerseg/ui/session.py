"""One browser session's state: the clip, the frame range, the prompts being edited and the last comparison.

Gradio keeps one `Session` per browser tab in a gr.State, so two stakeholders never see each other's clicks or
results. Everything here is plain Python (no gradio, no torch) so the editing rules are tested without a browser.
Prompts are kept in clip frame numbers and clip pixels, exactly as the prompts JSON stores them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playerseg.annotate.preview import MaskPreview
from playerseg.annotate.review import Review
from playerseg.compare.outcome import Comparison
from playerseg.compare.selection import Selection
from playerseg.errors import PlayerSegError
from playerseg.io.prompts import Prompt, PromptError, PromptSet, negative_only_message, untrackable_objects
from playerseg.io.video import VideoInfo
from playerseg.ui.limits import RunLimits, limited_selection

POSITIVE = "Positive point"
NEGATIVE = "Negative point"
BOX = "Box (two corner clicks)"
CLICK_MODES = (POSITIVE, NEGATIVE, BOX)
NEW_OBJECT = "New object"
TABLE_COLUMNS = ["#", "frame", "object", "kind", "role", "where (x, y in clip pixels)"]


class SessionError(PlayerSegError, ValueError):
    """Something the user asked for that cannot be done; the message is one sentence for a gr.Error."""


@dataclass(frozen=True)
class ClipState:
    path: str
    name: str
    info: VideoInfo
    is_example: bool = False
    ground_truth: str | None = None  # a folder of palette PNGs that ships with the example clip


@dataclass(frozen=True)
class BoxCorner:
    """The first click of a box prompt, waiting for the opposite corner."""

    frame: int
    object_id: int
    x: float
    y: float


@dataclass
class Session:
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    clip: ClipState | None = None
    start: int = 0
    end: int = 0  # inclusive, clip frame number
    stride: int = 1
    prompts: list[Prompt] = field(default_factory=list)
    box_corner: BoxCorner | None = None
    selected_row: int | None = None
    ground_truth: str | None = None  # uploaded ground truth (zip of palette PNGs or COCO-RLE json)
    comparison: Comparison | None = None
    runs: int = 0
    review: Review | None = None  # the review of one model's masks of the last comparison (tab 9)
    previewer: MaskPreview | None = None  # the review's preview decoder, with its last frame's image embedding
    previewer_model: str = ""

    # -- clip and range -----------------------------------------------------------------------------------------

    def load_clip(self, clip: ClipState, prompts: PromptSet | None = None) -> None:
        """A new clip starts a new comparison: range, prompts, ground truth and results are reset."""
        self.clip = clip
        self.start, self.end, self.stride = 0, clip.info.frame_count - 1, 1
        self.prompts = list(prompts.prompts) if prompts is not None else []
        self.box_corner = None
        self.selected_row = None
        self.ground_truth = None
        self.comparison = None
        self.review = None
        self.previewer = None

    def require_clip(self) -> ClipState:
        if self.clip is None:
            raise SessionError("Upload a clip or load the example first.")
        return self.clip

    def set_range(self, start: float, end: float, stride: float) -> None:
        clip = self.require_clip()
        last = clip.info.frame_count - 1
        start_i, end_i, stride_i = int(start), int(end), int(stride)
        if not 0 <= start_i <= last or not 0 <= end_i <= last:
            raise SessionError(f"Start and end must be frames 0..{last} of this clip.")
        if end_i < start_i:
            raise SessionError(f"End frame {end_i} is before start frame {start_i}.")
        if stride_i < 1:
            raise SessionError("Stride must be 1 or more (1 = every frame).")
        self.start, self.end, self.stride = start_i, end_i, stride_i

    def selection(self, limits: RunLimits) -> tuple[Selection, list[str]]:
        """The frames a run processes, and a notice for each limit the app applied."""
        objects = len(self.object_ids)
        return limited_selection(self.require_clip().info, self.start, self.end, self.stride, limits, objects)

    def processed_frames(self, limits: RunLimits) -> list[int]:
        selection, _ = self.selection(limits)
        stop = selection.start + (selection.max_frames or 0) * selection.stride
        return list(range(selection.start, min(stop, self.end + 1), selection.stride))

    # -- prompts -------------------------------------------------------------------------------------------------

    @property
    def object_ids(self) -> list[int]:
        return sorted({p.object_id for p in self.prompts})

    def next_object_id(self) -> int:
        return max(self.object_ids, default=0) + 1

    def object_choices(self) -> list[str]:
        return [*(str(i) for i in self.object_ids), NEW_OBJECT]

    def resolve_object(self, choice: str | None) -> int:
        if choice in (None, "", NEW_OBJECT):
            return self.next_object_id()
        try:
            return int(str(choice))
        except ValueError:
            raise SessionError(f"Pick an object id or '{NEW_OBJECT}', not {choice!r}.") from None

    def click(self, frame: int, x: float, y: float, mode: str, object_choice: str | None) -> tuple[int, str]:
        """Apply one click on the shown frame; returns the object id the click belongs to and what happened."""
        clip = self.require_clip()
        if not self.start <= frame <= self.end:
            raise SessionError(
                f"Frame {frame} is outside the selected range {self.start}..{self.end}: move the slider or widen "
                "the range before clicking."
            )
        x = min(max(float(x), 0.0), float(clip.info.width - 1))
        y = min(max(float(y), 0.0), float(clip.info.height - 1))
        object_id = self.resolve_object(object_choice)
        if mode == BOX:
            return object_id, self._box_click(frame, object_id, x, y)
        if mode not in (POSITIVE, NEGATIVE):
            raise SessionError(f"Unknown click mode {mode!r}.")
        positive = mode == POSITIVE
        if not positive and object_id not in self.object_ids:
            raise SessionError(
                f"Object {object_id} has no prompt yet: start it with a positive point or a box, then use negative "
                "points to remove what it wrongly covers."
            )
        if not positive and object_id in untrackable_objects(self.prompts):
            raise SessionError(negative_only_message(object_id))
        self.box_corner = None
        self.prompts.append(Prompt.from_click(frame, object_id, x, y, positive))
        sign = "positive" if positive else "negative"
        return (
            object_id,
            f"Added a {sign} point for object {object_id} on frame {frame}{self._role_note(frame, object_id)}.",
        )

    def _box_click(self, frame: int, object_id: int, x: float, y: float) -> str:
        corner = self.box_corner
        if corner is None or corner.frame != frame or corner.object_id != object_id:
            self.box_corner = BoxCorner(frame, object_id, x, y)
            return f"Box for object {object_id}: first corner set on frame {frame}; click the opposite corner."
        x0, x1 = sorted((corner.x, x))
        y0, y1 = sorted((corner.y, y))
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise SessionError("The two box corners are too close: click the opposite corner of the player.")
        self.box_corner = None
        self.prompts.append(Prompt.from_box(frame, object_id, x0, y0, x1, y1))
        return f"Added a box for object {object_id} on frame {frame}{self._role_note(frame, object_id)}."

    def _role_note(self, frame: int, object_id: int) -> str:
        return " (a correction: it refines the track)" if self.role(frame, object_id) == "correction" else ""

    def role(self, frame: int, object_id: int) -> str:
        """The first prompted frame of an object starts its track; prompts on later frames correct it."""
        first = min(p.frame for p in self.prompts if p.object_id == object_id)
        return "start" if frame == first else "correction"

    def delete_row(self, row: int | None) -> str:
        if row is None:
            raise SessionError("Click a row of the prompts table first, then delete it.")
        if not 0 <= row < len(self.prompts):
            raise SessionError(f"There is no prompt row {row + 1}.")
        removed = self.prompts.pop(row)
        self.selected_row = None
        message = f"Deleted row {row + 1} (object {removed.object_id}, frame {removed.frame})."
        if removed.object_id in untrackable_objects(self.prompts):
            message += f" {negative_only_message(removed.object_id)}"
        return message

    def clear_prompts(self) -> None:
        self.prompts = []
        self.box_corner = None
        self.selected_row = None

    def prompt_set(self) -> PromptSet:
        return PromptSet(list(self.prompts))

    def replace_prompts(self, prompts: PromptSet) -> None:
        """Prompts from an uploaded JSON must fit this clip (frames and pixels)."""
        clip = self.require_clip()
        try:
            prompts.validate(clip.info.width, clip.info.height, clip.info.frame_count)
        except PromptError as error:
            raise SessionError(str(error)) from None
        self.prompts = list(prompts.prompts)
        self.box_corner = None
        self.selected_row = None

    def prompts_on(self, frame: int) -> list[Prompt]:
        return [p for p in self.prompts if p.frame == frame]

    def table_rows(self) -> list[list[Any]]:
        return [
            [i + 1, p.frame, p.object_id, _kind(p), self.role(p.frame, p.object_id), _where(p)]
            for i, p in enumerate(self.prompts)
        ]

    def check_ready(self) -> PromptSet:
        """The prompts a run replays; one sentence when a run cannot start."""
        self.require_clip()
        if not self.prompts:
            raise SessionError("Click at least one player on the frame before running the models.")
        outside = [p for p in self.prompts if not self.start <= p.frame <= self.end]
        if outside:
            p = outside[0]
            raise SessionError(
                f"Object {p.object_id} has a prompt on frame {p.frame}, outside the range {self.start}..{self.end}: "
                "widen the range or delete that row."
            )
        untrackable = untrackable_objects(self.prompts)
        if untrackable:
            raise SessionError(negative_only_message(untrackable[0]))
        return self.prompt_set()

    def work_dir(self, root: str | Path) -> Path:
        folder = Path(root) / "sessions" / self.session_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def _kind(prompt: Prompt) -> str:
    parts = []
    if prompt.box is not None:
        parts.append("box")
    positives = sum(p.positive for p in prompt.points)
    negatives = len(prompt.points) - positives
    if positives:
        parts.append("positive point" if positives == 1 else f"{positives} positive points")
    if negatives:
        parts.append("negative point" if negatives == 1 else f"{negatives} negative points")
    return " + ".join(parts)


def _where(prompt: Prompt) -> str:
    parts = [f"({p.x:.0f}, {p.y:.0f})" for p in prompt.points]
    if prompt.box is not None:
        b = prompt.box
        parts.append(f"[{b.x0:.0f}, {b.y0:.0f}, {b.x1:.0f}, {b.y1:.0f}]")
    return " ".join(parts)
