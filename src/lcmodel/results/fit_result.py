"""Fit results: tables, prose, diagnostics, and saving/loading to a folder.

A saved folder holds ``estimates.csv`` (the area table), ``posterior.nc`` (the full
posterior, netCDF), ``diagnostics.json``, ``forest.png`` and ``result.json`` (the spec, the
per-area inputs of the estimates, package versions, the seed and a hash of the input data),
and ``map.png`` when the fit recorded a boundary file (see :meth:`FitResult.plot_map`).
:func:`load` restores a result whose ``estimates()`` equal the original's exactly.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd
import xarray as xr

from lcmodel.errors import LcmodelError, listed
from lcmodel.inference.diagnostics import Diagnostics, summary_table
from lcmodel.io.storage import frame_from_json, frame_to_json, netcdf_ready, write_json
from lcmodel.results.estimates import area_estimates, interval_label, label_approximation
from lcmodel.results.result import RESULT_MARKER, Result
from lcmodel.spec import AreaLevelSpec, ModelSpec, parse_any_spec

if TYPE_CHECKING:
    from geopandas import GeoDataFrame

    from lcmodel.results.checks import ModelChecks

__all__ = ["BENCHMARKS_FILE", "FILES", "MAP_FILE", "RESULT_MARKER", "FitResult"]

FILES = ("estimates.csv", "posterior.nc", "diagnostics.json", "result.json", "forest.png")
"""The files every saved result has."""

MAP_FILE = "map.png"

BENCHMARKS_FILE = "benchmarks.png"
"""Histograms of P(above) and differences, written when the forest plot cannot draw every area."""
"""The map of the headline estimates, written when the fit recorded a boundary file."""


class FitResult(Result):
    """The posterior of one indicator's fit, with everything needed to report it.

    A unit-level or Fay-Herriot fit is one; so is each indicator's part of a joint fit
    (``joint_result[name]``). As every :class:`~lcmodel.results.result.Result`, it lists its
    indicators (itself) and their correlations (none).

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

    layout: ClassVar[str] = "one_indicator"

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
        self.pointwise_source: Callable[[xr.DataTree], None] | None = None
        """Adds the checks' pointwise groups to ``idata`` when they first need them (a fit
        sets it: its model computes them; ``None`` for a saved result)."""

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
    def indicators(self) -> dict[str, FitResult]:
        """The one indicator of this fit: ``{spec.name: self}``."""
        return {self.spec.name: self}

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
                calibration=self.metadata.get("calibration"),
                method=self.spec.fit.method,
            )
        return self._estimates[key].copy()

    def wave_estimates(self, prob: float | None = None, kind: str | None = None) -> pd.DataFrame:
        """Per area, wave and quantity: estimate, interval and benchmark comparison.

        Needs ``structure.area_wave`` in the spec (``[area_level] wave`` in an area-level
        one). See :func:`lcmodel.results.waves.wave_estimates`.
        """
        from lcmodel.results.waves import wave_estimates

        fit = self.spec.fit
        table = wave_estimates(
            self.posterior,
            self._require_waves(),
            prob=fit.interval if prob is None else prob,
            kind=fit.interval_kind if kind is None else kind,
            seed=int(self.metadata["seed"]),
            cv_thresholds=(fit.cv_caution, fit.cv_suppress),
        )
        label_approximation(table, fit.method)
        return table

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
        table = changes(
            self.posterior,
            inputs,
            first=waves[0] if first is None else first,
            last=waves[-1] if last is None else last,
            prob=fit.interval if prob is None else prob,
            kind=fit.interval_kind if kind is None else kind,
            higher_is_better=self._higher_is_better(),
            headline=self.headline,
        )
        label_approximation(table, fit.method)
        return table

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

    def _higher_is_better(self) -> bool:
        """Whether a rise of the headline quantity is an improvement (the spec says)."""
        if isinstance(self.spec, AreaLevelSpec):
            return self.spec.area_level.higher_is_better
        return self.spec.outcome.higher_is_better

    def _require_waves(self) -> pd.DataFrame:
        if self.wave_inputs is None:
            raise LcmodelError(
                f"'{self.spec.name}' has no area x wave estimates; set structure.area_wave = "
                f'"random_walk" in the spec (it needs a wave column), or for an area-level '
                f"spec name its table's wave column in [area_level] wave"
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

    def checks(self) -> ModelChecks:
        """Model checks computed from the saved posterior (no refit).

        Per-area posterior predictive check, LOO-PIT, PSIS-LOO with Pareto k, direct against
        model estimates, area effects against their prior, prior sensitivity and (for scores)
        the score distribution; see :mod:`lcmodel.results.checks`.

        Returns
        -------
        ModelChecks
            Iterable of :class:`~lcmodel.results.checks.Check`, indexable by name;
            ``.save(folder)`` writes ``checks/<name>.csv`` and ``checks/<name>.png``.
        """
        from lcmodel.results.checks import POINTWISE, model_checks

        if self.pointwise_source is not None:
            if "log_likelihood" not in self.idata.children or (
                POINTWISE not in self.idata["log_likelihood"].data_vars
            ):
                self.pointwise_source(self.idata)
            self.pointwise_source = None
        return model_checks(self)

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
        calibration = self.metadata.get("calibration")
        if calibration is not None:
            text += (
                f" Calibrated: {calibration['label']} in every posterior draw (the "
                f"'adjustment' column gives each area's change)."
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
        table = self._quantity_rows(self.estimates(), quantity)
        kwargs.setdefault("title", f"{self.spec.name}: {quantity}")
        return forest_plot(table, **kwargs)

    def has_benchmarks(self, quantity: str | None = None) -> bool:
        """Whether any area's ``quantity`` (default: :attr:`headline`) has a benchmark."""
        table = self._quantity_rows(self.estimates(), quantity or self.headline)
        return bool(table["p_above_benchmark"].notna().any())

    def plot_benchmarks(self, quantity: str | None = None, **kwargs: Any) -> tuple[Any, Any]:
        """Histograms of every area's P(above its benchmark) and difference from it.

        For maps of many areas, where the forest plot draws only the extremes (the fit writes it
        as ``benchmarks.png`` when there are more areas than the forest plot draws).

        Parameters
        ----------
        quantity
            Which quantity (default: :attr:`headline`).
        **kwargs
            Passed to :func:`lcmodel.results.plots.benchmark_histogram`.

        Returns
        -------
        tuple
            ``(fig, axes)``.
        """
        from lcmodel.results.plots import benchmark_histogram

        quantity = quantity or self.headline
        table = self._quantity_rows(self.estimates(), quantity)
        kwargs.setdefault("title", f"{self.spec.name}: {quantity}")
        return benchmark_histogram(table, **kwargs)

    def plot_map(
        self,
        statistic: str = "mean",
        *,
        quantity: str | None = None,
        boundaries: str | Path | GeoDataFrame | None = None,
        first: int | None = None,
        last: int | None = None,
        title: str | None = None,
    ) -> tuple[Any, Any]:
        """Map one statistic of the area estimates, beside a map of their interval widths.

        Suppressed estimates are grey and hatched; areas of the boundary file without an
        estimate are light grey (see :mod:`lcmodel.results.maps`).

        Parameters
        ----------
        statistic
            ``"mean"`` (the estimate; sequential colours), ``"p_above_benchmark"``
            (diverging around 0.5), ``"diff_mean"`` (the difference from the benchmark;
            diverging around 0), ``"cv"``, ``"reliability"``, or ``"change"`` between two
            waves (diverging around 0; needs ``structure.area_wave``).
        quantity
            Which quantity (default: :attr:`headline`).
        boundaries
            A boundary file (GeoJSON, GeoPackage, shapefile) or a ``GeoDataFrame``, with the
            spec's area column; by default the file the fit recorded (the spec's
            ``boundaries``, or its ``adjacency`` when that is a boundary file).
        first, last
            For ``"change"``: the waves compared (the first and the last by default).
        title
            Figure title (default: the model's name and the quantity).

        Returns
        -------
        tuple
            ``(fig, axes)``: the statistic's map, then the widths' map.

        Raises
        ------
        LcmodelError
            For an unknown statistic or quantity, when no boundary file is recorded or the
            recorded one is gone (pass ``boundaries=``), or (a ``DataError``) when an area
            with an estimate has no polygon.
        """
        from lcmodel.data.adjacency import load_boundaries
        from lcmodel.results.maps import area_map, map_scale, map_values

        quantity = quantity or self.headline
        table = self._quantity_rows(self.estimates(), quantity)
        map_scale(statistic, quantity)  # an unknown statistic fails before any file is read
        waves = None
        flags = None
        interval = str(table["interval"].iloc[0])
        if statistic == "change":
            change = self.changes(first=first, last=last)
            table = change[change["quantity"] == quantity]
            waves = (int(table["from_wave"].iloc[0]), int(table["to_wave"].iloc[0]))
            flags = self.wave_estimates()
            flags = flags[(flags["quantity"] == quantity) & flags["wave"].isin(waves)]
            interval = str(table["interval"].iloc[0])
        shapes = load_boundaries(
            self._map_boundaries(boundaries), list(table["area"].astype(str)), self._area_column
        )
        fit = self.spec.fit
        return area_map(
            shapes,
            map_values(table, statistic, flags=flags),
            scale=map_scale(statistic, quantity, waves=waves),
            interval=interval,
            suppress_rule=f"CV above {fit.cv_suppress:g}",
            title=title or f"{self.spec.name}: {quantity}",
        )

    @property
    def _area_column(self) -> str:
        """The spec's area column (a boundary file names its areas in it)."""
        if isinstance(self.spec, AreaLevelSpec):
            return self.spec.area_level.area
        return self.spec.structure.area

    def _map_boundaries(
        self, boundaries: str | Path | GeoDataFrame | None
    ) -> str | Path | GeoDataFrame:
        """The boundaries a map uses: those given, or the file the fit recorded."""
        from lcmodel.data.adjacency import file_hash

        if boundaries is not None:
            return boundaries
        record = self.metadata.get("boundaries")
        given = (
            f"pass boundaries= (a boundary file or a GeoDataFrame with column "
            f"'{self._area_column}')"
        )
        if record is None:
            raise LcmodelError(
                f"'{self.spec.name}' was fitted without a boundary file, so there is no map to "
                f"draw it on; {given}, or set 'boundaries' in the spec and fit again"
            )
        path = Path(record["file"])
        if not path.is_file():
            raise LcmodelError(
                f"the boundary file '{self.spec.name}' was fitted with, {path}, is gone; {given}"
            )
        if file_hash(path) != record["sha256"]:
            warnings.warn(
                f"{path} has changed since '{self.spec.name}' was fitted; the map draws the "
                f"file as it is now",
                UserWarning,
                stacklevel=3,
            )
        return path

    def can_map(self) -> bool:
        """Whether :meth:`save` writes a map: a recorded boundary file, and geopandas."""
        record = self.metadata.get("boundaries")
        return (
            record is not None
            and Path(record["file"]).is_file()
            and all(importlib.util.find_spec(m) is not None for m in ("geopandas", "pyogrio"))
        )

    @staticmethod
    def _quantity_rows(table: pd.DataFrame, quantity: str) -> pd.DataFrame:
        """The rows of one quantity; an unknown quantity is an error naming the others."""
        if quantity not in set(table["quantity"]):
            raise LcmodelError(
                f"no quantity '{quantity}'; choose one of "
                f"{listed(sorted(set(table['quantity'])), None)}"
            )
        return table[table["quantity"] == quantity]

    def _write(self, folder: Path) -> None:
        self.estimates().to_csv(folder / "estimates.csv", index=False)
        netcdf_ready(self.idata).to_netcdf(folder / "posterior.nc", engine="h5netcdf")
        write_json(folder / "diagnostics.json", self._diagnostics.to_dict())
        payload = {
            "kind": self.spec.kind,
            "layout": self.layout,
            "spec": self.spec.model_dump(mode="json"),
            "metadata": self.metadata,
            "inputs": frame_to_json(self.inputs),
            "wave_inputs": None if self.wave_inputs is None else frame_to_json(self.wave_inputs),
            "interval": interval_label(self.spec.fit.interval, self.spec.fit.interval_kind),
        }
        write_json(folder / "result.json", payload)
        self.write_area_files(folder)

    def write_area_files(self, folder: Path, suffix: str = "") -> None:
        """The figures of the areas and, with area x wave effects, the wave tables.

        ``forest.png``, ``benchmarks.png`` (more areas than the forest plot draws, with
        benchmarks), ``map.png`` (with a boundary file), and ``wave_estimates.csv``,
        ``changes.csv`` and ``trajectories.png`` (with area x wave estimates), each name with
        ``suffix`` before its extension: a joint fit writes every indicator's with
        ``-<indicator>``.
        """
        import matplotlib.pyplot as plt

        from lcmodel.results.plots import FOREST_AREAS

        figures: list[tuple[str, Callable[[], tuple[Any, Any]], int]] = [
            ("forest.png", self.plot_forest, 120)
        ]
        if self.estimates()["area"].nunique() > FOREST_AREAS and self.has_benchmarks():
            figures.append((BENCHMARKS_FILE, self.plot_benchmarks, 110))
        if self.can_map():
            figures.append((MAP_FILE, self.plot_map, 110))
        if self.wave_inputs is not None:
            self.wave_estimates().to_csv(folder / f"wave_estimates{suffix}.csv", index=False)
            self.changes().to_csv(folder / f"changes{suffix}.csv", index=False)
            figures.append(("trajectories.png", self.plot_trajectories, 110))
        for file, plot, dpi in figures:
            fig, _ = plot()
            if self._diagnostics.approximate:
                fig.text(0.01, 0.005, self._diagnostics.failures[0], fontsize=7, color="darkred")
            try:
                fig.savefig(folder / file.replace(".png", f"{suffix}.png"), dpi=dpi)
            finally:
                plt.close(fig)
