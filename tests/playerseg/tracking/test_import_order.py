"""Every tracking module can be the first one a program imports (a script that starts with
`from playerseg.tracking.sam3_model import ...` must work): each is imported alone in a fresh interpreter, and the
model names every family registers are there after it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import playerseg.tracking

CHECK = """
import importlib, sys
importlib.import_module(sys.argv[1])
from playerseg.tracking.registry import BUILTIN_MODELS
assert {"test-sam3", "random-sam3", "sam2.1-large"} <= set(BUILTIN_MODELS), sorted(BUILTIN_MODELS)
"""


def test_each_tracking_module_imports_first_in_a_fresh_interpreter() -> None:
    folder = Path(playerseg.tracking.__file__).parent
    modules = sorted(f"playerseg.tracking.{path.stem}" for path in folder.glob("*.py") if path.stem != "__init__")
    assert "playerseg.tracking.sam3_model" in modules
    failed = {}
    for module in modules:
        done = subprocess.run([sys.executable, "-c", CHECK, module], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            failed[module] = done.stderr.strip().splitlines()[-1]
    assert failed == {}
