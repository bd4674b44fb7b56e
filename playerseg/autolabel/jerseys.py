"""Jersey colours: tell the two teams from the officials by the colour of their shirts.

A person's shirt colour is the most common colour of the torso (the upper-middle of the box) among the pixels no
nearer person covers and that are not skin, pitch-coloured or near black / white; someone whose torso is mostly
hidden shows no shirt and is not judged. The shirt colours (Lab) are clustered with k-means (k = 3, deterministic
seeding); clusters whose colours are closer than OFFICIALS_MIN_DISTANCE are one kit (k-means splits a kit in two
when only one team and no referee are in view). The two biggest clusters are the teams. A third is the officials'
when it is small: at most max(2, OFFICIALS_MAX_SHARE of the colours) and smaller than both teams.

Separation says how clearly that third colour stands apart: the distance between its centre and the nearer team's
centre, divided by the sum of the two clusters' spreads (the median distance of a cluster's colours from its
centre, at least MIN_SPREAD delta E: one kit's colour varies that much with light, shade and compression). With no
third cluster left after merging, it is the same figure for the smallest of the k-means clusters before merging,
so "all shirts one colour" gives a low figure. The floor makes the two rules agree: colours closer than
OFFICIALS_MIN_DISTANCE have a separation below the default MIN_SEPARATION.

Modes (FilterSettings.teams):
  "auto" (default)  remove the officials' cluster only when separation >= min_separation (default 2.0): the gap
                    between the officials' and the nearer team's colours is at least twice their spreads together;
  "on"              remove the officials' cluster whenever there is one (the separation is reported, not tested);
  "off"             no clustering: nobody is judged on colour.
At least MIN_COLOURS shirt colours (2 + 2 teams + 1 official) are needed before anyone is judged.

Per clip (the auto-labeler): a JerseyPool keeps the shirt colours of the last POOL_FRAMES detection frames; each
detection frame clusters its own colours together with those, so a frame with few people in view (a close-up)
is judged on the clip's recent evidence and the decision does not flicker from frame to frame. An OfficialsTally
sums the decisions up for run.json. Clustering 25 pooled frames of 21 people takes ~20 ms (one frame's: ~5 ms)
on a busy 2-core machine, next to the detector's hundreds of milliseconds.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np

from playerseg.autolabel.pitch import SurfaceColour, to_lab

Box = tuple[float, float, float, float]  # (x0, y0, x1, y1) frame pixels, x1/y1 exclusive
TeamsMode = Literal["auto", "on", "off"]
TEAMS_MODES: tuple[TeamsMode, ...] = ("auto", "on", "off")

TORSO_ROWS = (0.2, 0.45)
TORSO_COLUMNS = (0.3, 0.7)
MIN_KEPT_TORSO_SHARE = 0.5  # fewer pixels left than this share: the shirt itself is pitch-coloured / black / white
MIN_VISIBLE_TORSO = 0.5  # less of the torso clear of nearer people: hidden, no colour evidence (not judged)
COLOUR_BIN = 10.0  # Lab cell size for a torso's most common colour
DARK_LIMIT, BRIGHT_LIMIT = 20.0, 97.0  # Lab L*: shadows, hair, dark shorts / highlights, white lines
SKIN_MIN_LIGHTNESS = 15.0
MAX_CLUSTERS = 3  # two teams and the officials
OFFICIALS_MAX_SHARE = 0.2  # an officials' cluster has at most max(2 members, this share of the colours)...
OFFICIALS_MIN_DISTANCE = 20.0  # ...and clusters closer than this (Lab delta E) are one kit
KMEANS_ITERATIONS = 20
SUPPORT_RADIUS = OFFICIALS_MIN_DISTANCE / 2  # delta E: colours this close count as the same kit when seeding...
SEED_SUPPORT = 1 / 3  # ...and a seed needs this many of them per pooled frame (a referee in a third of the frames)
MIN_COLOURS = 5  # two of each team and one official: fewer and which colour is whose is a guess
MIN_SEPARATION = 2.0  # "auto": the officials' gap to the nearer team over their spreads together
MIN_SPREAD = OFFICIALS_MIN_DISTANCE / (2 * MIN_SEPARATION)  # 5 delta E: one kit under light, shade and compression
POOL_FRAMES = 25  # detection frames whose colours are clustered together (every 5th frame at 25 fps: 5 s)

REASON_TOO_FEW = "too few people with a visible shirt"
REASON_NOT_SEPARATED = "jersey colours did not separate clearly"
REASON_TOO_COMMON = "the third jersey colour is too common to be the officials'"
REASON_OFF = "jersey clustering is off"
REASON_NONE_SEEN = "no shirt was seen on any detection frame"


def _torso_slices(box: Box, height: int, width: int) -> tuple[slice, slice]:
    x0, y0, x1, y1 = box
    top, bottom = (round(y0 + share * (y1 - y0)) for share in TORSO_ROWS)
    left, right = (round(x0 + share * (x1 - x0)) for share in TORSO_COLUMNS)
    top, left = min(max(top, 0), height - 1), min(max(left, 0), width - 1)
    return slice(top, min(max(bottom, top + 1), height)), slice(left, min(max(right, left + 1), width))


def visible_torso(rgb: np.ndarray, index: int, boxes: Sequence[Box]) -> np.ndarray | None:
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
    return to_lab(rgb[rows, cols]).reshape(-1, 3)[~covered]


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


def torso_colour(lab: np.ndarray, surface: SurfaceColour) -> np.ndarray:
    """The shirt colour among these torso pixels. Pixels that are probably not shirt (near black or white, skin,
    pitch-coloured) are left out, the least telling first, unless they are most of the torso: then they are it."""
    extreme = (lab[:, 0] < DARK_LIMIT) | (lab[:, 0] > BRIGHT_LIMIT)
    skin = extreme | _is_skin(lab)
    for dropped in (skin | surface.matches(lab), skin, extreme):
        if (~dropped).mean() >= MIN_KEPT_TORSO_SHARE:
            return _dominant(lab[~dropped])
    return _dominant(lab)


def _seed_candidates(points: np.ndarray, frames: int) -> np.ndarray:
    """The colours k-means may start from: those with at least SEED_SUPPORT of the pooled frames' worth of colours
    within SUPPORT_RADIUS. One odd colour in the pool (a staff member's bib on one frame) would otherwise take a
    seed for itself and push the referee into a team. With one frame every colour qualifies."""
    if frames <= 1:
        return np.arange(len(points))
    squares = np.einsum("ij,ij->i", points, points)
    distances_squared = squares[:, None] + squares[None] - 2.0 * points @ points.T
    support = np.count_nonzero(distances_squared <= SUPPORT_RADIUS**2, axis=1)
    candidates = np.flatnonzero(support >= SEED_SUPPORT * frames)
    return candidates if len(candidates) else np.arange(len(points))


def _kmeans(points: np.ndarray, k: int, frames: int = 1) -> np.ndarray:
    """Cluster index of each point: Lloyd's k-means, seeded farthest-point-first from the most central point (among
    the well-supported colours), so the same input always gives the same clusters."""
    candidates = points[_seed_candidates(points, frames)]
    centre = np.median(candidates, axis=0)
    seeds = [int(np.argmin(np.linalg.norm(candidates - centre, axis=1)))]
    while len(seeds) < min(k, len(candidates)):
        nearest = np.min(np.linalg.norm(candidates[:, None] - candidates[seeds][None], axis=2), axis=1)
        seeds.append(int(np.argmax(nearest)))
    centres = candidates[seeds].astype(np.float64)
    k = len(centres)
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


def _lab_to_rgb(lab: np.ndarray) -> list[tuple[int, int, int]]:
    """RGB 0-255 of each Lab colour (rows)."""
    rgb = cv2.cvtColor(lab.astype(np.float32).reshape(1, -1, 3), cv2.COLOR_LAB2RGB)[0]
    return [(int(round(r * 255)), int(round(g * 255)), int(round(b * 255))) for r, g, b in np.clip(rgb, 0, 1).tolist()]


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


def _by_size(assignment: np.ndarray) -> tuple[list[int], dict[int, int]]:
    """Cluster labels biggest first (equal sizes: the first colour that joined first) and their sizes."""
    sizes = {int(j): int(np.count_nonzero(assignment == j)) for j in np.unique(assignment)}
    return sorted(sizes, key=lambda j: (-sizes[j], int(np.argmax(assignment == j)))), sizes


def _spread(colours: np.ndarray) -> float:
    """Delta E: the median distance of a cluster's colours from their mean, at least MIN_SPREAD."""
    return max(MIN_SPREAD, float(np.median(np.linalg.norm(colours - colours.mean(axis=0), axis=1))))


def _separation(points: np.ndarray, assignment: np.ndarray, order: list[int]) -> float | None:
    """How clearly the smallest cluster (order[-1]) stands apart from the nearer of the others: the distance of
    the centres over the sum of the spreads. 0.0 when all colours are one cluster; None with a single colour."""
    if len(points) < 2:
        return None
    if len(order) < 2:
        return 0.0
    candidate = points[assignment == order[-1]]
    ratios = []
    for other in order[:-1][:2]:
        members = points[assignment == other]
        gap = float(np.linalg.norm(candidate.mean(axis=0) - members.mean(axis=0)))
        ratios.append(gap / (_spread(candidate) + _spread(members)))
    return min(ratios)


@dataclass(frozen=True)
class ColourCluster:
    index: int
    rgb: tuple[int, int, int]
    members: int  # this frame's people in it
    label: str  # "team 1", "team 2", "officials" or "other" (a third colour too common to be the officials)
    pooled: int = 0  # colours in it with the pooled earlier detection frames': the evidence its label rests on
    spread: float = MIN_SPREAD  # delta E (see the module docstring)


@dataclass(frozen=True)
class OfficialsDecision:
    """Whether one detection frame removes the officials' cluster, and the figures behind the decision."""

    teams: TeamsMode
    removed: bool
    reason: str | None  # None when removed, else one of the REASON_* phrases
    separation: float | None  # see the module docstring; None with a single colour
    needed: float  # the separation "auto" asks for
    colours: int  # shirt colours clustered: this frame's and the pooled earlier detection frames'


@dataclass(frozen=True)
class JerseyClusters:
    clusters: list[ColourCluster]  # teams first, then the officials' (or "other") cluster
    assignment: np.ndarray  # cluster index of each of this frame's colours
    decision: OfficialsDecision

    def removes(self, cluster: int) -> bool:
        """Whether this frame's people in this cluster are rejected as officials."""
        return self.decision.removed and self.clusters[cluster].label == "officials"


def _labels(order: list[int], sizes: dict[int, int], count: int, frames: int) -> dict[int, str]:
    labels = {j: f"team {n + 1}" for n, j in enumerate(order[:2])}
    for j in order[2:]:
        # the officials: few (two a frame, or a small share), and fewer than either team (else which colour is a
        # team's is a guess); closer clusters were merged. So it takes 2 + 2 + 1 people at least.
        few = sizes[j] <= max(2 * frames, OFFICIALS_MAX_SHARE * count)
        small = few and all(sizes[j] < sizes[t] for t in order[:2])
        labels[j] = "officials" if small else "other"
    return labels


def _decide(
    teams: TeamsMode, labels: dict[int, str], separation: float | None, count: int, needed: float
) -> str | None:
    """The reason the officials are not removed, or None when they are."""
    if count < MIN_COLOURS:
        return REASON_TOO_FEW
    if "officials" not in labels.values():
        return REASON_TOO_COMMON if len(labels) > 2 else REASON_NOT_SEPARATED
    if teams == "auto" and (separation is None or separation < needed):
        return REASON_NOT_SEPARATED
    return None


def cluster_jerseys(
    colours: np.ndarray,
    earlier: Sequence[np.ndarray] = (),
    teams: TeamsMode = "auto",
    needed: float = MIN_SEPARATION,
) -> JerseyClusters:
    """Cluster one frame's shirt colours (Lab, one row per person) with those of earlier detection frames (one
    array per frame) and decide whether the officials' cluster is removed (see the module docstring)."""
    if teams not in ("auto", "on"):
        raise ValueError(f"Jersey clustering needs teams 'auto' or 'on', got {teams!r}.")
    colours = np.asarray(colours, dtype=np.float64).reshape(-1, 3)
    points = np.concatenate([*(np.reshape(frame, (-1, 3)) for frame in earlier), colours])
    raw = _kmeans(points, min(MAX_CLUSTERS, len(points)), len(earlier) + 1)
    assignment = _merge_close(raw, points)
    order, sizes = _by_size(assignment)
    labels = _labels(order, sizes, len(points), len(earlier) + 1)
    # the third cluster's separation; with none left after merging, that of the smallest k-means cluster
    if len(order) > 2:
        separation = _separation(points, assignment, order)
    else:
        separation = _separation(points, raw, _by_size(raw)[0])
    reason = _decide(teams, labels, separation, len(points), needed)
    decision = OfficialsDecision(teams, reason is None, reason, separation, needed, len(points))
    current = assignment[len(points) - len(colours) :]
    rgbs = _lab_to_rgb(np.array([points[assignment == j].mean(axis=0) for j in order]))
    clusters = [
        ColourCluster(
            index=n,
            rgb=rgbs[n],
            members=int(np.count_nonzero(current == j)),
            label=labels[j],
            pooled=sizes[j],
            spread=round(_spread(points[assignment == j]), 2),
        )
        for n, j in enumerate(order)
    ]
    new_index = {j: n for n, j in enumerate(order)}
    return JerseyClusters(clusters, np.array([new_index[int(j)] for j in current], dtype=np.intp), decision)


class JerseyPool:
    """The shirt colours of one clip's last `frames` detection frames that showed any (the oldest go first)."""

    def __init__(self, frames: int = POOL_FRAMES) -> None:
        if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
            raise ValueError(f"A jersey pool holds at least 1 detection frame, got {frames!r}.")
        self._frames: deque[np.ndarray] = deque(maxlen=frames)

    def add(self, colours: np.ndarray) -> None:
        if len(colours):
            self._frames.append(np.array(colours, dtype=np.float64).reshape(-1, 3))

    def frames(self) -> list[np.ndarray]:
        """The pooled frames' colours, oldest first: one (N, 3) Lab array per detection frame."""
        return list(self._frames)


@dataclass
class OfficialsTally:
    """One clip's officials decisions, summed up for run.json's autolabel block and the run's notes."""

    teams: TeamsMode
    needed: float
    frames_removed: int = 0
    not_removed: Counter[str] = field(default_factory=Counter)  # reason -> detection frames
    dropped: int = 0  # detections rejected as officials
    last: OfficialsDecision | None = None
    last_not_removed: OfficialsDecision | None = None

    def add(self, decision: OfficialsDecision | None, dropped: int) -> None:
        """One detection frame's decision (None: nobody's shirt was seen, nothing was decided)."""
        if decision is None:
            return
        self.last = decision
        self.dropped += dropped
        if decision.removed:
            self.frames_removed += 1
        else:
            self.not_removed[str(decision.reason)] += 1
            self.last_not_removed = decision

    @property
    def reason(self) -> str | None:
        """Why the officials were kept (the most frequent reason), None when they were removed everywhere."""
        if self.teams == "off":
            return REASON_OFF
        if self.last is None:
            return REASON_NONE_SEEN
        return self.not_removed.most_common(1)[0][0] if self.not_removed else None

    def to_dict(self) -> dict[str, Any]:
        facts: dict[str, Any] = {"teams": self.teams, "removed": self.frames_removed > 0, "reason": self.reason}
        if self.teams == "off":
            return facts
        shown = self.last  # the figures of the last detection frame: the most pooled evidence
        separation = None if shown is None or shown.separation is None else round(shown.separation, 2)
        facts.update(
            dropped=self.dropped,
            frames_removed=self.frames_removed,
            frames_not_removed=sum(self.not_removed.values()),
            separation=separation,
            needed=self.needed,
            colours=0 if shown is None else shown.colours,
        )
        if self.not_removed:
            facts["not_removed_because"] = dict(self.not_removed)
        return facts

    def note(self) -> str | None:
        """One sentence for the run's notes when some detection frame kept the officials; None otherwise."""
        shown = self.last_not_removed
        if self.teams == "off" or shown is None:
            return None
        kept = sum(self.not_removed.values())
        where = f" on {kept} of {kept + self.frames_removed} detection frames" if self.frames_removed else ""
        if shown.reason == REASON_TOO_FEW:
            figures = f" ({shown.colours} shirt colours, needed {MIN_COLOURS})"
        elif shown.separation is not None:
            figures = f" (separation {shown.separation:.2f}, needed {shown.needed:g})"
        else:
            figures = ""
        return f"officials were not removed by jersey colour{where}: {shown.reason}{figures}"


def jersey_colours(rgb: np.ndarray, boxes: Sequence[Box], surface: SurfaceColour) -> list[np.ndarray | None]:
    """Each person's shirt colour (Lab), or None when a nearer person hides most of the torso."""
    torsos = [visible_torso(rgb, i, boxes) for i in range(len(boxes))]
    return [None if torso is None else torso_colour(torso, surface) for torso in torsos]
