"""tests/browser.py: a browser test without Chromium or Playwright skips on a developer's machine and fails in CI."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from tests import browser


def outcome_of(call: Callable[[], object]) -> tuple[str, str]:
    """What pytest would make of the call: ("failed" | "skipped" | "ran", message)."""
    try:
        call()
    except pytest.fail.Exception as failure:
        return "failed", str(failure)
    except pytest.skip.Exception as skip:
        return "skipped", str(skip)
    return "ran", ""


def open_a_page() -> None:
    with browser.chromium_page():
        pass


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)


@pytest.fixture
def no_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # `import playwright.sync_api` raises ImportError


@pytest.mark.parametrize("ci", ["true", "1"])
def test_missing_chromium_fails_in_ci_with_one_sentence(
    no_chromium: None, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    monkeypatch.setenv("CI", ci)
    outcome, message = outcome_of(browser.chromium_path)
    assert outcome == "failed"
    assert message.startswith("Chromium is not installed") and "CI=true" in message
    assert "\n" not in message and message.endswith(".")


def test_missing_playwright_fails_in_ci(no_playwright: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    outcome, message = outcome_of(open_a_page)
    assert outcome == "failed" and message.startswith("Playwright is not installed")


@pytest.mark.parametrize("ci", [None, "false"])
def test_outside_ci_a_missing_browser_skips(
    no_chromium: None, no_playwright: None, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    assert outcome_of(browser.chromium_path)[0] == "skipped"
    assert outcome_of(open_a_page)[0] == "skipped"
