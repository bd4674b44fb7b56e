"""Run folders, as `python -m playerseg segment` writes them: masks/, frames.csv and run.json, read back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluation.datasets import DatasetError, read_json
from evaluation.datasets.mask_pngs import load_mask_folder
from evaluation.sequence import MaskSequence

if TYPE_CHECKING:
    from evaluation.results.profile import ProfileResult


@dataclass(frozen=True)
class RunFolder:
    """A run folder: its masks, its per-frame profile (frames.csv) and what run.json says about it."""

    path: Path
    name: str  # the model that made it (run.json "model"), else the folder's name
    masks: MaskSequence  # named after the clip (its file stem), else the folder
    profile: ProfileResult | None  # None without frames.csv
    facts: dict[str, Any]  # run.json as written ({} without one)
    clip: str | None  # the clip's path when that file still exists


def is_run_folder(folder: Path) -> bool:
    """Whether `folder` has a masks/ folder beside a run.json or a frames.csv."""
    return (folder / "masks").is_dir() and ((folder / "run.json").is_file() or (folder / "frames.csv").is_file())


def load_run_folder(run_dir: str | Path) -> RunFolder:
    """A run folder (or its masks/ folder): masks from masks/, profile from frames.csv, facts from run.json."""
    from evaluation.profiling import ProfileError, profile_from_frames_csv

    run = Path(run_dir)
    if run.name == "masks" and not (run / "masks").is_dir() and (run.parent / "run.json").is_file():
        run = run.parent
    if not (run / "masks").is_dir():
        raise DatasetError(
            f"{run} is not a run folder: it has no masks/ folder (run folders are written by "
            "python -m playerseg segment)."
        )
    facts: dict[str, Any] = {}
    if (run / "run.json").is_file():
        facts = read_json(run / "run.json")
        if not isinstance(facts, dict):
            raise DatasetError(f"{run / 'run.json'} is not a JSON object.")
    name = str(facts.get("model") or run.resolve().name)
    clip_path = _clip_path(facts)
    masks = load_mask_folder(run / "masks", name=Path(clip_path).stem if clip_path else run.resolve().name)
    profile = None
    if (run / "frames.csv").is_file():
        try:
            profile = profile_from_frames_csv(run / "frames.csv", name=name)
        except ProfileError as error:
            raise DatasetError(str(error)) from error
    return RunFolder(run, name, masks, profile, facts, _existing_clip(clip_path, run))


def _clip_path(facts: dict[str, Any]) -> str | None:
    clip = facts.get("clip")
    path = clip.get("path") if isinstance(clip, dict) else None
    return str(path) if path else None


def _existing_clip(clip_path: str | None, run: Path) -> str | None:
    if clip_path is None:
        return None
    for candidate in (Path(clip_path), run / clip_path):  # a relative path may be relative to the run folder
        if candidate.exists():
            return str(candidate)
    return None
