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
into one ordinary :class:`~lcmodel.results.fit_result.FitResult` per indicator.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from lcmodel.data.survey import load_survey_data
from lcmodel.design.calibration import Calibration
from lcmodel.design.dims import INDICATOR, PAIR, SEPARATOR, pair_labels
from lcmodel.errors import DataError, LcmodelError, SpecError, did_you_mean, listed
from lcmodel.models.area_effects import correlated_area_effects
from lcmodel.models.base import Model
from lcmodel.models.unit_level import UnitLevelModel
from lcmodel.spec import CorrelationSpec, JointSpec, load_spec, parse_joint_spec
from lcmodel.spec.priors import PriorSpec, PriorTerm

if TYPE_CHECKING:
    import numpy as np
    import pymc as pm
    import xarray as xr

    from lcmodel.inference.diagnostics import Diagnostics
    from lcmodel.results.joint_result import JointFitResult

__all__ = ["JointModel"]


class JointModel(Model):
    """Several indicators of one survey with correlated area effects.

    Parameters
    ----------
    spec
        Validated joint spec.
    models
        One :class:`~lcmodel.models.unit_level.UnitLevelModel` per indicator, in the spec's order.

    Examples
    --------
    >>> joint = JointModel.from_spec("models/social_joint.toml")  # doctest: +SKIP
    >>> result = joint.fit()  # doctest: +SKIP
    >>> result.correlations()  # doctest: +SKIP
    """

    kind = "joint"

    def __init__(self, spec: JointSpec, models: list[UnitLevelModel]) -> None:
        self.spec = spec
        self.models = dict(zip(spec.names, models, strict=True))
        first_name, first = next(iter(self.models.items()))
        settings = {
            n: (
                m.spec.structure.area_effect,
                m.spec.structure.adjacency,
                m.spec.structure.contiguity,
            )
            for n, m in self.models.items()
        }
        if len(set(settings.values())) > 1:
            described = [
                f"{n}: {kind}" + (f" over {a}" if a else "") for n, (kind, a, _) in settings.items()
            ]
            raise SpecError(
                f"joint model '{spec.name}': the indicators' area effects differ "
                f"({'; '.join(described)}); an area's effects are drawn together across "
                f"indicators, so give every indicator spec the same 'area_effect', "
                f"'adjacency' and 'contiguity'"
            )
        areas = list(first.data.areas.index)
        for name, model in self.models.items():
            mine = list(model.data.areas.index)
            if mine != areas:
                extra = sorted(set(mine) ^ set(areas))
                raise DataError(
                    f"joint model '{spec.name}': indicators '{name}' and '{first_name}' cover "
                    f"different areas ({listed(extra)} in one only); give the specs an 'areas' "
                    f"table listing every area, so that each indicator has every area"
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
            spec = load_spec(spec, cls.kind)
        if data is not None:  # recorded in the specs, so results say which data they used
            raw = spec.model_dump()
            for indicator in raw["indicators"]:
                indicator["data"] = Path(data).resolve()
            spec = parse_joint_spec(raw, source=f"{spec.name} with data {data}")
        models = [UnitLevelModel(s, load_survey_data(s)) for s in spec.indicator_specs()]
        return cls(spec, models)

    @property
    def names(self) -> list[str]:
        """Indicator names, in order."""
        return list(self.models)

    def __getitem__(self, name: str) -> UnitLevelModel:
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

    def prior_terms(self) -> dict[str, PriorTerm]:
        """Every indicator's terms, named ``<indicator>::<term>`` (the LKJ prior is separate)."""
        return {
            f"{name}{SEPARATOR}{term}": prior
            for name, model in self.models.items()
            for term, prior in model.prior_terms().items()
        }

    def priors(self) -> dict[str, PriorSpec]:
        """Every indicator's priors in use, named ``<indicator>::<term>``."""
        return {
            f"{name}{SEPARATOR}{term}": prior
            for name, model in self.models.items()
            for term, prior in model.priors().items()
        }

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
            each indicator's variables as in :meth:`UnitLevelModel.build`, named
            ``<indicator>::<name>``.
        """
        import pymc as pm

        with pm.Model(coords=self.coords()) as model:
            first = next(iter(self.models.values()))
            z_area = correlated_area_effects(
                self.names,
                self.spec.correlation.eta,
                kind=first.spec.structure.area_effect,
                adjacency=first.adjacency,
                priors={name: model.priors() for name, model in self.models.items()},
            )
            for index, (name, indicator) in enumerate(self.models.items()):
                with pm.Model(name=name):
                    indicator.add_terms(
                        aggregate_cells=aggregate_cells,
                        prefix=f"{name}{SEPARATOR}",
                        z_area=z_area[:, index],
                    )
        return model

    def with_spec(self, spec: JointSpec) -> JointModel:
        """The same data with another joint spec (new ``[fit]`` settings)."""
        models = [
            UnitLevelModel(s, m.data)
            for s, m in zip(spec.indicator_specs(), self.models.values(), strict=True)
        ]
        return type(self)(spec, models)

    def report_inputs(self) -> dict[str, tuple[pd.DataFrame, pd.DataFrame | None]]:
        """Each indicator's per-area and per-wave inputs."""
        return {name: model.report_inputs() for name, model in self.models.items()}

    def calibrations(
        self, inputs: dict[str, tuple[pd.DataFrame, pd.DataFrame | None]]
    ) -> list[Calibration]:
        """Each indicator's ``[calibrate]``, on its own area values."""
        return [
            plan
            for name, model in self.models.items()
            for plan in model.calibrations(inputs[name], prefix=f"{name}{SEPARATOR}")
        ]

    def checked_variables(self, pymc_model: pm.Model) -> list[str]:
        """Free variables (but the LKJ factor), every area value, and the correlations."""
        checked = [rv.name for rv in pymc_model.free_RVs if rv.name != "area_corr_chol"]
        for name in self.names:
            checked.append(f"{name}{SEPARATOR}area_value")
            if f"{name}{SEPARATOR}area_wave_value" in pymc_model.named_vars:
                checked.append(f"{name}{SEPARATOR}area_wave_value")
        checked.append("area_correlation")
        return checked

    def data_metadata(self) -> dict[str, Any]:
        """Each indicator's data and family."""
        return {"indicators": {name: m.data_metadata() for name, m in self.models.items()}}

    def finish_posterior(self, posterior: xr.Dataset, rng: np.random.Generator) -> xr.Dataset:
        """Each indicator's finite-population values.

        See :meth:`~lcmodel.models.unit_level.UnitLevelModel.finish_posterior`.
        """
        for name, model in self.models.items():
            posterior = model.finish_posterior(posterior, rng, prefix=f"{name}{SEPARATOR}")
        return posterior

    def make_result(
        self,
        idata: Any,
        spec: JointSpec,
        inputs: dict[str, tuple[pd.DataFrame, pd.DataFrame | None]],
        diagnostics: Diagnostics,
        metadata: dict[str, Any],
    ) -> JointFitResult:
        """Wrap the joint posterior in a :class:`~lcmodel.results.joint_result.JointFitResult`."""
        from lcmodel.results.joint_result import JointFitResult

        return JointFitResult(
            idata=idata,
            spec=spec,
            inputs={name: area for name, (area, _) in inputs.items()},
            diagnostics=diagnostics,
            metadata=metadata,
            wave_inputs={name: waves for name, (_, waves) in inputs.items() if waves is not None},
        )
