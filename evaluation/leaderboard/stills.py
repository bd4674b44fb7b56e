"""Where the first two models differ most: the frames with the lowest agreement between their label maps, over
every sequence both were scored on, drawn side by side (ground truth when the frame is annotated, then each model's
masks as coloured overlays on the frame) and embedded as base64 JPEG.

Agreement on a frame is the share of pixels that either model labels as an object (void left out) on which both
give the same label: 1 when they agree everywhere, 0 when no object pixel matches. At most MAX_FRAMES frames per
sequence are compared (evenly spaced), so a long dataset costs a bounded number of PNG reads.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluation.leaderboard.manifest import pair_folder
from evaluation.leaderboard.table import Leaderboard

STILLS = 3
MAX_FRAMES = 120  # frames compared per sequence
MIN_GAP = 10  # frames: a second still of one sequence must be this far from the first (unless too few remain)
PANEL_WIDTH = 480  # px, the widest a panel is drawn
MIN_PANEL_WIDTH = 240  # px: smaller frames are enlarged (nearest) to this, so a small clip's masks stay visible
GAP = 8  # px of white between panels
ALPHA = 0.5  # how strongly a mask tints its pixels
VOID = 255
# Tableau 10 again, object id k -> colour k-1 (mod 10), as RGB
OBJECT_COLORS = np.array(
    [
        (78, 121, 167),
        (242, 142, 43),
        (89, 161, 79),
        (225, 87, 89),
        (176, 122, 161),
        (118, 183, 178),
        (237, 201, 72),
        (255, 157, 167),
        (156, 117, 95),
        (186, 176, 172),
    ],
    dtype=np.float32,
)


@dataclass(frozen=True)
class Still:
    """One frame where the two models differ: where it is, how much they agree, the image and its panels' names."""

    sequence: str
    frame: int
    agreement: float
    panels: tuple[str, ...]
    image: str  # data:image/jpeg;base64,...
    width: int  # px of the whole image
    height: int


def label_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of object pixels (an object in either map, void in neither) given the same label by both; 1 when
    neither map has an object pixel."""
    valid = (a != VOID) & (b != VOID)
    union = (((a > 0) & (a != VOID)) | ((b > 0) & (b != VOID))) & valid
    total = int(np.count_nonzero(union))
    if total == 0:
        return 1.0
    return int(np.count_nonzero((a == b) & union)) / total


def _spaced(frames: tuple[int, ...], limit: int) -> list[int]:
    if len(frames) <= limit:
        return list(frames)
    picks = np.linspace(0, len(frames) - 1, limit).round().astype(int)
    return [frames[i] for i in sorted(set(picks.tolist()))]


def _agreements(out: Path, sequence: str, a: str, b: str) -> list[tuple[float, str, int]]:
    """(agreement, sequence, frame) on the compared frames of one sequence; none when the masks differ in size."""
    from evaluation.datasets.mask_pngs import load_mask_folder

    masks_a = load_mask_folder(pair_folder(out, a, sequence) / "masks")
    masks_b = load_mask_folder(pair_folder(out, b, sequence) / "masks")
    if (masks_a.height, masks_a.width) != (masks_b.height, masks_b.width):
        return []
    common = tuple(sorted(set(masks_a.frames) & set(masks_b.frames)))
    return [(label_agreement(masks_a.read(f), masks_b.read(f)), sequence, f) for f in _spaced(common, MAX_FRAMES)]


def disagreements(out: Path, board: Leaderboard, a: str, b: str) -> list[tuple[float, str, int]]:
    """(agreement, sequence, frame) for the compared frames of every sequence both models were scored on."""
    scored_b = {row.sequence for row in board.rows_of(b)}
    found: list[tuple[float, str, int]] = []
    for sequence in [row.sequence for row in board.rows_of(a) if row.sequence in scored_b]:
        try:
            found += _agreements(out, sequence, a, b)
        except ValueError:
            continue  # masks that are gone or unreadable: nothing to show for that sequence
    return found


def choose(found: list[tuple[float, str, int]], count: int = STILLS) -> list[tuple[float, str, int]]:
    """The `count` lowest agreements, a frame within MIN_GAP of one already chosen (same sequence) only when too
    few others remain."""
    ranked = sorted(found, key=lambda item: (item[0], item[1], item[2]))
    chosen: list[tuple[float, str, int]] = []
    for item in ranked:
        if len(chosen) < count and all(c[1] != item[1] or abs(c[2] - item[2]) >= MIN_GAP for c in chosen):
            chosen.append(item)
    for item in ranked:
        if len(chosen) < count and item not in chosen:
            chosen.append(item)
    return sorted(chosen, key=lambda item: (item[0], item[1], item[2]))


def overlay(frame: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The frame (RGB uint8) with each object's pixels tinted by its colour and its outline drawn solid."""
    tinted = frame.astype(np.float32)
    objects = (labels > 0) & (labels != VOID)
    colors = OBJECT_COLORS[(labels.astype(np.int64) - 1) % len(OBJECT_COLORS)]
    tinted[objects] = (1 - ALPHA) * tinted[objects] + ALPHA * colors[objects]
    padded = np.pad(labels, 1, mode="edge")
    edge = (
        (padded[1:-1, :-2] != labels)
        | (padded[1:-1, 2:] != labels)
        | (padded[:-2, 1:-1] != labels)
        | (padded[2:, 1:-1] != labels)
    ) & objects
    tinted[edge] = colors[edge]
    return tinted.round().clip(0, 255).astype(np.uint8)


def _panel(frame: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One overlay panel at the masks' size, then scaled to between MIN_PANEL_WIDTH and PANEL_WIDTH px wide."""
    import cv2

    height, width = labels.shape
    if frame.shape[:2] != (height, width):
        frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    drawn = overlay(frame, labels)
    target = min(PANEL_WIDTH, max(MIN_PANEL_WIDTH, width))
    if target == width:
        return drawn
    size = (target, max(1, round(height * target / width)))
    return cv2.resize(drawn, size, interpolation=cv2.INTER_AREA if target < width else cv2.INTER_NEAREST)


def _jpeg(image: np.ndarray) -> str:
    import cv2

    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("a still could not be encoded as JPEG.")
    return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


def render(out: Path, board: Leaderboard, pick: tuple[float, str, int], models: tuple[str, str]) -> Still:
    """The still of one chosen frame: ground truth (when annotated), then both models, side by side."""
    from evaluation.datasets.frames import FrameFolder
    from evaluation.datasets.mask_pngs import load_mask_folder

    agreement, sequence, frame = pick
    data = Path(board.manifest.data)
    image = FrameFolder(data / "JPEGImages" / sequence).read(frame)
    maps = [(name, load_mask_folder(pair_folder(out, name, sequence) / "masks").read(frame)) for name in models]
    truth = data / "Annotations" / sequence
    if truth.is_dir():
        annotations = load_mask_folder(truth)
        if frame in annotations and annotations.height == maps[0][1].shape[0]:
            maps.insert(0, ("ground truth", annotations.read(frame)))
    panels = [_panel(image, labels) for _, labels in maps]
    gap = np.full((panels[0].shape[0], GAP, 3), 255, dtype=np.uint8)
    joined = np.concatenate([part for panel in panels for part in (gap, panel)][1:], axis=1)
    return Still(sequence, frame, agreement, tuple(n for n, _ in maps), _jpeg(joined), joined.shape[1], joined.shape[0])


def stills(out: str | Path, board: Leaderboard, count: int = STILLS) -> tuple[list[Still], str]:
    """Up to `count` stills of the first two models, and one line saying what they show or why there are none."""
    names = board.manifest.model_names
    if len(names) < 2:
        return [], "Stills compare two models; only one was evaluated."
    a, b = names[0], names[1]
    frames = Path(board.manifest.data) / "JPEGImages"
    if not frames.is_dir():
        return [], f"The dataset's frames ({frames}) are not there, so there are no stills."
    found = disagreements(Path(out), board, a, b)
    if not found:
        return [], f"No sequence has masks of both {a} and {b}, so there are no stills."
    if min(item[0] for item in found) >= 1.0:
        return [], f"{a} and {b} label every compared frame the same: there is no difference to show."
    picked = []
    for pick in choose([item for item in found if item[0] < 1.0], count):
        try:
            picked.append(render(Path(out), board, pick, (a, b)))
        except (ValueError, OSError):
            continue  # a frame image that is missing or unreadable: that still is left out
    if not picked:
        return [], f"The frames where {a} and {b} differ could not be read, so there are no stills."
    compared = len(found)
    line = (
        f"The {len(picked)} frames (of {compared} compared) where {a} and {b} agree least: the share of object "
        "pixels both label the same, 1 = identical. Each object keeps one colour in every panel."
    )
    return picked, line
