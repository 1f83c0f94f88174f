"""How results are stored: JSON-safe values, tables as JSON, posteriors netCDF can hold."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["frame_from_json", "frame_to_json", "json_ready", "netcdf_ready", "write_json"]


def json_ready(value: Any) -> Any:
    """Replace NaN floats (not valid JSON) by ``None``, recursively."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def frame_to_json(frame: pd.DataFrame) -> dict[str, Any]:
    """A frame as JSON-ready data that :func:`frame_from_json` restores exactly (dtypes too)."""

    def clean(value: Any) -> Any:
        if isinstance(value, float | np.floating) and math.isnan(value):
            return None
        return value.item() if isinstance(value, np.generic) else value

    return {
        "index": [clean(v) for v in frame.index],
        "index_name": frame.index.name,
        "index_dtype": str(frame.index.dtype),
        "columns": {c: [clean(v) for v in frame[c]] for c in frame.columns},
        "dtypes": {c: str(frame[c].dtype) for c in frame.columns},
    }


def frame_from_json(data: dict[str, Any]) -> pd.DataFrame:
    """Rebuild a frame written by :func:`frame_to_json`."""
    index = pd.Index(data["index"], name=data["index_name"]).astype(data["index_dtype"])
    frame = pd.DataFrame(data["columns"], index=index)
    for column, dtype in data["dtypes"].items():
        values = frame[column]
        if dtype.startswith("float"):
            values = values.astype(object).where(values.notna(), np.nan)
        frame[column] = values.astype(dtype)
    return frame


def netcdf_ready(idata: xr.DataTree) -> xr.DataTree:
    """Drop variables netCDF cannot store (object arrays holding ``None``, e.g. messages)."""
    tree = idata.copy()
    for node in tree.subtree:
        drop = [
            name
            for name, var in node.dataset.data_vars.items()
            if var.dtype == object and any(v is None for v in np.ravel(var.values))
        ]
        if drop:
            node.dataset = node.dataset.drop_vars(drop)
    return tree


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON, NaN written as ``null``."""
    path.write_text(json.dumps(json_ready(payload), indent=2, allow_nan=False) + "\n")
