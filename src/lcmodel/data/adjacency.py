"""Area neighbourhoods: which areas border which, the input of spatial area effects.

Read from an **adjacency table** (CSV or Parquet with columns ``area``, ``neighbour`` and an
optional ``weight``) or built from a **boundary file** (GeoJSON, GeoPackage or shapefile; one
polygon per area) by queen contiguity (polygons sharing a boundary point are neighbours, the
default) or rook contiguity (they must share a boundary segment). Either way the result is
checked against the model's areas, here and only here, and held as an :class:`Adjacency`.

Stated treatments
-----------------
- Every area of the model needs a row or a polygon. In a table, an area with no neighbour is
  given one row with a blank ``neighbour`` (an *island row*); an area appearing nowhere is
  missing. In a boundary file, an area whose polygon touches no other is an island.
- Islands and disconnected components are not errors. They are reported on the
  :class:`Adjacency` (``island``, ``component``): an island gets an independent effect, and
  each connected component of two or more areas gets its own sum-to-zero constraint and its
  own scaling factor (:func:`lcmodel.design.adjacency.icar_scaling_factors`).
- A table may list a pair once, in either direction, or once in each direction; the result is
  symmetric. A pair listed twice in the same direction, or in both directions with different
  weights, is an error, as are self links (``area == neighbour``), blank or non-positive
  weights, and an island row for an area that also has neighbours.
- A boundary file may hold an area in several features (an area split into parts): its
  neighbours are those of all its parts.
- Areas in the table or file that the model does not have are an error (with a "did you
  mean" hint): the neighbourhood is of the model's areas, so remove them or add them to the
  areas table.

Reading boundary files needs the optional ``spatial`` extra (``pip install
"lcmodel[spatial]"``: geopandas, pyogrio, libpysal, shapely), imported only when a boundary
file is read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from lcmodel.data.common import AREA, clean_labels
from lcmodel.data.survey import numeric_column
from lcmodel.errors import DataError, SpecError, did_you_mean, first_rows, listed, shown
from lcmodel.io.tables import read_table

if TYPE_CHECKING:
    from geopandas import GeoDataFrame
    from scipy import sparse

__all__ = [
    "BOUNDARY_SUFFIXES",
    "CONTIGUITY",
    "NEIGHBOUR",
    "WEIGHT",
    "Adjacency",
    "boundary_file",
    "boundary_record",
    "file_hash",
    "load_adjacency",
    "load_boundaries",
    "read_adjacency_table",
    "read_boundaries",
]

NEIGHBOUR = "neighbour"
"""The adjacency table's column of neighbouring areas (its other key column is ``area``)."""

WEIGHT = "weight"
"""The adjacency table's optional column of positive link weights."""

CONTIGUITY = ("queen", "rook")
"""How neighbours are found from polygons: a shared boundary point (queen) or segment (rook)."""

BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")
"""File suffixes read as boundary files; any other file is read as an adjacency table."""

_SPATIAL_MODULES = ("geopandas", "pyogrio", "libpysal", "shapely")
_ISLAND_HINT = (
    "give it one row with a blank 'neighbour' to state that it is an island (it then gets an "
    "independent effect)"
)


@dataclass(frozen=True, eq=False, repr=False)
class Adjacency:
    """The neighbourhood graph of the model's areas: undirected, without self links.

    Attributes
    ----------
    areas
        The area labels, in the model's order; every other attribute is in this order.
    node1, node2
        The neighbouring pairs as positions in ``areas``: ``node1[k] < node2[k]``, each pair
        once, sorted.
    weights
        Each pair's positive weight, or ``None`` when the links are unweighted (all 1).
    component
        Each area's connected component, numbered from 0 in order of the areas' first
        appearance; an island is a component of its own.
    island
        Whether each area has no neighbour.
    source
        The file the neighbourhood came from (for messages and run records).
    contiguity
        How it was found: ``"table"`` (listed), ``"queen"`` or ``"rook"`` (from polygons).
    """

    areas: tuple[str, ...]
    node1: np.ndarray
    node2: np.ndarray
    weights: np.ndarray | None
    component: np.ndarray
    island: np.ndarray
    source: str
    contiguity: str

    @classmethod
    def from_pairs(
        cls,
        areas: Sequence[str],
        node1: np.ndarray,
        node2: np.ndarray,
        weights: np.ndarray | None = None,
        *,
        source: str = "",
        contiguity: str = "table",
    ) -> Adjacency:
        """Build the graph from validated pairs of area positions.

        Parameters
        ----------
        areas
            The area labels, in the model's order.
        node1, node2
            Positions in ``areas`` of each neighbouring pair: distinct, each unordered pair
            once (in either order).
        weights
            Each pair's positive weight, or ``None`` for unweighted links.
        source, contiguity
            Where the pairs came from (see the class attributes).
        """
        n = len(areas)
        first = np.asarray(node1, dtype=np.int64)
        second = np.asarray(node2, dtype=np.int64)
        low, high = np.minimum(first, second), np.maximum(first, second)
        if len(low) and (low.min() < 0 or high.max() >= n or (low == high).any()):
            raise ValueError("pairs must join two different areas, by position in 'areas'")
        order = np.lexsort((high, low))
        low, high = low[order], high[order]
        if len(low) > 1 and ((np.diff(low) == 0) & (np.diff(high) == 0)).any():
            raise ValueError("each pair of areas must be given once")
        weight = None if weights is None else np.asarray(weights, dtype=float)[order]
        from scipy import sparse  # lazily, as every scipy module here: input errors stay quick
        from scipy.sparse.csgraph import connected_components

        graph = sparse.coo_array((np.ones(len(low)), (low, high)), shape=(n, n)).tocsr()
        _, component = connected_components(graph, directed=False)
        counts = np.bincount(low, minlength=n) + np.bincount(high, minlength=n)
        return cls(
            areas=tuple(str(a) for a in areas),
            node1=low,
            node2=high,
            weights=weight,
            component=component.astype(np.int64),
            island=counts == 0,
            source=source,
            contiguity=contiguity,
        )

    @property
    def n_areas(self) -> int:
        """How many areas the graph has."""
        return len(self.areas)

    @property
    def n_pairs(self) -> int:
        """How many neighbouring pairs (undirected links) the graph has."""
        return len(self.node1)

    @property
    def n_components(self) -> int:
        """How many connected components, islands included."""
        return int(self.component.max()) + 1 if self.n_areas else 0

    @property
    def island_areas(self) -> list[str]:
        """The labels of the areas without a neighbour."""
        return [a for a, alone in zip(self.areas, self.island, strict=True) if alone]

    def summary(self) -> dict[str, object]:
        """What a result records about the neighbourhood: file, contiguity and its shape."""
        return {
            "file": self.source,
            "contiguity": self.contiguity,
            "pairs": self.n_pairs,
            "components": self.n_components,
            "islands": self.island_areas,
        }

    def neighbour_counts(self) -> np.ndarray:
        """Each area's number of neighbours."""
        n = self.n_areas
        return np.bincount(self.node1, minlength=n) + np.bincount(self.node2, minlength=n)

    def component_sizes(self) -> np.ndarray:
        """Each component's number of areas (indexed by component number)."""
        return np.bincount(self.component, minlength=self.n_components)

    def matrix(self, *, weighted: bool = True) -> sparse.csr_array:
        """The symmetric adjacency matrix, sparse (areas x areas, in the order of ``areas``).

        Parameters
        ----------
        weighted
            Use the pairs' weights (when there are any); otherwise every link is 1.
        """
        values = self.weights if weighted and self.weights is not None else None
        values = np.ones(self.n_pairs) if values is None else values
        rows = np.concatenate([self.node1, self.node2])
        cols = np.concatenate([self.node2, self.node1])
        shape = (self.n_areas, self.n_areas)
        from scipy import sparse

        return sparse.coo_array((np.concatenate([values, values]), (rows, cols)), shape).tocsr()

    def __repr__(self) -> str:
        def counted(n: int, noun: str) -> str:
            return f"{n} {noun}{'' if n == 1 else 's'}"

        return (
            f"Adjacency({counted(self.n_areas, 'area')}, {counted(self.n_pairs, 'pair')}, "
            f"{counted(self.n_components, 'component')}, "
            f"{counted(int(self.island.sum()), 'island')}; {self.contiguity} from "
            f"{self.source or 'pairs'})"
        )


def load_adjacency(
    path: str | Path,
    areas: Sequence[str],
    *,
    area_column: str = AREA,
    contiguity: Literal["queen", "rook"] | None = None,
) -> Adjacency:
    """Read the neighbourhood of the model's areas from a boundary file or adjacency table.

    Parameters
    ----------
    path
        A boundary file (suffix in :data:`BOUNDARY_SUFFIXES`) or an adjacency table (CSV or
        Parquet).
    areas
        The model's area labels, in the model's order.
    area_column
        The boundary file's column naming each area (the survey's area column).
    contiguity
        ``"queen"`` (the default for boundary files) or ``"rook"``; only for boundary files,
        since a table lists its neighbours.

    Raises
    ------
    DataError
        When the file fails validation (see the module's stated treatments).
    SpecError
        When ``contiguity`` is unknown, or given for an adjacency table.
    """
    path = Path(path)
    if path.suffix.lower() in BOUNDARY_SUFFIXES:
        return read_boundaries(path, areas, area_column, contiguity=contiguity or "queen")
    if contiguity is not None:
        raise SpecError(
            f"{path}: contiguity = {shown(contiguity)} applies to boundary files "
            f"({', '.join(BOUNDARY_SUFFIXES)}); an adjacency table lists its neighbours, so "
            f"drop the contiguity setting"
        )
    return read_adjacency_table(path, areas, area_column)


def read_adjacency_table(
    path: str | Path, areas: Sequence[str], area_column: str = AREA
) -> Adjacency:
    """Read and validate an adjacency table: one row per neighbouring pair.

    Parameters
    ----------
    path
        CSV or Parquet file with columns ``area`` (or the survey's area column, as in the areas
        table) and ``neighbour`` and, optionally, ``weight`` (positive numbers). A row with a
        blank ``neighbour`` states that its area is an island.
    areas
        The model's area labels, in the model's order.
    area_column
        The survey's area column (``structure.area``), accepted in place of ``area``.
    """
    source = str(path)
    order = _model_areas(areas)
    frame = read_table(path, "adjacency").reset_index(drop=True)
    if AREA not in frame.columns and area_column in frame.columns:
        frame = frame.rename(columns={area_column: AREA})
    columns = [AREA, NEIGHBOUR] + ([WEIGHT] if WEIGHT in frame.columns else [])
    for column in columns:
        if column not in frame.columns:
            raise DataError(
                f"{source}: column '{column}' not found{did_you_mean(column, frame.columns)}; "
                f"columns present: {', '.join(map(str, frame.columns))}. An adjacency table "
                f"has columns '{AREA}' (or the survey's area column"
                f"{'' if area_column == AREA else f', {shown(area_column)}'}) and "
                f"'{NEIGHBOUR}' (and optionally '{WEIGHT}'), one row per pair of neighbouring "
                f"areas."
            )
    area = _labels(frame[AREA])
    neighbour = _labels(frame[NEIGHBOUR])
    if area.isna().any():
        rows = list(np.flatnonzero(area.isna().to_numpy()))
        raise DataError(
            f"{source}: column '{AREA}' is blank ({first_rows(rows)}); every row names an area "
            f"(a row with a blank '{NEIGHBOUR}' states that its area is an island)."
        )
    link = neighbour.notna().to_numpy()
    pairs = _pair_names(area, neighbour)
    weight = _table_weights(frame, link, pairs, source) if WEIGHT in frame.columns else None
    _check_known(pd.concat([area, neighbour[link]]), order, source)
    own = (area == neighbour).fillna(False).to_numpy()
    if own.any():
        rows = list(np.flatnonzero(own))
        raise DataError(
            f"{source}: area(s) {listed(area[own].unique())} are listed as their own "
            f"neighbour ({first_rows(rows)}); an area cannot neighbour itself: remove those "
            f"rows."
        )
    repeated = pd.DataFrame({"a": area, "b": neighbour}).duplicated(keep=False).to_numpy()
    if repeated.any():
        rows = list(np.flatnonzero(repeated))
        raise DataError(
            f"{source}: row(s) {listed(pairs[repeated].unique())} appear more than once "
            f"({first_rows(rows)}); list each pair once, or once in each direction."
        )
    linked = set(area[link]) | set(neighbour[link])
    alone = ~link & area.isin(linked).to_numpy()
    if alone.any():
        rows = list(np.flatnonzero(alone))
        raise DataError(
            f"{source}: area(s) {listed(area[alone])} have an island row (a blank "
            f"'{NEIGHBOUR}', {first_rows(rows)}) but also have neighbours; remove the island "
            f"row, or the rows that give the neighbours."
        )
    present = linked | set(area)
    absent = [a for a in order if a not in present]
    if absent:
        raise DataError(
            f"{source}: area(s) {listed(absent)} of the model ({len(absent)} of {len(order)}) "
            f"appear nowhere in the adjacency table; every area needs a row: list its "
            f"neighbours, or {_ISLAND_HINT}."
        )
    position = pd.Series(np.arange(len(order)), index=pd.Index(order))
    first = position[area[link]].to_numpy()
    second = position[neighbour[link]].to_numpy()
    values = None if weight is None else weight[link]
    low, high = np.minimum(first, second), np.maximum(first, second)
    standardised = values is not None and bool(
        np.allclose(pd.Series(values).groupby(first).sum(), 1.0, atol=1e-5)
    )
    keep = _symmetric_pairs(
        low, high, values, pairs[link].to_numpy(), np.flatnonzero(link), source, standardised
    )
    return Adjacency.from_pairs(
        order,
        low[keep],
        high[keep],
        None if values is None else values[keep],
        source=source,
        contiguity="table",
    )


def read_boundaries(
    path: str | Path,
    areas: Sequence[str],
    area_column: str,
    *,
    contiguity: Literal["queen", "rook"] = "queen",
) -> Adjacency:
    """Build the neighbourhood of the model's areas from a boundary file, by contiguity.

    Parameters
    ----------
    path
        A GeoJSON, GeoPackage or shapefile of the areas' polygons (read with geopandas'
        ``pyogrio`` engine; a GeoPackage's first layer).
    areas
        The model's area labels, in the model's order.
    area_column
        The file's column naming each area (the survey's area column).
    contiguity
        ``"queen"``: polygons sharing at least one boundary point are neighbours;
        ``"rook"``: they must share a boundary segment. Both compare the polygons' vertices,
        so neighbouring boundaries must be digitised with shared vertices.
    """
    source = str(path)
    if contiguity not in CONTIGUITY:
        raise SpecError(
            f"contiguity must be one of {listed(CONTIGUITY)}, not {shown(contiguity)}"
            f"{did_you_mean(str(contiguity), CONTIGUITY)}"
        )
    order = _model_areas(areas)
    _require_file(path, source)
    geopandas, weights = _spatial(source)
    assert weights is not None
    frame, label = _boundary_frame(path, area_column, source, geopandas)
    _check_known(label, order, source)
    _check_covered(label, order, area_column, source)
    rule = weights.Queen if contiguity == "queen" else weights.Rook
    found = rule.from_dataframe(frame, use_index=False, silence_warnings=True)
    feature1 = [i for i, near in found.neighbors.items() for _ in near]
    feature2 = [j for near in found.neighbors.values() for j in near]
    position = pd.Series(np.arange(len(order)), index=pd.Index(order))
    of_feature = position[label].to_numpy()
    first = of_feature[np.asarray(feature1, dtype=np.int64)]
    second = of_feature[np.asarray(feature2, dtype=np.int64)]
    distinct = first != second  # parts of one area are not its neighbours
    pairs = np.unique(
        np.stack([np.minimum(first, second), np.maximum(first, second)])[:, distinct], axis=1
    )
    return Adjacency.from_pairs(
        order, pairs[0], pairs[1], source=source, contiguity=str(contiguity)
    )


def load_boundaries(
    boundaries: str | Path | GeoDataFrame, areas: Sequence[str], area_column: str = AREA
) -> GeoDataFrame:
    """The areas' polygons for maps, checked against the areas that have estimates.

    The same reader and checks as :func:`read_boundaries` (the area column, its labels, one
    polygon or multipolygon per feature), except that areas the file has and ``areas`` does
    not are kept: a map draws them as areas without an estimate.

    Parameters
    ----------
    boundaries
        A boundary file (suffix in :data:`BOUNDARY_SUFFIXES`) or a ``GeoDataFrame``.
    areas
        The areas that have estimates; each needs a polygon.
    area_column
        The column naming each feature's area (the spec's area column).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per feature (an area split into parts has several), in the file's order, with
        columns ``area`` (the cleaned label) and ``geometry``.

    Raises
    ------
    DataError
        When the file cannot be read or fails a check, when an area of ``areas`` has no
        polygon, or when the spatial packages are missing.
    """
    order = _model_areas(areas)
    if isinstance(boundaries, str | Path):
        source = str(boundaries)
        if Path(boundaries).suffix.lower() not in BOUNDARY_SUFFIXES:
            raise DataError(
                f"{source}: not a boundary file (a map needs polygons: "
                f"{', '.join(BOUNDARY_SUFFIXES)})"
            )
        _require_file(boundaries, source)
        geopandas, _ = _spatial(source, neighbours=False)
        frame, label = _boundary_frame(boundaries, area_column, source, geopandas)
    else:
        source = "the boundaries given (a GeoDataFrame)"
        frame, label = _checked_frame(boundaries, area_column, source)
    _check_covered(label, order, area_column, source, why="to be drawn on the map")
    geometry = frame.geometry
    return type(frame)({AREA: label.to_numpy()}, geometry=geometry.to_numpy(), crs=frame.crs)


def boundary_file(boundaries: Path | None, adjacency: Path | None) -> Path | None:
    """The boundary file maps use: ``boundaries``, else ``adjacency`` when it is a boundary file.

    Parameters
    ----------
    boundaries, adjacency
        A spec's ``boundaries`` and ``adjacency`` settings.
    """
    if boundaries is not None:
        return boundaries
    if adjacency is not None and adjacency.suffix.lower() in BOUNDARY_SUFFIXES:
        return adjacency
    return None


def boundary_record(
    boundaries: Path | None,
    adjacency: Path | None,
    areas: Sequence[str],
    area_column: str,
) -> dict[str, str] | None:
    """What a result records of the boundary file its maps use: absolute path and SHA-256.

    A ``boundaries`` file is read and checked here (every area has a polygon), so that a fit
    fails before sampling, not when its map is drawn; an ``adjacency`` boundary file has been
    checked as the neighbourhood already.

    Parameters
    ----------
    boundaries, adjacency
        A spec's ``boundaries`` and ``adjacency`` settings (resolved paths).
    areas
        The model's areas.
    area_column
        The boundary file's area column (the spec's area column).

    Returns
    -------
    dict or None
        ``{"file": <absolute path>, "sha256": <hash of its bytes>}``, or ``None`` when the spec
        names no boundary file.
    """
    path = boundary_file(boundaries, adjacency)
    if path is None:
        return None
    if boundaries is not None and boundaries != adjacency:
        load_boundaries(boundaries, areas, area_column)
    return {"file": str(Path(path).resolve()), "sha256": file_hash(path)}


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes (a result records its boundary file's, to notice a change)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _require_file(path: str | Path, source: str) -> None:
    """A boundary file exists (checked before the spatial packages are imported)."""
    if not Path(path).is_file():
        raise DataError(f"{source}: boundary file not found; check the path")


def _boundary_frame(
    path: str | Path, area_column: str, source: str, geopandas: ModuleType
) -> tuple[GeoDataFrame, pd.Series]:
    """Read a boundary file and check it (see :func:`_checked_frame`)."""
    try:
        frame = geopandas.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio and GDAL raise many kinds; all mean "cannot read"
        raise DataError(f"{source}: cannot read boundary file: {exc}") from None
    return _checked_frame(frame, area_column, source)


def _checked_frame(
    frame: GeoDataFrame, area_column: str, source: str
) -> tuple[GeoDataFrame, pd.Series]:
    """Features with the area column, a label each and a polygon each; and their labels."""
    if frame.empty:
        raise DataError(f"{source}: boundary file has no features; it needs one per area")
    if area_column not in frame.columns:
        present = [str(c) for c in frame.columns if c != frame.geometry.name]
        raise DataError(
            f"{source}: column '{area_column}' (the survey's area column) not found"
            f"{did_you_mean(area_column, present)}; columns present: {', '.join(present)}. "
            f"The boundary file names each polygon's area in that column."
        )
    frame = frame.reset_index(drop=True)
    label = _labels(frame[area_column])
    if label.isna().any():
        features = np.flatnonzero(label.isna().to_numpy()) + 1
        raise DataError(
            f"{source}: column '{area_column}' is blank in feature(s) {listed(features)}; "
            f"every polygon needs its area's label."
        )
    _check_polygons(frame, label, area_column, source)
    return frame, label


def _check_covered(
    label: pd.Series,
    order: list[str],
    area_column: str,
    source: str,
    why: str = "",
) -> None:
    """Every area of ``order`` has a polygon."""
    labelled = set(label)
    absent = [a for a in order if a not in labelled]
    if not absent:
        return
    if why:
        raise DataError(
            f"{source}: area(s) {listed(absent)} ({len(absent)} of {len(order)} areas with "
            f"estimates) have no polygon in column '{area_column}'; every area {why} needs "
            f"one: use a "
            f"boundary file of all the areas, or check that column '{area_column}' holds the "
            f"same codes as the estimates' areas."
        )
    raise DataError(
        f"{source}: area(s) {listed(absent)} of the model ({len(absent)} of {len(order)}) "
        f"have no polygon in the boundary file; every area needs one (an area whose "
        f"polygon touches no other is an island), so add them or use a boundary file of "
        f"all the model's areas."
    )


def _spatial(source: str, *, neighbours: bool = True) -> tuple[ModuleType, ModuleType | None]:
    """The modules that read boundaries, imported on first use: ``import lcmodel`` stays light.

    ``neighbours=False`` (maps): libpysal, which finds neighbours, is not needed.
    """
    try:
        import geopandas
        import pyogrio  # noqa: F401  (geopandas reads with it: engine="pyogrio")

        weights = None
        if neighbours:
            from libpysal import weights
    except ImportError as exc:
        raise DataError(
            f"{source}: reading a boundary file needs the optional spatial packages "
            f"({exc.name or exc} is missing); install them with pip install "
            f'"lcmodel[spatial]", or give an adjacency table instead.'
        ) from None
    return geopandas, weights


def _check_polygons(frame: pd.DataFrame, label: pd.Series, area_column: str, source: str) -> None:
    """Every feature has a polygon or multipolygon."""
    geometry = frame.geometry
    empty = (geometry.isna() | geometry.is_empty).to_numpy()
    if empty.any():
        raise DataError(
            f"{source}: area(s) {listed(label[empty].unique())} (column '{area_column}') have "
            f"an empty geometry; give every area its polygon."
        )
    kind = geometry.geom_type
    wrong = ~kind.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if wrong.any():
        raise DataError(
            f"{source}: area(s) {listed(label[wrong].unique())} (column '{area_column}') are "
            f"{kind[wrong].iloc[0]} features, not polygons; a boundary file holds each area's "
            f"polygon or multipolygon."
        )


def _model_areas(areas: Sequence[str]) -> list[str]:
    """The model's area labels as strings; they come validated, so repeats are a bug."""
    order = [str(a) for a in areas]
    if len(set(order)) != len(order):
        raise ValueError("the model's areas must be distinct labels")
    return order


def _labels(values: pd.Series) -> pd.Series:
    """Area labels as text; codes read as floats because of blanks (``101.0``) lose ``.0``."""
    if pd.api.types.is_float_dtype(values):
        known = values.dropna()
        if (known == np.round(known)).all():
            values = values.astype("Int64")
    return clean_labels(values)


def _pair_names(area: pd.Series, neighbour: pd.Series) -> pd.Series:
    """Each row as a message names it: ``'A-B'``, or ``'A'`` for an island row."""
    return (area.fillna("") + ("-" + neighbour).fillna("")).astype(object)


def _table_weights(
    frame: pd.DataFrame, link: np.ndarray, pairs: pd.Series, source: str
) -> np.ndarray:
    """The weight column: positive finite numbers on every link row (island rows ignored)."""
    fix = "Give every pair a positive weight, or drop the weight column for unweighted links."
    weight = numeric_column(frame[WEIGHT], WEIGHT, source, fix).to_numpy()
    bad = link & ~(weight > 0)  # blank (NaN) fails too
    if bad.any():
        rows = list(np.flatnonzero(bad))
        raise DataError(
            f"{source}: column '{WEIGHT}' must hold positive weights, not "
            f"{shown(frame[WEIGHT].iloc[rows[0]])}, for pair(s) {listed(pairs[bad])} "
            f"({first_rows(rows)}). {fix}"
        )
    return weight


def _check_known(labels: pd.Series, order: list[str], source: str) -> None:
    """Every label in the file is one of the model's areas."""
    known = set(order)
    unknown = [a for a in pd.unique(labels) if a not in known]
    if unknown:
        raise DataError(
            f"{source}: area(s) {listed(unknown)} are not among the model's areas"
            f"{did_you_mean(unknown[0], order)}; correct the label, add the area to the areas "
            f"table, or remove it from this file."
        )


def _symmetric_pairs(
    low: np.ndarray,
    high: np.ndarray,
    weight: np.ndarray | None,
    names: np.ndarray,
    rows: np.ndarray,
    source: str,
    standardised: bool = False,
) -> np.ndarray:
    """Which link rows to keep: one per unordered pair.

    A pair listed in both directions is kept once; with different weights it is an error.
    ``names`` and ``rows`` are the link rows' names and file rows, for the message;
    ``standardised`` says that each area's weights sum to 1 (a row-standardised matrix, as
    ``sae::eblupSFH`` takes), which the message then explains.
    """
    index = pd.MultiIndex.from_arrays([low, high])
    repeat = index.duplicated(keep="first")
    if weight is not None and repeat.any():
        first = pd.Series(weight[~repeat], index=index[~repeat])
        other = first.reindex(index[repeat]).to_numpy()
        clash = other != weight[repeat]
        if clash.any():
            bad = index.isin(index[repeat][clash])
            raise DataError(
                f"{source}: pair(s) {listed(names[bad & ~repeat])} are listed in both "
                f"directions with different weights ({shown(other[clash][0])} and "
                f"{shown(weight[repeat][clash][0])}; {first_rows(list(rows[bad]))}); a "
                f"neighbourhood is symmetric: give each pair one weight."
                + (
                    " Each area's weights sum to 1, so these look row-standardised (as a "
                    "proximity matrix for sae::eblupSFH is): lcmodel row-standardises the "
                    "neighbourhood of a SAR area effect itself, so drop the weight column."
                    if standardised
                    else ""
                )
            )
    return ~repeat
