"""The clicked frame: large frames are shown downscaled and clicks map back to clip pixels; markers are drawn."""

from __future__ import annotations

import numpy as np

from playerseg.io.overlay import POSITIVE_COLOR
from playerseg.io.prompts import Prompt
from playerseg.ui.frames import display_scale, show_frame
from playerseg.ui.session import BoxCorner


def test_large_frames_are_shown_downscaled_and_clicks_map_back() -> None:
    rgb = np.zeros((1440, 2560, 3), np.uint8)
    shown = show_frame(rgb, [])
    assert shown.image.shape == (720, 1280, 3) and shown.scale == 0.5
    assert shown.to_clip(640, 360) == (1280, 720)
    assert display_scale(640, 360) == 1.0


def test_this_frames_prompts_are_drawn_where_they_were_clicked() -> None:
    rgb = np.full((400, 800, 3), 90, np.uint8)
    shown = show_frame(rgb, [Prompt.from_click(0, 3, 200, 100)], BoxCorner(0, 4, 600, 300))
    assert tuple(shown.image[100, 200]) == POSITIVE_COLOR  # the point's filled disc
    assert (shown.image[300, 590:611] != 90).any()  # the pending box corner's cross
    assert (shown.image[80:100, 205:230] == 255).all(axis=2).any()  # the white object id beside the point
    assert (rgb == 90).all()  # the frame itself is untouched


def test_small_clips_can_be_shown_enlarged_and_large_ones_still_shrink() -> None:
    assert display_scale(320, 180, min_side=960) == 3.0
    assert display_scale(1920, 1080, min_side=960) == 1280 / 1920
    assert display_scale(1000, 400, min_side=960) == 1.0
