"""Change across waves: area x wave estimates, changes between two waves, P(improved).

With ``structure.area_wave = "random_walk"`` every area has its own path over the waves (see
:mod:`lcmodel.models.unit_level`), and the posterior holds ``area_wave_value`` (dims ``area, wave,
quantity``): each area's reference population (its respondents' covariate mix, or its frame
cells) evaluated at every wave. A change between two waves is the difference of those draws, so
its interval and the probability of an improvement carry the full posterior uncertainty,
including the correlation between the two waves' estimates of the same area. An area-level
(Fay-Herriot) spec with ``[area_level] wave`` has the same variable
(:mod:`lcmodel.models.fay_herriot`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from lcmodel.data.common import AREA, WAVE
from lcmodel.errors import LcmodelError, listed
from lcmodel.results.estimates import bounds, interval_label, row_draws, summarise_draws

__all__ = ["CHANGE_COLUMNS", "WAVE_COLUMNS", "changes", "wave_estimates"]


WAVE_COLUMNS = [
    AREA,
    "name",
    WAVE,
    "quantity",
    "n",
    "direct",
    "direct_se",
    "mean",
    "sd",
    "cv",
    "lower",
    "upper",
    "interval",
    "reliability",
    "benchmark",
    "diff_mean",
    "p_above_benchmark",
]
"""Columns of :func:`wave_estimates`, in order."""

CHANGE_COLUMNS = [
    AREA,
    "name",
    "quantity",
    "from_wave",
    "to_wave",
    "n_from",
    "n_to",
    "change_mean",
    "change_lower",
    "change_upper",
    "interval",
    "p_increase",
    "p_improved",
]
"""Columns of :func:`changes`, in order."""


def _draws(posterior: xr.Dataset, table: pd.DataFrame) -> np.ndarray:
    if "area_wave_value" not in posterior:
        raise LcmodelError(
            'this fit has no area x wave estimates; set structure.area_wave = "random_walk" '
            "in the spec (it needs a wave column), or [area_level] wave in an area-level spec"
        )
    return row_draws(posterior["area_wave_value"], table)[0]


def wave_estimates(
    posterior: xr.Dataset,
    inputs: pd.DataFrame,
    *,
    prob: float,
    kind: str,
    seed: int,
    cv_thresholds: tuple[float, float],
) -> pd.DataFrame:
    """Per area, wave and quantity: posterior summary and benchmark comparison.

    Parameters
    ----------
    posterior
        Posterior with ``area_wave_value``.
    inputs
        From :func:`wave_inputs`.
    prob, kind, seed, cv_thresholds
        As for :func:`lcmodel.results.estimates.area_estimates`.
    """
    samples = _draws(posterior, inputs)
    table = summarise_draws(inputs, samples, prob, kind, seed, cv_thresholds)
    return table.reindex(columns=WAVE_COLUMNS)


def changes(
    posterior: xr.Dataset,
    inputs: pd.DataFrame,
    *,
    first: int,
    last: int,
    prob: float,
    kind: str,
    higher_is_better: bool,
    headline: str,
) -> pd.DataFrame:
    """Per area and quantity: the change from wave ``first`` to wave ``last``.

    Parameters
    ----------
    posterior
        Posterior with ``area_wave_value``.
    inputs
        From :func:`wave_inputs`.
    first, last
        The two waves compared.
    prob, kind
        Interval probability and kind.
    higher_is_better
        Whether an increase of the headline quantity is an improvement (``p_improved`` is
        ``p_increase`` when true, else its complement).
    headline
        The quantity ``higher_is_better`` speaks of. Other quantities (single categories,
        bands) have no stated direction, so their ``p_improved`` is left empty.
    """
    waves = sorted(inputs[WAVE].unique())
    for wave in (first, last):
        if wave not in waves:
            raise LcmodelError(f"no wave {wave} in this fit; waves are {listed(waves, None)}")
    before = inputs[inputs[WAVE] == first].reset_index(drop=True)
    after = inputs[inputs[WAVE] == last].reset_index(drop=True)
    difference = _draws(posterior, after) - _draws(posterior, before)
    limits = np.array([bounds(row, prob, kind) for row in difference])
    increase = (difference > 0).mean(axis=1)
    table = before[[AREA, "name", "quantity"]].copy()
    table["from_wave"], table["to_wave"] = first, last
    table["n_from"], table["n_to"] = before["n"].to_numpy(), after["n"].to_numpy()
    table["change_mean"] = difference.mean(axis=1)
    table["change_lower"], table["change_upper"] = limits[:, 0], limits[:, 1]
    table["interval"] = interval_label(prob, kind)
    table["p_increase"] = increase
    improved = increase if higher_is_better else 1.0 - increase
    table["p_improved"] = np.where(table["quantity"] == headline, improved, np.nan)
    return table.reindex(columns=CHANGE_COLUMNS)
