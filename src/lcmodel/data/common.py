"""What every validated table shares: the area column's name and cleaned text labels."""

from __future__ import annotations

import pandas as pd

__all__ = ["AREA", "WAVE", "clean_labels"]

AREA = "area"
"""Name of the area column in every validated table."""

WAVE = "wave"
"""Name of the wave column of validated respondents (when the spec names one)."""


def clean_labels(series: pd.Series) -> pd.Series:
    """Strings with surrounding space removed; blanks become missing."""
    text = series.astype("string").str.strip()
    return text.mask(text == "")
