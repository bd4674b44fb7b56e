"""A run folder and its clip -> one dataset sequence (`python -m playerseg export-sequence`).

The run's masks are at the clip's size and named by clip frame number, so the frames exported are the clip's own
(not downscaled) over the run's selection (run.json "selection": first frame, stride, count). The clip must be the
one the run was made on (size and frame count as run.json "clip"); its sha256 is recorded as the source. run.json's
prompts are in processed frames and pixels ("prompt_space"): they are mapped back to clip frames and pixels.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from playerseg.dataset.sequence_writer import (
    SequenceError,
    SequenceMeta,
    safe_sequence_name,
    sequence_exists,
    write_sequence,
)
from playerseg.errors import PlayerSegError
from playerseg.io.masks import read_palette_png
from playerseg.io.prompts import Box, Point, PromptSet
from playerseg.io.video import FrameStore, probe_video
from playerseg.runs.facts import PROMPT_SPACE, RunFacts

_CHUNK = 1 << 20


class ExportError(SequenceError):
    """A run folder or clip that cannot be exported; the message is one sentence for the user."""


def sequence_name(clip: str | Path, name: str | None = None) -> str:
    """The sequence's name: `name` if given, else the clip's stem, made safe."""
    return safe_sequence_name(name if name else Path(clip).stem)


def export_run(
    run_dir: str | Path, clip: str | Path, dataset_dir: str | Path, name: str | None = None, overwrite: bool = True
) -> Path:
    """Write the run as sequence `name` (default: the clip's stem) of the dataset folder; returns its JPEGImages
    folder. Without `overwrite` an existing sequence of that name is refused."""
    seq = sequence_name(clip, name)
    if not overwrite and sequence_exists(dataset_dir, seq):
        raise ExportError(f"Sequence {seq} is already in {dataset_dir}; pass --overwrite to replace it.")
    facts = read_run_facts(run_dir)
    check_clip(clip, facts)
    selection = facts.selection
    stop = selection.last_frame + 1
    with FrameStore(clip, start=selection.first_frame, stop=stop, stride=selection.stride) as store:
        masks = read_run_masks(run_dir, store.source_indices)
        meta = sequence_meta(facts, clip)
        prompts = prompts_in_clip_space(facts, store.source_indices)
        return write_sequence(dataset_dir, seq, zip(store.source_indices, store), masks, prompts, meta)


def sequence_meta(facts: RunFacts, clip: str | Path) -> SequenceMeta:
    """meta.json's entry: the objects (named as the review named them, else "player N"), the clip, the model, and the
    review's fixed frames and clicks (none for a run nobody reviewed)."""
    review = facts.review
    names = review.object_names if review is not None else {}
    return SequenceMeta(
        objects={object_id: names.get(object_id, f"player {object_id}") for object_id in facts.objects},
        source_clip=Path(clip).name,
        source_sha256=clip_sha256(clip),
        model=review.kept if review is not None else facts.model.model,
        frames_fixed=review.frames_fixed if review is not None else 0,
        clicks=review.clicks if review is not None else 0,
    )


def read_run_facts(run_dir: str | Path) -> RunFacts:
    """run.json's facts; ExportError when it is no run folder."""
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        raise ExportError(f"{run_dir} is not a run folder: it has no run.json.")
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        facts = RunFacts.from_json(raw)
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise ExportError(f"{path} is not a readable run.json ({error}).") from None
    if facts.prompt_space != PROMPT_SPACE:
        raise ExportError(f'{path} has prompts in "{facts.prompt_space}", which export-sequence does not read.')
    return facts


def check_clip(clip: str | Path, facts: RunFacts) -> None:
    """Refuse a clip other than the one the run was made on (size and frame count)."""
    info = probe_video(clip)
    run_clip = facts.clip
    same = (info.width, info.height, info.frame_count) == (run_clip.width, run_clip.height, run_clip.frame_count)
    if not same:
        raise ExportError(
            f"{clip} is {info.width}x{info.height} with {info.frame_count} frames, but the run was made on "
            f"{run_clip.path} ({run_clip.width}x{run_clip.height}, {run_clip.frame_count} frames): pass that clip."
        )


def read_run_masks(run_dir: str | Path, frames: list[int]) -> dict[int, np.ndarray]:
    """The run's label maps by clip frame number: exactly one masks/NNNNN.png per processed frame."""
    folder = Path(run_dir) / "masks"
    found = {int(p.stem): p for p in folder.glob("*.png") if p.stem.isdigit()} if folder.is_dir() else {}
    if sorted(found) != sorted(frames):
        raise ExportError(
            f"{folder} holds masks of {len(found)} frames, not one for each of the {len(frames)} frames the run "
            "processed: it is not this run's folder, or it is unfinished."
        )
    try:
        return {frame: read_palette_png(found[frame]) for frame in frames}
    except PlayerSegError as error:
        raise ExportError(f"{folder} holds a mask that cannot be read: {error}") from None


def prompts_in_clip_space(facts: RunFacts, source_frames: list[int]) -> PromptSet:
    """run.json's prompts (selection index, processed pixels) in clip frame numbers and clip pixels."""
    scale_x = facts.clip.width / facts.selection.width
    scale_y = facts.clip.height / facts.selection.height
    mapped = []
    for prompt in facts.prompts.prompts:
        if not 0 <= prompt.frame < len(source_frames):
            raise ExportError(f"run.json has a prompt on processed frame {prompt.frame}, past the run's frames.")
        points = tuple(Point(p.x * scale_x, p.y * scale_y, p.positive) for p in prompt.points)
        box = prompt.box
        if box is not None:
            box = Box(box.x0 * scale_x, box.y0 * scale_y, box.x1 * scale_x, box.y1 * scale_y)
        mapped.append(replace(prompt, frame=source_frames[prompt.frame], points=points, box=box))
    return PromptSet(mapped)


def clip_sha256(clip: str | Path) -> str:
    """sha256 of the clip file; of a frame folder, of its files' names and bytes in name order."""
    path = Path(clip)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode("utf-8") + b"\0")
        with open(file, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()
