"""tests/e2e/app_server.py: the app the tests serve cannot reach the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.app_server import server_environment


def test_the_served_app_is_offline_with_its_own_empty_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # whatever the caller's environment says
    monkeypatch.setenv("HF_HUB_CACHE", "/somewhere/with/real/weights")
    env = server_environment(7860, tmp_path / "work", tmp_path / "hf")
    assert env["HF_HUB_OFFLINE"] == "1" and env["TRANSFORMERS_OFFLINE"] == "1"
    assert env["HF_HOME"] == str(tmp_path / "hf") and "HF_HUB_CACHE" not in env
    assert env["PLAYERSEG_DEVICE"] == "cpu" and env["OMP_NUM_THREADS"]
    # a test may still choose its own settings
    assert server_environment(7860, tmp_path, tmp_path / "hf", PLAYERSEG_DEVICE="cuda")["PLAYERSEG_DEVICE"] == "cuda"
