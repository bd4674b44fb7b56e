"""A bad prompts file given to `segment` or `compare` is one sentence on stderr and exit code 2, never a traceback:
a binary file, an empty prompts list, an object with negative points only, an unknown key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playerseg.__main__ import main

EXIT_USER_ERROR = 2
GOOD = {"frame": 0, "object_id": 1, "points": [[20, 20, 1]], "box": None}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from playerseg.synthetic.dataset import generate_dataset

    out = tmp_path_factory.mktemp("synthetic")
    generate_dataset(out, sequences=1, frames=2, players=1, width=96, height=64, seed=1)
    return out / "videos" / "seq000.mp4"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 8, "is not UTF-8 text"),
        (json.dumps({"version": 1, "prompts": []}).encode(), '"prompts" is empty'),
        (
            json.dumps({"version": 1, "prompts": [{**GOOD, "points": [[20, 20, 0]]}]}).encode(),
            "Object 1 has only negative points",
        ),
        (json.dumps({"version": 1, "prompts": [GOOD], "objects": ["striker"]}).encode(), "unknown key(s) objects"),
    ],
    ids=["binary", "empty", "negative-only", "unknown-key"],
)
@pytest.mark.parametrize("command", ["segment", "compare"])
def test_a_bad_prompts_file_is_one_sentence_and_exit_2(
    command: str, content: bytes, message: str, clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = tmp_path / "uploads" / "prompts.json"
    prompts.parent.mkdir()
    prompts.write_bytes(content)
    models = (
        ["--model", "test-sam2.1-tiny-128"]
        if command == "segment"
        else ["--model-a", "test-sam2.1-tiny-128", "--model-b", "test-sam2.1-tiny-128"]
    )
    code = main([command, str(clip), *models, "--prompts", str(prompts), "--out", str(tmp_path / "out")])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == EXIT_USER_ERROR
    assert len(lines) == 1 and message in lines[0] and "prompts.json" in lines[0], lines
    assert str(prompts.parent) not in lines[0]  # the file's own name, not where it lies
    assert not (tmp_path / "out").exists()
