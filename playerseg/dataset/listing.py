"""A dataset folder's sequences as rows (the app's dataset panel) and the folder as one zip ("Download dataset").

`list_sequences` reads DIR/meta.json as `write_sequence` writes it and lists the sequences whose JPEGImages folder
is there. `zip_dataset` zips JPEGImages/, Annotations/, prompts/, coco/ and meta.json with paths relative to DIR (so
the unzipped folder is a dataset `python -m evaluation summary` and `python -m playerseg.finetune --data` read),
never the lock file or hidden staging folders, while holding the dataset's lock: a save running at the same time is
wholly in the zip or not at all. JPEGs are stored (on a 300-frame 720p sequence deflate took 20x the time to save
1%), everything else deflated (the palette PNGs 19% smaller for 0.05 s, the COCO json 58%).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playerseg.dataset.sequence_writer import META_NAME, SequenceError, dataset_lock

PARTS = ("JPEGImages", "Annotations", "prompts", "coco")
STORED_SUFFIXES = frozenset({".jpg", ".jpeg"})  # deflate gains JPEGs ~1% for 20x the time


@dataclass(frozen=True)
class SequenceRow:
    """One sequence of a dataset folder, as the dataset panel shows it."""

    name: str
    frames: int
    objects: int
    frames_fixed: int
    clicks: int
    model: str
    source_clip: str


def list_sequences(dataset_dir: str | Path) -> list[SequenceRow]:
    """The dataset's sequences sorted by name ([] when the folder or its meta.json does not exist); only those
    whose JPEGImages/<seq> folder exists. SequenceError when meta.json cannot be read or is not write_sequence's."""
    root = Path(dataset_dir)
    path = root / META_NAME
    if not path.is_file():
        return []
    sequences = _read_sequences(path)
    rows = [_row(path, name, entry) for name, entry in sorted(sequences.items())]
    return [row for row in rows if (root / "JPEGImages" / row.name).is_dir()]


def zip_dataset(dataset_dir: str | Path, out_path: str | Path) -> Path:
    """Zip the dataset folder to `out_path` (written under a temporary name beside it, then renamed), holding the
    dataset's lock throughout; returns out_path. SequenceError when the folder has no sequences yet."""
    root, out = Path(dataset_dir), Path(out_path)
    if not list_sequences(root):
        raise SequenceError(f"The dataset {root} has no sequences yet, so there is nothing to download.")
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    os.close(handle)
    try:
        with dataset_lock(root):
            if not list_sequences(root):  # emptied while waiting for the lock
                raise SequenceError(f"The dataset {root} has no sequences yet, so there is nothing to download.")
            with zipfile.ZipFile(temporary, "w") as archive:
                for path in dataset_files(root):
                    archive.write(path, path.relative_to(root).as_posix(), compress_type=_compression(path))
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return out


def dataset_files(root: Path) -> Iterator[Path]:
    """meta.json and every regular file under the dataset's parts, in name order; nothing hidden, no links."""
    yield root / META_NAME
    for part in PARTS:
        folder = root / part
        if not folder.is_dir() or folder.is_symlink():
            continue
        for path in sorted(folder.rglob("*")):
            hidden = any(name.startswith(".") for name in path.relative_to(root).parts)
            if not hidden and path.is_file() and not path.is_symlink() and not _under_link(root, path):
                yield path


def _under_link(root: Path, path: Path) -> bool:
    return any(parent.is_symlink() for parent in path.relative_to(root).parents if parent != Path("."))


def _compression(path: Path) -> int:
    return zipfile.ZIP_STORED if path.suffix.lower() in STORED_SUFFIXES else zipfile.ZIP_DEFLATED


def _read_sequences(path: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SequenceError(f"{path} cannot be read as JSON ({error}); fix or remove it first.") from None
    if not isinstance(data, dict) or not isinstance(data.get("sequences"), dict):
        raise SequenceError(f'{path} is not {{"sequences": {{...}}}} as this app writes it; fix or remove it first.')
    return data["sequences"]


def _row(path: Path, name: str, entry: Any) -> SequenceRow:
    """One meta.json entry as a row; SequenceError naming the file when the entry is not write_sequence's shape."""
    fixes = entry.get("fixes") if isinstance(entry, dict) else None
    if not isinstance(entry, dict) or not isinstance(fixes, dict) or not isinstance(entry.get("objects"), dict):
        raise SequenceError(f"{path} has an entry for sequence {name} that is not one this app writes.")
    counts = [entry.get("frames"), fixes.get("frames_fixed"), fixes.get("clicks")]
    texts = [entry.get("model"), entry.get("source_clip")]
    if not all(_is_count(value) for value in counts) or not all(isinstance(text, str) for text in texts):
        raise SequenceError(f"{path} has an entry for sequence {name} whose counts or names are not readable.")
    return SequenceRow(
        name=name,
        frames=entry["frames"],
        objects=len(entry["objects"]),
        frames_fixed=fixes["frames_fixed"],
        clicks=fixes["clicks"],
        model=entry["model"],
        source_clip=entry["source_clip"],
    )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
