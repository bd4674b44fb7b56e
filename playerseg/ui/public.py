"""What a public server reads, shows and keeps: only uploaded files, no server paths in messages, bounded disk.

- `uploaded_file`: a request may name a file only by uploading it. Gradio hands an API function whatever the caller
  sent, a plain server path included (`/compare` once read any video or zip on the server that way), so a file is
  accepted only when it lies inside Gradio's upload folder; the refusal reads the same whether a path exists or not.
- `public_message`: error sentences and notices shown to users carry file names, never the server's folders.
- `sweep`: results and uploads not used for the time they are kept are deleted (files a run is reading are held by
  `holding` and never swept meanwhile); `clear_leftovers` removes what a killed earlier process left in the app's
  work folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playerseg.errors import PlayerSegError

# An absolute POSIX path of two or more parts (in quotes or not): replaced by its last part.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/'\"()\[\]]+/)+([^\s/'\"()\[\]]+)")


# Files runs are reading now (an upload may be used by several calls: Gradio names uploads by their content).
_held: Counter[Path] = Counter()
_held_lock = threading.Lock()


class UploadError(PlayerSegError, ValueError):
    """A request that names a file it did not upload; one sentence for the caller."""


@dataclass(frozen=True)
class Upload:
    path: Path  # inside the upload folder
    name: str  # the file's own name as the user sent it


def upload_folder() -> Path:
    """Where Gradio stores uploads: GRADIO_TEMP_DIR, else <tmp>/gradio (as gradio.utils.get_upload_folder)."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def uploaded_file(value: Any, what: str, folder: Path | None = None) -> Upload:
    """The uploaded file a request sent (a FileData, or its dict form); raises UploadError for anything else: a plain
    string, a path outside the upload folder, a folder, a file that is gone."""
    path, name = _path_and_name(value)
    if path is None:
        raise UploadError(f"No {what} file was sent: upload it with gradio_client.handle_file(path).")
    root = (folder or upload_folder()).resolve()
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(root) or not resolved.is_file():
        raise UploadError(
            f"The {what} must be a file uploaded with the request (gradio_client.handle_file(path)); this server "
            "reads no other files."
        )
    return Upload(path=resolved, name=Path(name or resolved.name).name)


def _path_and_name(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, dict):
        path, name = value.get("path"), value.get("orig_name")
    else:
        path, name = getattr(value, "path", None), getattr(value, "orig_name", None)
    return (str(path), name) if isinstance(path, (str, os.PathLike)) and str(path) else (None, None)


def public_message(text: str) -> str:
    """The sentence with every absolute path replaced by its file name."""
    return _ABSOLUTE_PATH.sub(r"\1", text)


@contextmanager
def holding(*paths: str | Path | None) -> Iterator[None]:
    """While the block runs, `sweep` leaves these files (and the folders holding them) alone; their time starts anew
    (a used upload is kept for another full period)."""
    held = [Path(p).resolve() for p in paths if p is not None]
    with _held_lock:
        _held.update(held)
    for path in held:
        with contextlib.suppress(OSError):
            os.utime(path)
    try:
        yield
    finally:
        with _held_lock:
            _held.subtract(held)
            for path in [p for p, count in _held.items() if count <= 0]:
                del _held[path]


def _is_held(entry: Path) -> bool:
    entry = entry.resolve()
    with _held_lock:
        return any(path == entry or path.is_relative_to(entry) for path in _held)


def folder_size(root: Path) -> int:
    """Bytes of the files under `root` (0 when absent)."""
    return sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file()) if Path(root).exists() else 0


def sweep(root: Path, max_age_s: float, now: float | None = None) -> int:
    """Delete the entries directly under `root` (run folders, upload folders) last changed more than `max_age_s`
    seconds ago; returns how many were deleted. Entries that vanish meanwhile are skipped."""
    root = Path(root)
    if not root.is_dir():
        return 0
    now = time.time() if now is None else now
    deleted = 0
    for entry in root.iterdir():
        if _is_held(entry):
            continue
        try:
            age = now - _newest_change(entry)
        except FileNotFoundError:
            continue
        if age > max_age_s:
            _remove(entry)
            deleted += 1
    return deleted


def clear_leftovers(*folders: Path) -> None:
    """Empty folders that only this process uses (an earlier killed process's runs and uploads)."""
    for folder in folders:
        if Path(folder).is_dir():
            for entry in Path(folder).iterdir():
                _remove(entry)


def _newest_change(entry: Path) -> float:
    if entry.is_dir() and not entry.is_symlink():
        return max([entry.stat().st_mtime, *(p.stat().st_mtime for p in entry.rglob("*"))])
    return entry.lstat().st_mtime


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)
