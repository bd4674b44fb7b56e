"""`python -m evaluation leaderboard OUT [--cached]` (run_leaderboard): the same leaderboard.csv as the evaluate run
wrote, from score.json (--cached) or rescored from the masks (edited masks show up only then); bad input is one
sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluation.leaderboard.cli import run_leaderboard
from evaluation.leaderboard.collect import collect
from evaluation.leaderboard.table import LEADERBOARD_CSV, LEADERBOARD_JSON, MODELS_CSV, write_leaderboard
from tests.evaluation.leaderboard.builders import (
    ModelSpec,
    exact,
    shifted,
    write_dataset,
    write_evaluate_folder,
    write_palette_png,
)

SPECS = (ModelSpec("sam2.1-tiny", shifted(3), latency_ms=95.0), ModelSpec("nano-pitch", exact, latency_ms=45.0))
FILES = (LEADERBOARD_CSV, MODELS_CSV, LEADERBOARD_JSON, "report.html")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    write_evaluate_folder(folder, write_dataset(tmp_path / "data"), SPECS)
    write_leaderboard(folder, collect(folder))  # what the evaluate command left
    return folder


@pytest.mark.parametrize("cached", [True, False])
def test_rerendering_reproduces_the_leaderboard(out: Path, cached: bool) -> None:
    written = (out / LEADERBOARD_CSV).read_text()
    for name in FILES:
        (out / name).unlink(missing_ok=True)
    line = run_leaderboard(str(out), cached=cached)
    assert all((out / name).is_file() for name in FILES)
    assert (out / LEADERBOARD_CSV).read_text() == written
    assert "6 of 6 pairs scored" in line and "0 failed" in line
    assert ("from score.json" if cached else "rescored from the masks") in line
    assert ". nano-pitch is more accurate than sam2.1-tiny: J&F +0." in line  # the verdict's headline


def test_edited_masks_show_up_only_when_rescored(out: Path) -> None:
    written = (out / LEADERBOARD_CSV).read_text()
    masks = out / "runs" / "nano-pitch" / "seq001" / "masks"
    for path in masks.glob("*.png"):
        write_palette_png(path, np.zeros((48, 64), dtype=np.uint8))  # the masks were cleared by hand
    run_leaderboard(str(out), cached=True)
    assert (out / LEADERBOARD_CSV).read_text() == written
    run_leaderboard(str(out), cached=False)
    assert (out / LEADERBOARD_CSV).read_text() != written


def test_a_folder_that_is_not_an_evaluate_folder_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"is not a folder") as missing:
        run_leaderboard(str(tmp_path / "nowhere"), cached=True)
    with pytest.raises(ValueError, match=r"is not an evaluate folder: it has no evaluate.json") as empty:
        run_leaderboard(str(tmp_path), cached=False)
    for error in (missing.value, empty.value):
        assert "\n" not in str(error) and str(error).endswith(").")
    assert list(tmp_path.iterdir()) == []  # nothing written
