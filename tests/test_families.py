"""Ordinal and Gaussian families: structure (no sampling), equality of cells and rows, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from scipy.special import gammaln

from lcmodel import DataError, SpecError, UnitLevelModel
from lcmodel.data.survey import prepare_survey_data
from lcmodel.spec import parse_spec

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"


def _point(model: pm.Model, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.normal(0, 0.5, size=np.shape(v)) for k, v in model.initial_point().items()}


def _evaluate(model: pm.Model, names: list[str], point: dict) -> list[np.ndarray]:
    outs = model.replace_rvs_by_values([model[name] for name in names])
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    return fn(point)


@pytest.fixture(scope="module")
def health() -> UnitLevelModel:
    return UnitLevelModel.from_spec(MODELS / "health.toml")


@pytest.fixture(scope="module")
def life() -> UnitLevelModel:
    return UnitLevelModel.from_spec(MODELS / "life_satisfaction.toml")


@pytest.fixture(scope="module")
def life_gaussian() -> UnitLevelModel:
    return UnitLevelModel.from_spec(MODELS / "life_satisfaction_gaussian.toml")


class TestOrdinal:
    def test_structure(self, health: UnitLevelModel) -> None:
        model = health.build()
        free = {rv.name for rv in model.free_RVs}
        assert "intercept" not in free
        assert "cutpoints" in free
        assert model["cutpoints"].shape.eval()[0] == 4
        assert model.named_vars_to_dims["y"] == ("cell", "category")
        assert model.named_vars_to_dims["area_value"] == ("area", "quantity")
        assert list(model.coords["quantity"]) == [
            "share:Very bad",
            "share:Bad",
            "share:Fair",
            "share:Good",
            "share:Very good",
            "share:good or very good",
            "share:bad or very bad",
        ]
        assert health.family.headline() == "share:good or very good"

    def test_cells_and_rows_differ_by_multinomial_coefficients(
        self, health: UnitLevelModel
    ) -> None:
        cells_model = health.build(aggregate_cells=True)
        rows_model = health.build(aggregate_cells=False)
        cells = health.units(aggregate_cells=True)
        n, k = cells.trials, cells.counts
        constant = np.sum(gammaln(n + 1) - gammaln(k + 1).sum(axis=1))
        cells_logp, rows_logp = cells_model.compile_logp(), rows_model.compile_logp()
        for seed in range(4):
            point = _point(cells_model, seed)
            assert cells_logp(point) - rows_logp(point) == pytest.approx(constant, abs=1e-6)
        np.testing.assert_allclose(
            cells_model.compile_dlogp()(point), rows_model.compile_dlogp()(point), atol=1e-8
        )

    def test_quantities_are_consistent(self, health: UnitLevelModel) -> None:
        model = health.build()
        (value,) = _evaluate(model, ["area_value"], _point(model, 1))
        categories = value[:, :5]
        np.testing.assert_allclose(categories.sum(axis=1), 1.0)
        np.testing.assert_allclose(value[:, 5], categories[:, 3] + categories[:, 4])
        np.testing.assert_allclose(value[:, 6], categories[:, 0] + categories[:, 1])

    def test_mean_score_for_scales(self, life: UnitLevelModel) -> None:
        model = life.build()
        quantities = list(model.coords["quantity"])
        assert quantities[-1] == "mean"
        assert {"share:low", "share:medium", "share:high", "share:very high"} <= set(quantities)
        (value,) = _evaluate(model, ["area_value"], _point(model, 2))
        np.testing.assert_allclose(value[:, -1], value[:, :11] @ np.arange(11.0))
        low = quantities.index("share:low")
        np.testing.assert_allclose(value[:, low], value[:, :5].sum(axis=1))

    def test_direct_estimates(self, life: UnitLevelModel) -> None:
        from lcmodel.design.direct import survey_direct_estimates

        direct = survey_direct_estimates(life.data).set_index("quantity").loc["mean"]
        respondents = life.data.respondents
        scores = respondents[life.data.count_columns].to_numpy() @ np.arange(11.0)
        expected = pd.Series(scores).groupby(respondents["area"].to_numpy()).mean()
        np.testing.assert_allclose(direct["direct"], expected.reindex(direct["area"]))


class TestGaussian:
    def test_structure_and_data_scaled_priors(self, life_gaussian: UnitLevelModel) -> None:
        model = life_gaussian.build()
        assert {"intercept", "sigma", "sigma_area"} <= {rv.name for rv in model.free_RVs}
        priors = life_gaussian.default_priors()
        y = life_gaussian.data.respondents["y"]
        assert priors["intercept"].params["mu"] == pytest.approx(y.mean(), abs=1e-5)
        assert priors["sigma"].params["sigma"] == pytest.approx(y.std(), abs=1e-5)
        assert list(model.coords["quantity"]) == [
            "mean",
            "share:low",
            "share:medium",
            "share:high",
            "share:very high",
        ]

    def test_band_shares_follow_the_rounded_normal(self, life_gaussian: UnitLevelModel) -> None:
        from scipy.stats import norm

        eta = np.array([2.0, 6.3, 9.8])
        sigma = 1.7
        family = life_gaussian.family
        values = family.expected_quantities(pt.as_tensor(eta), {"sigma": pt.as_tensor(sigma)})
        values = values.eval()
        np.testing.assert_allclose(values[:, 0], eta)
        expected = np.column_stack(
            [
                norm.cdf(4.5, eta, sigma),
                norm.cdf(6.5, eta, sigma) - norm.cdf(4.5, eta, sigma),
                norm.cdf(8.5, eta, sigma) - norm.cdf(6.5, eta, sigma),
                norm.sf(8.5, eta, sigma),
            ]
        )
        np.testing.assert_allclose(values[:, 1:], expected, rtol=1e-10)
        # direct estimates count answers in each band
        counts = pd.DataFrame({"y": [0.0, 4.0, 5.0, 8.0, 10.0], "y2": 0.0})
        values = family.respondent_values(counts)
        np.testing.assert_allclose(values.mean(axis=0), [5.4, 0.4, 0.2, 0.2, 0.2])

    def test_cells_and_rows_same_posterior(self, life_gaussian: UnitLevelModel) -> None:
        cells_model = life_gaussian.build(aggregate_cells=True)
        rows_model = life_gaussian.build(aggregate_cells=False)
        assert len(life_gaussian.units(True)) < len(life_gaussian.units(False)) / 3
        cells_logp, rows_logp = cells_model.compile_logp(), rows_model.compile_logp()
        differences = [
            cells_logp(p) - rows_logp(p) for p in (_point(cells_model, s) for s in range(4))
        ]
        np.testing.assert_allclose(differences, differences[0], atol=1e-6)
        point = _point(cells_model, 9)
        np.testing.assert_allclose(
            cells_model.compile_dlogp()(point), rows_model.compile_dlogp()(point), atol=1e-7
        )


def _spec(outcome: dict, **structure) -> object:
    return parse_spec(
        {
            "name": "t",
            "data": "survey.csv",
            "outcome": outcome,
            "structure": {"area": "area", **structure},
        },
        "t",
    )


SCALE = {"column": "score", "family": "ordinal", "categories": list(range(11))}
LABELS = {"column": "health", "family": "ordinal", "categories": ["Bad", "Fair", "Good"]}


@pytest.mark.parametrize(
    ("outcome", "values", "message"),
    [
        (LABELS, ["Bad", "Fair", "Good", "Excellent"], "does not know"),
        (LABELS, ["Bad", "Fair", "Gooood", "Good"], "close to the spec's 'Good'"),
        (LABELS, ["Bad", "Bad", "Good", "Good"], "'Fair' of 'outcome.categories' is never"),
        (SCALE, [0, 3, 11, *range(11)], "outside 0-10"),
        ({"column": "health", "family": "gaussian"}, ["1.5", "2", "x", "3"], "must hold numbers"),
    ],
)
def test_bad_answers(outcome: dict, values: list, message: str) -> None:
    survey = pd.DataFrame({"area": ["a", "b"] * (len(values) // 2), outcome["column"]: values})
    with pytest.raises(DataError, match=message):
        prepare_survey_data(survey, _spec(outcome))


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        ({"column": "h", "family": "ordinal", "categories": ["a", "b"]}, "at least 3"),
        ({"column": "h", "family": "ordinal"}, "needs 'categories'"),
        ({"column": "h", "family": "ordinal", "categories": ["a", "b", "a"]}, "more than once"),
        (
            {
                "column": "h",
                "family": "ordinal",
                "categories": ["a", "b", "c"],
                "groups": {"g": ["d"]},
            },
            "not in 'categories'",
        ),
        (
            {"column": "h", "family": "ordinal", "categories": [1, 2, 3], "success": ["1"]},
            "bernoulli",
        ),
        ({"column": "h", "family": "gaussian", "categories": [1, 2, 3]}, "ordinal family"),
    ],
)
def test_bad_ordinal_specs(outcome: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        _spec(outcome)


def test_population_means_need_gaussian() -> None:
    raw = {
        "name": "t",
        "data": "s.csv",
        "outcome": {"column": "y"},
        "structure": {"area": "area", "numeric_covariates": ["x"]},
        "population": {"table": "p.csv", "means": {"x": "mean_x"}},
    }
    with pytest.raises(SpecError, match="gaussian outcome only"):
        parse_spec(raw, "t")


def test_gaussian_cells_keep_fractional_values() -> None:
    survey = pd.DataFrame({"area": ["a", "a", "b", "b", "b"], "y": [0.54, 1.25, 165.76, 2.5, 3.75]})
    spec = _spec({"column": "y", "family": "gaussian"})
    model = UnitLevelModel(spec, prepare_survey_data(survey, spec))
    cells = model.units(aggregate_cells=True)
    np.testing.assert_allclose(cells.counts[:, 0], [0.54 + 1.25, 165.76 + 2.5 + 3.75])
    np.testing.assert_allclose(
        cells.counts[:, 1], [0.54**2 + 1.25**2, 165.76**2 + 2.5**2 + 3.75**2]
    )
    rows = model.units(aggregate_cells=False)
    np.testing.assert_allclose(rows.counts[:, 0], survey["y"])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {
                "column": "h",
                "family": "ordinal",
                "categories": ["a", "b", "c"],
                "groups": {"a": ["a", "b"]},
            },
            "name of a category",
        ),
        ({"column": "h", "family": "bernoulli", "bands": {"x": [0, 1]}}, "gaussian family"),
        ({"column": "h", "family": "gaussian", "bands": {"x": [3, 1]}}, "give \\[low, high\\]"),
    ],
)
def test_more_bad_outcome_specs(raw: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        _spec(raw)


def test_population_means_and_the_finite_population_mean(tmp_path: Path) -> None:
    """Area mean = (sample total + draw of the N - n other units' total) / N.

    The other units sit at their own mean x (population mean less the sample's), so the
    draw has mean ``(N - n) * prediction`` and sd ``sqrt(N - n) * sigma``.
    """
    import xarray as xr

    survey = pd.DataFrame(
        {"area": ["a", "a", "b", "b", "b"], "x": [1.0, 3.0, 2.0, 4.0, 9.0], "y": [1, 2, 3, 5, 8.0]}
    )
    population = pd.DataFrame({"code": ["a", "b"], "mean_x": [2.5, 4.0], "units": [10, 6]})
    raw = {
        "name": "fpc",
        "data": "s.csv",
        "outcome": {"column": "y", "family": "gaussian"},
        "structure": {"area": "area", "numeric_covariates": ["x"]},
        "population": {"table": "p.csv", "area": "code", "means": {"x": "mean_x"}, "size": "units"},
    }
    spec = parse_spec(raw, "fpc")
    model = UnitLevelModel(spec, prepare_survey_data(survey, spec, population=population))
    assert model.estimand() == "finite population"
    built = model.build()
    point = _point(built, 3)
    names = ["area_value", "reference_value", "intercept", "beta_x", "area_effect", "sigma"]
    value, reference, intercept, slope, effect, sigma = _evaluate(built, names, point)
    x_mean, x_sd = survey["x"].mean(), survey["x"].std(ddof=0)
    n = np.array([2.0, 3.0])
    size = np.array([10.0, 6.0])
    x_rest = (np.array([2.5, 4.0]) * size - np.array([4.0, 15.0])) / (size - n)
    prediction = intercept + slope * (x_rest - x_mean) / x_sd + effect
    np.testing.assert_allclose(value[:, 0], prediction, rtol=1e-10)  # before the draws
    np.testing.assert_allclose(reference[:, 0], prediction, rtol=1e-10)

    draws = 20_000
    posterior = xr.Dataset(
        {
            "area_value": (("chain", "draw", "area", "quantity"), np.tile(value, (1, draws, 1, 1))),
            "reference_value": (
                ("chain", "draw", "reference", "quantity"),
                np.tile(reference, (1, draws, 1, 1)),
            ),
            "sigma": (("chain", "draw"), np.full((1, draws), float(sigma))),
        },
        coords={"area": ["a", "b"], "quantity": ["mean"], "reference": [0, 1]},
    )
    finished = model.finish_posterior(posterior, np.random.default_rng(0))
    assert "reference_value" not in finished and "reference" not in finished.coords
    areas = finished["area_value"].sel(quantity="mean")
    sample_total = np.array([3.0, 16.0])
    mean = (sample_total + (size - n) * prediction) / size
    sd = np.sqrt(size - n) * float(sigma) / size
    np.testing.assert_allclose(areas.mean(("chain", "draw")), mean, atol=4 * sd.max() / draws**0.5)
    np.testing.assert_allclose(areas.std(("chain", "draw")), sd, rtol=0.03)
