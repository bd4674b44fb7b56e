"""Auto-labeler model names: `autolabel:DETECTOR+TRACKER` (Grounding DINO + SAM2) and `autolabel:sam3` (SAM 3
detects and tracks), parsed into `AutoLabelerName` so callers can tell the two pipelines apart."""

from __future__ import annotations

from dataclasses import dataclass

AUTOLABEL_PREFIX = "autolabel:"  # model names like "autolabel:grounding-dino-tiny+sam2.1-large" (app, compare)
DEFAULT_DETECTOR = "grounding-dino-tiny"
DEFAULT_TRACKER = "sam2.1-large"
SAM3_DETECTORS = ("sam3", "test-sam3")  # SAM 3 detects and tracks: `autolabel:sam3`, no "+TRACKER"


@dataclass(frozen=True)
class AutoLabelerName:
    """The parts of an auto-labeler model name. `detector+tracker` (Grounding DINO + SAM2, pipeline "autolabel") or
    SAM 3 alone (pipeline "sam3": detector and tracker are both the SAM 3 name; as a tracker, e.g. for re-tracking
    an object in the review tab, that name is SAM 3's click-prompted tracker)."""

    detector: str
    tracker: str
    pipeline: str = "autolabel"

    @property
    def is_sam3(self) -> bool:
        return self.pipeline == "sam3"


def is_sam3_detector(detector: str | None) -> bool:
    """True for the detector names that run the SAM 3 pipeline (`--detector sam3|test-sam3`)."""
    return detector in SAM3_DETECTORS


def sam3_autolabel_name(name: str) -> str:
    """`autolabel:sam3` / `autolabel:test-sam3`: SAM 3 both detects and tracks."""
    return f"{AUTOLABEL_PREFIX}{name}"


def autolabel_name(detector: str, tracker: str) -> str:
    """The model name under which compare and the app offer the auto-labeler with this detector and tracker."""
    if is_sam3_detector(detector):
        return sam3_autolabel_name(detector)
    return f"{AUTOLABEL_PREFIX}{detector}+{tracker}"


def parse_autolabel_name(name: str) -> AutoLabelerName | None:
    """The parts of an auto-labeler model name; None for any other model name; ValueError (one sentence) for a
    malformed one."""
    if not name.startswith(AUTOLABEL_PREFIX):
        return None
    rest = name[len(AUTOLABEL_PREFIX) :]
    detector, plus, tracker = rest.partition("+")
    if is_sam3_detector(detector):
        if plus:
            raise ValueError(
                f"Auto-labeler name {name!r} names a tracker, but SAM 3 tracks what it detects: use "
                f"{sam3_autolabel_name(detector)}."
            )
        return AutoLabelerName(detector, detector, "sam3")
    if not (plus and detector and tracker):
        example = autolabel_name(DEFAULT_DETECTOR, DEFAULT_TRACKER)
        raise ValueError(
            f"Auto-labeler name {name!r} must look like {example} or {sam3_autolabel_name(SAM3_DETECTORS[0])}."
        )
    return AutoLabelerName(detector, tracker)
