"""Fit results: tables, prose, diagnostics, and saving/loading to a folder.

A saved folder holds ``estimates.csv`` (the area table), ``posterior.nc`` (the full
posterior, netCDF), ``diagnostics.json``, ``forest.png`` and ``result.json`` (the spec, the
per-area inputs of the estimates, package versions, the seed and a hash of the input data).
:func:`load` restores a result whose ``estimates()`` equal the original's exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import xarray as xr

from lcmodel.errors import LcmodelError, listed
from lcmodel.inference.diagnostics import Diagnostics, summary_table
from lcmodel.io.atomic import atomic_folder
from lcmodel.io.storage import frame_from_json, frame_to_json, netcdf_ready, write_json
from lcmodel.results.estimates import area_estimates, interval_label
from lcmodel.results.export import Exportable
from lcmodel.spec import AreaLevelSpec, ModelSpec, parse_any_spec

if TYPE_CHECKING:
    pass

__all__ = ["FILES", "RESULT_MARKER", "FitResult"]

RESULT_MARKER = "result.json"
"""The file that marks a folder as a saved result (and so safe to replace)."""

FILES = ("estimates.csv", "posterior.nc", "diagnostics.json", "result.json", "forest.png")


class FitResult(Exportable):
    """The posterior of one fitted area model, with everything needed to report it.

    Parameters
    ----------
    idata
        Posterior, sample stats and data, as returned by PyMC.
    spec
        The spec that produced it (with the seed actually used): a unit-level or an
        area-level (Fay-Herriot) spec.
    inputs
        Per area and quantity, the inputs of the estimates besides the posterior: names,
        nation, deprivation, ``n``, ``direct``, ``in_sample`` and the matched benchmark.
    diagnostics
        Convergence diagnostics.
    metadata
        Versions, seed, sampler, timing and data hash.
    wave_inputs
        Per area, wave and quantity: respondents, direct estimate and benchmark, when the
        model has area x wave effects (see :mod:`lcmodel.results.waves`); else ``None``.
    """

    def __init__(
        self,
        idata: xr.DataTree,
        spec: ModelSpec | AreaLevelSpec,
        inputs: pd.DataFrame,
        diagnostics: Diagnostics,
        metadata: dict[str, Any],
        wave_inputs: pd.DataFrame | None = None,
    ) -> None:
        self.idata = idata
        self.spec = spec
        self.inputs = inputs
        self._diagnostics = diagnostics
        self.metadata = metadata
        self.wave_inputs = wave_inputs
        self._estimates: dict[tuple[float, str], pd.DataFrame] = {}

    @classmethod
    def from_saved(
        cls, idata: xr.DataTree, payload: dict[str, Any], diagnostics: Diagnostics, source: str
    ) -> FitResult:
        """Rebuild a result from its saved posterior and ``result.json`` payload."""
        waves = payload.get("wave_inputs")
        return cls(
            idata=idata,
            spec=parse_any_spec(payload["spec"], source=source),
            inputs=frame_from_json(payload["inputs"]),
            diagnostics=diagnostics,
            metadata=payload["metadata"],
            wave_inputs=frame_from_json(waves) if waves else None,
        )

    def __repr__(self) -> str:
        return (
            f"FitResult(name={self.spec.name!r}, areas={self.inputs['area'].nunique()}, "
            f"diagnostics={'passed' if self._diagnostics.passed else 'FAILED'})"
        )

    @property
    def posterior(self) -> xr.Dataset:
        """The posterior group as an xarray Dataset."""
        return self.idata["posterior"].to_dataset()

    def estimates(self, prob: float | None = None, kind: str | None = None) -> pd.DataFrame:
        """Per-area estimates with intervals and the benchmark comparison.

        Parameters
        ----------
        prob
            Interval probability; the spec's ``fit.interval`` (0.9 by default) when omitted.
        kind
            ``"eti"`` (equal-tailed) or ``"hdi"``; the spec's ``fit.interval_kind`` when
            omitted.

        Returns
        -------
        pandas.DataFrame
            One row per area and quantity; see :data:`lcmodel.results.estimates.ESTIMATE_COLUMNS`.
        """
        prob = self.spec.fit.interval if prob is None else prob
        kind = self.spec.fit.interval_kind if kind is None else kind
        key = (prob, kind)
        if key not in self._estimates:
            self._estimates[key] = area_estimates(
                self.posterior,
                self.inputs,
                prob=prob,
                kind=kind,
                seed=int(self.metadata["seed"]),
                diagnostics_ok=self._diagnostics.passed,
                cv_thresholds=(self.spec.fit.cv_caution, self.spec.fit.cv_suppress),
            )
        return self._estimates[key].copy()

    def wave_estimates(self, prob: float | None = None, kind: str | None = None) -> pd.DataFrame:
        """Per area, wave and quantity: estimate, interval and benchmark comparison.

        Needs ``structure.area_wave`` in the spec. See :func:`lcmodel.results.waves.wave_estimates`.
        """
        from lcmodel.results.waves import wave_estimates

        fit = self.spec.fit
        return wave_estimates(
            self.posterior,
            self._require_waves(),
            prob=fit.interval if prob is None else prob,
            kind=fit.interval_kind if kind is None else kind,
            seed=int(self.metadata["seed"]),
            cv_thresholds=(fit.cv_caution, fit.cv_suppress),
        )

    def changes(
        self,
        first: int | None = None,
        last: int | None = None,
        prob: float | None = None,
        kind: str | None = None,
    ) -> pd.DataFrame:
        """Per area and quantity: change between two waves, its interval and P(improved).

        Parameters
        ----------
        first, last
            The waves compared; the first and the last wave by default.
        prob, kind
            Interval probability and kind; the spec's by default.
        """
        from lcmodel.results.waves import changes

        inputs = self._require_waves()
        waves = sorted(int(w) for w in inputs["wave"].unique())
        fit = self.spec.fit
        return changes(
            self.posterior,
            inputs,
            first=waves[0] if first is None else first,
            last=waves[-1] if last is None else last,
            prob=fit.interval if prob is None else prob,
            kind=fit.interval_kind if kind is None else kind,
            higher_is_better=self.spec.outcome.higher_is_better,
            headline=self.headline,
        )

    def plot_trajectories(self, quantity: str | None = None, **kwargs: Any) -> tuple[Any, Any]:
        """Each area's estimates over the waves, with direct estimates and its benchmark.

        Parameters
        ----------
        quantity
            Which quantity (default: :attr:`headline`).
        **kwargs
            Passed to :func:`lcmodel.results.plots.trajectory_plot`.
        """
        from lcmodel.results.plots import trajectory_plot

        quantity = quantity or self.headline
        table = self.wave_estimates()
        kwargs.setdefault("title", f"{self.spec.name}: {quantity} by wave")
        return trajectory_plot(table[table["quantity"] == quantity], **kwargs)

    def _require_waves(self) -> pd.DataFrame:
        if self.wave_inputs is None:
            raise LcmodelError(
                f"'{self.spec.name}' has no area x wave estimates; set structure.area_wave = "
                f'"random_walk" in the spec (it needs a wave column)'
            )
        return self.wave_inputs

    def summary(self, var_names: list[str] | None = None) -> pd.DataFrame:
        """Posterior summary of the model parameters (not the per-area latent ``z``).

        Parameters
        ----------
        var_names
            Variables to summarise; by default every named parameter and deterministic
            except the standardised ``z_*`` offsets.
        """
        if var_names is None:
            var_names = [v for v in self.posterior.data_vars if not str(v).startswith("z_")]
        return summary_table(
            self.idata, var_names, self.spec.fit.interval, self.spec.fit.interval_kind
        )

    def diagnostics(self) -> Diagnostics:
        """Convergence diagnostics and whether the fit passed its gates."""
        return self._diagnostics

    @property
    def headline(self) -> str:
        """The quantity shown first (e.g. ``share``, ``share:good or very good``, ``mean``)."""
        return str(self.metadata["headline"])

    def describe(self) -> str:
        """A paragraph an analyst could paste into a report (about the headline quantity)."""
        everything = self.estimates()
        quantity = self.headline
        table = everything[everything["quantity"] == quantity].reset_index(drop=True)
        pct = quantity.startswith("share")

        def fmt(value: float) -> str:
            return f"{value * 100:.0f}%" if pct else f"{value:.2f}"

        low = table.loc[table["mean"].idxmin()]
        high = table.loc[table["mean"].idxmax()]
        surveyed = int(table["in_sample"].sum())
        meta = self.metadata
        if meta.get("kind") == "area_level":
            source = f"direct estimates of {meta['n_areas_with_estimates']} areas"
        else:
            source = (
                f"{meta['n_respondents']:,} answers ({meta['n_missing_outcome']:,} missing "
                f"answers and {meta['n_missing_covariates']:,} with a missing covariate dropped)"
            )
        text = (
            f"{self.spec.name}: modelled {quantity} of '{meta['outcome']}' "
            f"({meta['family']} family) in {len(table)} areas ({surveyed} surveyed) from "
            f"{source}. Estimates range from {fmt(low['mean'])} in {low['name']} "
            f"({fmt(low['lower'])}-{fmt(low['upper'])}) to {fmt(high['mean'])} in "
            f"{high['name']} ({fmt(high['lower'])}-{fmt(high['upper'])}); intervals are "
            f"{table['interval'].iloc[0]}."
        )
        compared = table.dropna(subset=["p_above_benchmark"])
        if len(compared):
            above = int((compared["p_above_benchmark"] > 0.9).sum())
            below = int((compared["p_above_benchmark"] < 0.1).sum())
            text += (
                f" Against their benchmarks, {above} of {len(compared)} areas are above with "
                f"probability over 90% and {below} below with probability over 90%."
            )
        others = everything["quantity"].nunique() - 1
        if others:
            text += f" The estimates table has {others} further quantities per area."
        if self.wave_inputs is not None:
            change = self.changes()
            change = change[change["quantity"] == quantity]
            first, last = int(change["from_wave"].iloc[0]), int(change["to_wave"].iloc[0])
            improved = int((change["p_improved"] > 0.9).sum())
            worse = int((change["p_improved"] < 0.1).sum())
            text += (
                f" From wave {first} to wave {last}, {improved} areas improved and {worse} got "
                f"worse with probability over 90% (changes() has every area's change)."
            )
        return f"{text} {self._diagnostics.message()}"

    def plot_forest(self, quantity: str | None = None, **kwargs: Any) -> tuple[Any, Any]:
        """Forest plot of one quantity's area estimates with benchmarks.

        Parameters
        ----------
        quantity
            Which quantity (default: :attr:`headline`).
        **kwargs
            Passed to :func:`lcmodel.results.plots.forest_plot`.

        Returns
        -------
        tuple
            ``(fig, ax)``.
        """
        from lcmodel.results.plots import forest_plot

        quantity = quantity or self.headline
        table = self.estimates()
        if quantity not in set(table["quantity"]):
            raise LcmodelError(
                f"no quantity '{quantity}'; choose one of "
                f"{listed(sorted(set(table['quantity'])), None)}"
            )
        kwargs.setdefault("title", f"{self.spec.name}: {quantity}")
        return forest_plot(table[table["quantity"] == quantity], **kwargs)

    def save(self, folder: str | Path) -> Path:
        """Write the result to ``folder`` atomically (all files, or none).

        The files are written to a temporary sibling folder which then replaces ``folder``;
        an existing folder is replaced only once the new one is complete.

        Parameters
        ----------
        folder
            Output folder: created, or replaced when it is empty or holds an earlier result
            (any other existing folder is an error, so nothing unrelated is deleted).

        Returns
        -------
        pathlib.Path
            The folder written.
        """
        with atomic_folder(folder, marker=RESULT_MARKER) as staging:
            self._write(staging)
        return Path(folder).resolve()

    def _write(self, folder: Path) -> None:
        self.estimates().to_csv(folder / "estimates.csv", index=False)
        netcdf_ready(self.idata).to_netcdf(folder / "posterior.nc", engine="h5netcdf")
        write_json(folder / "diagnostics.json", self._diagnostics.to_dict())
        payload = {
            "kind": self.metadata.get("kind", "unit_level"),
            "spec": self.spec.model_dump(mode="json"),
            "metadata": self.metadata,
            "inputs": frame_to_json(self.inputs),
            "wave_inputs": None if self.wave_inputs is None else frame_to_json(self.wave_inputs),
            "interval": interval_label(self.spec.fit.interval, self.spec.fit.interval_kind),
        }
        write_json(folder / "result.json", payload)
        import matplotlib.pyplot as plt

        fig, _ = self.plot_forest()
        try:
            fig.savefig(folder / "forest.png", dpi=120)
        finally:
            plt.close(fig)
        if self.wave_inputs is not None:
            self.wave_estimates().to_csv(folder / "wave_estimates.csv", index=False)
            self.changes().to_csv(folder / "changes.csv", index=False)
            fig, _ = self.plot_trajectories()
            try:
                fig.savefig(folder / "trajectories.png", dpi=110)
            finally:
                plt.close(fig)
