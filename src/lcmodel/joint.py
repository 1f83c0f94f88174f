"""Joint model of several indicators with correlated area effects.

Each indicator keeps its own model (family, intercept or cutpoints, covariate and wave effects,
area covariates, priors, ``sigma_area``), exactly as when fitted alone. What they share is the
area: an area's standardised effects on the ``K`` indicators are drawn together::

    z_area[a, :] = L @ u[a, :],   u[a, k] ~ Normal(0, 1),   L = cholesky(R),   R ~ LKJ(eta)
    area_effect_k[a] = sigma_area_k * z_area[a, k]

so ``R`` is the correlation of area effects across indicators (on the link scale, after the
covariates). An area where one indicator is well measured then informs the others, which is
what a small area gains. The LKJ shape ``eta`` (default 2) gives correlation matrices near the
identity slightly more mass than uniform: with a couple of dozen areas the correlations are
only weakly identified, and ``eta = 2`` keeps them off the +-1 boundary without hiding a
strong correlation the data show.

Variables of indicator ``k`` are named ``<k>::<name>`` (PyMC's sub-model prefix) and its
dimensions ``<k>::<dim>`` except the shared ``area``. :class:`JointFitResult` slices them back
into one ordinary :class:`~lcmodel.results.FitResult` per indicator.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from lcmodel.data import AREA, load_survey_data
from lcmodel.diagnostics import compute_diagnostics
from lcmodel.errors import DataError, LcmodelError, did_you_mean
from lcmodel.fitting import (
    area_inputs,
    draw_seed,
    indicator_metadata,
    resolve_sampler,
    run_metadata,
    sample,
)
from lcmodel.model import AreaModel
from lcmodel.spec import CorrelationSpec, JointSpec, load_joint_spec, parse_joint_spec
from lcmodel.waves import wave_inputs

if TYPE_CHECKING:
    from lcmodel.joint_results import JointFitResult

__all__ = ["INDICATOR", "PAIR", "JointModel", "indicator_tree", "pair_labels"]

INDICATOR = "indicator"
"""Dimension of the indicators in a joint model."""

PAIR = "indicator_pair"
"""Dimension of the pairs of indicators whose area-effect correlation is reported."""

SEPARATOR = "::"
"""Between an indicator's name and its variables' and dimensions' names (PyMC's own)."""


def pair_labels(names: list[str]) -> list[str]:
    """Labels of every pair of indicators, ``"a|b"``, in the order of ``names``."""
    return [f"{a}|{b}" for a, b in itertools.combinations(names, 2)]


class JointModel:
    """Several indicators of one survey with correlated area effects.

    Parameters
    ----------
    spec
        Validated joint spec.
    models
        One :class:`~lcmodel.model.AreaModel` per indicator, in the spec's order.

    Examples
    --------
    >>> joint = JointModel.from_spec("models/social_joint.toml")  # doctest: +SKIP
    >>> result = joint.fit()  # doctest: +SKIP
    >>> result.correlations()  # doctest: +SKIP
    """

    def __init__(self, spec: JointSpec, models: list[AreaModel]) -> None:
        self.spec = spec
        self.models = dict(zip(spec.names, models, strict=True))
        first_name, first = next(iter(self.models.items()))
        areas = list(first.data.areas.index)
        for name, model in self.models.items():
            mine = list(model.data.areas.index)
            if mine != areas:
                extra = sorted(set(mine) ^ set(areas))
                raise DataError(
                    f"joint model '{spec.name}': indicators '{name}' and '{first_name}' cover "
                    f"different areas ({extra[:5]} in one only); give the specs an 'areas' table "
                    f"listing every area, so that each indicator has every area"
                )

    @classmethod
    def from_spec(cls, spec: JointSpec | str | Path, data: str | Path | None = None) -> JointModel:
        """Load a joint spec (path or object) and its data, and create the model.

        Parameters
        ----------
        spec
            A :class:`~lcmodel.spec.JointSpec` or the path of a joint TOML spec.
        data
            Optional survey file replacing the indicators' ``data``.
        """
        if not isinstance(spec, JointSpec):
            spec = load_joint_spec(spec)
        if data is not None:  # recorded in the specs, so results say which data they used
            raw = spec.model_dump()
            for indicator in raw["indicators"]:
                indicator["data"] = Path(data).resolve()
            spec = parse_joint_spec(raw, source=f"{spec.name} with data {data}")
        models = [AreaModel(s, load_survey_data(s)) for s in spec.indicator_specs()]
        return cls(spec, models)

    @property
    def names(self) -> list[str]:
        """Indicator names, in order."""
        return list(self.models)

    def __getitem__(self, name: str) -> AreaModel:
        if name not in self.models:
            raise LcmodelError(
                f"no indicator '{name}' in '{self.spec.name}'{did_you_mean(name, self.names)}; "
                f"indicators: {', '.join(self.names)}"
            )
        return self.models[name]

    def coords(self) -> dict[str, list[Any]]:
        """Areas, indicators, pairs, and every indicator's own (prefixed) dimensions."""
        coords: dict[str, list[Any]] = {INDICATOR: self.names, PAIR: pair_labels(self.names)}
        for name, model in self.models.items():
            coords |= model.coords(prefix=f"{name}{SEPARATOR}")
        return coords

    def prior_table(self) -> pd.DataFrame:
        """Every indicator's priors (indexed by indicator and term) and the LKJ prior."""
        parts = {name: model.prior_table() for name, model in self.models.items()}
        table = pd.concat(parts, names=[INDICATOR, "term"])
        eta, default = self.spec.correlation.eta, CorrelationSpec().eta
        table.loc[("(all)", "area_correlation"), :] = [
            f"LKJ(eta={eta:g})",
            f"LKJ(eta={default:g})",
            "default" if eta == default else "spec",
            "correlation of area effects across indicators; eta 2 keeps weakly identified "
            "correlations off +-1 without hiding strong ones",
        ]
        return table

    def build(self, aggregate_cells: bool | None = None) -> pm.Model:
        """Create the joint PyMC model (no sampling).

        Parameters
        ----------
        aggregate_cells
            Likelihood over cells (default) or respondent rows, for every indicator.

        Returns
        -------
        pymc.Model
            Shared variables ``area_corr_chol`` (LKJ Cholesky factor), ``u_area``
            (dims ``area, indicator``) and ``area_correlation`` (dims ``indicator_pair``);
            each indicator's variables as in :meth:`AreaModel.build`, named
            ``<indicator>::<name>``.
        """
        first, second = np.triu_indices(len(self.names), 1)  # the order of pair_labels()
        with pm.Model(coords=self.coords()) as model:
            chol = pm.LKJCorr("area_corr_chol", n=len(self.names), eta=self.spec.correlation.eta)
            u_area = pm.Normal("u_area", 0.0, 1.0, dims=(AREA, INDICATOR))
            # z = u @ chol.T written as a broadcast sum: K is small, and it keeps PyTensor's C
            # backend (which computes the deterministics) away from an absent BLAS
            z_area = (u_area[:, None, :] * chol[None, :, :]).sum(axis=-1)
            for index, (name, indicator) in enumerate(self.models.items()):
                with pm.Model(name=name):
                    indicator.add_terms(
                        aggregate_cells=aggregate_cells,
                        prefix=f"{name}{SEPARATOR}",
                        z_area=z_area[:, index],
                    )
            correlation = (chol[:, None, :] * chol[None, :, :]).sum(axis=-1)
            pm.Deterministic("area_correlation", correlation[first, second], dims=PAIR)
        return model

    def fit(self, *, progressbar: bool = True, **overrides: Any) -> JointFitResult:
        """Sample the joint posterior.

        Parameters
        ----------
        progressbar
            Show the sampler's progress bar.
        **overrides
            Any ``[fit]`` setting (``draws``, ``tune``, ``chains``, ``seed``, ``sampler``...).
        """
        from lcmodel.joint_results import JointFitResult

        joint = self
        if any(value is not None for value in overrides.values()):
            spec = self.spec.with_overrides(**overrides)
            models = [
                AreaModel(s, m.data)
                for s, m in zip(spec.indicator_specs(), self.models.values(), strict=True)
            ]
            joint = JointModel(spec, models)
        settings = joint.spec.fit
        seed = settings.seed if settings.seed is not None else draw_seed()
        sampler = resolve_sampler(settings.sampler)
        inputs = {name: area_inputs(model) for name, model in joint.models.items()}
        pymc_model = joint.build()
        idata, wall = sample(pymc_model, settings, seed, progressbar=progressbar)
        checked = [rv.name for rv in pymc_model.free_RVs if rv.name != "area_corr_chol"]
        checked += [f"{name}{SEPARATOR}area_value" for name in joint.names]
        checked.append("area_correlation")
        waves = {}
        for name, model in joint.models.items():
            if f"{name}{SEPARATOR}area_wave_value" in pymc_model.named_vars:
                checked.append(f"{name}{SEPARATOR}area_wave_value")
                waves[name] = wave_inputs(model, inputs[name])
        metadata = run_metadata(seed, sampler, wall) | {
            "indicators": {name: indicator_metadata(m) for name, m in joint.models.items()}
        }
        return JointFitResult(
            idata=idata,
            spec=joint.spec.with_overrides(seed=seed),
            inputs=inputs,
            diagnostics=compute_diagnostics(idata, checked),
            metadata=metadata,
            wave_inputs=waves,
        )


def indicator_tree(idata: xr.DataTree, name: str) -> xr.DataTree:
    """One indicator's part of a joint posterior, named as in a single-indicator fit.

    Variables ``<name>::x`` become ``x`` and dimensions ``<name>::d`` become ``d``; shared
    sampler statistics are kept, other indicators' variables dropped.

    Parameters
    ----------
    idata
        Posterior of a :class:`JointModel`.
    name
        The indicator.
    """
    prefix = f"{name}{SEPARATOR}"
    groups: dict[str, xr.Dataset] = {}
    for group, node in idata.children.items():
        dataset = node.to_dataset()
        if group == "sample_stats":
            groups[group] = dataset
            continue
        mine = [v for v in dataset.data_vars if str(v).startswith(prefix)]
        if not mine:
            continue
        part = dataset[mine].rename({v: str(v)[len(prefix) :] for v in mine})
        dims = {d: str(d)[len(prefix) :] for d in part.dims if str(d).startswith(prefix)}
        groups[group] = part.rename(dims)
    return xr.DataTree.from_dict(groups)
