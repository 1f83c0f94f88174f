"""Matching areas to benchmark rows: the narrowest deprivation range of the area's nation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lcmodel.design.benchmarks import match_benchmarks

ROWS = [
    # nation, deprivation, low, high, estimate, n, source, year
    ("England", "1-5", 1, 5, 0.50, 1000.0, "CLS", "2023"),
    ("England", "1-3", 1, 3, 0.40, np.nan, "CLS", "2023"),
    ("England", "4-10", 4, 10, 0.60, 2000.0, "CLS", ""),
    ("England", "all", 1, 10, 0.55, 5000.0, "CLS", "2023"),
    ("Wales", "all", 1, 10, 0.58, 800.0, "NSW", "2022"),
]


def _benchmarks() -> pd.DataFrame:
    columns = ["nation", "deprivation", "deprivation_low", "deprivation_high", "estimate", "n"]
    return pd.DataFrame(ROWS, columns=[*columns, "source", "year"])


def _areas(n_areas: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "nation": rng.choice(["England", "Wales", "Northern Ireland"], n_areas),
            "deprivation_decile": rng.integers(1, 11, n_areas),
        },
        index=pd.Index([f"A{i:05d}" for i in range(n_areas)], name="area"),
    )


def test_each_area_gets_the_narrowest_range_of_its_nation() -> None:
    areas = _areas(3000)
    with pytest.warns(UserWarning, match="no benchmark row for the nation"):
        table = match_benchmarks(areas, _benchmarks(), "deprivation")
    decile, nation = areas["deprivation_decile"], areas["nation"]
    england = nation == "England"
    low = england & (decile <= 3)
    assert (table.loc[low, "benchmark"] == 0.40).all()  # 1-3 inside the wider 1-5
    assert table.loc[low, "benchmark_n"].isna().all()  # n unknown: a fixed benchmark
    assert (table.loc[low, "benchmark_match"] == "England, deciles 1-3").all()
    assert (table.loc[low, "benchmark_source"] == "CLS (2023)").all()
    middle = england & decile.between(4, 5)  # 1-5 is narrower than 4-10
    assert (table.loc[middle, "benchmark_match"] == "England, deciles 1-5").all()
    high = england & (decile >= 6)
    assert (table.loc[high, "benchmark"] == 0.60).all()
    assert (table.loc[high, "benchmark_source"] == "CLS").all()  # no year given
    wales = nation == "Wales"
    assert (table.loc[wales, "benchmark"] == 0.58).all()
    assert (
        table.loc[wales, "benchmark_match"] == "Wales, all areas (no deprivation-matched row)"
    ).all()
    elsewhere = nation == "Northern Ireland"
    assert elsewhere.any() and table.loc[elsewhere, "benchmark"].isna().all()
    assert (table.loc[elsewhere, "benchmark_match"] == "no benchmark").all()
    assert table.index.equals(areas.index)


def test_national_matching_uses_the_all_row() -> None:
    areas = _areas(200)
    areas = areas[areas["nation"] != "Northern Ireland"]
    table = match_benchmarks(areas, _benchmarks(), "national")
    expected = areas["nation"].map({"England": 0.55, "Wales": 0.58})
    pd.testing.assert_series_equal(table["benchmark"], expected, check_names=False)
    assert table["benchmark_match"].str.endswith(", all areas").all()
