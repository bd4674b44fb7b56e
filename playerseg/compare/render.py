"""A comparison's outputs, in one pass over the frames: each completed model's run folder (through RunFolderWriter,
as `playerseg segment` writes it), the side-by-side video (a failed model's side an error panel) and the disagreement
view."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import cv2
import numpy as np

from playerseg.compare.outcome import ModelOutcome
from playerseg.compare.progress import ProgressFn
from playerseg.io.overlay import disagreement_frame, side_by_side
from playerseg.io.prompts import PromptSet
from playerseg.io.video import FrameStore, VideoWriter
from playerseg.runs.runfolder import RunFolderWriter, RunOutputs

SIDE_BY_SIDE_NAME = "side_by_side.mp4"
DISAGREEMENT_NAME = "disagreement.mp4"


def render(
    store: FrameStore, outcomes: list[ModelOutcome], out: Path, prompts: PromptSet, command: str, notify: ProgressFn
) -> tuple[Path, Path | None, dict[str, RunOutputs]]:
    """Per frame: each completed model's frame added to its run folder (mask, overlay drawn once, flicker step) and
    its overlay put into the side-by-side view (a failed model's side shows its error); the disagreement view when
    both completed. Returns the two videos and each completed model's run folder outputs."""
    done = [o for o in outcomes if o.ok]
    both = len(done) == 2
    side_path, disagreement_path = out / SIDE_BY_SIDE_NAME, out / DISAGREEMENT_NAME
    drawn: dict[str, np.ndarray] = {}  # each model's overlay frame, as its run folder writer drew it
    with ExitStack() as stack:
        writers = {o.label: stack.enter_context(_run_folder_writer(o, store, drawn)) for o in done}
        side_writer = stack.enter_context(VideoWriter(side_path, fps=store.fps))
        disagreement_writer = stack.enter_context(VideoWriter(disagreement_path, fps=store.fps)) if both else None
        titles = [o.display_name if o.ok else f"{o.display_name}: failed" for o in outcomes]
        for index in range(len(store)):
            rgb = store[index]
            labels = {o.label: o.result.masks.label_map(index) for o in done if o.result is not None}
            for label, writer in writers.items():
                writer.add(index, labels[label])
            panels = [drawn.pop(o.label) if o.label in labels else error_panel(rgb, o.error or "") for o in outcomes]
            side_writer.write(side_by_side(panels[0], panels[1], titles[0], titles[1]))
            if disagreement_writer is not None:
                disagreement_writer.write(disagreement_frame(rgb, labels["A"], labels["B"]))
            for outcome in done:
                notify(outcome.label, "render", index + 1, len(store))
        outputs = {o.label: writers[o.label].finish(o.result, command, source_prompts=prompts) for o in done}
    return side_path, disagreement_path if both else None, outputs


def _run_folder_writer(outcome: ModelOutcome, store: FrameStore, drawn: dict[str, np.ndarray]) -> RunFolderWriter:
    """The model's run folder, written in line (the comparison's pass over the frames is the caller's thread); each
    overlay frame it draws lands in `drawn` under the model's label."""
    assert outcome.result is not None and outcome.run_dir is not None
    result, label = outcome.result, outcome.label
    return RunFolderWriter(
        outcome.run_dir,
        store,
        result.model,
        result.prompts,
        on_overlay=lambda _index, frame: drawn.__setitem__(label, frame),
    )


def error_panel(rgb: np.ndarray, sentence: str) -> np.ndarray:
    """The frame greyed and darkened, with the failed model's error sentence written over it (wrapped)."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    out = np.repeat(np.rint(grey * 0.3).astype(np.uint8)[..., None], 3, axis=2)
    height, width = out.shape[:2]
    font, thickness = cv2.FONT_HERSHEY_SIMPLEX, 1
    scale = max(0.3, min(0.8, width / 1000))
    margin = max(4, width // 40)
    (_, text_height), baseline = cv2.getTextSize("Ag", font, scale, thickness)
    step = text_height + baseline + max(2, text_height // 2)
    lines = _wrap(sentence, lambda text: cv2.getTextSize(text, font, scale, thickness)[0][0], width - 2 * margin)
    fitting = max(1, (height - 2 * margin) // step)
    if len(lines) > fitting:  # too long for the frame: cut, and say so
        lines = lines[:fitting]
        lines[-1] = lines[-1].rstrip(".") + "..."
    for row, line in enumerate(lines):
        y = margin + text_height + row * step
        cv2.putText(out, line, (margin, y), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def _wrap(text: str, measure: Callable[[str], int], width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and measure(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return lines + ([current] if current else [])
