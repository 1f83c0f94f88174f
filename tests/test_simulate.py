import numpy as np
import pandas as pd
import pytest

from lcmodel.simulate import (
    AGE_BANDS,
    NATIONS,
    QUESTIONS,
    SEXES,
    TARGET_SHARES,
    SimulatedSurvey,
    simulate_survey,
)

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
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.csv" for t in TABLES)
    for name in TABLES:
        original = getattr(sim, name)
        nullable = {c: "Int64" for c in original.columns if str(original[c].dtype) == "Int64"}
        back = pd.read_csv(folder / f"{name}.csv", dtype=nullable)
        pd.testing.assert_frame_equal(
            back, original, check_dtype=False, check_exact=False, rtol=1e-12
        )
    sim.write(folder)  # overwriting is fine
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.csv" for t in TABLES)


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
    ],
)
def test_bad_arguments(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        simulate_survey(**kwargs)
