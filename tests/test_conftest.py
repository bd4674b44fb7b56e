"""tests/conftest.py: the test process and its subprocesses run on pinned threads and cannot reach the Hub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

from tests.conftest import REPO_ROOT

CHILD_REPORT = (
    "import os, torch, huggingface_hub.constants as hub; "
    "print(os.environ.get('OMP_NUM_THREADS'), os.environ.get('MKL_NUM_THREADS'), torch.get_num_threads(), "
    "hub.HF_HUB_OFFLINE, os.environ.get('TRANSFORMERS_OFFLINE'), hub.HF_HUB_CACHE)"
)


def child_report(code: str, env: dict[str, str]) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.split()


def test_torch_runs_on_the_pinned_thread_count_here_and_in_subprocesses() -> None:
    threads = os.environ["OMP_NUM_THREADS"]
    assert "MKL_NUM_THREADS" in os.environ
    assert torch.get_num_threads() == int(threads)
    assert child_report(CHILD_REPORT, dict(os.environ))[:3] == [threads, os.environ["MKL_NUM_THREADS"], threads]


def test_two_threads_unless_the_caller_says_otherwise() -> None:
    env = {key: value for key, value in os.environ.items() if key not in {"OMP_NUM_THREADS", "MKL_NUM_THREADS"}}
    code = (
        "import tests.conftest, os, torch; "
        "print(os.environ.get('OMP_NUM_THREADS'), os.environ.get('MKL_NUM_THREADS'), torch.get_num_threads())"
    )
    assert child_report(code, env) == ["2", "2", "2"]
    assert child_report(code, {**env, "OMP_NUM_THREADS": "1"}) == ["1", "1", "1"]


def test_the_session_and_its_subprocesses_are_offline_with_an_empty_cache() -> None:
    import huggingface_hub.constants as hub

    home = Path(os.environ["HF_HOME"])
    assert home.name.startswith("playerseg-tests-hf-") and home.is_dir()
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    # huggingface_hub reads its settings once, on import: it must have been imported after the set-up
    assert hub.HF_HUB_OFFLINE and Path(hub.HF_HUB_CACHE).is_relative_to(home)
    offline, transformers_offline, cache = child_report(CHILD_REPORT, dict(os.environ))[3:]
    assert (offline, transformers_offline) == ("True", "1") and Path(cache).is_relative_to(home)
