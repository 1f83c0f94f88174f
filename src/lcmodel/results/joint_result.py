"""Results of a joint fit: one :class:`FitResult` per indicator plus the area-effect correlations.

A saved joint folder holds ``estimates.csv`` (every indicator's area table, with an
``indicator`` column first), ``correlations.csv``, ``posterior.nc`` (the joint posterior),
``diagnostics.json``, ``result.json`` (``"kind": "joint"``, the joint spec and every indicator's
inputs and metadata) and one ``forest-<indicator>.png`` per indicator (with area x wave
effects also ``wave_estimates-``, ``changes-`` and ``trajectories-<indicator>``; with a boundary
file, ``map-<indicator>.png``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from lcmodel.design.dims import INDICATOR, PAIR, SEPARATOR
from lcmodel.inference.diagnostics import Diagnostics, summary_table
from lcmodel.io.storage import frame_from_json, frame_to_json, netcdf_ready, write_json
from lcmodel.results.estimates import bounds, interval_label, label_approximation
from lcmodel.results.fit_result import FitResult
from lcmodel.results.result import CORRELATION_COLUMNS, Result
from lcmodel.spec import JointSpec, parse_any_spec

if TYPE_CHECKING:
    from lcmodel.results.checks import ModelChecks

__all__ = ["CORRELATION_COLUMNS", "JointFitResult"]


class JointFitResult(Result):
    """The posterior of a joint model: per-indicator results and area-effect correlations.

    Parameters
    ----------
    idata
        The joint posterior.
    spec
        The joint spec (with the seed actually used).
    inputs
        Per indicator, the inputs of its estimates (see
        :func:`lcmodel.design.inputs.area_inputs`).
    diagnostics
        Convergence diagnostics of the whole fit (every indicator shares them).
    metadata
        Versions, seed, sampler and timing, with each indicator's data facts under
        ``"indicators"``.
    wave_inputs
        Per indicator with area x wave effects, its wave inputs (see
        :func:`lcmodel.design.inputs.wave_inputs`); ``result[name].changes()`` then works as for a
        separate fit.
    """

    layout: ClassVar[str] = "indicators"

    def __init__(
        self,
        idata: xr.DataTree,
        spec: JointSpec,
        inputs: dict[str, pd.DataFrame],
        diagnostics: Diagnostics,
        metadata: dict[str, Any],
        wave_inputs: dict[str, pd.DataFrame] | None = None,
    ) -> None:
        self.idata = idata
        self.spec = spec
        self.inputs = inputs
        self._diagnostics = diagnostics
        self.metadata = metadata
        self.wave_inputs = wave_inputs or {}
        run = {k: v for k, v in metadata.items() if k != "indicators"}
        seed = int(metadata["seed"])
        self._indicators = {
            name: FitResult(
                idata=indicator_tree(idata, name),
                spec=indicator.with_overrides(seed=seed),
                inputs=inputs[name],
                diagnostics=diagnostics,
                metadata=run | metadata["indicators"][name] | {"joint": spec.name},
                wave_inputs=self.wave_inputs.get(name),
            )
            for name, indicator in zip(spec.names, spec.indicator_specs(), strict=True)
        }
        self._pointwise_source: Callable[[xr.DataTree], None] | None = None

    @classmethod
    def from_saved(
        cls, idata: xr.DataTree, payload: dict[str, Any], diagnostics: Diagnostics, source: str
    ) -> JointFitResult:
        """Rebuild a joint result from its saved posterior and ``result.json`` payload."""
        return cls(
            idata=idata,
            spec=parse_any_spec(payload["spec"], source=source),
            inputs={name: frame_from_json(frame) for name, frame in payload["inputs"].items()},
            diagnostics=diagnostics,
            metadata=payload["metadata"],
            wave_inputs={
                name: frame_from_json(frame)
                for name, frame in payload.get("wave_inputs", {}).items()
            },
        )

    def __repr__(self) -> str:
        return (
            f"JointFitResult(name={self.spec.name!r}, indicators={self.names}, "
            f"diagnostics={'passed' if self._diagnostics.passed else 'FAILED'})"
        )

    @property
    def indicators(self) -> dict[str, FitResult]:
        """Each indicator's result (its slice of the joint posterior), by name, in order."""
        return self._indicators

    @property
    def pointwise_source(self) -> Callable[[xr.DataTree], None] | None:
        """As :attr:`FitResult.pointwise_source`, for the joint posterior.

        Set by a fit; each indicator's result then gets a source that scores the whole joint
        posterior once and hands every indicator its slice, so ``result[name].checks()`` has
        every check too.
        """
        return self._pointwise_source

    @pointwise_source.setter
    def pointwise_source(self, source: Callable[[xr.DataTree], None] | None) -> None:
        self._pointwise_source = source
        for result in self.indicators.values():
            result.pointwise_source = None if source is None else self._score_indicators

    def _score_indicators(self, _indicator_idata: xr.DataTree | None = None) -> None:
        """Add the checks' pointwise groups to the joint posterior and re-slice indicators."""
        if self._pointwise_source is not None:
            self._pointwise_source(self.idata)
            self.pointwise_source = None
        for name, result in self.indicators.items():
            result.idata = indicator_tree(self.idata, name)

    def checks(self) -> dict[str, ModelChecks]:
        """Each indicator's model checks (see :meth:`FitResult.checks`), by indicator."""
        if self._pointwise_source is not None:
            self._score_indicators()
        return {name: result.checks() for name, result in self.indicators.items()}

    def indicator_checks(self) -> dict[str, ModelChecks]:
        """Each indicator's model checks, the joint posterior scored once (see :meth:`checks`)."""
        return self.checks()

    def estimates(self, prob: float | None = None, kind: str | None = None) -> pd.DataFrame:
        """Every indicator's area estimates, stacked, with an ``indicator`` column first.

        Parameters
        ----------
        prob, kind
            Interval probability and kind, as in :meth:`FitResult.estimates`.
        """
        parts = [
            result.estimates(prob, kind).assign(**{INDICATOR: name})
            for name, result in self.indicators.items()
        ]
        table = pd.concat(parts, ignore_index=True)
        return table[[INDICATOR, *[c for c in table.columns if c != INDICATOR]]]

    def correlations(self, prob: float | None = None, kind: str | None = None) -> pd.DataFrame:
        """Posterior of the correlation of area effects, one row per pair of indicators.

        Parameters
        ----------
        prob, kind
            Interval probability and kind; the spec's ``[fit]`` values when omitted.

        Returns
        -------
        pandas.DataFrame
            :data:`CORRELATION_COLUMNS`: the pair, posterior mean, sd, interval,
            P(correlation > 0), R-hat and bulk ESS.
        """
        prob = self.spec.fit.interval if prob is None else prob
        kind = self.spec.fit.interval_kind if kind is None else kind
        values = self.posterior["area_correlation"]
        diagnostics = summary_table(self.idata, ["area_correlation"], prob, kind)
        rows = []
        for index, pair in enumerate(values[PAIR].to_numpy()):
            first, second = str(pair).split("|")
            draws = values.isel({PAIR: index}).to_numpy().ravel()
            lower, upper = bounds(draws, prob, kind)
            check = diagnostics.loc[f"area_correlation[{pair}]"]
            rows.append(
                {
                    INDICATOR: first,
                    "with_indicator": second,
                    "mean": draws.mean(),
                    "sd": draws.std(ddof=1),
                    "lower": lower,
                    "upper": upper,
                    "interval": interval_label(prob, kind),
                    "p_positive": (draws > 0).mean(),
                    "rhat": float(check["r_hat"]),
                    "ess_bulk": float(check["ess_bulk"]),
                }
            )
        table = pd.DataFrame(rows, columns=CORRELATION_COLUMNS)
        label_approximation(table, self.spec.fit.method)
        return table

    def correlation_matrix(self) -> pd.DataFrame:
        """Posterior mean correlation of area effects, as an indicator x indicator matrix."""
        matrix = pd.DataFrame(np.eye(len(self.names)), index=self.names, columns=self.names)
        for row in self.correlations().itertuples(index=False):
            first, second = getattr(row, INDICATOR), row.with_indicator
            matrix.loc[first, second] = matrix.loc[second, first] = row.mean
        return matrix.rename_axis(index=INDICATOR, columns="with_indicator")

    def summary(self, var_names: list[str] | None = None) -> pd.DataFrame:
        """Posterior summary of the parameters (not the standardised offsets ``u``, ``z``).

        Parameters
        ----------
        var_names
            Variables to summarise; by default every named parameter and deterministic.
        """
        if var_names is None:
            var_names = [
                str(v)
                for v in self.posterior.data_vars
                if not str(v).split("::")[-1].startswith(("z_", "u_"))
                and str(v) != "area_corr_chol"
            ]
        fit = self.spec.fit
        return summary_table(self.idata, var_names, fit.interval, fit.interval_kind)

    def describe(self) -> str:
        """A paragraph on the joint fit: indicators, strongest correlations, diagnostics."""
        correlations = self.correlations().sort_values("mean", key=np.abs, ascending=False)
        shown = "; ".join(
            f"{getattr(r, INDICATOR)} and {r.with_indicator} {r.mean:.2f} "
            f"({r.lower:.2f} to {r.upper:.2f})"
            for r in correlations.head(3).itertuples(index=False)
        )
        interval = interval_label(self.spec.fit.interval, self.spec.fit.interval_kind)
        return (
            f"{self.spec.name}: joint model of {len(self.names)} indicators "
            f"({', '.join(self.names)}) with correlated area effects (LKJ prior, eta "
            f"{self.spec.correlation.eta:g}). Strongest correlations of area effects "
            f"({interval}): {shown}. Per-indicator estimates are in the estimates table. "
            f"{self._diagnostics.message()}"
        )

    def plot_map(self, indicator: str, statistic: str = "mean", **kwargs: Any) -> tuple[Any, Any]:
        """Map one indicator's estimates: ``result[indicator].plot_map(statistic, **kwargs)``.

        Parameters
        ----------
        indicator
            The indicator mapped.
        statistic, **kwargs
            As for :meth:`FitResult.plot_map`.
        """
        return self[indicator].plot_map(statistic, **kwargs)

    def _write(self, folder: Path) -> None:
        self.estimates().to_csv(folder / "estimates.csv", index=False)
        self.correlations().to_csv(folder / "correlations.csv", index=False)
        netcdf_ready(self.idata).to_netcdf(folder / "posterior.nc", engine="h5netcdf")
        write_json(folder / "diagnostics.json", self._diagnostics.to_dict())
        payload = {
            "kind": self.spec.kind,
            "layout": self.layout,
            "spec": self.spec.model_dump(mode="json"),
            "metadata": self.metadata,
            "inputs": {name: frame_to_json(frame) for name, frame in self.inputs.items()},
            "wave_inputs": {name: frame_to_json(t) for name, t in self.wave_inputs.items()},
            "interval": interval_label(self.spec.fit.interval, self.spec.fit.interval_kind),
        }
        write_json(folder / "result.json", payload)
        for name, result in self.indicators.items():
            result.write_area_files(folder, f"-{name}")


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
        coords = {
            c: str(c)[len(prefix) :]
            for c in part.coords
            if str(c).startswith(prefix) and c not in dims
        }
        groups[group] = part.rename(dims).rename(coords)
    return xr.DataTree.from_dict(groups)
