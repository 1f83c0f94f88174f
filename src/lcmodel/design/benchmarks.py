"""Benchmarks: matching each area to a national-survey figure and comparing with it.

Matching (``match = "deprivation"``) picks, for an area's nation, the narrowest benchmark
deprivation range containing the area's decile; when the nation has no such row it falls back
to the nation's ``all`` row and says so in ``benchmark_match``. ``match = "national"`` uses the
``all`` row directly. An area whose nation has no usable row gets no benchmark (a warning lists
them) rather than a figure from another nation.

Comparison: the benchmark is itself an estimate. When its sample size ``n`` is known its
uncertainty is carried by draws from ``Beta(estimate * n + 1, (1 - estimate) * n + 1)``
(the posterior of a share under a uniform prior); otherwise it is treated as fixed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from lcmodel.errors import listed

__all__ = ["benchmark_draws", "match_benchmarks"]

MATCH_COLUMNS = ["benchmark", "benchmark_n", "benchmark_source", "benchmark_match"]


def match_benchmarks(
    areas: pd.DataFrame, benchmarks: pd.DataFrame | None, match: str
) -> pd.DataFrame:
    """Choose the benchmark row for each area.

    Parameters
    ----------
    areas
        Validated areas (index ``area``) with ``nation`` and, for deprivation matching,
        ``deprivation_decile``.
    benchmarks
        Validated benchmark rows of one indicator and quantity; ``None`` or no rows gives
        every area an empty benchmark.
    match
        ``"deprivation"`` or ``"national"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by area: ``benchmark`` (value), ``benchmark_n``, ``benchmark_source``
        (source and year) and ``benchmark_match`` (which row was used and why).
    """
    out = pd.DataFrame(index=areas.index, columns=MATCH_COLUMNS)
    out["benchmark"] = np.nan
    out["benchmark_n"] = np.nan
    out["benchmark_source"] = ""
    out["benchmark_match"] = "no benchmark"
    if benchmarks is None or benchmarks.empty:
        return out
    # the choice depends only on an area's nation (and decile): made once per such group,
    # not once per area (tens of thousands of areas share a few dozen groups)
    keys = ["nation", "deprivation_decile"] if match == "deprivation" else ["nation"]
    choices = {}
    for key in areas[keys].drop_duplicates().itertuples(index=False, name=None):
        choices[key] = _choose(benchmarks, key[0], key[1] if len(key) > 1 else None)
    chosen = [choices[key] for key in areas[keys].itertuples(index=False, name=None)]
    found = np.array([choice is not None for choice in chosen], dtype=bool)
    unmatched = [str(area) for area in areas.index[~found]]
    if found.any():
        out.loc[found, MATCH_COLUMNS] = [choice for choice in chosen if choice is not None]
    if unmatched:
        warnings.warn(
            f"no benchmark row for the nation of area(s) {listed(unmatched)}; "
            f"their benchmark columns are empty.",
            UserWarning,
            stacklevel=2,
        )
    out["benchmark"] = out["benchmark"].astype(float)
    out["benchmark_n"] = out["benchmark_n"].astype(float)
    return out


def _choose(benchmarks: pd.DataFrame, nation: str, decile: float | None) -> list | None:
    """The benchmark columns of one nation (and decile, when matching by deprivation).

    By deprivation: the narrowest range holding the decile, else the nation's ``all`` row
    (saying that no deprivation-matched row was found); nationally: the ``all`` row. ``None``
    when the nation has no usable row.
    """
    rows = benchmarks[benchmarks["nation"] == nation]
    chosen, how = None, ""
    if decile is not None:
        ranged = rows[rows["deprivation"] != "all"]
        inside = ranged[
            (ranged["deprivation_low"] <= int(decile)) & (ranged["deprivation_high"] >= int(decile))
        ]
        if len(inside):
            width = inside["deprivation_high"] - inside["deprivation_low"]
            chosen = inside.loc[width.astype(int).idxmin()]
            how = f"{nation}, deciles {chosen['deprivation']}"
    if chosen is None:
        national = rows[rows["deprivation"] == "all"]
        if not len(national):
            return None
        chosen = national.iloc[0]
        how = f"{nation}, all areas"
        if decile is not None:
            how += " (no deprivation-matched row)"
    year = str(chosen.get("year") or "")
    source = str(chosen["source"])
    if year:
        source = f"{source} ({year})" if source else year
    n = float(chosen["n"]) if not pd.isna(chosen["n"]) else np.nan
    return [float(chosen["estimate"]), n, source, how]


def benchmark_draws(
    estimate: float, n: float, size: int, rng: np.random.Generator, bounded: bool = True
) -> np.ndarray:
    """Draws representing a benchmark and its sampling uncertainty.

    Parameters
    ----------
    estimate
        The published figure (a share in [0, 1] when ``bounded``).
    n
        Its sample size, or NaN when unknown (the figure is then treated as fixed).
    size
        Number of draws (one per posterior draw).
    rng
        Random generator (seeded by the fit, so results are reproducible).
    bounded
        Whether the figure is a share (Beta draws) rather than an unbounded mean.
    """
    if np.isnan(n) or not bounded:
        return np.full(size, estimate)
    return rng.beta(estimate * n + 1.0, (1.0 - estimate) * n + 1.0, size=size)
