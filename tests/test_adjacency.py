"""Area neighbourhoods: adjacency tables, boundary files, and ICAR scaling factors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from lcmodel.data.adjacency import Adjacency, load_adjacency, read_adjacency_table
from lcmodel.design.adjacency import icar_precision, icar_scaling_factors, icar_variances
from lcmodel.errors import DataError, SpecError

ROOT = Path(__file__).resolve().parents[1]
AREAS = ["A", "B", "C", "D"]


def write_table(folder: Path, rows: list[tuple], columns: tuple = ("area", "neighbour")) -> Path:
    path = folder / "adjacency.csv"
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


def pairs(adjacency: Adjacency) -> set[tuple[str, str]]:
    names = adjacency.areas
    return {(names[i], names[j]) for i, j in zip(adjacency.node1, adjacency.node2, strict=True)}


def dense_variances(precision: sparse.sparray) -> np.ndarray:
    """The reference: the diagonal of the Moore-Penrose inverse, by eigendecomposition."""
    return np.diag(np.linalg.pinv(precision.toarray(), hermitian=True))


def geometric_mean(values: np.ndarray) -> float:
    return float(np.exp(np.mean(np.log(values))))


# --- adjacency tables -------------------------------------------------------------------------


def test_table_listed_one_way_or_both_is_symmetrised(tmp_path: Path) -> None:
    path = write_table(tmp_path, [("A", "B"), ("B", "A"), ("C", "B"), ("C", "D")])
    adjacency = read_adjacency_table(path, AREAS)
    assert adjacency.areas == ("A", "B", "C", "D")
    assert pairs(adjacency) == {("A", "B"), ("B", "C"), ("C", "D")}
    assert (adjacency.node1 < adjacency.node2).all()
    assert adjacency.neighbour_counts().tolist() == [1, 2, 2, 1]
    assert adjacency.n_components == 1
    assert not adjacency.island.any()
    assert adjacency.weights is None
    matrix = adjacency.matrix()
    assert isinstance(matrix, sparse.csr_array)
    assert (matrix != matrix.T).nnz == 0
    assert matrix.toarray().tolist() == [[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]]
    assert adjacency.source == str(path)
    assert adjacency.contiguity == "table"


def test_table_follows_the_models_area_order(tmp_path: Path) -> None:
    path = write_table(tmp_path, [("A", "B"), ("B", "C"), ("C", "D")])
    adjacency = read_adjacency_table(path, ["D", "C", "B", "A"])
    assert adjacency.areas == ("D", "C", "B", "A")
    assert adjacency.node1.tolist() == [0, 1, 2]
    assert adjacency.node2.tolist() == [1, 2, 3]
    assert pairs(adjacency) == {("D", "C"), ("C", "B"), ("B", "A")}


def test_island_row_and_components(tmp_path: Path) -> None:
    path = write_table(tmp_path, [("A", "B"), ("C", "D"), ("E", None)])
    adjacency = read_adjacency_table(path, [*AREAS, "E"])
    assert adjacency.island.tolist() == [False, False, False, False, True]
    assert adjacency.island_areas == ["E"]
    assert adjacency.component.tolist() == [0, 0, 1, 1, 2]
    assert adjacency.component_sizes().tolist() == [2, 2, 1]
    assert adjacency.matrix()[[4]].nnz == 0
    assert "3 components, 1 island" in repr(adjacency)


def test_numeric_codes_with_an_island_row(tmp_path: Path) -> None:
    """A blank neighbour makes pandas read the codes as floats (102.0); labels stay '102'."""
    path = write_table(tmp_path, [(101, 102), (102, 103), (104, None)])
    assert pd.read_csv(path)["neighbour"].dtype == float
    adjacency = read_adjacency_table(path, ["101", "102", "103", "104"])
    assert pairs(adjacency) == {("101", "102"), ("102", "103")}
    assert adjacency.island_areas == ["104"]


def test_weights(tmp_path: Path) -> None:
    rows = [("A", "B", 2.0), ("B", "A", 2.0), ("B", "C", 0.5), ("D", "C", 1.5)]
    path = write_table(tmp_path, rows, ("area", "neighbour", "weight"))
    adjacency = read_adjacency_table(path, AREAS)
    assert adjacency.weights is not None
    assert adjacency.weights.tolist() == [2.0, 0.5, 1.5]
    assert adjacency.matrix()[0, 1] == adjacency.matrix()[1, 0] == 2.0
    assert adjacency.matrix()[3, 2] == 1.5
    assert adjacency.matrix(weighted=False)[0, 1] == 1.0
    precision = icar_precision(adjacency).toarray()
    assert np.diag(precision).tolist() == [2.0, 2.5, 2.0, 1.5]
    assert np.allclose(precision.sum(axis=1), 0.0)


def test_parquet_table(tmp_path: Path) -> None:
    path = tmp_path / "adjacency.parquet"
    pd.DataFrame({"area": ["A", "B", "C"], "neighbour": ["B", "C", "D"]}).to_parquet(path)
    adjacency = load_adjacency(path, AREAS)
    assert pairs(adjacency) == {("A", "B"), ("B", "C"), ("C", "D")}


@pytest.mark.parametrize(
    ("rows", "areas", "expected"),
    [
        pytest.param(
            [("A", "B"), ("B", "C")],
            [*AREAS, "E"],
            ["'D', 'E'", "(2 of 5)", "appear nowhere", "blank 'neighbour'", "island"],
            id="model-area-missing",
        ),
        pytest.param(
            [("A", "B"), ("B", "Cc"), ("C", "D")],
            AREAS,
            ["['Cc']", "not among the model's areas", "did you mean 'C'?"],
            id="unknown-area",
        ),
        pytest.param(
            [("A", "B"), ("B", "B"), ("C", "D")],
            AREAS,
            ["['B']", "own neighbour", "line 3", "remove those rows"],
            id="self-link",
        ),
        pytest.param(
            [("A", "B"), ("B", "C"), ("A", "B"), ("C", "D")],
            AREAS,
            ["['A-B']", "more than once", "lines 2, 4", "once in each direction"],
            id="duplicate-pair",
        ),
        pytest.param(
            [("A", "B"), ("B", "C"), ("C", "D"), ("A", None)],
            AREAS,
            ["['A']", "island row", "line 5", "also have neighbours"],
            id="island-with-neighbours",
        ),
        pytest.param(
            [("A", "B"), (None, "C"), ("C", "D")],
            AREAS,
            ["column 'area' is blank", "line 3"],
            id="blank-area",
        ),
    ],
)
def test_table_errors(tmp_path: Path, rows: list, areas: list[str], expected: list[str]) -> None:
    path = write_table(tmp_path, rows)
    with pytest.raises(DataError) as caught:
        read_adjacency_table(path, areas)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        pytest.param([1.0, 0.0, 1.0], ["not 0.0", "['B-C']", "line 3"], id="zero"),
        pytest.param([1.0, 1.0, -2.0], ["not -2.0", "['C-D']", "line 4"], id="negative"),
        pytest.param([1.0, None, 1.0], ["not a blank", "['B-C']", "line 3"], id="blank"),
        pytest.param([1.0, "inf", 1.0], ["finite numbers", "not inf", "line 3"], id="infinite"),
    ],
)
def test_bad_weights(tmp_path: Path, weights: list, expected: list[str]) -> None:
    links = [("A", "B"), ("B", "C"), ("C", "D")]
    rows = [(a, b, w) for (a, b), w in zip(links, weights, strict=True)]
    path = write_table(tmp_path, rows, ("area", "neighbour", "weight"))
    with pytest.raises(DataError) as caught:
        read_adjacency_table(path, AREAS)
    message = str(caught.value)
    assert message.startswith(f"{path}: column 'weight' must hold")
    for part in expected:
        assert part in message, message


def test_pair_both_ways_with_different_weights(tmp_path: Path) -> None:
    rows = [("A", "B", 1.0), ("B", "C", 1.0), ("B", "A", 2.0), ("C", "D", 1.0)]
    path = write_table(tmp_path, rows, ("area", "neighbour", "weight"))
    with pytest.raises(DataError) as caught:
        read_adjacency_table(path, AREAS)
    message = str(caught.value)
    assert message.startswith(f"{path}: pair(s) ['A-B'] are listed in both directions")
    assert "(1.0 and 2.0; lines 2, 4)" in message
    assert "one weight" in message


def test_island_row_weight_is_ignored(tmp_path: Path) -> None:
    rows = [("A", "B", 1.0), ("B", "C", 1.0), ("D", None, None)]
    path = write_table(tmp_path, rows, ("area", "neighbour", "weight"))
    adjacency = read_adjacency_table(path, AREAS)
    assert adjacency.island_areas == ["D"]
    assert adjacency.weights is not None
    assert adjacency.weights.tolist() == [1.0, 1.0]


def test_missing_column_suggests_the_name(tmp_path: Path) -> None:
    path = write_table(tmp_path, [("A", "B")], ("area", "neighbor"))
    with pytest.raises(DataError, match=r"did you mean 'neighbor'\?") as caught:
        read_adjacency_table(path, AREAS)
    message = str(caught.value)
    assert message.startswith(f"{path}: column 'neighbour' not found")
    assert "columns present: area, neighbor" in message


def test_the_survey_area_column_may_name_the_key(tmp_path: Path) -> None:
    """As in the areas table, the survey's area column (here 'county') may replace 'area'."""
    path = write_table(tmp_path, [("A", "B"), ("B", "C"), ("D", None)], ("county", "neighbour"))
    adjacency = load_adjacency(path, AREAS, area_column="county")
    assert adjacency.n_pairs == 2 and adjacency.island_areas == ["D"]
    with pytest.raises(DataError, match="survey's area column, 'zone'") as caught:
        load_adjacency(path, AREAS, area_column="zone")
    assert str(caught.value).startswith(f"{path}: column 'area' not found")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="adjacency file not found"):
        load_adjacency(tmp_path / "nowhere.csv", AREAS)


def test_contiguity_is_for_boundary_files(tmp_path: Path) -> None:
    path = write_table(tmp_path, [("A", "B"), ("C", "D")])
    with pytest.raises(SpecError, match="applies to boundary files"):
        load_adjacency(path, AREAS, contiguity="rook")
    with pytest.raises(SpecError, match="did you mean 'queen'"):
        load_adjacency(tmp_path / "map.gpkg", AREAS, contiguity="quen")  # type: ignore[arg-type]


# --- boundary files ---------------------------------------------------------------------------


def square(x: float, y: float) -> object:
    from shapely.geometry import box

    return box(x, y, x + 1, y + 1)


def grid(columns: int, rows: int, prefix: str = "G", x0: float = 0, y0: float = 0) -> dict:
    """Unit squares ``G<col><row>``: a grid whose neighbours are known by construction."""
    return {f"{prefix}{c}{r}": square(x0 + c, y0 + r) for r in range(rows) for c in range(columns)}


def write_boundaries(folder: Path, polygons: dict, suffix: str = ".gpkg", column: str = "zone"):
    geopandas = pytest.importorskip("geopandas")
    pytest.importorskip("libpysal")
    frame = geopandas.GeoDataFrame(
        {column: list(polygons)}, geometry=list(polygons.values()), crs="EPSG:4326"
    )
    path = folder / f"boundaries{suffix}"
    frame.to_file(path, engine="pyogrio")
    return path


def expected_counts(columns: int, rows: int, queen: bool) -> dict[str, int]:
    """Neighbour counts of the grid's squares, counted from the grid's geometry."""
    steps = [(1, 0), (-1, 0), (0, 1), (0, -1)]
    steps += [(1, 1), (1, -1), (-1, 1), (-1, -1)] if queen else []
    return {
        f"G{c}{r}": sum(0 <= c + dc < columns and 0 <= r + dr < rows for dc, dr in steps)
        for r in range(rows)
        for c in range(columns)
    }


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp"])
@pytest.mark.parametrize("contiguity", ["queen", "rook"])
def test_grid_contiguity(tmp_path: Path, suffix: str, contiguity: str) -> None:
    polygons = grid(4, 3)
    path = write_boundaries(tmp_path, polygons, suffix)
    areas = sorted(polygons, reverse=True)  # the model's order, not the file's
    adjacency = load_adjacency(path, areas, area_column="zone", contiguity=contiguity)  # type: ignore[arg-type]
    queen = contiguity == "queen"
    counts = dict(zip(adjacency.areas, adjacency.neighbour_counts().tolist(), strict=True))
    assert counts == expected_counts(4, 3, queen)
    assert adjacency.n_pairs == (29 if queen else 17)
    assert (("G11", "G00") in pairs(adjacency)) is queen  # a diagonal neighbour
    assert ("G10", "G00") in pairs(adjacency)
    assert ("G20", "G00") not in pairs(adjacency)
    assert adjacency.contiguity == contiguity
    assert adjacency.n_components == 1
    assert adjacency.weights is None


def test_island_and_components_from_polygons(tmp_path: Path) -> None:
    polygons = grid(4, 3) | grid(2, 1, prefix="H", x0=10) | {"I": square(20, 20)}
    path = write_boundaries(tmp_path, polygons, ".geojson")
    adjacency = load_adjacency(path, list(polygons), area_column="zone")
    assert adjacency.island_areas == ["I"]
    assert adjacency.n_components == 3
    assert adjacency.component_sizes().tolist() == [12, 2, 1]
    assert adjacency.component[-3:].tolist() == [1, 1, 2]
    factors = icar_scaling_factors(adjacency)
    assert factors[-1] == 1.0
    assert factors[-3:-1] == pytest.approx([0.25, 0.25])  # two areas: +-x, var(x) = 1/4
    assert np.unique(factors[:12]).size == 1


def test_area_in_several_features(tmp_path: Path) -> None:
    """An area split into parts has the neighbours of all its parts, and not itself."""
    geopandas = pytest.importorskip("geopandas")
    pytest.importorskip("libpysal")
    names = ["A", "B", "A", "C"]  # A is two squares, with B between them, then C
    shapes = [square(0, 0), square(1, 0), square(2, 0), square(3, 0)]
    path = tmp_path / "parts.gpkg"
    geopandas.GeoDataFrame({"zone": names}, geometry=shapes, crs="EPSG:4326").to_file(
        path, engine="pyogrio"
    )
    adjacency = load_adjacency(path, ["A", "B", "C"], area_column="zone", contiguity="rook")
    assert pairs(adjacency) == {("A", "B"), ("A", "C")}


@pytest.mark.parametrize(
    ("polygons", "areas", "expected"),
    [
        pytest.param(
            grid(2, 2),
            ["G00", "G10", "G01", "G11", "G20"],
            ["['G20']", "(1 of 5)", "have no polygon", "island"],
            id="model-area-missing",
        ),
        pytest.param(
            grid(2, 2),
            ["G00", "G10", "G01", "G1l"],
            ["['G11']", "not among the model's areas", "did you mean 'G1l'?"],
            id="unknown-area",
        ),
    ],
)
def test_boundary_errors(tmp_path: Path, polygons: dict, areas: list, expected: list) -> None:
    path = write_boundaries(tmp_path, polygons)
    with pytest.raises(DataError) as caught:
        load_adjacency(path, areas, area_column="zone")
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for part in expected:
        assert part in message, message


def test_boundary_area_column_missing(tmp_path: Path) -> None:
    path = write_boundaries(tmp_path, grid(2, 2), column="zones")
    with pytest.raises(DataError) as caught:
        load_adjacency(path, list(grid(2, 2)), area_column="zone")
    message = str(caught.value)
    assert message.startswith(f"{path}: column 'zone' (the survey's area column) not found")
    assert "did you mean 'zones'?" in message


def test_boundary_blank_label_and_wrong_geometry(tmp_path: Path) -> None:
    geopandas = pytest.importorskip("geopandas")
    pytest.importorskip("libpysal")
    from shapely.geometry import Point

    blank = tmp_path / "blank.gpkg"
    frame = geopandas.GeoDataFrame(
        {"zone": ["A", None]}, geometry=[square(0, 0), square(1, 0)], crs=4326
    )
    frame.to_file(blank, engine="pyogrio")
    with pytest.raises(DataError, match=r"column 'zone' is blank in feature\(s\) \[2\]"):
        load_adjacency(blank, ["A"], area_column="zone")
    points = tmp_path / "points.gpkg"
    frame = geopandas.GeoDataFrame(
        {"zone": ["A", "B"]}, geometry=[square(0, 0), Point(5, 5)], crs=4326
    )
    frame.to_file(points, engine="pyogrio")
    with pytest.raises(DataError) as caught:
        load_adjacency(points, ["A", "B"], area_column="zone")
    assert str(caught.value).startswith(f"{points}: area(s) ['B'] (column 'zone') are Point")


def test_boundary_unreadable_or_absent(tmp_path: Path) -> None:
    pytest.importorskip("geopandas")
    broken = tmp_path / "broken.geojson"
    broken.write_text("this is not GeoJSON")
    with pytest.raises(DataError, match=r"broken\.geojson: cannot read boundary file"):
        load_adjacency(broken, AREAS)
    with pytest.raises(DataError, match=r"nowhere\.shp: boundary file not found"):
        load_adjacency(tmp_path / "nowhere.shp", AREAS)


def test_spatial_packages_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "map.gpkg"
    path.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "libpysal", None)  # import libpysal now fails
    with pytest.raises(DataError, match=r'pip install "lcmodel\[spatial\]"'):
        load_adjacency(path, AREAS)


def test_spatial_packages_are_imported_lazily() -> None:
    code = (
        "import lcmodel, lcmodel.data.adjacency, lcmodel.design.adjacency, sys\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = set(done.stdout.split())
    assert "lcmodel.data.adjacency" in loaded
    assert not {"geopandas", "libpysal", "pyogrio", "shapely", "pymc"} & loaded


# --- ICAR scaling factors ---------------------------------------------------------------------


def chain(n: int, *, ring: bool = False, weight: float | None = None) -> Adjacency:
    ends = np.arange(n if ring else n - 1)
    weights = None if weight is None else np.full(len(ends), weight)
    return Adjacency.from_pairs([f"a{i}" for i in range(n)], ends, (ends + 1) % n, weights)


def lattice(rows: int, columns: int, *, queen: bool = False) -> Adjacency:
    at = np.arange(rows * columns).reshape(rows, columns)
    first = [at[:, :-1], at[:-1, :]] + ([at[:-1, :-1], at[:-1, 1:]] if queen else [])
    second = [at[:, 1:], at[1:, :]] + ([at[1:, 1:], at[1:, :-1]] if queen else [])
    return Adjacency.from_pairs(
        [f"a{i}" for i in range(rows * columns)],
        np.concatenate([f.ravel() for f in first]),
        np.concatenate([s.ravel() for s in second]),
    )


def test_path_variances_match_resistance_distances() -> None:
    """On a tree the resistance between areas i and j is |i - j|, and
    diag(Q+)_i = mean_j R_ij - (sum_{j<k} R_jk) / n^2 (Klein and Randic)."""
    n = 7
    i = np.arange(n)
    resistance = np.abs(i[:, None] - i[None, :]).astype(float)
    expected = resistance.mean(axis=1) - resistance.sum() / 2 / n**2
    variances = icar_variances(icar_precision(chain(n)))
    assert variances == pytest.approx(expected, rel=1e-12)
    assert variances == pytest.approx(dense_variances(icar_precision(chain(n))), rel=1e-12)
    assert icar_scaling_factors(chain(3)) == pytest.approx((5 / 9 * 2 / 9 * 5 / 9) ** (1 / 3))


@pytest.mark.parametrize("n", [4, 10, 25])
def test_ring_factor_is_known(n: int) -> None:
    """Every area of a ring of n has variance (n^2 - 1) / (12 n)."""
    factors = icar_scaling_factors(chain(n, ring=True))
    assert factors == pytest.approx(np.full(n, (n**2 - 1) / (12 * n)), rel=1e-12)
    sparse_route = icar_variances(icar_precision(chain(n, ring=True)), dense_limit=0)
    assert sparse_route == pytest.approx(np.full(n, (n**2 - 1) / (12 * n)), rel=1e-10)


@pytest.mark.parametrize("queen", [False, True])
def test_lattice_factor_matches_the_pseudo_inverse(queen: bool) -> None:
    adjacency = lattice(10, 10, queen=queen)
    reference = geometric_mean(dense_variances(icar_precision(adjacency)))
    factors = icar_scaling_factors(adjacency)
    assert factors == pytest.approx(np.full(100, reference), rel=1e-12)
    if not queen:
        assert reference == pytest.approx(0.64488, abs=1e-5)  # the documented figure


def test_scaled_field_has_unit_geometric_mean_variance() -> None:
    adjacency = lattice(6, 9, queen=True)
    factor = icar_scaling_factors(adjacency)[0]
    scaled = factor * icar_precision(adjacency)
    assert geometric_mean(dense_variances(scaled)) == pytest.approx(1.0, rel=1e-12)
    assert geometric_mean(dense_variances(icar_precision(adjacency))) != pytest.approx(1.0)


@pytest.mark.parametrize(
    "adjacency",
    [
        pytest.param(lattice(30, 40), id="rook-30x40"),
        pytest.param(lattice(25, 20, queen=True), id="queen-25x20"),
    ],
)
def test_sparse_and_dense_routes_agree(adjacency: Adjacency) -> None:
    precision = icar_precision(adjacency)
    dense = icar_variances(precision, dense_limit=adjacency.n_areas)
    by_factor = icar_variances(precision, dense_limit=0)
    assert by_factor == pytest.approx(dense, rel=1e-10)
    assert by_factor == pytest.approx(dense_variances(precision), rel=1e-10)


def test_sparse_route_on_an_irregular_weighted_map() -> None:
    """Random points joined to their near neighbours, with random weights (not a lattice)."""
    rng = np.random.default_rng(7)
    points = rng.random((300, 2))
    distance = np.linalg.norm(points[:, None] - points[None, :], axis=2)
    near = np.argsort(distance, axis=1)[:, 1:4]
    first, second = np.repeat(np.arange(300), 3), near.ravel()
    key = np.unique(np.stack([np.minimum(first, second), np.maximum(first, second)]), axis=1)
    weights = rng.uniform(0.2, 3.0, key.shape[1])
    adjacency = Adjacency.from_pairs([f"a{i}" for i in range(300)], key[0], key[1], weights)
    for label in np.flatnonzero(adjacency.component_sizes() >= 2):
        members = np.flatnonzero(adjacency.component == label)
        block = icar_precision(adjacency)[members][:, members]
        reference = dense_variances(block)
        assert icar_variances(block, dense_limit=0) == pytest.approx(reference, rel=1e-9)


def test_components_are_scaled_separately_and_islands_get_one() -> None:
    names = [f"p{i}" for i in range(3)] + [f"r{i}" for i in range(4)] + ["island"]
    first = np.array([0, 1, 3, 4, 5, 6])
    second = np.array([1, 2, 4, 5, 6, 3])
    adjacency = Adjacency.from_pairs(names, first, second)
    factors = icar_scaling_factors(adjacency)
    assert factors[:3] == pytest.approx(np.full(3, icar_scaling_factors(chain(3))[0]))
    assert factors[3:7] == pytest.approx(np.full(4, 15 / 48))  # a ring of 4
    assert factors[7] == 1.0


def test_weights_scale_the_precision() -> None:
    """Doubling every weight doubles the precision and halves the variances."""
    plain = icar_scaling_factors(chain(6, ring=True))
    doubled = icar_scaling_factors(chain(6, ring=True, weight=2.0))
    assert doubled == pytest.approx(plain / 2, rel=1e-12)


def test_variances_need_one_connected_graph() -> None:
    with pytest.raises(ValueError, match="one connected graph"):
        icar_variances(icar_precision(Adjacency.from_pairs(["a", "b", "c"], [0], [1])))
    with pytest.raises(ValueError, match="one connected graph"):
        icar_variances(sparse.csr_array((1, 1)))


def test_pairs_are_checked() -> None:
    with pytest.raises(ValueError, match="once"):
        Adjacency.from_pairs(["a", "b"], [0, 1], [1, 0])
    with pytest.raises(ValueError, match="two different areas"):
        Adjacency.from_pairs(["a", "b"], [0], [0])
