"""Headless Chromium for browser tests (Debian's /usr/bin/chromium driven by Playwright); skips when absent."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    return path


@contextmanager
def chromium_page() -> Iterator[Any]:
    """A fresh headless Chromium page with its own empty profile."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_path()
    with tempfile.TemporaryDirectory() as profile, sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def video_plays_in_chromium(video_path: str, timeout_ms: int = 20000) -> dict[str, Any]:
    """Open the video in a page, play it to the end, and report what Chromium saw (error, size, duration)."""
    import http.server
    import threading
    from functools import partial
    from pathlib import Path

    folder = Path(video_path).parent
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{Path(video_path).name}"
        with chromium_page() as page:
            page.set_content(f'<video id="v" src="{url}" muted playsinline></video>')
            return page.evaluate(
                """async (timeout) => {
                    const v = document.getElementById('v');
                    const ended = new Promise((resolve) => {
                        v.addEventListener('ended', () => resolve('ended'));
                        v.addEventListener('error', () => resolve('error'));
                        setTimeout(() => resolve('timeout'), timeout);
                    });
                    try { await v.play(); } catch (e) { return {outcome: 'play failed: ' + e}; }
                    const outcome = await ended;
                    return {outcome, error: v.error ? v.error.code : null, width: v.videoWidth,
                            height: v.videoHeight, duration: v.duration};
                }""",
                timeout_ms,
            )
    finally:
        server.shutdown()
