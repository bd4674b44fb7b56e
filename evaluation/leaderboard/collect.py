"""An evaluate OUT folder read back: the manifest, then each (model, sequence) pair's score.json or failure.json;
with `rescore` every finished run folder is scored again against the dataset's ground truth (what
`python -m evaluation leaderboard OUT` does, so edited masks or annotations show up without running any model)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from evaluation.leaderboard.manifest import EvaluateManifest, pair_folder
from evaluation.leaderboard.rows import FAILURE_FILE, SCORE_FILE, PairFailure, PairScore
from evaluation.leaderboard.table import Leaderboard, build_leaderboard


def read_pair(folder: Path) -> PairScore | PairFailure | None:
    """A pair's recorded outcome: its score, its failure, or None when it has not finished."""
    try:
        if (folder / SCORE_FILE).is_file():
            return PairScore.from_json(json.loads((folder / SCORE_FILE).read_text()))
        if (folder / FAILURE_FILE).is_file():
            return PairFailure.from_json(json.loads((folder / FAILURE_FILE).read_text()))
    except (ValueError, KeyError, TypeError):
        return None  # a damaged record counts as unfinished: the pair runs again
    return None


def score_pair_folder(data: Path, sequence: str, folder: Path, model: str) -> PairScore:
    """Score one finished run folder against ROOT/Annotations/<sequence> (flow from ROOT/JPEGImages/<sequence>)."""
    from evaluation.datasets.mask_pngs import load_mask_folder
    from evaluation.leaderboard.scoring import read_roles, score_run_folder

    truth = load_mask_folder(data / "Annotations" / sequence, name=sequence)
    frames = data / "JPEGImages" / sequence
    roles = read_roles(data / "meta.json", sequence)
    score = score_run_folder(folder, truth, str(frames) if frames.is_dir() else None, roles, name=model)
    return replace(score, model=model, sequence=sequence)


def collect(out: str | Path, rescore: bool = False) -> Leaderboard:
    """The leaderboard of an OUT folder from what its pairs recorded (or, with `rescore`, from their masks)."""
    manifest = EvaluateManifest.read(out)
    rows: list[PairScore] = []
    failures: list[PairFailure] = []
    data = Path(manifest.data)
    for model in manifest.model_names:
        for sequence in manifest.sequences:
            folder = pair_folder(out, model, sequence)
            outcome = read_pair(folder)
            if isinstance(outcome, PairScore) and rescore and (data / "Annotations" / sequence).is_dir():
                outcome = score_pair_folder(data, sequence, folder, model)
            if isinstance(outcome, PairScore):
                rows.append(outcome)
            elif isinstance(outcome, PairFailure):
                failures.append(outcome)
    return build_leaderboard(manifest, rows, failures)


def missing_pairs(out: str | Path) -> list[tuple[str, str]]:
    """(model, sequence) pairs of the manifest that have neither a score nor a failure yet."""
    manifest = EvaluateManifest.read(out)
    return [
        (model, sequence)
        for model in manifest.model_names
        for sequence in manifest.sequences
        if read_pair(pair_folder(out, model, sequence)) is None
    ]
