"""Prior distributions: a small, declarative, validated vocabulary.

A prior is written in a spec as an inline table, for example
``sigma_area = { dist = "HalfNormal", sigma = 0.5 }``. Only the distributions listed in
:data:`DISTRIBUTIONS` are accepted, with exactly their named parameters, so a spec can never
run code. Each model term declares which *support* its prior needs (a real-valued effect, a
positive scale, or a zero-sum categorical effect) and a prior of the wrong kind is an error.

``pymc_extras.prior.Prior`` would be the natural library type here, but pymc-extras 0.15
pins ``pymc<6.4``; this module is the thin equivalent lcmodel needs until that is lifted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from lcmodel.errors import SpecError, did_you_mean, plain

__all__ = [
    "DISTRIBUTIONS",
    "PriorSpec",
    "PriorTerm",
    "Support",
    "check_prior_overrides",
]

Support = Literal["real", "positive", "zerosum", "unit", "correlation"]

RANGES: dict[str, tuple[float, float]] = {
    "real": (-math.inf, math.inf),
    "positive": (0.0, math.inf),
    "unit": (0.0, 1.0),
    "correlation": (-1.0, 1.0),
}
"""The values each support spans (``zerosum`` effects are real, under a constraint)."""


@dataclass(frozen=True)
class _Distribution:
    params: tuple[str, ...]
    support: Support
    positive_params: tuple[str, ...]


DISTRIBUTIONS: dict[str, _Distribution] = {
    "Normal": _Distribution(("mu", "sigma"), "real", ("sigma",)),
    "StudentT": _Distribution(("nu", "mu", "sigma"), "real", ("nu", "sigma")),
    "Cauchy": _Distribution(("alpha", "beta"), "real", ("beta",)),
    "HalfNormal": _Distribution(("sigma",), "positive", ("sigma",)),
    "HalfStudentT": _Distribution(("nu", "sigma"), "positive", ("nu", "sigma")),
    "HalfCauchy": _Distribution(("beta",), "positive", ("beta",)),
    "Exponential": _Distribution(("lam",), "positive", ("lam",)),
    "Gamma": _Distribution(("alpha", "beta"), "positive", ("alpha", "beta")),
    "LogNormal": _Distribution(("mu", "sigma"), "positive", ("sigma",)),
    "ZeroSumNormal": _Distribution(("sigma",), "zerosum", ("sigma",)),
    "Beta": _Distribution(("alpha", "beta"), "unit", ("alpha", "beta")),
    "Uniform": _Distribution(("lower", "upper"), "real", ()),
}
"""Distributions a spec may name, with their parameters and the support they give."""


class PriorSpec(BaseModel):
    """One prior: a distribution name and its numeric parameters.

    Examples
    --------
    >>> PriorSpec(dist="Normal", mu=0, sigma=2.5)
    PriorSpec(Normal(mu=0.0, sigma=2.5))
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    dist: str

    @model_validator(mode="after")
    def _check(self) -> PriorSpec:
        if self.dist not in DISTRIBUTIONS:
            raise ValueError(
                f"unknown distribution '{self.dist}'{did_you_mean(self.dist, DISTRIBUTIONS)}; "
                f"choose one of {', '.join(DISTRIBUTIONS)}"
            )
        spec = DISTRIBUTIONS[self.dist]
        given = dict(self.model_extra or {})
        unknown = [k for k in given if k not in spec.params]
        if unknown:
            raise ValueError(
                f"{self.dist} has no parameter '{unknown[0]}'"
                f"{did_you_mean(unknown[0], spec.params)}; its parameters are "
                f"{', '.join(spec.params)}"
            )
        missing = [k for k in spec.params if k not in given]
        if missing:
            raise ValueError(f"{self.dist} needs parameter(s) {', '.join(missing)}")
        for key, value in given.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(
                    f"{self.dist} parameter '{key}' must be a number, got {plain(value)!r}"
                )
            if not math.isfinite(value):
                raise ValueError(f"{self.dist} parameter '{key}' must be finite, got {value}")
            if key in spec.positive_params and not value > 0:
                raise ValueError(f"{self.dist} parameter '{key}' must be > 0, got {value}")
        if self.dist == "Uniform" and not given["lower"] < given["upper"]:
            raise ValueError(
                f"Uniform needs lower < upper, got lower={given['lower']}, upper={given['upper']}"
            )
        return self

    @property
    def params(self) -> dict[str, float]:
        """The distribution's parameters as floats, in their canonical order."""
        extra = self.model_extra or {}
        return {k: float(extra[k]) for k in DISTRIBUTIONS[self.dist].params}

    @property
    def support(self) -> Support:
        """What values the distribution gives: real, positive, zero-sum effects or unit (0-1)."""
        return DISTRIBUTIONS[self.dist].support

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"PriorSpec({self.dist}({args}))"

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.dist}({args})"

    def to_dict(self) -> dict[str, Any]:
        """Return the prior as the inline-table dictionary a spec would hold."""
        return {"dist": self.dist, **self.params}

    def check_support(self, term: str, support: Support) -> None:
        """Raise :class:`SpecError` when this prior cannot serve a term of ``support``.

        A ``Uniform(lower, upper)`` serves any term whose values span its bounds (for example
        ``Uniform(-1, 1)`` a correlation, ``Uniform(0, 100)`` a positive scale); every other
        distribution serves terms of exactly its own support.

        Parameters
        ----------
        term
            Name of the model term (for the message).
        support
            The support the term needs.
        """
        if self.dist == "Uniform" and support in RANGES:
            low, high = RANGES[support]
            bounds = self.params
            if low <= bounds["lower"] and bounds["upper"] <= high:
                return
            raise SpecError(
                f"prior for '{term}' is {self}, which reaches outside the {support} values "
                f"'{term}' takes ({low:g} to {high:g}): keep lower and upper within them"
            )
        if self.support != support:
            allowed = [
                name
                for name, d in DISTRIBUTIONS.items()
                if d.support == support or (name == "Uniform" and support in RANGES)
            ]
            raise SpecError(
                f"prior for '{term}' is {self}, which gives {self.support} values, but "
                f"'{term}' needs a {support} prior: use one of {', '.join(allowed)}"
            )

    def build(self, name: str, **kwargs: Any) -> Any:
        """Create the PyMC random variable inside the current model context.

        Parameters
        ----------
        name
            Variable name in the model.
        **kwargs
            Passed to the distribution (``dims=...``).
        """
        import pymc as pm  # the spec layer itself never needs PyMC

        distribution = getattr(pm, self.dist)
        return distribution(name, **self.params, **kwargs)


@dataclass(frozen=True)
class PriorTerm:
    """A model term with a prior: its default, the support it needs, and why."""

    name: str
    default: PriorSpec
    support: Support
    why: str


def check_prior_overrides(
    terms: dict[str, PriorTerm], overrides: dict[str, PriorSpec], spec_name: str
) -> None:
    """Raise :class:`SpecError` for a spec prior on an unknown term or of the wrong support.

    Parameters
    ----------
    terms
        The model's terms.
    overrides
        The spec's ``[priors]``.
    spec_name
        For the message.
    """
    for name, prior in overrides.items():
        if name not in terms:
            raise SpecError(
                f"spec '{spec_name}': [priors] has '{name}', which is not a term of this model"
                f"{did_you_mean(name, terms)}; terms: {', '.join(terms)}"
            )
        prior.check_support(name, terms[name].support)
