"""Model structure, without sampling: variables, dims, priors, cells, area values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from scipy.special import expit, gammaln

from lcmodel import SpecError, UnitLevelModel
from lcmodel.data.survey import prepare_survey_data
from lcmodel.design.cells import aggregate
from lcmodel.spec import parse_spec

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(scope="module")
def trust(trust_model: UnitLevelModel) -> UnitLevelModel:
    return trust_model  # the session's (conftest.py)


def _point(model: pm.Model, seed: int) -> dict[str, np.ndarray]:
    """A random point in the unconstrained space, in the shapes the model expects."""
    rng = np.random.default_rng(seed)
    return {
        name: rng.normal(0.0, 0.7, size=np.shape(value))
        for name, value in model.initial_point().items()
    }


def _evaluate(model: pm.Model, names: list[str], point: dict) -> list[np.ndarray]:
    """Values of model variables (deterministics included) at an unconstrained point."""
    outs = model.replace_rvs_by_values([model[name] for name in names])
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    return fn(point)


def _tiny_spec(tmp_path, **structure) -> tuple:
    survey = pd.DataFrame(
        {
            "area": ["a", "a", "a", "b", "b", "c", "c", "c", "c"],
            "wave": [1, 1, 2, 1, 2, 2, 2, 1, 1],
            "sex": ["F", "M", "F", "F", "M", "M", "M", "F", "F"],
            "y": [1, 0, 1, 1, 1, 0, 0, 1, 0],
        }
    )
    areas = pd.DataFrame(
        {
            "area": ["a", "b", "c", "d"],
            "name": ["A", "B", "C", "D"],
            "nation": ["England"] * 4,
            "deprivation_decile": [1, 2, 3, 1],
            "kind": ["urban", "rural", "urban", "rural"],
        }
    )
    raw = {
        "name": "tiny",
        "data": "survey.csv",
        "areas": "areas.csv",
        "outcome": {"column": "y"},
        "structure": {"area": "area", **structure},
    }
    spec = parse_spec(raw, "tiny")
    return spec, survey, areas


class TestStructure:
    def test_variables_and_dims(self, trust: UnitLevelModel) -> None:
        model = trust.build()
        free = {rv.name for rv in model.free_RVs}
        # 12-482 answers per area: the data outweigh the prior in all but the smallest
        assert trust.centred().sum() > len(trust.centred()) / 2
        assert free == {
            "intercept",
            "beta_age_band",
            "beta_sex",
            "sigma_area",
            "area_effect_balance",
            "area_level_centred",  # centred areas' deviations, area covariate term included
            "z_area_noncentred",
            "gamma_deprivation_decile",
            "sigma_wave",
            "z_wave",
        }
        dims = model.named_vars_to_dims
        assert dims["z_area"] == ("area",)
        assert dims["area_effect"] == ("area",)
        assert dims["area_level_centred"] == ("area_centred",)
        assert len(model.coords["area_centred"]) + len(model.coords["area_noncentred"]) == 20
        assert dims["area_value"] == ("area", "quantity")
        assert list(model.coords["quantity"]) == ["share"]
        assert dims["beta_age_band"] == ("age_band",)
        assert dims["wave_effect"] == ("wave",)
        assert list(model.coords["area"]) == list(trust.data.areas.index)
        assert list(model.coords["wave"]) == [1, 2, 3, 4, 5, 6]

    def test_cells_are_sufficient_statistics(self, trust: UnitLevelModel) -> None:
        cells = trust.units()
        respondents = trust.data.respondents
        assert len(cells) < len(respondents) / 3
        assert cells.trials.sum() == len(respondents)
        assert cells.counts[:, 0].sum() == respondents["y"].sum()
        assert not cells.keys.duplicated().any()
        # every cell's count matches a direct recount
        row = cells.keys.iloc[7]
        mask = np.ones(len(respondents), dtype=bool)
        for column, value in row.items():
            mask &= (respondents[column] == value).to_numpy()
        assert cells.trials[7] == mask.sum()
        assert cells.counts[7, 0] == respondents.loc[mask, "y"].sum()

    def test_gradient_finite_at_initial_point(self, trust: UnitLevelModel) -> None:
        model = trust.build()
        point = model.initial_point()
        assert np.isfinite(model.compile_logp()(point))
        assert np.all(np.isfinite(model.compile_dlogp()(point)))

    def test_binomial_cells_and_bernoulli_rows_have_the_same_posterior(
        self, trust: UnitLevelModel
    ) -> None:
        """log p(theta | y) differs only by a constant: the binomial coefficients."""
        cells_model = trust.build(aggregate_cells=True)
        rows_model = trust.build(aggregate_cells=False)
        assert rows_model["y"].shape.eval()[0] == len(trust.data.respondents)
        cells_logp = cells_model.compile_logp()
        rows_logp = rows_model.compile_logp()
        cells = trust.units(aggregate_cells=True)
        k, n = cells.counts[:, 0], cells.trials
        log_binomial = np.sum(gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1))
        for seed in range(5):
            point = _point(cells_model, seed)
            assert cells_logp(point) - rows_logp(point) == pytest.approx(log_binomial, abs=1e-6)
        cells_grad = cells_model.compile_dlogp()(point)
        rows_grad = rows_model.compile_dlogp()(point)
        np.testing.assert_allclose(cells_grad, rows_grad, rtol=1e-8, atol=1e-8)

    def test_area_value_is_mean_predicted_probability_of_respondents(
        self, trust: UnitLevelModel
    ) -> None:
        model = trust.build()
        point = _point(model, 3)
        names = ["intercept", "beta_age_band", "beta_sex", "area_effect", "wave_effect"]
        names += ["gamma_deprivation_decile", "area_value"]
        values = dict(zip(names, _evaluate(model, names, point), strict=True))
        respondents = trust.data.respondents
        coords = model.coords
        decile = trust.data.areas["deprivation_decile"].to_numpy(dtype=float)
        decile_z = (decile - decile.mean()) / decile.std()

        def idx(column: str) -> np.ndarray:
            return pd.Index(coords[column]).get_indexer(respondents[column])

        eta = (
            values["intercept"]
            + values["beta_age_band"][idx("age_band")]
            + values["beta_sex"][idx("sex")]
            + values["area_effect"][idx("area")]
            + values["gamma_deprivation_decile"] * decile_z[idx("area")]
            + values["wave_effect"][idx("wave")]
        )
        expected = pd.Series(expit(eta)).groupby(respondents["area"].to_numpy()).mean()
        np.testing.assert_allclose(values["area_value"][:, 0], expected.to_numpy(), rtol=1e-10)

    def test_zero_sum_effects(self, trust: UnitLevelModel) -> None:
        model = trust.build()
        point = _point(model, 1)
        (beta,) = _evaluate(model, ["beta_age_band"], point)
        assert beta.sum() == pytest.approx(0.0, abs=1e-10)


class TestPriors:
    def test_default_priors_listed_with_reasons(self, trust: UnitLevelModel) -> None:
        priors = trust.default_priors()
        assert str(priors["intercept"]) == "Normal(mu=0, sigma=2.5)"
        assert str(priors["sigma_area"]) == "HalfNormal(sigma=1)"
        assert set(priors) == set(trust.prior_table().index)
        assert trust.prior_table()["why"].str.len().min() > 20

    def test_spec_override_changes_the_model(self, trust: UnitLevelModel) -> None:
        raw = trust.spec.model_dump()
        raw["priors"] = {"sigma_area": {"dist": "HalfNormal", "sigma": 0.25}}
        model = UnitLevelModel(parse_spec(raw, "override"), trust.data)
        table = model.prior_table()
        assert table.loc["sigma_area", "source"] == "spec"
        assert table.loc["intercept", "source"] == "default"
        built = model.build()
        value = np.array(0.5)
        logp = pm.logp(built["sigma_area"], value).eval()
        expected = pm.logp(pm.HalfNormal.dist(sigma=0.25), value).eval()
        assert logp == pytest.approx(expected)

    def test_unknown_prior_term_is_an_error_with_hint(self, trust: UnitLevelModel) -> None:
        raw = trust.spec.model_dump()
        raw["priors"] = {"sigma_aera": {"dist": "HalfNormal", "sigma": 1}}
        with pytest.raises(SpecError, match="did you mean 'sigma_area'"):
            UnitLevelModel(parse_spec(raw, "x"), trust.data)

    def test_prior_of_wrong_support_is_an_error(self, trust: UnitLevelModel) -> None:
        raw = trust.spec.model_dump()
        raw["priors"] = {"sigma_area": {"dist": "Normal", "mu": 0, "sigma": 1}}
        with pytest.raises(SpecError, match="needs a positive prior"):
            UnitLevelModel(parse_spec(raw, "x"), trust.data)


class TestOptionalStructure:
    def test_minimal_model_without_wave_or_covariates(self, tmp_path) -> None:
        spec, survey, areas = _tiny_spec(tmp_path)
        data = prepare_survey_data(survey, spec, areas)
        model = UnitLevelModel(spec, data).build()
        free = {rv.name for rv in model.free_RVs}
        assert free == {"intercept", "sigma_area", "z_area_surveyed", "z_area_unsurveyed"}
        assert len(UnitLevelModel(spec, data).units()) == 3

    def test_unsurveyed_area_is_estimated_from_pooled_sample(self, tmp_path) -> None:
        spec, survey, areas = _tiny_spec(tmp_path, wave="wave", covariates=["sex"])
        data = prepare_survey_data(survey, spec, areas)
        assert data.areas.loc["d", "n"] == 0
        area_model = UnitLevelModel(spec, data)
        reference = area_model.reference_cells()
        borrowed = reference[reference["area"] == "d"]
        pooled = survey.groupby(["wave", "sex"]).size()
        assert borrowed.set_index(["wave", "sex"])["weight"].sort_index().tolist() == (
            pooled.sort_index().tolist()
        )
        model = area_model.build()
        assert list(model.coords["area"]) == ["a", "b", "c", "d"]
        point = _point(model, 2)
        (value,) = _evaluate(model, ["area_value"], point)
        assert np.all((value > 0) & (value < 1))

    def test_area_covariates_numeric_and_categorical(self, tmp_path) -> None:
        spec, survey, areas = _tiny_spec(tmp_path, area_covariates=["deprivation_decile", "kind"])
        area_model = UnitLevelModel(spec, prepare_survey_data(survey, spec, areas))
        priors = area_model.default_priors()
        assert priors["gamma_deprivation_decile"].dist == "Normal"
        assert priors["gamma_kind"].dist == "ZeroSumNormal"
        model = area_model.build()
        assert model.named_vars_to_dims["gamma_kind"] == ("area_kind",)
        assert list(model.coords["area_kind"]) == ["rural", "urban"]

    def test_aggregate_matches_manual_groupby(self) -> None:
        frame = pd.DataFrame({"area": list("aabbb"), "s": list("xyxxy"), "y": [1, 0, 1, 1, 0]})
        cells = aggregate(frame, ["area", "s"], ["y"])
        assert cells.keys.to_dict("list") == {"area": ["a", "a", "b", "b"], "s": list("xyxy")}
        assert cells.trials.tolist() == [1, 1, 2, 1]
        assert cells.counts[:, 0].tolist() == [1, 0, 2, 0]


class TestAreaEffectParameterisation:
    """Zero-sum or independent, centred or not: the variables, and the zero sum itself."""

    @pytest.mark.parametrize(
        ("zero_sum", "centring", "free"),
        [
            (True, "centred", "area_level_surveyed"),  # area covariate term included
            (True, "non-centred", "z_area_surveyed"),
            (False, "centred", "area_intercept"),  # centred on intercept + area covariates
            (False, "non-centred", "z_area"),
        ],
    )
    def test_variables(self, trust: UnitLevelModel, zero_sum, centring, free) -> None:
        raw = trust.spec.model_dump()
        raw["structure"]["zero_sum_areas"] = zero_sum
        raw["fit"]["centring"] = centring
        model = UnitLevelModel(parse_spec(raw, "x"), trust.data).build()
        names = {rv.name for rv in model.free_RVs}
        assert free in names
        others = {"z_area", "z_area_surveyed", "area_level_surveyed", "area_intercept"}
        assert not others - {free} & names
        point = _point(model, seed=3)
        effect, z, sigma = _evaluate(model, ["area_effect", "z_area", "sigma_area"], point)
        assert effect.shape == (20,)
        np.testing.assert_allclose(z * sigma, effect)
        if zero_sum:
            assert abs(effect.sum()) < 1e-9  # every shipped area is surveyed
        else:
            assert abs(effect.sum()) > 1e-3

    def test_unsurveyed_areas_are_outside_the_zero_sum(self, tmp_path) -> None:
        spec, survey, areas = _tiny_spec(tmp_path, zero_sum_areas=True)
        data = prepare_survey_data(survey, spec, areas)
        model = UnitLevelModel(spec, data).build()
        assert model.coords["area_unsurveyed"] == ("d",)
        effect = _evaluate(model, ["area_effect"], _point(model, seed=1))[0]
        surveyed = data.areas["n"].to_numpy() > 0
        assert abs(effect[surveyed].sum()) < 1e-9
        assert abs(effect[~surveyed][0]) > 1e-6

    def test_auto_centres_data_rich_areas_only(self, trust: UnitLevelModel) -> None:
        from lcmodel.models.area_effects import choose_centring

        # 0.25 * information > 1 centres an area: per area, not for all
        assert list(choose_centring(np.array([400.0, 2.0, 500.0]), 1.0, "auto")) == [
            True,
            False,
            True,
        ]
        assert not choose_centring(np.array([400.0]), 1.0, "non-centred").any()
        assert choose_centring(np.array([1.0, 2.0]), 1.0, "centred").all()
        # the shipped survey (12-482 answers per area): its smallest areas are not centred
        mixed = trust.centred()
        assert mixed.any() and not mixed.all()
        small = trust.data.areas["n"].to_numpy()[~mixed]
        assert small.max() < trust.data.areas["n"].to_numpy()[mixed].min()

    def test_mixed_centring_is_the_same_zero_sum_model(self, trust: UnitLevelModel) -> None:
        """Some areas centred (their levels, area covariate term included), others not: the
        log density of the area effects is the all-non-centred one's times the Jacobian
        sigma^-|C|, at any point."""
        raw = trust.spec.model_dump()
        raw["fit"]["centring"] = "non-centred"
        plain = UnitLevelModel(parse_spec(raw, "x"), trust.data).build()
        mixed = trust.build()
        names = {rv.name for rv in mixed.free_RVs}
        assert {"area_effect_balance", "area_level_centred", "z_area_noncentred"} <= names
        assert not {"area_effect_surveyed", "area_level_surveyed", "z_area_surveyed"} & names
        rich = trust.centred()
        x = trust._area_design[0].values
        logp_p, logp_m = plain.compile_logp(), mixed.compile_logp()

        def unconstrained(name: str, value: np.ndarray) -> np.ndarray:
            transform = mixed.rvs_to_transforms[mixed[name]]
            return transform.forward(pt.as_tensor(value)).eval()

        gaps = []
        for seed in (1, 2, 3):
            point = _point(plain, seed)
            effect, sigma, gamma = _evaluate(
                plain, ["area_effect", "sigma_area", "gamma_deprivation_decile"], point
            )
            assert abs(effect.sum()) < 1e-9
            total = effect[~rich].sum()
            shift = gamma * x[rich] - (gamma * x[rich]).mean()
            other = {k: v for k, v in point.items() if not k.startswith("z_area_surveyed")}
            there = other | {
                "area_effect_balance": np.array(total),
                "area_level_centred_zerosum__": unconstrained(
                    "area_level_centred", effect[rich] + total / rich.sum() + shift
                ),
                "z_area_noncentred_zerosum__": unconstrained(
                    "z_area_noncentred", (effect[~rich] - total / (~rich).sum()) / sigma
                ),
            }
            np.testing.assert_allclose(
                _evaluate(mixed, ["area_effect"], there)[0], effect, atol=1e-10
            )
            gaps.append(logp_m(there) + rich.sum() * np.log(sigma) - logp_p(point))
        np.testing.assert_allclose(gaps, gaps[0], atol=1e-8)

    def test_all_centred_levels_include_the_area_covariates(self, trust: UnitLevelModel) -> None:
        """All areas centred: the free variable is each area's level less the areas' mean
        level, and its density the zero-sum normal's at the effects."""
        raw = trust.spec.model_dump()
        raw["fit"]["centring"] = "centred"
        model = UnitLevelModel(parse_spec(raw, "x"), trust.data).build()
        point = _point(model, 4)
        level, effect, sigma, gamma = _evaluate(
            model,
            ["area_level_surveyed", "area_effect", "sigma_area", "gamma_deprivation_decile"],
            point,
        )
        covariates = gamma * trust._area_design[0].values
        np.testing.assert_allclose(level, effect + covariates - covariates.mean(), atol=1e-12)
        expected = pm.logp(pm.ZeroSumNormal.dist(sigma=sigma, shape=20), effect).eval()
        logp = model.compile_logp(vars=[model["area_level_surveyed"]], jacobian=False)
        assert logp(point) == pytest.approx(float(expected))

    def test_independent_effects_centred_on_the_area_level_model(
        self, trust: UnitLevelModel
    ) -> None:
        """Independent effects, some areas centred: a centred area's free variable is its
        intercept, Normal(intercept + gamma x, sigma); the log density is the all-non-centred
        one's less the Jacobian sigma^|C|, at any point."""
        raw = trust.spec.model_dump()
        raw["structure"]["zero_sum_areas"] = False
        mixed_model = UnitLevelModel(parse_spec(raw, "x"), trust.data)
        raw["fit"]["centring"] = "non-centred"
        plain = UnitLevelModel(parse_spec(raw, "x"), trust.data).build()
        mixed = mixed_model.build()
        rich = mixed_model.centred()
        assert rich.any() and not rich.all()
        names = {rv.name for rv in mixed.free_RVs}
        assert {"area_intercept", "z_area_noncentred", "gamma_deprivation_decile"} <= names
        assert mixed.coords["area_centred"] == tuple(np.asarray(mixed.coords["area"])[rich])
        logp_p, logp_m = plain.compile_logp(), mixed.compile_logp()
        x = mixed_model._area_design[0].values
        gaps = []
        for seed in (1, 2, 3):
            point = _point(plain, seed)
            z, sigma, intercept, gamma = _evaluate(
                plain, ["z_area", "sigma_area", "intercept", "gamma_deprivation_decile"], point
            )
            mean = intercept + gamma * x
            there = {k: v for k, v in point.items() if k != "z_area"} | {
                "area_intercept": mean[rich] + sigma * z[rich],
                "z_area_noncentred": z[~rich],
            }
            effect = _evaluate(mixed, ["area_effect"], there)[0]
            np.testing.assert_allclose(effect, sigma * z, atol=1e-10)
            gaps.append(logp_m(there) + rich.sum() * np.log(sigma) - logp_p(point))
        np.testing.assert_allclose(gaps, 0.0, atol=1e-8)
