"""Fay-Herriot area-level models: specs, bad input, structure, recovery and the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.special import gammaln
from scipy.stats import binom

from lcmodel import FayHerriotModel, load
from lcmodel.cli import EXIT_BAD_INPUT, main
from lcmodel.design.direct import survey_direct_estimates
from lcmodel.errors import DataError, LcmodelError, SpecError
from lcmodel.models.unit_level import UnitLevelModel
from lcmodel.simulate import simulate_survey
from lcmodel.spec import load_area_level_spec, load_spec, parse_area_level_spec

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"

TABLE = pd.DataFrame(
    {
        "region": ["a", "b", "c", "d", "e", "f"],
        "y": [0.42, 0.55, 0.61, 0.38, None, 0.50],
        "v": [0.004, 0.002, 0.006, 0.003, None, 0.005],
        "size": [60, 120, 40, 80, 30, 50],
        "group": ["x", "x", "y", "y", "x", "y"],
    }
)


def _table_model(tmp_path: Path, table: pd.DataFrame = TABLE, **section: object):
    path = tmp_path / "estimates.csv"
    table.to_csv(path, index=False)
    raw = {
        "name": "fh",
        "area_level": {
            "table": str(path),
            "area": "region",
            "estimate": "y",
            "variance": "v",
            **section,
        },
    }
    return FayHerriotModel.from_spec(parse_area_level_spec(raw, "test"))


# ------------------------------------------------------------------ specs
@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({}, "exactly one of 'survey'"),
        ({"survey": "a.toml", "table": "b.csv"}, "exactly one of 'survey'"),
        ({"table": "b.csv", "estimate": "y"}, r"needs the column name\(s\) \['variance'\]"),
        ({"survey": "a.toml", "estimate": "y"}, "name columns of a 'table'"),
        (
            {"table": "b.csv", "estimate": "y", "variance": "v", "likelihood": "binomial"},
            'set kind = "share"',
        ),
        ({"survey": "a.toml", "likelihod": "normal"}, "did you mean 'likelihood'"),
    ],
)
def test_bad_area_level_specs(section: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_area_level_spec({"name": "fh", "area_level": section}, "test")


def test_loaders_tell_spec_kinds_apart() -> None:
    with pytest.raises(SpecError, match="is an area-level spec, not a model spec"):
        load_spec(MODELS / "trust_fh.toml", "unit_level")
    spec = load_area_level_spec(MODELS / "trust_fh.toml")
    assert spec.area_level.survey == (MODELS / "trust.toml").resolve()
    assert load_spec(MODELS / "trust_fh.toml") == spec
    assert spec.kind == "area_level"


# -------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("change", "section", "message"),
    [
        ({"v": [0.004, -0.002, 0.006, 0.003, None, 0.005]}, {}, "positive sampling variances"),
        ({"v": [0.004, 0.0, 0.006, 0.003, None, 0.005]}, {}, "positive sampling variances"),
        ({"v": [0.004, 0.002, None, 0.003, None, 0.005]}, {}, "without its variance"),
        ({"region": ["a", "b", "b", "d", "e", "f"]}, {}, "'b' appears more than once"),
        (
            {"y": [0.42, "n/a?", 0.61, 0.38, None, 0.5]},
            {},
            "must hold finite numbers, not 'n/a\\?'",
        ),
        ({}, {"covariates": ["grup"]}, "did you mean 'group'"),
        ({"y": [42, 55, 61, 38, None, 50]}, {"kind": "share"}, "percentages\\? divide by 100"),
        (
            {"y": [0.42, 1.0, 0.61, 0.38, None, 0.5]},
            {"kind": "share", "likelihood": "binomial"},
            "must come from a sample size column",
        ),
        ({"size": [60, 0, 40, 80, 30, 50]}, {"n": "size"}, "positive sample sizes"),
        ({"v": [0.004, float("inf"), 0.006, 0.003, None, 0.005]}, {}, "finite numbers"),
        ({"region": ["a", None, "c", "d", "e", "f"]}, {}, "'region' is blank \\(line 3\\)"),
        ({"group": ["x", None, "y", "y", "x", "y"]}, {"covariates": ["group"]}, "is blank"),
    ],
)
def test_bad_area_tables_are_clear_errors(
    tmp_path: Path, change: dict, section: dict, message: str
) -> None:
    table = TABLE.assign(**change)
    with pytest.raises(DataError, match=message):
        _table_model(tmp_path, table, **section)


# -------------------------------------------------------------- structure
def test_table_model_structure(tmp_path: Path) -> None:
    fh = _table_model(tmp_path, covariates=["group"])
    model = fh.build()
    # sampling sds (0.04-0.07) are wide against the spread of estimates: none centred
    assert not fh.centred().any()
    assert {rv.name for rv in model.free_RVs} == {
        "intercept",
        "gamma_group",
        "sigma_area",
        "z_area_surveyed",  # zero-sum over the areas with an estimate
        "z_area_unsurveyed",
    }
    assert model.coords["area_unsurveyed"] == ("e",)
    assert model.coords["sampled_area"] == ("a", "b", "c", "d", "f")  # e has no estimate
    assert model.named_vars_to_dims["area_value"] == ("area", "quantity")
    inputs = fh.inputs.set_index("area")
    assert not inputs.loc["e", "in_sample"] and inputs.loc["a", "in_sample"]
    assert inputs.loc["a", "direct_se"] == pytest.approx(np.sqrt(0.004))
    # the likelihood uses each area's own sampling sd
    point = model.initial_point()
    logp = model.compile_logp(vars=[model["y"]], sum=False)(point)[0]
    expected = (
        -0.5 * np.log(2 * np.pi * 0.002)
        - 0.5 * (0.55 - fh.default_priors()["intercept"].params["mu"]) ** 2 / 0.002
    )
    assert logp[1] == pytest.approx(expected, rel=1e-6)


def test_binomial_likelihood_is_the_binomial_with_effective_counts(tmp_path: Path) -> None:
    """With whole effective counts the potential equals the binomial log pmf up to the
    binomial coefficients."""
    table = TABLE.assign(
        y=[0.4, 0.25, 0.6, 0.4, None, 0.3], v=[0.0096, 0.0, 0.006, 0.008, None, 0.0]
    )
    fh = _table_model(
        tmp_path, table, kind="share", likelihood="binomial", n="size", sampling_variance="known"
    )
    n_eff = fh.areas["n_eff"].dropna()
    np.testing.assert_allclose(n_eff, [25, 120, 40, 30, 50])  # y (1 - y) / v, else n
    model = fh.build()
    point = model.initial_point()
    point["intercept"] = np.array(0.3)
    potential = model.compile_logp(vars=[model["y"]])(point)
    p = 1 / (1 + np.exp(-0.3))  # z_area starts at 0
    n = n_eff.to_numpy()
    k = np.round(fh.areas["estimate"].dropna().to_numpy() * n)
    log_choose = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    assert float(potential) == pytest.approx((binom.logpmf(k, n, p) - log_choose).sum())


def test_survey_input_uses_design_based_direct_estimates() -> None:
    fh = FayHerriotModel.from_spec(MODELS / "trust_fh.toml")
    unit = UnitLevelModel.from_spec(MODELS / "trust.toml")
    direct = survey_direct_estimates(unit.data).set_index("area")
    direct = direct[direct["quantity"] == "share"].reindex(fh.areas.index)
    pd.testing.assert_series_equal(fh.areas["n_eff"], direct["n_eff"], check_names=False)
    # modelled (the default) uses the design effects (all 1 here: no weights) smoothed
    np.testing.assert_allclose(fh.areas["n_eff_smoothed"], direct["n"], rtol=1e-9)
    assert set(fh.inputs.columns) >= {"benchmark", "benchmark_match", "direct", "deff"}
    assert fh.quantity == "share" and fh.quantity_kind == "share" and fh.kind == "area_level"

    with pytest.raises(SpecError, match="did you mean 'share'"):
        spec = load_area_level_spec(MODELS / "trust_fh.toml")
        section = spec.area_level.model_copy(update={"quantity": "shares"})
        FayHerriotModel.from_spec(spec.model_copy(update={"area_level": section}))


def test_survey_area_covariates_are_checked(tmp_path: Path) -> None:
    shutil.copytree(MODELS, tmp_path / "models")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    areas = pd.read_csv(tmp_path / "data" / "areas.csv")
    areas["urban"] = np.where(areas["area"] == "LC03", None, "yes")
    areas.to_csv(tmp_path / "data" / "areas.csv", index=False)
    path = tmp_path / "models" / "fh.toml"
    path.write_text('name = "fh"\n[area_level]\nsurvey = "trust.toml"\ncovariates = ["urban"]\n')
    with pytest.raises(DataError, match=r"'urban' is blank \(area\(s\) \['LC03'\]\)"):
        FayHerriotModel.from_spec(path)
    path.write_text('name = "fh"\n[area_level]\nsurvey = "trust.toml"\ncovariates = ["urbn"]\n')
    with pytest.raises(
        DataError, match=r"areas.csv: area covariate\(s\) \['urbn'\] named in .*'urban'"
    ):
        FayHerriotModel.from_spec(path)


def test_sampling_variances_are_modelled_when_sample_sizes_are_known(tmp_path: Path) -> None:
    assert _table_model(tmp_path).spec.area_level.variance_model == "known"  # no sizes
    assert FayHerriotModel.from_spec(MODELS / "trust_fh.toml")._modelled  # a survey spec
    with pytest.raises(SpecError, match="'modelled' needs each area's sample size"):
        _table_model(tmp_path, sampling_variance="modelled")
    table = TABLE.assign(size=[60, 120, 1, 8, 30, 50], v=[0.004, 0.002, 0.0, 0.003, None, 0.005])
    fh = _table_model(tmp_path, table, n="size")
    assert fh._modelled
    model = fh.build()
    # log unit variances: centred where the area's own variance is informative (n > 33)
    assert {
        "log_variance_mean",
        "log_variance_sd",
        "log_variance_area",
        "z_variance_noncentred",
    } <= {rv.name for rv in model.free_RVs}
    assert model.coords["sampled_area_centred"] == ("a", "b", "f")
    # the 1-unit area (zero variance) keeps its estimate; its variance carries no information
    assert model.coords["sampled_area"] == ("a", "b", "c", "d", "f")
    observed = model.rvs_to_values[model["direct_variance"]].eval()
    assert observed.tolist() == [0.004, 0.002, 0.003, 0.005]
    # psi = exp(log_variance_mean) / n at z = 0: the estimate's sd follows the pooled variance
    point = model.initial_point()
    mu = fh.default_priors()["log_variance_mean"].params["mu"]
    point["z_variance_noncentred"] = np.zeros(2)
    point["log_variance_area"] = np.full(3, mu)
    point["log_variance_mean"] = np.array(mu)
    assert mu == pytest.approx(np.log(np.median([0.24, 0.24, 0.024, 0.25])), abs=1e-6)
    outputs = model.replace_rvs_by_values([model["sampling_variance"]])
    psi = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")(point)[0]
    np.testing.assert_allclose(psi, np.exp(mu) / np.array([60, 120, 1, 8, 50]), rtol=1e-6)
    flags = fh.inputs.set_index("area")["few_units"]
    assert flags.to_dict() == {"a": False, "b": False, "c": True, "d": True, "e": False, "f": False}
    # the binomial variant smooths design effects: n_eff = n / D, D shrunk towards the typical
    shares = _table_model(tmp_path, table, n="size", kind="share", likelihood="binomial")
    assert not {"log_variance_mean", "z_variance"} & {rv.name for rv in shares.build().free_RVs}
    from lcmodel.design.variances import smoothed_design_effects

    n = np.array([60, 120, 1, 8, 50])
    y, v = np.array([0.42, 0.55, 0.61, 0.38, 0.5]), np.array([0.004, 0.002, 0.0, 0.003, 0.005])
    expected = n / smoothed_design_effects(n, v * (n - 1) / (y * (1 - y)))
    n_eff = shares.areas["n_eff_smoothed"]
    assert np.isnan(n_eff["e"])  # no estimate
    np.testing.assert_allclose(n_eff[["a", "b", "c", "d", "f"]], expected)


def test_smoothed_design_effects_shrink_by_their_degrees_of_freedom() -> None:
    from lcmodel.design.variances import smoothed_design_effects

    same = smoothed_design_effects(np.array([5, 50, 500]), np.array([1.5, 1.5, 1.5]))
    np.testing.assert_allclose(same, 1.5)
    rng = np.random.default_rng(0)
    n = np.concatenate([np.full(30, 400), [3, 400]])
    deff = np.concatenate([1.3 * np.exp(rng.normal(0, 0.05, 30)), [6.0, 6.0]])
    smoothed = smoothed_design_effects(n, deff)
    assert smoothed[-2] < 2.0  # 3 respondents: pulled to the typical 1.3
    assert smoothed[-1] > 4.0  # 400 respondents: kept near its own
    unusable = smoothed_design_effects(np.array([1, 100, 100]), np.array([np.nan, 1.2, 1.4]))
    assert 1.2 < unusable[0] < 1.4 and smoothed_design_effects(np.array([1]), [np.nan]) == 1


# ---------------------------------------------------------------- fitting
# ------------------------------------------------------ finite population
POPULATION = TABLE.assign(
    y=[0.42, 0.55, 0.61, 0.38, None, 0.50],
    n=[60, 120, 40, 80, 30, 50],
    N=[60, 5000, 80, 400, 90, 100],
)


@pytest.mark.parametrize(
    ("section", "estimand", "message"),
    [
        ({"n": "n"}, "finite_population", "needs each area's population size"),
        ({"population": "N"}, None, "needs each area's sample size"),
    ],
)
def test_finite_population_specs_need_sizes(section: dict, estimand, message: str) -> None:
    raw = {"table": "b.csv", "estimate": "y", "variance": "v", **section}
    with pytest.raises(SpecError, match=message):
        parse_area_level_spec({"name": "fh", "area_level": raw, "estimand": estimand}, "test")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"N": [60, 5000, 30, 400, 90, 100]}, r"area\(s\) \['c'\] have fewer population units"),
        ({"N": [60, 5000, 80.5, 400, 90, 100]}, r"whole numbers .* \['c'\] have \[80.5\]"),
        ({"N": [60, 5000, 80, 400, None, 100]}, r"\['e'\]"),
        ({"n": [60, None, 40, 80, 30, 50]}, r"\['b'\] have a direct estimate but no sample size"),
    ],
)
def test_bad_population_sizes_are_clear_errors(tmp_path: Path, change: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        _table_model(tmp_path, POPULATION.assign(**change), n="n", population="N")


def _posterior(values: np.ndarray, areas: list[str]) -> xr.Dataset:
    """A posterior of ``area_value`` alone: 1 chain, draws x areas."""
    data = values.reshape(1, *values.shape, 1)
    return xr.Dataset(
        {"area_value": (("chain", "draw", "area", "quantity"), data)},
        coords={"area": areas, "quantity": ["share"]},
    )


def test_finite_population_values_add_the_sampled_units_to_predicted_others(
    tmp_path: Path,
) -> None:
    fh = _table_model(
        tmp_path, POPULATION, n="n", population="N", kind="share", likelihood="binomial"
    )
    assert fh.spec.target == "finite_population"
    assert set(fh.inputs["estimand"]) == {
        "finite population, Fay-Herriot of the table's direct estimates"
    }
    areas = list(fh.areas.index)
    p = np.full((4000, len(areas)), 0.3)
    finished = fh.finish_posterior(_posterior(p, areas), np.random.default_rng(1))
    value = finished["area_value"].isel(chain=0, quantity=0).to_pandas()
    # a: every unit sampled, so its value is its direct estimate, exactly
    assert (value["a"] == 0.42).all()
    # c: 40 of 80 sampled (share 0.61), 40 others drawn as Binomial(40, 0.3)
    assert value["c"].mean() == pytest.approx((0.61 * 40 + 0.3 * 40) / 80, abs=0.003)
    assert value["c"].std() == pytest.approx(np.sqrt(40 * 0.3 * 0.7) / 80, rel=0.05)
    # e: unsampled, all 90 units predicted
    assert value["e"].std() == pytest.approx(np.sqrt(0.3 * 0.7 / 90), rel=0.05)
    # b: 120 of 5,000 sampled, so almost the model's value
    assert value["b"].mean() == pytest.approx(0.3 + 120 / 5000 * 0.25, abs=0.002)
    superpopulation = fh.with_spec(fh.spec.model_copy(update={"estimand": "superpopulation"}))
    posterior = _posterior(p, areas)
    assert superpopulation.finish_posterior(posterior, np.random.default_rng(1)) is posterior


def test_finite_population_from_a_weighted_survey_counts_effective_units(tmp_path: Path) -> None:
    """Survey route: sizes from the areas table; weights make the direct estimate count as
    ``n / deff`` answers, not ``n``."""
    shutil.copytree(MODELS, tmp_path / "models")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    unit = UnitLevelModel.from_spec(MODELS / "trust.toml")
    n = unit.data.areas["n"]
    areas = pd.read_csv(tmp_path / "data" / "areas.csv")
    areas["households"] = (n.reindex(areas["area"]).to_numpy() * 3).astype(int)
    areas.to_csv(tmp_path / "data" / "areas.csv", index=False)
    trust = (tmp_path / "models" / "trust.toml").read_text()
    weighted = trust.replace('area = "area"\n', 'area = "area"\nweight = "weight"\n', 1)
    (tmp_path / "models" / "weighted.toml").write_text(weighted.replace("trust", "weighted", 1))
    path = tmp_path / "models" / "fh.toml"
    path.write_text(
        'name = "fh"\n[area_level]\nsurvey = "weighted.toml"\nlikelihood = "binomial"\n'
        'population = "households"\n'
    )
    fh = FayHerriotModel.from_spec(path)
    areas = fh.areas
    assert fh.spec.target == "finite_population"
    assert (areas["population"] == 3 * areas["n"]).all()
    expected = np.round(areas["n_eff_smoothed"].clip(upper=areas["n"]))
    np.testing.assert_array_equal(areas["known_units"], expected)
    assert (areas["known_units"] < areas["n"]).any()  # weights: fewer effective answers
    np.testing.assert_allclose(areas["known"], areas["known_units"] * areas["estimate"])
    assert fh.inputs["estimand"].iloc[0] == (
        "finite population, Fay-Herriot of weighted direct estimates"
    )
    path.write_text(path.read_text().replace("households", "househlds"))
    with pytest.raises(DataError, match="did you mean 'households'"):
        FayHerriotModel.from_spec(path)


def test_finite_population_means_draw_the_other_units_with_the_unit_variance(
    tmp_path: Path,
) -> None:
    table = POPULATION.assign(y=[4.2, 5.5, 6.1, 3.8, None, 5.0])
    fh = _table_model(tmp_path, table, n="n", population="N", sampling_variance="known")
    areas = list(fh.areas.index)
    theta = np.full((4000, len(areas)), 5.0)
    finished = fh.finish_posterior(_posterior(theta, areas), np.random.default_rng(2))
    value = finished["area_value"].isel(chain=0, quantity=0).to_pandas()
    # c: unit variance n v = 40 x 0.006; 40 other units, so sd sqrt(40 x 0.24) / 80
    assert value["c"].mean() == pytest.approx((6.1 * 40 + 5.0 * 40) / 80, abs=0.002)
    assert value["c"].std() == pytest.approx(np.sqrt(40 * 40 * 0.006) / 80, rel=0.05)
    # e: unsampled, the median unit variance of the sampled areas
    unit = np.median(table["v"].dropna() * table["n"][table["v"].notna()])
    assert value["e"].std() == pytest.approx(np.sqrt(unit / 90), rel=0.05)
    assert (value["a"] == 4.2).all()


@pytest.mark.sampling
def test_a_tiny_area_with_alike_answers_does_not_pin_its_value(tmp_path: Path) -> None:
    """40 areas, unit sd 20: an area of 2 whose answers happen to be close (variance 0.25)
    must not get an interval of width 1 (known variances) but the pooled one."""
    rng = np.random.default_rng(4)
    n = rng.integers(5, 200, 40)
    n[0] = 2
    theta = rng.normal(50, 8, 40)
    variance = 400 / n * rng.chisquare(n - 1) / (n - 1)
    variance[0] = 0.25
    table = pd.DataFrame(
        {
            "region": [f"r{i:02d}" for i in range(40)],
            "y": rng.normal(theta, np.sqrt(400 / n)),
            "v": variance,
            "size": n,
        }
    )
    known = _table_model(tmp_path, table, sampling_variance="known")
    modelled = _table_model(tmp_path, table, n="size")
    sds = {}
    for label, fh in [("known", known), ("modelled", modelled)]:
        result = fh.fit(progressbar=False, draws=500, tune=500, chains=2, seed=2)
        assert result.diagnostics().n_divergent == 0
        sds[label] = result.estimates().set_index("area").loc["r00", "sd"]
        if label == "modelled":
            unit_variance = float(np.exp(result.posterior["log_variance_mean"]).mean())
    print(f"2-unit area: posterior sd {sds['known']:.2f} (known) vs {sds['modelled']:.2f}")
    assert sds["known"] < 0.6
    assert sds["modelled"] > 5.0  # sqrt(400 / 2) = 14 before pooling with the area mean
    assert 250 < unit_variance < 600


@pytest.mark.sampling
def test_normal_fay_herriot_recovers_area_values(tmp_path: Path) -> None:
    """Three simulated sets of 60 areas with known theta: 180 intervals."""
    hits90, hits50 = [], []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=60)
        theta = 2.0 + 0.5 * x + rng.normal(0, 0.4, 60)
        variance = rng.uniform(0.02, 0.3, 60)
        table = pd.DataFrame(
            {
                "region": [f"r{i:02d}" for i in range(60)],
                "y": rng.normal(theta, np.sqrt(variance)),
                "v": variance,
                "x": x,
            }
        )
        folder = tmp_path / f"set{seed}"
        folder.mkdir()
        fh = _table_model(folder, table, numeric_covariates=["x"])
        result = fh.fit(progressbar=False, draws=500, tune=500, chains=2, seed=seed)
        assert result.diagnostics().n_divergent == 0
        for prob, hits in [(0.9, hits90), (0.5, hits50)]:
            table90 = result.estimates(prob=prob).set_index("area").loc[table["region"]]
            hits.extend((table90["lower"] <= theta) & (theta <= table90["upper"]))
    coverage90, coverage50 = np.mean(hits90), np.mean(hits50)
    print(f"normal FH: 180 intervals, coverage 90%: {coverage90:.3f}, 50%: {coverage50:.3f}")
    assert 0.83 <= coverage90 <= 0.97
    assert 0.38 <= coverage50 <= 0.62


@pytest.mark.sampling
def test_binomial_fay_herriot_recovers_shares_and_keeps_extreme_areas(tmp_path: Path) -> None:
    """Direct shares of 0 or 1 in tiny areas: the binomial variant uses them, and its intervals
    cover the true sample-standardised shares of 60 simulated areas."""
    survey = simulate_survey(n_respondents=900, n_areas=60, seed=21, spatial_share=0.0)
    survey.write(tmp_path)
    text = (MODELS / "trust.toml").read_text().replace("../data/", "")
    (tmp_path / "trust.toml").write_text(text.split("[benchmark]")[0])
    (tmp_path / "fh.toml").write_text(
        'name = "fh"\n[area_level]\nsurvey = "trust.toml"\n'
        'numeric_covariates = ["deprivation_decile"]\nlikelihood = "binomial"\n'
    )
    fh = FayHerriotModel.from_spec(tmp_path / "fh.toml")
    extreme = fh.areas["estimate"].isin([0.0, 1.0])
    assert extreme.any()  # the case the normal likelihood cannot use
    result = fh.fit(progressbar=False, draws=500, tune=500, chains=2, seed=2)
    assert result.diagnostics().n_divergent == 0
    truth = survey.truth[survey.truth["indicator"] == "trust"].set_index("area")["sample"]
    table = result.estimates().set_index("area")
    true = truth.reindex(table.index)
    coverage = np.mean((table["lower"] <= true) & (true <= table["upper"]))
    print(f"binomial FH: 60 areas, coverage 90%: {coverage:.3f}")
    assert 0.8 <= coverage <= 0.99
    survey_spec = str(tmp_path / "trust.toml")
    with pytest.warns(UserWarning, match="normal likelihood cannot use them"):
        normal = FayHerriotModel.from_spec(
            parse_area_level_spec(
                {"name": "n", "area_level": {"survey": survey_spec, "sampling_variance": "known"}},
                "test",
            )
        )
    assert normal.areas["estimate"].notna().sum() == (~extreme).sum()
    # with modelled variances (the default) a zero direct variance is no reason to drop an area
    modelled = FayHerriotModel.from_spec(
        parse_area_level_spec({"name": "n", "area_level": {"survey": survey_spec}}, "test")
    )
    assert modelled.areas["estimate"].notna().sum() == fh.areas["estimate"].notna().sum()


@pytest.mark.sampling
def test_cli_fits_an_area_level_spec(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    small = ["--draws", "300", "--tune", "300", "--chains", "2", "--seed", "1", "--quiet"]
    spec = str(MODELS / "trust_fh.toml")
    assert main(["fit", spec, "--out", str(out), "--allow-failed-diagnostics", *small]) == 0
    assert "fay_herriot (binomial)" in capsys.readouterr().out
    loaded = load(out)
    assert loaded.metadata["kind"] == "area_level"
    assert len(loaded.estimates()) == 20
    assert main(["priors", spec]) == 0
    assert "sigma_area" in capsys.readouterr().out
    assert main(["fit", spec, "--data", "x.csv"]) == EXIT_BAD_INPUT


# ------------------------------------------------- reliability and export
def test_reliability_flags_follow_the_thresholds() -> None:
    from lcmodel.results.estimates import reliability

    flags = reliability(np.array([0.05, 0.2, 0.21, 0.33, 0.5, np.nan]), 0.2, 0.33)
    assert list(flags) == ["publish", "publish", "caution", "caution", "suppress", "suppress"]
    with pytest.raises(SpecError, match=r"cv_caution .* must be below cv_suppress"):
        parse_area_level_spec(
            {"name": "fh", "area_level": {"survey": "a.toml"}, "fit": {"cv_caution": 0.5}},
            "test",
        )


@pytest.mark.sampling
def test_estimates_carry_cv_and_export_to_csv_and_excel(tmp_path: Path) -> None:
    fh = _table_model(tmp_path, covariates=["group"])
    result = fh.fit(progressbar=False, draws=300, tune=300, chains=2, seed=4)
    table = result.estimates()
    np.testing.assert_allclose(table["cv"], table["sd"] / table["mean"].abs())
    strict = result.spec.with_overrides(cv_caution=0.01, cv_suppress=0.02)
    flagged = type(result)(
        result.idata, strict, result.inputs, result.diagnostics(), result.metadata
    ).estimates()
    assert (flagged["reliability"] != "publish").all()
    assert ((table["reliability"] == "publish") == (table["cv"] <= 0.2)).all()
    written = result.export(tmp_path / "fh.xlsx")
    sheets = pd.read_excel(written[0], sheet_name=None)
    assert set(sheets) == {"estimates", "metadata"}
    meta = dict(zip(sheets["metadata"]["key"], sheets["metadata"]["value"], strict=True))
    assert meta["interval"] == "90% equal-tailed posterior interval"
    assert meta["model"] == "fh" and "version" in " ".join(meta)
    csv, companion = result.export(tmp_path / "fh.csv")
    assert pd.read_csv(csv)["area"].tolist() == list(table["area"])
    assert companion.name == "fh-metadata.csv"
    parquet, _ = result.export(tmp_path / "fh.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), table)  # types kept
    with pytest.raises(LcmodelError, match=r"writes \.csv or \.parquet or \.xlsx"):
        result.export(tmp_path / "fh.json")


def test_units_behind_direct_estimates() -> None:
    from lcmodel.design.area_units import few_units, known_units, sampled_units

    table = pd.DataFrame(
        {"estimate": [0.5, 0.2, np.nan, 0.4], "n": [10.0, 7.0, 5.0, 1.0]},
        index=pd.Index(["A", "B", "C", "D"], name="area"),
    )
    np.testing.assert_array_equal(sampled_units(table), [10, 7, 0, 1])  # C has no estimate
    plain = known_units(table)
    np.testing.assert_array_equal(plain["known_units"], [10, 7, 0, 1])
    np.testing.assert_allclose(plain["known"], [5.0, 1.4, 0.0, 0.4])
    weighted = known_units(table.assign(deff=[2.0, 0.5, 1.0, 3.0]))
    # n / deff rounded, never above n (a design effect below 1 counts as 1), at least 1 unit
    np.testing.assert_array_equal(weighted["known_units"], [5, 7, 0, 1])
    flags = few_units(table, 8, pd.Series(["A", "B", "C", "D"]))
    np.testing.assert_array_equal(flags, [False, True, False, True])
