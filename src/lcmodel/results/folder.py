"""The one folder format of every result, and :func:`load`.

Every saved result folder holds ``posterior.nc``, ``diagnostics.json`` and ``result.json``,
whose ``layout`` (``one_indicator`` or ``indicators``) names the result type that reads it back
(:data:`RESULT_TYPES`), whatever model kind (``kind``) fitted it; the other files depend on the
layout (see ``docs/outputs.md``).
"""

from __future__ import annotations

import json
from pathlib import Path

from lcmodel.errors import LcmodelError
from lcmodel.inference.diagnostics import Diagnostics
from lcmodel.results.fit_result import FitResult
from lcmodel.results.joint_result import JointFitResult
from lcmodel.results.result import Result

__all__ = ["RESULT_TYPES", "load"]

RESULT_TYPES: dict[str, type[Result]] = {
    result.layout: result for result in (FitResult, JointFitResult)
}
"""The result type that reads back each layout of saved result (``result.json``'s ``layout``)."""

_BEFORE_LAYOUTS = {
    "unit_level": "one_indicator",
    "area_level": "one_indicator",
    "joint": "indicators",
}
"""The layout of folders saved before ``result.json`` recorded one, by their model kind."""


def load(folder: str | Path) -> Result:
    """Restore a result written by ``save()`` (or by ``lcmodel fit``).

    Parameters
    ----------
    folder
        A saved result folder.

    Returns
    -------
    Result
        Whichever was saved: a :class:`FitResult` (one indicator) or a
        :class:`JointFitResult` (several), with the same interface (:class:`Result`).

    Raises
    ------
    LcmodelError
        When the folder or one of its files is missing, or its kind is unknown.
    """
    import arviz as az

    folder = Path(folder)
    for name in ("posterior.nc", "diagnostics.json", "result.json"):
        if not (folder / name).is_file():
            raise LcmodelError(f"{folder}: not a saved lcmodel result ({name} is missing)")
    payload = json.loads((folder / "result.json").read_text())
    kind = payload.get("kind", "unit_level")
    layout = payload.get("layout") or _BEFORE_LAYOUTS.get(kind)
    if layout not in RESULT_TYPES:
        raise LcmodelError(
            f"{folder}: result.json has kind {kind!r} and layout {layout!r}, which this version "
            f"of lcmodel cannot read (layouts: {', '.join(RESULT_TYPES)}); refit the spec with "
            f"`lcmodel fit`"
        )
    diagnostics = Diagnostics.from_dict(json.loads((folder / "diagnostics.json").read_text()))
    idata = az.from_netcdf(folder / "posterior.nc", engine="h5netcdf").load()
    return RESULT_TYPES[layout].from_saved(idata, payload, diagnostics, str(folder / "result.json"))
