"""Maps of area estimates: a choropleth of one statistic beside a map of the interval widths.

:func:`map_values` picks, per area, the value a map colours, the width of its interval and
whether the estimate is suppressed; :func:`area_map` draws them on the areas' polygons (from
:func:`lcmodel.data.adjacency.load_boundaries`). Every colour scale suits its statistic:

- ``mean`` (the estimate), ``cv``: sequential;
- ``reliability``: the flags ``publish`` and ``caution`` as two shades of one sequential map;
- ``p_above_benchmark``: diverging, centred at 0.5 (limits 0 and 1);
- ``diff_mean`` (the difference from the benchmark) and ``change`` (between two waves):
  diverging, centred at 0, with limits symmetric around it.

Estimates flagged ``suppress`` get a grey, hatched fill on the value map, never a colour that
reads as a value (and hatching over their colour on the width map). Areas of the boundary file
without an estimate are light grey ("no estimate"), and so, on the benchmark maps, are areas
without a benchmark ("no benchmark"). Shares are drawn as percentages (differences,
changes and widths as percentage points).

geopandas (the optional ``spatial`` extra) and matplotlib are imported when a map is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lcmodel.data.common import AREA
from lcmodel.errors import LcmodelError, did_you_mean, listed

if TYPE_CHECKING:
    from geopandas import GeoDataFrame
    from matplotlib.figure import Figure

__all__ = [
    "MAP_STATISTICS",
    "NO_ESTIMATE",
    "SUPPRESSED",
    "MapScale",
    "area_map",
    "map_scale",
    "map_values",
]

MAP_STATISTICS = ("mean", "diff_mean", "p_above_benchmark", "cv", "reliability", "change")
"""What a map can show: a column of the estimates table, or ``change`` between two waves."""

SUPPRESSED = {"facecolor": "0.72", "edgecolor": "0.3", "hatch": "////", "linewidth": 0.4}
"""How suppressed estimates are filled: grey with hatching (the hatch takes the edge colour)."""

NO_ESTIMATE = {"facecolor": "0.9", "edgecolor": "0.6", "linewidth": 0.4}
"""How areas of the boundary file without an estimate are filled."""

NO_BENCHMARK = NO_ESTIMATE
"""How areas without a benchmark are filled on the benchmark maps (as those without estimates).

The diverging scales (``RdYlBu``) have a pale yellow centre, not a grey one, so no value reads
as "nothing to show".
"""

WIDTH_CMAP = "YlGnBu"
"""The sequential colour map of interval widths (its light end is yellow, not grey)."""

_RELIABILITY_SHADES = {"publish": 0.85, "caution": 0.4}


@dataclass(frozen=True)
class MapScale:
    """How one statistic is coloured.

    Attributes
    ----------
    cmap
        A matplotlib colour map name.
    centre
        The value a diverging scale is centred on; ``None`` for a sequential scale.
    limits
        Fixed limits (``p_above_benchmark``: 0 and 1); ``None``: from the values.
    label
        The colour bar's label.
    width_unit
        The unit of interval widths, for their colour bar (shares: percentage points).
    categorical
        Whether the values are categories (``reliability``), drawn with a legend instead of a
        colour bar.
    """

    cmap: str
    centre: float | None
    limits: tuple[float, float] | None
    label: str
    width_unit: str = ""
    categorical: bool = False

    def norm(self, values: np.ndarray) -> Any:
        """A ``matplotlib.colors.Normalize`` for ``values`` (symmetric around ``centre``)."""
        from matplotlib.colors import Normalize

        finite = np.asarray(values, dtype=float)
        finite = finite[np.isfinite(finite)]
        if self.limits is not None:
            low, high = self.limits
        elif self.centre is not None:
            half = float(np.abs(finite - self.centre).max()) if len(finite) else 0.0
            half = half if half > 0 else 1e-9
            low, high = self.centre - half, self.centre + half
        else:
            low = float(finite.min()) if len(finite) else 0.0
            high = float(finite.max()) if len(finite) else 1.0
            if high <= low:
                low, high = low - 0.5e-9, high + 0.5e-9
        return Normalize(vmin=low, vmax=high)


def _quantity_label(quantity: str) -> str:
    return quantity.replace("share:", "share ").capitalize()


def map_scale(statistic: str, quantity: str, *, waves: tuple[int, int] | None = None) -> MapScale:
    """The colour scale of ``statistic`` for ``quantity`` (see the module docstring).

    Parameters
    ----------
    statistic
        One of :data:`MAP_STATISTICS`.
    quantity
        The quantity mapped (``share``, ``share:<...>``, ``mean``).
    waves
        For ``change``: the waves compared, for the label.
    """
    share = quantity.startswith("share")
    points = " (percentage points)" if share else ""
    name = _quantity_label(quantity)
    if statistic == "mean":
        return MapScale("viridis", None, None, f"{name} (%)" if share else name, points)
    if statistic == "diff_mean":
        return MapScale("RdYlBu", 0.0, None, f"{name}: difference from benchmark{points}", points)
    if statistic == "p_above_benchmark":
        return MapScale("RdYlBu", 0.5, (0.0, 1.0), f"{name}: P(above benchmark)", points)
    if statistic == "cv":
        return MapScale("YlOrRd", None, None, f"{name}: coefficient of variation", points)
    if statistic == "reliability":
        return MapScale("viridis", None, (0.0, 1.0), f"{name}: reliability", points, True)
    if statistic == "change":
        first, last = waves if waves is not None else ("first", "last")
        label = f"{name}: change, wave {first} to {last}{points}"
        return MapScale("RdYlBu", 0.0, None, label, points)
    raise LcmodelError(
        f"cannot map '{statistic}'{did_you_mean(statistic, MAP_STATISTICS)}; a map shows "
        f"one of {listed(MAP_STATISTICS, None)}"
    )


def map_values(
    table: pd.DataFrame, statistic: str, *, flags: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per area: the value a map colours, its interval's width, and whether it is suppressed.

    Parameters
    ----------
    table
        Rows of one quantity: from ``estimates()`` or, for ``change``, from ``changes()``.
    statistic
        One of :data:`MAP_STATISTICS`.
    flags
        For ``change``: the ``wave_estimates()`` rows of the two waves compared (columns
        ``area`` and ``reliability``); a change is suppressed when either estimate is.

    Returns
    -------
    pandas.DataFrame
        Columns ``area``, ``name``, ``value`` (the reliability flag for ``reliability``, else
        a float, NaN without a benchmark), ``width`` and ``suppressed``; shares as percentages.
    """
    map_scale(statistic, "mean")  # an unknown statistic is an error
    quantity = str(table["quantity"].iloc[0]) if len(table) else "mean"
    scale = 100.0 if quantity.startswith("share") else 1.0
    out = pd.DataFrame({AREA: table[AREA].astype(str).to_numpy(), "name": table["name"]})
    if statistic == "change":
        out["value"] = table["change_mean"].to_numpy() * scale
        out["width"] = (table["change_upper"] - table["change_lower"]).to_numpy() * scale
        suppressed = np.zeros(len(table), dtype=bool)
        if flags is not None:
            bad = set(flags.loc[flags["reliability"] == "suppress", AREA].astype(str))
            suppressed = out[AREA].isin(bad).to_numpy()
        out["suppressed"] = suppressed
        return out
    width = table["upper"] - table["lower"]
    if statistic == "diff_mean":
        width = table["diff_upper"] - table["diff_lower"]
    out["width"] = width.to_numpy() * scale
    if statistic in ("mean", "diff_mean"):
        out["value"] = table[statistic].to_numpy() * scale
    else:  # probabilities, coefficients of variation and flags have no unit
        out["value"] = table[statistic].to_numpy()
    out["suppressed"] = (table["reliability"] == "suppress").to_numpy()
    return out[[AREA, "name", "value", "width", "suppressed"]]


def area_map(
    shapes: GeoDataFrame,
    values: pd.DataFrame,
    *,
    scale: MapScale,
    interval: str,
    suppress_rule: str,
    title: str | None = None,
) -> tuple[Figure, np.ndarray]:
    """Draw a statistic's map and, beside it, the map of its interval widths.

    Parameters
    ----------
    shapes
        The areas' polygons: columns ``area`` and ``geometry`` (see
        :func:`lcmodel.data.adjacency.load_boundaries`), every area of ``values`` among them.
    values
        From :func:`map_values`.
    scale
        From :func:`map_scale`.
    interval
        The interval's label (e.g. ``90% equal-tailed``), for the width map.
    suppress_rule
        When an estimate is suppressed (e.g. ``CV above 0.33``), for the legend.
    title
        Figure title.

    Returns
    -------
    tuple
        The figure and its two map axes: the statistic, then the interval widths. Each layer
        is one collection with a ``gid``: ``values``, ``suppressed``, ``no estimate`` and
        ``no benchmark`` on the first map, ``widths`` and ``suppressed`` on the second; their
        polygons follow the order of ``shapes``.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.patches import Patch

    drawn = shapes[[AREA, "geometry"]].merge(values, on=AREA, how="left", validate="many_to_one")
    has_row = drawn["suppressed"].notna().to_numpy()
    suppressed = has_row & drawn["suppressed"].fillna(False).astype(bool).to_numpy()
    categorical = scale.categorical
    if categorical:
        known = drawn["value"].isin(list(_RELIABILITY_SHADES)).to_numpy()
    else:
        known = np.isfinite(pd.to_numeric(drawn["value"], errors="coerce").to_numpy())
    coloured = has_row & ~suppressed & known
    no_value = has_row & ~suppressed & ~known

    fig, axes = plt.subplots(1, 2, figsize=(11.0, 5.6), layout="constrained")
    value_ax, width_ax = axes
    cmap = mpl.colormaps[scale.cmap]
    handles: list[Patch] = []

    def layer(ax: Any, mask: np.ndarray, gid: str, **style: Any) -> None:
        if mask.any():
            before = len(ax.collections)
            drawn[mask].plot(ax=ax, **style)
            for collection in ax.collections[before:]:
                collection.set_gid(gid)

    if categorical:
        shades = drawn["value"][coloured].map(_RELIABILITY_SHADES).to_numpy(dtype=float)
        layer(value_ax, coloured, "values", color=cmap(shades), edgecolor="white", linewidth=0.4)
        handles += [
            Patch(facecolor=cmap(shade), edgecolor="0.6", label=flag)
            for flag, shade in _RELIABILITY_SHADES.items()
            if (drawn["value"][coloured] == flag).any()
        ]
    else:
        numbers = drawn["value"][coloured].to_numpy(dtype=float)
        norm = scale.norm(numbers)
        layer(
            value_ax,
            coloured,
            "values",
            color=cmap(norm(numbers)),
            edgecolor="white",
            linewidth=0.4,
        )
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=value_ax, shrink=0.75)
        bar.set_label(scale.label)
    layer(value_ax, suppressed, "suppressed", **SUPPRESSED)
    layer(value_ax, no_value, "no benchmark", **NO_BENCHMARK)
    layer(value_ax, ~has_row, "no estimate", **NO_ESTIMATE)
    if suppressed.any():
        handles.append(Patch(**SUPPRESSED, label=f"suppressed ({suppress_rule})"))
    if no_value.any():
        handles.append(Patch(**NO_BENCHMARK, label="no benchmark"))
    if (~has_row).any():
        handles.append(Patch(**NO_ESTIMATE, label="no estimate"))
    if handles:
        value_ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 0.0), fontsize=8)
    value_ax.set_title(scale.label if categorical else scale.label.split(": ")[-1], fontsize=10)

    widths = drawn["width"][has_row].to_numpy(dtype=float)
    width_cmap = mpl.colormaps[WIDTH_CMAP]
    width_norm = MapScale(WIDTH_CMAP, None, None, "").norm(widths)
    layer(
        width_ax,
        has_row,
        "widths",
        color=width_cmap(width_norm(widths)),
        edgecolor="white",
        linewidth=0.4,
    )
    layer(width_ax, suppressed, "suppressed", facecolor="none", edgecolor="0.3", hatch="////")
    layer(width_ax, ~has_row, "no estimate", **NO_ESTIMATE)
    bar = fig.colorbar(ScalarMappable(norm=width_norm, cmap=width_cmap), ax=width_ax, shrink=0.75)
    bar.set_label(f"Width of the {interval} interval{scale.width_unit}")
    width_ax.set_title("Uncertainty: interval width", fontsize=10)
    for ax in axes:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig, axes
