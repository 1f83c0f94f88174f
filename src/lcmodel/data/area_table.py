"""Area tables: published direct estimates with their sampling variances, one row per area.

The input of a Fay-Herriot model fitted to an area table (``[area_level] table``): validated
here, like every other raw input, with errors that name the file, column, rows and the fix.
With ``[area_level] wave`` the table has one row per area and wave instead (each pair at most
once), and covariates may differ between an area's rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lcmodel.data.common import AREA, WAVE, clean_labels
from lcmodel.data.survey import integer_column, numeric_column
from lcmodel.errors import DataError, did_you_mean, first_rows, listed, shown
from lcmodel.io.tables import read_table
from lcmodel.spec import AreaLevelSection

__all__ = ["area_covariates", "area_population_sizes", "load_area_table"]


def load_area_table(section: AreaLevelSection) -> tuple[pd.DataFrame, pd.Series | None]:
    """Read and validate the area table an area-level spec names.

    Parameters
    ----------
    section
        The spec's ``[area_level]`` table (with ``table``, ``estimate``, ``variance``, ...).

    Returns
    -------
    tuple
        The table (index ``area``: ``estimate``, ``variance``, ``n_eff`` and the covariates;
        blank estimates stay NaN) and the sample sizes (``None`` without an ``n`` column).
        With ``wave``: one row per area and wave, every area at every wave of the table
        (areas in the order they first appear, waves in increasing order), the wave in column
        ``wave``; a pair the table lacks gets blank estimate and variance (it is predicted),
        which needs the table to have no covariates (they would be unknown there).
    """
    source = str(section.table)
    frame = read_table(section.table, "area estimates")
    columns = [section.area, *([section.wave] if section.wave else [])]
    columns += [section.estimate, section.variance]
    columns += [section.n] if section.n else []
    columns += section.covariates + section.numeric_covariates
    columns += [section.population] if section.population else []
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise DataError(
            f"{source}: column '{absent[0]}' named in [area_level] is missing"
            f"{did_you_mean(str(absent[0]), list(frame.columns))}; columns: "
            f"{', '.join(frame.columns)}"
        )
    area = clean_labels(frame[section.area]).reset_index(drop=True)
    if area.isna().any():
        rows = list(np.flatnonzero(area.isna().to_numpy()))
        raise DataError(
            f"{source}: column '{section.area}' is blank ({first_rows(rows)}); every row "
            f"needs its area"
        )
    wave = _waves(frame, section.wave, area, section.area, source) if section.wave else None
    if wave is None:
        repeated = area.duplicated(keep=False)
        if repeated.any():
            rows = list(np.flatnonzero(repeated.to_numpy()))
            raise DataError(
                f"{source}: area '{area.iloc[rows[0]]}' appears more than once in column "
                f"'{section.area}' ({first_rows(rows)}); give one row per area"
            )
    table = pd.DataFrame(index=pd.Index(area.to_numpy(), name=AREA))
    for key, column in [("estimate", section.estimate), ("variance", section.variance)]:
        table[key] = _numbers(frame[column], column, source).to_numpy()
    blank = table["estimate"].isna() != table["variance"].isna()
    if blank.any():
        rows = list(np.flatnonzero(blank.to_numpy()))
        raise DataError(
            f"{source}: an estimate without its variance, or a variance without its "
            f"estimate ({first_rows(rows)}); give both, or leave both blank for an area to "
            f"be estimated from its covariates alone"
        )
    binomial = section.likelihood == "binomial"
    variance = table["variance"]
    zero_allowed = binomial or section.variance_model == "modelled"
    bad = variance.notna() & ~(variance >= 0 if zero_allowed else variance > 0)
    if bad.any():
        rows = list(np.flatnonzero(bad.to_numpy()))
        need = "zero or positive" if zero_allowed else "positive"
        raise DataError(
            f"{source}: column '{section.variance}' must hold {need} sampling variances, "
            f"not {shown(variance.iloc[rows[0]])} ({first_rows(rows)}). A zero variance cannot "
            f"be a known sampling variance of a normal model: give an 'n' column so that "
            f'variances are modelled, or for shares use likelihood = "binomial"'
        )
    estimate = table["estimate"]
    if section.kind == "share":
        outside = estimate.notna() & ~estimate.between(0, 1)
        if outside.any():
            rows = list(np.flatnonzero(outside.to_numpy()))
            raise DataError(
                f"{source}: column '{section.estimate}' holds shares (kind = \"share\"), so "
                f"values lie in 0-1, not {shown(estimate.iloc[rows[0]])} ({first_rows(rows)}); "
                f"percentages? divide by 100"
            )
    n = None
    if section.n:
        n = _numbers(frame[section.n], section.n, source)
        n.index = table.index
        small = n.notna() & ~(n > 0)
        if small.any():
            rows = list(np.flatnonzero(small.to_numpy()))
            raise DataError(
                f"{source}: column '{section.n}' must hold positive sample sizes, not "
                f"{shown(n.iloc[rows[0]])} ({first_rows(rows)})"
            )
    table["n_eff"] = np.nan
    if binomial:
        with np.errstate(divide="ignore", invalid="ignore"):
            implied = estimate * (1 - estimate) / variance
        usable = estimate.between(0, 1, inclusive="neither") & (variance > 0)
        fallback = n if n is not None else np.nan
        table["n_eff"] = implied.where(usable, fallback).where(estimate.notna())
        lacking = estimate.notna() & table["n_eff"].isna()
        if lacking.any():
            rows = list(np.flatnonzero(lacking.to_numpy()))
            raise DataError(
                f"{source}: the share in {first_rows(rows)} is 0 or 1 or has a zero "
                f"variance, so its effective sample size must come from a sample size "
                f'column: name it in [area_level] n = "..."'
            )
    covariates = area_covariates(frame.reset_index(drop=True), section, source)
    for column in covariates.columns:
        table[column] = covariates[column].to_numpy()
    if section.population:
        sampled = n.fillna(0.0) if n is not None else pd.Series(0.0, index=table.index)
        sizes = area_population_sizes(
            frame.reset_index(drop=True).assign(**{AREA: table.index}),
            section.population,
            sampled.where(table["estimate"].notna(), 0.0).to_numpy(),
            source,
        )
        table["population"] = sizes
    if wave is not None:
        table.insert(0, WAVE, wave.to_numpy())
        return _every_wave(table, n, section, source)
    return table, n


def _waves(
    frame: pd.DataFrame, column: str, area: pd.Series, area_column: str, source: str
) -> pd.Series:
    """The wave of every row: whole numbers, each area's at most once, two waves or more."""
    values = frame[column].reset_index(drop=True)
    blank = values.isna() | (values.astype(str).str.strip() == "")
    if blank.any():
        rows = list(np.flatnonzero(blank.to_numpy()))
        raise DataError(
            f"{source}: column '{column}' (the wave) is blank ({first_rows(rows)}); every row "
            f"needs its wave"
        )
    wave = integer_column(values, column, source)
    pairs = pd.DataFrame({AREA: area.to_numpy(), WAVE: wave.to_numpy()})
    repeated = pairs.duplicated(keep=False)
    if repeated.any():
        rows = list(np.flatnonzero(repeated.to_numpy()))
        first = pairs.iloc[rows[0]]
        raise DataError(
            f"{source}: area '{first[AREA]}' has wave {shown(first[WAVE])} more than once "
            f"(columns '{area_column}' and '{column}', {first_rows(rows)}); give one row per "
            f"area and wave"
        )
    if wave.nunique() < 2:
        raise DataError(
            f"{source}: column '{column}' holds a single wave ({shown(wave.iloc[0])}); "
            f"area x wave effects need at least two. Drop 'wave' from [area_level]"
        )
    return wave


def _every_wave(
    table: pd.DataFrame, n: pd.Series | None, section: AreaLevelSection, source: str
) -> tuple[pd.DataFrame, pd.Series | None]:
    """Every area at every wave, areas in order of appearance and waves increasing."""
    areas = pd.unique(table.index.to_numpy())
    waves = np.sort(table[WAVE].unique())
    grid = pd.MultiIndex.from_product([areas, waves], names=[AREA, WAVE])
    given = pd.MultiIndex.from_arrays([table.index, table[WAVE]], names=[AREA, WAVE])
    missing = grid.difference(given, sort=False)
    covariates = section.covariates + section.numeric_covariates
    if len(missing) and covariates:
        pairs = [f"{a} at wave {w}" for a, w in missing]
        raise DataError(
            f"{source}: area(s) {listed(pairs)} have no row, so their covariates "
            f"({listed(covariates, None)}) are unknown; add a row for every area and wave "
            f"(leave estimate and variance blank where there is no direct estimate)"
        )
    out = table.drop(columns=WAVE).set_axis(given).reindex(grid)
    if n is not None:
        n = pd.Series(n.to_numpy(), index=given).reindex(grid)
        n.index = out.index.get_level_values(AREA)
    out = out.reset_index(WAVE)
    return out, n


def area_population_sizes(
    frame: pd.DataFrame, column: str, sampled: np.ndarray, source: str
) -> np.ndarray:
    """Each area's number of population units, checked against its sample size.

    Parameters
    ----------
    frame
        One row per area, with an ``area`` column and ``column``.
    column
        The column of population sizes (``[area_level] population``).
    sampled
        Each area's sampled units (0 where it has no direct estimate).
    source
        The file, for the messages.

    Returns
    -------
    numpy.ndarray
        The sizes, whole numbers at least 1 and at least the area's sample size.
    """
    if column not in frame.columns:
        raise DataError(
            f"{source}: column '{column}' named in [area_level] population is missing"
            f"{did_you_mean(column, list(frame.columns))}; columns: {', '.join(frame.columns)}"
        )
    fix = "Give every area its number of population units."
    sizes = numeric_column(frame[column].reset_index(drop=True), column, source, fix)
    values = sizes.to_numpy(dtype=float)
    areas = frame[AREA].to_numpy()
    bad = np.isnan(values) | (values < 1) | (values != np.round(values))
    if bad.any():
        raise DataError(
            f"{source}: column '{column}' must hold whole numbers of population units, at "
            f"least 1, for every area; area(s) {listed(areas[bad])} have "
            f"{listed(sizes[bad])}. {fix}"
        )
    short = values < sampled
    if short.any():
        raise DataError(
            f"{source}: area(s) {listed(areas[short])} have fewer population units "
            f"({listed(values[short])}) than sampled units ({listed(sampled[short])}) in "
            f"column '{column}'; the population must hold the sample (or set estimand = "
            f"'superpopulation')"
        )
    return values


def _numbers(values: pd.Series, column: str, source: str) -> pd.Series:
    fix = "Fix the values in the area table."
    return numeric_column(values.reset_index(drop=True), column, source, fix)


def area_covariates(frame: pd.DataFrame, section: Any, source: str) -> pd.DataFrame:
    """The area covariates named in ``[area_level]``: text levels and finite numbers, no blanks.

    ``frame``'s positions are the file's data rows (for the messages); ``source`` names it.
    """
    missing = [c for c in section.covariates + section.numeric_covariates if c not in frame]
    if missing:
        raise DataError(
            f"{source}: area covariate(s) {listed(missing, None)} named in [area_level] are not "
            f"columns of the areas table{did_you_mean(missing[0], list(frame.columns))}"
        )
    out = pd.DataFrame(index=frame.index)
    for column in section.covariates:
        out[column] = clean_labels(frame[column])
    for column in section.numeric_covariates:
        out[column] = numeric_column(frame[column], column, source, "Fix the area covariate.")
    for column in out.columns:
        blank = out[column].isna()
        if blank.any():
            rows = list(np.flatnonzero(blank.to_numpy()))
            where = first_rows(rows)
            if AREA in frame.columns:  # a validated areas table: name the areas
                where = f"area(s) {listed(frame[AREA].iloc[rows])}"
            raise DataError(
                f"{source}: area covariate '{column}' is blank ({where}); give every area a "
                f"value or drop it from [area_level]"
            )
    return out.astype({c: str for c in section.covariates})
