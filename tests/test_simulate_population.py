"""The finite-population simulator: sizes, frame, design, weights and truth (no MCMC)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcmodel.simulate.population import (
    RATES,
    STRATA,
    FinitePopulation,
    PopulationSample,
    simulate_population,
)

SURVEY_COLUMNS = ["respondent_id", "area", "stratum", "x", "y", "score", "weight"]
TRUTH_COLUMNS = [
    "area",
    "size",
    "n",
    "finite_y",
    "finite_score",
    "expected_y",
    "expected_score",
]


@pytest.fixture(scope="module")
def pop() -> FinitePopulation:
    return simulate_population(60, seed=3)


@pytest.fixture(scope="module")
def sample(pop: FinitePopulation) -> PopulationSample:
    return pop.sample(7)


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as plain text (for merges and comparisons)."""
    return frame.assign(
        **{c: frame[c].astype(str) for c in frame.columns if frame[c].dtype == "category"}
    )


def test_same_seed_same_population_and_sample() -> None:
    a, b = simulate_population(20, seed=11), simulate_population(20, seed=11)
    pd.testing.assert_frame_equal(a.units, b.units)
    pd.testing.assert_frame_equal(a.areas, b.areas)
    sa, sb = a.sample(4), b.sample(4)
    for name in ("survey", "frame", "population", "areas", "truth", "design"):
        pd.testing.assert_frame_equal(getattr(sa, name), getattr(sb, name))
    assert not simulate_population(20, seed=12).units["y"].equals(a.units["y"])
    assert not a.sample(5).survey["respondent_id"].equals(sa.survey["respondent_id"])


def test_columns(pop: FinitePopulation, sample: PopulationSample) -> None:
    assert list(pop.units.columns) == ["unit_id", "area", "stratum", "x", "y", "score", "p", "mu"]
    assert list(pop.areas.columns) == ["area", "deprivation", "size"]
    assert list(sample.survey.columns) == SURVEY_COLUMNS
    assert list(sample.frame.columns) == ["area", "stratum", "count"]
    assert list(sample.population.columns) == [
        "area",
        "size",
        "mean_x",
        "share_owner",
        "share_social",
        "share_private",
    ]
    assert list(sample.areas.columns) == ["area", "deprivation", "name"]
    assert list(sample.truth.columns) == TRUTH_COLUMNS
    assert list(pop.units["stratum"].cat.categories) == list(STRATA)
    assert sample.survey["y"].dtype == np.int64
    assert set(sample.survey["y"]) <= {0, 1}


def test_areas_and_sizes(pop: FinitePopulation) -> None:
    areas = pop.areas
    assert list(areas["area"]) == [f"A{i:03d}" for i in range(1, 61)]
    sizes = areas["size"]
    assert sizes.dtype == np.int64
    assert sizes.min() == 10
    assert sizes.max() == 5000
    assert (sizes <= 30).sum() >= 3
    assert (sizes >= 1500).sum() >= 3
    assert len(pop.units) == sizes.sum()
    assert list(pop.units["unit_id"]) == list(range(1, len(pop.units) + 1))
    assert pop.units["x"].between(16, 95).all()
    assert pop.units["p"].between(0, 1).all()
    small = simulate_population(5, seed=1, min_units=3, max_units=3)
    assert (small.areas["size"] == 3).all()
    assert list(simulate_population(1200, seed=1, max_units=20).areas["area"].iloc[[0, -1]]) == [
        "A0001",
        "A1200",
    ]


def test_frame_counts_match_units(pop: FinitePopulation, sample: PopulationSample) -> None:
    frame = sample.frame
    assert (frame["count"] > 0).all()
    by_area = frame.groupby("area", observed=True)["count"].sum()
    assert by_area.to_dict() == dict(zip(pop.areas["area"], pop.areas["size"], strict=True))
    counted = _text(pop.units).groupby(["area", "stratum"]).size().rename("units").reset_index()
    merged = _text(frame).merge(counted, on=["area", "stratum"], how="outer", validate="1:1")
    assert (merged["count"] == merged["units"]).all()
    population = sample.population
    shares = population[["share_owner", "share_social", "share_private"]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    mean_x = pop.units.groupby("area", observed=True)["x"].mean()
    np.testing.assert_allclose(population["mean_x"], mean_x.loc[population["area"]])


def test_survey_rows_are_units(pop: FinitePopulation, sample: PopulationSample) -> None:
    survey = sample.survey
    assert survey["respondent_id"].is_unique
    units = _text(pop.units).set_index("unit_id")
    matched = units.loc[survey["respondent_id"]]
    for column in ("area", "stratum", "x", "y", "score"):
        assert (matched[column].to_numpy() == _text(survey)[column].to_numpy()).all(), column


def test_stratum_sample_sizes_follow_the_design(sample: PopulationSample) -> None:
    design = sample.design
    rates = design["stratum"].map(dict(zip(STRATA, RATES, strict=True))).astype(float)
    planned = design["fraction"] * rates * design["count"]
    rule = np.minimum(np.floor(planned + 0.5), design["count"]).where(design["sampled"], 0)
    assert design["fraction"].between(0.01, 0.5).all()
    fallback = design.assign(rule=rule).groupby("area", observed=True)["rule"].transform("sum")
    fallback = (fallback == 0) & design["sampled"]
    assert (design["n"][~fallback] == rule[~fallback]).all()
    per_area = design[fallback].groupby("area", observed=True)["n"].sum()
    assert (per_area == 1).all()
    taken = _text(sample.survey).groupby(["area", "stratum"]).size().rename("taken")
    merged = _text(design).join(taken, on=["area", "stratum"]).fillna({"taken": 0})
    assert (merged["taken"] == merged["n"]).all()
    truth_n = sample.truth.set_index("area")["n"]
    assert (design.groupby("area", observed=True)["n"].sum() == truth_n).all()
    assert truth_n.between(1, 5).sum() >= 10


def test_weights_sum_to_stratum_counts(sample: PopulationSample) -> None:
    survey = _text(sample.survey)
    cells = survey.groupby(["area", "stratum"])["weight"].agg(["sum", "min", "max"])
    counts = _text(sample.frame).set_index(["area", "stratum"])["count"]
    np.testing.assert_allclose(cells["sum"], counts.loc[cells.index])
    np.testing.assert_allclose(cells["min"], cells["max"])
    assert (survey["weight"] >= 1).all()


def test_unsampled_areas_have_no_rows(sample: PopulationSample) -> None:
    truth = sample.truth
    unsampled = set(truth.loc[truth["n"] == 0, "area"])
    assert len(unsampled) == 6
    assert not unsampled & set(sample.survey["area"])
    assert unsampled <= set(sample.frame["area"])
    assert unsampled <= set(sample.population["area"]) & set(sample.areas["area"])
    assert set(sample.survey["area"]) == set(truth.loc[truth["n"] > 0, "area"])
    none = simulate_population(10, seed=2, unsampled_share=0.0).sample(0)
    assert (none.truth["n"] > 0).all()
    one = simulate_population(10, seed=2, unsampled_share=0.01).sample(0)
    assert (one.truth["n"] == 0).sum() == 1


def test_truth_is_the_unit_means(pop: FinitePopulation, sample: PopulationSample) -> None:
    truth = sample.truth.set_index("area")
    means = pop.units.groupby("area", observed=True)[["y", "score", "p", "mu"]].mean()
    np.testing.assert_allclose(truth["finite_y"], means.loc[truth.index, "y"])
    np.testing.assert_allclose(truth["finite_score"], means.loc[truth.index, "score"])
    np.testing.assert_allclose(truth["expected_y"], means.loc[truth.index, "p"])
    np.testing.assert_allclose(truth["expected_score"], means.loc[truth.index, "mu"])
    assert (truth["size"] == pop.areas.set_index("area")["size"]).all()
    counts = sample.survey.groupby("area").size()
    assert (truth.loc[counts.index, "n"] == counts).all()


def test_the_design_is_informative() -> None:
    pop = simulate_population(200, seed=5, min_units=200)
    sample = pop.sample(1)
    survey = sample.survey
    design = _text(sample.design)
    cells = design.loc[design["n"] > 0, ["area", "stratum"]]
    covered = _text(pop.units).merge(cells, on=["area", "stratum"])
    truth = covered["y"].mean()
    unweighted = survey["y"].mean()
    weighted = np.average(survey["y"], weights=survey["weight"])
    assert truth - unweighted > 0.04
    assert abs(weighted - truth) < 0.015
    social = (survey["stratum"] == "social").mean()
    assert social > 2 * (pop.units["stratum"] == "social").mean() - 0.1


def test_write(tmp_path: Path, sample: PopulationSample) -> None:
    sample.write(tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["areas.csv", "frame.csv", "population.csv", "survey.csv", "truth.csv"]
    survey = pd.read_csv(tmp_path / "out" / "survey.csv")
    assert list(survey.columns) == SURVEY_COLUMNS
    assert len(survey) == len(sample.survey)
    truth = pd.read_csv(tmp_path / "out" / "truth.csv")
    np.testing.assert_allclose(truth["finite_score"], sample.truth["finite_score"])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_areas": 1}, "n_areas"),
        ({"n_areas": 2.5}, "n_areas"),
        ({"seed": -1}, "seed"),
        ({"min_units": 0}, "min_units"),
        ({"max_units": 5, "min_units": 10}, "max_units"),
        ({"max_units": True}, "max_units"),
        ({"unsampled_share": 1.0}, "unsampled_share"),
        ({"unsampled_share": -0.1}, "unsampled_share"),
        ({"n_areas": 2, "unsampled_share": 0.9}, "unsampled_share"),
        ({"area_sd": -1.0}, "area_sd"),
        ({"area_sd": "big"}, "area_sd"),
        ({"sigma": float("nan")}, "sigma"),
        ({"sigma": float("inf")}, "sigma"),
    ],
)
def test_argument_errors(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        simulate_population(**kwargs)  # type: ignore[arg-type]


def test_sample_seed_error(pop: FinitePopulation) -> None:
    with pytest.raises(ValueError, match="seed"):
        pop.sample(-3)
    with pytest.raises(ValueError, match="seed"):
        pop.sample(1.5)  # type: ignore[arg-type]
