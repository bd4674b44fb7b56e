"""The app on an offline machine with no hub weights (no PLAYERSEG_MODELS set): the default pair is the two models
trained here, and the example clip shows their masks, labelled as trained on synthetic footage only. Screenshot in
test-output/browser/offline-default-*.png (look at it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import chromium_page
from tests.conftest import REPO_ROOT
from tests.e2e.app_server import serve_app

SHOTS = REPO_ROOT / "test-output" / "browser"
RUN_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def offline_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("offline-app")
    empty_models = root / "no-models"
    empty_models.mkdir()
    # PLAYERSEG_MODELS empty: the app's own defaults, as after `make install && .venv/bin/python app.py`
    with serve_app(
        root / "work", root / "server.log", PLAYERSEG_MODELS="", PLAYERSEG_MODELS_DIR=str(empty_models)
    ) as url:
        yield url


def _selected(page: Any, dropdown: str) -> str:
    return str(page.locator(f"{dropdown} input").input_value())


def test_offline_the_example_shows_the_models_trained_here(offline_url: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        page.set_viewport_size({"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(offline_url, wait_until="load")
        page.get_by_role("button", name="Load the example clip").click()
        page.wait_for_function("() => document.querySelector('#clip-info')?.innerText.includes('example')")
        page.get_by_role("tab", name="2. Side by side").click()
        assert (_selected(page, "#model-a"), _selected(page, "#model-b")) == ("nano-generalist", "nano-pitch")
        facts = page.locator("#model-facts").inner_text()
        assert "synthetic footage only" in facts
        page.get_by_role("button", name="Run both models").click()
        page.wait_for_function(
            "() => (document.querySelector('#run-status') || {}).innerText?.includes('done')", timeout=RUN_TIMEOUT_MS
        )
        status = page.locator("#run-status").inner_text()
        assert "RANDOM WEIGHTS" not in status and "failed" not in status.lower()
        page.wait_for_function(
            "() => { const v = document.querySelector('#video-side-by-side video'); return v && v.readyState >= 2; }",
            timeout=30_000,
        )
        page.screenshot(path=str(SHOTS / "offline-default-side-by-side.png"), full_page=True)
        page.get_by_role("tab", name="6. Accuracy").click()
        page.wait_for_function("() => document.querySelector('#accuracy-note')?.innerText.includes('J&F against')")
        note = page.locator("#accuracy-note").inner_text()
        assert "random" not in note.lower()
        page.screenshot(path=str(SHOTS / "offline-default-accuracy.png"), full_page=True)
        assert errors == []
