"""Drawing for people: masks blended over frames with contours and ids, prompt clicks and boxes, side by side views.

Every function returns a new RGB uint8 array and leaves its inputs untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from playerseg.io.masks import VOID, davis_palette
from playerseg.io.prompts import Prompt

POSITIVE_COLOR = (0, 200, 0)
NEGATIVE_COLOR = (220, 0, 0)
RING_COLOR = (255, 255, 255)
TEXT_COLOR = (255, 255, 255)
OUTLINE_COLOR = (0, 0, 0)  # dark outline keeps white ids readable on bright grass and white kits
BAR_COLOR = (32, 32, 32)
CONTOUR_PX = 2
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def object_color(object_id: int) -> tuple[int, int, int]:
    """The object's RGB colour: its DAVIS palette entry, as in the mask PNGs."""
    if not 0 <= object_id <= 255:
        raise ValueError(f"Object id must be 0..255 to have a palette colour, got {object_id}.")
    r, g, b = davis_palette()[object_id]
    return int(r), int(g), int(b)


def draw_overlay(
    rgb: np.ndarray,
    labels: np.ndarray,
    prompts: Sequence[Prompt] = (),
    alpha: float = 0.5,
    draw_ids: bool = True,
) -> np.ndarray:
    """Each object's colour blended at `alpha` over its pixels, a contour, its id above the mask, and the given
    prompts (the caller passes the prompts of this frame): positive clicks green, negative red, boxes in the
    object's colour. Void (255) pixels are left as they are."""
    _check_rgb(rgb, "rgb")
    labels = np.asarray(labels)
    if labels.dtype != np.uint8:
        raise ValueError(f"labels must be a uint8 (H, W) id map, got dtype {labels.dtype}.")
    if labels.shape != rgb.shape[:2]:
        raise ValueError(f"labels have shape {labels.shape} but the frame is {rgb.shape[1]}x{rgb.shape[0]} (WxH).")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}.")
    out = _blend(rgb, labels, alpha)
    boxes = _object_boxes(labels)
    for object_id, (x, y, w, h) in boxes.items():
        # contours of the object's box only (offset back to the frame): players cover a few per cent of it
        mask = (labels[y : y + h, x : x + w] == object_id).view(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE, offset=(x, y))
        cv2.drawContours(out, contours, -1, object_color(object_id), CONTOUR_PX)
    for prompt in prompts:
        _draw_prompt(out, prompt)
    if draw_ids:  # last, so ids stay readable over contours and clicks
        for object_id, (x, y, w, h) in boxes.items():
            _draw_id(out, (x, y, x + w, y + h), object_id)
    return out


def _object_boxes(labels: np.ndarray) -> dict[int, tuple[int, int, int, int]]:
    """Each object's bounding box (x, y, w, h), by ascending id; 0 (background) and void have none."""
    counts = cv2.calcHist([labels], [0], None, [256], [0, 256]).ravel()
    present = [int(i) for i in np.flatnonzero(counts) if i not in (0, VOID)]
    return {object_id: cv2.boundingRect((labels == object_id).view(np.uint8)) for object_id in present}


def with_caption(rgb: np.ndarray, caption: str) -> np.ndarray:
    """The frame with a caption bar over its bottom rows (same size), e.g. to say a model has random weights."""
    _check_rgb(rgb, "rgb")
    bar_height = max(20, int(round(rgb.shape[0] * 0.05)))
    out = rgb.copy()
    out[-bar_height:] = _labelled(np.zeros((0, rgb.shape[1], 3), np.uint8), caption, bar_height)
    return out


def side_by_side(left: np.ndarray, right: np.ndarray, left_label: str, right_label: str) -> np.ndarray:
    """Two RGB frames next to each other, each under a bar with its label centred. A shorter frame is padded at the
    bottom (never resampled); the result is padded to even width and height so it can go straight into H.264."""
    _check_rgb(left, "left")
    _check_rgb(right, "right")
    height = max(left.shape[0], right.shape[0])
    bar = max(24, int(round(height * 0.06)))
    halves = [
        _labelled(_pad_to(left, height, left.shape[1]), left_label, bar, centred=True),
        _labelled(_pad_to(right, height, right.shape[1]), right_label, bar, centred=True),
    ]
    out = np.concatenate(halves, axis=1)
    return _pad_to(out, out.shape[0] + out.shape[0] % 2, out.shape[1] + out.shape[1] % 2)


def _blend(rgb: np.ndarray, labels: np.ndarray, alpha: float) -> np.ndarray:
    # arithmetic on the objects' pixels only: they are a few per cent of a sports frame
    foreground = (labels != 0) & (labels != VOID)
    colours = davis_palette().astype(np.float32)[labels[foreground]]
    out = rgb.copy()
    out[foreground] = np.rint(rgb[foreground].astype(np.float32) * (1.0 - alpha) + colours * alpha).astype(np.uint8)
    return out


def _scale(image: np.ndarray) -> float:
    """Marker and text size relative to a 720p frame, so drawings look alike at any resolution."""
    return min(image.shape[:2]) / 720


def _draw_prompt(out: np.ndarray, prompt: Prompt) -> None:
    radius = max(4, int(round(7 * _scale(out))))
    if prompt.box is not None:
        b = prompt.box
        top_left = (int(round(b.x0)), int(round(b.y0)))
        bottom_right = (int(round(b.x1)) - 1, int(round(b.y1)) - 1)  # x1/y1 are exclusive
        cv2.rectangle(out, top_left, bottom_right, object_color(prompt.object_id), 2)
    for point in prompt.points:
        centre = (int(round(point.x)), int(round(point.y)))
        colour = POSITIVE_COLOR if point.positive else NEGATIVE_COLOR
        cv2.circle(out, centre, radius, colour, -1, cv2.LINE_AA)
        cv2.circle(out, centre, radius + 1, RING_COLOR, 2, cv2.LINE_AA)


def _draw_id(out: np.ndarray, box: tuple[int, int, int, int], object_id: int) -> None:
    """The id centred above the object's box (x0, y0, x1, y1; x1 and y1 exclusive)."""
    x0, y0, x1, _ = box
    text = str(object_id)
    scale = max(0.45, 0.9 * _scale(out))  # below ~0.45 Hershey digits stop being legible
    thickness = max(1, int(round(2 * _scale(out))))
    (w, h), baseline = cv2.getTextSize(text, _FONT, scale, thickness)
    x = int(np.clip((x0 + x1) / 2 - w / 2, 2, max(2, out.shape[1] - w - 2)))
    y = y0 - 6 if y0 - 6 - h >= 2 else y0 + h + 6  # above the mask's top; inside it when at the frame's top edge
    y = int(min(y, out.shape[0] - baseline))
    # OpenCV 5 draws text no bolder than thickness 2, so a thicker dark pass cannot make the outline:
    # stamp the dark text at every offset within `ring` px instead, then the white text on top
    ring = max(1, thickness)
    for dx in range(-ring, ring + 1):
        for dy in range(-ring, ring + 1):
            if dx or dy:
                cv2.putText(out, text, (x + dx, y + dy), _FONT, scale, OUTLINE_COLOR, thickness, cv2.LINE_8)
    cv2.putText(out, text, (x, y), _FONT, scale, TEXT_COLOR, thickness, cv2.LINE_AA)


def _labelled(image: np.ndarray, label: str, bar_height: int, centred: bool = False) -> np.ndarray:
    bar = np.empty((bar_height, image.shape[1], 3), dtype=np.uint8)
    bar[:] = BAR_COLOR
    scale, thickness = bar_height / 40, max(1, bar_height // 20)
    (w, h), _ = cv2.getTextSize(label, _FONT, scale, thickness)
    margin = bar_height // 4
    if w > image.shape[1] - 2 * margin and w > 0:  # long labels shrink to fit the half
        scale *= (image.shape[1] - 2 * margin) / w
        (w, h), _ = cv2.getTextSize(label, _FONT, scale, thickness)
    # names over the side by side are centred: the app's video label floats over the player's top-left corner
    x = max(margin, (image.shape[1] - w) // 2) if centred else margin
    cv2.putText(bar, label, (x, (bar_height + h) // 2), _FONT, scale, TEXT_COLOR, thickness, cv2.LINE_AA)
    return np.concatenate([bar, image], axis=0)


def _pad_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    if image.shape[:2] == (height, width):
        return image
    out = np.zeros((height, width, 3), dtype=np.uint8)
    out[: image.shape[0], : image.shape[1]] = image
    return out


def _check_rgb(image: np.ndarray, name: str) -> None:
    if not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8):
        shape = getattr(image, "shape", None)
        raise ValueError(f"{name} must be an RGB uint8 array of shape (H, W, 3), got {shape}.")


ONLY_A_COLOR = (255, 140, 0)  # orange: foreground only in A
ONLY_B_COLOR = (0, 160, 255)  # azure: foreground only in B
OTHER_ID_COLOR = (255, 0, 255)  # magenta: foreground in both, but A and B give it different ids
_DIM = 0.45  # how far the greyed frame is darkened, so the three colours stand out
_LEGEND_MIN_HEIGHT = 48  # below this the legend would cover most of the frame: it is left out


def disagreement_frame(rgb: np.ndarray, labels_a: np.ndarray, labels_b: np.ndarray) -> np.ndarray:
    """Where two predictions of one frame differ: the frame greyed and dimmed, pixels that are foreground only in
    A orange, only in B azure, foreground in both with different ids magenta; foreground both agree on is shown
    grey at full brightness. A legend bar over the bottom rows names the colours and the share of pixels whose
    label differs (void 255 in either left out, as `evaluation.accuracy.agreement` counts it); frames under
    48 px high get no legend. Same size as `rgb`."""
    _check_rgb(rgb, "rgb")
    a, b = _labels_like(labels_a, rgb, "labels_a"), _labels_like(labels_b, rgb, "labels_b")
    fg_a, fg_b = (a != 0) & (a != VOID), (b != 0) & (b != VOID)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    out = np.repeat(np.rint(grey * _DIM).astype(np.uint8)[..., None], 3, axis=2)
    agree = fg_a & fg_b & (a == b)
    out[agree] = np.repeat(grey[agree][:, None], 3, axis=1)
    out[fg_a & ~fg_b] = ONLY_A_COLOR
    out[fg_b & ~fg_a] = ONLY_B_COLOR
    out[fg_a & fg_b & (a != b)] = OTHER_ID_COLOR
    if rgb.shape[0] < _LEGEND_MIN_HEIGHT:
        return out
    valid = (a != VOID) & (b != VOID)
    scored = int(np.count_nonzero(valid))
    share = np.count_nonzero((a != b) & valid) / scored if scored else float("nan")
    return _with_legend(out, share)


def _labels_like(labels: np.ndarray, rgb: np.ndarray, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.dtype != np.uint8:
        raise ValueError(f"{name} must be a uint8 (H, W) id map, got dtype {labels.dtype}.")
    if labels.shape != rgb.shape[:2]:
        raise ValueError(f"{name} have shape {labels.shape} but the frame is {rgb.shape[1]}x{rgb.shape[0]} (WxH).")
    return labels


def _with_legend(image: np.ndarray, share: float) -> np.ndarray:
    """Colour swatches with their meaning and the differing share, in a bar over the bottom rows."""
    bar_height = max(16, int(round(image.shape[0] * 0.07)))
    differ = "differ: n/a" if np.isnan(share) else f"differ: {share * 100:.1f}%"
    entries = [(ONLY_A_COLOR, "A only"), (ONLY_B_COLOR, "B only"), (OTHER_ID_COLOR, "other id"), (None, differ)]
    thickness = 1
    scale = bar_height / 36
    swatch, gap = int(bar_height * 0.5), max(4, bar_height // 3)
    fixed = sum(swatch + 3 for colour, _ in entries if colour is not None) + gap * (len(entries) + 1)
    text_px = sum(cv2.getTextSize(text, _FONT, scale, thickness)[0][0] for _, text in entries)
    if fixed + text_px > image.shape[1]:  # shrink the text (never the swatches) to fit narrow frames
        scale *= max(0.1, (image.shape[1] - fixed) / text_px)
    out = image.copy()
    bar = out[-bar_height:]
    bar[:] = BAR_COLOR
    x, middle = gap, bar_height // 2
    for colour, text in entries:
        if colour is not None:
            cv2.rectangle(bar, (x, middle - swatch // 2), (x + swatch - 1, middle + swatch // 2), colour, -1)
            x += swatch + 3
        (w, h), _ = cv2.getTextSize(text, _FONT, scale, thickness)
        cv2.putText(bar, text, (x, middle + h // 2), _FONT, scale, TEXT_COLOR, thickness, cv2.LINE_AA)
        x += w + gap
    return out
