"""Label-map PNGs: the DAVIS palette, one mask image as ids, and a folder of mask PNGs as a lazy MaskSequence.

A label map is uint8 HxW: 0 background, 1..254 object ids, 255 void. Masks come as palette PNGs (the DAVIS way),
greyscale, bilevel, 16-bit, or RGB in exact DAVIS palette colours (mapped back to ids).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image

from evaluation.datasets import IMAGE_ERRORS, MASK_SUFFIXES, DatasetError, image_header, numbered_files, reason
from evaluation.sequence import MaskSequence

# Modes a label map can come in; anything else (CMYK, float...) is rejected when the folder is loaded.
_MASK_MODES = frozenset({"P", "L", "1", "LA", "PA", "RGB", "RGBA", "I", "I;16", "I;16B", "I;16L"})


def davis_palette() -> np.ndarray:
    """The DAVIS / PASCAL VOC palette, (256, 3) uint8: id 1 is (128, 0, 0), 2 (0, 128, 0), 3 (128, 128, 0)...

    Bit 3k, 3k+1, 3k+2 of the id go to bit 7-k of red, green and blue."""
    ids = np.arange(256)
    palette = np.zeros((256, 3), dtype=np.uint8)
    for k in range(3):
        for channel in range(3):
            palette[:, channel] |= (((ids >> (3 * k + channel)) & 1) << (7 - k)).astype(np.uint8)
    return palette


def _colour_keys(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def read_mask_png(path: str | Path) -> np.ndarray:
    """One mask image as an HxW uint8 label map: palette indices ("P"), grey values ("L"), exact DAVIS palette
    colours mapped back to ids ("RGB"/"RGBA"), or 16-bit values when every value is at most 255."""
    path = Path(path)
    mode, pixels = _decoded_pixels(path)
    if mode not in _MASK_MODES:
        raise DatasetError(f"{path} is a {mode} image; masks must be palette, greyscale or RGB PNGs.")
    if mode in ("RGB", "RGBA"):
        return _rgb_to_labels(pixels, path)
    if mode.startswith("I"):
        return _values_as_labels(pixels, path)
    return pixels.astype(np.uint8, copy=False)


def _decoded_pixels(path: Path) -> tuple[str, np.ndarray]:
    """The image's mode and pixels: RGB for colour images, the first band when an alpha band rides along (it
    carries no ids), 0/1 for bilevel images (white is object 1), the stored values otherwise."""
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("RGB", "RGBA"):
                return image.mode, np.array(image.convert("RGB"))
            if image.mode in ("LA", "PA"):
                return image.mode, np.array(image.getchannel(0))
            if image.mode == "1":
                return image.mode, np.array(image, dtype=bool).astype(np.uint8)
            return image.mode, np.array(image)
    except IMAGE_ERRORS as error:
        raise DatasetError(f"{path} cannot be read as a mask image ({reason(error)}).") from None


def _values_as_labels(values: np.ndarray, path: Path) -> np.ndarray:
    values = values.astype(np.int64, copy=False)
    if values.size and (values.min() < 0 or values.max() > 255):
        raise DatasetError(f"{path} holds values up to {int(values.max())}; a label map holds ids 0..255 (255 = void).")
    return values.astype(np.uint8)


def _rgb_to_labels(rgb: np.ndarray, path: Path) -> np.ndarray:
    """Map each DAVIS palette colour back to its id; any other colour means the ids cannot be recovered."""
    palette_keys = _colour_keys(davis_palette())
    id_of_key = {int(key): index for index, key in enumerate(palette_keys)}
    colours, inverse = np.unique(_colour_keys(rgb).reshape(-1), return_inverse=True)
    ids = np.empty(colours.size, dtype=np.uint8)
    for k, colour in enumerate(colours):
        found = id_of_key.get(int(colour))
        if found is None:
            r, g, b = int(colour) >> 16, (int(colour) >> 8) & 255, int(colour) & 255
            count = int((inverse == k).sum())
            raise DatasetError(
                f"{path} is an RGB mask with a colour outside the DAVIS palette ({r}, {g}, {b}) in {count} pixels, "
                "so its object ids cannot be recovered (save masks as palette or greyscale PNGs)."
            )
        ids[k] = found
    return ids[inverse].reshape(rgb.shape[:2])


class _PngLabels:
    """Reader of a mask folder: frame number -> label map, opening the PNG only when asked."""

    def __init__(self, files: Mapping[int, Path]) -> None:
        self.files = dict(files)

    def __call__(self, frame: int) -> np.ndarray:
        return read_mask_png(self.files[frame])


def load_mask_folder(path: str | Path, name: str | None = None) -> MaskSequence:
    """A folder of mask PNGs named by frame number (00012.png is frame 12) as a lazily read MaskSequence.

    Every file's header is checked now: a file of another size or an unreadable file is a DatasetError naming it
    (masks of one sequence must all be the same size; resize them or drop the odd one)."""
    folder = Path(path)
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder of mask PNGs.")
    files = numbered_files(folder, MASK_SUFFIXES)
    if not files:
        raise DatasetError(f"{folder} holds no mask .png files.")
    first_frame = next(iter(files))
    width, height, _ = _check_mask_header(files[first_frame])
    for frame, file in files.items():
        if frame == first_frame:
            continue
        other_width, other_height, _ = _check_mask_header(file)
        if (other_width, other_height) != (width, height):
            raise DatasetError(
                f"{file} is {other_width}x{other_height} but {files[first_frame].name} is {width}x{height}; "
                "all masks of a sequence must be the same size."
            )
    return MaskSequence(name or folder.name, tuple(files), height, width, _PngLabels(files), source=str(folder))


def _check_mask_header(path: Path) -> tuple[int, int, str]:
    width, height, mode = image_header(path)
    if mode not in _MASK_MODES:
        raise DatasetError(f"{path} is a {mode} image; masks must be palette, greyscale or RGB PNGs.")
    return width, height, mode
