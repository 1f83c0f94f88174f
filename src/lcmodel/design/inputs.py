"""The per-area inputs of a report: everything estimates need besides the posterior.

Computed from validated data before any model exists: names, nations, deprivation, sample
sizes, direct estimates with their design-based standard errors, the estimand, and the
benchmark each area is compared with (per area, and per area and wave).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lcmodel.data.common import WAVE
from lcmodel.data.survey import AREA, SurveyData
from lcmodel.design.benchmarks import match_benchmarks
from lcmodel.design.direct import survey_direct_estimates
from lcmodel.design.reference import estimand

__all__ = ["area_inputs", "table_inputs", "table_wave_inputs", "wave_inputs"]


def area_inputs(data: SurveyData, match: str = "deprivation") -> pd.DataFrame:
    """Everything per area and quantity that estimates need besides the posterior.

    One row per area x quantity: ``area``, ``quantity``, ``kind`` (share or mean), ``name``,
    ``nation``, ``deprivation_decile`` (when known), ``n``, ``in_sample``, ``estimand`` (what
    the area value averages over: respondents, a population frame, ...), the direct estimate
    with its standard error and design effect (:mod:`lcmodel.design.direct`; NaN in unsurveyed
    areas) and the benchmark match (see :func:`lcmodel.design.benchmarks.match_benchmarks`).

    Parameters
    ----------
    data
        One indicator's validated survey data.
    match
        ``"deprivation"`` or ``"national"``: how benchmarks are matched (the spec's
        ``benchmark.match``).
    """
    areas = data.areas
    columns = [c for c in ["name", "nation", "deprivation_decile"] if c in areas.columns]
    direct = survey_direct_estimates(data).set_index(["quantity", AREA])
    benchmarks = data.benchmarks
    parts = []
    for quantity in data.family.quantities():
        table = areas[columns].copy()
        table.insert(0, "quantity", quantity.name)
        table.insert(1, "kind", quantity.kind)
        table["n"] = areas["n"].astype(np.int64)
        table["in_sample"] = table["n"] > 0
        table["estimand"] = estimand(data)
        mine = direct.loc[quantity.name].reindex(areas.index)
        for column in ["direct", "direct_se", "deff"]:
            table[column] = mine[column]
        rows = None
        if benchmarks is not None:
            rows = benchmarks[benchmarks["quantity"] == quantity.name]
        parts.append(pd.concat([table, match_benchmarks(areas, rows, match)], axis=1))
    return pd.concat(parts).rename_axis(AREA).reset_index()


def wave_inputs(data: SurveyData, inputs: pd.DataFrame) -> pd.DataFrame:
    """Per area, wave and quantity: respondents, direct estimate and the area's benchmark.

    Parameters
    ----------
    data
        One indicator's validated survey data (with a wave column).
    inputs
        Its per-area inputs (:func:`area_inputs`), whose benchmark match every wave shares.
    """
    waves = sorted(int(w) for w in data.respondents[WAVE].unique())
    direct = survey_direct_estimates(data, by_wave=True).set_index([AREA, WAVE, "quantity"])
    keep = [AREA, "name", "quantity", "kind", "benchmark", "benchmark_n"]
    base = inputs[[c for c in keep if c in inputs.columns]]
    table = base.merge(pd.DataFrame({WAVE: waves}), how="cross")
    index = pd.MultiIndex.from_frame(table[[AREA, WAVE, "quantity"]])
    table["n"] = direct["n"].reindex(index).fillna(0).astype(np.int64).to_numpy()
    table["direct"] = direct["direct"].reindex(index).to_numpy()
    table["direct_se"] = direct["direct_se"].reindex(index).to_numpy()
    return table.sort_values([AREA, "quantity", WAVE], kind="stable").reset_index(drop=True)


def table_inputs(table: pd.DataFrame, n: pd.Series | None, kind: str) -> pd.DataFrame:
    """The estimates' inputs for areas read from a table (no names, nations or benchmarks).

    With a ``wave`` column (one row per area and wave) an area's row describes its value
    averaged over the waves, as the model's ``area_value`` is: ``n`` is the sum over the waves,
    ``direct`` the mean of the waves' direct estimates and ``direct_se`` its standard error
    (``sqrt(sum of variances) / waves``), both blank unless the area has an estimate in every
    wave; ``in_sample`` says whether it has one in any.
    """
    name = "share" if kind == "share" else "mean"
    sizes = pd.Series(n.to_numpy() if n is not None else np.nan, index=table.index, dtype=float)
    estimate, variance = table["estimate"], table["variance"]
    if WAVE in table.columns:
        by_area = table.index.to_series().groupby(level=0, sort=False)
        order = pd.unique(table.index.to_numpy())
        grouped = pd.DataFrame({"estimate": estimate, "variance": variance, "n": sizes}).groupby(
            level=0, sort=False
        )
        complete = grouped["estimate"].apply(lambda e: bool(e.notna().all())).reindex(order)
        waves = by_area.size().reindex(order)
        sizes = grouped["n"].sum(min_count=1).reindex(order)
        in_sample = grouped["estimate"].apply(lambda e: bool(e.notna().any())).reindex(order)
        estimate = grouped["estimate"].mean().reindex(order).where(complete)
        variance = (grouped["variance"].sum() / waves**2).reindex(order).where(complete)
        table = table.loc[~table.index.duplicated()]
    else:
        in_sample = estimate.notna()
    inputs = pd.DataFrame(
        {
            AREA: table.index,
            "quantity": name,
            "kind": kind,
            "name": table.index,
            "n": sizes.to_numpy(),
            "in_sample": in_sample.to_numpy(dtype=bool),
            "estimand": "Fay-Herriot of the table's direct estimates",
            "direct": estimate.to_numpy(),
            "direct_se": np.sqrt(variance.to_numpy()),
            "deff": np.nan,
        }
    )
    matched = match_benchmarks(table.iloc[:, :0], None, "national").reset_index(drop=True)
    return pd.concat([inputs, matched], axis=1)


def table_wave_inputs(
    table: pd.DataFrame, n: pd.Series | None, inputs: pd.DataFrame
) -> pd.DataFrame:
    """Per area, wave and quantity, from a table with a ``wave`` column (one row each).

    The columns of :func:`wave_inputs`: ``n`` (blank without sample sizes), the wave's direct
    estimate and standard error (blank where the table has none), the area's name and
    benchmark from its per-area ``inputs`` (:func:`table_inputs`).

    Parameters
    ----------
    table
        One row per area and wave (index ``area``; ``wave``, ``estimate``, ``variance``).
    n
        The sample sizes, aligned with ``table`` (``None`` without an ``n`` column).
    inputs
        The per-area inputs.
    """
    keep = [AREA, "name", "quantity", "kind", "benchmark", "benchmark_n"]
    base = inputs[[c for c in keep if c in inputs.columns]]
    rows = pd.DataFrame(
        {
            AREA: table.index.to_numpy(),
            WAVE: table[WAVE].to_numpy(dtype=np.int64),
            "n": n.to_numpy(dtype=float) if n is not None else np.nan,
            "direct": table["estimate"].to_numpy(dtype=float),
            "direct_se": np.sqrt(table["variance"].to_numpy(dtype=float)),
        }
    )
    out = base.merge(rows, on=AREA, how="inner", sort=False)
    return out.sort_values([AREA, "quantity", WAVE], kind="stable").reset_index(drop=True)
