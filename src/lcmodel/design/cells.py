"""Sufficient-statistic cells: respondents collapsed by area x wave x covariate levels.

With categorical covariates, respondents who share an area, a wave and every covariate level
have the same linear predictor, so they are exchangeable: the likelihood of their answers
depends only on how many they are and on their summed outcome counts. Collapsing rows into
cells leaves the posterior unchanged and makes every gradient evaluation proportionally cheaper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lcmodel.families.base import UNIT

__all__ = ["UNIT", "Cells", "aggregate", "as_rows"]


@dataclass(frozen=True)
class Cells:
    """Observation units for the likelihood.

    Attributes
    ----------
    keys
        One row per unit with the grouping columns (``area``, ``wave``, covariates).
    trials
        Respondents in each unit.
    counts
        Summed outcome count columns, shape ``(units, columns)``.
    """

    keys: pd.DataFrame
    trials: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)


def aggregate(respondents: pd.DataFrame, keys: list[str], count_columns: list[str]) -> Cells:
    """Collapse respondents into cells of identical ``keys``.

    Parameters
    ----------
    respondents
        Validated respondents (see :class:`lcmodel.data.survey.SurveyData`).
    keys
        Grouping columns; every respondent in a cell must share the linear predictor.
    count_columns
        Outcome count columns to sum within each cell.

    Returns
    -------
    Cells
        Cells sorted by ``keys``.
    """
    grouped = respondents.groupby(keys, sort=True, observed=True)
    summed = grouped[count_columns].sum()
    trials = grouped.size().to_numpy(dtype=np.int64)
    return Cells(
        keys=summed.index.to_frame(index=False),
        trials=trials,
        counts=summed.to_numpy(),  # integer counts stay integers, Gaussian sums stay floats
    )


def as_rows(respondents: pd.DataFrame, keys: list[str], count_columns: list[str]) -> Cells:
    """One unit per respondent (the unaggregated model, for checks and benchmarks).

    Parameters
    ----------
    respondents
        Validated respondents.
    keys
        Columns of the linear predictor.
    count_columns
        Outcome count columns.
    """
    return Cells(
        keys=respondents[keys].reset_index(drop=True),
        trials=np.ones(len(respondents), dtype=np.int64),
        counts=respondents[count_columns].to_numpy(),
    )
