"""Design-based direct estimates: the weighted (Hajek) mean per area, its variance, design effect.

For the respondents ``i`` of one area (or area and wave) with values ``y_i`` and design weights
``w_i`` (all 1 without a weight column)::

    direct = sum(w y) / sum(w)                                     (Hajek)
    var    = n / (n - 1) * sum(w_i^2 (y_i - direct)^2) / sum(w)^2  (linearisation)

The variance treats each respondent as a primary sampling unit drawn with replacement within its
area (a stratum): the standard linearisation variance of a ratio estimator. The survey files
carry no clusters or strata beyond the area, so nothing finer can be estimated; a clustered
design needs its own variance, passed to the Fay-Herriot model as an area table. Without weights
it is ``s^2 / n``, the textbook variance of a sample mean.

``deff`` is the design effect of this estimate: its variance over the variance a simple random
sample of the same size would give, ``s_w^2 / n`` with ``s_w^2`` the weighted variance of ``y``
(1 exactly without weights). ``n_eff = n / deff`` is the effective sample size. When ``y`` does
not vary in an area (every answer a success, or one respondent) the outcome says nothing about the
design effect, and ``n_eff`` falls back on Kish's ``sum(w)^2 / sum(w^2)``, the effective size of
the weights alone (``deff`` stays NaN). With one respondent the variance is NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lcmodel.data.survey import AREA, SurveyData

__all__ = ["DIRECT_COLUMNS", "design_estimates", "survey_direct_estimates"]

DIRECT_COLUMNS = ["n", "direct", "direct_var", "direct_se", "deff", "n_eff"]
"""Columns :func:`design_estimates` gives for every group and quantity."""


def design_estimates(
    values: np.ndarray, weights: np.ndarray | None, groups: pd.DataFrame, quantities: list[str]
) -> pd.DataFrame:
    """Hajek estimate, linearisation variance and design effect per group and quantity.

    Parameters
    ----------
    values
        Each respondent's value of every quantity, shape ``(respondents, quantities)``.
    weights
        Design weights (positive), or ``None`` for equal weights.
    groups
        The grouping columns (``area``, optionally ``wave``), one row per respondent.
    quantities
        Names of the columns of ``values``.

    Returns
    -------
    pandas.DataFrame
        One row per group and quantity: the grouping columns, ``quantity`` and
        :data:`DIRECT_COLUMNS`.
    """
    w = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=float)
    keys = list(groups.columns)
    codes = groups.groupby(keys, sort=True, observed=True).ngroup().to_numpy()
    labels = groups.drop_duplicates().sort_values(keys).reset_index(drop=True)
    parts = []
    for g, label in labels.iterrows():
        mine = codes == g
        y, wg = values[mine], w[mine]
        n = len(y)
        total = wg.sum()
        estimate = (wg[:, None] * y).sum(axis=0) / total
        residual = y - estimate
        with np.errstate(invalid="ignore", divide="ignore"):
            correction = n / (n - 1) if n > 1 else np.nan
            variance = correction * (wg[:, None] ** 2 * residual**2).sum(axis=0) / total**2
            spread = correction * (wg[:, None] * residual**2).sum(axis=0) / total
            deff = np.where(spread > 0, variance / (spread / n), np.nan)
            kish = total**2 / (wg**2).sum()
            n_eff = np.where(np.isfinite(deff), n / deff, kish)
        part = pd.DataFrame(
            {
                "quantity": quantities,
                "n": n,
                "direct": estimate,
                "direct_var": variance,
                "direct_se": np.sqrt(variance),
                "deff": deff,
                "n_eff": n_eff,
            }
        )
        for key in reversed(keys):
            part.insert(0, key, label[key])
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def survey_direct_estimates(data: SurveyData, by_wave: bool = False) -> pd.DataFrame:
    """Direct estimates of every quantity of a survey indicator, per area (and wave).

    Parameters
    ----------
    data
        One indicator's validated survey data (its answers, weights and family).
    by_wave
        Per area and wave instead of per area (needs a wave column).

    Returns
    -------
    pandas.DataFrame
        One row per surveyed area (and wave) and quantity; see :func:`design_estimates`.
        Weighted when the spec names a weight column.
    """
    respondents = data.respondents
    values = data.family.respondent_values(respondents[data.count_columns])
    weights = respondents["weight"].to_numpy() if data.weighted else None
    keys = [AREA, "wave"] if by_wave else [AREA]
    if by_wave and not data.wave:
        raise ValueError("per-wave direct estimates need a wave column in the spec")
    quantities = [q.name for q in data.family.quantities()]
    return design_estimates(values, weights, respondents[keys], quantities)
