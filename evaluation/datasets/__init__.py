"""Dataset loaders, one module per format, and what they share: `DatasetError` and files named by frame number.

Owns: mask_pngs (label-map PNGs, the DAVIS palette, folders of mask PNGs), davis (DAVIS folders), coco_json (COCO-RLE
json files, read and written), frames (a clip's frames: image folders and video files), run_folders (what
`python -m playerseg segment` writes), sources (any mask source, by what the path is).
May import: evaluation's own modules (sequence, errors, coco_rle, video_reader, profiling); never playerseg.

Everything is lazy. A loader checks names and image headers (PIL reads only the header on open, so checking every
file's size up front is cheap) and returns a `MaskSequence` whose reader opens one PNG, or decodes one frame's RLE,
when that frame is asked for; a whole clip is never held in memory. Every problem with the input raises
`DatasetError` (a ValueError) with one sentence naming the file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from PIL import Image

from evaluation.errors import EvaluationError

MASK_SUFFIXES = (".png",)
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")
IMAGE_ERRORS = (OSError, SyntaxError, ValueError)  # what PIL raises for unreadable, broken or truncated files
DIGITS = re.compile(r"[0-9]+")


class DatasetError(EvaluationError, ValueError):
    """A dataset file or folder that cannot be used; the message is one sentence naming the file."""


def reason(error: BaseException) -> str:
    """What went wrong, for the parentheses of a DatasetError sentence."""
    return str(error) or type(error).__name__


def numbered_files(folder: Path, suffixes: tuple[str, ...]) -> dict[int, Path]:
    """Files of `folder` with one of `suffixes`, keyed by the frame number their name gives (00012.png -> 12)."""
    numbered: dict[int, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in suffixes or not path.is_file():
            continue  # hidden files (macOS "._00001.png") and other file types are not frames
        if not DIGITS.fullmatch(path.stem):
            raise DatasetError(
                f"{path} is not named by a frame number (expected names like 00012{path.suffix} for frame 12)."
            )
        frame = int(path.stem)
        if frame in numbered:
            raise DatasetError(f"{path} and {numbered[frame].name} both hold frame {frame}.")
        numbered[frame] = path
    return dict(sorted(numbered.items()))


def has_files(folder: Path, suffixes: tuple[str, ...]) -> bool:
    """Whether `folder` is a folder holding at least one visible file with one of `suffixes`."""
    return folder.is_dir() and any(
        p.suffix.lower() in suffixes and not p.name.startswith(".") and p.is_file() for p in folder.iterdir()
    )


def image_header(path: Path) -> tuple[int, int, str]:
    """(width, height, mode) from the file's header only."""
    try:
        with Image.open(path) as image:
            return image.size[0], image.size[1], image.mode
    except IMAGE_ERRORS as error:
        raise DatasetError(f"{path} cannot be read as an image ({reason(error)}).") from None


def read_json(path: Path) -> Any:
    """The parsed JSON document of `path`."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path} is not valid JSON (line {error.lineno}: {error.msg}).") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path} cannot be read ({reason(error)}).") from None
