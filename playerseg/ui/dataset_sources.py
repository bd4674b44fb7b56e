"""Where the Dataset tab's leaderboard comes from, read the way a public server reads a stranger's files.

- `read_upload`: an evaluate OUT folder the user uploaded, as a .zip (only its leaderboard.json and the report.html
  beside it are read; runs/ may be in the zip or left out) or a bare leaderboard.json. Before anything is read the
  zip's directory is checked (how many entries; no absolute path, '..', drive letter or link; the two entries' declared
  sizes), the two entries are then read counting their real bytes, and the leaderboard's size (models, sequences,
  rows) is checked before any interval is computed. Nothing else of the upload is written; messages name the upload
  by its own name.
- `run_example`: three small synthetic clips evaluated in-process (`python -m playerseg evaluate`'s own code) with the
  app's two default models.
- Both end in `publish`: leaderboard.json, leaderboard.csv, models.csv and report.html in one folder of the session,
  none of them naming a server folder (the dataset's path is replaced by what the user knows it as), and no report is
  ever written from a path an upload names.

    result = read_upload(upload.path, dataset_folder(session.work_dir(root)), display_name="out.zip")
"""

from __future__ import annotations

import argparse
import json
import shutil
import uuid
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from evaluation.leaderboard.table import LEADERBOARD_JSON, Leaderboard, write_leaderboard
from playerseg.compare.failures import one_line
from playerseg.compare.ground_truth import megabytes, zip_entry_parts
from playerseg.errors import PlayerSegError
from playerseg.synthetic.dataset import generate_dataset

REPORT_HTML = "report.html"
MAX_ZIP_ENTRIES = 200_000  # a whole OUT folder: a mask PNG per model, sequence and frame, overlays, run.json files
MAX_JSON_BYTES = 32 << 20  # about 20 models x 1000 sequences of rows
MAX_REPORT_BYTES = 64 << 20  # plotly.js (4.6 MB) and a few embedded stills
MAX_MODELS = 20
MAX_SEQUENCES = 1_000  # each model's bootstrap resamples its sequences 10,000 times
READ_CHUNK = 1 << 20
DATASET_PREFIX = "dataset-"

# The example: small enough for two test-size models on two CPU cores in well under a minute.
EXAMPLE_SEQUENCES = 3
EXAMPLE_FRAMES = 8
EXAMPLE_PLAYERS = 2
EXAMPLE_SIZE = (320, 180)
EXAMPLE_SEED = 16
EXAMPLE_LABEL = (
    f"the example dataset ({EXAMPLE_SEQUENCES} synthetic clips of {EXAMPLE_FRAMES} frames, {EXAMPLE_PLAYERS} players, "
    f"{EXAMPLE_SIZE[0]}x{EXAMPLE_SIZE[1]})"
)
Progress = Callable[[float, str], None]


class DatasetUploadError(PlayerSegError, ValueError):
    """An upload the Dataset tab cannot show; the message is one sentence naming the file as the user sent it."""


@dataclass(frozen=True)
class DatasetResult:
    """A leaderboard ready to show: where it came from, in words, and the files to download (the report first)."""

    board: Leaderboard
    source: str
    files: tuple[Path, ...]
    example: bool = False


def dataset_folder(session_dir: Path) -> Path:
    """A new folder for one leaderboard inside the session's folder (deleted with the browser tab)."""
    folder = Path(session_dir) / f"{DATASET_PREFIX}{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    return folder


def drop_older(folder: Path) -> None:
    """Delete the session's earlier leaderboards once `folder` holds the new one (a run still in progress, which has
    no leaderboard.json at its top yet, is left alone)."""
    for sibling in folder.parent.glob(f"{DATASET_PREFIX}*"):
        if sibling != folder and (sibling / LEADERBOARD_JSON).is_file():
            shutil.rmtree(sibling, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# Uploads


def read_upload(path: str | Path, folder: Path, display_name: str | None = None) -> DatasetResult:
    """The leaderboard of an uploaded .zip of an evaluate OUT folder or of its leaderboard.json, published into
    `folder`. Raises DatasetUploadError with one sentence on anything wrong."""
    source = Path(path)
    shown = own_name(display_name) or source.name
    data, report, zipped = _upload_contents(source, shown)
    board = parse_leaderboard(data, f"the {LEADERBOARD_JSON} in {shown}" if zipped else shown)
    name = own_name(board.manifest.data)
    stand_in = folder / "uploaded" / (name if name not in ("", ".", "..") else "dataset")  # never there: see publish
    return publish(board, folder, shown, report=report, data_label=board.manifest.data, data_stand_in=stand_in)


def own_name(display_name: str | None) -> str:
    """The file name alone, whatever folders (of any system) the client sent with it."""
    if not display_name:
        return ""
    return display_name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _is_zip_name(shown: str, source: Path) -> bool:
    return Path(shown).suffix.lower() == ".zip" or source.suffix.lower() == ".zip"


def _upload_contents(source: Path, shown: str) -> tuple[bytes, bytes | None, bool]:
    """leaderboard.json's bytes, the report beside it in a zip (None when absent) and whether it was a zip."""
    if not source.is_file():
        raise DatasetUploadError(f"{shown} does not exist or is not a file.")
    suffix = Path(shown).suffix.lower()
    if _is_zip_name(shown, source) or (suffix != ".json" and zipfile.is_zipfile(source)):
        return (*_zip_contents(source, shown), True)
    if suffix == ".json" or source.suffix.lower() == ".json":
        size = source.stat().st_size
        if size > MAX_JSON_BYTES:
            raise DatasetUploadError(
                f"{shown} is {megabytes(size)}, more than the {megabytes(MAX_JSON_BYTES)} a leaderboard.json may "
                "take here."
            )
        return source.read_bytes(), None, False
    raise DatasetUploadError(
        f"{shown} must be a .zip of an evaluate OUT folder (python -m playerseg evaluate --out OUT) or its "
        "leaderboard.json."
    )


def _zip_contents(source: Path, shown: str) -> tuple[bytes, bytes | None]:
    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise DatasetUploadError(
                    f"{shown} holds {len(entries)} entries, more than the {MAX_ZIP_ENTRIES} this app reads; zip "
                    "the OUT folder without its runs/ folder (only leaderboard.json and report.html are read)."
                )
            for entry in entries:
                _check_entry(entry, shown)
            board_entry = _leaderboard_entry(entries, shown)
            report_entry = _beside(entries, board_entry, REPORT_HTML)
            data = _read_entry(archive, board_entry, MAX_JSON_BYTES, shown)
            report = _read_entry(archive, report_entry, MAX_REPORT_BYTES, shown) if report_entry else b""
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError) as error:  # RuntimeError: encrypted, unknown method
        raise DatasetUploadError(f"{shown} cannot be read as a zip archive ({_reason(error)}).") from None
    return data, report or None


def _check_entry(entry: zipfile.ZipInfo, shown: str) -> None:
    if zip_entry_parts(entry) is None:
        raise DatasetUploadError(
            f"{shown} holds an unsafe entry {entry.filename!r} (an absolute path, '..' or a link); zip the OUT "
            "folder with plain relative paths."
        )


def _parts(entry: zipfile.ZipInfo) -> tuple[str, ...]:
    return zip_entry_parts(entry) or ()


def _hidden(parts: tuple[str, ...]) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _leaderboard_entry(entries: list[zipfile.ZipInfo], shown: str) -> zipfile.ZipInfo:
    """The leaderboard.json nearest the top (OUT zipped as a folder puts it one level down)."""
    found = [e for e in entries if not e.is_dir() and _parts(e)[-1:] == (LEADERBOARD_JSON,) and not _hidden(_parts(e))]
    if not found:
        raise DatasetUploadError(
            f"{shown} holds no {LEADERBOARD_JSON}: zip the OUT folder that python -m playerseg evaluate wrote."
        )
    depth = min(len(_parts(e)) for e in found)
    top = [e for e in found if len(_parts(e)) == depth]
    if len(top) > 1:
        raise DatasetUploadError(
            f"{shown} holds {len(top)} {LEADERBOARD_JSON} files side by side; zip one evaluate OUT folder at a time."
        )
    return top[0]


def _beside(entries: list[zipfile.ZipInfo], anchor: zipfile.ZipInfo, name: str) -> zipfile.ZipInfo | None:
    folder = _parts(anchor)[:-1]
    return next((e for e in entries if not e.is_dir() and _parts(e) == (*folder, name)), None)


def _read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int, shown: str) -> bytes:
    """The entry's bytes, refused once more than `limit` come out (declared sizes can lie)."""
    name = _parts(entry)[-1]
    too_big = f"{shown} holds a {name} of more than {megabytes(limit)}, more than this app reads."
    if entry.file_size > limit:
        raise DatasetUploadError(too_big)
    chunks, size = [], 0
    with archive.open(entry) as reader:
        while chunk := reader.read(min(READ_CHUNK, limit + 1 - size)):
            size += len(chunk)
            if size > limit:
                raise DatasetUploadError(too_big)
            chunks.append(chunk)
    return b"".join(chunks)


def parse_leaderboard(data: bytes, what: str) -> Leaderboard:
    """leaderboard.json's bytes as a Leaderboard, once its size is known to be one this app can summarise."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise DatasetUploadError(f"{_capital(what)} is not valid JSON ({_reason(error)}).") from None
    _check_size(raw, what)
    try:
        return Leaderboard.from_json(raw)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, StopIteration) as error:
        raise DatasetUploadError(
            f"{_capital(what)} is not a leaderboard written by python -m playerseg evaluate ({_reason(error)})."
        ) from None


def _check_size(raw: Any, what: str) -> None:
    manifest = raw.get("manifest") if isinstance(raw, dict) else None
    not_ours = f"{_capital(what)} is not a leaderboard written by python -m playerseg evaluate"
    if not isinstance(manifest, dict) or not isinstance(raw.get("rows"), list):
        raise DatasetUploadError(f"{not_ours} (it has no manifest and rows).")
    models, sequences, failures = manifest.get("models"), manifest.get("sequences"), raw.get("failures", [])
    if not isinstance(models, list) or not isinstance(sequences, list) or not isinstance(failures, list):
        raise DatasetUploadError(f"{not_ours} (its manifest lists no models and sequences).")
    if not models:
        raise DatasetUploadError(f"{_capital(what)} names no model.")
    if len(models) > MAX_MODELS or len(sequences) > MAX_SEQUENCES:
        raise DatasetUploadError(
            f"{_capital(what)} holds {len(models)} models and {len(sequences)} sequences; this app shows at most "
            f"{MAX_MODELS} models and {MAX_SEQUENCES} sequences (python -m evaluation leaderboard OUT reads any size)."
        )
    if len(raw["rows"]) + len(failures) > len(models) * max(len(sequences), 1):
        raise DatasetUploadError(f"{_capital(what)} holds more rows than its models times its sequences.")


# ---------------------------------------------------------------------------------------------------------------
# The example dataset


def run_example(
    folder: Path, models: Sequence[str], device: str | None = None, progress: Progress | None = None
) -> DatasetResult:
    """Generate the example clips under `folder`, evaluate `models` on them (the first is the baseline), publish the
    leaderboard into `folder` and delete the clips and run folders."""
    work = folder / "work"
    data, out = work / "synthetic-example", work / "out"
    if progress is not None:
        progress(0.0, f"Generating {EXAMPLE_SEQUENCES} synthetic clips")
    width, height = EXAMPLE_SIZE
    generate_dataset(
        data, EXAMPLE_SEQUENCES, EXAMPLE_FRAMES, EXAMPLE_PLAYERS, width=width, height=height, seed=EXAMPLE_SEED
    )
    if progress is not None:
        progress(0.05, f"Evaluating {' and '.join(models)}")
    try:
        evaluate_folder(data, out, models, device)
        board = Leaderboard.from_json(json.loads((out / LEADERBOARD_JSON).read_text()))
        report = (out / REPORT_HTML).read_bytes() if (out / REPORT_HTML).is_file() else None
        report = _scrub(report, {str(data): "generated by the app", str(out): "OUT"}) if report is not None else None
        return publish(board, folder, EXAMPLE_LABEL, report=report, data_label=EXAMPLE_LABEL, example=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def evaluate_folder(data: Path, out: Path, models: Sequence[str], device: str | None = None) -> int:
    """`python -m playerseg evaluate --data DATA --models A,B --out OUT` in this process; its exit code (3 when some
    pairs failed: they are in the leaderboard's failures). A job that cannot start raises EvaluateError."""
    from playerseg.evaluate.cli import add_evaluate_parser, run_evaluate

    parser = argparse.ArgumentParser(prog="playerseg")
    add_evaluate_parser(parser.add_subparsers(dest="command"))
    argv = ["evaluate", f"--data={data}", f"--models={','.join(models)}", f"--out={out}"]
    if device:
        argv.append(f"--device={device}")
    return run_evaluate(parser.parse_args(argv), "the app's Dataset tab: the example dataset")


# ---------------------------------------------------------------------------------------------------------------
# Publishing


def publish(
    board: Leaderboard,
    folder: Path,
    source: str,
    *,
    report: bytes | None,
    data_label: str,
    data_stand_in: Path | None = None,
    example: bool = False,
) -> DatasetResult:
    """leaderboard.json, leaderboard.csv and models.csv of `board` (its dataset path replaced by `data_label`) into
    `folder`, with `report` as report.html, or a report written here when none came. That report looks for the
    dataset's frames (for stills), so it is given `data_stand_in`, a path inside `folder` that does not exist, never
    a path an upload names; the page then says `data_label` where it would say the stand-in."""
    public = replace(board, manifest=replace(board.manifest, data=data_label))
    folder.mkdir(parents=True, exist_ok=True)
    csv, models_csv, board_json = write_leaderboard(folder, public)
    page = folder / REPORT_HTML
    if report is not None:
        page.write_bytes(report)
    else:
        stand_in = data_stand_in or folder / "dataset"
        written = write_report(folder, replace(board, manifest=replace(board.manifest, data=str(stand_in))))
        if written is not None:
            page.write_bytes(_scrub(written.read_bytes(), {str(stand_in): data_label, str(folder): "OUT"}))
    files = ([page] if page.is_file() else []) + [csv, models_csv, board_json]
    return DatasetResult(public, source, tuple(files), example)


def write_report(folder: Path, board: Leaderboard) -> Path | None:
    """evaluation's leaderboard report of `board` in `folder`, when that module is installed."""
    try:
        from evaluation.leaderboard.report import write_leaderboard_report
    except ImportError:
        return None
    return write_leaderboard_report(folder, board)


def _scrub(page: bytes, replacements: dict[str, str]) -> bytes:
    """The page with each server path replaced by its label, the longest paths first."""
    for path in sorted(replacements, key=len, reverse=True):
        page = page.replace(path.encode(), replacements[path].encode())
    return page


def _capital(text: str) -> str:
    """'the leaderboard.json in x.zip' starts a sentence capitalised; a file name stays as the user spelt it."""
    return "T" + text[1:] if text.startswith("the ") else text


def _reason(error: BaseException) -> str:
    return one_line(error, 200)
