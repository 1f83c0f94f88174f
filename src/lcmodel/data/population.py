"""Population frames for poststratification (MRP): validation against the model.

A frame has one row per area x covariate cell (for example area x age band x sex) with the
cell's population count. Poststratified area values average the model's predictions over these
cells, so the frame and the model must describe the same cells: every area of the areas table,
exactly the covariate levels the model estimates, and positive counts. Every mismatch is an
error naming the file, the column and the offending values; none is repaired silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lcmodel.data.common import AREA, clean_labels
from lcmodel.errors import DataError, did_you_mean, first_rows, listed, shown
from lcmodel.spec import FrameSpec

__all__ = ["area_weights", "check_frame_holds_sample", "validate_frame"]

COUNT = "count"
"""Column of the validated frame holding the population counts."""


def validate_frame(
    frame: pd.DataFrame,
    settings: FrameSpec,
    covariates: list[str],
    respondents: pd.DataFrame,
    areas: pd.DataFrame,
    source: str,
) -> pd.DataFrame:
    """Validate a population frame against the model's areas and covariate levels.

    Parameters
    ----------
    frame
        The raw frame.
    settings
        The spec's ``[frame]`` section (column names).
    covariates
        The model's categorical respondent covariates; the frame needs a column for each.
    respondents
        The validated respondents (their covariate levels are the levels the model estimates).
    areas
        The validated areas table (index ``area``).
    source
        File name for messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``area``, the covariates (as text) and ``count`` (float), one row per cell.
    """
    wanted = [settings.area, *covariates, settings.count]
    for column in wanted:
        if column not in frame.columns:
            raise DataError(
                f"{source}: the population frame has no column '{column}'"
                f"{did_you_mean(column, list(frame.columns))}; it needs the area column, one "
                f"column per covariate of the model ({', '.join(covariates) or 'none'}) and "
                f"the counts. Fix the frame or [frame] in the spec."
            )
    cells = pd.DataFrame({AREA: _text(frame[settings.area], settings.area, source)})
    for column in covariates:
        cells[column] = _text(frame[column], column, source)
    count = pd.to_numeric(frame[settings.count], errors="coerce")
    bad = count.isna() | ~(count > 0) | ~np.isfinite(count)
    if bad.any():
        rows = list(np.flatnonzero(bad.to_numpy()))
        raise DataError(
            f"{source}: column '{settings.count}' must hold positive population counts, not "
            f"{shown(frame[settings.count].iloc[rows[0]])} ({first_rows(rows)}). Drop cells "
            f"with no population rather than giving them 0."
        )
    cells[COUNT] = count.astype(float).to_numpy()
    repeated = cells.duplicated([AREA, *covariates], keep=False)
    if repeated.any():
        rows = list(np.flatnonzero(repeated.to_numpy()))
        raise DataError(
            f"{source}: the cell {listed(cells.loc[rows[0], [AREA, *covariates]])} appears "
            f"more than once ({first_rows(rows)}); give one row per area x covariate cell"
        )
    missing = [a for a in areas.index if a not in set(cells[AREA])]
    if missing:
        raise DataError(
            f"{source}: area(s) {listed(missing)} of the areas table have no cells in the "
            f"population frame; every area (surveyed or not) needs its population"
        )
    unknown = sorted(set(cells[AREA]) - set(areas.index))
    if unknown:
        raise DataError(
            f"{source}: area(s) {listed(unknown)} of the population frame are not in the areas "
            f"table{did_you_mean(unknown[0], list(areas.index))}; add them there or remove them "
            f"from the frame"
        )
    for column in covariates:
        model_levels = set(respondents[column].astype(str))
        frame_levels = set(cells[column])
        extra = sorted(frame_levels - model_levels)
        if extra:
            raise DataError(
                f"{source}: column '{column}' has level(s) {listed(extra)} that no respondent "
                f"has, so the model has no effect for them"
                f"{did_you_mean(extra[0], model_levels)}; levels in the survey: "
                f"{listed(sorted(model_levels), None)}. Recode the frame to the survey's levels."
            )
        absent = sorted(model_levels - frame_levels)
        if absent:
            raise DataError(
                f"{source}: column '{column}' lacks level(s) {listed(absent)} that respondents "
                f"have; the frame must give the population of every level the model estimates"
            )
    return cells


def check_frame_holds_sample(
    cells: pd.DataFrame,
    respondents: pd.DataFrame,
    covariates: list[str],
    by_wave: bool,
    source: str,
) -> None:
    """Check that each frame cell counts at least the respondents sampled from it.

    A finite-population estimate adds the known answers of a cell's respondents to
    predictions for the rest of its population, so every respondent must belong to a frame
    cell and no cell may have more respondents than residents (in any one wave, when waves
    are modelled: each wave samples the same population again).

    Parameters
    ----------
    cells
        The validated frame (:func:`validate_frame`).
    respondents
        The validated respondents.
    covariates
        The model's categorical respondent covariates (the frame's cell columns).
    by_wave
        Whether respondents are counted per wave.
    source
        File name of the frame for messages.

    Raises
    ------
    DataError
        Naming the first cell that lacks its respondents' population.
    """
    keys = [AREA, *covariates]
    group = keys + (["wave"] if by_wave else [])
    sampled = respondents.groupby(group, sort=True, observed=True).size().rename("sampled")
    joined = sampled.reset_index().merge(cells[[*keys, COUNT]], on=keys, how="left")
    absent = joined[joined[COUNT].isna()]
    if len(absent):
        raise DataError(
            f"{source}: {len(absent)} cell(s) with respondents are not in the population "
            f"frame, for example {_cell(absent.iloc[0], keys)}; a finite-population "
            f"estimate needs every sampled cell's population. Add the cells to the frame, "
            f"or set estimand = 'superpopulation' in the spec."
        )
    over = joined[joined["sampled"] > joined[COUNT]]
    if len(over):
        row = over.iloc[0]
        where = " in one wave" if by_wave else ""
        raise DataError(
            f"{source}: the cell {_cell(row, keys)} has {int(row['sampled'])} "
            f"respondents{where} but a population count of {float(row[COUNT]):g}; counts "
            f"must be population units, at least the number sampled. Fix the counts, or "
            f"set estimand = 'superpopulation' in the spec."
        )


def _cell(row: pd.Series, keys: list[str]) -> str:
    """A frame cell for messages: ``area 'A01', sex 'female'``."""
    return ", ".join(f"{key} '{row[key]}'" for key in keys)


def _text(values: pd.Series, column: str, source: str) -> pd.Series:
    text = clean_labels(values).reset_index(drop=True)
    blank = text.isna()
    if blank.any():
        rows = list(np.flatnonzero(blank.to_numpy()))
        raise DataError(f"{source}: column '{column}' is blank ({first_rows(rows)})")
    return text.astype(str)


def area_weights(areas: pd.DataFrame, column: str, source: str, n: pd.Series) -> np.ndarray:
    """Each area's weight for ``[calibrate]``: a column of the areas table, or ``n``.

    Parameters
    ----------
    areas
        One row per area (the model's order), with the column.
    column
        ``"n"`` (the sample sizes ``n``) or a column of ``areas``.
    source
        The areas table, for messages.
    n
        Each area's sample size, in the same order.

    Raises
    ------
    DataError
        When the column is missing, blank, negative or all zero.
    """
    if column == "n":
        values = n.to_numpy(dtype=float)
    else:
        if column not in areas.columns:
            raise DataError(
                f"{source}: [calibrate] weights column '{column}' not found"
                f"{did_you_mean(column, list(areas.columns))}; name a column of the areas "
                f'table holding each area\'s population, or use weights = "n" (sample sizes)'
            )
        values = pd.to_numeric(areas[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            raise DataError(
                f"{source}: [calibrate] weights column '{column}' must hold non-negative "
                f"numbers; area(s) {listed(areas.index[bad])} have "
                f"{shown(areas[column].iloc[int(np.flatnonzero(bad)[0])])}"
            )
    if not values.sum() > 0:
        raise DataError(f"{source}: [calibrate] weights '{column}' are zero in every area")
    return values
