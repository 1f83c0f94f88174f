"""Smoothed design effects: area design effects that do not rest on a handful of respondents.

A direct design effect ``d_i`` (:mod:`lcmodel.design.direct`) from ``n_i`` respondents is a noisy
estimate: as a ratio of variance estimates, ``log d_i`` has sampling variance of about
``2 / (n_i - 1)``. The binomial Fay-Herriot model with modelled variances uses effective sizes
``n_i / D_i`` with each ``D_i`` shrunk towards the areas' typical design effect by a normal-normal
model on the log scale (a generalised variance function with an area-level random term)::

    log d_i ~ Normal(log D_i, 2 / (n_i - 1)),   log D_i ~ Normal(mu, tau^2)

``mu`` and ``tau^2`` are estimated by the Paule-Mandel moment equations; each ``log D_i`` is its
posterior mean given them. Areas without a usable direct design effect (one respondent, or every
answer alike) get ``exp(mu)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["smoothed_design_effects", "smoothed_effective_sizes"]


def smoothed_design_effects(n: np.ndarray, deff: np.ndarray) -> np.ndarray:
    """Design effects shrunk towards the areas' typical one, by how many respondents back them.

    Parameters
    ----------
    n
        Respondents per area.
    deff
        Direct design effects (NaN where undefined).

    Returns
    -------
    numpy.ndarray
        One smoothed design effect per area (``exp(mu)`` where the direct one is unusable; 1 when
        no area has one).
    """
    n = np.asarray(n, dtype=float)
    deff = np.asarray(deff, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        usable = (n >= 2) & np.isfinite(deff) & (deff > 0)
    if not usable.any():
        return np.ones_like(n)
    x = np.log(deff[usable])
    v = 2.0 / (n[usable] - 1.0)

    def centre(tau2: float) -> float:
        w = 1.0 / (v + tau2)
        return float(np.sum(w * x) / np.sum(w))

    def excess(tau2: float) -> float:
        """Weighted residual sum of squares less its degrees of freedom (Paule-Mandel)."""
        return float(np.sum((x - centre(tau2)) ** 2 / (v + tau2))) - (len(x) - 1)

    tau2 = 0.0
    if len(x) > 1 and excess(0.0) > 0:
        from scipy.optimize import brentq  # lazily: scipy.optimize takes 0.16 s to import

        tau2 = brentq(excess, 0.0, float(np.var(x) * len(x) + v.max()))
    mu = centre(tau2)
    out = np.full_like(n, np.exp(mu))
    out[usable] = np.exp(mu + tau2 / (tau2 + v) * (x - mu))
    return out


def smoothed_effective_sizes(areas: pd.DataFrame) -> pd.Series:
    """``n / D`` with ``D`` the smoothed design effects, where an area has an estimate.

    The direct design effect is the survey's (:mod:`lcmodel.design.direct`) or, from a table,
    ``v (n - 1) / (y (1 - y))``: ``y (1 - y) / (n - 1)`` is the unbiased estimate of a share's
    variance under simple random sampling.
    """
    estimate, n = areas["estimate"], areas["n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        direct = areas["variance"] * (n - 1.0) / (estimate * (1.0 - estimate))
    if "deff" in areas.columns:
        direct = areas["deff"]
    smoothed = smoothed_design_effects(n.to_numpy(), direct.to_numpy())
    return (n / smoothed).where(estimate.notna())
