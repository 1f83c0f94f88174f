import importlib.util
import io
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import connected_components
from scipy.special import expit

from lcmodel.cli import main
from lcmodel.data.adjacency import Adjacency, load_adjacency
from lcmodel.data.survey import load_survey_data
from lcmodel.errors import LcmodelError
from lcmodel.io.tables import read_table
from lcmodel.simulate.survey import (
    _AREA_CORRELATION,
    AGE_BANDS,
    NATIONS,
    QUESTIONS,
    SEXES,
    TARGET_SHARES,
    SimulatedSurvey,
    _label_probs,
    _largest_remainder,
    _MeanExpit,
    _population_truth,
    _true_values,
    _wave_runs,
    simulate_survey,
)
from lcmodel.spec import parse_spec

SURVEY_COLUMNS = [
    "respondent_id",
    "area",
    "wave",
    "age_band",
    "sex",
    "weight",
    "speak_neighbours",
    "trust",
    "belonging",
    "collective_efficacy",
    "health",
    "life_satisfaction",
    "worthwhile",
    "happiness",
    "anxiety",
    "services",
]
TABLES = ("survey", "areas", "benchmarks", "truth", "population")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sim() -> SimulatedSurvey:
    return simulate_survey()


def expected_quantities(column: str) -> list[str]:
    question = QUESTIONS[column]
    if question.kind == "binary":
        return ["share"]
    names = [f"share:{label}" for label in question.labels]
    return [*names, "mean"] if question.kind == "scale" else names


def test_survey_columns_and_ids(sim: SimulatedSurvey) -> None:
    survey = sim.survey
    assert list(survey.columns) == SURVEY_COLUMNS
    assert list(QUESTIONS) == SURVEY_COLUMNS[6:]
    assert len(survey) == 2852
    assert survey["respondent_id"].is_unique
    assert survey["respondent_id"].iloc[0] == "R00001"
    assert survey["respondent_id"].str.fullmatch(r"R\d{5}").all()
    assert set(survey["age_band"]) <= set(AGE_BANDS)
    assert set(survey["sex"]) <= set(SEXES)
    assert survey["wave"].between(1, 6).all()
    assert not survey[SURVEY_COLUMNS[:6]].isna().any().any()


def test_deterministic_for_seed() -> None:
    a = simulate_survey(300, 10, 3, seed=7)
    b = simulate_survey(300, 10, 3, seed=7)
    c = simulate_survey(300, 10, 3, seed=8)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.survey.equals(c.survey)
    assert not a.truth.equals(c.truth)


def test_area_sizes(sim: SimulatedSurvey) -> None:
    sizes = sim.survey["area"].value_counts()
    assert sizes.sum() == 2852
    assert sizes.min() >= 5
    assert (sizes < 30).sum() >= 3
    assert (sizes > 300).sum() >= 1
    assert set(sizes.index) == set(sim.areas["area"])


@pytest.mark.parametrize(("n", "k", "seed"), [(100, 20, 1), (5000, 45, 3), (40, 2, 0)])
def test_area_sizes_other_settings(n: int, k: int, seed: int) -> None:
    s = simulate_survey(n, k, 4, seed=seed)
    sizes = s.survey["area"].value_counts()
    assert sizes.sum() == n
    assert sizes.min() >= 5
    assert len(sizes) == k
    assert s.areas["area"].is_unique and s.areas["name"].is_unique
    width = len(str(k)) if k >= 10 else 2
    assert s.areas["area"].str.len().eq(2 + width).all()


def test_areas_table(sim: SimulatedSurvey) -> None:
    areas = sim.areas
    assert list(areas.columns) == ["area", "name", "nation", "deprivation_decile"]
    assert areas["area"].tolist() == [f"LC{i:02d}" for i in range(1, 21)]
    assert areas["name"].is_unique
    assert set(areas["nation"]) == set(NATIONS)
    assert (areas["nation"] == "England").sum() >= 10
    assert areas["deprivation_decile"].between(1, 3).all()


def test_realised_binary_shares_near_targets(sim: SimulatedSurvey) -> None:
    for column, target in TARGET_SHARES.items():
        answers = sim.survey[column].dropna()
        share = answers.isin(QUESTIONS[column].success).mean()
        assert abs(share - target) < 0.02, (column, share)


def test_scale_means_and_health(sim: SimulatedSurvey) -> None:
    means = {c: sim.survey[c].mean() for c in ("life_satisfaction", "worthwhile", "happiness")}
    assert means["life_satisfaction"] == pytest.approx(7.0, abs=0.3)
    assert means["worthwhile"] == pytest.approx(7.4, abs=0.3)
    assert means["happiness"] == pytest.approx(7.0, abs=0.3)
    assert sim.survey["anxiety"].mean() == pytest.approx(3.3, abs=0.3)
    good = sim.survey["health"].isin(["Very good", "Good"])
    by_age = good.groupby(sim.survey["age_band"]).mean()
    assert by_age["16-34"] > by_age["75+"]


def test_missing_rates(sim: SimulatedSurvey) -> None:
    for column in QUESTIONS:
        rate = sim.survey[column].isna().mean()
        assert 0.01 <= rate <= 0.06, (column, rate)
    none_missing = simulate_survey(200, 5, 2, seed=1, missing_rate=0.0)
    assert not none_missing.survey.isna().any().any()


def test_answers_are_known_labels(sim: SimulatedSurvey) -> None:
    for column, question in QUESTIONS.items():
        values = sim.survey[column].dropna()
        if question.kind == "scale":
            assert str(sim.survey[column].dtype) == "Int64"
            assert values.between(0, 10).all()
            assert question.labels == tuple(str(v) for v in range(10, -1, -1))
        else:
            assert set(values) <= set(question.labels), column
            assert len(set(values)) == len(question.labels), column
        if question.kind == "binary":
            assert set(question.success) < set(question.labels)
        else:
            assert question.success == ()


def test_truth_complete_and_coherent(sim: SimulatedSurvey) -> None:
    truth = sim.truth
    assert list(truth.columns) == ["area", "indicator", "quantity", "population", "sample"]
    expected = {
        (area, column, quantity)
        for area in sim.areas["area"]
        for column in QUESTIONS
        for quantity in expected_quantities(column)
    }
    keys = list(zip(truth["area"], truth["indicator"], truth["quantity"], strict=True))
    assert len(keys) == len(set(keys)) == len(expected)
    assert set(keys) == expected
    shares = truth[truth["quantity"].str.startswith("share")]
    for col in ("population", "sample"):
        assert shares[col].between(0, 1, inclusive="neither").all()
    categories = shares[shares["quantity"] != "share"]
    sums = categories.groupby(["area", "indicator"])[["population", "sample"]].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, atol=1e-9)
    means = truth[truth["quantity"] == "mean"]
    assert means[["population", "sample"]].stack().between(0, 10).all()


def test_truth_mean_matches_category_shares(sim: SimulatedSurvey) -> None:
    truth = sim.truth.set_index(["area", "indicator", "quantity"])
    area = sim.areas["area"].iloc[0]
    shares = np.array([truth.loc[(area, "anxiety", f"share:{v}"), "sample"] for v in range(11)])
    mean = truth.loc[(area, "anxiety", "mean"), "sample"]
    assert mean == pytest.approx(float(shares @ np.arange(11)))


def test_truth_sample_tracks_observed_shares(sim: SimulatedSurvey) -> None:
    # Over all respondents, the average true probability is the calibrated target.
    truth = sim.truth[sim.truth["quantity"] == "share"].set_index(["indicator", "area"])
    sizes = sim.survey.groupby("area").size()
    for column, target in TARGET_SHARES.items():
        per_area = truth.loc[column, "sample"]
        answered = sim.survey.dropna(subset=[column]).groupby("area").size()
        overall = (per_area * answered).sum() / answered.sum()
        assert overall == pytest.approx(target, abs=0.01)
        assert sizes.index.equals(per_area.index)


def test_population_frame(sim: SimulatedSurvey) -> None:
    pop = sim.population
    assert list(pop.columns) == ["area", "age_band", "sex", "count"]
    assert pd.api.types.is_integer_dtype(pop["count"])
    assert (pop["count"] > 0).all()
    assert set(sim.survey["area"]) <= set(pop["area"])
    assert len(pop) == 20 * len(AGE_BANDS) * len(SEXES)
    totals = pop.groupby("area")["count"].sum()
    assert totals.between(1_500, 12_000).all()


def test_weights(sim: SimulatedSurvey) -> None:
    weight = sim.survey["weight"]
    assert (weight > 0).all()
    np.testing.assert_allclose(weight.groupby(sim.survey["area"]).mean(), 1.0, rtol=1e-12)
    assert weight.std() > 0.05
    # older people are over-represented, so they are weighted down
    by_age = weight.groupby(sim.survey["age_band"]).mean()
    assert by_age["16-34"] > by_age["75+"]


def test_waves_contiguous(sim: SimulatedSurvey) -> None:
    for _, waves in sim.survey.groupby("area")["wave"]:
        observed = sorted(set(waves))
        assert observed == list(range(observed[0], observed[-1] + 1))


def test_benchmarks(sim: SimulatedSurvey) -> None:
    bench = sim.benchmarks
    assert list(bench.columns) == [
        "indicator",
        "quantity",
        "nation",
        "deprivation",
        "estimate",
        "n",
        "source",
        "year",
    ]
    binary = bench[bench["quantity"] == "share"]
    assert len(binary) == 4 * 3 * 2
    assert set(binary["indicator"]) == set(TARGET_SHARES)
    # every other question has illustrative benchmarks for its published quantities
    others = bench[bench["quantity"] != "share"]
    assert set(others["indicator"]) == set(QUESTIONS) - set(TARGET_SHARES)
    assert others["source"].str.startswith("illustrative").all()
    means = others[others["quantity"] == "mean"]
    assert means["estimate"].between(0, 10).all() and len(means) == 4 * 3 * 2
    assert str(bench["n"].dtype) == "Int64"
    assert (bench["year"] == 2021).all()
    shares = bench[bench["quantity"].str.startswith("share")]
    assert shares["estimate"].between(0, 1, inclusive="neither").all()
    published = bench[bench["n"].isna()].set_index(["indicator", "nation", "deprivation"])
    assert published["estimate"].to_dict() == {
        ("speak_neighbours", "England", "all"): 0.51,
        ("trust", "England", "1-3"): 0.56,
        ("belonging", "England", "all"): 0.62,
        ("collective_efficacy", "England", "all"): 0.54,
    }
    assert (
        published["source"]
        .str.contains(
            "Community Life Survey (England), as reported in the Local Conversations evaluation",
            regex=False,
        )
        .all()
    )
    illustrative = bench[bench["n"].notna()]
    assert illustrative["source"].str.startswith("illustrative").all()
    assert illustrative["n"].between(300, 3000).all()
    for nation, name in [("Scotland", "Scottish Household Survey"), ("Wales", "National Survey")]:
        rows = illustrative[illustrative["nation"] == nation]
        assert rows["source"].str.contains(name).all()
        national = rows[rows["deprivation"] == "all"]["n"].min()
        assert national > rows[rows["deprivation"] == "1-3"]["n"].max()


def test_write_round_trip(sim: SimulatedSurvey, tmp_path) -> None:
    folder = tmp_path / "new" / "data"
    sim.write(folder)
    files = sorted([*(f"{t}.csv" for t in (*TABLES, "area_effects")), "areas.geojson"])
    if sim.boundaries is None:  # without the spatial extra
        files.remove("areas.geojson")
    assert sorted(p.name for p in folder.iterdir()) == files
    for name in (*TABLES, "area_effects"):
        original = getattr(sim, name)
        nullable = {c: "Int64" for c in original.columns if str(original[c].dtype) == "Int64"}
        back = pd.read_csv(folder / f"{name}.csv", dtype=nullable)
        pd.testing.assert_frame_equal(
            back, original, check_dtype=False, check_exact=False, rtol=1e-12
        )
    sim.write(folder)  # overwriting is fine
    assert sorted(p.name for p in folder.iterdir()) == files


def test_area_sd_zero_gives_equal_areas() -> None:
    s = simulate_survey(400, 8, 1, seed=3, area_sd=0.0)
    truth = s.truth[s.truth["quantity"] == "share"].merge(s.areas, on="area")
    # without area effects, population truth depends only on deprivation and population mix
    spread = truth.groupby(["indicator", "deprivation_decile"])["population"].agg(np.ptp)
    assert (spread < 0.05).all()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_areas": 1}, "n_areas"),
        ({"n_areas": 2.5}, "n_areas"),
        ({"n_respondents": 50}, "n_respondents"),
        ({"n_respondents": True}, "n_respondents"),
        ({"n_waves": 0}, "n_waves"),
        ({"seed": -1}, "seed"),
        ({"area_sd": -0.1}, "area_sd"),
        ({"area_sd": float("nan")}, "area_sd"),
        ({"missing_rate": 0.5}, "missing_rate"),
        ({"missing_rate": -0.01}, "missing_rate"),
        ({"spatial_share": -0.1}, "spatial_share"),
        ({"spatial_share": 1.5}, "spatial_share"),
        ({"spatial_share": float("nan")}, "spatial_share"),
        ({"geometry": "yes"}, "geometry"),
    ],
)
def test_bad_arguments(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        simulate_survey(**kwargs)


# The map and the spatially structured area effects ------------------------------------------

FIXTURE_0_1_0 = Path(__file__).parent / "fixtures" / "simulate-0.1.0"
"""simulate_survey(240, 9, 3, seed=5, area_sd=0.6, missing_rate=0.05) written by lcmodel 0.1.0
(before the map), without the benchmarks (which no seed changes)."""


def assert_same_table(fresh: pd.DataFrame, stored: pd.DataFrame, name: str) -> None:
    """Text and integers equal exactly, floats to a relative 1e-12 (a machine's rounding)."""
    assert list(fresh.columns) == list(stored.columns), name
    assert len(fresh) == len(stored), name
    for column in stored.columns:
        a, b = fresh[column], stored[column]
        if pd.api.types.is_float_dtype(b) or pd.api.types.is_float_dtype(a):
            np.testing.assert_allclose(
                a.to_numpy(dtype=float), b.to_numpy(dtype=float), rtol=1e-12, atol=0, err_msg=name
            )
        else:
            pd.testing.assert_series_equal(a, b, check_exact=True, obj=f"{name} {column}")


def moran(values: np.ndarray, adjacency: Adjacency) -> float:
    """Moran's I of ``values`` over the (binary) neighbourhood."""
    w = adjacency.matrix()
    z = values - values.mean()
    return float(len(z) / w.sum() * (z @ (w @ z)) / (z @ z))


def effects_by_area(simulated: SimulatedSurvey, column: str) -> pd.DataFrame:
    """An area x indicator table of one column of ``area_effects``, in the areas' order."""
    wide = simulated.area_effects.pivot(index="area", columns="indicator", values=column)
    return wide.loc[simulated.areas["area"], list(QUESTIONS)]


@pytest.mark.parametrize("geometry", [False, True])
def test_zero_spatial_share_reproduces_lcmodel_0_1_0(geometry: bool) -> None:
    if geometry:
        pytest.importorskip("geopandas")
    fresh = simulate_survey(
        240, 9, 3, seed=5, area_sd=0.6, missing_rate=0.05, spatial_share=0.0, geometry=geometry
    )
    for name in ("survey", "areas", "truth", "population"):
        stored = pd.read_csv(FIXTURE_0_1_0 / f"{name}.csv", keep_default_na=False, na_values=[""])
        buffer = io.StringIO()
        getattr(fresh, name).to_csv(buffer, index=False)
        buffer.seek(0)
        again = pd.read_csv(buffer, keep_default_na=False, na_values=[""])
        assert_same_table(again, stored, name)
    effects = fresh.area_effects
    assert (effects["spatial"] == 0).all()
    assert (effects["effect"] == effects["independent"]).all()


def test_the_reproduction_check_catches_a_change() -> None:
    """A negative control: the same call with a spatial share differs from the fixture."""
    stored = pd.read_csv(FIXTURE_0_1_0 / "truth.csv")
    fresh = simulate_survey(
        240, 9, 3, seed=5, area_sd=0.6, missing_rate=0.05, spatial_share=0.7, geometry=False
    )
    with pytest.raises(AssertionError):
        assert_same_table(fresh.truth, stored, "truth")
    pd.testing.assert_frame_equal(
        fresh.survey[["respondent_id", "area", "wave", "age_band", "sex", "weight"]],
        pd.read_csv(FIXTURE_0_1_0 / "survey.csv")[
            ["respondent_id", "area", "wave", "age_band", "sex", "weight"]
        ],
        check_exact=False,
        rtol=1e-12,
    )  # only the area effects change: who is surveyed, where and when does not


def test_geometry_changes_no_number() -> None:
    pytest.importorskip("geopandas")
    drawn = simulate_survey(500, 30, 2, seed=4, geometry=True)
    plain = simulate_survey(500, 30, 2, seed=4, geometry=False)
    assert drawn.boundaries is not None and plain.boundaries is None
    for name in (*TABLES, "area_effects"):
        pd.testing.assert_frame_equal(getattr(drawn, name), getattr(plain, name), check_exact=True)


def test_area_effects_table() -> None:
    s = simulate_survey(1500, 150, 2, seed=9, spatial_share=0.6, geometry=False)
    effects = s.area_effects
    assert list(effects.columns) == ["area", "indicator", "effect", "spatial", "independent"]
    assert len(effects) == 150 * len(QUESTIONS)
    assert effects["area"].tolist() == list(np.repeat(s.areas["area"], len(QUESTIONS)))
    assert effects["indicator"].tolist()[: len(QUESTIONS)] == list(QUESTIONS)
    np.testing.assert_allclose(
        effects["effect"], effects["spatial"] + effects["independent"], rtol=0, atol=1e-15
    )
    spatial = effects_by_area(s, "spatial").to_numpy()
    effect = effects_by_area(s, "effect").to_numpy()
    # the smooth part has the documented correlations exactly over the map's areas
    np.testing.assert_allclose(np.corrcoef(spatial.T), _AREA_CORRELATION, atol=1e-10)
    # its standard deviations: sqrt(rho) * area_sd, half that for the 0-10 scales
    half = np.array([0.5 if QUESTIONS[k].kind == "scale" else 1.0 for k in QUESTIONS])
    np.testing.assert_allclose(spatial.std(axis=0), np.sqrt(0.6) * 0.45 * half, rtol=1e-10)
    # and about 60% of the effects' variance
    share = spatial.var(axis=0) / effect.var(axis=0)
    assert 0.45 < share.mean() < 0.75, share
    realised = np.corrcoef(effect.T)[np.triu_indices(len(QUESTIONS), 1)]
    target = _AREA_CORRELATION[np.triu_indices(len(QUESTIONS), 1)]
    assert np.abs(realised - target).mean() < 0.1


@pytest.fixture(scope="module")
def spatial_maps(tmp_path_factory: pytest.TempPathFactory) -> dict[float, tuple]:
    """200 areas at spatial shares 0 and 0.9 (same seed), written, with their neighbourhoods."""
    pytest.importorskip("geopandas")
    maps = {}
    for share in (0.0, 0.9):
        simulated = simulate_survey(1000, 200, 2, seed=3, spatial_share=share, geometry=True)
        folder = tmp_path_factory.mktemp(f"map-{share}")
        simulated.write(folder)
        adjacency = load_adjacency(folder / "areas.geojson", simulated.areas["area"])
        maps[share] = (simulated, folder, adjacency)
    return maps


def test_boundaries_tile_the_map(spatial_maps) -> None:
    import shapely

    simulated, _, _ = spatial_maps[0.9]
    boundaries = simulated.boundaries
    assert list(boundaries.columns) == ["area", "name", "nation", "geometry"]
    assert boundaries["area"].tolist() == simulated.areas["area"].tolist()
    pd.testing.assert_frame_equal(
        pd.DataFrame(boundaries[["area", "name", "nation"]]), simulated.areas.iloc[:, :3]
    )
    assert boundaries.crs.to_epsg() == 27700
    polygons = boundaries.geometry.to_numpy()
    assert (shapely.get_type_id(polygons) == 3).all()  # Polygon, not MultiPolygon
    assert shapely.is_valid(polygons).all()
    x0, y0, x1, y1 = boundaries.total_bounds
    assert 300_000 < x0 < x1 < 700_000 and 300_000 < y0 < y1 < 1_000_000  # BNG-like metres
    rectangle = (x1 - x0) * (y1 - y0)
    union = shapely.union_all(polygons)
    assert abs(union.area / rectangle - 1) < 1e-6  # they cover the rectangle
    assert abs(shapely.area(polygons).sum() / rectangle - 1) < 1e-6  # without overlaps
    assert shapely.equals(union, shapely.box(x0, y0, x1, y1))
    sizes = shapely.area(polygons)
    assert 1.5e6 < np.median(sizes) < 3e6  # about 2.25 km2 each
    compact = 4 * np.pi * sizes / shapely.length(polygons) ** 2
    assert compact.min() > 0.3  # no slivers (a 4:1 rectangle has 0.50)


def test_boundary_file_gives_one_connected_neighbourhood(spatial_maps) -> None:
    import geopandas
    import shapely

    simulated, folder, queen = spatial_maps[0.9]
    back = geopandas.read_file(folder / "areas.geojson", engine="pyogrio")
    assert list(back.columns) == ["area", "name", "nation", "geometry"]
    assert back.crs.to_epsg() == 27700
    assert shapely.equals_exact(back.geometry.to_numpy(), simulated.boundaries.geometry, 0).all()
    assert queen.n_components == 1 and not queen.island.any()
    counts = queen.neighbour_counts()
    assert 4 <= counts.mean() <= 7 and counts.min() >= 2, counts.mean()
    # neighbours share vertices: rook contiguity finds exactly the pairs sharing a segment
    rook = load_adjacency(folder / "areas.geojson", simulated.areas["area"], contiguity="rook")
    polygons = simulated.boundaries.geometry.to_numpy()
    first, second = shapely.STRtree(polygons).query(polygons, predicate="intersects")
    keep = first < second
    first, second = first[keep], second[keep]
    shared = shapely.length(shapely.intersection(polygons[first], polygons[second]))
    segment = {(a, b) for a, b, length in zip(first, second, shared, strict=True) if length > 0}
    assert segment == set(zip(rook.node1.tolist(), rook.node2.tolist(), strict=True))
    assert set(zip(first.tolist(), second.tolist(), strict=True)) == set(
        zip(queen.node1.tolist(), queen.node2.tolist(), strict=True)
    )
    # every nation is one piece of the map
    matrix = queen.matrix()
    for nation in NATIONS:
        members = np.flatnonzero(simulated.areas["nation"] == nation)
        assert connected_components(matrix[members][:, members])[0] == 1, nation


def test_area_effects_are_smooth_over_the_map(spatial_maps) -> None:
    smooth, _, adjacency = spatial_maps[0.9]
    independent, _, _ = spatial_maps[0.0]
    i_smooth = np.array([moran(c, adjacency) for c in effects_by_area(smooth, "effect").T.values])
    i_spatial = np.array([moran(c, adjacency) for c in effects_by_area(smooth, "spatial").T.values])
    i_none = np.array(
        [moran(c, adjacency) for c in effects_by_area(independent, "effect").T.values]
    )
    print(f"Moran's I, 0.9: {i_smooth.round(2)}; 0: {i_none.round(2)}")
    assert i_smooth.mean() > 0.4 and i_smooth.min() > 0.3
    assert i_spatial.min() > i_smooth.min() and i_spatial.mean() > 0.45
    assert abs(i_none.mean()) < 0.05 and np.abs(i_none).max() < 0.15
    # the same seed draws the same independent part
    np.testing.assert_allclose(
        effects_by_area(smooth, "independent"),
        np.sqrt(0.1) * effects_by_area(independent, "independent"),
        rtol=1e-12,
    )


@pytest.mark.parametrize("n_areas", [2, 3, 7, 16, 45])
def test_small_maps_tile_and_keep_nations_together(n_areas: int) -> None:
    shapely = pytest.importorskip("shapely")
    for seed in range(5):
        s = simulate_survey(5 * n_areas, n_areas, 1, seed=seed, geometry=True)
        polygons = s.boundaries.geometry.to_numpy()
        assert len(polygons) == n_areas and shapely.is_valid(polygons).all()
        x0, y0, x1, y1 = s.boundaries.total_bounds
        assert abs(shapely.area(polygons).sum() / ((x1 - x0) * (y1 - y0)) - 1) < 1e-9
        first, second = shapely.STRtree(polygons).query(polygons, predicate="intersects")
        keep = first < second
        adjacency = Adjacency.from_pairs(list(s.areas["area"]), first[keep], second[keep])
        assert adjacency.n_components == 1
        matrix = adjacency.matrix()
        for nation in NATIONS:
            members = np.flatnonzero(s.areas["nation"] == nation)
            if len(members):
                assert connected_components(matrix[members][:, members])[0] == 1


def test_without_the_spatial_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No geopandas: the default simulates without boundaries; geometry=True says what to do."""
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "geopandas" else real(name)
    )
    with pytest.raises(LcmodelError, match=r'pip install "lcmodel\[spatial\]"'):
        simulate_survey(200, 10, 2, seed=1, geometry=True)
    s = simulate_survey(200, 10, 2, seed=1)
    assert s.boundaries is None
    s.write(tmp_path)
    assert not (tmp_path / "areas.geojson").exists()
    assert (tmp_path / "area_effects.csv").exists()


def test_simulate_command_spatial_share(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["simulate", "--respondents", "400", "--areas", "40", "--waves", "2", "--seed", "6"]
    assert main([*args, "--out", str(tmp_path / "flat"), "--spatial-share", "0"]) == 0
    assert "spatial share 0)" in capsys.readouterr().out
    flat = pd.read_csv(tmp_path / "flat" / "area_effects.csv")
    assert (flat["spatial"] == 0).all()
    direct = simulate_survey(400, 40, 2, seed=6, spatial_share=0.0, geometry=False)
    assert_same_table(pd.read_csv(tmp_path / "flat" / "truth.csv"), direct.truth, "truth")
    assert main([*args, "--out", str(tmp_path / "smooth"), "--spatial-share", "0.8"]) == 0
    smooth = pd.read_csv(tmp_path / "smooth" / "area_effects.csv")
    wide = smooth.pivot(index="area", columns="indicator", values="spatial")
    np.testing.assert_allclose(wide["trust"].std(ddof=0), np.sqrt(0.8) * 0.45, rtol=1e-9)
    default = simulate_survey(400, 40, 2, seed=6, geometry=False)  # the CLI default is 0.7
    assert main([*args, "--out", str(tmp_path / "default")]) == 0
    assert_same_table(
        pd.read_csv(tmp_path / "default" / "area_effects.csv"), default.area_effects, "effects"
    )
    if importlib.util.find_spec("geopandas") is not None:
        assert (tmp_path / "smooth" / "areas.geojson").is_file()
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "bad"), "--spatial-share", "1.5"]) == 2
    assert "spatial_share must be in [0.0, 1.0]" in capsys.readouterr().err


# National scale: the vectorised simulator, the same numbers, Parquet ---------------------------


def test_largest_remainder_by_rows_splits_each_row_as_alone() -> None:
    rng = np.random.default_rng(1)
    shares = rng.dirichlet(np.ones(8), size=500)
    totals = rng.integers(0, 12_000, size=500)
    together = _largest_remainder(totals, shares)
    for total, row, split in zip(totals, shares, together, strict=True):
        exact = total * row / row.sum()
        alone = np.floor(exact).astype(np.int64)
        short = total - int(alone.sum())
        alone[np.argsort(-(exact - alone), kind="stable")[: max(short, 0)]] += 1
        np.testing.assert_array_equal(split, alone)
    assert (together.sum(axis=1) == totals).all()


def test_wave_runs_are_the_draws_of_one_area_at_a_time() -> None:
    sizes = np.array([5, 40, 7, 300, 5, 12])
    wave, start, end = _wave_runs(sizes, 6, np.random.default_rng(3))
    rng = np.random.default_rng(3)  # the loop of lcmodel 0.1.0, with its copies
    offset = 0
    for a, size in enumerate(sizes):
        length = 6 if rng.random() >= 0.5 else int(rng.integers(3, 7))
        length = min(length, int(size))
        first = int(rng.integers(1, 6 - length + 2))
        run = np.arange(first, first + length)
        rest = rng.integers(first, first + length, size=int(size) - length)
        expected = rng.permutation(np.concatenate([run, rest]))
        np.testing.assert_array_equal(wave[offset : offset + size], expected)
        assert (start[a], end[a]) == (first, first + length - 1)
        offset += size


def test_mean_expit_and_label_probs_are_the_plain_expressions_bit_for_bit() -> None:
    rng = np.random.default_rng(2)
    distinct = rng.normal(size=3_000)
    within = np.sort(rng.integers(0, 3_000, size=20_000))
    values = distinct[within]
    for shift in (-2.5, 0.0, 0.37, 4.0):
        assert _MeanExpit(distinct, within, 1)(shift) == float(expit(shift + values).mean())
        assert _MeanExpit(distinct, within, -1)(shift) == float(expit(shift - values).mean())
    cutpoints = np.sort(rng.normal(size=10))
    cum = expit(cutpoints[None, :] - values[:, None])
    zeros, ones = np.zeros((len(values), 1)), np.ones((len(values), 1))
    expected = np.diff(np.hstack([zeros, cum, ones]), axis=1)[:, ::-1]
    np.testing.assert_array_equal(_label_probs(values, cutpoints), expected)


@pytest.mark.parametrize("n_waves", [1, 4])
def test_population_truth_is_the_per_area_sum_bit_for_bit(n_waves: int) -> None:
    """All areas at once give the numbers the loop over areas gave, to the last bit."""
    rng = np.random.default_rng(n_waves)
    n_areas, n_cells, n_outcomes = 300, 8, len(QUESTIONS)
    u = rng.normal(size=(n_areas, n_outcomes))
    wave_effect = rng.normal(size=(n_waves, n_outcomes))

    def linear_part(areas_i, age, sex, waves):
        return u[areas_i] + age[:, None] * 0.3 - sex[:, None] * 0.1 + wave_effect[waves - 1]

    mu = rng.normal(size=n_outcomes)
    cutpoints = {c: np.sort(rng.normal(size=len(q.labels) - 1)) for c, q in QUESTIONS.items()}
    pop_share = rng.dirichlet(np.ones(n_cells), size=n_areas)
    start = rng.integers(1, n_waves + 1, size=n_areas)
    end = np.minimum(start + rng.integers(0, n_waves, size=n_areas), n_waves)
    together = _population_truth(linear_part, mu, cutpoints, pop_share, start, end)
    for a in range(n_areas):
        waves_a = np.arange(start[a], end[a] + 1)
        grid_cell = np.tile(np.arange(n_cells), len(waves_a))
        grid_wave = np.repeat(waves_a, n_cells)
        grid_weight = pop_share[a, grid_cell] / len(waves_a)
        grid_eta = (
            linear_part(np.full(len(grid_cell), a), grid_cell // 2, grid_cell % 2, grid_wave)
            + mu[None, :]
        )
        for k, column in enumerate(QUESTIONS):
            values = _true_values(column, grid_eta[:, k], cutpoints[column])
            np.testing.assert_array_equal(together[column][a], grid_weight @ values)


def test_parquet_output_reads_back_as_written(tmp_path: Path) -> None:
    s = simulate_survey(1_500, 30, 3, seed=4, geometry=False)
    s.write(tmp_path / "pq", file_format="parquet")
    s.write(tmp_path / "csv")
    names = (*TABLES, "area_effects")
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == sorted(
        f"{name}.parquet" for name in names
    )
    for name in names:
        back = read_table(tmp_path / "pq" / f"{name}.parquet", name)
        pd.testing.assert_frame_equal(back, getattr(s, name))  # types too, exactly
    # the data layer sees the same validated data in either format
    for spec in ("trust.toml", "life_satisfaction.toml", "health.toml"):
        loaded = []
        for folder, suffix in ((tmp_path / "csv", "csv"), (tmp_path / "pq", "parquet")):
            raw = tomllib.loads((ROOT / "models" / spec).read_text())
            raw["data"] = str(folder / f"survey.{suffix}")
            raw["areas"] = str(folder / f"areas.{suffix}")
            raw["benchmark"]["table"] = str(folder / f"benchmarks.{suffix}")
            loaded.append(load_survey_data(parse_spec(raw, spec)))
        assert loaded[0].data_hash == loaded[1].data_hash, spec
        pd.testing.assert_frame_equal(loaded[0].respondents, loaded[1].respondents)
    with pytest.raises(ValueError, match="file_format must be one of csv, parquet"):
        s.write(tmp_path / "bad", file_format="xlsx")


def test_simulate_command_writes_parquet(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["simulate", "--respondents", "300", "--areas", "12", "--waves", "2", "--seed", "8"]
    assert main([*args, "--out", str(tmp_path), "--format", "parquet"]) == 0
    assert "as PARQUET files" in capsys.readouterr().out
    assert not list(tmp_path.glob("*.csv"))
    direct = simulate_survey(300, 12, 2, seed=8, geometry=False)
    for name in (*TABLES, "area_effects"):
        back = read_table(tmp_path / f"{name}.parquet", name)
        pd.testing.assert_frame_equal(back, getattr(direct, name))


def test_national_scale_simulation_writes_sane_files(tmp_path: Path) -> None:
    """5,000 areas x 50,000 respondents: a few seconds, every table complete and coherent."""
    n_areas, n = 5_000, 50_000
    s = simulate_survey(n, n_areas, 6, seed=11, geometry=False)
    s.write(tmp_path, file_format="parquet")
    survey = read_table(tmp_path / "survey.parquet", "survey")
    assert len(survey) == n and survey["respondent_id"].is_unique
    assert survey["respondent_id"].iloc[-1] == "R50000"
    sizes = survey["area"].value_counts()
    assert len(sizes) == n_areas and sizes.min() >= 5
    assert survey["wave"].between(1, 6).all()
    np.testing.assert_allclose(survey.groupby("area")["weight"].mean(), 1.0, rtol=1e-9)
    by_wave_then_area = np.lexsort((survey["area"].to_numpy(), survey["wave"].to_numpy()))
    np.testing.assert_array_equal(by_wave_then_area, np.arange(n))
    truth = read_table(tmp_path / "truth.parquet", "truth")
    per_area = sum(len(expected_quantities(c)) for c in QUESTIONS)
    assert len(truth) == n_areas * per_area
    assert truth["area"].is_monotonic_increasing
    assert truth["population"].between(0, 10).all()
    shares = truth[truth["quantity"] == "share"]
    assert shares["population"].between(0, 1).all()
    assert shares["sample"].notna().mean() > 0.99  # NaN only where no one answered
    population = read_table(tmp_path / "population.parquet", "population")
    assert len(population) == 8 * n_areas and (population["count"] >= 1).all()
    effects = read_table(tmp_path / "area_effects.parquet", "area_effects")
    assert len(effects) == n_areas * len(QUESTIONS)
    np.testing.assert_allclose(effects["effect"], effects["spatial"] + effects["independent"])
