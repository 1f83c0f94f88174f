"""The unit-level model: one survey indicator modelled from respondents' answers.

:class:`UnitLevelModel` *holds* a ``pm.Model`` (it does not subclass one). ``build()`` returns
the PyMC model to inspect before any sampling; ``fit()`` (from :class:`~lcmodel.models.base.Model`)
samples it and returns a :class:`~lcmodel.results.fit_result.FitResult`.

Linear predictor of a respondent in area ``a``, wave ``t``, with categorical covariate levels
``l_k`` and standardised numeric covariates ``x_m``::

    eta = intercept + sum_k beta_k[l_k] + sum_m beta_m * x_m + area_term[a] + wave_effect[t]
    area_term[a] = sum_j gamma_j * w_j[a] + area_effect[a]
    area_effect = sigma_area * z_area,   z_area ~ Normal(0, 1)     (non-centred)
    wave_effect = sigma_wave * z_wave,   z_wave ~ ZeroSumNormal(1)  (non-centred, zero-sum)

Categorical effects (``beta_k``, categorical ``gamma_j``) are zero-sum over their levels, so
no level is a reference and the intercept is the value for an average respondent. Numeric
covariates are standardised (respondent covariates over respondents, area covariates over the
areas table) before they enter. The family decides the link, whether there is an intercept
(ordinal cutpoints absorb it), and the scale of the default priors (1 on the logit scale, the
outcome's sd for Gaussian outcomes).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lcmodel.data.adjacency import Adjacency, boundary_record
from lcmodel.data.population import area_weights
from lcmodel.data.survey import AREA, SurveyData, load_survey_data
from lcmodel.design.calibration import Calibration, plan_calibration
from lcmodel.design.cells import UNIT, Cells, aggregate, as_rows
from lcmodel.design.covariates import area_covariate_design, kinds_by_dtype
from lcmodel.design.inputs import area_inputs, wave_inputs
from lcmodel.design.reference import (
    area_average,
    area_shares,
    estimand,
    finite_population,
    linear_predictor_keys,
    reference_cells,
)
from lcmodel.errors import SpecError
from lcmodel.families import get_family
from lcmodel.inference.sampling import reproducible_numerics
from lcmodel.models.area_effects import (
    add_area_effect,
    area_effect_terms,
    choose_centring,
    model_neighbourhood,
    neighbourhood_metadata,
)
from lcmodel.models.area_waves import WAVE_STEP, add_area_wave_effect, area_wave_terms
from lcmodel.models.base import Model
from lcmodel.models.terms import (
    add_area_covariates,
    area_covariate_coords,
    area_covariate_terms,
    prior,
)
from lcmodel.spec import ModelSpec, load_spec
from lcmodel.spec.priors import PriorTerm, check_prior_overrides

if TYPE_CHECKING:
    import pymc as pm
    import xarray as xr


__all__ = ["AreaModel", "UnitLevelModel"]

QUANTITY = "quantity"
"""Dimension name of the area quantities (share, category shares, mean)."""

REFERENCE = "reference"
"""Dimension of the reference rows (frame cells), for the finite-population estimand."""

REFERENCE_MIX = "reference_mix"
"""Dimension of the frame cells over every wave, for finite-population area x wave values."""


def _prefixed(prefix: str, dim: str) -> str:
    """Dimension name ``dim`` with ``prefix``; areas are shared and never prefixed."""
    return dim if dim == AREA else f"{prefix}{dim}"


class UnitLevelModel(Model):
    """Hierarchical model of one survey indicator across areas (and waves), from its answers.

    Parameters
    ----------
    spec
        Validated model spec.
    data
        Validated survey data for that spec.

    Examples
    --------
    >>> model = UnitLevelModel.from_spec("models/trust.toml")  # doctest: +SKIP
    >>> model.default_priors()  # doctest: +SKIP
    >>> pymc_model = model.build()  # doctest: +SKIP
    >>> result = model.fit()  # doctest: +SKIP
    """

    kind = "unit_level"

    def __init__(
        self,
        spec: ModelSpec,
        data: SurveyData,
        *,
        adjacency: Adjacency | None = None,
        boundaries: dict[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.data = data
        # the spec's outcome decides the quantities (groups, bands); the data must have been
        # coded for the same outcome
        self.family = get_family(spec.outcome)
        if (
            spec.outcome.column != data.family.outcome.column
            or self.family.count_columns != data.count_columns
        ):
            raise SpecError(
                f"spec '{spec.name}' models '{spec.outcome.column}' ({spec.outcome.family}), but "
                f"the data were prepared for '{data.family.outcome.column}' "
                f"({data.family.name}); prepare the data with this spec"
            )
        self.keys: list[str] = linear_predictor_keys(data)
        respondents = data.respondents
        self._numeric = {
            column: (float(values.mean()), float(values.std()))
            for column in data.numeric_covariates
            for values in [respondents[column].to_numpy(dtype=float)]
        }
        self._scale = self.family.scale(respondents[data.count_columns])
        self._area_design = area_covariate_design(
            data.areas,
            kinds_by_dtype(data.areas, data.area_covariates),
            "'structure.area_covariates'",
        )
        self._area_wave = data.wave and spec.structure.area_wave is not None
        structure = spec.structure
        self.adjacency = model_neighbourhood(
            structure.adjacency, structure.contiguity, data.areas.index, structure.area, adjacency
        )
        """The areas' neighbourhood (``structure.adjacency``), in the model's area order."""
        self.boundaries = boundaries or boundary_record(
            structure.boundaries, structure.adjacency, data.areas.index, structure.area
        )
        """The boundary file of maps, checked, as results record it (``None``: no maps)."""
        self._check_prior_overrides()

    @classmethod
    def from_spec(
        cls, spec: ModelSpec | str | Path, data: str | Path | None = None
    ) -> UnitLevelModel:
        """Load a spec (path or object) and its data files, and create the model.

        Parameters
        ----------
        spec
            A :class:`ModelSpec` or the path of a TOML spec.
        data
            Optional survey file replacing the spec's ``data``.
        """
        if not isinstance(spec, ModelSpec):
            spec = load_spec(spec, cls.kind)
        if data is not None:  # recorded in the spec, so results say which data they used
            spec = spec.with_overrides(data=Path(data).resolve())
        return cls(spec, load_survey_data(spec))

    # ----------------------------------------------------------------- priors
    def prior_terms(self) -> dict[str, PriorTerm]:
        """Every term with a prior, with its default, required support and rationale."""
        s = self._scale
        unit = "on the logit scale" if self.family.link_scale else "outcome sds"
        counts = self.data.respondents[self.data.count_columns]
        family_terms = self.family.prior_terms(counts)
        terms = [t for t in family_terms if t.name == "intercept" and self.family.has_intercept]
        terms += area_effect_terms(self.spec.structure.area_effect, s, unit)
        for column in self.data.covariates:
            terms.append(
                PriorTerm(
                    f"beta_{column}",
                    prior("ZeroSumNormal", sigma=s),
                    "zerosum",
                    f"effects of {column} levels (zero-sum), sd 1 {unit}",
                )
            )
        for column in self.data.numeric_covariates:
            terms.append(
                PriorTerm(
                    f"beta_{column}",
                    prior("Normal", mu=0, sigma=2.5 * s),
                    "real",
                    f"change per sd of {column} among respondents, sd 2.5 {unit}",
                )
            )
        terms += area_covariate_terms(self._area_design, s, unit)
        if self.data.wave:
            terms.append(
                PriorTerm(
                    "sigma_wave",
                    prior("HalfNormal", sigma=0.5 * s),
                    "positive",
                    f"sd of wave-to-wave shifts, scale 0.5 {unit}: few waves cannot inform a "
                    "wide prior, and large shifts between waves are implausible",
                )
            )
        if self.data.wave and self.spec.structure.area_wave is not None:
            terms += area_wave_terms("random_walk", s, unit)
        terms += [t for t in family_terms if t.name != "intercept"]
        return {t.name: t for t in terms}

    def _check_prior_overrides(self) -> None:
        check_prior_overrides(self.prior_terms(), dict(self.spec.priors), self.spec.name)

    # ----------------------------------------------------------------- design
    def quantities(self) -> list[str]:
        """Names of the area quantities (``share``, ``share:<category>``, ``mean``)."""
        return [q.name for q in self.family.quantities()]

    def coords(self, prefix: str = "") -> dict[str, list[Any]]:
        """PyMC coordinates: areas, waves, covariate levels, quantities.

        Parameters
        ----------
        prefix
            Put in front of every dimension name except ``area`` (a joint model holds several
            indicators whose waves, levels and quantities need their own dimensions).
        """
        respondents = self.data.respondents
        coords: dict[str, list[Any]] = {AREA: list(self.data.areas.index)}
        if self.data.wave:
            coords["wave"] = sorted(int(w) for w in respondents["wave"].unique())
        for column in self.data.covariates:
            coords[column] = sorted(respondents[column].unique())
        coords |= area_covariate_coords(self._area_design)
        if self._area_wave:
            coords[WAVE_STEP] = coords["wave"][1:]
        coords[QUANTITY] = self.quantities()
        coords |= self.family.coords()
        return {_prefixed(prefix, name): values for name, values in coords.items()}

    def units(self, aggregate_cells: bool | None = None) -> Cells:
        """Observation units of the likelihood: cells (default) or respondent rows.

        Respondents are collapsed into cells only when they share their linear predictor,
        that is without numeric respondent covariates.

        Parameters
        ----------
        aggregate_cells
            Collapse respondents into cells; ``None`` follows ``spec.fit.aggregate``.
        """
        if aggregate_cells is None:
            aggregate_cells = self.spec.fit.aggregate
        respondents, counts = self.data.respondents, self.data.count_columns
        if aggregate_cells and not self._numeric:
            return aggregate(respondents, self.keys, counts)
        return as_rows(respondents, self.keys + list(self._numeric), counts)

    def reference_cells(self) -> pd.DataFrame:
        """The population each area value averages over (:mod:`lcmodel.design.reference`)."""
        return reference_cells(self.data)

    def centred(self) -> np.ndarray:
        """Which surveyed areas' effects are centred (``fit.centring``), in area order.

        Each surveyed area's information about its effect is its respondents times one
        respondent's (:meth:`~lcmodel.families.base.Family.information`); see
        :func:`~lcmodel.models.area_effects.choose_centring`.
        """
        counts = self.data.respondents[self.data.count_columns]
        n = self.data.areas["n"].to_numpy(dtype=float)
        information = n[n > 0] * self.family.information(counts)
        return choose_centring(information, self._scale, self.spec.fit.centring)

    def estimand(self) -> str:
        """What an area value averages over: the frame, population means, or respondents."""
        return estimand(self.data)

    def _codes(self, keys: pd.DataFrame, coords: dict[str, list[Any]]) -> dict[str, np.ndarray]:
        return {
            column: pd.Index(coords[column]).get_indexer(keys[column])
            for column in self.keys
            if column in keys
        }

    # ------------------------------------------------------------------ build
    def build(self, aggregate_cells: bool | None = None) -> pm.Model:
        """Create the PyMC model (no sampling).

        Parameters
        ----------
        aggregate_cells
            Likelihood over sufficient-statistic cells (default) or respondent rows; the
            posterior is the same.

        Returns
        -------
        pymc.Model
            Free variables ``intercept`` (not for ordinal outcomes), ``beta_<covariate>``,
            ``gamma_<area covariate>``, ``sigma_area``, ``z_area``, ``sigma_wave``,
            ``z_wave`` and the family's own (``cutpoints``, ``sigma``); deterministics
            ``area_effect``, ``wave_effect`` and ``area_value`` (dims ``area, quantity``).
        """
        import pymc as pm

        with pm.Model(coords=self.coords()) as model:
            self.add_terms(aggregate_cells=aggregate_cells)
        return model

    def add_terms(
        self,
        *,
        aggregate_cells: bool | None = None,
        prefix: str = "",
        z_area: Any | None = None,
        extra: Callable[[Any, dict[str, Any]], Any] | None = None,
    ) -> None:
        """Add this indicator's variables, likelihood and area values to the model in context.

        :meth:`build` calls it on a fresh model; a joint model calls it once per indicator,
        each inside a named sub-model.

        Parameters
        ----------
        aggregate_cells
            Likelihood over cells (default) or respondent rows.
        prefix
            Prefix of this indicator's dimensions; the model in context must already hold
            ``coords(prefix)``.
        z_area
            Standardised area effects (one per area, unit variance) from outside, for example
            correlated with other indicators'; by default independent ``Normal(0, 1)``.
        extra
            Further quantities, ``extra(eta, params)`` of shape ``(units, k)``, averaged over
            each area's reference population into ``extra_area_value`` (dims ``area, extra``;
            the model must hold an ``extra`` coordinate). See :meth:`area_quantities`.
        """
        import pymc as pm
        import pytensor.tensor as pt

        priors = self.priors()
        coords = self.coords()
        units = self.units(aggregate_cells)
        reference = self.reference_cells()

        def dim(name: str) -> str:
            return _prefixed(prefix, name)

        model = pm.modelcontext(None)
        model.add_coord(dim(UNIT), np.arange(len(units)))
        intercept = priors["intercept"].build("intercept") if self.family.has_intercept else 0
        beta = {
            column: priors[f"beta_{column}"].build(f"beta_{column}", dims=dim(column))
            for column in self.data.covariates
        }
        slopes = {
            column: priors[f"beta_{column}"].build(f"beta_{column}") for column in self._numeric
        }
        covariate_term = add_area_covariates(self._area_design, priors, dim)
        area_effect = add_area_effect(
            priors,
            z_area,
            surveyed=self.data.areas["n"].to_numpy() > 0,
            centred=self.centred(),
            zero_sum=self.spec.structure.zero_sum_areas,
            intercept=intercept,
            covariate_term=covariate_term if self._area_design else None,
            kind=self.spec.structure.area_effect,
            adjacency=self.adjacency,
        )
        area_term = area_effect + covariate_term
        wave_effect = None
        if self.data.wave:
            sigma_wave = priors["sigma_wave"].build("sigma_wave")
            z_wave = pm.ZeroSumNormal("z_wave", sigma=1.0, dims=dim("wave"))
            wave_effect = pm.Deterministic("wave_effect", z_wave * sigma_wave, dims=dim("wave"))
        area_wave = None
        if self._area_wave:
            # each area's own random walk over the waves, centred on the area's mean so that
            # area_effect stays the area's average level
            area_wave = add_area_wave_effect(
                "random_walk", priors, wave_dim=dim("wave"), step_dim=dim(WAVE_STEP)
            )
        params = self.family.add_parameters(priors)

        def predictor(keys: pd.DataFrame) -> Any:
            codes = self._codes(keys, coords)
            eta = intercept + area_term[codes[AREA]]
            for column, effect in beta.items():
                eta = eta + effect[codes[column]]
            for column, slope in slopes.items():
                mean, sd = self._numeric[column]
                eta = eta + slope * ((keys[column].to_numpy(dtype=float) - mean) / sd)
            if wave_effect is not None:
                eta = eta + wave_effect[codes["wave"]]
            if area_wave is not None:
                eta = eta + area_wave[codes[AREA], codes["wave"]]
            return eta

        def average(expected: Any, cells: pd.DataFrame) -> Any:
            """Weighted mean over each area's cells: shape (areas, quantities)."""
            area, share = area_shares(cells, list(coords[AREA]))
            shape = (len(coords[AREA]), expected.shape[1])
            return pt.zeros(shape)[area].inc(share[:, None] * expected)

        self.family.add_likelihood(predictor(units.keys), units, params, dim)

        finite = self.data.estimand == "finite_population"
        expected = self.family.expected_quantities(predictor(reference), params)
        if finite:
            # per-row expectations; finish_posterior adds the unsampled units' answers
            model.add_coord(dim(REFERENCE), np.arange(len(reference)))
            pm.Deterministic("reference_value", expected, dims=(dim(REFERENCE), dim(QUANTITY)))
        if self._area_wave:
            # each area's reference population (its own mix, or the frame) at every wave
            mix = self._reference_mix(reference)
            per_wave = [
                self.family.expected_quantities(predictor(mix.assign(wave=wave)), params)
                for wave in coords["wave"]
            ]
            pm.Deterministic(
                "area_wave_value",
                pt.stack([average(values, mix) for values in per_wave], axis=1),
                dims=(AREA, dim("wave"), dim(QUANTITY)),
            )
            if finite:
                model.add_coord(dim(REFERENCE_MIX), np.arange(len(mix)))
                pm.Deterministic(
                    "reference_wave_value",
                    pt.stack(per_wave, axis=1),
                    dims=(dim(REFERENCE_MIX), dim("wave"), dim(QUANTITY)),
                )
        pm.Deterministic("area_value", average(expected, reference), dims=(AREA, dim(QUANTITY)))
        if extra is not None:
            extra_value = average(extra(predictor(reference), params), reference)
            pm.Deterministic("extra_area_value", extra_value, dims=(AREA, dim("extra")))

    @staticmethod
    def _reference_mix(reference: pd.DataFrame) -> pd.DataFrame:
        """The reference rows summed over waves: each area's population at any one wave."""
        keys = [c for c in reference.columns if c not in ("wave", "weight")]
        return reference.groupby(keys, sort=True, observed=True)["weight"].sum().reset_index()

    def finish_posterior(
        self, posterior: xr.Dataset, rng: np.random.Generator, prefix: str = ""
    ) -> xr.Dataset:
        """Area values of the finite population: known answers plus predicted ones.

        With ``estimand = "finite_population"`` each reference row (a frame cell, or an
        area's non-sampled units) adds its sampled units' known answers to a posterior
        predictive draw of the answers of its ``size - sampled`` other units (the family's
        :meth:`~lcmodel.families.base.Family.predictive_totals`), divided by its size; rows
        are then averaged per area by their population. ``area_value`` (and
        ``area_wave_value``) are replaced; the per-row expectations are dropped. Other
        estimands are returned unchanged.

        Parameters
        ----------
        posterior
            The sampled posterior.
        rng
            Generator for the predictive draws (seeded from the fit's seed).
        prefix
            Prefix of this indicator's variable and dimension names in a joint model.
        """
        if self.data.estimand != "finite_population":
            return posterior
        areas = list(self.coords()[AREA])
        reference = self.reference_cells()
        chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
        params = {
            key: posterior[f"{prefix}{key}"].to_numpy().reshape(chains * draws, -1)
            for key in self.family.parameters
        }

        def finite(expected: xr.DataArray, rows: pd.DataFrame) -> np.ndarray:
            flat = expected.to_numpy().reshape(chains * draws, len(rows), -1)
            if self.data.frame is None:
                # population means: the rows' mean prediction is the non-sampled units' mean
                flat = area_average(flat, rows, areas)
                rows = pd.DataFrame({AREA: areas, "weight": 1.0})
            population = finite_population(self.data, rows)
            totals = self.family.predictive_totals(rng, flat, population.remaining, params)
            values = area_average(population.values(totals), rows, areas)
            return values.reshape(chains, draws, len(areas), -1)

        name = f"{prefix}area_value"
        updated = {
            name: posterior[name].copy(
                data=finite(posterior[f"{prefix}reference_value"], reference)
            )
        }
        dropped = [f"{prefix}reference_value"]
        if self._area_wave:
            mix = self._reference_mix(reference)
            wave = _prefixed(prefix, "wave")
            expected = posterior[f"{prefix}reference_wave_value"]
            per_wave = [
                finite(expected.isel({wave: i}), mix.assign(wave=value))
                for i, value in enumerate(expected[wave].to_numpy())
            ]
            name = f"{prefix}area_wave_value"
            updated[name] = posterior[name].copy(data=np.stack(per_wave, axis=3))
            dropped.append(f"{prefix}reference_wave_value")
        dims = [_prefixed(prefix, REFERENCE), _prefixed(prefix, REFERENCE_MIX)]
        return posterior.assign(updated).drop_vars(
            dropped + [d for d in dims if d in posterior.coords]
        )

    def area_quantities(
        self,
        posterior: xr.Dataset,
        quantities: Callable[[Any, dict[str, Any]], Any],
        labels: list[str],
    ) -> xr.DataArray:
        """Area averages of other quantities, per posterior draw, from a fitted posterior.

        Nothing is refitted and the spec is not changed: the model is built once more with
        the extra quantities and evaluated at the posterior's draws of its free variables.

        Parameters
        ----------
        posterior
            The posterior of a fit of this model.
        quantities
            ``quantities(eta, params)``: shape ``(units, len(labels))`` from the linear
            predictor and the family's parameters.
        labels
            Names of the quantities (the ``extra`` coordinate).

        Returns
        -------
        xarray.DataArray
            Dims ``chain, draw, area, extra``.
        """
        import pymc as pm

        with pm.Model(coords=self.coords() | {"extra": labels}) as model:
            self.add_terms(extra=quantities)
        free = [rv.name for rv in model.free_RVs]
        with reproducible_numerics():
            computed = pm.compute_deterministics(
                posterior[free], var_names=["extra_area_value"], model=model, progressbar=False
            )
        return computed["extra_area_value"]

    # -------------------------------------------------------------------- fit
    def with_spec(self, spec: ModelSpec) -> UnitLevelModel:
        """The same data with another spec (new ``[fit]`` settings)."""
        old, new = self.spec.structure, spec.structure
        same = (old.adjacency, old.contiguity) == (new.adjacency, new.contiguity)
        drawn = (old.adjacency, old.boundaries) == (new.adjacency, new.boundaries)
        return type(self)(
            spec,
            self.data,
            adjacency=self.adjacency if same else None,
            boundaries=self.boundaries if drawn else None,
        )

    def report_inputs(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Per-area inputs and, with area x wave effects, per-wave inputs."""
        match = self.spec.benchmark.match if self.spec.benchmark is not None else "national"
        inputs = area_inputs(self.data, match)
        waves = wave_inputs(self.data, inputs) if self._area_wave else None
        return inputs, waves

    def calibrations(
        self, inputs: tuple[pd.DataFrame, pd.DataFrame | None], prefix: str = ""
    ) -> list[Calibration]:
        """The spec's ``[calibrate]`` of the area values (weights from the areas table)."""
        settings = self.spec.calibrate
        if settings is None:
            return []
        areas = self.data.areas
        source = str(self.spec.areas or f"{self.spec.data} (its areas)")
        weights = area_weights(areas, settings.weights, source, areas["n"])
        quantities = [q.name for q in self.family.quantities()]
        plan = plan_calibration(
            settings,
            inputs[0],
            list(areas.index),
            quantities,
            self.family.headline(),
            weights,
            f"{prefix}area_value",
        )
        return [plan]

    def checked_variables(self, pymc_model: pm.Model) -> list[str]:
        """Free variables, area values and (with waves) area x wave values."""
        checked = [rv.name for rv in pymc_model.free_RVs] + ["area_value"]
        if "area_wave_value" in pymc_model.named_vars:
            checked.append("area_wave_value")
        return checked

    def data_metadata(self) -> dict[str, Any]:
        """What a result records about this indicator's data and family."""
        return {
            "data_hash": self.data.data_hash,
            "n_respondents": len(self.data.respondents),
            "n_missing_outcome": self.data.n_missing_outcome,
            "n_missing_covariates": self.data.n_missing_covariates,
            "family": self.family.name,
            "outcome": self.spec.outcome.column,
            "headline": self.family.headline(),
            "weighted_direct": self.data.weighted,
        } | neighbourhood_metadata(self.adjacency, self.boundaries)


AreaModel = UnitLevelModel
"""The unit-level model's original name (deprecated: ``lcmodel.AreaModel`` warns)."""
