"""Numbers as the result tables show them."""

from __future__ import annotations

import math


def rounded(value: float | None, digits: int = 3) -> float | None:
    """Rounded for a table cell; missing or NaN values become empty cells."""
    if value is None or math.isnan(float(value)):
        return None
    return round(float(value), digits)
