"""Building the nano models: synthetic data, the one finetune loop, fp16 weights, held-out figures, model.json.

    build_models(["nano-generalist", "nano-pitch"], out_dir)   # what `make models` runs

A model whose folder is up to date (model.json's build key equals the current one and the checkpoint's sha256
matches) is kept. Any other state (missing, stale, partial or edited) is rebuilt, with a notice saying why. A build
writes into a hidden sibling folder that replaces the model's folder only once every file is written.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from evaluation.outdir import staged_folder
from playerseg.finetune.data import load_training_root
from playerseg.finetune.run import FinetuneJob, run_finetune
from playerseg.finetune.validate import validate
from playerseg.nano.key import BUILD_THREADS, build_key
from playerseg.nano.recipe import HELD_OUT, RECIPES, DataRecipe, NanoRecipe, quick
from playerseg.synthetic.dataset import generate_dataset
from playerseg.tracking import nano_store
from playerseg.tracking.registry import get_spec, load_video_model

Report = Callable[[str], None]
Progress = Callable[[Iterable[Any], str, int], Iterable[Any]] | None


@dataclass(frozen=True)
class FolderState:
    """What a model's folder holds compared with what the current code would build."""

    status: str  # "up to date", "missing", "stale" or "corrupted"
    reason: str = ""


@dataclass(frozen=True)
class BuiltModel:
    name: str
    folder: Path
    rebuilt: bool
    seconds: float
    state_before: FolderState


def folder_state(folder: Path, key: str) -> FolderState:
    """Compare a model folder with the key the current code and recipe give."""
    try:
        facts = json.loads((folder / nano_store.MODEL_JSON).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return FolderState("missing", f"{folder / nano_store.MODEL_JSON} does not exist")
    except (OSError, json.JSONDecodeError) as error:
        return FolderState("corrupted", f"model.json cannot be read ({error})")
    checkpoint = folder / nano_store.CHECKPOINT_FILE
    if not checkpoint.is_file():
        return FolderState("corrupted", "checkpoint.pt is missing (an interrupted build?)")
    if nano_store.file_sha256(checkpoint) != facts.get("checkpoint_sha256"):
        return FolderState("corrupted", "checkpoint.pt's sha256 is not the one its build recorded (partial or edited)")
    if facts.get("build_key") != key:
        return FolderState("stale", "its recipe or the code that builds it changed since it was built")
    return FolderState("up to date")


def model_keys(names: Iterable[str], fast: bool = False) -> dict[str, str]:
    """Each model's build key, bases first (a specialist's key includes its generalist's)."""
    keys: dict[str, str] = {}
    for name in RECIPES:  # recipes are listed bases first
        recipe = quick(RECIPES[name]) if fast else RECIPES[name]
        keys[name] = build_key(recipe, keys.get(recipe.base))
    wanted = set(names)
    return {name: key for name, key in keys.items() if name in wanted}


def build_models(
    names: Iterable[str],
    out_dir: Path,
    force: bool = False,
    fast: bool = False,
    report: Report = print,
    progress: Progress = None,
) -> list[BuiltModel]:
    """Build (or keep, when up to date) the named nano models into out_dir/<name>; a base model a wanted model
    needs is built (or kept) first."""
    wanted = _with_bases(names)
    keys = model_keys(wanted, fast)
    built: list[BuiltModel] = []
    for name in wanted:
        recipe = quick(RECIPES[name]) if fast else RECIPES[name]
        folder = out_dir / name
        state = folder_state(folder, keys[name])
        if state.status == "up to date" and not force:
            report(f"{name}: up to date in {folder}")
            built.append(BuiltModel(name, folder, False, 0.0, state))
            continue
        why = "forced" if state.status == "up to date" else f"{state.status}: {state.reason}"
        report(f"{name}: building ({why}); expected about {recipe.minutes:.0f} min on {BUILD_THREADS} CPU cores")
        started = time.perf_counter()
        build_one(recipe, keys[name], out_dir, report, progress, fast)
        built.append(BuiltModel(name, folder, True, time.perf_counter() - started, state))
    return built


def _with_bases(names: Iterable[str]) -> list[str]:
    wanted = set(names)
    for name in list(wanted):
        base = RECIPES[name].base
        if base in RECIPES:
            wanted.add(base)
    return [name for name in RECIPES if name in wanted]


def build_one(
    recipe: NanoRecipe, key: str, out_dir: Path, report: Report, progress: Progress, fast: bool = False
) -> Path:
    """Train one model from its recipe into out_dir/<name> (replaced whole once written); `fast`: a quick
    recipe, judged on small held-out clips."""
    import torch

    torch.set_num_threads(BUILD_THREADS)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="playerseg-nano-") as scratch:
        work = Path(scratch)
        data_seconds = _generate(recipe.data, work / "data")
        base = str(out_dir / recipe.base) if recipe.base in RECIPES else recipe.base
        job = FinetuneJob(
            data=str(work / "data"),
            base=base,
            out=str(work / "model"),
            settings=recipe.train,
            device="cpu",
            val_fraction=recipe.val_fraction,
        )
        outcome = run_finetune(job, report=lambda line: report(f"{recipe.name}: {line}"), progress=progress)
        sha = _to_half(work / "model" / nano_store.CHECKPOINT_FILE)
        held_out = held_out_figures(work / "model", work / "held-out", fast)
        facts = _facts(recipe, key, outcome.facts, sha, held_out, data_seconds, time.perf_counter() - started)
        with staged_folder(out_dir / recipe.name, overwrite=True) as staged:
            for path in (work / "model").iterdir():
                if path.name != nano_store.MODEL_JSON:
                    path.replace(staged.work / path.name)
            text = json.dumps(facts, indent=2) + "\n"
            (staged.work / nano_store.MODEL_JSON).write_text(text, encoding="utf-8")
    report(f"{recipe.name}: built in {out_dir / recipe.name} ({(time.perf_counter() - started) / 60:.1f} min)")
    return out_dir / recipe.name


def _generate(data: DataRecipe, out: Path) -> float:
    started = time.perf_counter()
    generate_dataset(
        out, data.sequences, data.frames, data.players, data.width, data.height, seed=data.seed, mode=data.mode
    )
    return time.perf_counter() - started


def _to_half(checkpoint: Path) -> str:
    """Store the weights as fp16 (half the size; the model computes in fp32 after loading); returns the sha256."""
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["model"]
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    torch.save({"model": half}, checkpoint)
    return nano_store.file_sha256(checkpoint)


def held_out_figures(model_folder: Path, data_dir: Path, fast: bool = False) -> dict[str, Any]:
    """J&F and flicker of a built model (its fp16 weights) on the held-out pitch and generic clips."""
    model = load_video_model(get_spec(str(model_folder)), "cpu")
    figures: dict[str, Any] = {}
    for kind, data in (("pitch", HELD_OUT.pitch), ("generic", HELD_OUT.generic)):
        if fast:  # quick builds judge themselves on small clips
            data = replace(data, sequences=1, frames=4, players=2, width=160, height=96)
        folder = data_dir / kind
        if not folder.is_dir():
            _generate(data, folder)
        sequences = load_training_root(folder)
        figures[kind] = {"data": data.__dict__, **validate(model, sequences, sorted(sequences), "click").to_dict()}
    return figures


def _facts(
    recipe: NanoRecipe,
    key: str,
    trained: dict[str, Any],
    sha: str,
    held_out: dict[str, Any],
    data_seconds: float,
    seconds: float,
) -> dict[str, Any]:
    """model.json of a nano model: the finetune facts, corrected for what the model is, plus the build's facts."""
    import torch

    data = {k: v for k, v in trained["data"].items() if k != "root"}
    return {
        **trained,
        "name": recipe.name,
        "weights": nano_store.SYNTHETIC_ONLY_LABEL,
        "random_base": False,
        "synthetic_only": True,
        "description": nano_store.DESCRIPTIONS[recipe.name],
        "checkpoint_sha256": sha,
        "checkpoint_dtype": "float16",
        "data": {**data, "synthetic": recipe.data.__dict__},
        "recipe": recipe.to_dict(),
        "build_key": key,
        "build": {
            "seconds": round(seconds, 1),
            "data_seconds": round(data_seconds, 1),
            "threads": BUILD_THREADS,
            "torch": torch.__version__,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
            "command": "make models",
        },
        "held_out": held_out,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
