"""One app server and one small synthetic clip shared by the app's API and browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from playerseg.synthetic.dataset import generate_dataset
from tests.conftest import REPO_ROOT
from tests.e2e.app_server import serve_app


@pytest.fixture(scope="session")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10-frame 320x180 pitch clip with 2 players: videos/seq000.mp4, prompts/seq000.json, Annotations/seq000."""
    root = tmp_path_factory.mktemp("small-clip")
    generate_dataset(root, sequences=1, frames=10, players=2, width=320, height=180, seed=3)
    return root


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models/ folder holding one real (short) finetune of the test model: models/team-demo."""
    root = tmp_path_factory.mktemp("models")
    data = root / "data"
    generate_dataset(data, sequences=2, frames=3, players=2, width=160, height=90, seed=5)
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "playerseg.finetune",
            "--data",
            str(data),
            "--base",
            "test-sam2.1-tiny-128",
            "--out",
            str(root / "models" / "team-demo"),
            "--epochs",
            "1",
            "--max-steps-per-epoch",
            "1",
            "--device",
            "cpu",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environment,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return root / "models"


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[str]:
    root = tmp_path_factory.mktemp("app")
    with serve_app(root / "work", root / "server.log", PLAYERSEG_MODELS_DIR=str(models_dir)) as url:
        yield url
