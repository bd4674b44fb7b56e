"""One finetuning job end to end: data and split, base model, training, and the files in OUT."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evaluation.outdir import OutputExistsError, check_output_folder, staged_folder
from playerseg.finetune.data import (
    DEFAULT_VAL_FRACTION,
    FinetuneError,
    Split,
    data_fingerprint,
    load_training_root,
    read_split_file,
    split_sequences,
    usable_frames,
)
from playerseg.finetune.outputs import (
    CHECKPOINT_FILE,
    push_to_hub,
    write_checkpoint,
    write_curves_html,
    write_metrics_csv,
    write_model_json,
)
from playerseg.finetune.settings import TrainSettings
from playerseg.finetune.trainer import Trainer, TrainingResult
from playerseg.tracking.registry import FINETUNED_FROM_RANDOM_LABEL, get_spec, load_video_model


@dataclass(frozen=True)
class FinetuneJob:
    data: str  # DAVIS-layout root
    base: str  # model name or local checkpoint to start from
    out: str  # output folder (becomes a model name)
    settings: TrainSettings = field(default_factory=TrainSettings)
    device: str | None = None
    split_file: str | None = None
    val_fraction: float = DEFAULT_VAL_FRACTION
    push_to_hub: str | None = None
    overwrite: bool = False


@dataclass
class FinetuneOutcome:
    out: Path
    facts: dict[str, Any]  # what model.json holds
    training: TrainingResult
    hub_url: str | None = None
    hub_error: str | None = None


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise FinetuneError(f"Cannot write the model to {out}: it is a file, not a folder.")
    try:
        check_output_folder(out, overwrite)
    except OutputExistsError as error:
        raise FinetuneError(str(error)) from None


def _split(job: FinetuneJob, names: list[str]) -> Split:
    if job.split_file:
        return read_split_file(job.split_file, names)
    return split_sequences(names, job.val_fraction, job.settings.seed)


def run_finetune(
    job: FinetuneJob,
    report: Callable[[str], None] = lambda line: None,
    progress: Callable[[Iterable[Any], str, int], Iterable[Any]] | None = None,
) -> FinetuneOutcome:
    """Train, then write OUT/checkpoint.pt, model.json, metrics.csv and curves.html (and push when asked). The
    files are written into a hidden sibling of OUT that replaces OUT only once all of them are written."""
    out = Path(job.out)
    _check_out(out, job.overwrite)
    sequences = load_training_root(job.data)
    split = _split(job, sorted(sequences))
    base_spec = get_spec(job.base)
    if base_spec.family != "sam2":
        raise FinetuneError(
            f"{base_spec.name} is not a SAM2 model; train the U-Net baseline with python -m playerseg.unet train."
        )
    model = load_video_model(base_spec, job.device)
    report(
        f"base {base_spec.name} ({base_spec.weights_label}) on {model.device}; {len(split.train)} train and "
        f"{len(split.val)} val sequences from {job.data}"
    )
    base_sha = model.checkpoint_sha256
    training = Trainer(model, sequences, split, job.settings, report, progress).run()
    with staged_folder(out, job.overwrite) as staged:
        _, checkpoint_sha = write_checkpoint(model.predictor, staged.work)
        facts = _model_facts(job, out, model, base_sha, sequences, split, training, checkpoint_sha)
        write_model_json(facts, staged.work)
        rows = [record.row() for record in training.records]
        write_metrics_csv(rows, staged.work)
        write_curves_html(rows, staged.work, f"Finetuning {facts['name']} from {base_spec.name}")
    outcome = FinetuneOutcome(out, facts, training)
    if job.push_to_hub:
        try:
            outcome.hub_url = push_to_hub(out, job.push_to_hub)
        except RuntimeError as error:
            outcome.hub_error = str(error)
    return outcome


def _model_facts(
    job: FinetuneJob,
    out: Path,
    model: Any,
    base_sha: str,
    sequences: dict[str, Any],
    split: Split,
    training: TrainingResult,
    checkpoint_sha: str,
) -> dict[str, Any]:
    spec = model.spec
    random_base = spec.random_weights
    return {
        "name": out.resolve().name,
        "base": spec.name,
        "base_checkpoint_sha256": base_sha,
        "config": spec.config,
        "image_size": spec.image_size,
        "random_base": random_base,
        "weights": FINETUNED_FROM_RANDOM_LABEL if random_base else "finetuned",
        "stages": list(job.settings.stages),
        "hyperparameters": asdict(job.settings),
        "data": {
            "root": str(Path(job.data).resolve()),
            "files_sha256": data_fingerprint(job.data, sequences),
            "split": split.to_dict(),
            "frames": {
                side: sum(len(usable_frames(sequences[n])) for n in names)
                for side, names in (("train", split.train), ("val", split.val))
            },
        },
        "checkpoint": CHECKPOINT_FILE,
        "checkpoint_sha256": checkpoint_sha,
        "val_before": training.val_before.to_dict(),
        "val_after": training.val_after.to_dict(),
        "best_epoch": {stage.stage: stage.best_epoch for stage in training.stages},
        "epochs_run": {stage.stage: len(stage.epochs) - 1 for stage in training.stages},
        "stopped_early": {stage.stage: stage.stopped_early for stage in training.stages},
        "device": model.device,
        "training_seconds": round(training.seconds, 1),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
