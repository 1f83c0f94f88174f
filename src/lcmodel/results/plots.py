"""Plots of area estimates. Every function returns ``(fig, ax)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["forest_plot", "trajectory_plot"]


def forest_plot(
    estimates: pd.DataFrame, *, title: str | None = None, hide_suppressed: bool = False
) -> tuple[Figure, Axes]:
    """Areas ordered by estimate, with intervals, direct estimates and benchmarks.

    Intervals are coloured by the estimate's reliability flag: blue (publish), orange
    (caution), grey dotted (suppress).

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

    Returns
    -------
    tuple
        The matplotlib figure and axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    table = estimates.sort_values("mean").reset_index(drop=True)
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
    if title:
        ax.set_title(title)
    return fig, ax


def trajectory_plot(
    estimates: pd.DataFrame,
    *,
    title: str | None = None,
    columns: int = 5,
    hide_suppressed: bool = False,
) -> tuple[Figure, np.ndarray]:
    """One small panel per area: estimates over the waves, direct estimates, benchmark line.

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

    Returns
    -------
    tuple
        The figure and the array of axes.
    """
    import matplotlib.pyplot as plt

    quantity = str(estimates["quantity"].iloc[0]) if len(estimates) else "value"
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
