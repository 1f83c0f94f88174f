"""The simulator's synthetic map: where the areas lie, their boundaries, and smooth fields.

:func:`lcmodel.simulate.survey.simulate_survey` places its areas on a made-up map, so that area
effects can be spatially structured and models with spatial effects have boundaries to read.
Everything here is a deterministic function of a random generator and the areas' nations.

Layout
    The map is a rectangle in metres with British National Grid-like coordinates (CRS
    EPSG:27700; south-west corner at easting 350,000, northing 350,000), three wide to four
    high, of ``n_areas * 1500**2`` square metres (about 2.25 square kilometres per area). It is
    split into one rectangle per nation, of areas in proportion to the nations' numbers of
    areas: Scotland a band across the north, Wales a strip along the west of the rest, England
    the remainder (a nation without areas gets no rectangle). In each nation's rectangle its
    areas' *seed points* lie on a jittered grid: the rectangle is cut into ``rows x cols``
    equal cells of roughly square shape (``rows * cols >= m`` for the nation's ``m`` areas),
    ``m`` of them are chosen at random (so a few may stay empty), and each chosen cell's centre
    moves by a uniform jitter of up to 30% of the cell's width and height. The areas of a
    nation are assigned to its points at random, so areas numbered close together need not be
    neighbours. The layout needs only numpy, so the areas lie on the same map whether or not
    their boundaries are drawn.
Boundaries (why Voronoi)
    Each area's polygon is the Voronoi cell of its seed point within its nation's rectangle:
    the part of the rectangle closer to that point than to any other of the nation's points.
    Voronoi cells of a jittered grid look like neighbourhoods: convex, of uneven size (about
    1:3 between the smallest and the largest on a map of 200 areas or more) and shape, mostly
    five to seven sides, never slivers (the least compact cell of a map of 20 to 200 areas has
    an isoperimetric quotient ``4 pi area / perimeter^2`` of 0.5 to 0.65 in most maps, 0.39 at
    worst in 120 maps; a square's is 0.79, a 4:1 rectangle's 0.50). Hexagons would be neater
    but look like a board game, and a Voronoi tessellation of points scattered without a grid
    has slivers and very uneven sizes. Since each nation is tiled separately, every nation is
    contiguous and the borders between nations are straight; on maps of under about 15 areas a
    nation of one or two areas stretches across its band. All boundaries are then noded
    together by snap rounding to whole metres and the polygons rebuilt from them, so that
    neighbouring polygons share their vertices (a polygon on one side of a nation border gets
    every vertex of the other side's polygons that lies on its boundary), as published
    statistical boundaries do: queen and rook contiguity (:mod:`lcmodel.data.adjacency`) find
    exactly the pairs of polygons that share a boundary point or segment, and the polygons
    tile the map rectangle exactly. Drawing boundaries needs shapely; writing them geopandas
    and pyogrio (the ``spatial`` extra).
Smooth field
    :func:`smooth_field` draws independent Gaussian random fields with exponential covariance
    ``exp(-d / l)`` at the areas' seed points, ``l`` a quarter of the map's width but at least
    three area spacings (4.5 km; :func:`field_length_scale`), by random Fourier features:
    ``f(x) = M^-1/2 sum_m (a_m cos(w_m . x) + b_m sin(w_m . x))`` with ``M = 1000``
    frequencies ``w_m`` drawn from the covariance's spectral density (a bivariate t with one
    degree of freedom, scaled by ``1 / l``), shared by the fields, and coefficients
    ``a_m, b_m ~ N(0, 1)`` of each field's own. Given the frequencies, each value has variance
    exactly 1 and the covariance between two points is the exponential one up to a Monte
    Carlo error of sd at most ``(2M)^-1/2 = 0.022``; the cost is linear in the number of areas
    (no areas x areas matrix: 30,000 areas and ten fields take about 3 seconds) and needs only
    numpy. Each field is then standardised over the areas (mean 0, variance 1), as BYM2's
    scaled, sum-to-zero ICAR field roughly is, and, on maps of at least ten areas per field
    (100 areas for the simulator's ten indicators), the fields are decorrelated over the areas
    (symmetric whitening): independent smooth fields are correlated on one map by chance (ten
    fields on 2,000 areas: typically by 0.1, the most correlated pair of the 45 by about 0.4),
    which would blur the correlations the simulator gives the area effects of different
    indicators.
Small maps
    Both limits keep the fields smooth at the scale of neighbouring areas on small maps.
    Neighbouring seed points are about 1.5-1.7 km apart whatever the map's size; a quarter of
    the width is about three spacings on a map of 200 areas (neighbours' field values
    correlated by about 0.7) but one spacing on the 20 areas of the example data, where the
    fields were barely smoother than noise. And smooth fields vary mostly along the map's few
    large-scale patterns: forcing ten of them apart on 20 areas filled them with area-to-area
    noise (mean Moran's I over the queen neighbours, in 100 draws on the example map: 0.13
    before whitening, 0.03 after). With both limits, the fields of that map have a mean
    Moran's I of about 0.3; the chance correlations between fields that whitening would
    remove are then of the same size as those of the independent part of the effects. On
    maps of 192 areas or more (a quarter of the width is then at least 4.5 km) neither limit
    applies.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lcmodel.errors import LcmodelError
from lcmodel.io.atomic import atomic_file

if TYPE_CHECKING:
    import geopandas
    import pandas as pd
    import shapely

__all__ = [
    "AREA_SPACING",
    "CRS",
    "MapLayout",
    "boundary_frame",
    "field_length_scale",
    "layout_areas",
    "require_spatial",
    "smooth_field",
    "spatial_available",
    "tessellate",
    "write_boundaries",
]

CRS = "EPSG:27700"
"""The coordinate reference system of the map (British National Grid: metres)."""

AREA_SPACING = 1500.0
"""Metres between neighbouring areas' seed points, on average (the side of an area's square)."""

_ORIGIN = (350_000, 350_000)  # the map's south-west corner: easting, northing
_ASPECT = 0.75  # width / height
_JITTER = 0.3  # largest move of a seed point from its grid cell's centre, in cell widths
_LENGTH_SCALE_SHARE = 0.25  # the field's length scale, as a share of the map's width,
_LENGTH_SCALE_SPACINGS = 3.0  # but at least this many area spacings
_WHITEN_POINTS_PER_FIELD = 10  # decorrelate the fields only with this many points per field
_N_FREQUENCIES = 1000
_ROW_BLOCK = 4096  # areas per block when evaluating the fields (bounds memory)
_NATION_ORDER = ("Scotland", "Wales", "England")  # the order regions are filled in
_SPATIAL_MODULES = ("shapely", "geopandas", "pyogrio")


@dataclass(frozen=True, eq=False)
class MapLayout:
    """Where the areas lie: their seed points, the map and each nation's rectangle.

    Attributes
    ----------
    points : numpy.ndarray
        Each area's seed point (easting, northing) in metres, shape ``(n_areas, 2)``, in the
        areas' order.
    bounds : tuple of int
        The map rectangle ``(min_easting, min_northing, max_easting, max_northing)``.
    regions : dict
        Each nation with areas and its rectangle, in the same form as ``bounds``.
    nations : numpy.ndarray
        Each area's nation, in the areas' order.
    """

    points: np.ndarray
    bounds: tuple[int, int, int, int]
    regions: dict[str, tuple[int, int, int, int]]
    nations: np.ndarray

    @property
    def width(self) -> int:
        """The map's width (east-west) in metres."""
        return self.bounds[2] - self.bounds[0]

    @property
    def height(self) -> int:
        """The map's height (north-south) in metres."""
        return self.bounds[3] - self.bounds[1]


def layout_areas(nations: Sequence[str] | np.ndarray, rng: np.random.Generator) -> MapLayout:
    """Place the areas on the map: one rectangle per nation, seed points on a jittered grid.

    Parameters
    ----------
    nations
        Each area's nation (``England``, ``Scotland`` or ``Wales``), in the areas' order.
    rng
        The random generator of the layout (how many draws it takes depends only on the
        nations' numbers of areas).
    """
    nations = np.asarray(nations)
    n = len(nations)
    width = round(AREA_SPACING * math.sqrt(n * _ASPECT))
    height = round(AREA_SPACING * math.sqrt(n / _ASPECT))
    east, north = _ORIGIN
    count = {k: int((nations == k).sum()) for k in _NATION_ORDER}
    border = north + round(height * (1.0 - count["Scotland"] / n))
    south = count["England"] + count["Wales"]
    west = east + (round(width * count["Wales"] / south) if south else 0)
    rectangles = {
        "Scotland": (east, border, east + width, north + height),
        "Wales": (east, north, west, border),
        "England": (west, north, east + width, border),
    }
    points = np.empty((n, 2))
    regions: dict[str, tuple[int, int, int, int]] = {}
    for nation in _NATION_ORDER:
        where = np.flatnonzero(nations == nation)
        if len(where) == 0:
            continue
        regions[nation] = rectangles[nation]
        points[rng.permutation(where)] = _jittered_grid(rectangles[nation], len(where), rng)
    bounds = (east, north, east + width, north + height)
    return MapLayout(points=points, bounds=bounds, regions=regions, nations=nations)


def _jittered_grid(
    rectangle: tuple[int, int, int, int], m: int, rng: np.random.Generator
) -> np.ndarray:
    """``m`` points in ``rectangle``: jittered centres of ``m`` random cells of a grid."""
    x0, y0, x1, y1 = rectangle
    width, height = x1 - x0, y1 - y0
    cols = min(m, max(1, round(math.sqrt(m * width / height))))
    rows = math.ceil(m / cols)
    cells = np.sort(rng.choice(rows * cols, size=m, replace=False))
    row, col = np.divmod(cells, cols)
    jitter = rng.uniform(-_JITTER, _JITTER, size=(m, 2))
    return np.column_stack(
        [
            x0 + (col + 0.5 + jitter[:, 0]) * width / cols,
            y0 + (row + 0.5 + jitter[:, 1]) * height / rows,
        ]
    )


def tessellate(layout: MapLayout) -> np.ndarray:
    """Each area's polygon: its seed point's Voronoi cell within its nation's rectangle.

    Parameters
    ----------
    layout
        The areas' seed points and the nations' rectangles (:func:`layout_areas`).

    Returns
    -------
    numpy.ndarray
        One shapely ``Polygon`` per area, in the areas' order, with whole-metre coordinates;
        neighbouring polygons share their boundary vertices, and together they tile the map
        rectangle.

    Raises
    ------
    LcmodelError
        If shapely is not installed.
    """
    require_spatial("area boundaries")
    import shapely

    cells = np.empty(len(layout.points), dtype=object)
    for nation, rectangle in layout.regions.items():
        where = np.flatnonzero(layout.nations == nation)
        cells[where] = _voronoi_cells(layout.points[where], shapely.box(*rectangle))
    return _snap_rounded(cells, layout.points)


def _voronoi_cells(points: np.ndarray, rectangle: shapely.Polygon) -> np.ndarray:
    """The Voronoi cells of ``points`` clipped to ``rectangle``, in the points' order."""
    import shapely

    if len(points) == 1:
        return np.array([rectangle], dtype=object)
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=rectangle)
    return shapely.intersection(_by_seed(shapely.get_parts(diagram), points), rectangle)


def _snap_rounded(cells: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The cells rebuilt from their boundaries noded together on the whole-metre grid.

    Cells of different nations meet along a straight border at different points, and cells
    of one nation may hold a shared vertex to slightly different last digits; snap rounding
    all boundaries at once (GEOS, grid size 1 metre) and rebuilding the faces gives every
    polygon each vertex of its neighbours that lies on its boundary, at the same whole-metre
    coordinates, as contiguity by shared vertices needs.
    """
    import shapely

    lines = shapely.union_all(shapely.boundary(cells), grid_size=1.0)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    if len(faces) != len(points):
        raise RuntimeError("noding the area boundaries did not give one face per area")
    return shapely.normalize(_by_seed(faces, points))


def _by_seed(polygons: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``polygons`` in the order of the ``points`` they hold, one each (or a RuntimeError)."""
    import shapely

    seed, found = shapely.STRtree(polygons).query(shapely.points(points), predicate="within")
    if len(seed) != len(points) or len(np.unique(seed)) != len(points):
        raise RuntimeError("the polygons do not hold the seed points one each")
    ordered = np.empty(len(points), dtype=object)
    ordered[seed] = polygons[found]
    return ordered


def boundary_frame(areas: pd.DataFrame, layout: MapLayout) -> geopandas.GeoDataFrame:
    """The areas' polygons as a GeoDataFrame: ``area``, ``name``, ``nation``, ``geometry``.

    Parameters
    ----------
    areas
        The areas table (``area``, ``name``, ``nation``, ...), in the layout's order.
    layout
        Where the areas lie (:func:`layout_areas`).
    """
    require_spatial("area boundaries")
    import geopandas

    columns = areas[["area", "name", "nation"]].reset_index(drop=True)
    return geopandas.GeoDataFrame(columns, geometry=tessellate(layout), crs=CRS)


def write_boundaries(path: str | Path, frame: geopandas.GeoDataFrame) -> None:
    """Write ``frame`` as GeoJSON at ``path``, atomically (pyogrio engine).

    Parameters
    ----------
    path
        The file to write (its folder must exist); its name without suffix names the layer.
    frame
        The boundaries (:func:`boundary_frame`).
    """
    require_spatial("area boundaries")
    path = Path(path)
    with atomic_file(path) as staging:
        frame.to_file(staging, driver="GeoJSON", engine="pyogrio", layer=path.stem)


def smooth_field(
    points: np.ndarray,
    n_fields: int,
    length_scale: float,
    rng: np.random.Generator,
    *,
    n_frequencies: int = _N_FREQUENCIES,
) -> np.ndarray:
    """Independent smooth Gaussian fields at ``points``, each standardised over the points.

    Exponential covariance ``exp(-d / length_scale)`` by random Fourier features (see the
    module docstring).

    Parameters
    ----------
    points
        Locations, shape ``(n, 2)``, in the units of ``length_scale``.
    n_fields
        How many independent fields.
    length_scale
        The covariance's length scale.
    rng
        The random generator of the fields.
    n_frequencies
        Random frequencies shared by the fields.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, n_fields)``; each column has mean 0 and variance 1 over the points (for
        ``n >= 2``), and the columns are uncorrelated over them when there are at least ten
        points per field (``n >= 10 * n_fields``; on fewer, forcing smooth fields apart would
        make them rough, see the module docstring).
    """
    # the exponential covariance's spectral density in two dimensions, (1 + l^2 |w|^2)^(-3/2),
    # is that of a bivariate t with one degree of freedom, scaled by 1 / l: z / (l |g|)
    scale = length_scale * np.abs(rng.standard_normal((n_frequencies, 1)))
    frequencies = rng.standard_normal((n_frequencies, 2)) / scale
    cos_weight = rng.standard_normal((n_frequencies, n_fields))
    sin_weight = rng.standard_normal((n_frequencies, n_fields))
    centred = points - points.mean(axis=0)
    field = np.empty((len(points), n_fields))
    for start in range(0, len(points), _ROW_BLOCK):
        phase = centred[start : start + _ROW_BLOCK] @ frequencies.T
        field[start : start + _ROW_BLOCK] = np.cos(phase) @ cos_weight + np.sin(phase) @ sin_weight
    field -= field.mean(axis=0)
    spread = field.std(axis=0)
    field /= np.where(spread > 0, spread, 1.0)
    if len(points) >= _WHITEN_POINTS_PER_FIELD * n_fields:
        # decorrelate the fields over the points (symmetric whitening, which moves each field
        # least): independent smooth fields are correlated on one map by chance, by up to
        # about 0.4 among ten fields on 2,000 areas
        values, vectors = np.linalg.eigh(field.T @ field / len(points))
        if values.min() > 1e-8:
            field = field @ (vectors / np.sqrt(values)) @ vectors.T
    return field


def field_length_scale(layout: MapLayout) -> float:
    """The smooth field's length scale on ``layout``, in metres.

    A quarter of the map's width, but at least three area spacings (``3 * AREA_SPACING``,
    4.5 km), so that neighbouring areas' fields are correlated on small maps too (see the
    module docstring); the limit applies to maps of under 192 areas.

    Parameters
    ----------
    layout
        Where the areas lie (:func:`layout_areas`).
    """
    return max(_LENGTH_SCALE_SHARE * layout.width, _LENGTH_SCALE_SPACINGS * AREA_SPACING)


def spatial_available() -> bool:
    """Whether the optional spatial packages that write area boundaries are installed.

    Checked without importing them (``importlib.util.find_spec``).
    """
    return all(importlib.util.find_spec(name) is not None for name in _SPATIAL_MODULES)


def require_spatial(what: str) -> None:
    """Raise a clear error naming the extra to install when the spatial packages are missing.

    Parameters
    ----------
    what
        What needs them, for the message (``"area boundaries"``).
    """
    missing = [name for name in _SPATIAL_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise LcmodelError(
            f"{what} need the optional spatial packages ({', '.join(missing)} missing); "
            f'install them with pip install "lcmodel[spatial]", or pass geometry=False'
        )
