"""The CSV tables written beside the report: per-frame and per-object numbers, one file per kind of result
that was given; a file of a kind not given this time is removed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.results.accuracy import AccuracyResult, DatasetAccuracy, flatten_accuracy
from evaluation.results.agreement import AgreementResult
from evaluation.results.profile import ProfileResult, latency_summary_dict
from evaluation.results.temporal import TemporalResult

if TYPE_CHECKING:
    import pandas as pd

CSV_NAMES = (
    "accuracy_per_frame.csv",
    "accuracy_per_object.csv",
    "temporal_per_frame.csv",
    "temporal_per_object.csv",
    "latency_per_frame.csv",
    "latency_summary.csv",
    "agreement_per_frame.csv",
)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    import pandas as pd

    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else None


def csv_tables(
    accuracy: Sequence[AccuracyResult | DatasetAccuracy],
    temporal: Sequence[TemporalResult],
    profiles: Sequence[ProfileResult],
    agreement: AgreementResult | None,
) -> dict[str, pd.DataFrame | None]:
    """Each CSV file's table by name; None where that kind of result was not given."""
    import pandas as pd

    flat = flatten_accuracy(accuracy)
    agreement_table = None
    if agreement is not None and len(agreement.frames):
        agreement_table = agreement.to_pandas()
        agreement_table.insert(0, "name_b", agreement.name_b)
        agreement_table.insert(0, "name_a", agreement.name_a)
    latency_rows = [{"name": p.name, **latency_summary_dict(p.summary())} for p in profiles]
    return {
        "accuracy_per_frame.csv": _concat([r.to_pandas() for r in flat]),
        "accuracy_per_object.csv": _concat([r.objects_to_pandas() for r in flat if r.object_ids]),
        "temporal_per_frame.csv": _concat([t.to_pandas() for t in temporal]),
        "temporal_per_object.csv": _concat([t.objects_to_pandas() for t in temporal if t.objects]),
        "latency_per_frame.csv": _concat([p.to_pandas() for p in profiles]),
        "latency_summary.csv": pd.DataFrame(latency_rows) if latency_rows else None,
        "agreement_per_frame.csv": agreement_table,
    }


def write_csvs(out_dir: Path, tables: dict[str, pd.DataFrame | None]) -> list[str]:
    """Write the tables that have data (removing the others' files); returns the names written, in CSV_NAMES order."""
    written = []
    for name in CSV_NAMES:
        path = out_dir / name
        table = tables.get(name)
        if table is None:
            # A report folder written again with less data must not keep tables from the earlier run.
            path.unlink(missing_ok=True)
            continue
        table.to_csv(path, index=False)
        written.append(name)
    return written
