"""Reusable model terms: area covariates (``gamma_*``) and their priors.

Every model kind builds its area-level linear predictor from the same design
(:func:`lcmodel.design.covariates.area_covariate_design`) and the same priors, here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lcmodel.design.covariates import AreaCovariate
from lcmodel.spec.priors import PriorSpec, PriorTerm

__all__ = ["add_area_covariates", "area_covariate_coords", "area_covariate_terms", "prior"]


def prior(dist: str, **params: float) -> PriorSpec:
    """A default prior with its parameters rounded for display."""
    return PriorSpec(dist=dist, **{k: round(v, 6) for k, v in params.items()})


def area_covariate_terms(design: list[AreaCovariate], scale: float, unit: str) -> list[PriorTerm]:
    """Priors of the area covariate effects: sd 1 on the model's scale.

    Parameters
    ----------
    design
        The area covariates.
    scale
        The model's scale (1 on the logit scale, the outcome's sd for Gaussian outcomes).
    unit
        How the scale reads in the rationale (``"on the logit scale"``, ...).
    """
    terms = []
    for covariate in design:
        name = f"gamma_{covariate.name}"
        if covariate.kind == "numeric":
            terms.append(
                PriorTerm(
                    name,
                    prior("Normal", mu=0, sigma=scale),
                    "real",
                    f"change per sd of {covariate.name} across areas, sd 1 {unit}",
                )
            )
        else:
            terms.append(
                PriorTerm(
                    name,
                    prior("ZeroSumNormal", sigma=scale),
                    "zerosum",
                    f"effects of area {covariate.name} levels (zero-sum), sd 1 {unit}",
                )
            )
    return terms


def area_covariate_coords(design: list[AreaCovariate]) -> dict[str, list[str]]:
    """Dimensions of the categorical area covariates' levels (``area_<column>``)."""
    return {f"area_{c.name}": list(c.levels) for c in design if c.kind == "categorical"}


def add_area_covariates(
    design: list[AreaCovariate],
    priors: dict[str, PriorSpec],
    dim: Callable[[str], str] = str,
) -> Any:
    """Each area's covariate term, ``sum_j gamma_j * x_j[area]``, in the model in context.

    Parameters
    ----------
    design
        The area covariates.
    priors
        The model's priors (``gamma_<column>`` for each covariate).
    dim
        Maps a dimension name to the model's (a joint model prefixes them).

    Returns
    -------
    tensor or float
        One value per area, or ``0.0`` without covariates.
    """
    import pytensor.tensor as pt

    term: Any = 0.0
    for covariate in design:
        name = f"gamma_{covariate.name}"
        if covariate.kind == "numeric":
            gamma = priors[name].build(name)
            term = term + gamma * pt.as_tensor(covariate.values)
        else:
            gamma = priors[name].build(name, dims=dim(f"area_{covariate.name}"))
            term = term + gamma[covariate.values]
    return term
