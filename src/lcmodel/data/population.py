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

__all__ = ["validate_frame"]

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


def _text(values: pd.Series, column: str, source: str) -> pd.Series:
    text = clean_labels(values).reset_index(drop=True)
    blank = text.isna()
    if blank.any():
        rows = list(np.flatnonzero(blank.to_numpy()))
        raise DataError(f"{source}: column '{column}' is blank ({first_rows(rows)})")
    return text.astype(str)
