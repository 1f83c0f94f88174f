"""What every result offers, whatever kind of model it came from.

A fit is a set of indicators (one, or several in a joint model) sharing one posterior, one set of
diagnostics and one run record. :class:`Result` is that shape: code that reads results (the
command line, the report, model checks, comparisons) iterates ``result.indicators`` and asks
``result.correlations()``, and never needs to know which model kind fitted it. A one-indicator
fit (:class:`~lcmodel.results.fit_result.FitResult`) is its own only indicator and has no
correlations; a joint fit (:class:`~lcmodel.results.joint_result.JointFitResult`) holds one
``FitResult`` view per indicator plus the correlation of their area effects. Every result is
saved in one folder format (:mod:`lcmodel.results.folder`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import pandas as pd

from lcmodel.design.dims import INDICATOR
from lcmodel.errors import LcmodelError, did_you_mean
from lcmodel.io.atomic import atomic_folder
from lcmodel.results.export import Exportable

if TYPE_CHECKING:
    import xarray as xr

    from lcmodel.inference.diagnostics import Diagnostics
    from lcmodel.results.checks import ModelChecks
    from lcmodel.results.fit_result import FitResult
    from lcmodel.spec import AreaLevelSpec, JointSpec, ModelSpec

__all__ = ["CORRELATION_COLUMNS", "RESULT_MARKER", "Result"]

RESULT_MARKER = "result.json"
"""The file that marks a folder as a saved result (and so safe to replace)."""

CORRELATION_COLUMNS = [
    INDICATOR,
    "with_indicator",
    "mean",
    "sd",
    "lower",
    "upper",
    "interval",
    "p_positive",
    "rhat",
    "ess_bulk",
]
"""Columns of :meth:`Result.correlations`, in order."""


class Result(Exportable, ABC):
    """The posterior of one fit: its indicators, diagnostics, run record and folder.

    Attributes
    ----------
    idata
        The posterior (``xarray.DataTree``).
    spec
        The spec that produced it, with the seed actually used.
    inputs, wave_inputs
        The per-area (and per-wave) inputs of the estimates besides the posterior: one table
        for a one-indicator fit, one per indicator for a joint fit.
    metadata
        Versions, seed, sampler, timing and data facts (a joint fit's per-indicator facts are
        under ``"indicators"``).
    """

    layout: ClassVar[str]
    """How its folder is laid out (``one_indicator``, ``indicators``), as ``result.json``
    records it: the result type that reads the folder back is chosen by this, not by the model
    kind (:func:`lcmodel.results.folder.load`)."""

    idata: xr.DataTree
    inputs: Any
    wave_inputs: Any
    spec: ModelSpec | AreaLevelSpec | JointSpec
    metadata: dict[str, Any]
    _diagnostics: Diagnostics

    @classmethod
    @abstractmethod
    def from_saved(
        cls, idata: xr.DataTree, payload: dict[str, Any], diagnostics: Diagnostics, source: str
    ) -> Self:
        """Rebuild a result from its saved posterior and ``result.json`` payload."""

    @property
    @abstractmethod
    def indicators(self) -> dict[str, FitResult]:
        """Each indicator's result, by name, in order (a one-indicator fit: itself)."""

    @property
    def names(self) -> list[str]:
        """Indicator names, in order."""
        return list(self.indicators)

    @property
    def is_joint(self) -> bool:
        """Whether several indicators were fitted together (their files then carry suffixes)."""
        return len(self.indicators) > 1

    def __getitem__(self, name: str) -> FitResult:
        """One indicator's result, used like the result of a separate fit."""
        if name not in self.indicators:
            raise LcmodelError(
                f"no indicator '{name}' in '{self.spec.name}'{did_you_mean(name, self.names)}; "
                f"indicators: {', '.join(self.names)}"
            )
        return self.indicators[name]

    @property
    def posterior(self) -> xr.Dataset:
        """The posterior group as an xarray Dataset."""
        return self.idata["posterior"].to_dataset()

    def diagnostics(self) -> Diagnostics:
        """Convergence diagnostics of the fit and whether it passed its gate."""
        return self._diagnostics

    def correlations(self, prob: float | None = None, kind: str | None = None) -> pd.DataFrame:
        """Posterior of the correlation of area effects, one row per pair of indicators.

        A one-indicator fit has no pairs: an empty table with the same columns.

        Parameters
        ----------
        prob, kind
            Interval probability and kind; the spec's ``[fit]`` values when omitted.
        """
        return pd.DataFrame(columns=CORRELATION_COLUMNS)

    def indicator_checks(self) -> dict[str, ModelChecks]:
        """Each indicator's model checks (see :meth:`FitResult.checks`), by indicator."""
        return {name: result.checks() for name, result in self.indicators.items()}

    def indicator_facts(self) -> dict[str, tuple[ModelSpec | AreaLevelSpec, dict[str, Any]]]:
        """Each indicator's spec and its own data facts (survey size, data hash, boundaries)."""
        own = self.metadata.get("indicators")
        return {
            name: (result.spec, own[name] if own else self.metadata)
            for name, result in self.indicators.items()
        }

    def data_hashes(self) -> dict[str, str | None]:
        """Each indicator's recorded data hash (``None`` where none was recorded)."""
        return {name: facts.get("data_hash") for name, (_, facts) in self.indicator_facts().items()}

    def with_posterior(self, idata: xr.DataTree) -> Self:
        """The same result over another posterior (for example one with more groups)."""
        return type(self)(  # type: ignore[call-arg]
            idata, self.spec, self.inputs, self._diagnostics, self.metadata, self.wave_inputs
        )

    @abstractmethod
    def estimates(self, prob: float | None = None, kind: str | None = None) -> pd.DataFrame:
        """Every indicator's area estimates (with an ``indicator`` column for a joint fit)."""

    @abstractmethod
    def summary(self, var_names: list[str] | None = None) -> pd.DataFrame:
        """Posterior summary of the parameters."""

    @abstractmethod
    def describe(self) -> str:
        """A paragraph on the fit an analyst could paste into a report."""

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

    @abstractmethod
    def _write(self, folder: Path) -> None:
        """Write every file of the result into ``folder`` (a staging folder)."""
