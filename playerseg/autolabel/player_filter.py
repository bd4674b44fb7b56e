"""Keep the players among a frame's "person" detections; reject the crowd, the staff and the officials, with a reason.

The auto-labeler's detector finds every person in view. `filter_players` looks at one RGB frame and its detections
and applies these rules in order; the first rule a box fails is its reason:

1. "excluded by click"   a user click (settings.exclusions) lies inside the box
2. "too small" / "too large"   box height as a share of the frame height is outside [min_height, max_height]
3. "not person-shaped"   box height / width is outside [min_aspect, max_aspect]
4. "outside pitch"       the ground under the feet (a band at the bottom of the box) is mostly not pitch
   "at pitch edge"       (auto pitch only) the feet are on the pitch but within edge_margin of its edge: the staff
                         by the touchline, the officials at the side of a mat
5. "official's colour"   the shirt colour is in a small cluster apart from both team colours (autolabel.jerseys).
                         teams="auto" (the default) removes it only when the colours separate clearly
                         (separation >= min_separation, and at least 5 shirts seen); teams="on" whenever there is
                         such a cluster; teams="off" judges nobody on colour. FilterResult.officials says what was
                         decided and why.
6. "over max count"      more survivors than max_count: the lowest scores go

Auto pitch (autolabel.pitch): the dominant colour of the lower half of the frame, the pixels close to it, cleaned,
holes filled. People hide the ground they stand on, so for the pitch rule the boxes of the people being judged
count as pitch above their feet (a far player's body over the advertising boards, a group of players and their
shadows would otherwise cut notches into it). ~4 ms per 854x480 frame, ~9 ms with the jersey colours.

The pitch masks (pitch_mask_auto, pitch_mask_from_polygon, load_polygon) and the jersey clustering (ColourCluster,
OfficialsDecision) live in playerseg.autolabel.pitch and playerseg.autolabel.jerseys; they are importable from here too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

from playerseg.autolabel.jerseys import (
    MIN_SEPARATION,
    TEAMS_MODES,
    ColourCluster,
    OfficialsDecision,
    TeamsMode,
    cluster_jerseys,
    jersey_colours,
)
from playerseg.autolabel.pitch import (
    FilterError,
    SurfaceColour,
    as_points,
    check_rgb,
    fill_holes,
    is_number,
    load_polygon,
    pitch_mask_auto,
    pitch_mask_from_polygon,
    surface_colour,
    surface_mask,
    to_lab,
    upscale,
    work_copy,
)

if TYPE_CHECKING:  # only for annotations: the filter reads .box and .score, nothing else
    import pandas as pd

    from playerseg.autolabel.detector import Detection

__all__ = [
    "ColourCluster",
    "FilterDecision",
    "FilterError",
    "FilterResult",
    "FilterSettings",
    "OfficialsDecision",
    "filter_players",
    "load_polygon",
    "pitch_mask_auto",
    "pitch_mask_from_polygon",
]

Box = tuple[float, float, float, float]  # (x0, y0, x1, y1) frame pixels, x1/y1 exclusive
PITCH_MODES = ("auto", "polygon", "off")

REASON_EXCLUDED = "excluded by click"
REASON_TOO_SMALL = "too small"
REASON_TOO_LARGE = "too large"
REASON_SHAPE = "not person-shaped"
REASON_OUTSIDE_PITCH = "outside pitch"
REASON_PITCH_EDGE = "at pitch edge"
REASON_OFFICIAL = "official's colour"
REASON_OVER_COUNT = "over max count"

# The feet band: the bottom 10% of the box (shoes and shins: the ground between and beside them shows through)
# plus a little below it (the ground the feet stand on), over the middle 70% of the width (swinging arms and legs
# make boxes wider than the feet). A person is on the pitch when at least half of that band is pitch.
FEET_BAND = 0.10
BELOW_FEET = 0.03
MIN_BELOW_FEET_PX = 2
FEET_BAND_WIDTH = 0.7
MIN_PITCH_SHARE = 0.5
HIDING_GROWTH_PX = 2.0  # work pixels a person's box grows by where it hides the pitch (colours bleed past a body)


def _check_fraction(name: str, value: float) -> None:
    if not is_number(value) or not 0 < value <= 1:
        raise FilterError(f"{name} must be a fraction of the frame height in (0, 1], got {value!r}.")


@dataclass(frozen=True)
class FilterSettings:
    """What counts as a player. Sizes are shares of the frame height, so they hold at any resolution."""

    pitch: str = "auto"  # "auto" (dominant field colour), "polygon" (the polygon below) or "off"
    polygon: tuple[tuple[float, float], ...] | None = None  # pitch outline in frame pixels (pitch == "polygon")
    # A player far away in a wide shot is still ~10% of the frame height; below 4% (about 19 px at 480p) a box
    # is a distant spectator or too few pixels to segment and track.
    min_height: float = 0.04
    # A player near the camera can fill the frame (a close-up, a judo fight), so no upper limit by default.
    max_height: float = 1.0
    # Height / width of a standing or running person is ~1.2-4 (arms swinging, a stride); below 0.7 the box holds
    # a group or someone lying down, above 6 it is a pole or a sliver cut by the frame edge.
    min_aspect: float = 0.7
    max_aspect: float = 6.0
    max_count: int | None = None  # the filter cannot know the sport's squad size: no cap unless asked
    exclusions: tuple[tuple[float, float], ...] = ()  # user clicks in frame pixels: a box containing one is rejected
    # Jersey colours: two teams and the officials (autolabel.jerseys). "auto" rejects the officials' cluster only
    # when its colour stands clearly apart from both teams' (separation >= min_separation); "on" whenever there is
    # one; "off" never clusters. On 360 generated frames (10 clips of 4-16 players, playerseg.synthetic) the
    # referee's separation was 5.4 or more (colours pooled over the clip's frames), and "auto" removed the referee
    # wherever "on" did. Seven shirts of one red lit differently give 1.5; a referee's colour near shaded team kits
    # 1.7-1.8 (there "on" may take a player for the official, "auto" keeps everyone).
    teams: TeamsMode = "auto"
    min_separation: float = MIN_SEPARATION
    # Auto pitch only: feet closer than this (share of the frame height) to the pitch's edge are on its rim, where
    # the staff and officials stand; the edges of the frame are not edges of the pitch. On 360 generated frames
    # (playerseg.synthetic) any margin from 0.08 to 0.095 kept every player and rejected every touchline staff
    # member; judo fighters stand more than 0.3 from the mat's edge.
    edge_margin: float = 0.09

    def __post_init__(self) -> None:
        if self.pitch not in PITCH_MODES:
            raise FilterError(f"pitch must be one of {', '.join(PITCH_MODES)}, got {self.pitch!r}.")
        if self.polygon is not None:
            object.__setattr__(self, "polygon", as_points("The pitch polygon", self.polygon, 3))
        elif self.pitch == "polygon":
            raise FilterError('pitch="polygon" needs a polygon of at least 3 points.')
        object.__setattr__(self, "exclusions", as_points("exclusions", self.exclusions, 0))
        for name in ("min_height", "max_height"):
            _check_fraction(name, getattr(self, name))
        if self.min_height > self.max_height:
            raise FilterError(f"min_height ({self.min_height}) must not be above max_height ({self.max_height}).")
        for name in ("min_aspect", "max_aspect"):
            value = getattr(self, name)
            if not is_number(value) or not 0 < value < math.inf:
                raise FilterError(f"{name} must be a positive number (box height / width), got {value!r}.")
        if self.min_aspect > self.max_aspect:
            raise FilterError(f"min_aspect ({self.min_aspect}) must not be above max_aspect ({self.max_aspect}).")
        if self.max_count is not None and (
            isinstance(self.max_count, bool) or not isinstance(self.max_count, (int, np.integer)) or self.max_count < 1
        ):
            raise FilterError(f"max_count must be a whole number >= 1 or None, got {self.max_count!r}.")
        if not is_number(self.edge_margin) or not 0 <= self.edge_margin < 1:
            raise FilterError(f"edge_margin must be a share of the frame height in [0, 1), got {self.edge_margin!r}.")
        if not isinstance(self.teams, str) or self.teams not in TEAMS_MODES:
            raise FilterError(f"teams must be one of {', '.join(TEAMS_MODES)}, got {self.teams!r}.")
        if not is_number(self.min_separation) or not 0 < self.min_separation < math.inf:
            raise FilterError(f"min_separation must be a positive number, got {self.min_separation!r}.")

    def scaled(self, scale_x: float, scale_y: float) -> FilterSettings:
        """The same settings for a frame resized by these factors (polygon and clicks move; shares stay)."""
        for value in (scale_x, scale_y):
            if not is_number(value) or not 0 < value < math.inf:
                raise FilterError(f"Scale factors must be positive numbers, got {value!r}.")

        def move(points: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
            return tuple((x * scale_x, y * scale_y) for x, y in points)

        polygon = None if self.polygon is None else move(self.polygon)
        return replace(self, polygon=polygon, exclusions=move(self.exclusions))


@dataclass(frozen=True)
class FilterDecision:
    detection: Detection
    kept: bool
    reason: str | None  # None when kept, else one of the REASON_* phrases
    cluster: int | None  # index into FilterResult.clusters when the box's shirt colour was clustered


@dataclass(frozen=True)
class FilterResult:
    decisions: list[FilterDecision]  # same order as the input detections
    pitch_mask: np.ndarray | None  # bool HxW: the playing surface (None when pitch == "off")
    clusters: list[ColourCluster] = field(default_factory=list)  # empty when teams="off" or no shirt was seen
    # whether the officials' cluster was rejected and why (None when teams="off" or no shirt was seen)
    officials: OfficialsDecision | None = None
    # Lab shirt colours of the boxes that were clustered, in input order (pool them for the next frames)
    jersey_colours: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))

    @property
    def kept(self) -> list[Detection]:
        return [decision.detection for decision in self.decisions if decision.kept]

    @property
    def rejected(self) -> list[FilterDecision]:
        return [decision for decision in self.decisions if not decision.kept]

    def to_pandas(self) -> pd.DataFrame:
        """One row per detection: box, score, label, kept, reason, cluster and the cluster's label."""
        import pandas as pd

        labels = {cluster.index: cluster.label for cluster in self.clusters}
        rows = []
        for decision in self.decisions:
            x0, y0, x1, y1 = decision.detection.box
            rows.append(
                {
                    "x0": x0,
                    "y0": y0,
                    "x1": x1,
                    "y1": y1,
                    "score": decision.detection.score,
                    "label": decision.detection.label,
                    "kept": decision.kept,
                    "reason": decision.reason,
                    "cluster": decision.cluster,
                    "cluster_label": labels.get(decision.cluster) if decision.cluster is not None else None,
                }
            )
        return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------------
# per-box rules


def _box(detection: Detection, index: int) -> Box:
    try:
        x0, y0, x1, y1 = (float(v) for v in detection.box)
    except (TypeError, ValueError, AttributeError):
        raise FilterError(f"Detection {index} has no box of four numbers (x0, y0, x1, y1).") from None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise FilterError(f"Detection {index} has a box coordinate that is not a finite number.")
    return x0, y0, x1, y1


def _click_or_shape_reason(box: Box, frame_height: int, settings: FilterSettings) -> str | None:
    x0, y0, x1, y1 = box
    if any(x0 <= x <= x1 and y0 <= y <= y1 for x, y in settings.exclusions):
        return REASON_EXCLUDED
    height, width = y1 - y0, x1 - x0
    share = height / frame_height
    if share < settings.min_height:
        return REASON_TOO_SMALL
    if share > settings.max_height:
        return REASON_TOO_LARGE
    if width <= 0 or not settings.min_aspect <= height / width <= settings.max_aspect:
        return REASON_SHAPE
    return None


def _feet_band(box: Box, height: int, width: int) -> tuple[slice, slice]:
    x0, y0, x1, y1 = box
    box_h, box_w = y1 - y0, x1 - x0
    side = (1 - FEET_BAND_WIDTH) / 2 * box_w
    top = math.floor(y1 - FEET_BAND * box_h)
    bottom = math.ceil(y1 + max(MIN_BELOW_FEET_PX, BELOW_FEET * box_h))
    left, right = math.floor(x0 + side), math.ceil(x1 - side)
    rows = slice(min(max(top, 0), height), min(max(bottom, 0), height))
    cols = slice(min(max(left, 0), width), min(max(right, 0), width))
    return rows, cols


def _share(mask: np.ndarray, band: tuple[slice, slice]) -> float:
    patch = mask[band]
    return float(patch.mean()) if patch.size else 0.0


# ---------------------------------------------------------------------------------------------------------------
# the filter


@dataclass(frozen=True)
class _Ground:
    """What the pitch and jersey rules read: the pitch at frame and at work size, the surface colour."""

    surface: np.ndarray | None  # bool, frame size (None when pitch == "off")
    small: np.ndarray | None  # bool, work size (auto pitch only: people hide it, the edge rule measures on it)
    colour: SurfaceColour | None


def _ground(rgb: np.ndarray, settings: FilterSettings) -> _Ground:
    height, width = rgb.shape[:2]
    needs_colour = settings.pitch == "auto" or settings.teams != "off"
    lab = to_lab(work_copy(rgb)) if needs_colour else None
    colour = surface_colour(lab) if lab is not None else None
    if settings.pitch == "off":
        return _Ground(None, None, colour)
    if settings.pitch == "polygon":
        assert settings.polygon is not None  # checked by FilterSettings
        return _Ground(pitch_mask_from_polygon(settings.polygon, height, width), None, colour)
    assert lab is not None and colour is not None
    small = surface_mask(lab, colour)
    return _Ground(upscale(small, height, width), small, colour)


def _with_people(ground: _Ground, boxes: Sequence[Box], whole: bool) -> np.ndarray:
    """The work-size surface with these people's boxes counted as pitch, holes filled again.

    People hide the ground they stand on: a far player's body over the advertising boards, a group of players,
    their shadows would otherwise cut notches into the pitch. A box grows a little sideways and upwards (colours
    bleed past a silhouette). whole=False hides only what is above the feet band, so the band itself is still
    judged by what it shows."""
    assert ground.small is not None and ground.surface is not None
    small = ground.small.copy()
    height, width = ground.surface.shape
    scale_y, scale_x = small.shape[0] / height, small.shape[1] / width
    for x0, y0, x1, y1 in boxes:
        bottom = y1 if whole else y1 - FEET_BAND * (y1 - y0)
        rows = slice(max(0, math.floor(y0 * scale_y - HIDING_GROWTH_PX)), max(0, math.ceil(bottom * scale_y)))
        cols = slice(
            max(0, math.floor(x0 * scale_x - HIDING_GROWTH_PX)), max(0, math.ceil(x1 * scale_x + HIDING_GROWTH_PX))
        )
        small[rows, cols] = True
    return fill_holes(small, sides=False)


def _inner_area(surface: np.ndarray, margin_px: float) -> np.ndarray:
    """Where the surface is at least margin_px from any non-surface pixel. Beyond the frame the nearest row or
    column goes on: the frame border is not a pitch edge."""
    pad = math.ceil(margin_px) + 1
    padded = np.pad(surface.view(np.uint8), pad, mode="edge")
    distance = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[pad:-pad, pad:-pad]
    return distance >= margin_px


def _pitch_reasons(
    ground: _Ground, boxes: Sequence[Box], candidates: Sequence[int], edge_margin: float
) -> dict[int, str]:
    """The pitch rule for the boxes that passed the earlier rules: index -> reason for those that fail it."""
    assert ground.surface is not None
    height, width = ground.surface.shape
    bands = {i: _feet_band(boxes[i], height, width) for i in candidates}
    if ground.small is None:  # a polygon: exact geometry, nobody hides it
        return {i: REASON_OUTSIDE_PITCH for i in candidates if _share(ground.surface, bands[i]) < MIN_PITCH_SHARE}
    ground_seen = upscale(_with_people(ground, [boxes[i] for i in candidates], whole=False), height, width)
    reasons = {i: REASON_OUTSIDE_PITCH for i in candidates if _share(ground_seen, bands[i]) < MIN_PITCH_SHARE}
    on_pitch = [i for i in candidates if i not in reasons]
    if edge_margin > 0 and on_pitch:
        surface = _with_people(ground, [boxes[i] for i in on_pitch], whole=True)
        inner = upscale(_inner_area(surface, edge_margin * surface.shape[0]), height, width)
        reasons.update({i: REASON_PITCH_EDGE for i in on_pitch if _share(inner, bands[i]) < MIN_PITCH_SHARE})
    return reasons


@dataclass(frozen=True)
class _Jerseys:
    """The jersey rule's outcome for one frame, by detection index."""

    cluster_of: dict[int, int]
    officials: set[int]
    clusters: list[ColourCluster]
    decision: OfficialsDecision | None
    colours: np.ndarray


def _jersey_rule(
    rgb: np.ndarray,
    boxes: Sequence[Box],
    survivors: list[int],
    ground: _Ground,
    settings: FilterSettings,
    earlier: Sequence[np.ndarray],
) -> _Jerseys:
    none = _Jerseys({}, set(), [], None, np.zeros((0, 3)))
    if settings.teams == "off" or not survivors:
        return none
    assert ground.colour is not None
    colours = jersey_colours(rgb, [boxes[i] for i in survivors], ground.colour)
    # someone hidden behind a nearer person shows no shirt: no colour evidence, so not judged on colour
    seen = [i for i, colour in zip(survivors, colours, strict=True) if colour is not None]
    if not seen:
        return none
    shirts = np.array([colour for colour in colours if colour is not None])
    found = cluster_jerseys(shirts, earlier, settings.teams, settings.min_separation)
    cluster_of = {i: int(cluster) for i, cluster in zip(seen, found.assignment, strict=True)}
    officials = {i for i, cluster in cluster_of.items() if found.removes(cluster)}
    return _Jerseys(cluster_of, officials, found.clusters, found.decision, shirts)


def filter_players(
    rgb: np.ndarray,
    detections: Sequence[Detection],
    settings: FilterSettings = FilterSettings(),
    earlier_colours: Sequence[np.ndarray] = (),
) -> FilterResult:
    """Keep the players among one frame's detections; every rejected one gets the reason of the first rule it fails.

    earlier_colours: the Lab shirt colours of earlier detection frames of the same clip, one array per frame
    (playerseg.jerseys.JerseyPool), clustered with this frame's so the officials' decision rests on more than one
    frame."""
    rgb = check_rgb(rgb)
    height = rgb.shape[0]
    boxes = [_box(detection, i) for i, detection in enumerate(detections)]
    ground = _ground(rgb, settings)
    reasons: list[str | None] = [_click_or_shape_reason(box, height, settings) for box in boxes]
    if ground.surface is not None:
        candidates = [i for i, reason in enumerate(reasons) if reason is None]
        for i, reason in _pitch_reasons(ground, boxes, candidates, settings.edge_margin).items():
            reasons[i] = reason

    survivors = [i for i, reason in enumerate(reasons) if reason is None]
    jerseys = _jersey_rule(rgb, boxes, survivors, ground, settings, earlier_colours)
    for i in jerseys.officials:
        reasons[i] = REASON_OFFICIAL

    if settings.max_count is not None:
        survivors = [i for i, reason in enumerate(reasons) if reason is None]
        by_score = sorted(survivors, key=lambda i: -float(detections[i].score))  # stable: ties keep input order
        for i in by_score[settings.max_count :]:
            reasons[i] = REASON_OVER_COUNT

    decisions = [
        FilterDecision(detection, reason is None, reason, jerseys.cluster_of.get(i))
        for i, (detection, reason) in enumerate(zip(detections, reasons, strict=True))
    ]
    return FilterResult(decisions, ground.surface, jerseys.clusters, jerseys.decision, jerseys.colours)
