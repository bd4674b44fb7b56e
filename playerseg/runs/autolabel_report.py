"""What an auto-labelling run reports: each detection and what became of it (`detections.json`), and run.json's
"autolabel" facts. It lives with the run (not in playerseg.autolabel) because the run folder writes it.

detections.json: a list with one entry per detection the run saw, in frame order:
    {"frame", "box", "score", "label", "kept": true|false, "reason": null|"...", "track_id": null|int, "cluster"}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


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
            **(
                {"object_of_track": {str(k): v for k, v in self.object_of_track.items()}}
                if self.object_of_track
                else {}
            ),
        }


def write_detections_json(records: list[DetectionRecord], path: str | Path) -> Path:
    out = Path(path)
    out.write_text(json.dumps([record.to_dict() for record in records], indent=1))
    return out
