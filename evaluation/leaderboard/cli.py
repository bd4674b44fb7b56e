"""`python -m evaluation leaderboard OUT [--cached]`: an evaluate folder's leaderboard.csv, models.csv,
leaderboard.json and report.html written again from its run folders, without running any model. By default every
finished run folder is scored again against the dataset's ground truth (edited masks or annotations show up);
`--cached` reuses each pair's score.json."""

from __future__ import annotations

from pathlib import Path

from evaluation.leaderboard.collect import collect
from evaluation.leaderboard.report import write_leaderboard_report
from evaluation.leaderboard.table import write_leaderboard
from evaluation.leaderboard.verdict import verdict


def run_leaderboard(out: str, cached: bool) -> str:
    """Re-render OUT's leaderboard files and report; returns the line to print. Raises ValueError (one sentence)
    when OUT is not an evaluate folder."""
    folder = Path(out)
    if not folder.is_dir():
        raise ValueError(f"{out} is not a folder (give the --out folder of python -m playerseg evaluate).")
    board = collect(folder, rescore=not cached)
    written = [path.name for path in write_leaderboard(folder, board)]
    written.append(write_leaderboard_report(folder, board).name)
    how = "from score.json" if cached else "rescored from the masks"
    pairs = len(board.manifest.model_names) * len(board.manifest.sequences)
    return (
        f"{folder}: {len(board.rows)} of {pairs} pairs scored ({how}), {len(board.failures)} failed; wrote "
        f"{', '.join(written)}. {verdict(board).headline}"
    )
