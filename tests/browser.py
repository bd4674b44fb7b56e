"""Headless Chromium for browser tests (Debian's /usr/bin/chromium driven by Playwright).

Without Chromium or Playwright a browser test skips on a developer's machine, but fails in CI (CI=true): there a
missing browser is a broken set-up, not a reason for a green run."""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import pytest

CI_TRUE = {"1", "true", "yes", "on"}
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def running_in_ci() -> bool:
    """CI sets CI=true (GitHub Actions, GitLab, this project's .ci/run runner)."""
    return os.environ.get("CI", "").strip().lower() in CI_TRUE


def browser_missing(reason: str) -> NoReturn:
    """Fail the test in CI, skip it elsewhere."""
    if running_in_ci():
        pytest.fail(f"{reason}, and CI=true: browser tests must run in CI, not skip.", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        browser_missing("Chromium is not installed (apt-get install chromium; .ci/run installs it as root)")
    return path


def playwright_sync_api() -> Any:
    try:
        return importlib.import_module("playwright.sync_api")
    except ImportError:
        browser_missing("Playwright is not installed (pip install -r requirements-dev.txt)")


@contextmanager
def chromium_pages(count: int) -> Iterator[list[Any]]:
    """`count` headless Chromium pages, each in its own browser with an empty profile (separate users)."""
    sync_api = playwright_sync_api()
    executable = chromium_path()
    with sync_api.sync_playwright() as playwright:
        profiles = [tempfile.TemporaryDirectory() for _ in range(count)]
        contexts = [
            playwright.chromium.launch_persistent_context(
                profile.name, executable_path=executable, headless=True, args=CHROMIUM_FLAGS
            )
            for profile in profiles
        ]
        try:
            yield [context.new_page() for context in contexts]
        finally:
            for context in contexts:
                context.close()
            for profile in profiles:
                profile.cleanup()


@contextmanager
def chromium_page() -> Iterator[Any]:
    """A fresh headless Chromium page with its own empty profile."""
    with chromium_pages(1) as pages:
        yield pages[0]


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


def plotly_page_offline(
    html_path: Any, min_charts: int = 1, screenshot: str | None = None, evaluate: str | None = None
) -> dict[str, Any]:
    """Open an HTML file from file:// with every other request blocked (data: URIs, e.g. embedded images, are
    local); wait until `min_charts` plotly charts have drawn their SVG. Reports chart divs, drawn charts, blocked URLs,
    console/page errors and, under "seen", what the `evaluate` JS function returned."""
    from pathlib import Path

    drawn_js = "[...document.querySelectorAll('.js-plotly-plot')].filter(d => d.querySelector('svg.main-svg'))"
    with chromium_page() as page:
        outside: list[str] = []
        errors: list[str] = []

        def only_local(route: Any) -> None:
            if route.request.url.startswith(("file://", "data:")):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(Path(html_path).as_uri(), wait_until="load")
        page.wait_for_function(f"{drawn_js}.length >= {min_charts}", timeout=15000)
        page.wait_for_timeout(300)  # let late errors or requests surface
        result = {
            "charts": page.locator(".js-plotly-plot").count(),
            "drawn": page.evaluate(f"{drawn_js}.length"),
            "outside": outside,
            "errors": errors,
            "seen": page.evaluate(evaluate) if evaluate is not None else None,
        }
        if screenshot is not None:
            page.screenshot(path=screenshot, full_page=True)
    return result
