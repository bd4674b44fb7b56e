"""One app server and one small synthetic clip shared by the app's API and browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from playerseg.synthetic import generate_dataset
from tests.e2e.app_server import serve_app


@pytest.fixture(scope="session")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10-frame 320x180 pitch clip with 2 players: videos/seq000.mp4, prompts/seq000.json, Annotations/seq000."""
    root = tmp_path_factory.mktemp("small-clip")
    generate_dataset(root, sequences=1, frames=10, players=2, width=320, height=180, seed=3)
    return root


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("app")
    with serve_app(root / "work", root / "server.log") as url:
        yield url
