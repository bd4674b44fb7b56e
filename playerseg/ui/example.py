"""The example clip: a synthetic pitch clip generated at start-up (no media is committed), with its prompts and its
exact ground truth, so every tab, the accuracy tab included, works out of the box."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from playerseg.synthetic.dataset import generate_dataset

EXAMPLE_SEED = 7
EXAMPLE_PLAYERS = 3
EXAMPLE_SIZE = (640, 360)


@dataclass(frozen=True)
class ExampleClip:
    video: Path
    prompts: Path
    ground_truth: Path  # folder of palette PNGs named by frame number


def example_folder(work_dir: str | Path, frames: int) -> Path:
    """Where the example of this length lives in the work folder."""
    return Path(work_dir) / f"example-{frames}f"


def prepare_example(work_dir: str | Path, frames: int) -> ExampleClip:
    """Generate the example once per work folder and settings; later start-ups reuse it."""
    root = example_folder(work_dir, frames)
    settings = {"frames": frames, "seed": EXAMPLE_SEED, "players": EXAMPLE_PLAYERS, "size": list(EXAMPLE_SIZE)}
    marker = root / "settings.json"
    clip = ExampleClip(
        video=root / "videos" / "seq000.mp4",
        prompts=root / "prompts" / "seq000.json",
        ground_truth=root / "Annotations" / "seq000",
    )
    if marker.exists() and json.loads(marker.read_text()) == settings and clip.video.exists():
        return clip
    width, height = EXAMPLE_SIZE
    generate_dataset(
        root, sequences=1, frames=frames, players=EXAMPLE_PLAYERS, width=width, height=height, seed=EXAMPLE_SEED
    )
    marker.write_text(json.dumps(settings))
    return clip
