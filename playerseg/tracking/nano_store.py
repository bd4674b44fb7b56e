"""Where the nano models trained here live, and the check that their weights are the ones their build made.

`nano-generalist` (the nano SAM2 architecture trained from scratch on generic synthetic footage: a stand-in for a
zero-shot model) and `nano-pitch` (the generalist finetuned on synthetic pitch footage) are built by one command,
`make models` (`python -m playerseg.nano build`), into playerseg/tracking/nano_weights/<name>/: checkpoint.pt (fp16
weights), model.json (data, seeds, steps, timings, validation figures, the checkpoint's sha256 and the build key),
metrics.csv and curves.html. PLAYERSEG_NANO_WEIGHTS points elsewhere (tests, a rebuilt copy).

A checkpoint is loaded only when its sha256 equals the one model.json recorded: an interrupted build or an edited
file is refused with one sentence saying how to rebuild it, never loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from playerseg.errors import PlayerSegError

SOURCE = "nano"
NANO_MODELS = ("nano-generalist", "nano-pitch")
SYNTHETIC_ONLY_LABEL = "trained here on synthetic footage only (never saw real video)"
DESCRIPTIONS = {
    "nano-generalist": "nano SAM2 (4M parameters, 256 px) trained from scratch on generic synthetic clips "
    "(a zero-shot stand-in), " + SYNTHETIC_ONLY_LABEL,
    "nano-pitch": "nano-generalist finetuned on synthetic pitch clips (the specialist), " + SYNTHETIC_ONLY_LABEL,
}
ENV_WEIGHTS_DIR = "PLAYERSEG_NANO_WEIGHTS"
DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parent / "nano_weights"
CHECKPOINT_FILE = "checkpoint.pt"
MODEL_JSON = "model.json"
REBUILD_HINT = "rebuild it with `make models` (python -m playerseg.nano build; about 45 minutes on 2 CPU cores)"


class NanoWeightsError(PlayerSegError, RuntimeError):
    """A nano model's weights are missing, partial or edited; the message says how to rebuild them."""


def weights_dir() -> Path:
    return Path(os.environ.get(ENV_WEIGHTS_DIR) or DEFAULT_WEIGHTS_DIR)


def model_folder(name: str) -> Path:
    if name not in NANO_MODELS:
        raise NanoWeightsError(f"{name!r} is not a nano model: use one of {', '.join(NANO_MODELS)}.")
    return weights_dir() / name


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def read_facts(name: str) -> dict[str, Any]:
    """The model.json of a nano model (NanoWeightsError when missing or unreadable)."""
    path = model_folder(name) / MODEL_JSON
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NanoWeightsError(f"{name} is not built: {path} is missing; {REBUILD_HINT}.") from None
    except (OSError, json.JSONDecodeError) as error:
        raise NanoWeightsError(f"{name}'s {path} cannot be read ({error}); {REBUILD_HINT}.") from None
    if not isinstance(facts, dict) or not isinstance(facts.get("checkpoint_sha256"), str):
        raise NanoWeightsError(f"{name}'s {path} records no checkpoint_sha256; {REBUILD_HINT}.")
    return facts


def checked_checkpoint(name: str) -> Path:
    """The checkpoint of a nano model after checking its sha256 against model.json; NanoWeightsError otherwise."""
    facts = read_facts(name)
    checkpoint = model_folder(name) / CHECKPOINT_FILE
    if not checkpoint.is_file():
        raise NanoWeightsError(f"{name} is not built: {checkpoint} is missing; {REBUILD_HINT}.")
    actual = file_sha256(checkpoint)
    if actual != facts["checkpoint_sha256"]:
        raise NanoWeightsError(
            f"{name}'s {checkpoint} is partial or edited (sha256 {actual[:12]}... is not the "
            f"{facts['checkpoint_sha256'][:12]}... its build recorded), so it is not loaded; {REBUILD_HINT}."
        )
    return checkpoint
