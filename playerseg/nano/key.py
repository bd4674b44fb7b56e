"""The build key: a sha256 of everything that decides a nano model's weights (its recipe, the code that generates
its data and trains it, the architecture's yaml, the torch and sam2 versions and the thread count). Equal keys and
equal seeds give the same weights; model.json records the key, so `make models` knows when a model is stale."""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from playerseg.nano.recipe import NanoRecipe

PACKAGE = Path(__file__).resolve().parents[1]
# the code whose behaviour makes the weights; tests, UI and reporting code do not
CODE_GLOBS = (
    "synthetic/*.py",
    "finetune/*.py",
    "nano/*.py",
    "tracking/configs/*.yaml",
    "tracking/frames.py",
    "io/masks.py",
)
BUILD_THREADS = 2  # torch's CPU reductions depend on the thread count: builds pin it


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "absent"


# what turns the weights into a command or a key, not what makes them: editing these keeps the models up to date
NOT_WEIGHTS = ("__main__.py", "key.py")


def code_files() -> list[Path]:
    """The files whose bytes the key hashes: CODE_GLOBS without command lines and this module."""
    found = {path for pattern in CODE_GLOBS for path in PACKAGE.glob(pattern)}
    return sorted(path for path in found if path.name not in NOT_WEIGHTS)


def build_key(recipe: NanoRecipe, base_key: str | None = None) -> str:
    """sha256 over the recipe, the code files' bytes, the versions and, for a model finetuned from another nano
    model, that model's key (a new generalist makes a new specialist)."""
    digest = hashlib.sha256()
    facts = {
        "recipe": recipe.to_dict(),
        "torch": _version("torch"),
        "sam2": _version("sam2"),
        "threads": BUILD_THREADS,
        "base_key": base_key,
    }
    digest.update(json.dumps(facts, sort_keys=True).encode())
    for path in code_files():
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
