"""Reference populations: what each area's value averages over, and what that estimand is.

A surveyed area averages over its own respondents (sample-standardised). An area in the areas
table with no respondents averages over the whole sample's covariate mix, with its area effect
drawn from the area-effect distribution. With a population frame (``[frame]``) every area
averages over its frame cells, weighted by their counts (poststratification). With population
means of numeric covariates (``[population]``), each area has one reference row at its
population means (at the non-sampled units' means when population sizes are given).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lcmodel.data.survey import AREA, SurveyData

__all__ = ["estimand", "finite_population", "linear_predictor_keys", "reference_cells"]


def linear_predictor_keys(data: SurveyData) -> list[str]:
    """Columns that fix a respondent's linear predictor besides numeric covariates."""
    return [AREA, *(["wave"] if data.wave else []), *data.covariates]


def estimand(data: SurveyData) -> str:
    """What an area value averages over: the frame, population means, or respondents."""
    if data.frame is not None:
        return "poststratified"
    if data.population is not None:
        return "population means"
    return "sample-standardised"


def reference_cells(data: SurveyData) -> pd.DataFrame:
    """The population each area value averages over, with a ``weight`` column.

    Parameters
    ----------
    data
        One indicator's validated survey data.
    """
    respondents = data.respondents
    population = data.population
    numeric = list(data.numeric_covariates)
    keys = linear_predictor_keys(data)
    if data.frame is not None:
        return _frame_cells(data)
    if population is not None:
        means = population.loc[list(data.areas.index), numeric].copy()
        if "size" in population.columns:
            size = population.loc[means.index, "size"].to_numpy()
            n = data.areas["n"].to_numpy()
            sample = respondents.groupby(AREA)[numeric].sum()
            sample = sample.reindex(means.index).fillna(0.0)
            rest = np.maximum(size - n, 1.0)[:, None]
            means = (means * size[:, None] - sample) / rest
        return means.rename_axis(AREA).reset_index().assign(weight=1.0)
    if numeric:
        own = respondents[keys + numeric].assign(weight=1.0)
    else:
        own = respondents.groupby(keys, sort=True, observed=True).size()
        own = own.rename("weight").reset_index()
    unsurveyed = data.areas.index[data.areas["n"].to_numpy() == 0]
    if not len(unsurveyed):
        return own
    pooled = own.drop(columns=AREA)
    group = [c for c in pooled.columns if c != "weight"]
    if group:
        pooled = pooled.groupby(group, sort=True, observed=True)["weight"].sum().reset_index()
    else:
        pooled = pd.DataFrame({"weight": [float(pooled["weight"].sum())]})
    # every unsurveyed area borrows the pooled mix: one cross join, not a loop over areas
    borrowed = pooled.merge(pd.DataFrame({AREA: list(unsurveyed)}), how="cross")
    return pd.concat([own, borrowed[own.columns]], ignore_index=True)


def _frame_cells(data: SurveyData) -> pd.DataFrame:
    """The population frame's cells, weighted by their counts (poststratification).

    A frame has no waves, so with a wave effect each area's population is spread evenly over
    the waves in which the area was surveyed (every wave for an unsurveyed area).
    """
    cells = data.frame.rename(columns={"count": "weight"})
    if not data.wave:
        return cells
    respondents = data.respondents
    surveyed = respondents[[AREA, "wave"]].drop_duplicates()
    every = sorted(int(w) for w in respondents["wave"].unique())
    absent = sorted(set(cells[AREA]) - set(surveyed[AREA]))
    waves = pd.concat(
        [surveyed, pd.DataFrame({AREA: absent}).merge(pd.DataFrame({"wave": every}), how="cross")],
        ignore_index=True,
    ).astype({"wave": np.int64})
    per_area = waves.groupby(AREA)["wave"].transform("size")
    waves = waves.assign(share=1.0 / per_area.to_numpy())
    spread = cells.merge(waves, on=AREA, how="inner", sort=False)
    spread["weight"] = spread["weight"] * spread.pop("share")
    order = [*cells.columns, "wave"]
    return spread.sort_values([AREA, "wave"], kind="stable")[order].reset_index(drop=True)


def finite_population(data: SurveyData) -> tuple[np.ndarray, np.ndarray] | None:
    """Sampling fraction and sample mean per area, when population sizes are known."""
    population = data.population
    if population is None or "size" not in population.columns:
        return None
    areas = data.areas
    n = areas["n"].to_numpy(dtype=float)
    fraction = n / population.loc[areas.index, "size"].to_numpy()
    values = data.family.respondent_values(data.respondents[data.count_columns])
    sums = pd.DataFrame(values).groupby(data.respondents[AREA].to_numpy()).sum()
    mean = sums.reindex(areas.index).fillna(0.0).to_numpy() / np.maximum(n, 1.0)[:, None]
    return fraction, mean
