"""The hierarchical area model: linear predictor, priors, and the PyMC model that holds them.

:class:`AreaModel` *holds* a ``pm.Model`` (it does not subclass one). ``build()`` returns the
PyMC model to inspect before any sampling; ``fit()`` samples it and returns a
:class:`~lcmodel.results.FitResult`.

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

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from lcmodel.cells import UNIT, Cells, aggregate, as_rows
from lcmodel.data import AREA, SurveyData, load_survey_data
from lcmodel.errors import DataError, SpecError
from lcmodel.families import get_family
from lcmodel.priors import HasPriors, PriorSpec, PriorTerm, check_prior_overrides
from lcmodel.spec import ModelSpec, load_spec

if TYPE_CHECKING:
    from lcmodel.results import FitResult

__all__ = ["AreaModel"]

QUANTITY = "quantity"
"""Dimension name of the area quantities (share, category shares, mean)."""

WAVE_STEP = "wave_step"
"""Dimension of the steps of the area x wave random walk (every wave but the first)."""


def _prefixed(prefix: str, dim: str) -> str:
    """Dimension name ``dim`` with ``prefix``; areas are shared and never prefixed."""
    return dim if dim == AREA else f"{prefix}{dim}"


def _prior(dist: str, **params: float) -> PriorSpec:
    return PriorSpec(dist=dist, **{k: round(v, 6) for k, v in params.items()})


class AreaModel(HasPriors):
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
        self.keys: list[str] = [AREA, *(["wave"] if data.wave else []), *data.covariates]
        respondents = data.respondents
        for column in data.covariates:
            levels = respondents[column].unique()
            if len(levels) < 2:
                raise DataError(
                    f"covariate '{column}' has a single level ({levels[0]!r}) among respondents "
                    f"who answered '{spec.outcome.column}'; it cannot be estimated. Drop it from "
                    f"'structure.covariates'."
                )
        self._numeric = {}
        for column in data.numeric_covariates:
            values = respondents[column].to_numpy(dtype=float)
            if not values.std() > 0:
                raise DataError(
                    f"numeric covariate '{column}' has the same value for every respondent; "
                    f"drop it from 'structure.numeric_covariates'."
                )
            self._numeric[column] = (float(values.mean()), float(values.std()))
        self._scale = self.family.scale(respondents[data.count_columns])
        self._area_design = self._area_covariate_design()
        self._area_wave = data.wave and spec.structure.area_wave is not None
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
        terms.append(
            PriorTerm(
                "sigma_area",
                _prior("HalfNormal", sigma=s),
                "positive",
                f"between-area sd, scale 1 {unit}: allows areas to differ substantially while "
                "shrinking towards little variation when the data say so",
            )
        )
        for column in self.data.covariates:
            terms.append(
                PriorTerm(
                    f"beta_{column}",
                    _prior("ZeroSumNormal", sigma=s),
                    "zerosum",
                    f"effects of {column} levels (zero-sum), sd 1 {unit}",
                )
            )
        for column in self.data.numeric_covariates:
            terms.append(
                PriorTerm(
                    f"beta_{column}",
                    _prior("Normal", mu=0, sigma=2.5 * s),
                    "real",
                    f"change per sd of {column} among respondents, sd 2.5 {unit}",
                )
            )
        for column, (kind, _) in self._area_design.items():
            if kind == "numeric":
                terms.append(
                    PriorTerm(
                        f"gamma_{column}",
                        _prior("Normal", mu=0, sigma=s),
                        "real",
                        f"change per sd of {column} across areas, sd 1 {unit}",
                    )
                )
            else:
                terms.append(
                    PriorTerm(
                        f"gamma_{column}",
                        _prior("ZeroSumNormal", sigma=s),
                        "zerosum",
                        f"effects of area {column} levels (zero-sum), sd 1 {unit}",
                    )
                )
        if self.data.wave:
            terms.append(
                PriorTerm(
                    "sigma_wave",
                    _prior("HalfNormal", sigma=0.5 * s),
                    "positive",
                    f"sd of wave-to-wave shifts, scale 0.5 {unit}: few waves cannot inform a "
                    "wide prior, and large shifts between waves are implausible",
                )
            )
        if self.data.wave and self.spec.structure.area_wave is not None:
            terms.append(
                PriorTerm(
                    "sigma_area_wave",
                    _prior("HalfNormal", sigma=0.25 * s),
                    "positive",
                    f"sd of an area's own step from one wave to the next, scale 0.25 {unit}: "
                    "areas change slowly, and the data of one area and wave are few",
                )
            )
        terms += [t for t in family_terms if t.name != "intercept"]
        return {t.name: t for t in terms}

    def _check_prior_overrides(self) -> None:
        check_prior_overrides(self.prior_terms(), dict(self.spec.priors), self.spec.name)

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
        for column, (kind, levels) in self._area_design.items():
            if kind == "categorical":
                coords[f"area_{column}"] = list(levels)
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
        """The population each area value averages over, with a ``weight`` column.

        A surveyed area averages over its own respondents (sample-standardised). An area in
        the areas table with no respondents averages over the whole sample's covariate mix,
        with its area effect drawn from the area-effect distribution. With a population frame
        (``[frame]``) every area averages over its frame cells, weighted by their counts
        (poststratification). With population means of numeric covariates
        (``[population]``), each area has one reference row at its population means (at the
        non-sampled units' means when population sizes are given).
        """
        respondents = self.data.respondents
        population = self.data.population
        if self.data.frame is not None:
            return self._frame_cells()
        if population is not None:
            means = population.loc[list(self.data.areas.index), list(self._numeric)].copy()
            if "size" in population.columns:
                size = population.loc[means.index, "size"].to_numpy()
                n = self.data.areas["n"].to_numpy()
                sample = respondents.groupby(AREA)[list(self._numeric)].sum()
                sample = sample.reindex(means.index).fillna(0.0)
                rest = np.maximum(size - n, 1.0)[:, None]
                means = (means * size[:, None] - sample) / rest
            return means.rename_axis(AREA).reset_index().assign(weight=1.0)
        if self._numeric:
            own = respondents[self.keys + list(self._numeric)].assign(weight=1.0)
        else:
            own = respondents.groupby(self.keys, sort=True, observed=True).size()
            own = own.rename("weight").reset_index()
        unsurveyed = [a for a, n in self.data.areas["n"].items() if n == 0]
        if not unsurveyed:
            return own
        pooled = own.drop(columns=AREA)
        group = [c for c in pooled.columns if c != "weight"]
        if group:
            pooled = pooled.groupby(group, sort=True, observed=True)["weight"].sum().reset_index()
        else:
            pooled = pd.DataFrame({"weight": [float(pooled["weight"].sum())]})
        borrowed = pd.concat([pooled.assign(**{AREA: area}) for area in unsurveyed])
        return pd.concat([own, borrowed[own.columns]], ignore_index=True)

    def _frame_cells(self) -> pd.DataFrame:
        """The population frame's cells, weighted by their counts (poststratification).

        A frame has no waves, so with a wave effect each area's population is spread evenly
        over the waves in which the area was surveyed (every wave for an unsurveyed area).
        """
        cells = self.data.frame.rename(columns={"count": "weight"})
        if not self.data.wave:
            return cells
        respondents = self.data.respondents
        surveyed = respondents.groupby(AREA)["wave"].unique()
        every = sorted(int(w) for w in respondents["wave"].unique())
        parts = []
        for area, mine in cells.groupby(AREA, sort=False):
            waves = sorted(int(w) for w in surveyed.get(area, every))
            spread = mine.assign(weight=mine["weight"] / len(waves))
            parts += [spread.assign(wave=wave) for wave in waves]
        return pd.concat(parts, ignore_index=True)

    def estimand(self) -> str:
        """What an area value averages over: the frame, population means, or respondents."""
        if self.data.frame is not None:
            return "poststratified"
        if self.data.population is not None:
            return "population means"
        return "sample-standardised"

    def _finite_population(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Sampling fraction and sample mean per area, when population sizes are known."""
        population = self.data.population
        if population is None or "size" not in population.columns:
            return None
        areas = self.data.areas
        n = areas["n"].to_numpy(dtype=float)
        fraction = n / population.loc[areas.index, "size"].to_numpy()
        values = self.family.respondent_values(self.data.respondents[self.data.count_columns])
        sums = pd.DataFrame(values).groupby(self.data.respondents[AREA].to_numpy()).sum()
        mean = sums.reindex(areas.index).fillna(0.0).to_numpy() / np.maximum(n, 1.0)[:, None]
        return fraction, mean

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
        with pm.Model(coords=self.coords()) as model:
            self.add_terms(aggregate_cells=aggregate_cells)
        return model

    def add_terms(
        self,
        *,
        aggregate_cells: bool | None = None,
        prefix: str = "",
        z_area: Any | None = None,
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
        """
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
        sigma_area = priors["sigma_area"].build("sigma_area")
        if z_area is None:
            z_area = pm.Normal("z_area", 0.0, 1.0, dims=AREA)
        else:  # recorded, so this indicator's posterior has every variable of a separate fit
            z_area = pm.Deterministic("z_area", z_area, dims=AREA)
        area_effect = pm.Deterministic("area_effect", z_area * sigma_area, dims=AREA)
        area_term = area_effect
        for column, (kind, values) in self._area_design.items():
            name = f"gamma_{column}"
            if kind == "numeric":
                gamma = priors[name].build(name)
                area_term = area_term + gamma * pt.as_tensor(np.asarray(values))
            else:
                gamma = priors[name].build(name, dims=dim(f"area_{column}"))
                level = pd.Index(values).get_indexer(self.data.areas[column].astype(str).to_numpy())
                area_term = area_term + gamma[level]
        wave_effect = None
        if self.data.wave:
            sigma_wave = priors["sigma_wave"].build("sigma_wave")
            z_wave = pm.ZeroSumNormal("z_wave", sigma=1.0, dims=dim("wave"))
            wave_effect = pm.Deterministic("wave_effect", z_wave * sigma_wave, dims=dim("wave"))
        area_wave = None
        if self._area_wave:
            # non-centred random walk per area over the waves, centred on the area's mean so
            # that area_effect stays the area's average level
            sigma_step = priors["sigma_area_wave"].build("sigma_area_wave")
            steps = pm.Normal("z_area_wave", 0.0, 1.0, dims=(AREA, dim(WAVE_STEP)))
            start = pt.zeros((len(coords[AREA]), 1))
            walk = pt.concatenate([start, pt.cumsum(steps, axis=1)], axis=1) * sigma_step
            walk = walk - walk.mean(axis=1, keepdims=True)
            area_wave = pm.Deterministic("area_wave_effect", walk, dims=(AREA, dim("wave")))
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
            area = self._codes(cells, coords)[AREA]
            weight = cells["weight"].to_numpy(dtype=float)
            total = np.bincount(area, weights=weight, minlength=len(coords[AREA]))
            share = (weight / total[area])[:, None]
            shape = (len(coords[AREA]), len(coords[QUANTITY]))
            return pt.zeros(shape)[area].inc(share * expected)

        self.family.add_likelihood(predictor(units.keys), units, params, dim)

        area_value = average(
            self.family.expected_quantities(predictor(reference), params), reference
        )
        if self._area_wave:
            # each area's reference population (its own mix, or the frame) at every wave
            keys = [c for c in reference.columns if c not in ("wave", "weight")]
            mix = reference.groupby(keys, sort=True, observed=True)["weight"].sum().reset_index()
            per_wave = [
                average(
                    self.family.expected_quantities(predictor(mix.assign(wave=wave)), params),
                    mix,
                )
                for wave in coords["wave"]
            ]
            pm.Deterministic(
                "area_wave_value",
                pt.stack(per_wave, axis=1),
                dims=(AREA, dim("wave"), dim(QUANTITY)),
            )
        correction = self._finite_population()
        if correction is not None:
            fraction, sample_mean = correction
            area_value = (1.0 - fraction)[:, None] * area_value + fraction[:, None] * sample_mean
        pm.Deterministic("area_value", area_value, dims=(AREA, dim(QUANTITY)))

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
