"""Publishable output: estimates as CSV, Parquet or Excel, with the metadata a reader needs.

An ``.xlsx`` file holds the sheets ``estimates``, ``metadata`` (and ``correlations`` for a joint
fit); a ``.csv`` (or ``.parquet``) export writes the estimates and, beside them,
``<name>-metadata.csv`` (and ``<name>-correlations.csv`` for a joint fit). The
metadata say what produced the numbers: model name and kind, lcmodel version, when it was fitted
and exported, the interval definition, the reliability thresholds, sampler, seed, data hash,
whether diagnostics passed, and the spec itself (JSON).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from lcmodel.errors import LcmodelError
from lcmodel.io.atomic import atomic_file
from lcmodel.io.tables import write_table
from lcmodel.results.estimates import interval_label

if TYPE_CHECKING:
    from lcmodel.results.result import Result

__all__ = ["WRITERS", "Exportable", "export_estimates", "export_metadata"]


def export_metadata(result: Result) -> pd.DataFrame:
    """Key-value table describing how ``result``'s estimates were produced."""
    fit = result.spec.fit
    meta = result.metadata
    diagnostics = result.diagnostics()
    indicators = meta.get("indicators", {})  # a joint fit's per-indicator facts
    rows = {
        "model": result.spec.name,
        "model kind": meta.get("kind", "joint" if indicators else "unit_level"),
        "family": meta.get("family")
        or ", ".join(f"{name}: {facts['family']}" for name, facts in indicators.items()),
        "lcmodel version": meta["lcmodel_version"],
        "fitted": meta["created"],
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "interval": interval_label(fit.interval, fit.interval_kind) + " posterior interval",
        "cv": "posterior sd / |posterior mean|",
        "reliability": f"publish if cv <= {fit.cv_caution:g}; caution if cv <= "
        f"{fit.cv_suppress:g}; suppress above",
        "sampler": f"{meta['sampler']}, {fit.chains} chains x {fit.draws} draws",
        "seed": str(meta["seed"]),
        "data hash": str(meta.get("data_hash", ""))
        or ", ".join(f"{name}: {facts['data_hash']}" for name, facts in indicators.items()),
        "diagnostics": "passed"
        if diagnostics.passed
        else "FAILED: " + "; ".join(diagnostics.failures),
        "spec": json.dumps(result.spec.model_dump(mode="json")),
    }
    return pd.DataFrame({"key": list(rows), "value": list(rows.values())})


def _write_xlsx(path: Path, tables: dict[str, pd.DataFrame]) -> list[Path]:
    """One workbook, one sheet per table."""
    with atomic_file(path) as staging:
        with pd.ExcelWriter(staging, engine="openpyxl") as writer:
            for name, table in tables.items():
                table.to_excel(writer, sheet_name=name, index=False)
    return [path]


def _write_beside(path: Path, tables: dict[str, pd.DataFrame]) -> list[Path]:
    """The estimates at ``path``; every other table beside it as ``<stem>-<table><suffix>``.

    CSV or Parquet by the suffix (:func:`lcmodel.io.tables.write_table`): Parquet keeps the
    columns' types, and reads back fast at tens of thousands of areas.
    """
    written = []
    for name, table in tables.items():
        file = path if name == "estimates" else path.with_name(f"{path.stem}-{name}{path.suffix}")
        write_table(file, table)
        written.append(file)
    return written


WRITERS: dict[str, Callable[[Path, dict[str, pd.DataFrame]], list[Path]]] = {
    ".csv": _write_beside,
    ".parquet": _write_beside,
    ".xlsx": _write_xlsx,
}
"""Export writers by file suffix: each writes named tables to one path (and its siblings)."""


def export_estimates(result: Result, path: str | Path) -> list[Path]:
    """Write ``result``'s estimates and metadata to ``path`` (:data:`WRITERS`), atomically.

    Parameters
    ----------
    result
        A fitted or loaded result.
    path
        Output file; its suffix chooses the writer (:data:`WRITERS`).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITERS:
        raise LcmodelError(
            f"{path}: export writes {' or '.join(WRITERS)} files, not '{suffix or path}'"
        )
    if not path.parent.is_dir():
        raise LcmodelError(f"{path}: folder {path.parent} does not exist")
    tables = {"estimates": result.estimates(), "metadata": export_metadata(result)}
    if result.is_joint:  # a single fit's correlation table is empty: no sheet or file for it
        tables["correlations"] = result.correlations()
    return WRITERS[suffix](path, tables)


class Exportable:
    """Gives a result class ``export(path)``: its estimates and metadata to a file."""

    def export(self, path: str | Path) -> list[Path]:
        """Write the estimates with a metadata table to ``.csv``, ``.parquet`` or ``.xlsx``.

        Parameters
        ----------
        path
            Output file; see :func:`export_estimates`.
        """
        return export_estimates(self, path)  # type: ignore[arg-type]
