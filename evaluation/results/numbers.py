"""Numbers as JSON summaries and tables want them: NaN and None become None, everything else a plain float."""

from __future__ import annotations

import math


def json_float(value: float | None) -> float | None:
    """JSON-friendly float: NaN and None become None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)
