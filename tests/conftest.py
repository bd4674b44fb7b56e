"""Shared fixtures: where the real clips live (../shared/data), skipped with a reason when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The real clips folder: $PLAYERSEG_SHARED_DATA, else ../shared/data beside the checkout."""
    override = os.environ.get("PLAYERSEG_SHARED_DATA")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_dir()
    if not root.is_dir():
        pytest.skip(f"real clips folder {root} is absent (set PLAYERSEG_SHARED_DATA to use it)")
    return root


@pytest.fixture(scope="session")
def juggle_clip(shared_data: Path) -> Path:
    path = shared_data / "clips" / "juggle_1280x720_24fps.mp4"
    if not path.is_file():
        pytest.skip(f"real clip {path} is absent")
    return path


@pytest.fixture(scope="session")
def judo_dir(shared_data: Path) -> Path:
    path = shared_data / "judo"
    if not (path / "JPEGImages").is_dir():
        pytest.skip(f"real DAVIS folder {path} is absent")
    return path
