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
``n_eff = n / deff`` from the survey's design (:mod:`lcmodel.direct`); from a table it is
``y (1 - y) / psi`` when that is defined, else the table's ``n``.

Input is either a survey spec (its direct estimates, design variances, areas table and
benchmarks) or an area table of estimates and variances (for published figures).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from lcmodel.comparison import match_benchmarks
from lcmodel.data import AREA, clean_labels, frame_hash, numeric_column
from lcmodel.diagnostics import compute_diagnostics
from lcmodel.direct import survey_direct_estimates
from lcmodel.errors import DataError, SpecError, did_you_mean, first_rows
from lcmodel.fitting import area_inputs, draw_seed, resolve_sampler, run_metadata, sample
from lcmodel.model import AreaModel
from lcmodel.priors import HasPriors, PriorSpec, PriorTerm, check_prior_overrides
from lcmodel.results import FitResult
from lcmodel.spec import AreaLevelSpec, load_area_level_spec, load_spec
from lcmodel.tables import read_table

__all__ = ["FayHerriotModel"]

SAMPLED = "sampled_area"
"""Dimension of the areas with a direct estimate (the likelihood's observations)."""


class FayHerriotModel(HasPriors):
    """Area-level model of direct estimates (Fay-Herriot), normal or binomial on the logit scale.

    Parameters
    ----------
    spec
        Validated area-level spec.
    areas
        One row per area (index ``area``): ``estimate``, ``variance`` and ``n_eff`` (NaN where
        the area has no direct estimate) and the covariates.
    inputs
        The estimates' inputs per area (names, ``n``, direct estimate, benchmark match), as
        :func:`lcmodel.fitting.area_inputs` gives them.
    quantity
        Name of the quantity modelled (``share``, ``mean``, ...).
    kind
        ``"share"`` or ``"mean"``.
    outcome
        What the estimates measure, for prose.
    """

    def __init__(
        self,
        spec: AreaLevelSpec,
        areas: pd.DataFrame,
        inputs: pd.DataFrame,
        quantity: str,
        kind: str,
        outcome: str,
    ) -> None:
        self.spec = spec
        self.areas = areas
        self.inputs = inputs
        self.quantity = quantity
        self.kind = kind
        self.outcome = outcome
        section = spec.area_level
        self._binomial = section.likelihood == "binomial"
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
        self._design = self._covariate_design()
        check_prior_overrides(self.prior_terms(), dict(spec.priors), spec.name)

    # ---------------------------------------------------------------- loading
    @classmethod
    def from_spec(cls, spec: AreaLevelSpec | str | Path) -> FayHerriotModel:
        """Load an area-level spec (path or object) and its data.

        Parameters
        ----------
        spec
            An :class:`~lcmodel.spec.AreaLevelSpec` or the path of its TOML file.
        """
        if not isinstance(spec, AreaLevelSpec):
            spec = load_area_level_spec(spec)
        if spec.area_level.survey is not None:
            return cls._from_survey(spec)
        return cls._from_table(spec)

    @classmethod
    def _from_survey(cls, spec: AreaLevelSpec) -> FayHerriotModel:
        section = spec.area_level
        unit = AreaModel.from_spec(load_spec(section.survey))
        quantities = {q.name: q for q in unit.family.quantities()}
        name = section.quantity or unit.family.headline()
        if name not in quantities:
            raise SpecError(
                f"spec '{spec.name}': area_level.quantity '{name}' is not a quantity of "
                f"'{unit.spec.name}'{did_you_mean(name, quantities)}; choose one of "
                f"{', '.join(quantities)}"
            )
        areas = unit.data.areas
        covariates = section.covariates + section.numeric_covariates
        missing = [c for c in covariates if c not in areas.columns]
        if missing:
            where = unit.spec.areas or f"{section.survey} (it names no areas table)"
            raise DataError(
                f"{where}: area covariate(s) {missing} are not columns of the areas "
                f"table{did_you_mean(missing[0], list(areas.columns))}"
            )
        direct = survey_direct_estimates(unit)
        direct = direct[direct["quantity"] == name].set_index(AREA).reindex(areas.index)
        table = _area_covariates(areas.reset_index(), section, str(unit.spec.areas))
        table.index = areas.index
        table["estimate"] = direct["direct"]
        table["variance"] = direct["direct_var"]
        table["n_eff"] = direct["n_eff"]
        if section.likelihood == "normal":
            unusable = table["estimate"].notna() & ~(table["variance"] > 0)
            if unusable.any():
                warnings.warn(
                    f"spec '{spec.name}': area(s) {list(table.index[unusable])} have a direct "
                    f"variance of 0 or none (every answer alike, or one respondent); the normal "
                    f"likelihood cannot use them, so they are estimated from covariates alone. "
                    f'For shares, likelihood = "binomial" uses them.',
                    stacklevel=2,
                )
                table.loc[unusable, ["estimate", "variance"]] = np.nan
        inputs = area_inputs(unit)
        inputs = inputs[inputs["quantity"] == name].reset_index(drop=True)
        inputs["in_sample"] = table["estimate"].reindex(inputs[AREA]).notna().to_numpy()
        weighted = "weighted" if unit.data.weighted else "unweighted"
        inputs["estimand"] = f"Fay-Herriot of {weighted} direct estimates"
        return cls(spec, table, inputs, name, quantities[name].kind, unit.spec.outcome.column)

    @classmethod
    def _from_table(cls, spec: AreaLevelSpec) -> FayHerriotModel:
        section = spec.area_level
        source = str(section.table)
        frame = read_table(section.table, "area estimates")
        columns = [section.area, section.estimate, section.variance]
        columns += [section.n] if section.n else []
        columns += section.covariates + section.numeric_covariates
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            raise DataError(
                f"{source}: column '{absent[0]}' named in [area_level] is missing"
                f"{did_you_mean(str(absent[0]), list(frame.columns))}; columns: "
                f"{', '.join(frame.columns)}"
            )
        area = clean_labels(frame[section.area]).reset_index(drop=True)
        if area.isna().any():
            rows = list(np.flatnonzero(area.isna().to_numpy()))
            raise DataError(
                f"{source}: column '{section.area}' is blank ({first_rows(rows)}); every row "
                f"needs its area"
            )
        repeated = area.duplicated(keep=False)
        if repeated.any():
            rows = list(np.flatnonzero(repeated.to_numpy()))
            raise DataError(
                f"{source}: area '{area.iloc[rows[0]]}' appears more than once in column "
                f"'{section.area}' ({first_rows(rows)}); give one row per area"
            )
        table = pd.DataFrame(index=pd.Index(area.to_numpy(), name=AREA))
        for key, column in [("estimate", section.estimate), ("variance", section.variance)]:
            table[key] = _numbers(frame[column], column, source).to_numpy()
        blank = table["estimate"].isna() != table["variance"].isna()
        if blank.any():
            rows = list(np.flatnonzero(blank.to_numpy()))
            raise DataError(
                f"{source}: an estimate without its variance, or a variance without its "
                f"estimate ({first_rows(rows)}); give both, or leave both blank for an area to "
                f"be estimated from its covariates alone"
            )
        binomial = section.likelihood == "binomial"
        variance = table["variance"]
        bad = variance.notna() & ~(variance > 0 if not binomial else variance >= 0)
        if bad.any():
            rows = list(np.flatnonzero(bad.to_numpy()))
            need = "positive" if not binomial else "zero or positive"
            raise DataError(
                f"{source}: column '{section.variance}' must hold {need} sampling variances, "
                f"not {variance.iloc[rows[0]]!r} ({first_rows(rows)}). A zero variance cannot "
                f"be a known sampling variance of a normal model; for shares use likelihood = "
                f"\"binomial\" with an 'n' column"
            )
        estimate = table["estimate"]
        if section.kind == "share":
            outside = estimate.notna() & ~estimate.between(0, 1)
            if outside.any():
                rows = list(np.flatnonzero(outside.to_numpy()))
                raise DataError(
                    f"{source}: column '{section.estimate}' holds shares (kind = \"share\"), so "
                    f"values lie in 0-1, not {estimate.iloc[rows[0]]!r} ({first_rows(rows)}); "
                    f"percentages? divide by 100"
                )
        n = None
        if section.n:
            n = _numbers(frame[section.n], section.n, source)
            n.index = table.index
            small = n.notna() & ~(n > 0)
            if small.any():
                rows = list(np.flatnonzero(small.to_numpy()))
                raise DataError(
                    f"{source}: column '{section.n}' must hold positive sample sizes, not "
                    f"{n.iloc[rows[0]]!r} ({first_rows(rows)})"
                )
        table["n_eff"] = np.nan
        if binomial:
            with np.errstate(divide="ignore", invalid="ignore"):
                implied = estimate * (1 - estimate) / variance
            usable = estimate.between(0, 1, inclusive="neither") & (variance > 0)
            fallback = n if n is not None else np.nan
            table["n_eff"] = implied.where(usable, fallback).where(estimate.notna())
            lacking = estimate.notna() & table["n_eff"].isna()
            if lacking.any():
                rows = list(np.flatnonzero(lacking.to_numpy()))
                raise DataError(
                    f"{source}: the share in {first_rows(rows)} is 0 or 1 or has a zero "
                    f"variance, so its effective sample size must come from a sample size "
                    f'column: name it in [area_level] n = "..."'
                )
        covariates = _area_covariates(frame.reset_index(drop=True), section, source)
        for column in covariates.columns:
            table[column] = covariates[column].to_numpy()
        inputs = _table_inputs(table, n, section.kind)
        name = "share" if section.kind == "share" else "mean"
        return cls(spec, table, inputs, name, section.kind, section.estimate)

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
        terms = [
            PriorTerm(
                "intercept",
                PriorSpec(dist="Normal", mu=round(centre, 6), sigma=round(2.5 * s, 6)),
                "real",
                f"value of an average area: centred on {'0' if self._binomial else 'the mean'}"
                f" of the direct estimates, sd 2.5 {unit}",
            ),
            PriorTerm(
                "sigma_area",
                PriorSpec(dist="HalfNormal", sigma=round(s, 6)),
                "positive",
                f"between-area sd beyond the covariates, scale 1 {unit}",
            ),
        ]
        for column in self.spec.area_level.covariates:
            terms.append(
                PriorTerm(
                    f"gamma_{column}",
                    PriorSpec(dist="ZeroSumNormal", sigma=round(s, 6)),
                    "zerosum",
                    f"effects of {column} levels (zero-sum), sd 1 {unit}",
                )
            )
        for column in self.spec.area_level.numeric_covariates:
            terms.append(
                PriorTerm(
                    f"gamma_{column}",
                    PriorSpec(dist="Normal", mu=0, sigma=round(s, 6)),
                    "real",
                    f"change per sd of {column} across areas, sd 1 {unit}",
                )
            )
        return {t.name: t for t in terms}

    # ------------------------------------------------------------------ build
    def _covariate_design(self) -> dict[str, tuple[str, Any]]:
        design: dict[str, tuple[str, Any]] = {}
        for column in self.spec.area_level.covariates:
            levels = sorted(self.areas[column].astype(str).unique())
            if len(levels) < 2:
                raise DataError(
                    f"area covariate '{column}' has a single level ({levels[0]!r}); it cannot "
                    f"be estimated. Drop it from [area_level] covariates."
                )
            design[column] = ("categorical", levels)
        for column in self.spec.area_level.numeric_covariates:
            x = self.areas[column].to_numpy(dtype=float)
            if not x.std() > 0:
                raise DataError(
                    f"area covariate '{column}' has the same value in every area; drop it from "
                    f"[area_level] numeric_covariates."
                )
            design[column] = ("numeric", (x - x.mean()) / x.std())
        return design

    def coords(self) -> dict[str, list[Any]]:
        """Areas, sampled areas, quantity and covariate levels."""
        coords: dict[str, list[Any]] = {
            AREA: list(self.areas.index),
            SAMPLED: list(self.areas.index[self.areas["estimate"].notna()]),
            "quantity": [self.quantity],
        }
        for column, (kind, levels) in self._design.items():
            if kind == "categorical":
                coords[f"area_{column}"] = list(levels)
        return coords

    def build(self) -> pm.Model:
        """Create the PyMC model (no sampling).

        Returns
        -------
        pymc.Model
            Free variables ``intercept``, ``gamma_<covariate>``, ``sigma_area``, ``z_area``;
            deterministics ``area_effect`` and ``area_value`` (dims ``area, quantity``).
        """
        priors = self.priors()
        sampled = self.areas["estimate"].notna().to_numpy()
        with pm.Model(coords=self.coords()) as model:
            theta = priors["intercept"].build("intercept")
            for column, (kind, values) in self._design.items():
                name = f"gamma_{column}"
                if kind == "numeric":
                    theta = theta + priors[name].build(name) * pt.as_tensor(values)
                else:
                    gamma = priors[name].build(name, dims=f"area_{column}")
                    level = pd.Index(values).get_indexer(self.areas[column].astype(str))
                    theta = theta + gamma[level]
            sigma_area = priors["sigma_area"].build("sigma_area")
            z_area = pm.Normal("z_area", 0.0, 1.0, dims=AREA)
            theta = theta + pm.Deterministic("area_effect", sigma_area * z_area, dims=AREA)
            observed = self.areas.loc[sampled]
            mine = theta[np.flatnonzero(sampled)]
            if self._binomial:
                y = observed["estimate"].to_numpy(dtype=float)
                n_eff = observed["n_eff"].to_numpy(dtype=float)
                log_p, log_q = -pt.softplus(-mine), -pt.softplus(mine)
                pm.Potential("y", (n_eff * (y * log_p + (1.0 - y) * log_q)).sum())
                value = pm.math.invlogit(theta)
            else:
                pm.Normal(
                    "y",
                    mu=mine,
                    sigma=np.sqrt(observed["variance"].to_numpy(dtype=float)),
                    observed=observed["estimate"].to_numpy(dtype=float),
                    dims=SAMPLED,
                )
                value = theta
            pm.Deterministic("area_value", value[:, None], dims=(AREA, "quantity"))
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
        spec = self.spec.with_overrides(**overrides)
        seed = spec.fit.seed if spec.fit.seed is not None else draw_seed()
        sampler = resolve_sampler(spec.fit.sampler)
        pymc_model = self.build()
        idata, wall = sample(pymc_model, spec.fit, seed, progressbar=progressbar)
        checked = [rv.name for rv in pymc_model.free_RVs] + ["area_value"]
        sampled = self.areas["estimate"].notna()
        metadata = run_metadata(seed, sampler, wall) | {
            "kind": "area_level",
            "family": f"fay_herriot ({spec.area_level.likelihood})",
            "headline": self.quantity,
            "outcome": self.outcome,
            "n_areas_with_estimates": int(sampled.sum()),
            "data_hash": frame_hash(self.areas),
        }
        return FitResult(
            idata=idata,
            spec=spec.with_overrides(seed=seed),
            inputs=self.inputs,
            diagnostics=compute_diagnostics(idata, checked),
            metadata=metadata,
        )


def _numbers(values: pd.Series, column: str, source: str) -> pd.Series:
    fix = "Fix the values in the area table."
    return numeric_column(values.reset_index(drop=True), column, source, fix)


def _area_covariates(frame: pd.DataFrame, section: Any, source: str) -> pd.DataFrame:
    """The area covariates named in ``[area_level]``: text levels and finite numbers, no blanks.

    ``frame``'s positions are the file's data rows (for the messages).
    """
    out = pd.DataFrame(index=frame.index)
    for column in section.covariates:
        out[column] = clean_labels(frame[column])
    for column in section.numeric_covariates:
        out[column] = numeric_column(frame[column], column, source, "Fix the area covariate.")
    for column in out.columns:
        blank = out[column].isna()
        if blank.any():
            rows = list(np.flatnonzero(blank.to_numpy()))
            where = first_rows(rows)
            if AREA in frame.columns:  # a validated areas table: name the areas
                where = f"area(s) {list(frame[AREA].iloc[rows][:5])}"
            raise DataError(
                f"{source}: area covariate '{column}' is blank ({where}); give every area a "
                f"value or drop it from [area_level]"
            )
    return out.astype({c: str for c in section.covariates})


def _table_inputs(table: pd.DataFrame, n: pd.Series | None, kind: str) -> pd.DataFrame:
    """The estimates' inputs for areas read from a table (no names, nations or benchmarks)."""
    name = "share" if kind == "share" else "mean"
    inputs = pd.DataFrame(
        {
            AREA: table.index,
            "quantity": name,
            "kind": kind,
            "name": table.index,
            "n": (n.to_numpy() if n is not None else np.full(len(table), np.nan)),
            "in_sample": table["estimate"].notna().to_numpy(),
            "estimand": "Fay-Herriot of the table's direct estimates",
            "direct": table["estimate"].to_numpy(),
            "direct_se": np.sqrt(table["variance"].to_numpy()),
            "deff": np.nan,
        }
    )
    matched = match_benchmarks(table.iloc[:, :0], None, "national").reset_index(drop=True)
    return pd.concat([inputs, matched], axis=1)
