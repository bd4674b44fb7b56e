"""User prompts for the tracker: clicks (points) and boxes per (frame, object), and their JSON file format.

JSON (DESIGN.md section 2), pixel coordinates in the original frame, label 1 = on the object, 0 = not on it:
    {"version": 1, "prompts": [{"frame": 0, "object_id": 1, "points": [[x, y, 1], [x, y, 0]], "box": null}]}
"box" is null or [x0, y0, x1, y1]. Several entries may share a (frame, object_id); `PromptSet.merged()` joins them.
Every object needs a positive point or a box somewhere (negative points alone give SAM2 nothing to track), and keys
other than these are refused, as is an empty prompts list.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playerseg.errors import PlayerSegError

FORMAT_VERSION = 1
MIN_OBJECT_ID = 1
MAX_OBJECT_ID = 254  # ids are palette PNG indices: 0 is background and 255 is void
_PROMPT_KEYS = ("frame", "object_id", "points", "box")
_TOP_KEYS = ("version", "prompts")


class PromptError(PlayerSegError, ValueError):
    """A prompt or prompts file the tracker cannot use; the message is one sentence for the user."""


@dataclass(frozen=True)
class Point:
    """A click at pixel (x, y); positive = on the object, negative = not on it."""

    x: float
    y: float
    positive: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", _coordinate(self.x, "point x"))
        object.__setattr__(self, "y", _coordinate(self.y, "point y"))
        object.__setattr__(self, "positive", bool(self.positive))


@dataclass(frozen=True)
class Box:
    """A box from (x0, y0) to (x1, y1) in pixels, x1 > x0 and y1 > y0."""

    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        for name in ("x0", "y0", "x1", "y1"):
            object.__setattr__(self, name, _coordinate(getattr(self, name), f"box {name}"))
        if self.x1 <= self.x0 or self.y1 <= self.y0:
            raise PromptError(
                f"Box [{_fmt(self.x0)}, {_fmt(self.y0)}, {_fmt(self.x1)}, {_fmt(self.y1)}] is empty: "
                "it needs x1 > x0 and y1 > y0."
            )


@dataclass(frozen=True)
class Prompt:
    """What the user gave for one object on one frame: clicks, a box, or both."""

    frame: int
    object_id: int
    points: tuple[Point, ...] = ()
    box: Box | None = None

    def __post_init__(self) -> None:
        if not _is_int(self.frame) or self.frame < 0:
            raise PromptError(f"Prompt frame must be a whole number >= 0, got {self.frame!r}.")
        if not _is_int(self.object_id) or not MIN_OBJECT_ID <= self.object_id <= MAX_OBJECT_ID:
            raise PromptError(
                f"Prompt object_id must be a whole number from {MIN_OBJECT_ID} to {MAX_OBJECT_ID} "
                f"(0 is background and 255 is void in mask PNGs), got {self.object_id!r}."
            )
        object.__setattr__(self, "frame", int(self.frame))
        object.__setattr__(self, "object_id", int(self.object_id))
        object.__setattr__(self, "points", tuple(self.points))
        if not all(isinstance(p, Point) for p in self.points):
            raise PromptError(f"{self.label()}: points must be Point objects.")
        if self.box is not None and not isinstance(self.box, Box):
            raise PromptError(f"{self.label()}: box must be a Box or None.")
        if not self.points and self.box is None:
            raise PromptError(f"{self.label()} has neither points nor a box.")

    @classmethod
    def from_click(cls, frame: int, object_id: int, x: float, y: float, positive: bool = True) -> Prompt:
        """One click on one frame."""
        return cls(frame=frame, object_id=object_id, points=(Point(x, y, positive),))

    @classmethod
    def from_box(cls, frame: int, object_id: int, x0: float, y0: float, x1: float, y1: float) -> Prompt:
        """One box on one frame."""
        return cls(frame=frame, object_id=object_id, box=Box(x0, y0, x1, y1))

    def label(self) -> str:
        """How messages name this prompt."""
        return f"Prompt for object {self.object_id} on frame {self.frame}"

    def to_dict(self) -> dict[str, Any]:
        box = None if self.box is None else [_num(self.box.x0), _num(self.box.y0), _num(self.box.x1), _num(self.box.y1)]
        return {
            "frame": self.frame,
            "object_id": self.object_id,
            "points": [[_num(p.x), _num(p.y), 1 if p.positive else 0] for p in self.points],
            "box": box,
        }

    @classmethod
    def from_dict(cls, entry: Any, where: str = "prompt") -> Prompt:
        """One JSON prompt entry; `where` names it in error messages (e.g. "prompts[3]")."""
        if not isinstance(entry, dict):
            raise PromptError(f"{where} must be an object with frame, object_id, points and box.")
        unknown = sorted(set(entry) - set(_PROMPT_KEYS))
        if unknown:
            raise PromptError(f"{where} has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_PROMPT_KEYS)}.")
        for key in ("frame", "object_id"):
            if key not in entry:
                raise PromptError(f'{where} has no "{key}" key.')
        if not _is_int(entry["frame"]) or entry["frame"] < 0:
            raise PromptError(f'{where}: "frame" must be a whole number >= 0, got {entry["frame"]!r}.')
        if not _is_int(entry["object_id"]) or not MIN_OBJECT_ID <= entry["object_id"] <= MAX_OBJECT_ID:
            raise PromptError(
                f'{where}: "object_id" must be a whole number from {MIN_OBJECT_ID} to {MAX_OBJECT_ID} '
                f"(0 is background and 255 is void in mask PNGs), got {entry['object_id']!r}."
            )
        points = _points_from_json(entry.get("points", []), where)
        box = _box_from_json(entry.get("box"), where)
        try:
            return cls(frame=entry["frame"], object_id=entry["object_id"], points=points, box=box)
        except PromptError as error:
            raise PromptError(f"{where}: {error}") from None


@dataclass
class PromptSet:
    """All prompts for one clip, in the order given."""

    prompts: list[Prompt] = field(default_factory=list)

    @property
    def object_ids(self) -> list[int]:
        return sorted({p.object_id for p in self.prompts})

    @property
    def frames(self) -> list[int]:
        return sorted({p.frame for p in self.prompts})

    def __len__(self) -> int:
        return len(self.prompts)

    def for_frame(self, frame: int) -> list[Prompt]:
        return [p for p in self.prompts if p.frame == frame]

    def merged(self) -> PromptSet:
        """One prompt per (frame, object_id), sorted by both: points joined in order, the last box given wins."""
        groups: dict[tuple[int, int], list[Prompt]] = {}
        for prompt in self.prompts:
            groups.setdefault((prompt.frame, prompt.object_id), []).append(prompt)
        merged = [_merge_group(groups[key]) for key in sorted(groups)]
        return PromptSet(merged)

    def validate(self, width: int, height: int, num_frames: int) -> None:
        """Every prompt lies on a frame 0..num_frames-1 and inside the width x height frame (edges included), and
        every object has something to track (check_trackable)."""
        for prompt in self.prompts:
            _validate_prompt(prompt, width, height, num_frames)
        check_trackable(self.prompts)

    def to_dict(self) -> dict[str, Any]:
        return {"version": FORMAT_VERSION, "prompts": [p.to_dict() for p in self.prompts]}

    @classmethod
    def from_dict(cls, data: Any) -> PromptSet:
        if not isinstance(data, dict):
            raise PromptError('Prompts JSON must be an object like {"version": 1, "prompts": [...]}.')
        unknown = sorted(str(key) for key in set(data) - set(_TOP_KEYS))
        if unknown:
            raise PromptError(f"Prompts JSON has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_TOP_KEYS)}.")
        if "version" not in data:
            raise PromptError('Prompts JSON has no "version" key (expected "version": 1).')
        if data["version"] != FORMAT_VERSION or isinstance(data["version"], bool):
            raise PromptError(f"Prompts JSON version {data['version']!r} is not supported (expected {FORMAT_VERSION}).")
        if "prompts" not in data:
            raise PromptError('Prompts JSON has no "prompts" key.')
        if not isinstance(data["prompts"], list):
            raise PromptError('Prompts JSON "prompts" must be a list.')
        if not data["prompts"]:
            raise PromptError('Prompts JSON "prompts" is empty: give at least one click or box for one object.')
        prompts = [Prompt.from_dict(entry, f"prompts[{i}]") for i, entry in enumerate(data["prompts"])]
        check_trackable(prompts)
        return cls(prompts)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> PromptSet:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise PromptError(
                f"Prompts are not valid JSON: {error.msg} at line {error.lineno} column {error.colno}."
            ) from None
        except RecursionError:
            raise PromptError("Prompts are not valid prompts JSON: they nest too deeply.") from None
        return cls.from_dict(data)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> PromptSet:
        """Read a prompts file; anything wrong (missing, a folder, not UTF-8 text, not prompts JSON) raises
        PromptError naming the file by its own name."""
        source = Path(path)
        name = source.name or str(source)
        try:
            text = source.read_bytes().decode("utf-8")
        except FileNotFoundError:
            raise PromptError(f"Prompts file {name} does not exist.") from None
        except IsADirectoryError:
            raise PromptError(f"Prompts file {name} is a folder, not a prompts JSON file.") from None
        except UnicodeDecodeError:
            raise PromptError(f"Prompts file {name} is not UTF-8 text: give a prompts JSON file.") from None
        except OSError as error:
            raise PromptError(f"Prompts file {name} cannot be read ({error.strerror or 'an I/O error'}).") from None
        try:
            return cls.from_json(text)
        except PromptError as error:
            raise PromptError(f"Prompts file {name}: {error}") from None


def untrackable_objects(prompts: Iterable[Prompt]) -> list[int]:
    """Ids of the objects whose prompts hold no positive point and no box (negative points only), sorted."""
    trackable: set[int] = set()
    seen: set[int] = set()
    for prompt in prompts:
        seen.add(prompt.object_id)
        if prompt.box is not None or any(point.positive for point in prompt.points):
            trackable.add(prompt.object_id)
    return sorted(seen - trackable)


def negative_only_message(object_id: int) -> str:
    """The one sentence for an object with negative points only (the same in the app, the API and the CLI)."""
    return (
        f"Object {object_id} has only negative points: give it a positive point or a box "
        "(SAM2 has nothing to track otherwise)."
    )


def check_trackable(prompts: Iterable[Prompt]) -> None:
    """PromptError for the first object that has negative points only."""
    untrackable = untrackable_objects(prompts)
    if untrackable:
        raise PromptError(negative_only_message(untrackable[0]))


def _merge_group(group: list[Prompt]) -> Prompt:
    points = tuple(point for prompt in group for point in prompt.points)
    boxes = [prompt.box for prompt in group if prompt.box is not None]
    return Prompt(group[0].frame, group[0].object_id, points, boxes[-1] if boxes else None)


def _validate_prompt(prompt: Prompt, width: int, height: int, num_frames: int) -> None:
    if prompt.frame >= num_frames:
        raise PromptError(f"{prompt.label()}: frame {prompt.frame} is past the clip's last frame {num_frames - 1}.")
    for point in prompt.points:
        if not (0 <= point.x <= width and 0 <= point.y <= height):
            raise PromptError(
                f"{prompt.label()}: point ({_fmt(point.x)}, {_fmt(point.y)}) lies outside the {width}x{height} frame."
            )
    box = prompt.box
    if box is not None and not (0 <= box.x0 and 0 <= box.y0 and box.x1 <= width and box.y1 <= height):
        raise PromptError(
            f"{prompt.label()}: box [{_fmt(box.x0)}, {_fmt(box.y0)}, {_fmt(box.x1)}, {_fmt(box.y1)}] "
            f"goes outside the {width}x{height} frame."
        )


def _points_from_json(points: Any, where: str) -> tuple[Point, ...]:
    if not isinstance(points, list):
        raise PromptError(f'{where}: "points" must be a list of [x, y, label].')
    result = []
    for i, point in enumerate(points):
        if not isinstance(point, list) or len(point) != 3:
            got = f"{len(point)} elements" if isinstance(point, list) else repr(point)
            raise PromptError(f"{where}: points[{i}] must be [x, y, label] (3 elements), got {got}.")
        x, y, label = point
        if not (_is_number(x) and _is_number(y)):
            raise PromptError(f"{where}: points[{i}] coordinates must be finite numbers, got {x!r}, {y!r}.")
        if not _is_int(label) or label not in (0, 1):
            raise PromptError(f"{where}: points[{i}] label must be 1 (on the object) or 0 (not on it), got {label!r}.")
        result.append(Point(x, y, label == 1))
    return tuple(result)


def _box_from_json(box: Any, where: str) -> Box | None:
    if box is None:
        return None
    if not isinstance(box, list) or len(box) != 4 or not all(_is_number(v) for v in box):
        raise PromptError(f'{where}: "box" must be null or [x0, y0, x1, y1] (4 numbers), got {box!r}.')
    try:
        return Box(*box)
    except PromptError as error:
        raise PromptError(f"{where}: {error}") from None


def _coordinate(value: Any, name: str) -> float:
    if not _is_number(value):
        raise PromptError(f"The {name} coordinate must be a finite number, got {value!r}.")
    return float(value)


def _is_int(value: Any) -> bool:
    # numbers.Integral covers numpy integers; bool is an int subclass but never a frame or id
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: float) -> int | float:
    """Whole-pixel coordinates are written as ints so the file reads like what the user clicked."""
    return int(value) if value.is_integer() else value


def _fmt(value: float) -> str:
    return str(_num(value))
