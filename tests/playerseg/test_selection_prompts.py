"""Prompts checked against the clip and mapped once onto the processed frames (SelectionPrompts): frames and pixels
mapped, a prompt between strided frames moved with a notice, bad prompts refused before anything runs, and the
lower layers refusing prompts mapped onto another selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from playerseg.io.prompts import Prompt, PromptError, PromptSet
from playerseg.runs.pipeline import open_selection
from playerseg.runs.selection_prompts import SelectionPrompts
from playerseg.synthetic.dataset import generate_dataset


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("selection-prompts")
    generate_dataset(root, frames=8, players=2, width=320, height=180, seed=2)
    return root / "videos" / "seq000.mp4"


def test_prompts_are_mapped_onto_the_processed_frames_and_pixels(clip: Path) -> None:
    prompts = PromptSet([Prompt.from_click(2, 1, 100, 90), Prompt.from_click(3, 2, 200, 60)])
    with open_selection(str(clip), stride=2, max_side=160) as store:
        selected = SelectionPrompts.check(prompts, store)
    assert selected.source is prompts and selected.frames == (0, 2, 4, 6)
    first, second = selected.mapped.prompts
    assert (first.frame, first.points[0].x, first.points[0].y) == (1, 50.0, 45.0)
    assert second.frame in (1, 2) and (second.points[0].x, second.points[0].y) == (100.0, 30.0)
    assert selected.moved == (
        f"prompt for object 2 on frame 3 moved to processed frame {(0, 2, 4, 6)[second.frame]} (stride 2)",
    )


def test_bad_prompts_are_refused_with_the_same_sentences(clip: Path) -> None:
    with open_selection(str(clip), start=2, max_frames=4) as store:
        with pytest.raises(PromptError, match=r"is on frame 0, outside the processed frames 2\.\.5"):
            SelectionPrompts.check(PromptSet([Prompt.from_click(0, 1, 10, 10)]), store)
        with pytest.raises(PromptError, match="past the clip's last frame 5"):
            SelectionPrompts.check(PromptSet([Prompt.from_click(6, 1, 10, 10)]), store)
        with pytest.raises(PromptError):
            SelectionPrompts.check(PromptSet([Prompt.from_click(2, 1, 999, 10)]), store)  # off the picture


def test_prompts_mapped_onto_another_selection_are_refused(clip: Path) -> None:
    prompts = PromptSet([Prompt.from_click(0, 1, 100, 90)])
    with open_selection(str(clip), max_frames=4) as short, open_selection(str(clip)) as whole:
        selected = SelectionPrompts.check(prompts, short)
        selected.check_store(short)
        with pytest.raises(ValueError, match="another selection"):
            selected.check_store(whole)
