"""Reference populations: what each area's value averages over, and what that estimand is.

Three estimands (the spec's ``estimand``; :attr:`lcmodel.spec.ModelSpec.target`):

``sample``
    A surveyed area averages the model's expected values over its own respondents
    (sample-standardised). An area in the areas table with no respondents averages over the
    whole sample's covariate mix, with its area effect drawn from the area-effect
    distribution.
``superpopulation``
    Every area averages its expected values over its population: the frame's cells weighted
    by their counts (``[frame]``, poststratification), or one reference row at the area's
    population covariate means (``[population]``). An underlying rate, not a count of people.
``finite_population``
    The area's actual population: the known answers of its sampled units plus predictive
    draws for every unit not sampled (:class:`FinitePopulation`). The reference rows are the
    frame's cells, or one row per area at the *non-sampled* units' covariate means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lcmodel.data.survey import AREA, SurveyData

__all__ = [
    "ESTIMAND_LABELS",
    "FinitePopulation",
    "area_average",
    "area_shares",
    "estimand",
    "finite_population",
    "linear_predictor_keys",
    "reference_cells",
]

ESTIMAND_LABELS = {
    ("finite_population", "frame"): "finite population",
    ("finite_population", "population"): "finite population",
    ("superpopulation", "frame"): "poststratified",
    ("superpopulation", "population"): "population means",
}
"""The ``estimand`` column of the tables, by estimand and population source."""


@dataclass(frozen=True)
class FinitePopulation:
    """What a finite-population area value knows and predicts, per reference row.

    Attributes
    ----------
    size
        Population units of each reference row (a frame cell, at one wave when waves are
        modelled; or a whole area under ``[population]``).
    remaining
        Units of each row not sampled, whose answers are predicted: ``size`` minus sampled.
    known
        Sums of the sampled units' values of each quantity, shape ``(rows, quantities)``.
    """

    size: np.ndarray
    remaining: np.ndarray
    known: np.ndarray

    def values(self, totals: np.ndarray) -> np.ndarray:
        """Each row's population mean, from draws of the remaining units' totals.

        Parameters
        ----------
        totals
            Draws of the sums over each row's remaining units, shape
            ``(draws, rows, quantities)``.
        """
        return (self.known[None] + totals) / self.size[None, :, None]


def linear_predictor_keys(data: SurveyData) -> list[str]:
    """Columns that fix a respondent's linear predictor besides numeric covariates."""
    return [AREA, *(["wave"] if data.wave else []), *data.covariates]


def estimand(data: SurveyData) -> str:
    """The ``estimand`` column: what an area value estimates, in words.

    ``finite population``, ``poststratified`` (a frame's expected value), ``population
    means`` (expected value at population covariate means) or ``sample-standardised``.
    """
    if data.estimand == "sample":
        return "sample-standardised"
    return ESTIMAND_LABELS[data.estimand, "frame" if data.frame is not None else "population"]


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
    if data.frame is not None and data.estimand != "sample":
        return _frame_cells(data)
    if population is not None and data.estimand != "sample":
        return _population_rows(data)
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


def _population_rows(data: SurveyData) -> pd.DataFrame:
    """Reference rows from population means and level shares.

    Per area, every combination of the categorical covariates' levels (weight: the product
    of their shares) at the numeric covariates' means.

    For the finite-population estimand the rows describe the units *not* sampled: the
    population totals less the sample's, over ``size - n`` units. The mean of a linear
    predictor over these rows is exact whatever the joint distribution of the covariates,
    which is why ``[population]`` serves Gaussian outcomes only.
    """
    population = data.population.loc[list(data.areas.index)]
    respondents = data.respondents
    numeric = list(data.numeric_covariates)
    means = population[numeric].copy()
    shares = {
        covariate: population[
            [f"share:{covariate}:{level}" for level in _levels(population, covariate)]
        ]
        for covariate in data.covariates
    }
    if data.estimand == "finite_population":
        size = population["size"].to_numpy(dtype=float)
        n = data.areas["n"].to_numpy(dtype=float)
        rest = np.maximum(size - n, 1.0)[:, None]
        sample = respondents.groupby(AREA)[numeric].sum().reindex(means.index).fillna(0.0)
        means = (means * size[:, None] - sample) / rest
        for covariate, table in shares.items():
            levels = _levels(population, covariate)
            counts = pd.crosstab(respondents[AREA], respondents[covariate])
            counts = counts.reindex(index=table.index, columns=levels).fillna(0.0)
            left = np.clip(table.to_numpy() * size[:, None] - counts.to_numpy(), 0.0, None)
            total = left.sum(axis=1, keepdims=True)
            even = np.full_like(left, 1.0 / len(levels))
            shares[covariate] = pd.DataFrame(
                np.where(total > 0, left / np.where(total > 0, total, 1.0), even),
                index=table.index,
                columns=table.columns,
            )
    rows = means.rename_axis(AREA).reset_index().assign(weight=1.0)
    for covariate, table in shares.items():
        levels = _levels(population, covariate)
        long = pd.DataFrame(
            {
                AREA: np.repeat(table.index.to_numpy(), len(levels)),
                covariate: np.tile(levels, len(table)),
                "share": table.to_numpy().ravel(),
            }
        )
        rows = rows.merge(long, on=AREA, how="inner", sort=False)
        rows["weight"] = rows["weight"] * rows.pop("share")
    return rows[rows["weight"] > 0].reset_index(drop=True)


def _levels(population: pd.DataFrame, covariate: str) -> list[str]:
    prefix = f"share:{covariate}:"
    return [c[len(prefix) :] for c in population.columns if c.startswith(prefix)]


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


def finite_population(data: SurveyData, rows: pd.DataFrame) -> FinitePopulation:
    """Population, sampled units and their known answers for each reference row.

    Parameters
    ----------
    data
        One indicator's validated data, with population sizes (a frame, or ``[population]``
        with ``size``).
    rows
        Reference rows: frame cells (:func:`reference_cells`, or at one wave each), or for
        ``[population]`` one row per area.

    Returns
    -------
    FinitePopulation
        Aligned with ``rows``.
    """
    respondents = data.respondents
    if data.frame is not None:
        keys = [AREA, *data.covariates]
        counts = data.frame.set_index(keys)["count"]
        size = counts.reindex(pd.MultiIndex.from_frame(rows[keys])).to_numpy(dtype=float)
        if data.wave and "wave" in rows.columns:
            keys = [*keys, "wave"]
    else:  # population means: one row per area (its non-sampled units' mean prediction)
        keys = [AREA]
        size = data.population["size"].reindex(rows[AREA]).to_numpy(dtype=float)
    values = data.family.respondent_values(respondents[data.count_columns])
    grouped = pd.DataFrame(values).groupby([respondents[key] for key in keys], sort=False)
    where = pd.MultiIndex.from_frame(rows[keys]) if len(keys) > 1 else pd.Index(rows[AREA])
    known = grouped.sum().reindex(where).fillna(0.0).to_numpy()
    sampled = grouped.size().reindex(where).fillna(0).to_numpy(dtype=float)
    return FinitePopulation(size=size, remaining=size - sampled, known=known)


def area_shares(rows: pd.DataFrame, areas: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's area (position in ``areas``) and its share of that area's ``weight``.

    The one definition of how reference rows are averaged per area, used by the model's
    area values (in the graph) and by the finite-population values (after sampling).
    """
    area = pd.Index(areas).get_indexer(rows[AREA])
    weight = rows["weight"].to_numpy(dtype=float)
    total = np.bincount(area, weights=weight, minlength=len(areas))
    return area, weight / total[area]


def area_average(values: np.ndarray, rows: pd.DataFrame, areas: list[str]) -> np.ndarray:
    """Weighted mean of per-row values over each area's rows (the ``weight`` column).

    Parameters
    ----------
    values
        Shape ``(draws, rows, quantities)``.
    rows
        The reference rows, with ``area`` and ``weight``.
    areas
        The areas, in the order of the result.

    Returns
    -------
    numpy.ndarray
        Shape ``(draws, areas, quantities)``.
    """
    area, share = area_shares(rows, areas)
    out = np.zeros((values.shape[0], len(areas), values.shape[2]))
    np.add.at(out, (slice(None), area), values * share[None, :, None])
    return out
