"""The report's tables as text: numbers formatted once, suppressed estimates never formatted.

Every number a reader sees in the report passes through this module. A row whose estimate is
flagged ``suppress`` (its coefficient of variation is above ``fit.cv_suppress``) keeps its area,
its respondents and its benchmark (a published figure for similar areas, not the area's own),
but its estimate, interval, direct estimate, difference from the benchmark and probability are
replaced by words before any of them is turned into text; a change between two waves is
suppressed when the estimate at either wave is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

__all__ = [
    "HIDDEN",
    "SUPPRESSED",
    "Table",
    "TableRow",
    "change_table",
    "correlation_table",
    "estimate_table",
    "format_difference",
    "format_probability",
    "format_value",
    "key_value_table",
    "plain_table",
]

SUPPRESSED = "suppressed"
"""What a suppressed estimate's cell says."""

HIDDEN = "\N{EM DASH}"
"""What the other cells of a suppressed estimate say."""


@dataclass(frozen=True)
class TableRow:
    """One row of a report table: its cells as text, the area and its reliability flag."""

    cells: list[str]
    area: str = ""
    reliability: str = ""


@dataclass(frozen=True)
class Table:
    """A table ready for a template: column headings, rows of text, and a caption."""

    columns: list[str]
    rows: list[TableRow]
    kind: str = "table"
    caption: str = ""
    quantity: str = ""
    notes: list[str] = field(default_factory=list)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value)


def format_value(value: object, share: bool) -> str:
    """An estimate as text: shares as percentages (one decimal), other values to 2 decimals."""
    if _missing(value):
        return ""
    number = float(value)  # type: ignore[arg-type]
    return f"{number * 100:.1f}%" if share else f"{number:.2f}"


def format_difference(value: object, share: bool) -> str:
    """A difference or change: signed, in percentage points for shares."""
    if _missing(value):
        return ""
    number = float(value)  # type: ignore[arg-type]
    return f"{number * 100:+.1f} pts" if share else f"{number:+.2f}"


def format_probability(value: object) -> str:
    """A probability (0-1) to two decimals."""
    return "" if _missing(value) else f"{float(value):.2f}"  # type: ignore[arg-type]


def _interval(lower: object, upper: object, formatter: object, share: bool) -> str:
    if _missing(lower) or _missing(upper):
        return ""
    return f"{formatter(lower, share)} to {formatter(upper, share)}"  # type: ignore[operator]


def _count(value: object) -> str:
    return "" if _missing(value) else f"{int(float(value)):,}"  # type: ignore[arg-type]


def estimate_table(estimates: pd.DataFrame, quantity: str, label: str) -> Table:
    """One quantity's per-area estimates, with reliability flags and suppression.

    Parameters
    ----------
    estimates
        A result's estimates table (:data:`lcmodel.results.estimates.ESTIMATE_COLUMNS`).
    quantity
        The quantity shown.
    label
        What the quantity is, in words (the table's caption).

    Returns
    -------
    Table
        One row per area, in the table's order.
    """
    rows = estimates[estimates["quantity"] == quantity]
    share = quantity.startswith("share")
    interval = str(rows["interval"].iloc[0]) if len(rows) else ""
    benchmarks = rows["benchmark"].notna().any()
    columns = ["Area", "Respondents", "Direct (survey)", "Estimate", f"Interval ({interval})"]
    if benchmarks:
        columns += ["Benchmark", "Difference from benchmark", "P(above benchmark)"]
    columns.append("Reliability")
    out = []
    for row in rows.to_dict("records"):
        flag = str(row["reliability"])
        respondents = _count(row["n"]) if row["in_sample"] else "not surveyed"
        if flag == "suppress":
            cells = [str(row["name"]), respondents, HIDDEN, SUPPRESSED, HIDDEN]
            if benchmarks:
                cells += [format_value(row["benchmark"], share), HIDDEN, HIDDEN]
        else:
            cells = [
                str(row["name"]),
                respondents,
                format_value(row["direct"], share),
                format_value(row["mean"], share),
                _interval(row["lower"], row["upper"], format_value, share),
            ]
            if benchmarks:
                cells += [
                    format_value(row["benchmark"], share),
                    format_difference(row["diff_mean"], share),
                    format_probability(row["p_above_benchmark"]),
                ]
        cells.append(flag)
        out.append(TableRow(cells=cells, area=str(row["area"]), reliability=flag))
    return Table(columns, out, kind="estimates", caption=label, quantity=quantity)


def change_table(changes: pd.DataFrame, waves: pd.DataFrame, quantity: str, label: str) -> Table:
    """Each area's change between two waves and P(improved), suppressed where either wave is.

    Parameters
    ----------
    changes
        :meth:`lcmodel.results.fit_result.FitResult.changes`.
    waves
        :meth:`lcmodel.results.fit_result.FitResult.wave_estimates` (for the waves' flags).
    quantity
        The quantity shown (the headline: the only one with ``p_improved``).
    label
        The caption.
    """
    rows = changes[changes["quantity"] == quantity]
    share = quantity.startswith("share")
    flags = waves[waves["quantity"] == quantity].set_index(["area", "wave"])["reliability"]
    first = int(rows["from_wave"].iloc[0]) if len(rows) else 0
    last = int(rows["to_wave"].iloc[0]) if len(rows) else 0
    interval = str(rows["interval"].iloc[0]) if len(rows) else ""
    columns = [
        "Area",
        f"Respondents, wave {first}",
        f"Respondents, wave {last}",
        "Change",
        f"Interval ({interval})",
        "P(improved)",
    ]
    out = []
    for row in rows.to_dict("records"):
        area = row["area"]
        hidden = any(
            flags.get((area, wave), "suppress") == "suppress"
            for wave in (row["from_wave"], row["to_wave"])
        )
        cells = [str(row["name"]), _count(row["n_from"]), _count(row["n_to"])]
        if hidden:
            cells += [SUPPRESSED, HIDDEN, HIDDEN]
        else:
            cells += [
                format_difference(row["change_mean"], share),
                _interval(row["change_lower"], row["change_upper"], format_difference, share),
                format_probability(row["p_improved"]),
            ]
        out.append(
            TableRow(cells=cells, area=str(area), reliability="suppress" if hidden else "publish")
        )
    return Table(columns, out, kind="changes", caption=label, quantity=quantity)


def correlation_table(correlations: pd.DataFrame) -> Table:
    """A joint fit's correlations of area effects, one row per pair of indicators."""
    interval = str(correlations["interval"].iloc[0]) if len(correlations) else ""
    rows = [
        TableRow(
            cells=[
                f"{row['indicator']} and {row['with_indicator']}",
                f"{row['mean']:.2f}",
                f"{row['lower']:.2f} to {row['upper']:.2f}",
                format_probability(row["p_positive"]),
            ]
        )
        for row in correlations.to_dict("records")
    ]
    columns = ["Indicators", "Correlation", f"Interval ({interval})", "P(positive)"]
    return Table(columns, rows, kind="correlations", caption="Correlation of area effects")


def plain_table(frame: pd.DataFrame, caption: str = "", kind: str = "table") -> Table:
    """Any small table of text and numbers (priors, check tables), numbers to 3 significant."""

    def text(value: object) -> str:
        if _missing(value):
            return ""
        if isinstance(value, float):
            return f"{value:.3g}"
        return str(value)

    rows = [TableRow(cells=[text(v) for v in record]) for record in frame.itertuples(index=False)]
    return Table([str(c) for c in frame.columns], rows, kind=kind, caption=caption)


def key_value_table(pairs: dict[str, object], caption: str = "", kind: str = "facts") -> Table:
    """A two-column table of facts (what, value)."""
    rows = [TableRow(cells=[key, str(value)]) for key, value in pairs.items()]
    return Table(["", ""], rows, kind=kind, caption=caption)
