"""Area estimates: posterior summaries of area values and their benchmark comparison.

Intervals are equal-tailed (``eti``, the default: invariant to transformations such as
share -> logit, and well defined for skewed posteriors of small areas) or highest-density
(``hdi``), at probability :data:`lcmodel.spec.DEFAULT_INTERVAL` unless asked otherwise. The
``interval`` column of every table states which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lcmodel.design.benchmarks import benchmark_draws
from lcmodel.spec import DEFAULT_CV_CAUTION, DEFAULT_CV_SUPPRESS

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "ESTIMATE_COLUMNS",
    "RELIABILITY",
    "area_estimates",
    "bounds",
    "interval_label",
    "label_approximation",
    "reliability",
    "row_draws",
    "summarise_draws",
]

RELIABILITY = ("publish", "caution", "suppress")
"""Reliability flags, from the coefficient of variation (thresholds in ``[fit]``)."""


def reliability(cv: np.ndarray, caution: float, suppress: float) -> np.ndarray:
    """Flag each coefficient of variation: publish, caution (above ``caution``) or suppress.

    Parameters
    ----------
    cv
        Coefficients of variation (posterior sd / |posterior mean|); NaN is flagged suppress.
    caution, suppress
        Thresholds, ``caution < suppress``.
    """
    cv = np.asarray(cv, dtype=float)
    flags = np.full(cv.shape, "suppress", dtype=object)
    flags[cv <= suppress] = "caution"
    flags[cv <= caution] = "publish"
    return flags


OPTIONAL_COLUMNS = ("few_units", "calibration", "adjustment", "method")
"""Columns only some results have (``few_units``: area-level models with sample sizes;
``calibration`` and ``adjustment``: fits with ``[calibrate]``; ``method``: approximate fits,
``"ADVI, approximate"`` on every row)."""

ESTIMATE_COLUMNS = [
    "area",
    "name",
    "nation",
    "deprivation_decile",
    "quantity",
    "n",
    "in_sample",
    "estimand",
    "direct",
    "direct_se",
    "deff",
    "few_units",
    "mean",
    "sd",
    "cv",
    "lower",
    "upper",
    "interval",
    "method",
    "reliability",
    "calibration",
    "adjustment",
    "benchmark",
    "benchmark_n",
    "benchmark_source",
    "benchmark_match",
    "diff_mean",
    "diff_lower",
    "diff_upper",
    "p_above_benchmark",
    "rhat",
    "ess_bulk",
    "diagnostics_ok",
]
"""Columns of :func:`area_estimates`, in order."""


def interval_label(prob: float, kind: str) -> str:
    """Human-readable interval definition, e.g. ``"90% equal-tailed"``."""
    name = {"eti": "equal-tailed", "hdi": "highest-density"}[kind]
    return f"{prob * 100:g}% {name}"


def bounds(draws: np.ndarray, prob: float, kind: str) -> tuple[float, float]:
    """Interval bounds of one quantity's draws (a 1-D array)."""
    import arviz as az

    if kind == "eti":
        tail = (1.0 - prob) / 2.0
        lower, upper = np.quantile(draws, [tail, 1.0 - tail])
    else:
        lower, upper = az.hdi(draws, prob=prob)
    return float(lower), float(upper)


def area_estimates(
    posterior: xr.Dataset,
    inputs: pd.DataFrame,
    *,
    prob: float,
    kind: str,
    seed: int,
    diagnostics_ok: bool,
    cv_thresholds: tuple[float, float] = (DEFAULT_CV_CAUTION, DEFAULT_CV_SUPPRESS),
    calibration: dict | None = None,
    method: str = "nuts",
) -> pd.DataFrame:
    """Per area and quantity: estimate, interval, benchmark comparison and diagnostics.

    Parameters
    ----------
    posterior
        Posterior group with ``area_value`` (dims ``chain, draw, area, quantity``).
    inputs
        One row per area x quantity (see :func:`lcmodel.design.inputs.area_inputs`).
    prob, kind
        Interval probability and kind (``"eti"`` or ``"hdi"``).
    seed
        Seed for the benchmark-uncertainty draws (the fit's seed, for reproducibility).
    diagnostics_ok
        Whether the whole fit passed its convergence gates (repeated on every row, so a
        table read on its own still says so).
    cv_thresholds
        Coefficients of variation above which an estimate is flagged ``caution`` and
        ``suppress`` (column ``reliability``; ``cv`` = posterior sd / |posterior mean|).
    calibration
        The fit's ``[calibrate]`` record (``label``, ``quantity_index``), when the area values
        were benchmarked: the calibrated quantity's rows then state the method
        (``calibration``) and the area's ``adjustment``, the posterior mean of the calibrated
        value minus that of the unadjusted one (``area_value_uncalibrated``).
    method
        How the draws were made (``[fit] method``): an approximation's rows say so in
        ``method`` and have no R-hat or ESS (its draws are independent by construction, so
        theirs would only look perfect).

    Returns
    -------
    pandas.DataFrame
        One row per area x quantity with :data:`ESTIMATE_COLUMNS`, in the order of
        ``inputs``. Share benchmarks with a known ``n`` carry Beta uncertainty; mean
        benchmarks are treated as fixed.
    """
    import arviz as az

    values = posterior["area_value"]
    table = inputs.reset_index(drop=True).copy()
    samples, position = row_draws(values, table)
    table = summarise_draws(table, samples, prob, kind, seed, cv_thresholds)

    from lcmodel.inference.diagnostics import constants_allowed

    dataset = values.to_dataset(name="v")
    with constants_allowed():  # a fully enumerated area's value is known: NaN R-hat and ESS
        rhat = az.rhat(dataset, sample_dims=["chain", "draw"])["v"].to_numpy()
        ess = az.ess(dataset, sample_dims=["chain", "draw"])["v"].to_numpy()
    table["rhat"] = rhat[position]
    table["ess_bulk"] = ess[position]
    table["diagnostics_ok"] = diagnostics_ok
    label_approximation(table, method)
    if calibration is not None and "area_value_uncalibrated" in posterior:
        raw, _ = row_draws(posterior["area_value_uncalibrated"], table)
        quantity = str(values.coords["quantity"].values[calibration["quantity_index"]])
        mine = (table["quantity"] == quantity).to_numpy()
        table["calibration"] = np.where(mine, calibration["label"], "")
        table["adjustment"] = np.where(mine, samples.mean(axis=1) - raw.mean(axis=1), np.nan)
    optional = [c for c in OPTIONAL_COLUMNS if c not in table.columns]
    return table.reindex(columns=[c for c in ESTIMATE_COLUMNS if c not in optional])


def label_approximation(table: pd.DataFrame, method: str) -> None:
    """Mark an approximate fit's table: ``method`` on every row, no R-hat or ESS.

    Parameters
    ----------
    table
        A table of estimates, changed in place (nothing happens for ``method = "nuts"``).
    method
        The fit's ``[fit] method``.
    """
    from lcmodel.inference.diagnostics import APPROXIMATE_LABELS

    if method == "nuts":
        return
    table["method"] = APPROXIMATE_LABELS[method]
    for column in ("rhat", "ess_bulk"):
        if column in table:
            table[column] = np.nan


def row_draws(
    values: xr.DataArray, table: pd.DataFrame
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The pooled draws of ``values`` for each row of ``table``.

    Parameters
    ----------
    values
        A posterior variable with dims ``chain, draw`` and others (``area``, ``quantity``,
        ``wave``...), each of which ``table`` has as a column.
    table
        One row per wanted element.

    Returns
    -------
    tuple
        The draws, shape ``(rows, chains x draws)``, and the position of each row along the
        other dims (to index arrays over them, such as R-hat).
    """
    dims = [d for d in values.dims if d not in ("chain", "draw")]
    # summarised in double precision whatever the storage (area values are kept as float32)
    draws = values.stack(sample=("chain", "draw")).transpose(*dims, "sample").to_numpy()
    draws = draws.astype(float, copy=False)
    position = tuple(
        pd.Index(values[d].to_numpy().astype(str)).get_indexer(table[d].astype(str)) for d in dims
    )
    return draws[position], position


def summarise_draws(
    table: pd.DataFrame,
    samples: np.ndarray,
    prob: float,
    kind: str,
    seed: int,
    cv_thresholds: tuple[float, float],
) -> pd.DataFrame:
    """Add the posterior summary and benchmark comparison of each row's draws to ``table``.

    Parameters
    ----------
    table
        One row per estimate, with ``kind``, ``benchmark`` and ``benchmark_n``.
    samples
        The draws of each row, shape ``(rows, draws)``.
    prob, kind
        Interval probability and kind.
    seed
        Seed of the benchmark-uncertainty draws.
    cv_thresholds
        Reliability thresholds (caution, suppress).

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``mean``, ``sd``, ``cv``, ``reliability``, ``lower``, ``upper``,
        ``interval``, ``diff_mean``, ``diff_lower``, ``diff_upper`` and
        ``p_above_benchmark``.
    """
    table = table.reset_index(drop=True).copy()
    table["mean"] = samples.mean(axis=1)
    table["sd"] = samples.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["cv"] = table["sd"] / table["mean"].abs()
    table["reliability"] = reliability(table["cv"].to_numpy(), *cv_thresholds)
    limits = np.array([bounds(row, prob, kind) for row in samples])
    table["lower"], table["upper"] = limits[:, 0], limits[:, 1]
    table["interval"] = interval_label(prob, kind)

    rng = np.random.default_rng(seed)
    comparison = np.full((len(table), 4), np.nan)
    for row in range(len(table)):
        benchmark = table.at[row, "benchmark"]
        if np.isnan(benchmark):
            continue
        reference = benchmark_draws(
            benchmark,
            table.at[row, "benchmark_n"],
            samples.shape[1],
            rng,
            bounded=table.at[row, "kind"] == "share",
        )
        diff = samples[row] - reference
        comparison[row] = [diff.mean(), *bounds(diff, prob, kind), (diff > 0).mean()]
    table[["diff_mean", "diff_lower", "diff_upper", "p_above_benchmark"]] = comparison
    return table
