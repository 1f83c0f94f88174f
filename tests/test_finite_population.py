"""Finite-population estimands: spec defaults, frame checks, predictive draws, and a real fit."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcmodel import UnitLevelModel
from lcmodel.cli import main
from lcmodel.data.survey import load_survey_data, prepare_survey_data
from lcmodel.design.reference import finite_population, reference_cells
from lcmodel.errors import DataError, SpecError
from lcmodel.families import get_family
from lcmodel.simulate.population import STRATA, simulate_population
from lcmodel.spec import FrameSpec, OutcomeSpec, parse_spec


def _raw(**changes: object) -> dict:
    raw = {
        "name": "fp",
        "data": "s.csv",
        "areas": "a.csv",
        "outcome": {"column": "y"},
        "structure": {"area": "area", "covariates": ["group"]},
        "frame": {"table": "f.csv"},
    }
    return raw | changes


def _survey() -> pd.DataFrame:
    """Area a: 2 + 1 respondents; b: 1 + 2; c: nobody."""
    return pd.DataFrame(
        {
            "area": ["a", "a", "a", "b", "b", "b"],
            "group": ["x", "x", "y", "x", "y", "y"],
            "y": [1, 0, 1, 1, 1, 0],
        }
    )


AREAS = pd.DataFrame({"area": ["a", "b", "c"]})


def _frame(counts: tuple[int, ...] = (2, 1, 4, 6, 5, 5)) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area": ["a", "a", "b", "b", "c", "c"],
            "group": ["x", "y", "x", "y", "x", "y"],
            "count": list(counts),
        }
    )


def test_the_estimand_defaults_to_the_finite_population_given_sizes() -> None:
    assert parse_spec(_raw(), "t").target == "finite_population"
    assert parse_spec(_raw(estimand="superpopulation"), "t").target == "superpopulation"
    plain = _raw()
    del plain["frame"]
    assert parse_spec(plain, "t").target == "sample"
    means = plain | {
        "outcome": {"column": "y", "family": "gaussian"},
        "structure": {"area": "area", "numeric_covariates": ["x"]},
        "population": {"table": "p.csv", "means": {"x": "mx"}},
    }
    assert parse_spec(means, "t").target == "superpopulation"
    means["population"]["size"] = "N"
    assert parse_spec(means, "t").target == "finite_population"


@pytest.mark.parametrize(
    ("estimand", "message"),
    [
        ("finite_population", "needs the areas' population sizes"),
        ("superpopulation", "needs a population to average over"),
        ("everyone", "finite_population"),
    ],
)
def test_an_estimand_without_its_population_is_a_spec_error(estimand: str, message: str) -> None:
    raw = _raw(estimand=estimand)
    del raw["frame"]
    with pytest.raises(SpecError, match=message):
        parse_spec(raw, "t")


def test_known_answers_and_remaining_units_per_frame_cell() -> None:
    spec = parse_spec(_raw(), "t")
    data = prepare_survey_data(_survey(), spec, AREAS, population_frame=_frame())
    assert data.estimand == "finite_population"
    rows = reference_cells(data)
    population = finite_population(data, rows)
    table = rows.assign(
        size=population.size, remaining=population.remaining, known=population.known[:, 0]
    ).set_index(["area", "group"])
    assert table.loc[("a", "x"), ["size", "remaining", "known"]].tolist() == [2, 0, 1]
    assert table.loc[("a", "y"), ["size", "remaining", "known"]].tolist() == [1, 0, 1]
    assert table.loc[("b", "y"), ["size", "remaining", "known"]].tolist() == [6, 4, 1]
    assert table.loc[("c", "x"), ["size", "remaining", "known"]].tolist() == [5, 5, 0]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_frame((1, 1, 4, 6, 5, 5)), "cell area 'a', group 'x' has 2 respondents but a population"),
        (_frame().drop(index=1), "cell\\(s\\) with respondents are not in the population frame"),
    ],
)
def test_a_frame_must_count_the_respondents_it_holds(frame: pd.DataFrame, message: str) -> None:
    spec = parse_spec(_raw(), "t")
    with pytest.raises(DataError, match=message):
        prepare_survey_data(
            _survey(), spec, AREAS, population_frame=frame, sources={"frame": "f.csv"}
        )
    # the expected share over the frame (superpopulation) needs no such counts
    if len(frame) == 6:
        spec = parse_spec(_raw(estimand="superpopulation"), "t")
        prepare_survey_data(_survey(), spec, AREAS, population_frame=frame)


def _family(**outcome: object):
    return get_family(OutcomeSpec.model_validate({"column": "y"} | outcome))


def test_predictive_totals_draw_answers_not_expectations() -> None:
    rng = np.random.default_rng(1)
    draws, remaining = 40_000, np.array([0, 1, 30])
    # bernoulli: Binomial(m, p)
    p = np.broadcast_to(np.array([0.5, 0.2, 0.3])[None, :, None], (draws, 3, 1))
    totals = _family().predictive_totals(rng, p, remaining, {})
    assert (totals[:, 0] == 0).all() and set(np.unique(totals[:, 1])) == {0.0, 1.0}
    np.testing.assert_allclose(totals[:, 2, 0].mean(), 9.0, atol=0.05)
    np.testing.assert_allclose(totals[:, 2, 0].var(), 30 * 0.3 * 0.7, rtol=0.03)
    # ordinal 0-2 scores: category counts sum to m, the score total follows the same draw
    ordinal = _family(family="ordinal", categories=[0, 1, 2], groups={"top": [1, 2]})
    probs = np.array([0.2, 0.3, 0.5])
    quantities = probs @ ordinal._quantity_matrix()
    expected = np.broadcast_to(quantities, (draws, 3, len(quantities)))
    totals = ordinal.predictive_totals(rng, expected, remaining, {})
    np.testing.assert_array_equal(totals[:, :, :3].sum(axis=2), np.tile(remaining, (draws, 1)))
    np.testing.assert_array_equal(totals[:, :, 3], totals[:, :, 1] + totals[:, :, 2])
    np.testing.assert_array_equal(totals[:, :, 4], totals[:, :, 1] + 2 * totals[:, :, 2])
    np.testing.assert_allclose(totals[:, 2, 4].mean(), 30 * 1.3, rtol=0.01)
    # gaussian: Normal(m mu, sqrt(m) sigma) for the sum, Binomial(m, P(band)) per band
    gaussian = _family(family="gaussian", bands={"low": [0, 4]})
    expected = np.broadcast_to(np.array([5.0, 0.25]), (draws, 3, 2))
    sigma = np.full(draws, 2.0)
    totals = gaussian.predictive_totals(rng, expected, remaining, {"sigma": sigma})
    assert (totals[:, 0] == 0).all()
    np.testing.assert_allclose(totals[:, 2, 0].mean(), 150.0, atol=0.2)
    np.testing.assert_allclose(totals[:, 2, 0].std(), np.sqrt(30) * 2.0, rtol=0.02)
    np.testing.assert_allclose(totals[:, 2, 1].mean(), 7.5, atol=0.05)


@pytest.mark.sampling
def test_a_fully_counted_area_is_known_exactly_and_the_rest_is_predicted() -> None:
    """Area a: every resident answered, so its value is their share with no uncertainty."""
    spec = parse_spec(_raw(fit={"draws": 200, "tune": 300, "chains": 2, "seed": 5}), "t")
    data = prepare_survey_data(_survey(), spec, AREAS, population_frame=_frame())
    result = UnitLevelModel(spec, data).fit(progressbar=False)
    value = result.posterior["area_value"].sel(quantity="share")
    np.testing.assert_array_equal(value.sel(area="a"), np.float32(2 / 3))  # stored as float32
    # area b: 3 of 10 residents answered (2 yes): its share moves in steps of 1/10
    b = value.sel(area="b").to_numpy().ravel()
    np.testing.assert_allclose(b * 10, np.round(b * 10), atol=1e-6)
    assert b.min() >= 0.2 - 1e-6 and b.max() <= 0.9 + 1e-6
    assert "reference_value" not in result.posterior
    table = result.estimates().set_index("area")
    assert (table["estimand"] == "finite population").all()
    assert table.loc["a", "sd"] < 1e-12


# ------------------------------------------------ [population] with level shares
def _population_raw(**population: object) -> dict:
    return {
        "name": "pm",
        "data": "s.csv",
        "outcome": {"column": "score", "family": "gaussian"},
        "structure": {"area": "area", "covariates": ["group"], "numeric_covariates": ["x"]},
        "population": {
            "table": "p.csv",
            "means": {"x": "mean_x"},
            "shares": {"group": {"x": "share_x", "y": "share_y"}},
            "size": "size",
        }
        | population,
    }


SURVEY = _survey().assign(score=[3.0, 5.0, 4.0, 6.0, 2.0, 1.0], x=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
POPULATION = pd.DataFrame(
    {
        "area": ["a", "b"],
        "mean_x": [2.0, 5.0],
        "share_x": [0.6, 0.25],
        "share_y": [0.4, 0.75],
        "size": [10, 8],
    }
)


def test_population_shares_must_cover_the_categorical_covariates() -> None:
    with pytest.raises(SpecError, match="level shares of exactly the categorical covariates"):
        parse_spec(_population_raw(shares={}), "t")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"share_y": [0.3, 0.75]}, "must add up to 1 in each area"),
        ({"share_x": [60, 0.25]}, "must be a share between 0 and 1, not 60"),
    ],
)
def test_bad_population_shares_are_clear_errors(change: dict, message: str) -> None:
    spec = parse_spec(_population_raw(), "t")
    with pytest.raises(DataError, match=message):
        prepare_survey_data(SURVEY, spec, population=POPULATION.assign(**change))


def test_population_shares_must_name_the_survey_levels() -> None:
    spec = parse_spec(_population_raw(shares={"group": {"x": "share_x", "z": "share_y"}}), "t")
    with pytest.raises(DataError, match=r"for level\(s\) \['x', 'z'\] but respondents have"):
        prepare_survey_data(SURVEY, spec, population=POPULATION)


def test_reference_rows_mix_levels_by_their_shares() -> None:
    spec = parse_spec(_population_raw(), "t")
    superpopulation = spec.model_copy(update={"estimand": "superpopulation"})
    data = prepare_survey_data(SURVEY, superpopulation, population=POPULATION)
    rows = reference_cells(data).set_index(["area", "group"])
    assert rows.loc[("b", "y"), "weight"] == pytest.approx(0.75)
    assert rows.loc[("b", "y"), "x"] == pytest.approx(5.0)
    # finite population: the 10 - 3 residents of a not sampled: 6 - 2 of level x, 4 - 1 of y
    data = prepare_survey_data(SURVEY, spec, population=POPULATION)
    rows = reference_cells(data).set_index(["area", "group"])
    assert rows.loc[("a", "x"), "weight"] == pytest.approx(4 / 7)
    assert rows.loc[("a", "y"), "weight"] == pytest.approx(3 / 7)
    assert rows.loc[("a", "x"), "x"] == pytest.approx((2.0 * 10 - 6.0) / 7)


# ------------------------------------------------------------- coverage of real values
@pytest.mark.sampling
def test_intervals_cover_the_finite_area_values(tmp_path) -> None:
    """A population of 100 areas (10-5,000 units), one informative stratified sample: the MRP
    from the command line and the Gaussian unit-level model from Python, each against the
    areas' real (finite) values. ``benchmarks/finite_population.py`` measures the same over
    several populations, by area size."""
    sample = simulate_population(100, seed=7).sample(7)
    sample.write(tmp_path)
    truth = sample.truth.set_index("area")
    settings = "[fit]\ndraws = 500\ntune = 500\nchains = 2\nseed = 7\n"
    common = (
        'data = "survey.csv"\nareas = "areas.csv"\n'
        '[structure]\narea = "area"\ncovariates = ["stratum"]\n'
        'area_covariates = ["deprivation"]\n'
    )
    (tmp_path / "mrp.toml").write_text(
        f'name = "mrp"\n{common}[outcome]\ncolumn = "y"\n[frame]\ntable = "frame.csv"\n{settings}'
    )
    out = tmp_path / "out"
    assert main(
        [
            "fit",
            str(tmp_path / "mrp.toml"),
            "--out",
            str(out),
            "--quiet",
            "--allow-failed-diagnostics",
        ]
    ) in (0, 3)
    mrp = pd.read_csv(out / "estimates.csv").set_index("area")
    shares = {s: f"share_{s}" for s in STRATA}
    raw = tomllib.loads(
        f'name = "score"\n{common}[outcome]\ncolumn = "score"\nfamily = "gaussian"\n'
        f'[population]\ntable = "population.csv"\nsize = "size"\n{settings}'
    )
    raw["population"]["shares"] = {"stratum": shares}
    for key in ("data", "areas"):
        raw[key] = str(tmp_path / raw[key])
    raw["population"]["table"] = str(tmp_path / "population.csv")
    spec = parse_spec(raw, "score")
    score = UnitLevelModel(spec, load_survey_data(spec)).fit(progressbar=False).estimates()
    score = score.set_index("area")
    for table, column in [(mrp, "finite_y"), (score, "finite_score")]:
        assert (table["estimand"] == "finite population").all()
        true = truth[column].reindex(table.index)
        covered = (table["lower"] <= true) & (true <= table["upper"])
        z = (table["mean"] - true) / table["sd"]
        print(f"{column}: coverage {covered.mean():.2f}, z sd {z.std():.2f}")
        # 100 intervals: a binomial 99.9% range around 0.9 reaches down to 0.80
        assert covered.mean() >= 0.8
        assert abs(z.mean()) < 0.35 and z.std() < 1.35


@pytest.mark.sampling
def test_fay_herriot_intervals_cover_the_finite_area_values(tmp_path) -> None:
    """The same population, the Gaussian Fay-Herriot model of the weighted direct means from
    the command line, with the areas' population sizes: its defaults (modelled variances,
    finite-population values) against the real area means, unsampled areas included."""
    sample = simulate_population(100, seed=7).sample(7)
    sample.write(tmp_path)
    census = sample.population[["area", "size", "share_owner", "share_social"]]
    sample.areas.merge(census, on="area").to_csv(tmp_path / "areas.csv", index=False)
    (tmp_path / "score.toml").write_text(
        'name = "score"\ndata = "survey.csv"\nareas = "areas.csv"\n'
        '[outcome]\ncolumn = "score"\nfamily = "gaussian"\n'
        '[structure]\narea = "area"\nweight = "weight"\n'
    )
    (tmp_path / "fh.toml").write_text(
        'name = "score_fh"\n[area_level]\nsurvey = "score.toml"\npopulation = "size"\n'
        'numeric_covariates = ["deprivation", "share_owner", "share_social"]\n'
        "[fit]\ndraws = 500\ntune = 500\nchains = 2\nseed = 7\n"
    )
    out = tmp_path / "out"
    command = ["fit", str(tmp_path / "fh.toml"), "--out", str(out), "--quiet"]
    assert main([*command, "--allow-failed-diagnostics"]) in (0, 3)
    table = pd.read_csv(out / "estimates.csv").set_index("area")
    assert table["estimand"].str.startswith("finite population, Fay-Herriot").all()
    truth = sample.truth.set_index("area")
    assert len(table) == len(truth)  # unsampled areas too
    true = truth["finite_score"].reindex(table.index)
    covered = (table["lower"] <= true) & (true <= table["upper"])
    print(f"Fay-Herriot finite_score: coverage {covered.mean():.2f}")
    assert covered.mean() >= 0.8


@pytest.mark.sampling
def test_finite_population_values_per_wave_and_in_a_joint_model(tmp_path) -> None:
    """Area x wave values (random walks) and a joint model each get finite-population values,
    with the frame's cells as the population of every wave."""
    from lcmodel import JointModel
    from lcmodel.spec import load_spec

    models = Path(__file__).resolve().parents[1] / "models"
    frame = load_spec(models / "trust_mrp.toml").frame.table
    waves = load_spec(models / "trust_waves.toml")
    waves = waves.model_copy(update={"frame": FrameSpec(table=frame)})
    small = {"draws": 100, "tune": 200, "chains": 2, "seed": 4, "extend": 0}
    model = UnitLevelModel(waves, load_survey_data(waves))
    result = model.fit(progressbar=False, **small)
    posterior = result.posterior
    assert not {"reference_value", "reference_wave_value"} & set(posterior.data_vars)
    assert {"reference", "reference_mix"}.isdisjoint(posterior.coords)
    per_wave = result.wave_estimates()
    assert (result.estimates()["estimand"] == "finite population").all()
    # each area x wave value is a finite-population share: known answers that wave + draws
    assert per_wave["mean"].between(0, 1).all() and (per_wave["sd"] > 0).all()

    joint_spec = load_spec(models / "social_joint.toml")
    indicators = [
        spec.model_copy(update={"frame": FrameSpec(table=frame)}) if spec.name == "trust" else spec
        for spec in joint_spec.indicators[:2]
    ]
    joint = JointModel.from_spec(joint_spec.model_copy(update={"indicators": indicators}))
    fitted = joint.fit(progressbar=False, **small)
    table = fitted.estimates().set_index("indicator")
    assert (table.loc["trust", "estimand"] == "finite population").all()
    assert (table.loc["speak_neighbours", "estimand"] == "sample-standardised").all()
    assert not any("reference" in str(name) for name in fitted.posterior.data_vars)
