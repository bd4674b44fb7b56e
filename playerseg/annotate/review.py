"""The review of one model's masks before they become a dataset sequence: plain Python (no gradio), so its rules are
tested without a browser.

A review works on its own copy of the kept model's run folder (masks/*.png at the clip's size, run.json,
prompts.json), so the comparison's outputs stay as they were. A fix is made on one processed frame for one object:
positive/negative clicks or a box (clip pixels) give a preview mask (one SAM2 decoder call, made by the caller with
`preview_inputs`), and accepting it tracks the object again (`retrack`) from its clicks and every mask it was fixed
to; the new track replaces the object's pixels on every frame, taking only pixels no other object holds. Objects can
be renamed and deleted. `write_facts` keeps run.json (with what the review changed) and prompts.json (the user's
clicks and the fixes' clicks, in clip frames and pixels) current, so `export_run` turns the folder into a dataset
sequence as it turns any run folder into one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from playerseg.annotate.ranking import RankedFrame
from playerseg.errors import PlayerSegError
from playerseg.io.masks import read_palette_png, write_palette_png
from playerseg.io.prompts import Box, Point, Prompt, PromptSet
from playerseg.runs.facts import ReviewFacts, RunFacts
from playerseg.runs.runfolder import write_run_json

MAX_NAME_LENGTH = 40
POSITIVE, NEGATIVE, BOX = "positive", "negative", "box"


class ReviewError(PlayerSegError, ValueError):
    """A review step that cannot be done; the message is one sentence for the user."""


@dataclass
class PendingFix:
    """The clicks of a fix being made: one object on one processed frame, and the preview they give."""

    index: int  # selection index
    object_id: int
    points: list[Point] = field(default_factory=list)  # clip pixels
    box: Box | None = None
    corner: tuple[float, float] | None = None  # the first corner of a box, waiting for the second
    preview: np.ndarray | None = None  # bool, processed size
    score: float | None = None

    @property
    def clicks(self) -> int:
        return len(self.points) + int(self.box is not None)

    def add(self, x: float, y: float, kind: str, frame: int) -> str:
        """A point, or a box corner (the second corner completes the box); returns what happened."""
        if kind == BOX:
            if self.corner is None:
                self.corner = (x, y)
                return f"Box for object {self.object_id}: first corner set; click the opposite corner."
            (x0, x1), (y0, y1) = sorted((self.corner[0], x)), sorted((self.corner[1], y))
            if x1 - x0 < 2 or y1 - y0 < 2:
                raise ReviewError("The two box corners are too close: click the opposite corner of the player.")
            self.box, self.corner = Box(x0, y0, x1, y1), None
            return f"Box set for object {self.object_id} on frame {frame}: the preview shows the mask it gives."
        if kind not in (POSITIVE, NEGATIVE):
            raise ReviewError(f"Unknown click kind {kind!r}.")
        self.points.append(Point(x, y, kind == POSITIVE))
        self.corner = None
        return f"Added a {kind} click for object {self.object_id} on frame {frame}: the preview shows its effect."


@dataclass(frozen=True)
class ObjectRow:
    object_id: int
    name: str
    frames_visible: int
    frames_fixed: int


@dataclass
class Review:
    folder: Path
    clip: str
    label: str  # "A" or "B"
    model: str  # the model whose masks are kept, as it was asked for
    tracker: str  # the SAM2 model that previews and tracks fixes (an auto-labeler's tracker)
    facts: RunFacts  # the kept run's run.json
    source_prompts: PromptSet  # the user's clicks the run was made from (clip frames and pixels)
    ranking: list[RankedFrame] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    fix_prompts: list[Prompt] = field(default_factory=list)  # clip frames and pixels
    fix_masks: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)  # (index, object) -> processed mask
    fixed: dict[int, set[int]] = field(default_factory=dict)  # object -> selection indices fixed
    clicks: int = 0
    cursor: int = -1
    pending: PendingFix | None = None
    areas: dict[int, dict[int, int]] = field(default_factory=dict)  # selection index -> object -> pixels

    @classmethod
    def start(
        cls,
        run_dir: str | Path,
        folder: str | Path,
        clip: str,
        label: str,
        model: str,
        tracker: str,
        ranking: list[RankedFrame],
    ) -> Review:
        """Copy the run folder's masks and facts into `folder` (replacing an earlier review); the user's clicks come
        from the run's prompts.json (what the run was made from, even if the clicks were edited since)."""
        run, target = Path(run_dir), Path(folder)
        if not (run / "run.json").is_file() or not (run / "masks").is_dir():
            raise ReviewError(f"Model {label}'s results are gone from the server: run the models again.")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.copytree(run / "masks", target / "masks")
        facts = RunFacts.from_json(_read_json(run / "run.json"))
        clicks = PromptSet.load(run / "prompts.json") if (run / "prompts.json").is_file() else PromptSet([])
        review = cls(target, clip, label, model, tracker, facts, clicks, ranking)
        review.names = {object_id: f"player {object_id}" for object_id in facts.objects}
        review.areas = {index: _areas(review.label_map(index)) for index in range(review.frame_count)}
        review.write_facts()
        return review

    # -- frames and masks --------------------------------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        return self.facts.selection.frames

    def frame_of(self, index: int) -> int:
        """The clip frame number of a selection index."""
        selection = self.facts.selection
        if not 0 <= index < selection.frames:
            raise ReviewError(f"There is no processed frame {index}: pick 0..{selection.frames - 1}.")
        return selection.first_frame + index * selection.stride

    @property
    def objects(self) -> list[int]:
        return [object_id for object_id in self.facts.objects if object_id not in self.deleted]

    def label_map(self, index: int) -> np.ndarray:
        """The kept masks of one processed frame, at the clip's size."""
        return read_palette_png(self.folder / "masks" / f"{self.frame_of(index):05d}.png")

    def _write_label_map(self, index: int, labels: np.ndarray) -> None:
        write_palette_png(self.folder / "masks" / f"{self.frame_of(index):05d}.png", labels)
        self.areas[index] = _areas(labels)

    def object_rows(self) -> list[ObjectRow]:
        return [
            ObjectRow(
                object_id,
                self.names.get(object_id, f"player {object_id}"),
                sum(1 for areas in self.areas.values() if areas.get(object_id, 0) > 0),
                len(self.fixed.get(object_id, ())),
            )
            for object_id in self.objects
        ]

    # -- clicks and the preview --------------------------------------------------------------------------------

    def click(self, index: int, object_id: int, x: float, y: float, kind: str) -> str:
        """One click of a fix (clip pixels). Clicks on another frame or for another object start a new fix."""
        frame = self.frame_of(index)
        self.require_object(object_id)
        clip = self.facts.clip
        x, y = min(max(float(x), 0.0), clip.width - 1.0), min(max(float(y), 0.0), clip.height - 1.0)
        pending = self.pending
        if pending is None or (pending.index, pending.object_id) != (index, object_id):
            pending = self.pending = PendingFix(index, object_id)
        return pending.add(x, y, kind, frame)

    def preview_inputs(self) -> tuple[list[Point], Box | None, np.ndarray | None]:
        """What the preview decoder gets for the pending fix, at the processed size: clicks, box, and the object's
        current mask on that frame (none when a box redraws the object, or the object has no mask there)."""
        pending = self.require_pending()
        sx, sy = processed_scale(self.facts)
        points = [Point(p.x * sx, p.y * sy, p.positive) for p in pending.points]
        if pending.box is not None:
            box = pending.box
            return points, Box(box.x0 * sx, box.y0 * sy, box.x1 * sx, box.y1 * sy), None
        prior = self.label_map(pending.index) == pending.object_id
        if not prior.any():
            return points, None, None
        size = (self.facts.selection.width, self.facts.selection.height)
        return points, None, cv2.resize(prior.view(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)

    def set_preview(self, mask: np.ndarray, score: float) -> None:
        """The decoder's mask for the pending fix (processed size); a box says the object lies inside it, so what
        the decoder puts outside the box is cut off."""
        pending = self.require_pending()
        preview = np.asarray(mask, dtype=bool).copy()
        if pending.box is not None:
            sx, sy = processed_scale(self.facts)
            box = pending.box
            inside = np.zeros_like(preview)
            x0, y0 = int(np.floor(box.x0 * sx)), int(np.floor(box.y0 * sy))
            inside[max(y0, 0) : int(np.ceil(box.y1 * sy)) + 1, max(x0, 0) : int(np.ceil(box.x1 * sx)) + 1] = True
            preview &= inside
        pending.preview, pending.score = preview, float(score)

    def discard(self) -> None:
        self.pending = None

    def require_pending(self) -> PendingFix:
        if self.pending is None:
            raise ReviewError("Click the object on the frame first: the fix starts with a click or a box.")
        return self.pending

    def require_object(self, object_id: int) -> None:
        if object_id not in self.objects:
            raise ReviewError(f"There is no object {object_id} in this review; pick one of {self.objects}.")

    # -- accepting a fix ---------------------------------------------------------------------------------------

    def accept(self) -> tuple[int, dict[int, np.ndarray]]:
        """The pending fix's preview becomes a fixed mask of its object; returns the object and all its fixed masks
        (selection index -> processed mask), what `retrack_object` conditions on."""
        pending = self.require_pending()
        if pending.preview is None or not pending.preview.any():
            raise ReviewError(
                "The preview of this fix is empty: add a positive click or a box on the player before tracking again."
            )
        self.fix_masks[(pending.index, pending.object_id)] = pending.preview
        return pending.object_id, self.fixes_of(pending.object_id)

    def fixes_of(self, object_id: int) -> dict[int, np.ndarray]:
        return {index: mask for (index, obj), mask in sorted(self.fix_masks.items()) if obj == object_id}

    def apply_track(self, object_id: int, masks: dict[int, np.ndarray]) -> int:
        """The object's new track (processed masks by selection index) replaces its pixels on every frame, taking
        only pixels no other object holds; the pending fix is recorded. Returns how many frames changed."""
        pending = self.require_pending()
        clip = self.facts.clip
        changed = 0
        for index in range(self.frame_count):
            labels = self.label_map(index)
            new = masks.get(index)
            grown = np.zeros(labels.shape, bool)
            if new is not None and new.any():
                grown = cv2.resize(new.view(np.uint8), (clip.width, clip.height), interpolation=cv2.INTER_NEAREST)
                grown = grown.astype(bool)
            updated = np.where(labels == object_id, 0, labels).astype(np.uint8)
            updated[grown & (updated == 0)] = object_id
            if not np.array_equal(updated, labels):
                self._write_label_map(index, updated)
                changed += 1
        self._record(pending)
        return changed

    def _record(self, pending: PendingFix) -> None:
        frame = self.frame_of(pending.index)
        if pending.points or pending.box is not None:
            self.fix_prompts.append(Prompt(frame, pending.object_id, tuple(pending.points), pending.box))
        self.fixed.setdefault(pending.object_id, set()).add(pending.index)
        self.clicks += pending.clicks
        self.pending = None
        self.write_facts()

    def clicks_of(self, object_id: int) -> PromptSet:
        """The user's clicks for an object, as the run used them (clip frames and pixels)."""
        return PromptSet([p for p in self.source_prompts.prompts if p.object_id == object_id])

    # -- objects -----------------------------------------------------------------------------------------------

    def rename(self, object_id: int, name: str) -> str:
        self.require_object(object_id)
        clean = " ".join(str(name or "").split())
        if not clean:
            raise ReviewError("Type a name (a player number or a name) before renaming.")
        if len(clean) > MAX_NAME_LENGTH or not clean.isprintable():
            raise ReviewError(f"A name has at most {MAX_NAME_LENGTH} printable characters.")
        self.names[object_id] = clean
        self.write_facts()
        return f"Object {object_id} is now called {clean!r}."

    def delete(self, object_id: int) -> str:
        """The object leaves the review: its pixels become background on every frame, its prompts are dropped."""
        self.require_object(object_id)
        if len(self.objects) == 1:
            raise ReviewError("This is the last object: a dataset sequence needs at least one.")
        for index in range(self.frame_count):
            if self.areas.get(index, {}).get(object_id, 0):
                labels = self.label_map(index)
                labels[labels == object_id] = 0
                self._write_label_map(index, labels)
        self.deleted.add(object_id)
        self.fix_masks = {key: mask for key, mask in self.fix_masks.items() if key[1] != object_id}
        if self.pending is not None and self.pending.object_id == object_id:
            self.pending = None
        self.write_facts()
        return f"Deleted object {object_id} from every frame."

    # -- disagreement ------------------------------------------------------------------------------------------

    def next_disagreement(self) -> RankedFrame:
        """The next frame down the disagreement ranking (worst first), wrapping round."""
        if not self.ranking:
            raise ReviewError("Both models must have finished to rank the frames by how much they disagree.")
        self.cursor = (self.cursor + 1) % len(self.ranking)
        return self.ranking[self.cursor]

    # -- the folder's facts ------------------------------------------------------------------------------------

    def all_prompts(self) -> PromptSet:
        """The user's clicks and every fix's clicks of the objects kept, in clip frames and pixels."""
        kept = set(self.objects)
        return PromptSet([p for p in [*self.source_prompts.prompts, *self.fix_prompts] if p.object_id in kept])

    def review_facts(self) -> ReviewFacts:
        fixed = {self.frame_of(index) for object_id in self.objects for index in self.fixed.get(object_id, ())}
        return ReviewFacts(
            kept=self.model,
            object_names={object_id: self.names[object_id] for object_id in self.objects},
            deleted=sorted(self.deleted),
            fixed_frames=sorted(fixed),
            clicks=self.clicks,
        )

    def write_facts(self) -> None:
        """run.json (objects, prompts in processed frames and pixels, the review's facts) and prompts.json."""
        prompts = self.all_prompts()
        processed = PromptSet([to_processed(p, self.facts) for p in prompts.prompts])
        facts = replace(self.facts, objects=self.objects, prompts=processed, review=self.review_facts())
        write_run_json(self.folder, facts)
        if prompts.prompts:
            prompts.save(self.folder / "prompts.json")


def processed_scale(facts: RunFacts) -> tuple[float, float]:
    """Processed pixels per clip pixel, across and down."""
    return facts.selection.width / facts.clip.width, facts.selection.height / facts.clip.height


def to_processed(prompt: Prompt, facts: RunFacts) -> Prompt:
    """Clip frame and pixels -> selection index (the nearest processed frame) and processed pixels."""
    selection = facts.selection
    index = min(max(round((prompt.frame - selection.first_frame) / selection.stride), 0), selection.frames - 1)
    sx, sy = processed_scale(facts)
    points = tuple(Point(p.x * sx, p.y * sy, p.positive) for p in prompt.points)
    box = prompt.box
    if box is not None:
        box = Box(box.x0 * sx, box.y0 * sy, box.x1 * sx, box.y1 * sy)
    return Prompt(index, prompt.object_id, points, box)


def _areas(labels: np.ndarray) -> dict[int, int]:
    counts = np.bincount(labels.ravel(), minlength=256)
    return {int(object_id): int(counts[object_id]) for object_id in np.flatnonzero(counts) if 0 < object_id < 255}


def _read_json(path: Path) -> dict:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ReviewError(f"{path.name} of the run cannot be read ({error}).") from None
