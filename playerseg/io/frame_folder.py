"""Clips that are folders of images: *.jpg, *.jpeg, *.png in natural name order, or a DAVIS sequence's JPEGImages/.

A folder carries no timing, so frames are spaced at the `fps` given. Every file's header is checked when the folder
is opened (a bad or odd-sized frame is named then, not mid-run); a frame is read only when asked for.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from playerseg.io.video_info import RgbLoader, VideoError, VideoInfo, error_reason

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class FolderSource:
    """Frames as image files; each is read only when asked for."""

    def __init__(self, root: Path, fps: float) -> None:
        if not fps > 0:
            raise VideoError(f"folder_fps must be positive, got {fps}.")
        folder = _frame_folder(root)
        self.files = _image_files(folder)
        if not self.files:
            raise VideoError(f"folder {folder} has no .jpg, .jpeg or .png frames.")
        width, height = _image_size(self.files[0])
        for file in self.files[1:]:
            other = _image_size(file)  # header only: cheap, and a bad frame is named now, not mid-run
            if other != (width, height):
                raise VideoError(
                    f"frame {file} is {other[0]}x{other[1]} but {self.files[0].name} is {width}x{height}; "
                    "all frames of a folder must have one size."
                )
        count = len(self.files)
        codec = "png" if self.files[0].suffix.lower() == ".png" else "jpeg"
        self.info = VideoInfo(
            path=str(root),
            width=width,
            height=height,
            fps=float(fps),
            frame_count=count,
            duration_s=count / fps,
            codec=codec,
        )
        self.times_s = [i / fps for i in range(count)]

    def decode_until(self, target: int) -> Iterator[tuple[int, RgbLoader]]:
        yield target, functools.partial(_read_image, self.files[target], (self.info.width, self.info.height))

    def close(self) -> None:
        pass


def _natural_key(path: Path) -> list[int | str]:
    # frame_2 before frame_10; zero-padded names (00000.jpg) sort the same either way
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _frame_folder(root: Path) -> Path:
    """The folder holding the frames: root itself, or root/JPEGImages (DAVIS), or its single sequence."""
    davis = root / "JPEGImages"
    if not davis.is_dir():
        return root
    if _image_files(davis):
        return davis
    sequences = sorted(child for child in davis.iterdir() if child.is_dir())
    if len(sequences) == 1:
        return sequences[0]
    if len(sequences) > 1:
        names = ", ".join(child.name for child in sequences[:5])
        raise VideoError(f"{davis} holds {len(sequences)} sequences ({names}); pass one sequence folder.")
    return davis


def _image_files(folder: Path) -> list[Path]:
    files = [f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=_natural_key)


def _image_size(file: Path) -> tuple[int, int]:
    try:
        with Image.open(file) as image:
            return image.size
    except (UnidentifiedImageError, OSError) as error:
        raise VideoError(f"frame {file} is not a readable image: {error_reason(error)}.") from error


def _read_image(file: Path, size: tuple[int, int]) -> np.ndarray:
    try:
        with Image.open(file) as image:
            rgb = np.array(image.convert("RGB"))  # np.array: a writable copy, not a view of PIL's buffer
    except (UnidentifiedImageError, OSError) as error:
        raise VideoError(f"frame {file} is not a readable image: {error_reason(error)}.") from error
    if (rgb.shape[1], rgb.shape[0]) != size:
        raise VideoError(
            f"frame {file} is {rgb.shape[1]}x{rgb.shape[0]} but the folder's frames are {size[0]}x{size[1]}."
        )
    return rgb
