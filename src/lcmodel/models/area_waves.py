"""Area x wave effects of area-level models: each area's own deviation at each wave.

``area_wave[a, t]`` adds to the area effect of area ``a`` at wave ``t`` (waves in increasing
order, taken as equally spaced). Three kinds (``[area_level] area_wave``)::

    ar1:          u[a, 1] = sigma / sqrt(1 - rho^2) * z[a, 1]
                  u[a, t] = rho * u[a, t - 1] + sigma * z[a, t]          z ~ Normal(0, 1)
    iid:          u[a, t] = sigma * z[a, t]
    random_walk:  u[a, t] = sigma * (cumsum(e[a, 2..t]) - mean over t),  e ~ Normal(0, 1)

``sigma`` is ``sigma_area_wave`` and ``rho`` is ``rho_area_wave``. ``ar1`` is stationary: every
wave has variance ``sigma^2 / (1 - rho^2)`` and ``Cov(u[a, s], u[a, t]) = sigma^2 rho^|s - t| /
(1 - rho^2)``, the model of ``sae::eblupSTFH`` (Marhuenda, Molina and Morales 2013), where
``sigma^2`` (its ``sigma22``) is the *innovation* variance. ``iid`` is that package's model
``S``. ``random_walk`` is the unit-level model's area x wave effect (centred within each area, so
that the area effect stays the area's average level), written for area-level models too.

Each area's ``ar1`` or ``iid`` effects are centred or not by its data
(:func:`add_area_wave_effect`): non-centred, the free variable is ``z_area_wave`` (the
innovations), so an area whose direct estimates are vague, or missing at some waves, does not
form a funnel with ``sigma_area_wave``; centred, it is the effects themselves
(``area_wave_effect_centred``), so an area whose estimates pin them does not trade its innovations
against ``sigma_area_wave`` and ``rho_area_wave``. The random walk is non-centred (``z_area_wave``,
dims ``area, wave_step``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lcmodel.data.common import AREA, WAVE
from lcmodel.models.terms import prior
from lcmodel.spec.priors import PriorSpec, PriorTerm

__all__ = [
    "AREA_WAVE_KINDS",
    "WAVE_STEP",
    "add_area_wave_effect",
    "ar1_covariance",
    "ar1_from_innovations",
    "ar1_logp",
    "area_wave_terms",
]

AREA_WAVE_KINDS = ("ar1", "iid", "random_walk")
"""Kinds of area x wave effect of an area-level model."""

WAVE_STEP = "wave_step"
"""Dimension of a random walk's steps (every wave but the first)."""


def area_wave_terms(kind: str, scale: float, unit: str) -> list[PriorTerm]:
    """Priors of the area x wave effect: ``sigma_area_wave`` and (``ar1``) ``rho_area_wave``.

    ``sigma_area_wave ~ HalfNormal(0.25 scale)``, as a unit-level model's random walk: an area
    changes less from wave to wave than areas differ, and one area's estimate at one wave is
    noisy, so a tight scale keeps each area's path smooth unless the data insist.
    ``rho_area_wave ~ Uniform(-1, 1)``: flat over every stationary autocorrelation, as
    ``rho_sar``.

    Parameters
    ----------
    kind
        One of :data:`AREA_WAVE_KINDS`.
    scale
        The model's scale (the direct estimates' sd, or 1 on the logit scale).
    unit
        How the scale reads in the rationale.
    """
    what = {
        "ar1": "sd of an area's AR(1) innovation from one wave to the next",
        "iid": "sd of an area's independent deviation at each wave",
        "random_walk": "sd of an area's own step from one wave to the next",
    }[kind]
    terms = [
        PriorTerm(
            "sigma_area_wave",
            prior("HalfNormal", sigma=0.25 * scale),
            "positive",
            f"{what}, scale 0.25 {unit}: areas change slowly, and one area's estimate at one "
            "wave is noisy",
        )
    ]
    if kind == "ar1":
        terms.append(
            PriorTerm(
                "rho_area_wave",
                prior("Uniform", lower=-1, upper=1),
                "correlation",
                "autocorrelation of an area's deviations from one wave to the next: uniform "
                "over (-1, 1), every stationary AR(1)",
            )
        )
    return terms


def add_area_wave_effect(
    kind: str,
    priors: dict[str, PriorSpec],
    centred: np.ndarray | bool = False,
    *,
    wave_dim: str = WAVE,
    step_dim: str = WAVE_STEP,
) -> Any:
    """``area_wave_effect`` (dims ``area, wave``) in the model in context.

    Parameters
    ----------
    kind
        One of :data:`AREA_WAVE_KINDS` (see the module's docstring).
    priors
        The model's priors (``sigma_area_wave``, ``rho_area_wave`` for ``ar1``).
    centred
        Per area (or for all): whether its effects are the free variable
        (``area_wave_effect_centred``, with the exact AR(1) or independent normal log density) or
        follow from standard normal innovations (``z_area_wave``). When both kinds occur the
        two sit over the areas ``area_wave_centred`` and ``area_wave_noncentred``. A random
        walk is always non-centred.
    wave_dim, step_dim
        Names of the model's wave dimension and of a random walk's steps (an indicator of a
        joint model prefixes them with its name).

    Returns
    -------
    tensor
        The effects, shape ``(areas, waves)``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    if kind not in AREA_WAVE_KINDS:
        raise ValueError(f"unknown area x wave effect {kind!r}; choose one of {AREA_WAVE_KINDS}")
    model = pm.modelcontext(None)
    areas, waves = np.asarray(model.coords[AREA]), list(model.coords[wave_dim])
    sigma = priors["sigma_area_wave"].build("sigma_area_wave")
    if kind == "random_walk":
        model.add_coord(step_dim, waves[1:])
        steps = pm.Normal("z_area_wave", 0.0, 1.0, dims=(AREA, step_dim))
        walk = pt.concatenate([pt.zeros((len(areas), 1)), pt.cumsum(steps, axis=1)], axis=1)
        effect = (walk - walk.mean(axis=1, keepdims=True)) * sigma
        return pm.Deterministic("area_wave_effect", effect, dims=(AREA, wave_dim))
    rho = priors["rho_area_wave"].build("rho_area_wave") if kind == "ar1" else None
    centred = np.broadcast_to(np.asarray(centred, bool), (len(areas),))
    mixed = centred.any() and not centred.all()
    if mixed:
        model.add_coord("area_wave_centred", areas[centred])
        model.add_coord("area_wave_noncentred", areas[~centred])
    effect = pt.zeros((len(areas), len(waves)))
    if centred.any():
        dims = ("area_wave_centred" if mixed else AREA, wave_dim)
        if rho is None:
            level = pm.Normal("area_wave_effect_centred", 0.0, sigma, dims=dims)
        else:
            level = pm.CustomDist(
                "area_wave_effect_centred",
                sigma,
                rho,
                np.zeros(len(waves)),  # the series' length, for PyMC's shape inference
                logp=ar1_logp,
                support_point=_zero_support_point,
                signature="(),(),(t)->(t)",
                dims=dims,
            )
        effect = pt.set_subtensor(effect[np.flatnonzero(centred)], level)
    if not centred.all():
        z = pm.Normal(
            "z_area_wave", 0.0, 1.0, dims=("area_wave_noncentred" if mixed else AREA, wave_dim)
        )
        values = sigma * z if rho is None else ar1_from_innovations(z, sigma, rho, len(waves))
        effect = pt.set_subtensor(effect[np.flatnonzero(~centred)], values)
    return pm.Deterministic("area_wave_effect", effect, dims=(AREA, wave_dim))


def ar1_logp(value: Any, sigma: Any, rho: Any, _length: Any = None) -> Any:
    """Log density of stationary AR(1) series along the last axis (one value per series).

    ``Normal(u_1 | 0, sigma / sqrt(1 - rho^2)) + sum_t Normal(u_t | rho u_{t-1}, sigma)``: the
    density of ``Normal(0, ar1_covariance(sigma, rho, T))`` factorised over time.
    """
    import pytensor.tensor as pt

    first = value[..., 0]
    rest = value[..., 1:] - rho * value[..., :-1]
    n = value.shape[-1]
    return (
        0.5 * pt.log1p(-(rho**2))
        - n * pt.log(sigma)
        - 0.5 * n * np.log(2.0 * np.pi)
        - 0.5 * ((1.0 - rho**2) * first**2 + pt.sum(rest**2, axis=-1)) / sigma**2
    )


def _zero_support_point(rv: Any, size: Any, sigma: Any, rho: Any, length: Any) -> Any:
    """Where a centred AR(1) series starts: at zero."""
    import pytensor.tensor as pt

    return pt.zeros_like(length)


def ar1_from_innovations(z: Any, sigma: Any, rho: Any, waves: int) -> Any:
    """A stationary AR(1) along the last axis from standard normal innovations ``z``.

    ``u_1 = sigma / sqrt(1 - rho^2) z_1`` and ``u_t = rho u_{t-1} + sigma z_t``: the first wave
    is drawn from the stationary distribution, so every wave has variance ``sigma^2 / (1 -
    rho^2)``. Written as a loop over the (few) waves.

    Parameters
    ----------
    z
        Innovations, shape ``(..., waves)`` (a tensor or an array).
    sigma, rho
        Innovation sd and autocorrelation, ``|rho| < 1``.
    waves
        The length of the last axis.
    """
    import pytensor.tensor as pt

    z = pt.as_tensor(z)
    values = [sigma / pt.sqrt(1.0 - rho**2) * z[..., 0]]
    for t in range(1, waves):
        values.append(rho * values[-1] + sigma * z[..., t])
    return pt.stack(values, axis=-1)


def ar1_covariance(sigma: float, rho: float, waves: int) -> np.ndarray:
    """The covariance of a stationary AR(1) over ``waves`` equally spaced waves.

    ``sigma^2 rho^|s - t| / (1 - rho^2)``, with ``sigma`` the innovation sd.
    """
    lag = np.abs(np.subtract.outer(np.arange(waves), np.arange(waves)))
    return sigma**2 * rho**lag / (1.0 - rho**2)
