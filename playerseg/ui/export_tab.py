"""Tab 7, "Export": everything a run produced, to take away: each model's masks (zip of DAVIS palette PNGs named by
clip frame), the overlay videos, the prompts JSON, one per-frame CSV for both models, and the HTML report."""

from __future__ import annotations

import csv
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from playerseg.compare.outcome import Comparison

PER_FRAME_COLUMNS = [
    "model",
    "frame",
    "latency_ms",
    "memory_mb",
    "visible_objects",
    "differing_share",
    "J_mean",
    "F_mean",
]
HELP = (
    "Masks are DAVIS palette PNGs at the clip's size (0 = background, 1..K = object ids), ready for "
    "`python -m evaluation score`. The report is one self-contained HTML file (charts work offline)."
)


@dataclass
class ExportTab:
    files: gr.File

    def outputs(self) -> list[Any]:
        return [self.files]

    def render(self, comparison: Comparison | None) -> list[Any]:
        return [[str(p) for p in export_files(comparison)] if comparison is not None else None]


def build_export_tab() -> ExportTab:
    gr.Markdown(HELP)
    files = gr.File(label="Downloads", file_count="multiple", interactive=False, elem_id="export-files")
    return ExportTab(files)


def export_files(comparison: Comparison) -> list[Path]:
    """Build the downloads in comparison.out_dir / "export" (names say which model each file belongs to)."""
    out = comparison.out_dir / "export"
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for outcome in comparison.outcomes:
        if not outcome.ok or outcome.run_dir is None:
            continue
        tag = f"{outcome.label}_{_safe(outcome.name)}"
        files.append(_zip_masks(outcome.run_dir / "masks", out / f"masks_{tag}.zip"))
        if outcome.overlay is not None and outcome.overlay.exists():
            files.append(_copy(outcome.overlay, out / f"overlay_{tag}.mp4"))
    for path, name in ((comparison.side_by_side, "side_by_side.mp4"), (comparison.disagreement, "disagreement.mp4")):
        if path is not None and Path(path).exists():
            files.append(_copy(Path(path), out / name))
    prompts = next((o.run_dir / "prompts.json" for o in comparison.outcomes if o.ok and o.run_dir), None)
    if prompts is not None and prompts.exists():
        files.append(_copy(prompts, out / "prompts.json"))
    files.append(write_per_frame_csv(comparison, out / "per_frame.csv"))
    if comparison.report is not None and Path(comparison.report).exists():
        files.append(_copy(Path(comparison.report), out / "report.html"))
    return files


def write_per_frame_csv(comparison: Comparison, path: Path) -> Path:
    """One row per model and processed frame: cost, visible objects, disagreement and (with ground truth) J/F."""
    differing = {}
    if comparison.agreement is not None:
        differing = dict(zip(comparison.agreement.frames, comparison.agreement.differing_share.tolist()))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PER_FRAME_COLUMNS)
        for outcome in comparison.outcomes:
            if outcome.profile is None:
                continue
            scores = _frame_scores(outcome.accuracy)
            visible = _visible_objects(outcome.run_dir)
            for frame, latency, memory in zip(
                outcome.profile.frames.tolist(), outcome.profile.latency_ms.tolist(), outcome.profile.memory_mb.tolist()
            ):
                j, f = scores.get(frame, (None, None))
                writer.writerow(
                    [
                        outcome.display_name,
                        frame,
                        round(latency, 3),
                        round(memory, 2),
                        visible.get(frame, ""),
                        _fmt(differing.get(frame)),
                        _fmt(j),
                        _fmt(f),
                    ]
                )
    return path


def _frame_scores(accuracy: Any) -> dict[int, tuple[float, float]]:
    if accuracy is None:
        return {}
    table = accuracy.to_pandas().groupby("frame")[["J", "F"]].mean()
    return {int(frame): (float(row.J), float(row.F)) for frame, row in table.iterrows()}


def _visible_objects(run_dir: Path | None) -> dict[int, str]:
    if run_dir is None or not (run_dir / "frames.csv").exists():
        return {}
    with open(run_dir / "frames.csv", newline="") as handle:
        return {int(row["frame"]): row["visible_objects"] for row in csv.DictReader(handle)}


def _fmt(value: float | None) -> str:
    return "" if value is None or value != value else f"{value:.4f}"


def _zip_masks(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:  # PNGs are compressed already
        for png in sorted(folder.glob("*.png")):
            archive.write(png, arcname=f"masks/{png.name}")
    return target


def _copy(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    return target


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in Path(name).name)[:60]
