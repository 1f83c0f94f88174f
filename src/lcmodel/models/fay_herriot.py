"""Fay-Herriot area-level models: direct estimates with known sampling variances.

For area ``i`` with direct estimate ``y_i`` and sampling variance ``psi_i`` (treated as known)::

    y_i ~ Normal(theta_i, sqrt(psi_i))                             (likelihood = "normal")
    theta_i = intercept + gamma' x_i + sigma_area * z_i,   z_i ~ Normal(0, 1)

``theta_i`` is the area value. Areas without a direct estimate (unsurveyed, or in the table with
blank estimate and variance) get ``theta_i`` from their covariates and the area-effect
distribution. The normal likelihood is the classic model; for shares it misbehaves near 0 and
1 (a share of 0 or 1 has a direct variance of 0) and in tiny areas, so ``likelihood =
"binomial"`` models a share on the logit scale with the direct estimate carrying ``n_eff`` effective
respondents::

    n_eff_i * y_i ~ "Binomial"(n_eff_i, p_i),   logit(p_i) = theta_i

written as the binomial log-likelihood with real-valued counts (``n_eff`` need not be whole).
``n_eff = n / deff`` from the survey's design (:mod:`lcmodel.design.direct`); from a table it is
``y (1 - y) / psi`` when that is defined, else the table's ``n``.

Input is either a survey spec (its direct estimates, design variances, areas table and
benchmarks) or an area table of estimates and variances (for published figures).

Modelled sampling variances (``sampling_variance = "modelled"``, the default when the areas'
sample sizes ``n_i`` are known). A direct variance from a handful of respondents is itself a noisy
estimate, and taking it as known lets a 2-respondent area with alike answers pin its value.
Instead each area's true sampling variance is unknown and pooled across areas, and the direct
variance ``v_i`` is its scaled chi-square estimate with ``n_i - 1`` degrees of freedom::

    psi_i = exp(l_i) / n_i,   l_i ~ Normal(log_variance_mean, log_variance_sd)
    v_i ~ Gamma((n_i - 1) / 2, rate = (n_i - 1) / (2 psi_i))   (n_i >= 2, v_i > 0)

(each ``l_i`` centred or not by the information of ``v_i`` about it, :meth:`_log_pooled`)

and the normal likelihood uses ``sqrt(psi_i)``. Areas with one respondent, or whose answers
were all alike (``v_i = 0``), keep their estimate; their variance comes from the pool alone.

For the binomial likelihood the sampling variance of a share is ``p_i (1 - p_i) / n_eff_i``
with ``p_i`` the modelled share, so what is left to pool is the design effect. Each area's
direct design effect ``v_i n_i / (y_i (1 - y_i))`` is shrunk towards the areas' typical one by
its degrees of freedom (:func:`lcmodel.design.variances.smoothed_design_effects`) and
``n_eff_i = n_i / D_i``. (A design effect that is a parameter of the binomial likelihood
would be informed by the share itself: a direct share of 0 from 5 respondents would pull
``n_eff`` towards 3 whatever the design.)

Waves (``[area_level] wave``, an area table with one row per area and wave): the
spatio-temporal Fay-Herriot model of ``sae::eblupSTFH`` (Marhuenda, Molina and Morales 2013)
and its relatives. For area ``d`` at wave ``t``::

    y_dt ~ Normal(theta_dt, sqrt(psi_dt))
    theta_dt = intercept + gamma' x_dt + area_effect_d + area_wave_effect_dt

with ``area_effect`` of any kind (``iid``, ``icar``, ``bym2``, ``sar``) and
``area_wave_effect`` an AR(1), independent or random-walk deviation per area and wave
(:mod:`lcmodel.models.area_waves`). Every area is estimated at every wave
(``area_wave_value``); its ``area_value`` is the mean of its values over the waves.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lcmodel.data.adjacency import Adjacency, boundary_record
from lcmodel.data.area_table import area_covariates, area_population_sizes, load_area_table
from lcmodel.data.common import WAVE
from lcmodel.data.population import area_weights
from lcmodel.data.survey import AREA, frame_hash
from lcmodel.design.area_units import few_units, known_units, sampled_units
from lcmodel.design.calibration import Calibration, plan_calibration
from lcmodel.design.covariates import area_covariate_design
from lcmodel.design.direct import survey_direct_estimates
from lcmodel.design.inputs import table_inputs, table_wave_inputs
from lcmodel.design.reference import FinitePopulation
from lcmodel.design.variances import smoothed_effective_sizes
from lcmodel.errors import DataError, SpecError, did_you_mean, listed
from lcmodel.models.area_effects import (
    CENTRING_SCALE,
    add_area_effect,
    area_effect_terms,
    choose_centring,
    model_neighbourhood,
    neighbourhood_metadata,
    partially_centred,
)
from lcmodel.models.area_waves import add_area_wave_effect, area_wave_terms
from lcmodel.models.base import Model
from lcmodel.models.terms import (
    add_area_covariates,
    area_covariate_coords,
    area_covariate_terms,
    prior,
)
from lcmodel.models.unit_level import UnitLevelModel
from lcmodel.spec import AreaLevelSpec, load_spec
from lcmodel.spec.priors import PriorTerm, check_prior_overrides

if TYPE_CHECKING:
    import pymc as pm
    import xarray as xr


__all__ = ["FayHerriotModel"]

SAMPLED = "sampled_area"
"""Dimension of the areas with a direct estimate (the likelihood's observations)."""

SAMPLED_WAVE = "sampled_area_wave"
"""With waves, the dimension of the area x wave pairs with a direct estimate, labelled
``<area>:<wave>``."""


class FayHerriotModel(Model):
    """Area-level model of direct estimates (Fay-Herriot), normal or binomial on the logit scale.

    Parameters
    ----------
    spec
        Validated area-level spec.
    areas
        One row per area (index ``area``): ``estimate``, ``variance`` and ``n_eff`` (NaN where
        the area has no direct estimate) and the covariates. With ``[area_level] wave``, one
        row per area and wave instead, every area at every wave (areas in order, waves
        increasing within each), the wave in column ``wave``.
    inputs
        The estimates' inputs per area (names, ``n``, direct estimate, benchmark match), as
        :func:`lcmodel.design.inputs.area_inputs` gives them.
    quantity
        Name of the quantity modelled (``share``, ``mean``, ...).
    kind
        ``"share"`` or ``"mean"``.
    outcome
        What the estimates measure, for prose.
    adjacency
        The neighbourhood already read for this spec (a model rebuilt with other ``[fit]``
        settings), else read here.
    wave_inputs
        With waves, the inputs per area and wave
        (:func:`lcmodel.design.inputs.table_wave_inputs`).
    """

    kind = "area_level"

    def __init__(
        self,
        spec: AreaLevelSpec,
        areas: pd.DataFrame,
        inputs: pd.DataFrame,
        quantity: str,
        kind: str,
        outcome: str,
        *,
        adjacency: Adjacency | None = None,
        boundaries: dict[str, str] | None = None,
        wave_inputs: pd.DataFrame | None = None,
    ) -> None:
        self.spec = spec
        self.areas = areas
        self.inputs = inputs
        self.wave_inputs = wave_inputs
        self.quantity = quantity
        self.quantity_kind = kind
        self.outcome = outcome
        section = spec.area_level
        self._binomial = section.likelihood == "binomial"
        self._modelled = section.variance_model == "modelled"
        self._area_wave = section.area_wave_kind
        self._waves = self._area_wave is not None and WAVE in areas.columns
        self.area_labels = pd.Index(pd.unique(areas.index.to_numpy()), name=AREA)
        """The model's areas, in order (each once, also with waves)."""
        if self._binomial and kind != "share":
            raise SpecError(
                f"spec '{spec.name}': likelihood 'binomial' models shares, but '{quantity}' is a "
                f'mean; use likelihood = "normal"'
            )
        sampled = areas["estimate"].notna()
        if sampled.sum() < 3:
            raise DataError(
                f"spec '{spec.name}': {int(sampled.sum())} area(s) have a direct estimate; an "
                f"area-level model needs at least 3 to estimate the between-area variance"
            )
        if self._binomial and self._modelled:
            self.areas = areas = areas.assign(n_eff_smoothed=smoothed_effective_sizes(areas))
        if spec.target == "finite_population":
            self.areas = areas = areas.assign(**known_units(areas))
        kinds: dict[str, Any] = dict.fromkeys(section.covariates, "categorical")
        kinds |= dict.fromkeys(section.numeric_covariates, "numeric")
        self._design = area_covariate_design(
            areas, kinds, "[area_level] covariates", centre=section.intercept
        )
        self.adjacency = model_neighbourhood(
            section.adjacency, section.contiguity, self.area_labels, section.area, adjacency
        )
        """The areas' neighbourhood (``[area_level] adjacency``), in the model's area order."""
        if section.area_effect == "sar" and self.adjacency is not None:
            from lcmodel.design.adjacency import SAR_LIMIT  # lazily: it imports scipy.sparse

            largest = int(self.adjacency.component_sizes().max(initial=0))
            if largest > SAR_LIMIT:
                raise SpecError(
                    f"spec '{spec.name}': a SAR area effect needs the eigenvalues of its "
                    f"weight matrix, computed densely; the largest connected component of "
                    f"{section.adjacency} has {largest} areas (limit {SAR_LIMIT}). Use "
                    f"area_effect = 'bym2', which scales to large maps"
                )
        self.boundaries = boundaries or boundary_record(
            section.boundaries, section.adjacency, areas.index, section.area
        )
        """The boundary file of maps, checked, as results record it (``None``: no maps)."""
        check_prior_overrides(self.prior_terms(), dict(spec.priors), spec.name)

    # ---------------------------------------------------------------- loading
    @classmethod
    def from_spec(
        cls, spec: AreaLevelSpec | str | Path, data: str | Path | None = None
    ) -> FayHerriotModel:
        """Load an area-level spec (path or object) and its data.

        Parameters
        ----------
        spec
            An :class:`~lcmodel.spec.AreaLevelSpec` or the path of its TOML file.
        data
            Not accepted: an area-level spec reads its estimates from ``[area_level]``.
        """
        if not isinstance(spec, AreaLevelSpec):
            spec = load_spec(spec, cls.kind)
        if data is not None:
            raise SpecError(
                f"spec '{spec.name}': --data replaces a survey file; an area-level spec reads "
                f"its estimates from [area_level] (edit 'survey' or 'table' there)"
            )
        if spec.area_level.survey is not None:
            return cls._from_survey(spec)
        return cls._from_table(spec)

    @classmethod
    def _from_survey(cls, spec: AreaLevelSpec) -> FayHerriotModel:
        section = spec.area_level
        unit = UnitLevelModel.from_spec(section.survey)
        quantities = {q.name: q for q in unit.family.quantities()}
        name = section.quantity or unit.family.headline()
        if name not in quantities:
            raise SpecError(
                f"spec '{spec.name}': area_level.quantity '{name}' is not a quantity of "
                f"'{unit.spec.name}'{did_you_mean(name, quantities)}; choose one of "
                f"{', '.join(quantities)}"
            )
        areas = unit.data.areas
        where = str(unit.spec.areas or f"{section.survey} (it names no areas table)")
        direct = survey_direct_estimates(unit.data)
        direct = direct[direct["quantity"] == name].set_index(AREA).reindex(areas.index)
        table = area_covariates(areas.reset_index(), section, where)
        table.index = areas.index
        table["estimate"] = direct["direct"]
        table["variance"] = direct["direct_var"]
        table["n_eff"] = direct["n_eff"]
        table["n"] = areas["n"].astype(float)
        table["deff"] = direct["deff"]
        if section.likelihood == "normal" and section.variance_model == "known":
            unusable = table["estimate"].notna() & ~(table["variance"] > 0)
            if unusable.any():
                warnings.warn(
                    f"spec '{spec.name}': area(s) {listed(table.index[unusable])} have a direct "
                    f"variance of 0 or none (every answer alike, or one respondent); the normal "
                    f"likelihood cannot use them, so they are estimated from covariates alone. "
                    f'For shares, likelihood = "binomial" uses them.',
                    stacklevel=2,
                )
                table.loc[unusable, ["estimate", "variance"]] = np.nan
        if spec.target == "finite_population":
            table["population"] = area_population_sizes(
                areas.reset_index(), str(section.population), sampled_units(table), where
            )
        inputs = unit.report_inputs()[0]
        inputs = inputs[inputs["quantity"] == name].reset_index(drop=True)
        inputs["in_sample"] = table["estimate"].reindex(inputs[AREA]).notna().to_numpy()
        weighted = "weighted" if unit.data.weighted else "unweighted"
        inputs["estimand"] = _estimand(spec, f"Fay-Herriot of {weighted} direct estimates")
        inputs["few_units"] = few_units(table, section.min_units, inputs[AREA])
        return cls(spec, table, inputs, name, quantities[name].kind, unit.spec.outcome.column)

    @classmethod
    def _from_table(cls, spec: AreaLevelSpec) -> FayHerriotModel:
        section = spec.area_level
        table, n = load_area_table(section)
        table["n"] = n if n is not None else np.nan
        if spec.target == "finite_population":
            lacking = table["estimate"].notna() & table["n"].isna()
            if lacking.any():
                raise DataError(
                    f"{section.table}: area(s) {listed(table.index[lacking])} have a direct "
                    f"estimate but no sample size in column '{section.n}'; a finite-population "
                    f"value needs it (or set estimand = 'superpopulation')"
                )
        inputs = table_inputs(table, n, section.kind)
        inputs["estimand"] = _estimand(spec, str(inputs["estimand"].iloc[0]))
        waves = None
        if section.wave is not None:
            waves = table_wave_inputs(table, n, inputs)
            if n is not None:  # an area's estimates over the waves rest on n units in all
                inputs["few_units"] = inputs["in_sample"] & (inputs["n"] < section.min_units)
        elif n is not None:
            inputs["few_units"] = few_units(table, section.min_units, inputs[AREA])
        name = "share" if section.kind == "share" else "mean"
        return cls(spec, table, inputs, name, section.kind, section.estimate, wave_inputs=waves)

    # ----------------------------------------------------------------- priors
    def _scale(self) -> tuple[float, float]:
        """Centre and scale of the area values: the direct estimates', or 0 and 1 on logits."""
        if self._binomial:
            return 0.0, 1.0
        estimates = self.areas["estimate"].dropna()
        sd = float(estimates.std()) if len(estimates) > 1 else 1.0
        return float(estimates.mean()), sd if sd > 0 else 1.0

    def prior_terms(self) -> dict[str, PriorTerm]:
        """Every term with a prior, with its default and rationale."""
        centre, s = self._scale()
        unit = "on the logit scale" if self._binomial else "sds of the direct estimates"
        intercept = PriorTerm(
            "intercept",
            prior("Normal", mu=centre, sigma=2.5 * s),
            "real",
            f"value of an average area: centred on {'0' if self._binomial else 'the mean'}"
            f" of the direct estimates, sd 2.5 {unit}",
        )
        terms = [
            *([intercept] if self.spec.area_level.intercept else []),
            *area_effect_terms(
                self.spec.area_level.area_effect,
                s,
                unit,
                f"between-area sd beyond the covariates, scale 1 {unit}",
            ),
            *area_covariate_terms(self._design, s, unit),
            *(area_wave_terms(self._area_wave, s, unit) if self._waves else []),
            *self._variance_terms(),
        ]
        return {t.name: t for t in terms}

    def _variance_terms(self) -> list[PriorTerm]:
        """Priors of the pooled sampling variances (``sampling_variance = "modelled"``)."""
        if not self._modelled or self._binomial:
            return []  # the binomial model smooths its design effects before fitting
        observed = self.areas[self.areas["estimate"].notna()]
        unit_variance = observed["variance"] * observed["n"]
        unit_variance = unit_variance[(unit_variance > 0) & (observed["n"] >= 2)]
        centre = float(np.log(unit_variance).median()) if len(unit_variance) else 0.0
        return [
            PriorTerm(
                "log_variance_mean",
                prior("Normal", mu=centre, sigma=1.0),
                "real",
                "log of n x sampling variance (one unit's variance, design effect included) in "
                "a typical area: centred on the median direct one, sd 1",
            ),
            PriorTerm(
                "log_variance_sd",
                prior("HalfNormal", sigma=0.5),
                "positive",
                "spread of the areas' log unit variances; half-normal 0.5 allows factors of "
                "about 2 between areas",
            ),
        ]

    # ------------------------------------------------------------------ build
    def centred(self) -> np.ndarray:
        """Which areas with a direct estimate have centred effects (``fit.centring``).

        An area's information about its value is ``1 / variance`` (normal likelihood; with
        modelled variances ``n`` over the median unit variance) or ``n_eff * p (1 - p)`` on the
        logit scale (binomial); see
        :func:`~lcmodel.models.area_effects.choose_centring`. With waves it is ``1 / (1 / I +
        tau^2)``, ``I`` the sum of the area's waves' information: the waves tell about the
        area effect through the area x wave effects, whose mean over the waves varies as much
        as one of them when they are strongly correlated (an AR(1) with ``rho`` near 1), with
        ``tau``, the default prior scale of ``sigma_area_wave``, taken as their sd. (Counting
        each wave as independent information centred most areas of the ``spacetime`` data,
        and their levels formed a funnel with ``sigma_area``: 3 to 43 divergences.)
        """
        information = self._row_information()
        if self._waves:
            tau = self.default_priors()["sigma_area_wave"].params["sigma"]
            by_area = pd.Series(information, index=self.areas.index).groupby(level=0).sum()
            with np.errstate(divide="ignore"):
                information = 1.0 / (1.0 / by_area.reindex(self.area_labels).to_numpy() + tau**2)
            return choose_centring(
                information[self._area_sampled()], self._scale()[1], self.spec.fit.centring
            )
        information = information[self.areas["estimate"].notna().to_numpy()]
        return choose_centring(information, self._scale()[1], self.spec.fit.centring)

    def area_wave_centred(self) -> np.ndarray:
        """Per area (:attr:`area_labels`): whether its area x wave effects are centred.

        An area's information about one wave's effect is the mean over its waves of each
        estimate's information (0 at a wave without one), weighed by
        :func:`~lcmodel.models.area_effects.choose_centring` against the default prior scale
        of ``sigma_area_wave`` (an area is centred when its data carry over 4 times the
        information of that prior): in the spatio-temporal ``spacetime`` data one area's
        direct variances are a fifteenth of the others', and its non-centred innovations
        traded against ``rho_area_wave`` (divergences near ``rho = 0.85``).
        """
        tau = self.default_priors()["sigma_area_wave"].params["sigma"]
        by_area = pd.Series(self._row_information(), index=self.areas.index).groupby(level=0)
        information = by_area.mean().reindex(self.area_labels).to_numpy()
        return choose_centring(information, tau / CENTRING_SCALE, self.spec.fit.centring)

    def _row_information(self) -> np.ndarray:
        """Each row's information about its value (0 without a direct estimate)."""
        estimate = self.areas["estimate"].to_numpy(dtype=float)
        if self._binomial:
            p = np.clip(estimate, 0.01, 0.99)
            information = self.areas["n_eff"].to_numpy(dtype=float) * p * (1.0 - p)
        elif self._modelled:
            # n / (a typical unit variance): tiny areas' own direct variances are not trusted
            centre = self.default_priors()["log_variance_mean"].params["mu"]
            information = self.areas["n"].to_numpy(dtype=float) / np.exp(centre)
        else:
            with np.errstate(divide="ignore"):
                information = 1.0 / self.areas["variance"].to_numpy(dtype=float)
        information = np.nan_to_num(information, nan=0.0, posinf=0.0)
        information[np.isnan(estimate)] = 0.0
        return information

    def _area_sampled(self) -> np.ndarray:
        """Per area (in :attr:`area_labels` order): whether it has any direct estimate."""
        has = self.areas["estimate"].notna().groupby(level=0).any()
        return has.reindex(self.area_labels).to_numpy(dtype=bool)

    @property
    def _sampled_dim(self) -> str:
        return SAMPLED_WAVE if self._waves else SAMPLED

    def coords(self) -> dict[str, list[Any]]:
        """Areas, sampled areas (or area x wave pairs), quantity, covariate levels and waves."""
        sampled = self.areas[self.areas["estimate"].notna()]
        coords: dict[str, list[Any]] = {AREA: list(self.area_labels)}
        if self._waves:
            coords[WAVE] = sorted(int(w) for w in self.areas[WAVE].unique())
            pairs = zip(sampled.index, sampled[WAVE], strict=True)
            coords[SAMPLED_WAVE] = [f"{a}:{w}" for a, w in pairs]
        else:
            coords[SAMPLED] = list(sampled.index)
        coords["quantity"] = [self.quantity]
        return coords | area_covariate_coords(self._design)

    def build(self) -> pm.Model:
        """Create the PyMC model (no sampling).

        Returns
        -------
        pymc.Model
            Free variables ``intercept``, ``gamma_<covariate>``, ``sigma_area`` and the area
            effects' (:func:`~lcmodel.models.area_effects.add_area_effect`); deterministics
            ``area_effect``, ``z_area`` and ``area_value`` (dims ``area, quantity``). With
            modelled variances and the normal likelihood also ``log_variance_mean``,
            ``log_variance_sd``, ``log_variance_area`` and/or ``z_variance`` (centred or not
            per area), the observed ``direct_variance`` and the
            deterministic ``sampling_variance`` (dims ``sampled_area``). With waves, also
            ``sigma_area_wave``, ``z_area_wave`` and (``ar1``) ``rho_area_wave``, the
            deterministics ``area_wave_effect`` and ``area_wave_value`` (dims ``area, wave``
            and ``area, wave, quantity``); the observations' dimension is then
            ``sampled_area_wave``, and ``area_value`` is the mean of ``area_wave_value`` over
            the waves.
        """
        import pymc as pm
        import pytensor.tensor as pt

        priors = self.priors()
        sampled = self.areas["estimate"].notna().to_numpy()
        coords = self.coords()
        n_areas = len(coords[AREA])
        n_waves = len(coords[WAVE]) if self._waves else 1
        with pm.Model(coords=coords) as model:
            intercept = (
                priors["intercept"].build("intercept") if self.spec.area_level.intercept else 0.0
            )
            covariates = add_area_covariates(self._design, priors)
            # with waves the rows are every area at every wave, area by area: the area
            # effect is centred (where it is) on each area's covariate term averaged over them
            per_area = (
                pt.reshape(pt.zeros(len(sampled)) + covariates, (n_areas, n_waves)).mean(axis=1)
                if self._waves and self._design
                else covariates
            )
            area_effect = add_area_effect(
                priors,
                surveyed=self._area_sampled(),
                centred=self.centred(),
                # without an intercept a zero-sum constraint would change the model (the
                # effects' mean is no longer a shift the intercept absorbs): independent
                zero_sum=self.spec.area_level.zero_sum_areas and self.spec.area_level.intercept,
                intercept=intercept,
                covariate_term=per_area if self._design else None,
                kind=self.spec.area_level.area_effect,
                adjacency=self.adjacency,
                sar_noncentred=self._waves,
            )
            theta = intercept + covariates
            if self._waves:
                assert self._area_wave is not None
                area_wave = add_area_wave_effect(self._area_wave, priors, self.area_wave_centred())
                theta = theta + pt.reshape(area_effect[:, None] + area_wave, (-1,))
            else:
                theta = theta + area_effect
            observed = self.areas.loc[sampled]
            mine = theta[np.flatnonzero(sampled)]
            y = observed["estimate"].to_numpy(dtype=float)
            if self._binomial:
                log_p, log_q = -pt.softplus(-mine), -pt.softplus(mine)
                n_eff = self.observed_estimates()["n_eff"].to_numpy(dtype=float)
                pm.Potential("y", (n_eff * (y * log_p + (1.0 - y) * log_q)).sum())
                value = pm.math.invlogit(theta)
            else:
                if self._modelled:
                    n = observed["n"].to_numpy(dtype=float)
                    log_unit = self._log_pooled(priors, "log_variance", n)
                    psi = pt.exp(log_unit) / n
                    sd = pt.sqrt(psi)
                    self._add_variance_estimates(
                        observed["n"], observed["variance"], psi, "direct_variance"
                    )
                    pm.Deterministic("sampling_variance", psi, dims=self._sampled_dim)
                else:
                    sd = np.sqrt(observed["variance"].to_numpy(dtype=float))
                pm.Normal("y", mu=mine, sigma=sd, observed=y, dims=self._sampled_dim)
                value = theta
            if self._waves:
                per_wave = pt.reshape(value, (n_areas, n_waves))
                pm.Deterministic(
                    "area_wave_value", per_wave[:, :, None], dims=(AREA, WAVE, "quantity")
                )
                value = per_wave.mean(axis=1)
            pm.Deterministic("area_value", value[:, None], dims=(AREA, "quantity"))
        return model

    def observed_estimates(self) -> pd.DataFrame:
        """The likelihood's observations: one row per area with a direct estimate.

        Returns
        -------
        pandas.DataFrame
            Index ``area`` (the ``sampled_area`` coordinate, in order); ``estimate``; with the
            normal likelihood ``variance`` (the direct sampling variance, which is the known
            one unless variances are modelled); with the binomial likelihood ``n_eff`` (the
            effective respondents the likelihood uses: smoothed when variances are modelled).
        """
        observed = self.areas[self.areas["estimate"].notna()]
        if self._binomial:
            column = "n_eff_smoothed" if self._modelled else "n_eff"
            return pd.DataFrame({"estimate": observed["estimate"], "n_eff": observed[column]})
        return observed[["estimate", "variance"]].copy()

    def _log_pooled(self, priors: dict[str, Any], name: str, n: np.ndarray) -> Any:
        """One log unit variance per sampled area, ``Normal(<name>_mean, <name>_sd)``.

        Each is centred or not by how much its area's direct variance says about it (a
        chi-square on ``n - 1`` degrees of freedom carries information ``(n - 1) / 2`` about
        its log), as the area effects are (:func:`~lcmodel.models.area_effects.choose_centring`,
        on the scale 1 of log variances): a large area's variance pins its log unit variance
        down, which a non-centred ``z_variance`` follows only by trading against the mean and
        sd (R-hat of ``log_variance_mean`` failed the gate).
        """
        mean = priors[f"{name}_mean"].build(f"{name}_mean")
        sd = priors[f"{name}_sd"].build(f"{name}_sd")
        centred = choose_centring(np.maximum(n - 1.0, 0.0) / 2.0, 1.0, self.spec.fit.centring)
        return partially_centred(
            (f"{name}_area", "z_variance"), mean, sd, centred, self._sampled_dim
        )

    @staticmethod
    def _add_variance_estimates(n: pd.Series, estimate: pd.Series, truth: Any, name: str) -> None:
        """Direct estimates of a variance (or design effect) as scaled chi-squares, n - 1 df.

        Parameters
        ----------
        n
            Sample size of each sampled area.
        estimate
            The direct estimate of the variance (or design effect) per sampled area; areas
            with ``n < 2`` or a value that is not positive and finite carry no information.
        truth
            The modelled true value per sampled area (a tensor).
        name
            Name of the observed variable.
        """
        import pymc as pm

        n = n.to_numpy(dtype=float)
        values = estimate.to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            informative = np.flatnonzero((n >= 2) & np.isfinite(values) & (values > 0))
        if not len(informative):
            return
        df = n[informative] - 1.0
        pm.Gamma(
            name, alpha=df / 2.0, beta=df / (2.0 * truth[informative]), observed=values[informative]
        )

    def finish_posterior(self, posterior: xr.Dataset, rng: np.random.Generator) -> xr.Dataset:
        """Finite-population area values: the sampled units plus predicted other units.

        With ``estimand = "finite_population"`` an area of ``N`` units, ``n`` of them sampled,
        has the value ``(known + T) / N``: ``known`` is the sum of the sampled units' values
        (``n`` times the direct estimate; with weights ``n / deff``:
        :func:`~lcmodel.design.area_units.known_units`) and ``T`` a posterior predictive draw
        of the sum over the ``N - n`` others, each a draw from
        the area's modelled value: ``Binomial(N - n, p)`` for shares, and for means
        ``Normal((N - n) theta, sqrt((N - n) s^2))`` with ``s^2 = n psi / deff`` the area's unit
        variance (:meth:`_unit_variances`). Areas without a direct estimate are predicted
        whole. Other estimands are returned unchanged.

        Parameters
        ----------
        posterior
            The sampled posterior.
        rng
            Generator for the predictive draws (seeded from the fit's seed).
        """
        if self.spec.target != "finite_population":
            return posterior
        value = posterior["area_value"]
        chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
        theta = value.to_numpy().reshape(chains * draws, -1)
        size = self.areas["population"].to_numpy(dtype=float)
        population = FinitePopulation(
            size=size,
            remaining=size - self.areas["known_units"].to_numpy(dtype=float),
            known=self.areas["known"].to_numpy(dtype=float)[:, None],
        )
        m = population.remaining[None, :]
        if self._binomial:
            n = np.broadcast_to(m.astype(np.int64), theta.shape)
            totals = rng.binomial(n, np.clip(theta, 0.0, 1.0)).astype(float)
        else:
            sd = np.sqrt(m * self._unit_variances(posterior, rng))
            totals = m * theta + sd * rng.standard_normal(theta.shape)
        values = population.values(totals[..., None])
        return posterior.assign(area_value=value.copy(data=values.reshape(value.shape)))

    def _unit_variances(self, posterior: xr.Dataset, rng: np.random.Generator) -> np.ndarray:
        """One unit's variance per posterior draw and area, shape ``(draws, areas)``.

        ``n psi / deff`` for an area with a direct estimate: ``psi`` modelled (each draw's
        ``sampling_variance``) or known, and ``deff`` the direct design effect (from a survey
        spec; 1 from a table), which ``n psi`` includes but one unit's answer does not. Other
        areas: with modelled variances a predictive draw from the pooled distribution of
        ``n psi``, else the median sampled area's, divided by the median design effect.
        """
        sampled = self.areas["estimate"].notna().to_numpy()
        n = self.areas["n"].to_numpy(dtype=float)
        deff = np.ones(len(n))
        if "deff" in self.areas.columns:
            deff = self.areas["deff"].fillna(1.0).clip(lower=1.0).to_numpy(dtype=float)
        typical_deff = float(np.median(deff[sampled]))
        draws = posterior.sizes["chain"] * posterior.sizes["draw"]
        out = np.empty((draws, len(sampled)))
        if self._modelled:
            psi = posterior["sampling_variance"].to_numpy().reshape(draws, -1)
            out[:, sampled] = psi * n[sampled] / deff[sampled]
            mean = posterior["log_variance_mean"].to_numpy().reshape(draws, 1)
            sd = posterior["log_variance_sd"].to_numpy().reshape(draws, 1)
            z = rng.standard_normal((draws, int((~sampled).sum())))
            out[:, ~sampled] = np.exp(mean + sd * z) / typical_deff
        else:
            unit = self.areas["variance"].to_numpy(dtype=float) * n / deff
            out[:, sampled] = unit[sampled]
            out[:, ~sampled] = np.nanmedian(unit[sampled])
        return out

    # -------------------------------------------------------------------- fit
    def with_spec(self, spec: AreaLevelSpec) -> FayHerriotModel:
        """The same direct estimates with another spec (new ``[fit]`` settings)."""
        old, new = self.spec.area_level, spec.area_level
        same = (old.adjacency, old.contiguity) == (new.adjacency, new.contiguity)
        drawn = (old.adjacency, old.boundaries) == (new.adjacency, new.boundaries)
        return type(self)(
            spec,
            self.areas,
            self.inputs,
            self.quantity,
            self.quantity_kind,
            self.outcome,
            adjacency=self.adjacency if same else None,
            boundaries=self.boundaries if drawn else None,
            wave_inputs=self.wave_inputs,
        )

    def report_inputs(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Per-area inputs (names, direct estimates, benchmark match) and, with waves, per wave."""
        return self.inputs, self.wave_inputs

    def calibrations(self, inputs: tuple[pd.DataFrame, pd.DataFrame | None]) -> list[Calibration]:
        """The spec's ``[calibrate]``: weights ``n`` or the ``population`` column."""
        settings = self.spec.calibrate
        if settings is None:
            return []
        section = self.spec.area_level
        if section.wave is not None:
            raise SpecError(
                f"spec '{self.spec.name}': [calibrate] is not available with [area_level] "
                f"wave yet (an area's value is then its mean over the waves); remove one"
            )
        if settings.weights not in ("n", section.population):
            raise SpecError(
                f"spec '{self.spec.name}': [calibrate] weights = '{settings.weights}'; an "
                f"area-level model weighs its areas by 'n' (sample sizes) or by its "
                f"[area_level] population column"
                + (f" ('{section.population}')" if section.population else "")
            )
        column = "n" if settings.weights == "n" else "population"
        source = str(section.table or section.survey)
        weights = area_weights(self.areas, column, source, self.areas["n"].fillna(0.0))
        plan = plan_calibration(
            settings, inputs[0], list(self.areas.index), [self.quantity], self.quantity, weights
        )
        return [plan]

    def checked_variables(self, pymc_model: pm.Model) -> list[str]:
        """Free variables, area values and (with waves) area x wave values."""
        checked = [rv.name for rv in pymc_model.free_RVs] + ["area_value"]
        if "area_wave_value" in pymc_model.named_vars:
            checked.append("area_wave_value")
        return checked

    def data_metadata(self) -> dict[str, Any]:
        """What a result records about the direct estimates and the likelihood."""
        return {
            "kind": "area_level",
            "family": f"fay_herriot ({self.spec.area_level.likelihood})",
            "headline": self.quantity,
            "outcome": self.outcome,
            "n_areas_with_estimates": int(self._area_sampled().sum()),
            **({"n_estimates": int(self.areas["estimate"].notna().sum())} if self._waves else {}),
            "data_hash": frame_hash(self.areas),
        } | neighbourhood_metadata(self.adjacency, self.boundaries)


def _estimand(spec: AreaLevelSpec, label: str) -> str:
    """The ``estimand`` column: ``label``, preceded by ``finite population, `` when it is one."""
    return f"finite population, {label}" if spec.target == "finite_population" else label
