"""Detections as files: the import format that lets any detector (or ground-truth boxes) drive the auto-labeler.
What an auto-labelling run reports (`detections.json`, run.json's "autolabel" facts) is playerseg.runs.autolabel_report.

Import format (pixel coordinates of the original frame; frames without a key had no detection run on them, a key
with an empty list means the detector ran and found nobody):
    {"frames": {"0": [{"box": [x0, y0, x1, y1], "score": 0.9, "label": "person"}, ...], "4": [...]}}
"score" defaults to 1.0 and "label" to "person".
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path
from typing import Any

from playerseg.autolabel.detector import Detection
from playerseg.errors import PlayerSegError

MAX_FILE_BYTES = 200 * 1024 * 1024


class DetectionsError(PlayerSegError, ValueError):
    """A detections file the auto-labeler cannot use; the message is one sentence."""


def read_detections_file(path: str | Path) -> dict[int, list[Detection]]:
    """The import format -> {clip frame: detections in original-frame pixels}; bad files raise DetectionsError."""
    file = Path(path)
    if not file.is_file():
        raise DetectionsError(f"Detections file {file} does not exist.")
    if file.stat().st_size > MAX_FILE_BYTES:
        raise DetectionsError(f"Detections file {file} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    try:
        payload = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DetectionsError(f"Detections file {file} is not valid JSON ({error}).") from error
    return parse_detections(payload, str(file))


def parse_detections(payload: Any, where: str = "detections") -> dict[int, list[Detection]]:
    frames = payload.get("frames") if isinstance(payload, dict) else None
    if not isinstance(frames, dict):
        raise DetectionsError(f'{where} must be a JSON object with a "frames" object: {{"frames": {{"0": [...]}}}}.')
    parsed: dict[int, list[Detection]] = {}
    for key, entries in frames.items():
        frame = _frame_number(key, where)
        if not isinstance(entries, list):
            raise DetectionsError(f"{where}: frame {key} must hold a list of detections.")
        parsed[frame] = [_detection(entry, f"{where}: frame {key}, detection {i}") for i, entry in enumerate(entries)]
    return dict(sorted(parsed.items()))


def _frame_number(key: str, where: str) -> int:
    if not (isinstance(key, str) and key.isdigit()):
        raise DetectionsError(f'{where}: frame keys must be frame numbers like "0", got {key!r}.')
    return int(key)


def _detection(entry: Any, where: str) -> Detection:
    if not isinstance(entry, dict) or "box" not in entry:
        raise DetectionsError(f'{where} must be an object with a "box": [x0, y0, x1, y1].')
    box = entry["box"]
    if not (isinstance(box, list) and len(box) == 4 and all(_finite(v) for v in box)):
        raise DetectionsError(f"{where}: box must be four numbers [x0, y0, x1, y1], got {box!r}.")
    x0, y0, x1, y1 = (float(v) for v in box)
    if x1 <= x0 or y1 <= y0:
        raise DetectionsError(f"{where}: box {box} is empty (it needs x1 > x0 and y1 > y0).")
    score = entry.get("score", 1.0)
    if not _finite(score) or not 0.0 <= float(score) <= 1.0:
        raise DetectionsError(f"{where}: score must be a number from 0 to 1, got {score!r}.")
    label = entry.get("label", "person")
    if not isinstance(label, str):
        raise DetectionsError(f"{where}: label must be text, got {label!r}.")
    return Detection(box=(x0, y0, x1, y1), score=float(score), label=label)


def _finite(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))
