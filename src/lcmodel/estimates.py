"""Area estimates: posterior summaries of area values and their benchmark comparison.

Intervals are equal-tailed (``eti``, the default: invariant to transformations such as
share -> logit, and well defined for skewed posteriors of small areas) or highest-density
(``hdi``), at probability :data:`lcmodel.spec.DEFAULT_INTERVAL` unless asked otherwise. The
``interval`` column of every table states which.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from lcmodel.comparison import benchmark_draws
from lcmodel.data import AREA

__all__ = ["ESTIMATE_COLUMNS", "area_estimates", "interval_label"]

ESTIMATE_COLUMNS = [
    "area",
    "name",
    "nation",
    "deprivation_decile",
    "n",
    "in_sample",
    "direct",
    "mean",
    "sd",
    "lower",
    "upper",
    "interval",
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


def _bounds(draws: np.ndarray, prob: float, kind: str) -> tuple[float, float]:
    """Interval bounds of one quantity's draws (a 1-D array)."""
    if kind == "eti":
        tail = (1.0 - prob) / 2.0
        lower, upper = np.quantile(draws, [tail, 1.0 - tail])
    else:
        lower, upper = az.hdi(draws, prob=prob)
    return float(lower), float(upper)


def area_estimates(
    posterior: xr.Dataset,
    areas: pd.DataFrame,
    *,
    prob: float,
    kind: str,
    seed: int,
    diagnostics_ok: bool,
    bounded: bool = True,
) -> pd.DataFrame:
    """Per-area table: estimate, interval, benchmark comparison and diagnostics.

    Parameters
    ----------
    posterior
        Posterior group with ``area_value`` (dims ``chain, draw, area``).
    areas
        Area inputs (see :func:`lcmodel.fitting.area_inputs`), indexed by area.
    prob, kind
        Interval probability and kind (``"eti"`` or ``"hdi"``).
    seed
        Seed for the benchmark-uncertainty draws (the fit's seed, for reproducibility).
    diagnostics_ok
        Whether the whole fit passed its convergence gates (repeated on every row, so a
        table read on its own still says so).
    bounded
        Whether area values are shares (benchmarks then get Beta uncertainty).

    Returns
    -------
    pandas.DataFrame
        One row per area with :data:`ESTIMATE_COLUMNS`.
    """
    values = posterior["area_value"].transpose(AREA, "chain", "draw")
    draws = values.to_numpy().reshape(values.sizes[AREA], -1)
    order = [str(a) for a in values[AREA].to_numpy()]
    table = areas.reindex(order).copy()
    table["mean"] = draws.mean(axis=1)
    table["sd"] = draws.std(axis=1, ddof=1)
    bounds = np.array([_bounds(row, prob, kind) for row in draws])
    table["lower"], table["upper"] = bounds[:, 0], bounds[:, 1]
    table["interval"] = interval_label(prob, kind)

    rng = np.random.default_rng(seed)
    comparison = np.full((len(order), 4), np.nan)
    for i, area in enumerate(order):
        benchmark = table.at[area, "benchmark"]
        if np.isnan(benchmark):
            continue
        reference = benchmark_draws(
            benchmark, table.at[area, "benchmark_n"], draws.shape[1], rng, bounded
        )
        diff = draws[i] - reference
        comparison[i] = [diff.mean(), *_bounds(diff, prob, kind), (diff > 0).mean()]
    table[["diff_mean", "diff_lower", "diff_upper", "p_above_benchmark"]] = comparison

    table["rhat"] = az.rhat(values.to_dataset(name="v"), sample_dims=["chain", "draw"])[
        "v"
    ].to_numpy()
    table["ess_bulk"] = az.ess(values.to_dataset(name="v"), sample_dims=["chain", "draw"])[
        "v"
    ].to_numpy()
    table["diagnostics_ok"] = diagnostics_ok
    table = table.rename_axis(AREA).reset_index()
    return table.reindex(columns=ESTIMATE_COLUMNS)
