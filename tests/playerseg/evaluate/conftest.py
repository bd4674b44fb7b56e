"""A 6-sequence synthetic dataset and one evaluate run over it, shared by the evaluate tests (module scope is not
enough: several files read them, so they are built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

MODELS = ("test-sam2.1-tiny-128", "random-sam2.1-nano")
UNAVAILABLE = "sam2.1-large"  # offline in tests (HF_HUB_OFFLINE=1, empty HF_HOME): it cannot load


@pytest.fixture(scope="session")
def six_sequences(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from playerseg.synthetic.dataset import generate_dataset

    root = tmp_path_factory.mktemp("evaluate-data") / "data"
    generate_dataset(root, sequences=6, frames=6, players=2, width=192, height=108, seed=11)
    return root


@pytest.fixture(scope="session")
def evaluated(six_sequences: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """OUT of `evaluate` with two test-size models and one that cannot load, and the command's exit code."""
    from playerseg.__main__ import main

    out = tmp_path_factory.mktemp("evaluate-out") / "out"
    models = ",".join((*MODELS, UNAVAILABLE))
    code = main(["evaluate", "--data", str(six_sequences), "--models", models, "--out", str(out), "--quiet"])
    return out, code
