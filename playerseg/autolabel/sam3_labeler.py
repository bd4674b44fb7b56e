"""The SAM 3 auto-labeler (`autolabel:sam3`): SAM 3 finds and tracks every instance of the text's concept itself,
the player filter keeps the players, stable track ids name them.

Where the Grounding DINO auto-labeler (labeler.AutoLabeler) detects every few frames, associates boxes with tracks and
prompts SAM2, SAM 3 (`Sam3VideoModel`, tracking.sam3_video) detects on every frame and keeps its own object ids across
frames. Per frame, forward only (SAM 3 hands a frame out `hotstart_delay` frames after running it):
  1. each SAM 3 object's mask (processed frame size, non-overlapping), the box around it and SAM 3's score;
  2. the same player filter as the other auto-labeler (pitch, size and shape, officials by jersey colour pooled over
     the clip's recent frames): an object judged a non-player on this frame is not written on this frame;
  3. stable ids: a SAM 3 object becomes track 1, 2, ... (up to 254) the first frame it is kept as a player, in order
     of first appearance, and keeps that id; ids are never reused. A track no frame confirmed for `lost_frames` frames
     ends (and starts again under its id when SAM 3 shows the object as a player later).
Every SAM 3 object on every frame is a DetectionRecord of the report (detections.json), with what became of it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from playerseg.autolabel.association import IdEvent, TrackBook
from playerseg.autolabel.detector import Detection
from playerseg.autolabel.jerseys import JerseyPool, OfficialsTally
from playerseg.autolabel.labeler import AutoLabelSettings
from playerseg.autolabel.names import sam3_autolabel_name
from playerseg.autolabel.player_filter import REASON_OFFICIAL, FilterResult, FilterSettings, filter_players
from playerseg.io.masks import MaskTrack, bbox_from_mask
from playerseg.io.prompts import PromptSet
from playerseg.io.video import FrameStore
from playerseg.runs.autolabel_report import AutoLabelReport, DetectionRecord
from playerseg.runs.facts import AutoLabelParts, ModelFacts, Timings
from playerseg.runs.pipeline import FrameStats, ProgressCallback, RunResult, selection_facts
from playerseg.tracking.registry import LoadedModel
from playerseg.tracking.sam3_video import Sam3Frame, Sam3Thresholds, Sam3VideoStream, sam3_phrases

SAM3_PIPELINE = "sam3"  # run.json's model facts: "pipeline": "sam3"
SAM3_DEFAULT_TEXT = "person"
REASON_NO_ID = "no track id left"


@dataclass(frozen=True)
class Sam3LabelSettings:
    """The SAM 3 auto-labeler's settings: the player filter, when a track ends (association.lost_frames) and the
    score a SAM 3 detection needs to count and to start a new object (None: the model's own two thresholds, 0.5 and
    0.7 for facebook/sam3)."""

    player_filter: FilterSettings = field(default_factory=FilterSettings)
    lost_frames: int = 10
    score_threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"every": 1, "lost_frames": self.lost_frames, "player_filter": asdict(self.player_filter)}


@dataclass
class _Clip:
    """One run's running state: ids, masks, report, jersey colours and the filter's cost."""

    store: FrameStore
    filter_settings: FilterSettings
    scale: tuple[float, float]
    book: TrackBook
    masks: MaskTrack
    report: AutoLabelReport
    stats: list[FrameStats]
    officials: OfficialsTally
    jerseys: JerseyPool = field(default_factory=JerseyPool)
    track_of: dict[int, int] = field(default_factory=dict)  # SAM 3 object id -> track id
    filter_s: float = 0.0


class Sam3AutoLabeler:
    """SAM 3 detects and tracks the concept, the player filter keeps the players: a RunResult of track ids."""

    def __init__(self, model: LoadedModel, text: str = SAM3_DEFAULT_TEXT, settings: Sam3LabelSettings | None = None):
        self.model = model
        self.phrases = sam3_phrases(text)
        self.settings = settings or Sam3LabelSettings()
        self.frames_held_peak = 0  # the last run's most frames with state in SAM 3's session (flat in clip length)

    def run(self, store: FrameStore, progress: ProgressCallback | None = None) -> RunResult:
        clip = self._start(store)
        started = time.perf_counter()
        with Sam3VideoStream(self.model, store, self.phrases, self.thresholds()) as stream:
            for done, frame in enumerate(stream.run(), start=1):
                self._frame(clip, frame)
                if progress is not None:
                    progress(done, len(store))
            self.frames_held_peak = stream.frames_held_peak
        total_s = time.perf_counter() - started
        return self._result(clip, total_s)

    def thresholds(self) -> Sam3Thresholds:
        """The thresholds SAM 3 runs with: the model's own, or the settings' one score for both."""
        value = self.settings.score_threshold
        return Sam3Thresholds.of(self.model) if value is None else Sam3Thresholds.both(value)

    def _start(self, store: FrameStore) -> _Clip:
        scale = (store.width / store.info.width, store.height / store.info.height)
        filter_settings = self.settings.player_filter.scaled(*scale)
        book = TrackBook()
        book.settings = replace(book.settings, lost_frames=self.settings.lost_frames)
        stats = [
            FrameStats(index=i, source_frame=source, time_s=time_s)
            for i, (source, time_s) in enumerate(zip(store.source_indices, store.times_s))
        ]
        return _Clip(
            store=store,
            filter_settings=filter_settings,
            scale=scale,
            book=book,
            masks=MaskTrack(store.height, store.width),
            report=AutoLabelReport(detector=self._detector_facts(), settings=self.settings.to_dict()),
            stats=stats,
            officials=OfficialsTally(filter_settings.teams, filter_settings.min_separation),
        )

    def _frame(self, clip: _Clip, frame: Sam3Frame) -> None:
        """One frame SAM 3 handed out: filter its objects, give the players their track ids, record it all."""
        began = time.perf_counter()
        index = frame.frame
        objects = [(obj, mask, bbox_from_mask(mask)) for obj, mask in sorted(frame.masks.items())]
        objects = [(obj, mask, box) for obj, mask, box in objects if box is not None]
        detections = [_detection(box, frame.scores[obj], frame.labels.get(obj, "")) for obj, _, box in objects]
        filtered = filter_players(clip.store[index], detections, clip.filter_settings, clip.jerseys.frames())
        clip.jerseys.add(filtered.jersey_colours)
        reasons = [decision.reason for decision in filtered.decisions]
        track_ids: list[int | None] = [None] * len(objects)
        for i, (obj, mask, box) in enumerate(objects):
            if reasons[i] is None:
                track_ids[i] = self._track_id(clip, index, obj, box)
                if track_ids[i] is None:
                    reasons[i] = REASON_NO_ID
                else:
                    clip.masks.set(index, track_ids[i], mask)
        for track_id in clip.book.lost(index):
            clip.book.end(track_id, index)
        clip.officials.add(filtered.officials, reasons.count(REASON_OFFICIAL))
        self._report(clip, index, detections, reasons, track_ids, filtered)
        filter_ms = (time.perf_counter() - began) * 1000.0
        clip.filter_s += filter_ms / 1000.0
        stats = clip.stats[index]
        stats.add(frame.cost)
        stats.detect_ms = filter_ms
        stats.latency_ms += filter_ms
        stats.prompt_frame = index == 0  # the first frame takes the cold start and the text encoding

    def _track_id(self, clip: _Clip, index: int, obj: int, box: tuple[int, int, int, int]) -> int | None:
        """The SAM 3 object's track id: given the first frame it is a player, kept after (revived if it ended)."""
        book = clip.book
        track_id = clip.track_of.get(obj)
        if track_id is None:
            track_id = book.start(index, box)
            if track_id is not None:
                clip.track_of[obj] = track_id
            return track_id
        track = book.tracks[track_id]
        if not track.live:
            track.ended = None
            book.events.append(IdEvent(index, "start", track_id))
        book.confirm(track_id, index, box)
        return track_id

    def _report(
        self,
        clip: _Clip,
        index: int,
        detections: list[Detection],
        reasons: list[str | None],
        track_ids: list[int | None],
        filtered: FilterResult,
    ) -> None:
        source_frame = clip.store.source_indices[index]
        clip.report.detection_frames.append(source_frame)
        scale_x, scale_y = clip.scale
        for detection, reason, track_id, decision in zip(detections, reasons, track_ids, filtered.decisions):
            x0, y0, x1, y1 = detection.box
            clip.report.records.append(
                DetectionRecord(
                    frame=source_frame,
                    box=(x0 / scale_x, y0 / scale_y, x1 / scale_x, y1 / scale_y),
                    score=detection.score,
                    label=detection.label,
                    kept=reason is None,
                    reason=reason,
                    track_id=track_id,
                    cluster=decision.cluster,
                )
            )
        if filtered.clusters:
            clip.report.clusters = [asdict(cluster) for cluster in filtered.clusters]

    def _result(self, clip: _Clip, total_s: float) -> RunResult:
        store, book, report = clip.store, clip.book, clip.report
        for frame_stats in clip.stats:
            frame_stats.visible_objects = sum(clip.masks.area(frame_stats.index, obj) > 0 for obj in book.tracks)
        report.track_ids = sorted(book.tracks)
        report.events = [{**asdict(event), "frame": store.source_indices[event.frame]} for event in book.events]
        report.officials = clip.officials.to_dict()
        return RunResult(
            model=self.describe(),
            clip=store.info,
            selection=selection_facts(store),
            source_indices=list(store.source_indices),
            masks=clip.masks,
            frame_stats=clip.stats,
            prompts=PromptSet([]),  # no clicks: SAM 3 took the text prompt
            object_ids=sorted(book.tracks),
            timings=Timings(tracking_s=total_s - clip.filter_s, detection_s=clip.filter_s, total_s=total_s),
            warnings=self._warnings(book, clip.officials),
            autolabel=report,
        )

    def _warnings(self, book: TrackBook, officials: OfficialsTally) -> list[str]:
        warnings = [*self.model.warnings]
        if book.refused_births:
            warnings.append(f"{book.refused_births} SAM 3 objects were not tracked: all 254 track ids were used")
        note = officials.note()
        return warnings if note is None else [*warnings, note]

    def _detector_facts(self) -> dict[str, Any]:
        """What found the objects: SAM 3 (name, weights, text) and the thresholds it ran with."""
        spec, config = self.model.spec, self.model.predictor.model.config
        thresholds = self.thresholds()
        return {
            "detector": spec.name,
            "pipeline": SAM3_PIPELINE,
            "source": spec.source,
            "hf_repo": spec.hf_repo,
            "checkpoint": self.model.checkpoint,
            "random_weights": spec.random_weights,
            "weights": spec.weights_label,
            "device": self.model.device,
            "image_size": spec.image_size,
            "text": ". ".join(self.phrases),
            "every": 1,
            "score_threshold": thresholds.detection,
            "new_object_threshold": thresholds.new_object,
            "hotstart_delay": config.hotstart_delay,
        }

    def describe(self) -> ModelFacts:
        """run.json's model facts: `autolabel:<name>`, pipeline sam3, SAM 3 both detecting and tracking."""
        facts = ModelFacts.of(self.model)
        parts = AutoLabelParts(tracker=self.model.spec.name, detector=self._detector_facts(), pipeline=SAM3_PIPELINE)
        return replace(facts, model=sam3_autolabel_name(self.model.spec.name), autolabel=parts)


def _detection(box: tuple[int, int, int, int], score: float, label: str) -> Detection:
    """A SAM 3 object as the player filter takes it: the box around its mask, its score, the phrase that found it."""
    x0, y0, x1, y1 = box
    return Detection((float(x0), float(y0), float(x1), float(y1)), score, label)


def load_sam3_autolabeler(name: str, device: str | None = None) -> LoadedModel:
    """SAM 3's video model (`sam3`: facebook/sam3, `test-sam3`: random weights) for `run_sam3_labeler`."""
    from playerseg.tracking.registry import default_device
    from playerseg.tracking.sam3_video import load_sam3_video_model

    return load_sam3_video_model(name, device or default_device())


def run_sam3_labeler(
    model: LoadedModel,
    store: FrameStore,
    text: str = "person",
    settings: AutoLabelSettings | None = None,
    progress: ProgressCallback | None = None,
    score_threshold: float | None = None,
) -> RunResult:
    """SAM 3 (`load_sam3_autolabeler`) detects and tracks `text` on the store's frames; the auto-labeler's player
    filter and lost_frames apply (its re-detection interval does not: SAM 3 detects on every frame).
    `score_threshold`: the score a detection needs to count and to start an object (None: the model's own)."""
    settings = settings or AutoLabelSettings()
    sam3 = Sam3LabelSettings(
        player_filter=settings.player_filter,
        lost_frames=settings.association.lost_frames,
        score_threshold=score_threshold,
    )
    return Sam3AutoLabeler(model, text, sam3).run(store, progress)
