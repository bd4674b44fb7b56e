"""Issue 19's "behaviour unchanged": run folders, reports, CLI messages and the app's /compare answer on a small
synthetic clip equal the golden manifest (tests/golden/expected.json, made from the code before the restructuring),
timings and other run-to-run noise aside (the rules: tests/golden/manifest.py).

The outputs come from tests/golden/produce.py, which uses only the CLIs and the app over HTTP, so it runs unchanged
against any version of the code. PLAYERSEG_GOLDEN_TREE=/path/to/checkout runs it against another checkout's code (for
example the pre-change commit, to check that expected.json still matches the code it was made from).
About 90 s on one thread; one CPU (the producer pins itself: x264's bytes depend on the CPUs it sees).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.golden.manifest import build_manifest, differences

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN = REPO_ROOT / "tests" / "golden"
TREE_VARIABLE = "PLAYERSEG_GOLDEN_TREE"
SHOWN = 40  # differing files listed in a failure


def test_outputs_equal_the_golden_manifest(tmp_path: Path) -> None:
    tree = Path(os.environ.get(TREE_VARIABLE) or REPO_ROOT).resolve()
    out = tmp_path / "golden"
    proc = subprocess.run(
        [sys.executable, str(GOLDEN / "produce.py"), str(out), "--tree", str(tree)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=900,
    )
    # compared even when a step failed (produce.py writes what it can): the differences say what the failure changed
    report = differences(json.loads((GOLDEN / "expected.json").read_text()), build_manifest(out))
    if proc.returncode != 0:
        report.insert(0, f"produce.py failed (exit status {proc.returncode}):\n{proc.stderr[-4000:]}")
    assert not report, (
        f"the outputs of {tree} differ from tests/golden/expected.json (if on purpose, regenerate it: "
        "tests/golden/README.md):\n"
        + "\n".join(report[:SHOWN])
        + (f"\n... and {len(report) - SHOWN} more files" if len(report) > SHOWN else "")
    )
