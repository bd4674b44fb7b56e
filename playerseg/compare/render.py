"""A comparison's videos, in one pass over the frames: each model's overlay, side by side (a failed model's side an
error panel) and the disagreement view."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import cv2
import numpy as np

from playerseg.compare.outcome import ModelOutcome
from playerseg.compare.progress import ProgressFn
from playerseg.io.overlay import disagreement_frame, draw_overlay, side_by_side, with_caption
from playerseg.io.video import FrameStore, VideoWriter

SIDE_BY_SIDE_NAME = "side_by_side.mp4"
DISAGREEMENT_NAME = "disagreement.mp4"


def render(
    store: FrameStore, outcomes: list[ModelOutcome], out: Path, notify: ProgressFn
) -> tuple[Path, Path | None]:
    """Per frame: each completed model's overlay drawn once, written to its overlay.mp4 and into the side-by-side
    view (a failed model's side shows its error); the disagreement view when both completed."""
    done = [o for o in outcomes if o.ok]
    both = len(done) == 2
    side_path, disagreement_path = out / SIDE_BY_SIDE_NAME, out / DISAGREEMENT_NAME
    with ExitStack() as stack:
        overlays = {o.label: stack.enter_context(VideoWriter(o.overlay, fps=store.fps)) for o in done}
        side_writer = stack.enter_context(VideoWriter(side_path, fps=store.fps))
        disagreement_writer = stack.enter_context(VideoWriter(disagreement_path, fps=store.fps)) if both else None
        titles = [o.display_name if o.ok else f"{o.display_name}: failed" for o in outcomes]
        for index in range(len(store)):
            rgb = store[index]
            labels = {o.label: o.result.masks.label_map(index) for o in done if o.result is not None}
            panels = []
            for outcome in outcomes:
                if outcome.label in labels:
                    panel = _overlay_frame(outcome, rgb, labels[outcome.label], index)
                    overlays[outcome.label].write(panel)
                else:
                    panel = error_panel(rgb, outcome.error or "")
                panels.append(panel)
            side_writer.write(side_by_side(panels[0], panels[1], titles[0], titles[1]))
            if disagreement_writer is not None:
                disagreement_writer.write(disagreement_frame(rgb, labels["A"], labels["B"]))
            for outcome in done:
                notify(outcome.label, "render", index + 1, len(store))
    return side_path, disagreement_path if both else None


def _overlay_frame(outcome: ModelOutcome, rgb: np.ndarray, labels: np.ndarray, index: int) -> np.ndarray:
    """The frame as the model's overlay.mp4 shows it (the same drawing as `playerseg segment`'s overlay)."""
    assert outcome.result is not None
    frame = draw_overlay(rgb, labels, outcome.result.prompts.for_frame(index))
    if outcome.random_weights:
        return with_caption(frame, f"{outcome.result.model['model']}: RANDOM WEIGHTS, masks mean nothing")
    return frame


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
