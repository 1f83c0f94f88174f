"""Reading tabular input files (CSV or Parquet) with clear errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lcmodel.errors import DataError

__all__ = ["read_table"]

_NA_VALUES = [
    *("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND"),
    *("1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null"),
]
"""Cells read as missing: pandas' defaults without "None", which is a real answer label."""


def read_table(path: str | Path, role: str) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    Parameters
    ----------
    path
        File to read; ``.parquet``/``.pq`` files are read as Parquet, anything else as CSV.
    role
        What the file is (``"survey"``, ``"areas"``, ...), used in error messages.

    Raises
    ------
    DataError
        When the file is missing, unreadable, or has no rows.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: {role} file not found; check the path in the spec or --data")
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(
                path, skipinitialspace=True, keep_default_na=False, na_values=_NA_VALUES
            )
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: {role} file is empty; it needs a header row and data") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot read {role} file: {exc}") from None
    if frame.empty:
        raise DataError(f"{path}: {role} file has a header but no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
