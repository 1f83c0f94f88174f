"""How many units stand behind each area's direct estimate (area-level models).

Sample sizes behind the estimates, the units a finite-population value counts as known, and
the flag of estimates that rest on too few units. Backend-free: pandas and numpy only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["few_units", "known_units", "sampled_units"]


def sampled_units(table: pd.DataFrame) -> np.ndarray:
    """Each area's sample size behind its direct estimate (0 where it has none)."""
    return table["n"].where(table["estimate"].notna(), 0.0).fillna(0.0).to_numpy(dtype=float)


def known_units(table: pd.DataFrame) -> pd.DataFrame:
    """How much of each area's population total its direct estimate settles.

    Returns ``known_units`` (the units whose answers count as known) and ``known`` (their
    sum): ``known_units = n / deff`` rounded, the effective sample size (``n`` without weights or
    design effects; the binomial model's smoothed one when it has it), and ``known =
    known_units x`` the direct estimate. Without weights that is exactly the sampled units'
    answers. With weights the direct estimate is not the sampled units' plain mean (under
    informative sampling that mean is biased for the area) and it is not known exactly:
    counting it as ``n`` exact answers would understate its error by the design effect, so
    it counts as ``n / deff`` answers and the other ``N - n / deff`` units are predicted.
    """
    n = pd.Series(sampled_units(table), index=table.index)
    if "n_eff_smoothed" in table.columns:
        effective = table["n_eff_smoothed"]
    elif "deff" in table.columns:
        effective = n / table["deff"].clip(lower=1.0)
    else:
        effective = n
    units = np.round(effective.fillna(n).clip(upper=n)).clip(lower=np.minimum(n, 1.0))
    units = units.where(n > 0, 0.0)
    return pd.DataFrame(
        {"known_units": units, "known": (table["estimate"] * units).fillna(0.0)},
        index=table.index,
    )


def few_units(table: pd.DataFrame, min_units: int, areas: pd.Series) -> np.ndarray:
    """Whether each area's direct estimate rests on fewer than ``min_units`` units."""
    n = table["n"].reindex(areas).to_numpy(dtype=float)
    has_estimate = table["estimate"].reindex(areas).notna().to_numpy()
    return has_estimate & (n < min_units)
