"""The frame's geometry: screen rows of the crowd band, the LED board and the pitch, and the depth rule that sizes a
figure by how low on screen its feet are."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    """Screen rows of the scene bands and the depth rule for figure size."""

    width: int
    height: int
    board_top: int  # crowd band is rows [0, board_top)
    pitch_top: int  # LED board is rows [board_top, pitch_top)
    touchline: int

    @classmethod
    def of(cls, width: int, height: int) -> Layout:
        board_top = round(0.2 * height)
        pitch_top = board_top + max(3, round(0.075 * height))
        touchline = pitch_top + max(2, round(0.025 * height))
        return cls(width, height, board_top, pitch_top, touchline)

    def figure_height(self, y: np.ndarray) -> np.ndarray:
        """Height in pixels of a figure whose feet are at screen row y: perspective makes nearer ones larger."""
        depth = np.clip((y - self.pitch_top) / (self.height - self.pitch_top), 0.0, 1.2)
        return self.height * (0.13 + 0.23 * depth)
