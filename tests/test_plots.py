"""Plots of many areas: the forest plot's extremes and named areas, the benchmark histograms."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest

from lcmodel.errors import LcmodelError
from lcmodel.results.plots import FOREST_AREAS, benchmark_histogram, forest_plot, trajectory_plot

mpl.use("Agg")


def _estimates(n_areas: int, seed: int = 1) -> pd.DataFrame:
    """One share per area, as ``FitResult.estimates()`` has it (areas A0000, ... in order)."""
    rng = np.random.default_rng(seed)
    mean = rng.uniform(0.2, 0.8, n_areas)
    p_above = rng.uniform(0.0, 1.0, n_areas)
    return pd.DataFrame(
        {
            "area": [f"A{i:04d}" for i in range(n_areas)],
            "name": [f"Area {i}" for i in range(n_areas)],
            "quantity": "share",
            "n": 10,
            "in_sample": True,
            "mean": mean,
            "lower": mean - 0.1,
            "upper": mean + 0.1,
            "direct": mean,
            "benchmark": 0.5,
            "diff_mean": mean - 0.5,
            "p_above_benchmark": p_above,
            "reliability": "publish",
            "interval": "90%",
        }
    )


def _row_labels(ax) -> list[str]:
    return [tick.get_text() for tick in ax.get_yticklabels()]


def test_a_small_map_draws_every_area() -> None:
    _fig, ax = forest_plot(_estimates(20))
    assert len(_row_labels(ax)) == 20
    assert not [t for t in ax.texts if "not shown" in t.get_text()]


def test_a_large_map_draws_the_extremes_and_the_named_areas() -> None:
    table = _estimates(500)
    order = table.sort_values("mean")["area"].tolist()
    middle = table.set_index("area").loc[order[250], "name"]  # named by its name, not code
    _fig, ax = forest_plot(table, areas=[middle, order[100]], title="trust")
    labels = _row_labels(ax)
    assert len(labels) == FOREST_AREAS + 2
    assert labels[0].startswith(table.set_index("area").loc[order[0], "name"])  # the lowest
    assert labels[-1].startswith(table.set_index("area").loc[order[-1], "name"])  # the highest
    assert any(label.startswith(f"{middle} ") for label in labels)
    gaps = sorted(int(t.get_text().split()[0]) for t in ax.texts if "not shown" in t.get_text())
    # lowest 30 | 70 | rank 100 | 149 | rank 250 | 219 | highest 30
    assert gaps == [70, 149, 219]
    assert sum(gaps) + len(labels) == 500
    assert f"{FOREST_AREAS + 2} of 500 areas" in ax.get_title()


def test_every_area_when_asked_and_unknown_areas_refused() -> None:
    table = _estimates(200)
    _fig, ax = forest_plot(table, max_areas=None)
    assert len(_row_labels(ax)) == 200
    with pytest.raises(LcmodelError, match=r"no estimate for the areas \['Nowhere'\]"):
        forest_plot(table, areas=["Nowhere"])


def test_benchmark_histograms_count_every_area() -> None:
    table = _estimates(1000, seed=2)
    table.loc[:9, "p_above_benchmark"] = np.nan  # ten areas without a benchmark
    _fig, (left, right) = benchmark_histogram(table)
    counted = table["p_above_benchmark"].dropna()
    assert sum(patch.get_height() for patch in left.patches) == len(counted) == 990
    assert sum(patch.get_height() for patch in right.patches) == 990
    above, below = int((counted > 0.9).sum()), int((counted < 0.1).sum())
    assert left.get_title().startswith(f"{above:,} above (P > 0.9), {below:,} below (P < 0.1)")
    assert "percentage points" in right.get_xlabel()


def test_trajectories_of_many_areas_are_the_largest_changes_and_the_named() -> None:
    rng = np.random.default_rng(3)
    n_areas, waves = 40, [1, 2, 3]
    change = rng.normal(0.0, 0.05, n_areas)
    rows = _estimates(n_areas).loc[np.repeat(np.arange(n_areas), len(waves))]
    rows = rows.reset_index(drop=True).assign(wave=np.tile(waves, n_areas))
    rows["mean"] = 0.5 + np.repeat(change, len(waves)) * (rows["wave"] - 1) / 2
    rows["lower"], rows["upper"] = rows["mean"] - 0.1, rows["mean"] + 0.1
    calm = f"Area {int(np.argmin(np.abs(change)))}"  # the smallest change, named
    fig, axes = trajectory_plot(rows, areas=[calm], title="trust", max_areas=10)
    titles = [ax.get_title() for ax in axes.flat if ax.get_visible()]
    largest = np.argsort(-np.abs(change), kind="stable")[:10]
    assert set(titles) == {f"Area {i}" for i in largest} | {calm}
    assert "11 of 40 areas: the largest changes" in fig.get_suptitle()
    with pytest.raises(LcmodelError, match=r"no estimate for the areas \['Nowhere'\]"):
        trajectory_plot(rows, areas=["Nowhere"])
    _fig, axes = trajectory_plot(rows, max_areas=None)
    assert sum(ax.get_visible() for ax in axes.flat) == 40
