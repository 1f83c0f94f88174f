"""Area covariate design: standardised numeric covariates and the levels of categorical ones.

Every model kind with area covariates uses this one design: a numeric covariate enters
standardised over the areas (mean 0, sd 1), so its coefficient is the change per sd across
areas; a categorical one enters as zero-sum effects of its levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from lcmodel.errors import DataError, shown

__all__ = ["AreaCovariate", "area_covariate_design", "kinds_by_dtype"]


@dataclass(frozen=True)
class AreaCovariate:
    """One area covariate as it enters a model.

    Attributes
    ----------
    name
        Column of the areas table.
    kind
        ``"numeric"`` or ``"categorical"``.
    values
        Numeric: the standardised value of every area. Categorical: each area's level code.
    levels
        Categorical: the sorted levels (empty for numeric covariates).
    """

    name: str
    kind: Literal["numeric", "categorical"]
    values: np.ndarray
    levels: tuple[str, ...] = ()


def area_covariate_design(
    areas: pd.DataFrame,
    kinds: dict[str, Literal["numeric", "categorical"]],
    where: str,
    *,
    centre: bool = True,
) -> list[AreaCovariate]:
    """The design of the area covariates, in the order of ``kinds``.

    Parameters
    ----------
    areas
        One row per area (the model's area order), holding the covariate columns.
    kinds
        Each covariate and whether it is ``"numeric"`` or ``"categorical"``.
    where
        Where the spec lists them, for the message (e.g. ``'structure.area_covariates'``).
    centre
        Centre numeric covariates on their mean (with an intercept, a reparameterisation).
        A model without an intercept sets this to ``False``: centring would then change the
        model, so a numeric covariate is only divided by its sd.

    Raises
    ------
    DataError
        When a covariate cannot be estimated: a single level, or the same value everywhere.
    """
    design = []
    for column, kind in kinds.items():
        if kind == "categorical":
            text = areas[column].astype(str).to_numpy()
            levels = tuple(sorted(set(text)))
            if len(levels) < 2:
                raise DataError(
                    f"area covariate '{column}' has a single level ({shown(levels[0])}) in the "
                    f"areas table; it cannot be estimated. Drop it from {where}."
                )
            codes = pd.Index(levels).get_indexer(text)
            design.append(AreaCovariate(column, "categorical", codes, levels))
            continue
        x = areas[column].to_numpy(dtype=float)
        sd = x.std()
        if not sd > 0:
            raise DataError(
                f"area covariate '{column}' has the same value in every area; it cannot be "
                f"estimated. Drop it from {where}."
            )
        design.append(AreaCovariate(column, "numeric", (x - (x.mean() if centre else 0.0)) / sd))
    return design


def kinds_by_dtype(
    areas: pd.DataFrame, columns: list[str] | tuple[str, ...]
) -> dict[str, Literal["numeric", "categorical"]]:
    """Each column's kind from its type: numbers are numeric, anything else categorical."""
    return {
        c: "numeric" if pd.api.types.is_numeric_dtype(areas[c]) else "categorical" for c in columns
    }
