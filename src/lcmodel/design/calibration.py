"""Internal benchmarking: area values made to add up to a trusted aggregate, draw by draw.

Model-based area estimates need not add up to the figure a statistician trusts for the whole
population: the direct estimate of the whole sample, or a published national figure. With
``[calibrate]`` in a spec, every posterior draw ``theta_d`` of the area values is adjusted so
that its population-weighted mean equals the target ``T`` exactly::

    ratio:       theta*_ad = theta_ad * T / S_d
    difference:  theta*_ad = theta_ad + (T - S_d)
    with         S_d = sum_a w_a theta_ad / sum_a w_a

``w_a`` are the areas' weights (their populations, or their sample sizes). The adjustment is
the same for every area within a draw and varies across draws, so the calibrated posterior
carries the uncertainty of the unadjusted one, less the part the constraint removes: the
aggregate itself. Ratio benchmarking keeps shares of 0 at 0 and scales every area in
proportion (the usual choice for totals and shares, as in Pfeffermann's review); difference
benchmarking shifts every area alike (for means on an interval scale such as the 0-10
wellbeing scores).

A ``target = "direct"`` is the weighted mean of the areas' direct estimates over the areas
that have one, and the constraint then holds over those areas (the adjustment is applied to
every area); a numeric target is a figure for every area, and the constraint holds over all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lcmodel.errors import SpecError

__all__ = ["METHODS", "Calibration", "calibrate", "plan_calibration"]

METHODS = ("ratio", "difference")
"""Benchmarking methods: scale every area's value, or shift it."""


@dataclass(frozen=True)
class Calibration:
    """One calibration of one quantity of one area-value variable.

    Attributes
    ----------
    variable
        The posterior variable (``area_value``, or ``<indicator>::area_value``).
    quantity
        Position of the calibrated quantity on the variable's last dimension.
    weights
        One weight per area (the model's area order), zero for areas outside the constraint.
    target
        The weighted mean every draw is made to have.
    method
        One of :data:`METHODS`.
    label
        What the estimates' ``calibration`` column says.
    """

    variable: str
    quantity: int
    weights: np.ndarray
    target: float
    method: str
    label: str


def calibrate(values: np.ndarray, weights: np.ndarray, target: float, method: str) -> np.ndarray:
    """Adjust each draw so that its weighted mean over the areas equals ``target``.

    Parameters
    ----------
    values
        Draws of the area values, areas on the last axis.
    weights
        One non-negative weight per area, not all zero.
    target
        The weighted mean wanted.
    method
        ``"ratio"`` or ``"difference"``.
    """
    share = np.asarray(weights, dtype=float) / np.sum(weights)
    total = np.sum(values * share, axis=-1, keepdims=True)
    if method == "ratio":
        return values * (target / total)
    if method == "difference":
        return values + (target - total)
    raise ValueError(f"unknown calibration method {method!r}; choose one of {METHODS}")


def plan_calibration(
    settings: object,
    inputs: pd.DataFrame,
    areas: list[str],
    quantities: list[str],
    headline: str,
    weights: np.ndarray,
    variable: str = "area_value",
) -> Calibration:
    """The calibration a spec's ``[calibrate]`` asks for, with its target resolved.

    Parameters
    ----------
    settings
        The spec's ``[calibrate]`` (a :class:`~lcmodel.spec.common.CalibrateSpec`).
    inputs
        The per-area report inputs (``area``, ``quantity``, ``kind``, ``direct``), one row per
        area and quantity.
    areas, quantities
        The model's areas and quantities, in the order of the area values.
    headline
        The quantity calibrated when ``settings.quantity`` is not given.
    weights
        One validated weight per area, in ``areas`` order.
    variable
        The posterior variable to calibrate.

    Raises
    ------
    SpecError
        For a quantity the model does not have, a share target outside (0, 1), or a direct
        target when no area with a direct estimate has a positive weight.
    """
    quantity = settings.quantity or headline  # type: ignore[attr-defined]
    if quantity not in quantities:
        raise SpecError(
            f"[calibrate] quantity '{quantity}' is not a quantity of this model; choose one of "
            f"{', '.join(quantities)}"
        )
    rows = inputs[inputs["quantity"] == quantity].set_index("area").reindex(areas)
    weights = np.asarray(weights, dtype=float)
    method = settings.method  # type: ignore[attr-defined]
    target = settings.target  # type: ignore[attr-defined]
    source = settings.weights  # type: ignore[attr-defined]
    if target == "direct":
        direct = rows["direct"].to_numpy(dtype=float)
        weights = np.where(np.isnan(direct), 0.0, weights)
        if not weights.sum() > 0:
            raise SpecError(
                "[calibrate] target = 'direct' needs areas with a direct estimate and a "
                "positive weight; none has both"
            )
        value = float(np.sum(weights * np.nan_to_num(direct)) / weights.sum())
        what = f"{source}-weighted mean of the direct estimates ({value:.4g})"
    else:
        value = float(target)
        what = f"{value:.4g}"
    kind = str(rows["kind"].iloc[0]) if "kind" in rows.columns else ""
    if kind == "share" and not 0.0 < value < 1.0:
        raise SpecError(f"[calibrate] target {value} is not a share between 0 and 1")
    label = f"{method} benchmarked: {source}-weighted mean of {quantity} = {what}"
    return Calibration(
        variable=variable,
        quantity=quantities.index(quantity),
        weights=weights,
        target=value,
        method=method,
        label=label,
    )
