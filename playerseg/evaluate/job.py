"""One evaluate job as asked (dataset, models, OUT, how to prompt, engine), the dataset's sequences, and the
manifest (OUT/evaluate.json) that makes a later run resume instead of starting over."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from evaluation.leaderboard.manifest import MANIFEST_FILE, EvaluateManifest, ModelEntry, fingerprint_folder
from playerseg.errors import PlayerSegError

ENGINES = ("local", "ray")
PROMPT_MODES = ("clicks", "boxes", "masks")  # how prompts are made where a sequence has no prompts/<seq>.json


class EvaluateError(PlayerSegError, ValueError):
    """An evaluate job that cannot start (bad dataset, bad OUT, bad options); the message is one sentence."""


@dataclass(frozen=True)
class EvaluateJob:
    """What `python -m playerseg evaluate` was asked to do."""

    data: Path
    models: tuple[str, ...]
    out: Path
    prompts: str = "clicks"
    force: bool = False
    engine: str = "local"
    address: str | None = None  # the Ray cluster's address (None: start a local one)
    workers: int | None = None  # Ray: at most this many pairs at once (None: as many as the cluster has CPUs/GPUs)
    device: str | None = None
    quiet: bool = False
    command: str = ""


def dataset_sequences(root: Path) -> tuple[str, ...]:
    """The sequences of a DAVIS root: folders of Annotations/ that have a frame folder in JPEGImages/."""
    if not root.is_dir():
        raise EvaluateError(f"--data {root} is not a folder.")
    annotations, images = root / "Annotations", root / "JPEGImages"
    if not annotations.is_dir() or not images.is_dir():
        raise EvaluateError(
            f"--data {root} is not a DAVIS dataset: it needs Annotations/<sequence>/ and JPEGImages/<sequence>/ "
            "folders (python -m playerseg.synthetic writes one)."
        )
    names = sorted(p.name for p in annotations.iterdir() if p.is_dir() and not p.name.startswith("."))
    with_frames = tuple(name for name in names if (images / name).is_dir())
    if not with_frames:
        raise EvaluateError(f"--data {root} has no sequence with both Annotations/<seq>/ and JPEGImages/<seq>/.")
    return with_frames


def check_models(models: tuple[str, ...]) -> tuple[str, ...]:
    """Model names as given, without blanks or repeats (a repeat would share a run folder)."""
    names = tuple(name.strip() for name in models if name.strip())
    if not names:
        raise EvaluateError("--models needs at least one model name (comma-separated).")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise EvaluateError(f"--models names {', '.join(repeated)} more than once.")
    return names


def open_manifest(job: EvaluateJob, sequences: tuple[str, ...]) -> EvaluateManifest:
    """The manifest to run under: a new one for an empty OUT, the existing one (with any new models added) when
    OUT is an earlier evaluate of the same dataset. OUT holding other files, or another dataset's evaluation, is
    refused with one sentence."""
    fingerprint = fingerprint_folder(job.data)
    fresh = EvaluateManifest(
        data=str(job.data.resolve()),
        models=tuple(ModelEntry(name) for name in job.models),
        sequences=sequences,
        prompts=job.prompts,
        dataset_fingerprint=fingerprint,
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        engine=job.engine,
    )
    if not job.out.exists() or (job.out.is_dir() and not any(job.out.iterdir())):
        return fresh
    if not (job.out / MANIFEST_FILE).is_file():
        raise EvaluateError(
            f"--out {job.out} already holds files and is not an evaluate folder (no {MANIFEST_FILE}): give a new or "
            "empty folder."
        )
    earlier = EvaluateManifest.read(job.out)
    if job.force:
        return fresh
    if earlier.dataset_fingerprint != fingerprint or earlier.prompts != job.prompts:
        what = "dataset has changed" if earlier.dataset_fingerprint != fingerprint else "--prompts differ"
        raise EvaluateError(
            f"--out {job.out} holds an evaluation whose {what} since it ran: add --force to run every pair again, or "
            "give a new --out."
        )
    known = {entry.name: entry for entry in earlier.models}
    models = tuple(known.get(name, ModelEntry(name)) for name in job.models)
    return EvaluateManifest(
        data=earlier.data,
        models=models,
        sequences=sequences,
        prompts=job.prompts,
        dataset_fingerprint=fingerprint,
        created=earlier.created,
        engine=job.engine,
    )
