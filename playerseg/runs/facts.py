"""What a run says of itself, typed: the model (ModelFacts), the processed frames (SelectionFacts), the phases' times
(Timings), frame skipping (SkippingFacts), latency and memory, and the whole of run.json (RunFacts).

Producers build these, readers use attributes; the dict form exists only at the JSON boundary: each `to_json()`
returns exactly run.json's keys in run.json's order (so the bytes written never change) and `from_json()` reads that
form back, refusing keys it does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from evaluation.results.profile import LatencySummary, latency_summary_dict
from playerseg.io.prompts import PromptSet
from playerseg.io.video_info import VideoInfo

if TYPE_CHECKING:
    from playerseg.tracking.registry import LoadedModel

PROMPT_SPACE = "processed frames (selection index, processed pixels)"
TIMING_DIGITS = 3


def _checked_keys(kind: str, given: Mapping[str, Any], known: tuple[str, ...]) -> None:
    unknown = [key for key in given if key not in known]
    if unknown:
        raise ValueError(f"{kind}: unknown keys {unknown} (known: {list(known)}).")


@dataclass(frozen=True)
class AutoLabelParts:
    """The auto-labeler's parts, beside its tracker's facts: the tracker's name and the detector's own facts."""

    tracker: str
    detector: dict[str, Any]  # the detector's describe(): name, source, weights, device, image size...
    pipeline: str = "autolabel"


@dataclass(frozen=True)
class ModelFacts:
    """The model a run used (LoadedModel.describe(); an auto-labeler adds its parts), first in run.json."""

    model: str
    config: str | None
    image_size: int
    source: str
    checkpoint: str | None
    checkpoint_sha256: str | None
    random_weights: bool
    weights: str
    device: str
    compiled: bool
    autolabel: AutoLabelParts | None = None
    tracking_memory: str = "sam2"  # "motion" for `+motion` models; run.json says it only then
    family: str = "sam2"  # the architecture: "unet" for the U-Net baseline; run.json says it only when not SAM2

    BASE_KEYS = (
        "model",
        "config",
        "image_size",
        "source",
        "checkpoint",
        "checkpoint_sha256",
        "random_weights",
        "weights",
        "device",
        "compiled",
    )
    AUTOLABEL_KEYS = ("tracker", "pipeline", "detector")
    OPTIONAL_KEYS = ("tracking_memory", "family")  # only where it is not sam2's own

    @classmethod
    def of(cls, model: LoadedModel) -> ModelFacts:
        return cls.from_json(model.describe())

    def to_json(self) -> dict[str, Any]:
        facts = {key: getattr(self, key) for key in self.BASE_KEYS}
        if self.tracking_memory != "sam2":
            facts["tracking_memory"] = self.tracking_memory
        if self.family != "sam2":
            facts["family"] = self.family
        if self.autolabel is not None:
            facts.update(
                tracker=self.autolabel.tracker, pipeline=self.autolabel.pipeline, detector=self.autolabel.detector
            )
        return facts

    @classmethod
    def from_json(cls, facts: Mapping[str, Any]) -> ModelFacts:
        _checked_keys("model facts", facts, cls.BASE_KEYS + cls.OPTIONAL_KEYS + cls.AUTOLABEL_KEYS)
        parts = None
        if "pipeline" in facts:
            parts = AutoLabelParts(facts["tracker"], dict(facts["detector"]), facts["pipeline"])
        memory = str(facts.get("tracking_memory", "sam2"))
        family = str(facts.get("family", "sam2"))
        return cls(**{key: facts[key] for key in cls.BASE_KEYS}, autolabel=parts, tracking_memory=memory, family=family)


@dataclass(frozen=True)
class SelectionFacts:
    """Which frames of the clip a run processed, at what size and rate."""

    frames: int
    first_frame: int
    last_frame: int
    stride: int
    width: int
    height: int
    fps: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, facts: Mapping[str, Any]) -> SelectionFacts:
        _checked_keys("selection facts", facts, tuple(field.name for field in fields(cls)))
        return cls(**facts)


@dataclass(frozen=True)
class Timings:
    """Wall-clock seconds of a run's phases: tracking (an auto-labeler's detection apart, and their total), then,
    once its folder is written, writing mask PNGs, drawing + encoding the overlay and measuring flicker."""

    tracking_s: float
    detection_s: float | None = None
    total_s: float | None = None
    masks_s: float | None = None
    overlay_s: float | None = None
    flicker_s: float | None = None

    ORDER = ("total_s", "detection_s", "tracking_s", "masks_s", "overlay_s", "flicker_s")  # run.json's

    def rounded(self, digits: int = TIMING_DIGITS) -> Timings:
        return Timings(**{key: None if value is None else round(value, digits) for key, value in self._items()})

    def with_writing(self, masks_s: float, overlay_s: float, flicker_s: float) -> Timings:
        return replace(self, masks_s=masks_s, overlay_s=overlay_s, flicker_s=flicker_s)

    def to_json(self) -> dict[str, float]:
        return {key: value for key, value in self._items() if value is not None}

    @classmethod
    def from_json(cls, facts: Mapping[str, Any]) -> Timings:
        _checked_keys("timings", facts, cls.ORDER)
        return cls(**facts)

    def _items(self) -> list[tuple[str, float | None]]:
        return [(key, getattr(self, key)) for key in self.ORDER]


@dataclass(frozen=True)
class SkippingFacts:
    """Frame skipping's settings and how many frame visits carried masks instead of running the model."""

    threshold_px: float
    max_consecutive: int
    work_height: int
    skipped_visits: int
    visits: int
    skipped_share: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, facts: Mapping[str, Any]) -> SkippingFacts:
        _checked_keys("frame skipping facts", facts, tuple(field.name for field in fields(cls)))
        return cls(**facts)


@dataclass(frozen=True)
class LatencyFacts:
    """evaluation's latency summary of the run (tracked frames, prompt frames apart) and the summed latency."""

    summary: LatencySummary
    total_s: float

    def to_json(self) -> dict[str, Any]:
        return {**latency_summary_dict(self.summary), "total_s": self.total_s}

    @classmethod
    def from_json(cls, facts: Mapping[str, Any]) -> LatencyFacts:
        known = tuple(field.name for field in fields(LatencySummary))
        _checked_keys("latency facts", facts, (*known, "total_s"))
        return cls(LatencySummary(**{key: facts[key] for key in known}), facts["total_s"])


@dataclass(frozen=True)
class MemoryFacts:
    """The run's peak memory and what was measured (cuda_allocated on CUDA, process_rss on CPU)."""

    kind: str
    peak_mb: float

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "peak_mb": self.peak_mb}

    @classmethod
    def from_json(cls, facts: Mapping[str, Any]) -> MemoryFacts:
        _checked_keys("memory facts", facts, ("kind", "peak_mb"))
        return cls(facts["kind"], facts["peak_mb"])


@dataclass(frozen=True)
class AutoLabelFacts:
    """An auto-labelling run's track ids and its report (AutoLabelReport.facts(): detections, id events...)."""

    track_ids: list[int]
    report: dict[str, Any]


@dataclass(frozen=True)
class ReviewFacts:
    """What a person changed in the app's review before the masks went into a dataset: the model whose masks were
    kept, object names, deleted objects, the clip frames fixed and the clicks it took."""

    kept: str  # the model name whose masks were reviewed
    object_names: dict[int, str]
    deleted: list[int]
    fixed_frames: list[int]  # clip frame numbers
    clicks: int  # points and boxes given while fixing

    @property
    def frames_fixed(self) -> int:
        return len(self.fixed_frames)

    def to_json(self) -> dict[str, Any]:
        return {
            "kept": self.kept,
            "object_names": {str(key): name for key, name in sorted(self.object_names.items())},
            "deleted": sorted(self.deleted),
            "fixed_frames": sorted(self.fixed_frames),
            "clicks": self.clicks,
        }

    @classmethod
    def from_json(cls, facts: Mapping[str, Any]) -> ReviewFacts:
        _checked_keys("review facts", facts, tuple(field.name for field in fields(cls)))
        return cls(
            kept=str(facts["kept"]),
            object_names={int(key): str(name) for key, name in facts["object_names"].items()},
            deleted=[int(value) for value in facts["deleted"]],
            fixed_frames=[int(value) for value in facts["fixed_frames"]],
            clicks=int(facts["clicks"]),
        )


@dataclass(frozen=True)
class RunFacts:
    """run.json: the model, clip, selection, objects, prompts (processed frames), latency, memory, timings,
    warnings, the auto-labeler's facts, frame skipping, when/where/how it ran, the flicker summary, and what a review
    in the app changed (only in a reviewed copy of a run folder)."""

    model: ModelFacts
    clip: VideoInfo
    selection: SelectionFacts
    objects: list[int]
    prompts: PromptSet  # in processed frames and pixels (PROMPT_SPACE)
    latency: LatencyFacts
    memory: MemoryFacts
    timings: Timings
    warnings: list[str]
    created: str
    host: str
    command: str
    autolabel: AutoLabelFacts | None = None
    frame_skipping: SkippingFacts | None = None
    flicker: dict[str, Any] | None = None  # evaluation's TemporalResult summary, less its name
    prompt_space: str = PROMPT_SPACE
    review: ReviewFacts | None = None

    def to_json(self) -> dict[str, Any]:
        facts: dict[str, Any] = {
            **self.model.to_json(),
            "clip": asdict(self.clip),
            "selection": self.selection.to_json(),
            "objects": self.objects,
            "prompts": self.prompts.to_dict(),
            "prompt_space": self.prompt_space,
            "latency": self.latency.to_json(),
            "memory": self.memory.to_json(),
            "timings": self.timings.to_json(),
            "warnings": self.warnings,
        }
        if self.autolabel is not None:
            facts.update(track_ids=self.autolabel.track_ids, autolabel=self.autolabel.report)
        if self.frame_skipping is not None:
            facts["frame_skipping"] = self.frame_skipping.to_json()
        facts.update(created=self.created, host=self.host, command=self.command)
        if self.flicker is not None:
            facts["flicker"] = self.flicker
        if self.review is not None:
            facts["review"] = self.review.to_json()
        return facts

    @classmethod
    def from_json(cls, facts: Mapping[str, Any]) -> RunFacts:
        model_keys = [
            key for key in facts if key in ModelFacts.BASE_KEYS + ModelFacts.OPTIONAL_KEYS + ModelFacts.AUTOLABEL_KEYS
        ]
        run_keys = (
            "clip",
            "selection",
            "objects",
            "prompts",
            "prompt_space",
            "latency",
            "memory",
            "timings",
            "warnings",
            "track_ids",
            "autolabel",
            "frame_skipping",
            "created",
            "host",
            "command",
            "flicker",
            "review",
        )
        _checked_keys("run facts", {key: None for key in facts if key not in model_keys}, run_keys)
        return cls(
            model=ModelFacts.from_json({key: facts[key] for key in model_keys}),
            clip=VideoInfo(**facts["clip"]),
            selection=SelectionFacts.from_json(facts["selection"]),
            objects=list(facts["objects"]),
            prompts=PromptSet.from_dict(facts["prompts"]),
            latency=LatencyFacts.from_json(facts["latency"]),
            memory=MemoryFacts.from_json(facts["memory"]),
            timings=Timings.from_json(facts["timings"]),
            warnings=list(facts["warnings"]),
            created=facts["created"],
            host=facts["host"],
            command=facts["command"],
            autolabel=AutoLabelFacts(facts["track_ids"], facts["autolabel"]) if "autolabel" in facts else None,
            frame_skipping=SkippingFacts.from_json(facts["frame_skipping"]) if "frame_skipping" in facts else None,
            flicker=facts.get("flicker"),
            prompt_space=facts["prompt_space"],
            review=ReviewFacts.from_json(facts["review"]) if "review" in facts else None,
        )
