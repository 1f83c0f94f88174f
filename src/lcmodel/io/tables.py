"""Tables in files: reading input (CSV or Parquet) with clear errors, writing them atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lcmodel.errors import DataError
from lcmodel.io.atomic import atomic_file

if TYPE_CHECKING:
    import pyarrow

__all__ = ["PARQUET_SUFFIXES", "read_table", "write_table"]

PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
"""File suffixes read and written as Parquet; any other as CSV."""

_CSV_ROWS = 1 << 17  # rows formatted at a time when writing CSV (bounds memory)
_CSV_SPECIAL = np.frombuffer(b',"\r\n', np.uint8)  # bytes CSV would quote: left to pandas

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
        if path.suffix.lower() in PARQUET_SUFFIXES:
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


def write_table(path: str | Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` without its index to ``path``, as Parquet or CSV by its suffix, atomically.

    A CSV file has the bytes of ``frame.to_csv(path, index=False)``: each column formatted as
    pandas formats it (floats by ``numpy``'s ``astype(str)``, the shortest text that reads back
    as the same number; missing values empty), but the lines are assembled by pyarrow's CSV
    writer, in blocks of rows, instead of row by row in Python: 1,000,000 survey rows in
    seconds, not half a minute. A frame with a column of another kind (object, bool, dates,
    nullable floats), text that would need quotes, fewer than two columns or no rows is left
    to pandas. Parquet (pyarrow) keeps the columns' types, which CSV cannot.

    Parameters
    ----------
    path
        The file to write; its folder must exist. ``.parquet`` and ``.pq`` files are written
        as Parquet, anything else as CSV.
    frame
        The table.
    """
    path = Path(path)
    with atomic_file(path) as staging:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            frame.to_parquet(staging, index=False)
        elif not _write_csv_fast(staging, frame):
            frame.to_csv(staging, index=False)


def _write_csv_fast(path: Path, frame: pd.DataFrame) -> bool:
    """Write ``frame`` as pandas' CSV would be, with pyarrow; False (nothing written) if unable."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = list(frame.columns)
    if len(names) < 2 or frame.empty or not all(isinstance(n, str) for n in names):
        return False  # pandas quotes the one field of a row of one column when it is empty
    kinds = [_csv_kind(frame[name]) for name in names]
    if None in kinds:
        return False
    texts = [pa.array(frame[n].array) for n, k in zip(names, kinds, strict=True) if k == "text"]
    if any(_needs_quotes(text) for text in [pa.array(names), *texts]):
        return False
    schema = pa.schema([(name, pa.large_string()) for name in names])
    options = pacsv.WriteOptions(include_header=False, quoting_style="none", eol=os.linesep)
    with path.open("wb") as sink:
        sink.write((",".join(names) + os.linesep).encode("utf-8"))
        with pacsv.CSVWriter(sink, schema, write_options=options) as writer:
            for start in range(0, len(frame), _CSV_ROWS):
                block = frame.iloc[start : start + _CSV_ROWS]
                columns = [
                    _csv_text(block[name], kind) for name, kind in zip(names, kinds, strict=True)
                ]
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
    return True


def _needs_quotes(text: pyarrow.Array | pyarrow.ChunkedArray) -> bool:
    """Whether any string might need quotes in CSV: holds a comma, a quote or a line break.

    Looks at the bytes of the strings' data buffers (UTF-8, in which these ASCII bytes are
    never part of another character); a buffer may hold bytes outside a sliced array's
    strings, which at worst leaves a table to pandas' writer.
    """
    chunks = text.chunks if hasattr(text, "chunks") else [text]
    for chunk in chunks:
        data = chunk.buffers()[2]
        if data is not None and np.isin(np.frombuffer(data, np.uint8), _CSV_SPECIAL).any():
            return True
    return False


def _csv_kind(column: pd.Series) -> str | None:
    """How a column is formatted for CSV: ``float``, ``integer``, ``text``, or None (pandas)."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "f":
            return "float"
        return "integer" if dtype.kind in "iu" else None
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        return "text"
    return "integer" if pd.api.types.is_integer_dtype(dtype) else None  # Int64 and the like


def _csv_text(column: pd.Series, kind: str) -> pyarrow.Array:
    """One block of a column as CSV text (nulls written empty), formatted as pandas does."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if kind == "float":
        values = column.to_numpy()
        return pa.array(values.astype(str), type=pa.large_string(), mask=np.isnan(values))
    arrow = pa.array(column.array)
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    return pc.cast(arrow, pa.large_string())
