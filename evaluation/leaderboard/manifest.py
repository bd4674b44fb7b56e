"""evaluate.json at the top of an evaluate OUT folder: what was asked (dataset, models in order, prompts), the
models' facts (parameters, weights, checkpoint sha256) and the dataset's fingerprint. `python -m playerseg evaluate`
writes it before the first pair runs; `python -m evaluation leaderboard OUT` reads it back."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

MANIFEST_FILE = "evaluate.json"
RUNS_FOLDER = "runs"
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclass(frozen=True)
class ModelEntry:
    """A model as the report names it. parameters / checkpoint_sha256 / weights are None until it has loaded."""

    name: str
    parameters: int | None = None
    checkpoint_sha256: str | None = None
    weights: str | None = None  # which kind of weights: "random weights ...", "trained here on synthetic ..."
    random_weights: bool | None = None


@dataclass(frozen=True)
class EvaluateManifest:
    """What one evaluate OUT folder holds."""

    data: str  # the dataset root, absolute
    models: tuple[ModelEntry, ...]
    sequences: tuple[str, ...]
    prompts: str  # "clicks", "boxes" or "masks": how prompts were made where prompts/<seq>.json is absent
    dataset_fingerprint: str
    created: str
    engine: str = "local"
    device: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.models)

    def with_model(self, entry: ModelEntry) -> EvaluateManifest:
        """The manifest with one model's facts filled in (matched by name)."""
        return replace(self, models=tuple(entry if m.name == entry.name else m for m in self.models))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["models"] = [asdict(m) for m in self.models]
        data["sequences"] = list(self.sequences)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvaluateManifest:
        return cls(
            data=str(data["data"]),
            models=tuple(ModelEntry(**m) for m in data["models"]),
            sequences=tuple(data["sequences"]),
            prompts=str(data["prompts"]),
            dataset_fingerprint=str(data["dataset_fingerprint"]),
            created=str(data["created"]),
            engine=str(data.get("engine", "local")),
            device=str(data.get("device", "")),
            extra=dict(data.get("extra", {})),
        )

    def write(self, out: str | Path) -> Path:
        path = Path(out) / MANIFEST_FILE
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(self.to_json(), indent=2))
        temporary.replace(path)
        return path

    @classmethod
    def read(cls, out: str | Path) -> EvaluateManifest:
        path = Path(out) / MANIFEST_FILE
        if not path.is_file():
            raise ValueError(
                f"{out} is not an evaluate folder: it has no {MANIFEST_FILE} (written by python -m playerseg evaluate)."
            )
        try:
            return cls.from_json(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path} is not a readable evaluate manifest ({error}).") from None


def safe_model_folder(name: str) -> str:
    """A model name made path-safe for OUT/runs/<model>/: plain names stay as they are, path separators and other
    characters become '_', and a name that was changed gets a short hash so two names never share a folder."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "model"
    if cleaned == name:
        return name
    return f"{cleaned[:80]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def pair_folder(out: str | Path, model: str, sequence: str) -> Path:
    """OUT/runs/<model made path-safe>/<sequence>/."""
    return Path(out) / RUNS_FOLDER / safe_model_folder(model) / sequence


def fingerprint_folder(root: str | Path) -> str:
    """sha256 over the dataset's files, sorted by relative path: the content of annotations, prompts and meta.json,
    the name and size of frames and videos (hashing every JPEG of a season would read it all once more). The same
    dataset copied elsewhere has the same fingerprint; an edited annotation changes it."""
    base = Path(root)
    digest = hashlib.sha256()
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        relative = path.relative_to(base)
        if any(part.startswith(".") for part in relative.parts):
            continue
        digest.update(f"{relative.as_posix()}\0{path.stat().st_size}\n".encode())
        if relative.parts[0] not in ("JPEGImages", "videos"):
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
