"""Small evaluate OUT folders made by hand: a DAVIS root (sequences of 64x48 JPEG frames with two players walking
across a pitch, palette-PNG annotations), run folders per model and sequence (masks/, frames.csv, run.json), each
pair's score.json as the evaluate command writes it, and evaluate.json. Also PairScore rows for verdict tests."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from evaluation.datasets.mask_pngs import davis_palette
from evaluation.leaderboard.collect import score_pair_folder
from evaluation.leaderboard.manifest import EvaluateManifest, ModelEntry, fingerprint_folder, pair_folder
from evaluation.leaderboard.rows import SCORE_FILE, PairFailure, PairScore
from evaluation.leaderboard.table import Leaderboard, build_leaderboard

W, H = 64, 48
SEQUENCES = ("seq000", "seq001", "seq002")
FRAMES = 4
CREATED = "2026-11-22T10:00:00+00:00"
Masks = Callable[[np.ndarray, int, int], np.ndarray]  # (truth, sequence index, frame) -> predicted labels


def truth_labels(sequence: int, frame: int) -> np.ndarray:
    """Two players (ids 1 and 2) walking towards each other; each sequence starts them elsewhere."""
    labels = np.zeros((H, W), dtype=np.uint8)
    x1, x2 = 6 + 3 * frame + 2 * sequence, 44 - 3 * frame - sequence
    labels[12 + sequence : 34 + sequence, x1 : x1 + 10] = 1
    labels[16 : 40 - sequence, x2 : x2 + 12] = 2
    return labels


def frame_image(labels: np.ndarray, frame: int) -> np.ndarray:
    """A green pitch with a stripe, the players in shirts of their own colour."""
    rgb = np.empty((H, W, 3), dtype=np.uint8)
    rgb[:] = (46, 125, 50)
    rgb[:, (np.arange(W) // 8 + frame) % 2 == 0] = (56, 142, 60)
    rgb[labels == 1] = (230, 230, 240)
    rgb[labels == 2] = (200, 40, 40)
    return rgb


def write_palette_png(path: Path, labels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(labels, mode="P")
    image.putpalette(davis_palette().reshape(-1).tolist())
    image.save(path)


def write_dataset(root: Path, sequences: Sequence[str] = SEQUENCES, frames: int = FRAMES) -> Path:
    """ROOT/JPEGImages/<seq>/00000.jpg... and ROOT/Annotations/<seq>/00000.png..."""
    for s, sequence in enumerate(sequences):
        (root / "JPEGImages" / sequence).mkdir(parents=True, exist_ok=True)
        for frame in range(frames):
            labels = truth_labels(s, frame)
            Image.fromarray(frame_image(labels, frame)).save(root / "JPEGImages" / sequence / f"{frame:05d}.jpg")
            write_palette_png(root / "Annotations" / sequence / f"{frame:05d}.png", labels)
    return root


def exact(truth: np.ndarray, sequence: int, frame: int) -> np.ndarray:
    return truth.copy()


def shifted(pixels: int) -> Masks:
    """The truth moved right by `pixels` (a model that is a little off)."""

    def masks(truth: np.ndarray, sequence: int, frame: int) -> np.ndarray:
        return np.roll(truth, pixels, axis=1)

    return masks


def frozen(truth: np.ndarray, sequence: int, frame: int) -> np.ndarray:
    """The first frame's truth on every frame: perfectly steady, increasingly wrong."""
    return truth_labels(sequence, 0)


def noise(truth: np.ndarray, sequence: int, frame: int) -> np.ndarray:
    """Random blobs: what a random-weight model makes."""
    rng = np.random.default_rng(100 * sequence + frame)
    return (rng.random((H, W)) < 0.15).astype(np.uint8) * rng.integers(1, 3, size=(H, W)).astype(np.uint8)


@dataclass(frozen=True)
class ModelSpec:
    """A hand-made model: its masks, its speed and memory, its weights."""

    name: str
    masks: Masks
    latency_ms: float = 40.0
    memory_mb: float = 900.0
    random_weights: bool = False
    weights: str = "pretrained (hub checkpoint)"
    parameters: int | None = 38_900_000


def write_run(folder: Path, spec: ModelSpec, sequence: int, frames: int = FRAMES) -> None:
    """masks/, frames.csv and run.json as python -m playerseg segment writes them."""
    rows = ["frame,latency_ms,memory_mb,prompt_ms"]
    for frame in range(frames):
        write_palette_png(
            folder / "masks" / f"{frame:05d}.png", spec.masks(truth_labels(sequence, frame), sequence, frame)
        )
        latency = spec.latency_ms * (1.0 + 0.02 * frame)
        rows.append(f"{frame},{latency:.3f},{spec.memory_mb + frame:.1f},{5.0 if frame == 0 else 0.0}")
    (folder / "frames.csv").write_text("\n".join(rows) + "\n")
    facts = {
        "model": spec.name,
        "random_weights": spec.random_weights,
        "weights": spec.weights,
        "device": "cpu",
        "memory": {"kind": "process_rss"},
    }
    (folder / "run.json").write_text(json.dumps(facts))


def write_evaluate_folder(
    out: Path, root: Path, specs: Sequence[ModelSpec], sequences: Sequence[str] = SEQUENCES, frames: int = FRAMES
) -> EvaluateManifest:
    """OUT/evaluate.json and OUT/runs/<model>/<seq>/ with each pair's score.json."""
    out.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        for s, sequence in enumerate(sequences):
            folder = pair_folder(out, spec.name, sequence)
            write_run(folder, spec, s, frames)
            score = score_pair_folder(root, sequence, folder, spec.name)
            (folder / SCORE_FILE).write_text(json.dumps(score.to_json()))
    manifest = EvaluateManifest(
        data=str(root.resolve()),
        models=tuple(
            ModelEntry(s.name, s.parameters, hashlib.sha256(s.name.encode()).hexdigest(), s.weights, s.random_weights)
            for s in specs
        ),
        sequences=tuple(sequences),
        prompts="clicks",
        dataset_fingerprint=fingerprint_folder(root),
        created=CREATED,
        engine="local",
        device="cpu",
    )
    manifest.write(out)
    return manifest


# ---------------------------------------------------------------------------------------------------------------
# leaderboards from hand-written numbers (no folders)


def pair(model: str, sequence: str, JF: float, **figures: object) -> PairScore:
    """A PairScore with plain defaults: J = F = JF, 40 ms per frame, 900 MiB RSS on cpu, no ids, no roles."""
    base = PairScore(
        model=model,
        sequence=sequence,
        J=JF,
        F=JF,
        JF=JF,
        latency_p50_ms=40.0,
        peak_memory_mb=900.0,
        J_recall=1.0,
        J_decay=0.0,
        F_recall=1.0,
        F_decay=0.0,
        latency_p95_ms=50.0,
        fps=25.0,
        memory_kind="process_rss",
        consecutive_iou=0.9,
        flow_consistency=math.nan,
        area_volatility=0.05,
        centroid_jitter_px=1.0,
        boundary_flip_rate=0.1,
        presence_toggles=0.0,
        idf1=math.nan,
        id_switches=math.nan,
        players_kept=math.nan,
        players=math.nan,
        non_players_kept=math.nan,
        frames_scored=4,
        objects=2,
        random_weights=False,
        weights="pretrained",
        device="cpu",
    )
    return replace(base, **figures)


def board_of(
    scores: dict[str, Sequence[float]],
    figures: dict[str, dict[str, object]] | None = None,
    failures: Sequence[PairFailure] = (),
    entries: dict[str, ModelEntry] | None = None,
) -> Leaderboard:
    """A leaderboard of models (in the dict's order: the first is the baseline) with the given J&F per sequence."""
    figures, entries = figures or {}, entries or {}
    names = list(scores)
    count = max(len(v) for v in scores.values())
    sequences = tuple(f"seq{i:03d}" for i in range(count))
    rows = [
        pair(name, sequences[i], value, **figures.get(name, {}))
        for name in names
        for i, value in enumerate(scores[name])
    ]
    manifest = EvaluateManifest(
        data="/data/pitch",
        models=tuple(entries.get(name, ModelEntry(name)) for name in names),
        sequences=sequences,
        prompts="clicks",
        dataset_fingerprint="0" * 64,
        created=CREATED,
    )
    return build_leaderboard(manifest, rows, failures)
