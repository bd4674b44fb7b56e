"""Procedural football-pitch clips (or, with mode "generic", clips that are not a pitch) with exact ground truth,
in the DAVIS layout.

What a frame shows (back to front): a crowd band (rows of tiny spectators plus a few larger standing, jumping fans),
an LED advertising board with bright blocks that scroll, a mown pitch (perspective stripes, touchline, halfway
line, grass texture), player shadows, then person-like figures: players of two teams (one team in a green close to
the grass), a referee in a colour of its own, and staff near the touchline. Figures have a head, torso, shorts,
legs with a running cycle and swinging arms; their size grows with depth (lower on screen = nearer = larger) and
they are drawn far to near, so nearer figures hide farther ones. The camera pans slowly (pitch, stripes, board and
crowd shift) and players cross each other on purpose (players 1 and 3, in the same green kit, meet mid-clip; with
two players 1 and 2, with one player 1 and the referee). With `entering` E, the last E players start outside the
view and run in from the right a few frames into the clip (a player entering after frame 0).

What is exact: every figure is painted first into an integer layer (OpenCV polygons, circles and thick lines with
LINE_8, no anti-aliasing); colours are then looked up from that layer, so Annotations (players 1..K, 0 elsewhere;
a hidden part belongs to whoever hides it, 0 when that is not a player), meta boxes (bbox_from_mask of each
figure's visible pixels, x1/y1 exclusive) and prompt points (the deepest pixel of the visible mask) agree with each
other to the pixel.
What is not: the pictures get a mild motion blur after that (a 1-3 px horizontal box blur from the camera pan over
the whole frame, and a 5 px blur along the motion of fast figures within 2 px of their silhouette), then JPEG /
H.264 compression and +-2 levels of sensor noise per channel. The ground truth stays the sharp silhouette, as in
hand-annotated footage; colours may bleed up to 2-3 px past it. The tiny spectators of the crowd texture are
background, only the larger standing fans are "crowd" figures in meta.json.

Mode "generic" (playerseg.synthetic.generic), footage for pretraining a model that segments whatever is clicked:
each sequence draws a background that is not a pitch (gradients, blobs, Voronoi-like patches, stripes, checkers or
noise, in a random palette, with distractor shapes that stay background), and its K objects are people-like figures
in random colours and shapes (ellipses, rectangles, triangles, polygons, stars, blobs; plain, two- or three-coloured,
some close to the background's colour). Objects move on their own paths, some rotate or scale, hide each other by
depth (objects 1 and 2 cross at mid-clip), may leave and re-enter the view; the camera pans in x and y and sometimes
zooms. The same exact id layer, boxes and prompts, the same kind of blur, JPEG and noise; in meta.json every
object's role is "object" and each sequence's header has "mode": "generic" (pitch sequences have no "mode" key).
`entering` works as in pitch mode (the last E objects come in from the right).

    python -m playerseg.synthetic OUT [--sequences N] [--frames F] [--players K] [--width W] [--height H]
                                      [--fps R] [--seed S] [--entering E] [--mode {pitch,generic}]

writes OUT/JPEGImages/<seq>/00000.jpg..., OUT/Annotations/<seq>/00000.png..., OUT/videos/<seq>.mp4,
OUT/prompts/<seq>.json (one positive click per player on the first frame where it is visible) and OUT/meta.json.
The same arguments give byte-identical annotations, prompts and meta (numpy Generator seeded by seed and sequence).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from playerseg.errors import PlayerSegError
from playerseg.io.masks import write_palette_png
from playerseg.io.prompts import Point, Prompt, PromptSet
from playerseg.io.video import VideoWriter
from playerseg.synthetic.backdrop import make_backdrop
from playerseg.synthetic.figures import make_figures
from playerseg.synthetic.generic import make_clip, render_clip
from playerseg.synthetic.layout import Layout
from playerseg.synthetic.paths import camera_pan
from playerseg.synthetic.render import RenderedFrame, render
from playerseg.synthetic.truth import deepest_point, frame_figures, player_labels

MAX_PLAYERS = 20  # more would not fit on a 640x360 pitch; ids stay far below the 254 a palette PNG allows
MIN_SIDE, MAX_SIDE = 64, 4096  # below 64 px the far figures would be a few pixels tall
MAX_SEQUENCES, MAX_FRAMES = 1000, 100_000
JPEG_QUALITY = 90


class SyntheticError(PlayerSegError, ValueError):
    """Arguments the generator cannot use, or an output it cannot write; the message is one sentence."""


_FRAME_FILE = re.compile(r"^\d{5}\.(jpg|png)$")


def _fresh_folder(folder: Path) -> Path:
    """Create the folder; drop frame files a previous, longer run left there (they would join this sequence)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        if stale.is_file() and _FRAME_FILE.match(stale.name):
            stale.unlink()
    return folder


def _write_jpeg(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise SyntheticError(f"Could not write the frame {path}.")


def _write_sequence(
    out: Path, name: str, pictures: Iterator[RenderedFrame], figures: Sequence[Any], players: int, fps: float
) -> list[dict[str, Any]]:
    """Write one sequence's frames, annotations, video and prompts; return its per-frame meta.

    figures[i] (with .object_id and .role) is the figure of id layer value i + 1; ids 1..players are the objects.
    """
    jpeg_dir = _fresh_folder(out / "JPEGImages" / name)
    label_dir = _fresh_folder(out / "Annotations" / name)
    prompts: dict[int, Prompt] = {}
    frame_meta = []
    # one encoder thread: x264's output depends on its thread count, and a seed must give the same clip everywhere
    with VideoWriter(out / "videos" / f"{name}.mp4", fps=fps, threads=1, preset="medium") as writer:
        for t, rendered in enumerate(pictures):
            labels = player_labels(rendered.ids, players)
            _write_jpeg(jpeg_dir / f"{t:05d}.jpg", rendered.rgb)
            write_palette_png(label_dir / f"{t:05d}.png", labels)
            writer.write(rendered.rgb)
            frame_meta.append({"frame": t, "figures": frame_figures(rendered.boxes, figures)})
            for object_id in range(1, players + 1):
                if object_id not in prompts and (mask := labels == object_id).any():
                    x, y = deepest_point(mask)
                    prompts[object_id] = Prompt(frame=t, object_id=object_id, points=(Point(x, y, True),))
    PromptSet([prompts[k] for k in sorted(prompts)]).save(out / "prompts" / f"{name}.json")
    return frame_meta


def _pitch_sequence(
    out: Path, name: str, rng: np.random.Generator, frames: int, players: int, layout: Layout, fps: float, entering: int
) -> dict[str, Any]:
    pans = camera_pan(rng, frames, layout.width)
    figures = make_figures(rng, players, pans, layout, entering)
    backdrop = make_backdrop(rng, pans, layout)
    frame_meta = _write_sequence(out, name, render(rng, figures, backdrop, pans, layout), figures, players, fps)
    return {"width": layout.width, "height": layout.height, "fps": fps, "frames": frame_meta}


def _generic_sequence(
    out: Path, name: str, rng: np.random.Generator, frames: int, players: int, layout: Layout, fps: float, entering: int
) -> dict[str, Any]:
    clip = make_clip(rng, frames, players, layout.width, layout.height, entering)
    frame_meta = _write_sequence(out, name, render_clip(rng, clip), clip.objects, players, fps)
    return {"width": layout.width, "height": layout.height, "fps": fps, "mode": "generic", "frames": frame_meta}


_SEQUENCE_MAKERS = {"pitch": _pitch_sequence, "generic": _generic_sequence}
MODES = tuple(_SEQUENCE_MAKERS)


def _meta_json(meta: dict[str, Any]) -> str:
    """JSON with one line per frame: readable and diffable, unlike one huge line or one line per number."""
    blocks = []
    for name, sequence in meta["sequences"].items():
        header = json.dumps({key: value for key, value in sequence.items() if key != "frames"})[:-1]
        frames = ",\n".join("   " + json.dumps(frame) for frame in sequence["frames"])
        blocks.append(f'  {json.dumps(name)}: {header}, "frames": [\n{frames}\n  ]}}')
    return '{"sequences": {\n' + ",\n".join(blocks) + "\n}}\n"


def _check_arguments(sequences: int, frames: int, players: int, width: int, height: int, fps: float, seed: int) -> None:
    whole = {
        "sequences": (sequences, 1, MAX_SEQUENCES),
        "frames": (frames, 1, MAX_FRAMES),
        "players": (players, 1, MAX_PLAYERS),
        "width": (width, MIN_SIDE, MAX_SIDE),
        "height": (height, MIN_SIDE, MAX_SIDE),
    }
    for name, (value, low, high) in whole.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise SyntheticError(f"{name} must be a whole number from {low} to {high}, got {value!r}.")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 240 or math.isnan(fps):
        raise SyntheticError(f"fps must be a number above 0 and at most 240, got {fps!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SyntheticError(f"seed must be a whole number >= 0, got {seed!r}.")


def _check_entering(entering: int, players: int) -> None:
    crossing = 3 if players >= 3 else players  # players 1..3 keep their paths (the deliberate crossing)
    whole = not isinstance(entering, bool) and isinstance(entering, (int, np.integer))
    if not whole or not 0 <= entering <= players - crossing:
        raise SyntheticError(
            f"entering must be a whole number from 0 to {max(players - crossing, 0)} (players minus the first "
            f"{crossing}, who cross each other), got {entering!r}."
        )


def generate_dataset(
    out_dir: str | Path,
    sequences: int = 1,
    frames: int = 24,
    players: int = 3,
    width: int = 640,
    height: int = 360,
    fps: float = 24.0,
    seed: int = 0,
    entering: int = 0,
    mode: str = "pitch",
) -> dict[str, Any]:
    """Write sequences seq000, seq001... in the DAVIS layout under out_dir (see the module docstring).

    Returns the meta written to out_dir/meta.json: {"sequences": {name: {"width", "height", "fps", "frames":
    [{"frame": t, "figures": [{"object_id": id or None, "role": ..., "box": [x0, y0, x1, y1]}]}]}}}; mode "pitch"
    (football-pitch clips) or "generic" (not a pitch; each header then also has "mode": "generic").
    """
    if not isinstance(mode, str) or mode not in _SEQUENCE_MAKERS:
        raise SyntheticError(f"mode must be one of {', '.join(MODES)}, got {mode!r}.")
    _check_arguments(sequences, frames, players, width, height, fps, seed)
    _check_entering(entering, players)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SyntheticError(f"Cannot write a dataset to {out}: it is a file, not a folder.")
    for sub in ("JPEGImages", "Annotations", "videos", "prompts"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    layout = Layout.of(int(width), int(height))
    meta: dict[str, Any] = {"sequences": {}}
    for index in range(sequences):
        name = f"seq{index:03d}"
        rng = np.random.default_rng([int(seed), index])  # each sequence on its own stream: adding one changes none
        meta["sequences"][name] = _SEQUENCE_MAKERS[mode](
            out, name, rng, int(frames), int(players), layout, float(fps), int(entering)
        )
    (out / "meta.json").write_text(_meta_json(meta), encoding="utf-8")
    return meta
