"""Detections as files: the import format that lets any detector (or ground-truth boxes) drive the auto-labeler,
and what an auto-labelling run reports (`detections.json`, run.json's "autolabel" facts).

Import format (pixel coordinates of the original frame; frames without a key had no detection run on them, a key
with an empty list means the detector ran and found nobody):
    {"frames": {"0": [{"box": [x0, y0, x1, y1], "score": 0.9, "label": "person"}, ...], "4": [...]}}
"score" defaults to 1.0 and "label" to "person".

detections.json: a list with one entry per detection the run saw, in frame order:
    {"frame", "box", "score", "label", "kept": true|false, "reason": null|"...", "track_id": null|int, "cluster"}
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from playerseg.autolabel.detector import Detection
from playerseg.errors import PlayerSegError

MAX_FILE_BYTES = 200 * 1024 * 1024


class DetectionsError(PlayerSegError, ValueError):
    """A detections file the auto-labeler cannot use; the message is one sentence."""


@dataclass(frozen=True)
class DetectionRecord:
    """One detection and what the auto-labeler did with it (clip frame number, original-frame pixels)."""

    frame: int
    box: tuple[float, float, float, float]
    score: float
    label: str
    kept: bool
    reason: str | None  # why it was rejected or not used; None when it drives a track
    track_id: int | None  # the track it started or confirmed
    cluster: int | None = None  # jersey-colour cluster, when team clustering ran

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["box"] = [round(v, 2) for v in self.box]
        record["score"] = round(self.score, 4)
        return record


@dataclass
class AutoLabelReport:
    """What an auto-labelling run adds to a RunResult (written to detections.json and run.json)."""

    detector: dict[str, Any]  # the detection source's facts (detector name and weights, or the imported file)
    settings: dict[str, Any]
    records: list[DetectionRecord] = field(default_factory=list)
    track_ids: list[int] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # starts, ends, suspected id switches
    detection_frames: list[int] = field(default_factory=list)  # clip frames where detections were looked at
    clusters: list[dict[str, Any]] = field(default_factory=list)  # the last detection frame's jersey clusters
    object_of_track: dict[int, int] = field(default_factory=dict)  # compare: track id -> the mask id it was given
    officials: dict[str, Any] | None = None  # whether the officials were removed by jersey colour, and why (jerseys)

    @property
    def suspected_id_switches(self) -> int:
        return sum(event["kind"] == "suspected switch" for event in self.events)

    def facts(self) -> dict[str, Any]:
        """run.json's "autolabel" entry (the per-detection list goes to detections.json)."""
        reasons: dict[str, int] = {}
        for record in self.records:
            if record.reason is not None:
                reasons[record.reason] = reasons.get(record.reason, 0) + 1
        return {
            "detector": self.detector,
            "settings": self.settings,
            "detection_frames": self.detection_frames,
            "detections": len(self.records),
            "kept": sum(record.kept for record in self.records),
            "rejected_by_reason": reasons,
            "tracks": len(self.track_ids),
            "suspected_id_switches": self.suspected_id_switches,
            "id_events": self.events,
            "clusters": self.clusters,
            **({"officials": self.officials} if self.officials is not None else {}),
            **({"object_of_track": {str(k): v for k, v in self.object_of_track.items()}} if self.object_of_track else {}),
        }


def write_detections_json(records: list[DetectionRecord], path: str | Path) -> Path:
    out = Path(path)
    out.write_text(json.dumps([record.to_dict() for record in records], indent=1))
    return out


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
        raise DetectionsError(f"{where}: frame keys must be frame numbers like \"0\", got {key!r}.")
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
