"""Plots of area estimates. Every function returns ``(fig, ax)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["forest_plot"]


def forest_plot(estimates: pd.DataFrame, *, title: str | None = None) -> tuple[Figure, Axes]:
    """Areas ordered by estimate, with intervals, direct estimates and benchmarks.

    Intervals are coloured by the estimate's reliability flag: blue (publish), orange
    (caution), grey dotted (suppress).

    Parameters
    ----------
    estimates
        Rows of one quantity from :meth:`lcmodel.results.FitResult.estimates`; shares are
        drawn as percentages.
    title
        Figure title.

    Returns
    -------
    tuple
        The matplotlib figure and axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    table = estimates.sort_values("mean").reset_index(drop=True)
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
        f"{name} (n={n})" if in_sample else f"{name} (not surveyed)"
        for name, n, in_sample in zip(table["name"], table["n"], table["in_sample"], strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(-0.7, len(table) - 0.3)
    label = quantity.replace("share:", "share ").capitalize()
    ax.set_xlabel(f"{label} (%)" if share else label)
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    interval = table["interval"].iloc[0] if len(table) else ""
    present = [flag for flag in styles if (flags == flag).any()]
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
