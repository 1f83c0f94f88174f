"""Plots of area estimates. Every function returns ``(fig, ax)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
import pandas as pd

from lcmodel.errors import LcmodelError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FOREST_AREAS", "benchmark_histogram", "forest_plot", "trajectory_plot"]

FOREST_AREAS = 60
"""Most areas a forest plot draws: beyond it, the lowest and highest estimates and named areas."""


def _named_rows(table: pd.DataFrame, areas: Sequence[str] | None, plot: str) -> np.ndarray:
    """Which rows of ``table`` belong to the areas named in ``areas`` (codes or names).

    Raises
    ------
    LcmodelError
        When an area in ``areas`` has no row, naming the ``plot``.
    """
    wanted = [str(a) for a in areas or []]
    codes = table["area"].astype(str)
    names = table["name"].astype(str) if "name" in table else pd.Series("", index=table.index)
    unknown = [a for a in wanted if a not in set(codes) | set(names)]
    if unknown:
        raise LcmodelError(
            f"{plot}: no estimate for the areas {unknown}; name areas by their code "
            f"(column 'area') or their name"
        )
    return np.array(codes.isin(wanted) | names.isin(wanted), dtype=bool)


def _shown_areas(
    table: pd.DataFrame, max_areas: int | None, areas: Sequence[str] | None
) -> np.ndarray:
    """Which rows of ``table`` (sorted by estimate) a forest plot draws.

    Every row when there are at most ``max_areas``; otherwise the ``max_areas // 2`` lowest
    and highest estimates, and the rows of the areas named in ``areas`` (codes or names).
    """
    keep = _named_rows(table, areas, "forest plot")
    if max_areas is None or len(table) <= max_areas:
        return np.ones(len(table), dtype=bool)
    half = max(1, max_areas // 2)
    keep[:half] = True
    keep[-half:] = True
    return keep


def forest_plot(
    estimates: pd.DataFrame,
    *,
    title: str | None = None,
    hide_suppressed: bool = False,
    max_areas: int | None = FOREST_AREAS,
    areas: Sequence[str] | None = None,
) -> tuple[Figure, Axes]:
    """Areas ordered by estimate, with intervals, direct estimates and benchmarks.

    Intervals are coloured by the estimate's reliability flag: blue (publish), orange
    (caution), grey dotted (suppress). With more than ``max_areas`` areas (a national map of
    hundreds or thousands), the plot draws the ``max_areas // 2`` lowest and highest
    estimates and any areas named in ``areas``; a dashed line marks each run of areas left
    out, with their number, and the title says how many are drawn.

    Parameters
    ----------
    estimates
        Rows of one quantity from :meth:`lcmodel.results.fit_result.FitResult.estimates`; shares are
        drawn as percentages.
    title
        Figure title.
    hide_suppressed
        Draw no value for estimates flagged ``suppress``: their rows (at the bottom) show the
        benchmark only, and their labels say ``suppressed`` (the report for readers, where a
        suppressed estimate is never shown).
    max_areas
        Most areas drawn (``None``: every area, however many).
    areas
        Areas always drawn (codes or names), for example the ones a reader asked about.

    Returns
    -------
    tuple
        The matplotlib figure and axes.

    Raises
    ------
    LcmodelError
        When an area in ``areas`` has no estimate.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    table = estimates.sort_values("mean", kind="stable").reset_index(drop=True)
    shown = _shown_areas(table, max_areas, areas)
    total = len(table)
    rank = np.flatnonzero(shown)
    table = table[shown].reset_index(drop=True)
    # rows left out below each drawn row (by estimate), where a run of them was skipped
    skipped = np.diff(np.append(rank, total)) - 1
    if hide_suppressed and "reliability" in table:
        hidden = (table["reliability"] == "suppress").to_numpy()
        table = pd.concat([table[hidden], table[~hidden]], ignore_index=True)
        hidden = np.sort(hidden)[::-1]
        table.loc[hidden, ["mean", "lower", "upper", "direct"]] = np.nan
    else:
        hidden = np.zeros(len(table), dtype=bool)
    quantity = str(table["quantity"].iloc[0]) if len(table) else "value"
    share = quantity.startswith("share")
    scale = 100.0 if share else 1.0
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.32 * len(table)), layout="constrained")
    y = np.arange(len(table))
    colours = mpl.colormaps["tab10"]
    styles = {
        "publish": {"color": colours(0), "ls": "-"},
        "caution": {"color": colours(1), "ls": "-"},
        "suppress": {"color": "0.6", "ls": ":"},
    }
    flags = table["reliability"] if "reliability" in table else pd.Series("publish", table.index)
    for flag, style in styles.items():
        mine = (flags == flag).to_numpy()
        if mine.any():
            lower, upper = table["lower"][mine] * scale, table["upper"][mine] * scale
            ax.hlines(y[mine], lower, upper, lw=2, **style)
            ax.plot(table["mean"][mine] * scale, y[mine], "o", color=style["color"], ms=5)
    ax.plot(table["direct"] * scale, y, "o", mfc="none", mec="0.45", ms=5)
    ax.plot(table["benchmark"] * scale, y, "|", color=colours(3), ms=14, mew=2)
    labels = [
        (f"{name} (n={n})" if in_sample else f"{name} (not surveyed)")
        + (", suppressed" if secret else "")
        for name, n, in_sample, secret in zip(
            table["name"], table["n"], table["in_sample"], hidden, strict=True
        )
    ]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(-0.7, len(table) - 0.3)
    if not hidden.any():  # rows stay in order of the estimate: mark the runs left out
        for row in np.flatnonzero(skipped[:-1] > 0):
            ax.axhline(row + 0.5, color="0.5", ls="--", lw=0.8)
            ax.annotate(
                f"{skipped[row]:,} areas not shown",
                (0.01, row + 0.5),
                xycoords=("axes fraction", "data"),
                va="center",
                fontsize=7,
                color="0.35",
                backgroundcolor="white",
            )
    label = quantity.replace("share:", "share ").capitalize()
    ax.set_xlabel(f"{label} (%)" if share else label)
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    interval = table["interval"].iloc[0] if len(table) else ""
    present = [flag for flag in styles if (flags[~hidden] == flag).any()]
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            lw=2,
            **styles[flag],
            label=f"model, {interval} interval"
            if present == ["publish"]
            else f"model ({flag}), {interval} interval",
        )
        for flag in present
    ]
    handles += [
        Line2D([], [], color="0.45", marker="o", mfc="none", ls="none", label="direct (sample)"),
        Line2D([], [], color=colours(3), marker="|", ms=12, mew=2, ls="none", label="benchmark"),
    ]
    ax.legend(handles=handles, loc="lower right", fontsize=8, frameon=True)
    if len(table) < total:
        drawn = f"{len(table)} of {total:,} areas: the lowest and highest estimates"
        drawn += " and the areas named" if areas else ""
        title = f"{title}\n{drawn}" if title else drawn
    if title:
        ax.set_title(title, fontsize=10)
    return fig, ax


def benchmark_histogram(
    estimates: pd.DataFrame, *, title: str | None = None
) -> tuple[Figure, np.ndarray]:
    """How the areas compare with their benchmarks, as two histograms over the areas.

    The left panel counts areas by their probability of being above the benchmark (the
    areas above 0.9 and below 0.1 are the ones a report would call above or below); the right
    panel counts them by their difference from it (posterior mean, percentage points for a
    share). For maps of hundreds or thousands of areas, where a table or forest plot of every
    area cannot be read.

    Parameters
    ----------
    estimates
        Rows of one quantity from :meth:`lcmodel.results.fit_result.FitResult.estimates`, with
        benchmarks (``p_above_benchmark``, ``diff_mean``).
    title
        Figure title.

    Returns
    -------
    tuple
        The figure and its two axes.
    """
    import matplotlib.pyplot as plt

    table = estimates.dropna(subset=["p_above_benchmark"])
    quantity = str(estimates["quantity"].iloc[0]) if len(estimates) else "value"
    scale = 100.0 if quantity.startswith("share") else 1.0
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), layout="constrained")
    colours = mpl.colormaps["tab10"]
    p = table["p_above_benchmark"].to_numpy(dtype=float)
    bins = np.linspace(0.0, 1.0, 21)
    _, _, patches = axes[0].hist(p, bins=bins, color=colours(0), edgecolor="white")
    for patch, left in zip(patches, bins[:-1], strict=True):
        if left >= 0.9 - 1e-9:
            patch.set_facecolor(colours(2))
        elif left < 0.1 - 1e-9:
            patch.set_facecolor(colours(3))
    above, below = int((p > 0.9).sum()), int((p < 0.1).sum())
    axes[0].set_xlabel("P(area value > benchmark)")
    axes[0].set_ylabel("areas")
    axes[0].set_title(
        f"{above:,} above (P > 0.9), {below:,} below (P < 0.1), "
        f"{len(p) - above - below:,} uncertain",
        fontsize=9,
    )
    diff = table["diff_mean"].to_numpy(dtype=float) * scale
    axes[1].hist(diff, bins=30, color=colours(0), edgecolor="white")
    axes[1].axvline(0.0, color=colours(3), ls="--", lw=1)
    unit = " (percentage points)" if scale == 100.0 else ""
    axes[1].set_xlabel(f"difference from the benchmark{unit}")
    axes[1].set_ylabel("areas")
    axes[1].set_title(f"median {np.median(diff):+.1f}" if len(diff) else "", fontsize=9)
    fig.suptitle(
        (f"{title}: " if title else "") + f"{len(p):,} areas against their benchmarks",
        fontsize=10,
    )
    return fig, axes


def _largest_changes(
    estimates: pd.DataFrame, max_areas: int | None, areas: Sequence[str] | None
) -> list[str]:
    """The areas a trajectory plot draws, in the table's order.

    Every area when there are at most ``max_areas``; otherwise the ``max_areas`` areas whose
    posterior mean changed most between their first and last wave (either way), and the areas
    named in ``areas`` (codes or names).
    """
    order = list(dict.fromkeys(estimates["area"]))
    named = set(estimates["area"][_named_rows(estimates, areas, "trajectory plot")])
    if max_areas is None or len(order) <= max_areas:
        return order
    by_wave = estimates.sort_values("wave").groupby("area", sort=False)["mean"]
    change = (by_wave.last() - by_wave.first()).abs().sort_values(ascending=False, kind="stable")
    chosen = set(change.index[:max_areas]) | named
    return [area for area in order if area in chosen]


def trajectory_plot(
    estimates: pd.DataFrame,
    *,
    title: str | None = None,
    columns: int = 5,
    hide_suppressed: bool = False,
    max_areas: int | None = FOREST_AREAS,
    areas: Sequence[str] | None = None,
) -> tuple[Figure, np.ndarray]:
    """One small panel per area: estimates over the waves, direct estimates, benchmark line.

    With more than ``max_areas`` areas, the panels are those of the ``max_areas`` areas whose
    estimate changed most from their first wave to their last, and of any areas named in
    ``areas``; the title says so.

    Parameters
    ----------
    estimates
        Rows of one quantity from :meth:`lcmodel.results.fit_result.FitResult.wave_estimates`.
    title
        Figure title.
    columns
        Panels per row.
    hide_suppressed
        Leave out the waves whose estimate is flagged ``suppress`` (a gap in the line and
        band, no direct estimate), as the report for readers does.
    max_areas
        Most panels drawn (``None``: one per area, however many).
    areas
        Areas always drawn (codes or names).

    Returns
    -------
    tuple
        The figure and the array of axes.

    Raises
    ------
    LcmodelError
        When an area in ``areas`` has no estimate.
    """
    import matplotlib.pyplot as plt

    quantity = str(estimates["quantity"].iloc[0]) if len(estimates) else "value"
    total = estimates["area"].nunique()
    shown = _largest_changes(estimates, max_areas, areas)
    if len(shown) < total:
        estimates = estimates[estimates["area"].isin(shown)]
        drawn = f"{len(shown)} of {total:,} areas: the largest changes"
        drawn += " and the areas named" if areas else ""
        title = f"{title}: {drawn}" if title else drawn
    if hide_suppressed and "reliability" in estimates:
        estimates = estimates.copy()
        hidden = estimates["reliability"] == "suppress"
        estimates.loc[hidden, ["mean", "lower", "upper", "direct"]] = np.nan
    scale = 100.0 if quantity.startswith("share") else 1.0
    areas = list(dict.fromkeys(estimates["area"]))
    rows = max(1, -(-len(areas) // columns))
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(2.3 * columns, 1.9 * rows),
        sharex=True,
        sharey=True,
        layout="constrained",
        squeeze=False,
    )
    colours = mpl.colormaps["tab10"]
    for ax, area in zip(axes.flat, areas, strict=False):
        mine = estimates[estimates["area"] == area].sort_values("wave")
        wave = mine["wave"].to_numpy()
        ax.fill_between(
            wave, mine["lower"] * scale, mine["upper"] * scale, color=colours(0), alpha=0.25, lw=0
        )
        ax.plot(wave, mine["mean"] * scale, color=colours(0), lw=1.5)
        seen = mine["n"] > 0
        ax.plot(wave[seen], mine["direct"][seen] * scale, "o", mfc="none", mec="0.4", ms=3.5)
        benchmark = mine["benchmark"].dropna()
        if len(benchmark):
            ax.axhline(benchmark.iloc[0] * scale, color=colours(3), ls="--", lw=1)
        ax.set_title(f"{mine['name'].iloc[0]}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(areas) :]:
        ax.set_visible(False)
    label = quantity.replace("share:", "share ").capitalize()
    fig.supxlabel("wave", fontsize=9)
    fig.supylabel(f"{label} (%)" if scale == 100.0 else label, fontsize=9)
    interval = estimates["interval"].iloc[0] if len(estimates) else ""
    gaps = "; gaps: suppressed" if hide_suppressed else ""
    fig.suptitle(
        (f"{title}\n" if title else "")
        + f"line and band: model, {interval} interval; circles: direct; dashed: benchmark{gaps}",
        fontsize=9,
    )
    return fig, axes
