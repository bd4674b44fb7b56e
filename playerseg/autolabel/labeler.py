"""The zero-shot auto-labeler: a text prompt finds every person, a filter keeps the players, SAM2 tracks them.

Per processed frame, forward only:
  1. on a detection frame (every N-th frame with the detector, or the frames an imported detections file lists):
     detect, drop duplicate boxes, keep the players (autolabel.player_filter: pitch, size and shape; by default
     also the officials, by jersey colour, when the colours separate clearly -- the shirt colours of the clip's
     last 25 detection frames are clustered together, so the decision is stable and rests on more than one
     frame; run.json's autolabel "officials" block says whether they were removed, how many detections were
     dropped, and if not, why, with the separation and the figure needed), match the players to the live
     tracks (autolabel.association), re-prompt a matched track whose mask drifted away from its detection, start a
     track for each new player -- in the LIVE tracker state, so the other tracks keep their memory (unlike
     restarting SAM2 every few frames) -- and end the tracks no detection confirmed for a while;
  2. SAM2 tracks every live track one frame on (Sam2VideoTracker.step).
Tracks are matched against their masks on the previous processed frame (the current one is not tracked yet).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from playerseg.autolabel.association import MAX_TRACK_ID, AssociationSettings, TrackBook, box_iou_matrix
from playerseg.autolabel.detections import read_detections_file
from playerseg.autolabel.detector import (
    DEFAULT_TEXT,
    Detection,
    GroundingDinoDetector,
    load_detector,
    normalise_text_prompt,
)
from playerseg.autolabel.jerseys import JerseyPool, OfficialsTally
from playerseg.autolabel.names import (  # noqa: F401 -- the names are offered from here too
    AUTOLABEL_PREFIX,
    DEFAULT_DETECTOR,
    DEFAULT_TRACKER,
    SAM3_DETECTORS,
    AutoLabelerName,
    autolabel_name,
    is_sam3_detector,
    parse_autolabel_name,
    sam3_autolabel_name,
)
from playerseg.autolabel.player_filter import REASON_OFFICIAL, FilterResult, FilterSettings, filter_players
from playerseg.io.masks import MaskTrack, bbox_from_mask
from playerseg.io.prompts import Box, Prompt, PromptSet
from playerseg.io.video import FrameStore
from playerseg.runs.autolabel_report import AutoLabelReport, DetectionRecord
from playerseg.runs.facts import AutoLabelParts, ModelFacts, Timings
from playerseg.runs.pipeline import FrameStats, ProgressCallback, RunResult, open_selection, selection_facts
from playerseg.tracking.registry import LoadedModel, load_video_model
from playerseg.tracking.tracker import Sam2VideoTracker
from playerseg.tracking.trackers import require_sam2

DEFAULT_EVERY = 5  # re-detect every 5th processed frame: ~5 detections a second at 24 fps
DEFAULT_BOX_THRESHOLD = 0.35  # Grounding DINO's
DEFAULT_TEXT_THRESHOLD = 0.25
DUPLICATE_IOU = 0.7  # Grounding DINO does no non-maximum suppression: boxes overlapping this much are one person


@dataclass(frozen=True)
class AutoLabelSettings:
    every: int | None = None  # detection every N processed frames; None: DEFAULT_EVERY, or every imported frame
    association: AssociationSettings = field(default_factory=AssociationSettings)
    player_filter: FilterSettings = field(default_factory=FilterSettings)
    duplicate_iou: float = DUPLICATE_IOU

    def __post_init__(self) -> None:
        if self.every is not None and self.every < 1:
            raise ValueError(f"Re-detection interval must be at least 1 frame, got {self.every}.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "every": self.every,
            "association": asdict(self.association),
            "player_filter": asdict(self.player_filter),
            "duplicate_iou": self.duplicate_iou,
        }


class DetectionSource(Protocol):
    """Where a frame's detections come from. A frame it does not want had no detection run on it, which is not the
    same as a detection that found nobody (an empty list): only the latter counts against the tracks."""

    def describe(self) -> dict[str, Any]: ...

    def wants(self, index: int, source_frame: int) -> bool:
        """Whether this processed frame is a detection frame (then its pixels are read and detect() runs)."""
        ...

    def detect(self, index: int, source_frame: int, rgb: np.ndarray) -> list[Detection]: ...


class DetectorSource:
    """Grounding DINO on every `every`-th processed frame (boxes in the processed frame's pixels)."""

    def __init__(
        self,
        detector: GroundingDinoDetector,
        text: str = DEFAULT_TEXT,
        box_threshold: float = DEFAULT_BOX_THRESHOLD,
        text_threshold: float = DEFAULT_TEXT_THRESHOLD,
        every: int = DEFAULT_EVERY,
    ) -> None:
        self.detector = detector
        self.text = normalise_text_prompt(text)
        self.box_threshold = box_threshold
        self.text_threshold = text_threshold
        self.every = every

    def describe(self) -> dict[str, Any]:
        return {
            **self.detector.describe(),
            "text": self.text,
            "box_threshold": self.box_threshold,
            "text_threshold": self.text_threshold,
            "every": self.every,
        }

    def wants(self, index: int, source_frame: int) -> bool:
        return index % self.every == 0

    def detect(self, index: int, source_frame: int, rgb: np.ndarray) -> list[Detection]:
        return self.detector.detect(rgb, self.text, self.box_threshold, self.text_threshold)


class ImportedSource:
    """Detections read from a file (clip frames, original pixels), scaled to the processed frames."""

    def __init__(
        self, detections: dict[int, list[Detection]], scale: tuple[float, float], every: int | None, origin: str
    ) -> None:
        self.detections = detections
        self.scale_x, self.scale_y = scale
        self.every = every
        self.origin = origin

    def describe(self) -> dict[str, Any]:
        return {
            "detector": "imported",
            "file": self.origin,
            "frames_in_file": len(self.detections),
            "every": self.every,
            "random_weights": False,
        }

    def wants(self, index: int, source_frame: int) -> bool:
        return source_frame in self.detections and (self.every is None or index % self.every == 0)

    def detect(self, index: int, source_frame: int, rgb: np.ndarray) -> list[Detection]:
        return [scale_detection(d, self.scale_x, self.scale_y) for d in self.detections[source_frame]]


def scale_detection(detection: Detection, scale_x: float, scale_y: float) -> Detection:
    x0, y0, x1, y1 = detection.box
    return Detection((x0 * scale_x, y0 * scale_y, x1 * scale_x, y1 * scale_y), detection.score, detection.label)


@dataclass
class _FrameOutcome:
    """One detection frame's decisions, in processed pixels, before they become DetectionRecords."""

    detections: list[Detection]
    reasons: list[str | None]
    track_ids: list[int | None]
    clusters: list[int | None]
    filtered: FilterResult


class AutoLabeler:
    """Detect, filter, associate and track: a RunResult whose object ids are track ids."""

    def __init__(self, tracker_model: LoadedModel, source: DetectionSource, settings: AutoLabelSettings) -> None:
        require_sam2(tracker_model, "The auto-labeler's tracker")  # it streams: new players join the live state
        self.model = tracker_model
        self.source = source
        self.settings = settings
        self._jerseys = JerseyPool()

    def run(self, store: FrameStore, progress: ProgressCallback | None = None) -> RunResult:
        scale = (store.width / store.info.width, store.height / store.info.height)
        filter_settings = self.settings.player_filter.scaled(*scale)
        book = TrackBook(self.settings.association)
        masks = MaskTrack(store.height, store.width)
        stats = [
            FrameStats(index=i, source_frame=source, time_s=time_s)
            for i, (source, time_s) in enumerate(zip(store.source_indices, store.times_s))
        ]
        report = AutoLabelReport(detector=self.source.describe(), settings=self.settings.to_dict())
        self._jerseys = JerseyPool()  # this clip's recent shirt colours: the officials' decision rests on them
        officials = OfficialsTally(filter_settings.teams, filter_settings.min_separation)
        prompts: list[Prompt] = []
        mask_boxes: dict[int, tuple[float, float, float, float] | None] = {}
        started = time.perf_counter()
        detect_s = 0.0
        with Sam2VideoTracker(self.model, store) as tracker:
            for index in range(len(store)):
                began = time.perf_counter()
                outcome = self._detection_step(store, index, filter_settings, book, tracker, mask_boxes, prompts)
                detect_ms = (time.perf_counter() - began) * 1000.0 if outcome is not None else 0.0
                detect_s += detect_ms / 1000.0
                if outcome is not None:
                    self._report(report, outcome, store.source_indices[index], scale)
                    officials.add(outcome.filtered.officials, outcome.reasons.count(REASON_OFFICIAL))
                result = tracker.step(index)
                for object_id, mask in result.masks.items():
                    masks.set(index, object_id, mask)
                mask_boxes = {obj: bbox_from_mask(mask) for obj, mask in result.masks.items()}
                stats[index].add(result)
                stats[index].detect_ms = detect_ms
                stats[index].latency_ms += detect_ms
                if progress is not None:
                    progress(index + 1, len(store))
        _mark_first_prompt_frame(stats)
        for frame_stats in stats:
            frame_stats.visible_objects = sum(masks.area(frame_stats.index, obj) > 0 for obj in book.tracks)
        report.track_ids = sorted(book.tracks)
        report.events = [{**asdict(event), "frame": store.source_indices[event.frame]} for event in book.events]
        report.officials = officials.to_dict()
        warnings = self._warnings(book, officials)
        tracking_s = time.perf_counter() - started
        return RunResult(
            model=self._describe(),
            clip=store.info,
            selection=selection_facts(store),
            source_indices=list(store.source_indices),
            masks=masks,
            frame_stats=stats,
            prompts=PromptSet(prompts).merged() if prompts else PromptSet([]),
            object_ids=sorted(book.tracks),
            timings=Timings(tracking_s=tracking_s - detect_s, detection_s=detect_s, total_s=tracking_s),
            warnings=warnings,
            autolabel=report,
        )

    def _warnings(self, book: TrackBook, officials: OfficialsTally) -> list[str]:
        warnings = [*self.model.warnings]
        if book.refused_births:
            warnings.append(f"{book.refused_births} detections were not tracked: all 254 track ids were used")
        if self.source.describe().get("random_weights"):
            warnings.append("the detector has random weights (test-size model): its boxes mean nothing")
        note = officials.note()
        return warnings if note is None else [*warnings, note]

    def _describe(self) -> ModelFacts:
        """run.json's model facts: the auto-labeler's name, and random weights when either part has them."""
        detector = self.source.describe()
        tracker = ModelFacts.of(self.model)
        return replace(
            tracker,
            model=autolabel_name(str(detector.get("detector")), tracker.model),
            random_weights=bool(tracker.random_weights or detector.get("random_weights")),
            autolabel=AutoLabelParts(tracker=tracker.model, detector=detector),
        )

    def _detection_step(
        self,
        store: FrameStore,
        index: int,
        filter_settings: FilterSettings,
        book: TrackBook,
        tracker: Sam2VideoTracker,
        mask_boxes: dict[int, tuple[float, float, float, float] | None],
        prompts: list[Prompt],
    ) -> _FrameOutcome | None:
        if not self.source.wants(index, store.source_indices[index]):
            return None
        rgb = store[index]
        found = self.source.detect(index, store.source_indices[index], rgb)
        detections = sorted(found, key=lambda d: -d.score)
        reasons = duplicate_reasons(detections, self.settings.duplicate_iou)
        for i, detection in enumerate(detections):
            if reasons[i] is None and _clipped_box(detection.box, store.width, store.height) is None:
                reasons[i] = "outside the frame"
        candidates = [i for i, reason in enumerate(reasons) if reason is None]
        filtered = filter_players(rgb, [detections[i] for i in candidates], filter_settings, self._jerseys.frames())
        self._jerseys.add(filtered.jersey_colours)
        clusters: list[int | None] = [None] * len(detections)
        players: list[int] = []
        for i, decision in zip(candidates, filtered.decisions):
            reasons[i] = decision.reason
            clusters[i] = decision.cluster
            if decision.kept:
                players.append(i)
        track_ids = self._associate(index, detections, players, reasons, book, tracker, mask_boxes, prompts)
        return _FrameOutcome(detections, reasons, track_ids, clusters, filtered)

    def _associate(
        self,
        index: int,
        detections: list[Detection],
        players: list[int],
        reasons: list[str | None],
        book: TrackBook,
        tracker: Sam2VideoTracker,
        mask_boxes: dict[int, tuple[float, float, float, float] | None],
        prompts: list[Prompt],
    ) -> list[int | None]:
        track_ids: list[int | None] = [None] * len(detections)
        boxes = [detections[i].box for i in players]
        association = book.associate(index, boxes, {t: mask_boxes.get(t) for t in book.live_ids})
        live_boxes = [b for t in book.live_ids for b in (book.tracks[t].last_box, book.tracks[t].predicted_box(index))]
        for i, track_id in zip(players, association.track_of):
            box = detections[i].box
            if track_id is not None:
                book.confirm(track_id, index, box)
                if track_id in association.reanchor:
                    prompts.append(_box_prompt(tracker, index, track_id, box))
            elif live_boxes and box_iou_matrix(np.array(live_boxes), np.array([box])).max() >= book.settings.min_iou:
                reasons[i] = "overlaps a live track"  # a second box on a tracked player, not a new player
                continue
            else:
                track_id = book.start(index, box)
                if track_id is None:
                    reasons[i] = "no track id left"
                    continue
                prompts.append(_box_prompt(tracker, index, track_id, box))
            track_ids[i] = track_id
        for track_id in book.lost(index):
            book.end(track_id, index)
            tracker.end_object(track_id)
        return track_ids

    def _report(
        self, report: AutoLabelReport, outcome: _FrameOutcome, source_frame: int, scale: tuple[float, float]
    ) -> None:
        report.detection_frames.append(source_frame)
        for detection, reason, track_id, cluster in zip(
            outcome.detections, outcome.reasons, outcome.track_ids, outcome.clusters
        ):
            original = scale_detection(detection, 1.0 / scale[0], 1.0 / scale[1])
            report.records.append(
                DetectionRecord(
                    frame=source_frame,
                    box=original.box,
                    score=detection.score,
                    label=detection.label,
                    kept=reason is None,
                    reason=reason,
                    track_id=track_id,
                    cluster=cluster,
                )
            )
        if outcome.filtered.clusters:
            report.clusters = [asdict(cluster) for cluster in outcome.filtered.clusters]


def duplicate_reasons(detections: list[Detection], iou: float) -> list[str | None]:
    """Detections sorted by score: each box overlapping a higher-scoring kept box by >= iou is a duplicate."""
    reasons: list[str | None] = []
    kept: list[tuple[float, float, float, float]] = []
    for detection in detections:
        if kept and box_iou_matrix(np.array(kept), np.array([detection.box])).max() >= iou:
            reasons.append("duplicate box")
        else:
            reasons.append(None)
            kept.append(detection.box)
    return reasons


def _box_prompt(tracker: Sam2VideoTracker, index: int, track_id: int, box: tuple[float, ...]) -> Prompt:
    clipped = _clipped_box(box, tracker.frames.width, tracker.frames.height)
    assert clipped is not None  # boxes outside the frame were rejected before association
    prompt = Prompt(frame=index, object_id=track_id, box=clipped)
    tracker.add_prompt(prompt)
    return prompt


def _clipped_box(box: tuple[float, ...], width: int, height: int) -> Box | None:
    """The box clipped to the frame, or None when less than a pixel of it is inside."""
    x0, y0, x1, y1 = max(0.0, box[0]), max(0.0, box[1]), min(float(width), box[2]), min(float(height), box[3])
    if x1 - x0 < 1.0 or y1 - y0 < 1.0:
        return None
    return Box(x0, y0, x1, y1)


def _mark_first_prompt_frame(stats: list[FrameStats]) -> None:
    """Only the first frame with tracks counts as the prompt frame: later detection frames are the pipeline's
    normal per-frame cost and stay in its latency distribution."""
    first = next((s for s in stats if s.prompt_ms > 0), None)
    for frame_stats in stats:
        frame_stats.prompt_frame = frame_stats is first


@dataclass(frozen=True)
class AutoLabelJob:
    """One auto-labelling run as the CLI asks for it (names and paths; nothing loaded yet)."""

    clip: str
    out: str
    tracker: str = DEFAULT_TRACKER
    detector: str | None = None  # None: DEFAULT_DETECTOR, unless detections are imported
    detections: str | None = None  # an import-format file instead of the detector
    text: str = DEFAULT_TEXT
    box_threshold: float | None = None  # None: DEFAULT_BOX_THRESHOLD; SAM 3: both its thresholds (None: own)
    text_threshold: float | None = None  # None: DEFAULT_TEXT_THRESHOLD; SAM 3 has none
    settings: AutoLabelSettings = field(default_factory=AutoLabelSettings)
    start: int = 0
    max_frames: int | None = None
    stride: int = 1
    max_side: int | None = None
    device: str | None = None


def detection_source(job: AutoLabelJob, store: FrameStore) -> DetectionSource:
    """The imported detections, or the detector (loaded here) -- both in the processed frames' pixels."""
    if job.detections is not None:
        scale = (store.width / store.info.width, store.height / store.info.height)
        return ImportedSource(read_detections_file(job.detections), scale, job.settings.every, job.detections)
    detector = load_detector(job.detector or DEFAULT_DETECTOR, job.device)
    every = job.settings.every or DEFAULT_EVERY
    box_threshold = DEFAULT_BOX_THRESHOLD if job.box_threshold is None else job.box_threshold
    text_threshold = DEFAULT_TEXT_THRESHOLD if job.text_threshold is None else job.text_threshold
    return DetectorSource(detector, job.text, box_threshold, text_threshold, every)


def run_autolabel(
    job: AutoLabelJob, command: str = "", progress: ProgressCallback | None = None
) -> tuple[Path, RunResult]:
    """Run the auto-labeler on a clip and write its run folder (with detections.json); returns (folder, result).
    A SAM 3 detector (`sam3`, `test-sam3`) runs the SAM 3 pipeline (autolabel.sam3_labeler) instead."""
    from playerseg.runs.runfolder import write_run_folder

    with open_selection(job.clip, job.start, job.max_frames, job.stride, job.max_side) as store:
        if is_sam3_detector(job.detector):
            from playerseg.autolabel.sam3_labeler import load_sam3_autolabeler, run_sam3_labeler

            model = load_sam3_autolabeler(str(job.detector), job.device)
            result = run_sam3_labeler(model, store, job.text, job.settings, progress, job.box_threshold)
        else:
            source = detection_source(job, store)  # bad detections files fail before the tracker loads
            model = load_video_model(job.tracker, job.device)
            result = AutoLabeler(model, source, job.settings).run(store, progress)
        out = write_run_folder(result, store, job.out, command)
    return out, result


DEFAULT_AUTOLABELER = autolabel_name(DEFAULT_DETECTOR, DEFAULT_TRACKER)


def relabel_to_clicked_objects(result: RunResult, clicked: PromptSet) -> dict[int, int]:
    """Give the tracks the user clicked the user's object ids, so both sides of a comparison score the same
    players: a clicked object takes the track whose mask holds most of its positive points (or overlaps its box
    most) on its first prompted frame; the other tracks get ids after the largest clicked id. `clicked` is in
    selection indices and processed pixels. Rewrites result.masks, object_ids and prompts; returns track -> id."""
    first_prompts = {}
    for prompt in clicked.merged().prompts:
        if prompt.object_id not in first_prompts or prompt.frame < first_prompts[prompt.object_id].frame:
            first_prompts[prompt.object_id] = prompt
    mapping: dict[int, int] = {}
    for object_id, prompt in sorted(first_prompts.items()):
        scores = {
            track: _hits(result.masks.get(prompt.frame, track), prompt)
            for track in result.masks.object_ids_at(prompt.frame)
            if track not in mapping
        }
        best = max(scores, key=lambda t: scores[t], default=None)
        if best is not None and scores[best] > 0:
            mapping[best] = object_id
    next_id = max(first_prompts, default=0) + 1
    for track in result.object_ids:
        if track not in mapping and next_id <= MAX_TRACK_ID:
            mapping[track] = next_id
            next_id += 1
    relabelled = MaskTrack(result.masks.height, result.masks.width)
    for frame in result.masks.frames:
        labels = result.masks.label_map(frame)
        lookup = np.zeros(256, dtype=np.uint8)
        for track, object_id in mapping.items():
            lookup[track] = object_id
        relabelled.set_label_map(frame, lookup[labels])
    result.masks = relabelled
    result.object_ids = sorted(mapping.values())
    result.prompts = PromptSet(
        [replace(p, object_id=mapping[p.object_id]) for p in result.prompts.prompts if p.object_id in mapping]
    )
    return mapping


def _hits(mask: np.ndarray, prompt: Prompt) -> float:
    """How well a track's mask fits a click: positive points inside it, or for a box the share of it inside."""
    height, width = mask.shape
    inside = sum(bool(mask[min(int(p.y), height - 1), min(int(p.x), width - 1)]) for p in prompt.points if p.positive)
    if prompt.box is None:
        return float(inside)
    b = prompt.box
    window = mask[int(b.y0) : int(np.ceil(b.y1)), int(b.x0) : int(np.ceil(b.x1))]
    return inside + (float(window.mean()) if window.size else 0.0)
