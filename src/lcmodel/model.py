"""The hierarchical area model: linear predictor, priors, and the PyMC model that holds them.

:class:`AreaModel` *holds* a ``pm.Model`` (it does not subclass one). ``build()`` returns the
PyMC model to inspect before any sampling; ``fit()`` samples it and returns a
:class:`~lcmodel.results.FitResult`.

Linear predictor of a respondent in area ``a``, wave ``t``, with covariate levels ``l_k``::

    eta = intercept + sum_k beta_k[l_k] + area_term[a] + wave_effect[t]
    area_term[a] = sum_j gamma_j * x_j[a] + area_effect[a]
    area_effect = sigma_area * z_area,   z_area ~ Normal(0, 1)     (non-centred)
    wave_effect = sigma_wave * z_wave,   z_wave ~ ZeroSumNormal(1)  (non-centred, zero-sum)

Categorical effects (``beta_k``, categorical ``gamma_j``) are zero-sum over their levels, so
no level is a reference and the intercept is the log-odds of an average respondent. Numeric
area covariates are standardised over the areas table before they enter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from lcmodel.cells import Cells, aggregate, as_rows
from lcmodel.data import AREA, SurveyData, load_survey_data
from lcmodel.errors import DataError, SpecError, did_you_mean
from lcmodel.priors import PriorSpec, Support
from lcmodel.spec import ModelSpec, load_spec

if TYPE_CHECKING:
    from pathlib import Path

    from lcmodel.results import FitResult

__all__ = ["AreaModel", "PriorTerm"]

UNIT = "cell"
"""Dimension name of the likelihood's observation units."""


@dataclass(frozen=True)
class PriorTerm:
    """A model term with a prior: its default, the support it needs, and why."""

    name: str
    default: PriorSpec
    support: Support
    why: str


def _prior(dist: str, **params: float) -> PriorSpec:
    return PriorSpec(dist=dist, **params)


class AreaModel:
    """Hierarchical model of one survey indicator across areas (and waves).

    Parameters
    ----------
    spec
        Validated model spec.
    data
        Validated survey data for that spec.

    Examples
    --------
    >>> model = AreaModel.from_spec("models/trust.toml")  # doctest: +SKIP
    >>> model.default_priors()  # doctest: +SKIP
    >>> pymc_model = model.build()  # doctest: +SKIP
    >>> result = model.fit()  # doctest: +SKIP
    """

    def __init__(self, spec: ModelSpec, data: SurveyData) -> None:
        self.spec = spec
        self.data = data
        self.family = data.family
        self.keys: list[str] = [AREA, *(["wave"] if data.wave else []), *data.covariates]
        for column in data.covariates:
            levels = data.respondents[column].unique()
            if len(levels) < 2:
                raise DataError(
                    f"covariate '{column}' has a single level ({levels[0]!r}) among respondents "
                    f"who answered '{spec.outcome.column}'; it cannot be estimated. Drop it from "
                    f"'structure.covariates'."
                )
        self._area_design = self._area_covariate_design()
        self._check_prior_overrides()

    @classmethod
    def from_spec(cls, spec: ModelSpec | str | Path, data: str | Path | None = None) -> AreaModel:
        """Load a spec (path or object) and its data files, and create the model.

        Parameters
        ----------
        spec
            A :class:`ModelSpec` or the path of a TOML spec.
        data
            Optional survey file replacing the spec's ``data``.
        """
        if not isinstance(spec, ModelSpec):
            spec = load_spec(spec)
        return cls(spec, load_survey_data(spec, data))

    # ----------------------------------------------------------------- priors
    def prior_terms(self) -> dict[str, PriorTerm]:
        """Every term with a prior, with its default, required support and rationale."""
        terms = [
            PriorTerm(
                "intercept",
                _prior("Normal", mu=0, sigma=2.5),
                "real",
                "log-odds of an average respondent; sd 2.5 spreads mass over shares 1%-99%",
            ),
            PriorTerm(
                "sigma_area",
                _prior("HalfNormal", sigma=1),
                "positive",
                "between-area sd on the logit scale; 1 allows areas to differ by ~2 logits "
                "while shrinking towards little variation when the data say so",
            ),
        ]
        for column in self.data.covariates:
            terms.append(
                PriorTerm(
                    f"beta_{column}",
                    _prior("ZeroSumNormal", sigma=1),
                    "zerosum",
                    f"effects of {column} levels (zero-sum), sd 1 on the logit scale",
                )
            )
        for column, (kind, _) in self._area_design.items():
            if kind == "numeric":
                terms.append(
                    PriorTerm(
                        f"gamma_{column}",
                        _prior("Normal", mu=0, sigma=1),
                        "real",
                        f"log-odds change per sd of {column} across areas",
                    )
                )
            else:
                terms.append(
                    PriorTerm(
                        f"gamma_{column}",
                        _prior("ZeroSumNormal", sigma=1),
                        "zerosum",
                        f"effects of area {column} levels (zero-sum), sd 1 on the logit scale",
                    )
                )
        if self.data.wave:
            terms.append(
                PriorTerm(
                    "sigma_wave",
                    _prior("HalfNormal", sigma=0.5),
                    "positive",
                    "sd of wave-to-wave shifts on the logit scale; few waves cannot inform a "
                    "wide prior, and shifts beyond ~1 logit are implausible",
                )
            )
        return {t.name: t for t in terms}

    def default_priors(self) -> dict[str, PriorSpec]:
        """The package's default prior for every term of this model."""
        return {name: term.default for name, term in self.prior_terms().items()}

    def priors(self) -> dict[str, PriorSpec]:
        """The priors the model uses: spec overrides on top of the defaults."""
        return self.default_priors() | dict(self.spec.priors)

    def prior_table(self) -> pd.DataFrame:
        """Default and effective prior of every term, with the reason for the default."""
        effective = self.priors()
        rows = [
            {
                "term": name,
                "prior": str(effective[name]),
                "default": str(term.default),
                "source": "spec" if name in self.spec.priors else "default",
                "why": term.why,
            }
            for name, term in self.prior_terms().items()
        ]
        return pd.DataFrame(rows).set_index("term")

    def _check_prior_overrides(self) -> None:
        terms = self.prior_terms()
        for name, prior in self.spec.priors.items():
            if name not in terms:
                raise SpecError(
                    f"spec '{self.spec.name}': [priors] has '{name}', which is not a term of "
                    f"this model{did_you_mean(name, terms)}; terms: {', '.join(terms)}"
                )
            prior.check_support(name, terms[name].support)

    # ----------------------------------------------------------------- design
    def _area_covariate_design(self) -> dict[str, tuple[str, np.ndarray | list[str]]]:
        """Per area covariate: ("numeric", standardised values) or ("categorical", levels)."""
        design: dict[str, tuple[str, np.ndarray | list[str]]] = {}
        areas = self.data.areas
        for column in self.data.area_covariates:
            values = areas[column]
            if pd.api.types.is_numeric_dtype(values):
                x = values.to_numpy(dtype=float)
                sd = x.std()
                if not sd > 0:
                    raise DataError(
                        f"area covariate '{column}' has the same value in every area; it "
                        f"cannot be estimated. Drop it from 'structure.area_covariates'."
                    )
                design[column] = ("numeric", (x - x.mean()) / sd)
            else:
                levels = sorted(values.astype(str).unique())
                if len(levels) < 2:
                    raise DataError(
                        f"area covariate '{column}' has a single level ({levels[0]!r}) in the "
                        f"areas table; it cannot be estimated. Drop it from "
                        f"'structure.area_covariates'."
                    )
                design[column] = ("categorical", levels)
        return design

    def coords(self) -> dict[str, list[Any]]:
        """PyMC coordinates: areas, waves, covariate levels."""
        respondents = self.data.respondents
        coords: dict[str, list[Any]] = {AREA: list(self.data.areas.index)}
        if self.data.wave:
            coords["wave"] = sorted(int(w) for w in respondents["wave"].unique())
        for column in self.data.covariates:
            coords[column] = sorted(respondents[column].unique())
        for column, (kind, levels) in self._area_design.items():
            if kind == "categorical":
                coords[f"area_{column}"] = list(levels)
        return coords

    def units(self, aggregate_cells: bool | None = None) -> Cells:
        """Observation units of the likelihood: cells (default) or respondent rows.

        Parameters
        ----------
        aggregate_cells
            Collapse respondents into cells; ``None`` follows ``spec.fit.aggregate``.
        """
        if aggregate_cells is None:
            aggregate_cells = self.spec.fit.aggregate
        make = aggregate if aggregate_cells else as_rows
        return make(self.data.respondents, self.keys, self.data.count_columns)

    def reference_cells(self) -> pd.DataFrame:
        """The population each area value averages over, with a ``weight`` column.

        A surveyed area averages over its own respondents (sample-standardised). An area in
        the areas table with no respondents averages over the whole sample's covariate mix,
        with its area effect drawn from the area-effect distribution.
        """
        respondents = self.data.respondents
        own = respondents.groupby(self.keys, sort=True, observed=True).size()
        own = own.rename("weight").reset_index()
        unsurveyed = [a for a, n in self.data.areas["n"].items() if n == 0]
        if not unsurveyed:
            return own
        pooled_keys = self.keys[1:]
        if pooled_keys:
            pooled = respondents.groupby(pooled_keys, sort=True, observed=True).size()
            pooled = pooled.rename("weight").reset_index()
        else:
            pooled = pd.DataFrame({"weight": [len(respondents)]})
        borrowed = pd.concat([pooled.assign(**{AREA: area}) for area in unsurveyed])
        return pd.concat([own, borrowed[own.columns]], ignore_index=True)

    def _codes(self, keys: pd.DataFrame, coords: dict[str, list[Any]]) -> dict[str, np.ndarray]:
        codes = {}
        for column in self.keys:
            index = pd.Index(coords[AREA if column == AREA else column])
            codes[column] = index.get_indexer(keys[column])
        return codes

    # ------------------------------------------------------------------ build
    def build(self, aggregate_cells: bool | None = None) -> pm.Model:
        """Create the PyMC model (no sampling).

        Parameters
        ----------
        aggregate_cells
            Likelihood over binomial cells (default) or Bernoulli respondent rows; the
            posterior is the same.

        Returns
        -------
        pymc.Model
            Free variables ``intercept``, ``beta_<covariate>``, ``gamma_<area covariate>``,
            ``sigma_area``, ``z_area``, ``sigma_wave``, ``z_wave``; deterministics
            ``area_effect``, ``wave_effect`` and ``area_value`` (the area quantity, dims
            ``area``).
        """
        priors = self.priors()
        coords = self.coords()
        units = self.units(aggregate_cells)
        reference = self.reference_cells()
        with pm.Model(coords=coords) as model:
            model.add_coord(UNIT, np.arange(len(units)))
            intercept = priors["intercept"].build("intercept")
            beta = {
                column: priors[f"beta_{column}"].build(f"beta_{column}", dims=column)
                for column in self.data.covariates
            }
            sigma_area = priors["sigma_area"].build("sigma_area")
            z_area = pm.Normal("z_area", 0.0, 1.0, dims=AREA)
            area_effect = pm.Deterministic("area_effect", z_area * sigma_area, dims=AREA)
            area_term = area_effect
            for column, (kind, values) in self._area_design.items():
                name = f"gamma_{column}"
                if kind == "numeric":
                    gamma = priors[name].build(name)
                    area_term = area_term + gamma * pt.as_tensor(np.asarray(values))
                else:
                    gamma = priors[name].build(name, dims=f"area_{column}")
                    level = pd.Index(values).get_indexer(
                        self.data.areas[column].astype(str).to_numpy()
                    )
                    area_term = area_term + gamma[level]
            wave_effect = None
            if self.data.wave:
                sigma_wave = priors["sigma_wave"].build("sigma_wave")
                z_wave = pm.ZeroSumNormal("z_wave", sigma=1.0, dims="wave")
                wave_effect = pm.Deterministic("wave_effect", z_wave * sigma_wave, dims="wave")

            def predictor(keys: pd.DataFrame) -> Any:
                codes = self._codes(keys, coords)
                eta = intercept + area_term[codes[AREA]]
                for column, effect in beta.items():
                    eta = eta + effect[codes[column]]
                if wave_effect is not None:
                    eta = eta + wave_effect[codes["wave"]]
                return eta

            self.family.add_likelihood(predictor(units.keys), units.counts, units.trials, UNIT)

            ref_value = self.family.expected_value(predictor(reference))
            ref_area = self._codes(reference, coords)[AREA]
            weight = reference["weight"].to_numpy(dtype=float)
            total = np.bincount(ref_area, weights=weight, minlength=len(coords[AREA]))
            share = weight / total[ref_area]
            area_value = pt.zeros(len(coords[AREA]))[ref_area].inc(share * ref_value)
            pm.Deterministic("area_value", area_value, dims=AREA)
        return model

    # -------------------------------------------------------------------- fit
    def fit(self, *, progressbar: bool = True, **overrides: Any) -> FitResult:
        """Sample the posterior and return a :class:`~lcmodel.results.FitResult`.

        Parameters
        ----------
        progressbar
            Show the sampler's progress bar.
        **overrides
            Any ``[fit]`` setting (``draws``, ``tune``, ``chains``, ``seed``, ``sampler``...).
        """
        from lcmodel.fitting import fit_model

        return fit_model(self, progressbar=progressbar, **overrides)
