"""Keep the players among a frame's "person" detections; reject the crowd, the staff and the officials, with a reason.

The auto-labeler's detector finds every person in view. `filter_players` looks at one RGB frame and its detections
and applies these rules in order; the first rule a box fails is its reason:

1. "excluded by click"   a user click (settings.exclusions) lies inside the box
2. "too small" / "too large"   box height as a share of the frame height is outside [min_height, max_height]
3. "not person-shaped"   box height / width is outside [min_aspect, max_aspect]
4. "outside pitch"       the ground under the feet (a band at the bottom of the box) is mostly not pitch
   "at pitch edge"       (auto pitch only) the feet are on the pitch but within edge_margin of its edge: the staff
                         by the touchline, the officials at the side of a mat
5. "official's colour"   (teams=True) the shirt colour is in a small cluster far from both team colours
6. "over max count"      more survivors than max_count: the lowest scores go

Auto pitch: the dominant colour of the lower half of the frame (the biggest mode of an a*b* histogram in Lab), the
pixels close to it, cleaned with morphology, the largest connected regions, holes filled. People hide the ground
they stand on, so for the pitch rule the boxes of the people being judged count as pitch above their feet (a
far player's body over the advertising boards, a group of players and their shadows would otherwise cut notches
into it). It runs on a copy about WORK_HEIGHT pixels tall: ~4 ms per 854x480 frame, ~9 ms with teams=True.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:  # only for annotations: the filter reads .box and .score, nothing else
    import pandas as pd

    from playerseg.detector import Detection

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

# Auto pitch. The lower half of a sports frame is mostly playing surface (grass, a mat, a court), so its dominant
# colour is the surface. Colours are compared in Lab by chroma (a*, b*), which shading changes little; lightness
# only has to be roughly the same, which keeps black belts and white walls off a grey-green mat.
WORK_HEIGHT = 128
LOWER_PART = 0.5
AB_RANGE = 100.0
AB_BIN = 2.0
MODE_RADIUS = 6.0  # pixels this close to the histogram peak give the surface colour
TOLERANCE_PER_SPREAD = 3.5  # tolerance = this many times the median chroma distance of the surface pixels...
MIN_TOLERANCE, MAX_TOLERANCE = 5.0, 15.0  # ...within these bounds (grass texture, JPEG chroma noise)
DARKER, LIGHTER = 30.0, 25.0  # Lab L* range around the surface lightness (shadows on grass are ~15 darker)
MIN_REGION_SHARE = 0.25  # connected regions at least this share of the largest one are pitch too (split surfaces)
# People standing across the far edge of the pitch cut notches into it; a closing this wide (share of the frame
# height, about two bodies) fills them, so a far player's feet still count as on the pitch.
NOTCH_CLOSING = 0.08
HIDING_GROWTH_PX = 2.0  # work pixels a person's box grows by where it hides the pitch (colours bleed past a body)

# Jersey colours (teams=True). The torso is the upper-middle of the box; its colour is the most common colour of
# the pixels there that no nearer person covers and that are not skin, pitch-coloured or near black / white.
TORSO_ROWS = (0.2, 0.45)
TORSO_COLUMNS = (0.3, 0.7)
MIN_KEPT_TORSO_SHARE = 0.5  # fewer pixels left than this share: the shirt itself is pitch-coloured / black / white
MIN_VISIBLE_TORSO = 0.5  # less of the torso clear of nearer people: hidden, no colour evidence (not judged)
COLOUR_BIN = 10.0  # Lab cell size for a torso's most common colour
DARK_LIMIT, BRIGHT_LIMIT = 20.0, 97.0  # Lab L*: shadows, hair, dark shorts / highlights, white lines
SKIN_MIN_LIGHTNESS = 15.0
MAX_CLUSTERS = 3  # two teams and the officials
OFFICIALS_MAX_SHARE = 0.2  # an officials' cluster has at most max(2 members, this share of the boxes)...
OFFICIALS_MIN_DISTANCE = 20.0  # ...and a colour at least this far (Lab delta E) from both team colours; closer
# clusters are one kit (k-means splits a kit in two when only one team and no referee are in view)
KMEANS_ITERATIONS = 20


class FilterError(ValueError):
    """Filter settings, a pitch polygon file or an input the player filter cannot use; the message is one sentence."""


def _check_fraction(name: str, value: float) -> None:
    if not _is_number(value) or not 0 < value <= 1:
        raise FilterError(f"{name} must be a fraction of the frame height in (0, 1], got {value!r}.")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _points(name: str, points: Any, minimum: int) -> tuple[tuple[float, float], ...]:
    """Points as a tuple of (x, y) float pairs, or FilterError naming the setting."""
    try:
        pairs = tuple((float(x), float(y)) for x, y in points)
    except (TypeError, ValueError):
        raise FilterError(f"{name} must be a list of [x, y] pixel pairs.") from None
    if len(pairs) < minimum:
        raise FilterError(f"{name} needs at least {minimum} points, got {len(pairs)}.")
    if not all(math.isfinite(v) for pair in pairs for v in pair):
        raise FilterError(f"{name} has a coordinate that is not a finite number.")
    return pairs


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
    teams: bool = False  # jersey-colour clustering: teams vs referee / officials
    # Auto pitch only: feet closer than this (share of the frame height) to the pitch's edge are on its rim, where
    # the staff and officials stand; the edges of the frame are not edges of the pitch. On 360 generated frames
    # (playerseg.synthetic) any margin from 0.08 to 0.095 kept every player and rejected every touchline staff
    # member; judo fighters stand more than 0.3 from the mat's edge.
    edge_margin: float = 0.09

    def __post_init__(self) -> None:
        if self.pitch not in PITCH_MODES:
            raise FilterError(f"pitch must be one of {', '.join(PITCH_MODES)}, got {self.pitch!r}.")
        if self.polygon is not None:
            object.__setattr__(self, "polygon", _points("The pitch polygon", self.polygon, 3))
        elif self.pitch == "polygon":
            raise FilterError('pitch="polygon" needs a polygon of at least 3 points.')
        object.__setattr__(self, "exclusions", _points("exclusions", self.exclusions, 0))
        for name in ("min_height", "max_height"):
            _check_fraction(name, getattr(self, name))
        if self.min_height > self.max_height:
            raise FilterError(f"min_height ({self.min_height}) must not be above max_height ({self.max_height}).")
        for name in ("min_aspect", "max_aspect"):
            value = getattr(self, name)
            if not _is_number(value) or not 0 < value < math.inf:
                raise FilterError(f"{name} must be a positive number (box height / width), got {value!r}.")
        if self.min_aspect > self.max_aspect:
            raise FilterError(f"min_aspect ({self.min_aspect}) must not be above max_aspect ({self.max_aspect}).")
        if self.max_count is not None and (
            isinstance(self.max_count, bool) or not isinstance(self.max_count, (int, np.integer)) or self.max_count < 1
        ):
            raise FilterError(f"max_count must be a whole number >= 1 or None, got {self.max_count!r}.")
        if not _is_number(self.edge_margin) or not 0 <= self.edge_margin < 1:
            raise FilterError(f"edge_margin must be a share of the frame height in [0, 1), got {self.edge_margin!r}.")
        if not isinstance(self.teams, bool):
            raise FilterError(f"teams must be True or False, got {self.teams!r}.")

    def scaled(self, scale_x: float, scale_y: float) -> FilterSettings:
        """The same settings for a frame resized by these factors (polygon and clicks move; shares stay)."""
        for value in (scale_x, scale_y):
            if not _is_number(value) or not 0 < value < math.inf:
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
    cluster: int | None  # index into FilterResult.clusters when teams=True and the box was clustered


@dataclass(frozen=True)
class ColourCluster:
    index: int
    rgb: tuple[int, int, int]
    members: int
    label: str  # "team 1", "team 2", "officials" or "other" (a third colour too common to be the officials)


@dataclass(frozen=True)
class FilterResult:
    decisions: list[FilterDecision]  # same order as the input detections
    pitch_mask: np.ndarray | None  # bool HxW: the playing surface (None when pitch == "off")
    clusters: list[ColourCluster] = field(default_factory=list)  # empty when teams=False

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
# pitch masks


def _check_rgb(rgb: Any) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise FilterError("The frame must be an HxWx3 uint8 RGB array.")
    if rgb.shape[0] < 2 or rgb.shape[1] < 2:
        raise FilterError(f"The frame is too small ({rgb.shape[1]}x{rgb.shape[0]} pixels) to find a pitch in.")
    return rgb


def pitch_mask_from_polygon(polygon: Sequence[Sequence[float]], height: int, width: int) -> np.ndarray:
    """Bool HxW: pixels whose centre (col + 0.5, row + 0.5) lies inside the polygon (even-odd rule)."""
    points = np.asarray(_points("The pitch polygon", polygon, 3), dtype=np.float64)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in (height, width)):
        raise FilterError(f"A pitch mask needs a whole positive height and width, got {height!r}x{width!r}.")
    height, width = int(height), int(width)
    start, end = points, np.roll(points, -1, axis=0)
    rows = np.arange(height, dtype=np.float64)[:, None] + 0.5
    # an edge crosses a row when the row lies in [its lower y, its upper y): each vertex counts once
    low, high = np.minimum(start[:, 1], end[:, 1]), np.maximum(start[:, 1], end[:, 1])
    crosses = (rows >= low) & (rows < high)
    with np.errstate(divide="ignore", invalid="ignore"):  # horizontal edges never cross a row: NaN, unused
        t = (rows - start[:, 1]) / (end[:, 1] - start[:, 1])
        x_cross = start[:, 0] + t * (end[:, 0] - start[:, 0])
    # every pixel whose centre is right of a crossing flips parity: mark the first such column, then cumsum
    first_col = np.clip(np.floor(x_cross - 0.5) + 1, 0, width)
    row_index = np.broadcast_to(np.arange(height)[:, None], crosses.shape)
    flips = np.zeros((height, width + 1), dtype=np.int32)
    np.add.at(flips, (row_index[crosses], first_col[crosses].astype(np.intp)), 1)
    return (np.cumsum(flips[:, :width], axis=1) % 2).astype(bool)


@dataclass(frozen=True)
class _SurfaceColour:
    """The playing surface's colour in Lab and how far from it a pixel may be and still be surface."""

    lightness: float
    a: float
    b: float
    tolerance: float

    def matches(self, lab: np.ndarray) -> np.ndarray:
        chroma_distance = np.hypot(lab[..., 1] - self.a, lab[..., 2] - self.b)
        lightness = lab[..., 0]
        return (
            (chroma_distance <= self.tolerance)
            & (lightness >= self.lightness - DARKER)
            & (lightness <= self.lightness + LIGHTER)
        )


def _to_lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def _work_copy(rgb: np.ndarray) -> np.ndarray:
    """The frame about WORK_HEIGHT pixels tall (never enlarged), area-averaged so texture and noise fade."""
    height, width = rgb.shape[:2]
    scale = min(1.0, WORK_HEIGHT / height)
    if scale == 1.0:
        return rgb
    size = (max(2, round(width * scale)), max(2, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _surface_colour(lab: np.ndarray) -> _SurfaceColour:
    """The biggest mode of the a*b* histogram of the lower part of the frame and the spread of the pixels near it."""
    height = lab.shape[0]
    lower = lab[int(height * (1 - LOWER_PART)) :].reshape(-1, 3)
    bins = int(2 * AB_RANGE / AB_BIN)
    histogram, _, _ = np.histogram2d(
        lower[:, 1], lower[:, 2], bins=bins, range=((-AB_RANGE, AB_RANGE), (-AB_RANGE, AB_RANGE))
    )
    histogram = cv2.GaussianBlur(histogram.astype(np.float32), (5, 5), 0)  # a mode of a region, not one bin
    peak_a, peak_b = np.unravel_index(int(np.argmax(histogram)), histogram.shape)
    a0, b0 = -AB_RANGE + (peak_a + 0.5) * AB_BIN, -AB_RANGE + (peak_b + 0.5) * AB_BIN
    near = lower[np.hypot(lower[:, 1] - a0, lower[:, 2] - b0) <= MODE_RADIUS]
    if near.shape[0] == 0:  # only when the peak lies between sparse colours: take the bin centre as it is
        near = np.array([[float(np.median(lower[:, 0])), a0, b0]], dtype=np.float32)
    a, b = float(near[:, 1].mean()), float(near[:, 2].mean())
    distance = np.hypot(near[:, 1] - a, near[:, 2] - b)
    tolerance = float(np.clip(TOLERANCE_PER_SPREAD * np.median(distance), MIN_TOLERANCE, MAX_TOLERANCE))
    return _SurfaceColour(float(np.median(near[:, 0])), a, b, tolerance)


def _disc(diameter: int) -> np.ndarray:
    diameter = max(1, diameter)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter, diameter))


def _largest_regions(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(mask)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= MIN_REGION_SHARE * areas.max()) + 1
    return np.isin(labels, keep)


def _fill_holes(mask: np.ndarray, sides: bool = True) -> np.ndarray:
    """Fill what the surface encloses. The pitch goes on past the bottom edge of the frame (and, with sides, past
    the left and right edges), so a player cut off there is enclosed too; what reaches the top edge (stands,
    walls, sky) never is."""
    padded = np.pad(mask, 1, constant_values=True)
    padded[0, :] = False
    if not sides:
        padded[:, 0] = padded[:, -1] = False
    outside = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), dtype=np.uint8)
    background = (~padded).view(np.uint8).copy()
    # flood the non-surface from the top-left corner: whatever it cannot reach is a hole
    cv2.floodFill(background, outside, (0, 0), 2, flags=8)
    return background[1:-1, 1:-1] != 2


def _surface_mask(lab: np.ndarray, colour: _SurfaceColour) -> np.ndarray:
    """The playing surface on the work copy: close colour, cleaned, largest regions, holes and notches filled."""
    mask = colour.matches(lab).view(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _disc(3))  # specks of grass-green in the crowd
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, _disc(5))  # painted lines, mat seams
    mask = _fill_holes(_largest_regions(mask.view(bool)))
    notch = _disc(round(NOTCH_CLOSING * lab.shape[0]) | 1)
    closed = cv2.morphologyEx(mask.view(np.uint8), cv2.MORPH_CLOSE, notch).view(bool)
    return _fill_holes(closed)


def _upscale(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    if mask.shape == (height, width):
        return mask
    return cv2.resize(mask.view(np.uint8) * np.uint8(255), (width, height), interpolation=cv2.INTER_LINEAR) >= 128


def pitch_mask_auto(rgb: np.ndarray) -> np.ndarray:
    """Bool HxW: the playing surface, found from the frame's dominant colour (see the module docstring)."""
    rgb = _check_rgb(rgb)
    lab = _to_lab(_work_copy(rgb))
    return _upscale(_surface_mask(lab, _surface_colour(lab)), *rgb.shape[:2])


def load_polygon(path: str | Path) -> tuple[tuple[float, float], ...]:
    """The pitch outline from a JSON file {"pitch": [[x, y], ...]} (frame pixels, at least 3 points)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FilterError(f"The pitch polygon file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise FilterError(f"Could not read the pitch polygon file {path}: {error}.") from None
    except json.JSONDecodeError as error:
        problem = f"{error.msg}, line {error.lineno}"
        raise FilterError(f"The pitch polygon file {path} is not valid JSON ({problem}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("pitch"), list):
        raise FilterError(f'The pitch polygon file {path} must hold {{"pitch": [[x, y], ...]}}.')
    if not all(isinstance(p, list) and len(p) == 2 and all(_is_number(v) for v in p) for p in data["pitch"]):
        raise FilterError(f"The pitch polygon in {path} must be a list of [x, y] number pairs.")
    try:
        return _points("The pitch polygon", data["pitch"], 3)
    except FilterError as error:
        raise FilterError(f"{str(error)[:-1]} (in {path}).") from None


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
# jersey colours


def _torso_slices(box: Box, height: int, width: int) -> tuple[slice, slice]:
    x0, y0, x1, y1 = box
    top, bottom = (round(y0 + share * (y1 - y0)) for share in TORSO_ROWS)
    left, right = (round(x0 + share * (x1 - x0)) for share in TORSO_COLUMNS)
    top, left = min(max(top, 0), height - 1), min(max(left, 0), width - 1)
    return slice(top, min(max(bottom, top + 1), height)), slice(left, min(max(right, left + 1), width))


def _visible_torso(rgb: np.ndarray, index: int, boxes: Sequence[Box]) -> np.ndarray | None:
    """Lab pixels of the torso of boxes[index] that no nearer person covers; None when most of it is covered.

    A box whose feet are lower on screen is nearer the camera: where it overlaps, it shows that other person."""
    rows, cols = _torso_slices(boxes[index], *rgb.shape[:2])
    ys, xs = np.mgrid[rows, cols]
    ys, xs = ys.ravel() + 0.5, xs.ravel() + 0.5
    covered = np.zeros(len(ys), dtype=bool)
    for other, (x0, y0, x1, y1) in enumerate(boxes):
        if other != index and y1 > boxes[index][3]:
            covered |= (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
    if (~covered).mean() < MIN_VISIBLE_TORSO:
        return None
    return _to_lab(rgb[rows, cols]).reshape(-1, 3)[~covered]


def _dominant(lab: np.ndarray) -> np.ndarray:
    """The most common colour of these Lab pixels: the median of the fullest COLOUR_BIN cell and those near it.
    Unlike a median of everything, it is a colour that is there, not a blend of a shirt and an arm in front."""
    cells = np.floor(lab / COLOUR_BIN).astype(np.int64)
    keys, counts = np.unique(cells, axis=0, return_counts=True)
    centre = (keys[int(np.argmax(counts))] + 0.5) * COLOUR_BIN
    near = lab[np.linalg.norm(lab - centre, axis=1) <= COLOUR_BIN]
    return np.median(near if len(near) else lab, axis=0)


def _is_skin(lab: np.ndarray) -> np.ndarray:
    """Arms and faces: warm, moderately saturated colours (a* 6-25, b* 1.2-2.4 times a*), from pale to dark."""
    a, b = lab[:, 1], lab[:, 2]
    return (lab[:, 0] >= SKIN_MIN_LIGHTNESS) & (a >= 6) & (a <= 25) & (b >= 1.2 * a) & (b <= 2.4 * a)


def _torso_colour(lab: np.ndarray, surface: _SurfaceColour) -> np.ndarray:
    """The shirt colour among these torso pixels. Pixels that are probably not shirt (near black or white, skin,
    pitch-coloured) are left out, the least telling first, unless they are most of the torso: then they are it."""
    extreme = (lab[:, 0] < DARK_LIMIT) | (lab[:, 0] > BRIGHT_LIMIT)
    skin = extreme | _is_skin(lab)
    for dropped in (skin | surface.matches(lab), skin, extreme):
        if (~dropped).mean() >= MIN_KEPT_TORSO_SHARE:
            return _dominant(lab[~dropped])
    return _dominant(lab)


def _kmeans(points: np.ndarray, k: int) -> np.ndarray:
    """Cluster index of each point: Lloyd's k-means, seeded farthest-point-first from the most central point, so
    the same input always gives the same clusters."""
    centre = np.median(points, axis=0)
    seeds = [int(np.argmin(np.linalg.norm(points - centre, axis=1)))]
    while len(seeds) < k:
        nearest = np.min(np.linalg.norm(points[:, None] - points[seeds][None], axis=2), axis=1)
        seeds.append(int(np.argmax(nearest)))
    centres = points[seeds].astype(np.float64)
    assignment = np.zeros(len(points), dtype=np.intp)
    for _ in range(KMEANS_ITERATIONS):
        assignment = np.argmin(np.linalg.norm(points[:, None] - centres[None], axis=2), axis=1)
        updated = np.array(
            [points[assignment == j].mean(axis=0) if np.any(assignment == j) else centres[j] for j in range(k)]
        )
        if np.allclose(updated, centres):
            break
        centres = updated
    return assignment


def _lab_to_rgb(lab: np.ndarray) -> tuple[int, int, int]:
    rgb = cv2.cvtColor(lab.astype(np.float32).reshape(1, 1, 3), cv2.COLOR_LAB2RGB)[0, 0]
    r, g, b = (int(round(float(v) * 255)) for v in np.clip(rgb, 0, 1))
    return (r, g, b)


def _merge_close(assignment: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Join clusters whose colours are closer than OFFICIALS_MIN_DISTANCE: with one team and no referee in view,
    k-means would split a kit in two and the other team's lone player would look like an official."""
    assignment = assignment.copy()
    while True:
        labels = np.unique(assignment)
        means = {j: points[assignment == j].mean(axis=0) for j in labels}
        pairs = [
            (float(np.linalg.norm(means[p] - means[q])), p, q) for n, p in enumerate(labels) for q in labels[n + 1 :]
        ]
        close = [pair for pair in pairs if pair[0] < OFFICIALS_MIN_DISTANCE]
        if not close:
            return assignment
        _, keep, gone = min(close)
        assignment[assignment == gone] = keep


def _cluster_teams(colours: np.ndarray) -> tuple[list[ColourCluster], np.ndarray, set[int]]:
    """Clusters (teams first), each box's cluster index and the indices of the officials' clusters."""
    count = len(colours)
    assignment = _merge_close(_kmeans(colours, min(MAX_CLUSTERS, count)), colours)
    # biggest first; equal sizes by the first box that joined, so the order does not depend on seeding
    members = {int(j): int(np.count_nonzero(assignment == j)) for j in np.unique(assignment)}
    order = sorted(members, key=lambda j: (-members[j], int(np.argmax(assignment == j))))
    centres = {j: colours[assignment == j].mean(axis=0) for j in order}
    teams = order[:2]
    labels = {j: f"team {n + 1}" for n, j in enumerate(teams)}
    officials: set[int] = set()
    for j in order[2:]:
        # the officials: few, and fewer than either team (else which colour is a team's is a guess), and far from
        # both teams' colours (closer clusters were merged). So it takes 2 + 2 + 1 people at least: with fewer
        # (or a lone player of a team against a lone referee) there is no evidence, and nobody is rejected.
        if members[j] <= max(2, OFFICIALS_MAX_SHARE * count) and all(members[j] < members[t] for t in teams):
            labels[j] = "officials"
            officials.add(j)
        else:
            labels[j] = "other"
    new_index = {j: n for n, j in enumerate(order)}
    clusters = [
        ColourCluster(index=new_index[j], rgb=_lab_to_rgb(centres[j]), members=members[j], label=labels[j])
        for j in order
    ]
    return clusters, np.array([new_index[j] for j in assignment]), {new_index[j] for j in officials}


# ---------------------------------------------------------------------------------------------------------------
# the filter


@dataclass(frozen=True)
class _Ground:
    """What the pitch and jersey rules read: the pitch at frame and at work size, the surface colour."""

    surface: np.ndarray | None  # bool, frame size (None when pitch == "off")
    small: np.ndarray | None  # bool, work size (auto pitch only: people hide it, the edge rule measures on it)
    colour: _SurfaceColour | None


def _ground(rgb: np.ndarray, settings: FilterSettings) -> _Ground:
    height, width = rgb.shape[:2]
    needs_colour = settings.pitch == "auto" or settings.teams
    lab = _to_lab(_work_copy(rgb)) if needs_colour else None
    colour = _surface_colour(lab) if lab is not None else None
    if settings.pitch == "off":
        return _Ground(None, None, colour)
    if settings.pitch == "polygon":
        assert settings.polygon is not None  # checked by FilterSettings
        return _Ground(pitch_mask_from_polygon(settings.polygon, height, width), None, colour)
    assert lab is not None and colour is not None
    small = _surface_mask(lab, colour)
    return _Ground(_upscale(small, height, width), small, colour)


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
    return _fill_holes(small, sides=False)


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
    ground_seen = _upscale(_with_people(ground, [boxes[i] for i in candidates], whole=False), height, width)
    reasons = {i: REASON_OUTSIDE_PITCH for i in candidates if _share(ground_seen, bands[i]) < MIN_PITCH_SHARE}
    on_pitch = [i for i in candidates if i not in reasons]
    if edge_margin > 0 and on_pitch:
        surface = _with_people(ground, [boxes[i] for i in on_pitch], whole=True)
        inner = _upscale(_inner_area(surface, edge_margin * surface.shape[0]), height, width)
        reasons.update({i: REASON_PITCH_EDGE for i in on_pitch if _share(inner, bands[i]) < MIN_PITCH_SHARE})
    return reasons


def filter_players(
    rgb: np.ndarray, detections: Sequence[Detection], settings: FilterSettings = FilterSettings()
) -> FilterResult:
    """Keep the players among one frame's detections; every rejected one gets the reason of the first rule it fails."""
    rgb = _check_rgb(rgb)
    height = rgb.shape[0]
    boxes = [_box(detection, i) for i, detection in enumerate(detections)]
    ground = _ground(rgb, settings)
    reasons: list[str | None] = [_click_or_shape_reason(box, height, settings) for box in boxes]
    if ground.surface is not None:
        candidates = [i for i, reason in enumerate(reasons) if reason is None]
        for i, reason in _pitch_reasons(ground, boxes, candidates, settings.edge_margin).items():
            reasons[i] = reason

    cluster_of: list[int | None] = [None] * len(boxes)
    clusters: list[ColourCluster] = []
    survivors = [i for i, reason in enumerate(reasons) if reason is None]
    if settings.teams and survivors:
        assert ground.colour is not None
        people = [boxes[i] for i in survivors]
        torsos = {i: _visible_torso(rgb, n, people) for n, i in enumerate(survivors)}
        # someone hidden behind a nearer person shows no shirt: no colour evidence, so not judged on colour
        seen = [i for i in survivors if torsos[i] is not None]
        if seen:
            colours = np.array([_torso_colour(torsos[i], ground.colour) for i in seen])
            clusters, assignment, officials = _cluster_teams(colours)
            for i, cluster in zip(seen, assignment, strict=True):
                cluster_of[i] = int(cluster)
                if cluster in officials:
                    reasons[i] = REASON_OFFICIAL

    if settings.max_count is not None:
        survivors = [i for i, reason in enumerate(reasons) if reason is None]
        by_score = sorted(survivors, key=lambda i: -float(detections[i].score))  # stable: ties keep input order
        for i in by_score[settings.max_count :]:
            reasons[i] = REASON_OVER_COUNT

    decisions = [
        FilterDecision(detection, reason is None, reason, cluster)
        for detection, reason, cluster in zip(detections, reasons, cluster_of, strict=True)
    ]
    return FilterResult(decisions, ground.surface, clusters)
