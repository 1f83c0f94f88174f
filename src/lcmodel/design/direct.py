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
    values = np.asarray(values, dtype=float)
    w = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=float)
    keys = list(groups.columns)
    codes = groups.groupby(keys, sort=True, observed=True).ngroup().to_numpy()
    labels = groups.drop_duplicates().sort_values(keys).reset_index(drop=True)
    size = len(labels)

    def per_group(x: np.ndarray) -> np.ndarray:
        """Sums over each group, one column per quantity: shape ``(groups, quantities)``."""
        return np.stack(
            [np.bincount(codes, weights=x[:, q], minlength=size) for q in range(x.shape[1])],
            axis=1,
        )

    n = np.bincount(codes, minlength=size).astype(float)
    total = np.bincount(codes, weights=w, minlength=size)
    estimate = per_group(w[:, None] * values) / total[:, None]
    residual = values - estimate[codes]
    with np.errstate(invalid="ignore", divide="ignore"):
        correction = np.where(n > 1, n / (n - 1), np.nan)[:, None]
        variance = correction * per_group(w[:, None] ** 2 * residual**2) / total[:, None] ** 2
        spread = correction * per_group(w[:, None] * residual**2) / total[:, None]
        deff = np.where(spread > 0, variance / (spread / n[:, None]), np.nan)
        kish = (total**2 / np.bincount(codes, weights=w**2, minlength=size))[:, None]
        n_eff = np.where(np.isfinite(deff), n[:, None] / deff, kish)
    count = len(quantities)
    table = labels.loc[np.repeat(np.arange(size), count)].reset_index(drop=True)
    table["quantity"] = np.tile(np.asarray(quantities, dtype=object), size)
    table["n"] = np.repeat(n.astype(np.int64), count)
    table["direct"] = estimate.ravel()
    table["direct_var"] = variance.ravel()
    table["direct_se"] = np.sqrt(variance.ravel())
    table["deff"] = deff.ravel()
    table["n_eff"] = n_eff.ravel()
    return table


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
