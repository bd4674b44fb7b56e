"""report.html of an evaluate folder made by hand: self-contained (plotly.js inlined, nothing loaded from outside),
the verdict and every model named, RANDOM WEIGHTS only when a model has them, three stills when there are frames,
one line instead of stills when frames or a second model are missing."""

from __future__ import annotations

import json
import math
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from evaluation.leaderboard.collect import collect
from evaluation.leaderboard.report import notes, write_leaderboard_report
from evaluation.leaderboard.rows import FAILURE_FILE, PairFailure
from evaluation.leaderboard.stills import choose, label_agreement, overlay
from evaluation.leaderboard.table import build_leaderboard
from evaluation.leaderboard.verdict import verdict
from tests.evaluation.leaderboard.builders import (
    ModelSpec,
    exact,
    frozen,
    noise,
    shifted,
    write_dataset,
    write_evaluate_folder,
)

SYNTHETIC = "trained here on synthetic footage only (never saw real video)"
TRAINED = (
    ModelSpec("sam2.1-tiny", shifted(3), latency_ms=95.0, memory_mb=1200.0),
    ModelSpec("nano-pitch", exact, latency_ms=45.0, memory_mb=600.0, weights=SYNTHETIC, parameters=2_100_000),
)
RANDOM = ModelSpec("test-random", noise, latency_ms=20.0, random_weights=True, weights="random weights")
OUTSIDE_LOAD = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=[\"']?(https?:)?//", re.IGNORECASE)


def evaluate_folder(tmp_path: Path, specs: tuple[ModelSpec, ...]) -> Path:
    out = tmp_path / "out"
    write_evaluate_folder(out, write_dataset(tmp_path / "data"), specs)
    return out


def render(out: Path) -> str:
    return write_leaderboard_report(out, collect(out)).read_text(encoding="utf-8")


def still_count(page: str) -> int:
    return page.count('<img src="data:image/')  # plotly.js itself holds a data:image


@pytest.fixture(scope="module")
def trained_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    return render(evaluate_folder(tmp_path_factory.mktemp("trained"), TRAINED))


def test_the_report_is_self_contained(trained_page: str) -> None:
    assert OUTSIDE_LOAD.search(trained_page) is None
    assert trained_page.count("<script") == 1 + trained_page.count('class="plotly-graph-div"')  # plotly.js once
    assert trained_page.count("Plotly.newPlot") == 2


def test_the_report_names_each_model_and_leads_with_the_verdict(trained_page: str) -> None:
    for name in ("sam2.1-tiny", "nano-pitch"):
        assert name in trained_page
    headline = re.search(r'<p class="headline">(.*?)</p>', trained_page).group(1)
    assert headline.startswith("nano-pitch is more accurate than sam2.1-tiny: J&amp;F +0.")
    assert (
        trained_page.index('id="verdict"') < trained_page.index('id="models"') < trained_page.index('id="provenance"')
    )


def test_no_random_weights_warning_without_random_weights(trained_page: str) -> None:
    assert "RANDOM WEIGHTS" not in trained_page
    assert "nano-pitch was trained on synthetic footage only" in trained_page


def test_three_stills_of_where_the_first_two_models_differ(trained_page: str) -> None:
    assert still_count(trained_page) == 3
    assert trained_page.count('<figure class="still"') == 3
    assert "<span>ground truth</span><span>sam2.1-tiny</span><span>nano-pitch</span>" in trained_page


def test_provenance_gives_checkpoints_dataset_and_fingerprint(tmp_path: Path) -> None:
    out = evaluate_folder(tmp_path, TRAINED)
    board = collect(out)
    page = write_leaderboard_report(out, board).read_text(encoding="utf-8")
    for entry in board.manifest.models:
        assert entry.checkpoint_sha256 in page
    assert board.manifest.dataset_fingerprint in page and board.manifest.data in page
    assert "seq000, seq001, seq002" in page


def test_random_weights_are_shouted(tmp_path: Path) -> None:
    page = render(evaluate_folder(tmp_path, (*TRAINED, RANDOM)))
    assert "RANDOM WEIGHTS" in page and "test-random" in page
    assert "notes has-warning" in page


def test_failed_pairs_are_listed_with_their_reasons(tmp_path: Path) -> None:
    out = evaluate_folder(tmp_path, TRAINED)
    folder = out / "runs" / "nano-pitch" / "seq002"
    shutil.rmtree(folder)
    folder.mkdir()
    reason = "the model could not load: out of memory."
    (folder / FAILURE_FILE).write_text(json.dumps(PairFailure("nano-pitch", "seq002", reason).to_json()))
    board = collect(out)
    assert (f"nano-pitch failed on seq002: {reason}", True) in notes(board)
    page = write_leaderboard_report(out, board).read_text(encoding="utf-8")
    assert "nano-pitch failed on seq002" in page and "2 of 3 sequences" in page
    assert still_count(page) == 3  # the two sequences both scored still give three frames


def test_without_frames_or_a_second_model_the_stills_are_one_line(tmp_path: Path) -> None:
    out = evaluate_folder(tmp_path, TRAINED)
    shutil.rmtree(tmp_path / "data" / "JPEGImages")
    page = render(out)
    assert still_count(page) == 0 and "are not there, so there are no stills" in page
    single = evaluate_folder(tmp_path / "single", TRAINED[:1])
    page = render(single)
    assert still_count(page) == 0 and "only one was evaluated" in page


def test_without_ground_truth_flicker_is_not_correctness(tmp_path: Path) -> None:
    out = evaluate_folder(tmp_path, (TRAINED[0], ModelSpec("frozen", frozen)))
    scored = collect(out)
    rows = [replace(row, J=math.nan, F=math.nan, JF=math.nan) for row in scored.rows]  # as without Annotations/
    board = build_leaderboard(scored.manifest, rows, scored.failures)
    sentences = verdict(board).sentences()
    assert any("says nothing about whether either is right" in s for s in sentences)
    page = write_leaderboard_report(out, board).read_text(encoding="utf-8")
    assert "No ground truth: J&amp;F is not measured, so the flicker figures say how steady the masks are" in page
    assert "no ground truth: J&F was not measured" in page  # the charts say so instead of plotting nothing


def test_label_agreement_by_hand() -> None:
    a = np.zeros((4, 4), dtype=np.uint8)
    b = a.copy()
    assert label_agreement(a, b) == 1.0  # no object on either
    a[0, :2] = 1
    b[0, 1:3] = 1
    assert label_agreement(a, b) == pytest.approx(1 / 3)
    b[0, 1] = 2  # same pixel, other id
    assert label_agreement(a, b) == 0.0
    b[0, 0] = 255  # void pixels are left out
    assert label_agreement(a, b) == 0.0


def test_choose_prefers_frames_apart() -> None:
    found = [(0.1, "s", 0), (0.11, "s", 1), (0.12, "s", 2), (0.5, "s", 40), (0.6, "t", 3)]
    assert choose(found) == [(0.1, "s", 0), (0.5, "s", 40), (0.6, "t", 3)]
    assert choose(found[:3]) == found[:3]  # too few apart: the nearest frames fill up


def test_overlay_tints_objects_only() -> None:
    frame = np.full((6, 6, 3), 100, dtype=np.uint8)
    labels = np.zeros((6, 6), dtype=np.uint8)
    labels[1:5, 1:5] = 1
    drawn = overlay(frame, labels)
    assert (drawn[0] == 100).all() and (drawn[labels == 0] == 100).all()
    assert (drawn[2:4, 2:4] != 100).any(axis=-1).all()
