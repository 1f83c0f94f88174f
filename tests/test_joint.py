"""The joint multi-indicator model: spec, structure, wiring of the correlation, fits, files, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from lcmodel import JointFitResult, JointModel, load
from lcmodel.cli import EXIT_BAD_INPUT, main
from lcmodel.design.dims import PAIR
from lcmodel.errors import DataError, LcmodelError, SpecError
from lcmodel.results.estimates import ESTIMATE_COLUMNS, OPTIONAL_COLUMNS
from lcmodel.results.joint_result import CORRELATION_COLUMNS, indicator_tree
from lcmodel.simulate import simulate_survey
from lcmodel.spec import load_any_spec, load_joint_spec, load_spec
from lcmodel.workflows.joint_comparison import compare_with_separate

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
SOCIAL = MODELS / "social_joint.toml"
SMALL = {"draws": 300, "tune": 300, "chains": 2, "seed": 3}


def _joint_spec(folder: Path, indicators: list[str], extra: str = "") -> Path:
    path = folder / "joint.toml"
    listed = ", ".join(f'"{name}.toml"' for name in indicators)
    path.write_text(f'name = "mixed"\nindicators = [{listed}]\n{extra}')
    return path


@pytest.fixture
def models_copy(tmp_path: Path) -> Path:
    shutil.copytree(MODELS, tmp_path / "models")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path / "models"


# ------------------------------------------------------------------ specs
def test_joint_spec_loads_indicators_with_joint_fit_settings(models_copy: Path) -> None:
    path = _joint_spec(models_copy, ["trust", "health"], "[fit]\ndraws = 123\nseed = 9\n")
    spec = load_joint_spec(path)
    assert spec.names == ["trust", "health"]
    assert spec.correlation.eta == 2.0
    specs = spec.indicator_specs()
    assert [s.outcome.family for s in specs] == ["bernoulli", "ordinal"]
    assert all(s.fit.draws == 123 and s.fit.seed == 9 for s in specs)
    assert isinstance(load_any_spec(path), type(spec))
    assert load_any_spec(models_copy / "trust.toml").name == "trust"


@pytest.mark.parametrize(
    ("indicators", "extra", "message"),
    [
        (["trust"], "", "at least 2"),
        (["trust", "trust"], "", "appear more than once"),
        (["trust", "health"], "[corelation]\neta = 2\n", "did you mean 'correlation'"),
        (["trust", "health"], "[correlation]\neta = 0\n", "greater than 0"),
        (["trust", "nonexistent"], "", "nonexistent.toml: spec file not found"),
    ],
)
def test_bad_joint_specs_are_clear_errors(
    models_copy: Path, indicators: list[str], extra: str, message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        load_joint_spec(_joint_spec(models_copy, indicators, extra))


def test_indicators_must_share_the_survey(models_copy: Path) -> None:
    text = (models_copy / "health.toml").read_text()
    (models_copy / "health.toml").write_text(text.replace("../data/survey.csv", "other.csv"))
    with pytest.raises(SpecError, match="indicators share one survey: 'health' has data"):
        load_joint_spec(_joint_spec(models_copy, ["trust", "health"]))


def test_single_and_joint_loaders_refuse_each_other(models_copy: Path) -> None:
    with pytest.raises(SpecError, match="is a joint model spec, not a model spec"):
        load_spec(SOCIAL, "unit_level")
    with pytest.raises(SpecError, match="is a model spec, not a joint model spec"):
        load_joint_spec(models_copy / "trust.toml")
    assert load_spec(SOCIAL).kind == "joint"
    path = models_copy / "bad.toml"
    path.write_text('name = "bad"\nindicators = "trust.toml"\n')
    with pytest.raises(SpecError, match="must be a list of spec file paths"):
        load_joint_spec(path)


def test_indicators_must_cover_the_same_areas(tmp_path: Path) -> None:
    """Without an areas table, an area nobody answered one question in would be missing."""
    survey = pd.read_csv(ROOT / "data" / "survey.csv")
    survey.loc[survey["area"] == "LC14", "trust"] = np.nan
    survey.to_csv(tmp_path / "survey.csv", index=False)
    for name in ["trust", "belonging"]:
        text = (MODELS / f"{name}.toml").read_text().split("[benchmark]")[0]
        text = text.replace("../data/survey.csv", "survey.csv")
        text = text.replace('areas = "../data/areas.csv"\n', "")
        text = text.replace('area_covariates = ["deprivation_decile"]\n', "")
        (tmp_path / f"{name}.toml").write_text(text)
    with pytest.raises(DataError, match=r"cover different areas \(\['LC14'\]"):
        JointModel.from_spec(_joint_spec(tmp_path, ["trust", "belonging"]))


# -------------------------------------------------------------- structure
@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> JointModel:
    """A binary and an ordinal indicator together."""
    folder = tmp_path_factory.mktemp("mixed")
    shutil.copytree(MODELS, folder / "models")
    shutil.copytree(ROOT / "data", folder / "data")
    return JointModel.from_spec(_joint_spec(folder / "models", ["trust", "health"]))


def test_joint_structure_prefixes_each_indicator(mixed: JointModel) -> None:
    model = mixed.build()
    free = {rv.name for rv in model.free_RVs}
    assert {"area_corr_chol", "u_area", "trust::intercept", "health::cutpoints"} <= free
    assert "trust::sigma_area" in free and "health::sigma_area" in free
    assert "trust::z_area" not in free  # a deterministic: the correlated effect
    dims = model.named_vars_to_dims
    assert dims["u_area"] == ("area", "indicator")
    assert dims["trust::area_value"] == ("area", "trust::quantity")
    assert dims["health::y"] == ("health::cell", "health::category")
    assert dims["trust::beta_age_band"] == ("trust::age_band",)
    assert model.coords[PAIR] == ("trust|health",)
    assert len(model.coords["health::quantity"]) == len(mixed["health"].quantities())


def test_prior_table_lists_every_indicator_and_the_lkj(mixed: JointModel) -> None:
    table = mixed.prior_table()
    assert table.loc[("trust", "intercept"), "prior"] == "Normal(mu=0, sigma=2.5)"
    assert ("health", "cutpoints") in table.index
    assert table.loc[("(all)", "area_correlation"), "prior"] == "LKJ(eta=2)"
    with pytest.raises(LcmodelError, match="did you mean 'trust'"):
        mixed["trusts"]


def test_area_effects_have_the_lkj_correlation() -> None:
    """With the Cholesky factor fixed, the indicators' z_area have exactly that correlation."""
    joint = JointModel.from_spec(SOCIAL)
    target = np.array(
        [[1, 0.6, 0.2, -0.3], [0.6, 1, 0.4, 0.1], [0.2, 0.4, 1, 0.5], [-0.3, 0.1, 0.5, 1]]
    )
    fixed = pm.do(joint.build(), {"area_corr_chol": np.linalg.cholesky(target)})
    names = joint.names
    draws = pm.draw(
        [fixed[f"{name}::z_area"] for name in names] + [fixed["area_correlation"]],
        draws=1000,
        random_seed=1,
    )
    z = np.column_stack([d.ravel() for d in draws[:-1]])
    np.testing.assert_allclose(np.corrcoef(z.T), target, atol=0.03)
    assert np.allclose(z.std(axis=0), 1.0, atol=0.03)
    pairs = dict(zip(fixed.coords[PAIR], draws[-1][0], strict=True))
    for (i, a), (j, b) in [((0, names[0]), (3, names[3])), ((1, names[1]), (2, names[2]))]:
        assert pairs[f"{a}|{b}"] == pytest.approx(target[i, j])


# ---------------------------------------------------------------- fitting
@pytest.fixture(scope="module")
def mixed_fit(mixed: JointModel) -> JointFitResult:
    return mixed.fit(progressbar=False, **SMALL)


@pytest.mark.sampling
def test_joint_fit_gives_every_indicators_estimates(mixed_fit: JointFitResult) -> None:
    table = mixed_fit.estimates()
    columns = [c for c in ESTIMATE_COLUMNS if c not in OPTIONAL_COLUMNS]
    assert list(table.columns) == ["indicator", *columns]
    assert set(table["indicator"]) == {"trust", "health"}
    health = mixed_fit["health"].estimates()
    assert "share:good or very good" in set(health["quantity"])
    assert mixed_fit["trust"].headline == "share"
    assert mixed_fit["health"].metadata["joint"] == "mixed"
    # each indicator's slice holds the variables of a separate fit, without prefixes
    tree = indicator_tree(mixed_fit.idata, "health")
    assert {"cutpoints", "z_area", "area_value"} <= set(tree["posterior"].data_vars)
    assert "trust::intercept" not in tree["posterior"].data_vars
    correlations = mixed_fit.correlations()
    assert list(correlations.columns) == CORRELATION_COLUMNS
    assert len(correlations) == 1
    row = correlations.iloc[0]
    assert -1 < row["lower"] < row["mean"] < row["upper"] < 1
    matrix = mixed_fit.correlation_matrix()
    assert matrix.loc["trust", "health"] == matrix.loc["health", "trust"] == row["mean"]
    assert "joint model of 2 indicators" in mixed_fit.describe()


@pytest.mark.sampling
def test_joint_result_saves_and_loads_exactly(mixed_fit: JointFitResult, tmp_path: Path) -> None:
    folder = mixed_fit.save(tmp_path / "out")
    assert {"forest-trust.png", "forest-health.png", "correlations.csv"} <= {
        p.name for p in folder.iterdir()
    }
    assert json.loads((folder / "result.json").read_text())["kind"] == "joint"
    loaded = load(folder)
    assert isinstance(loaded, JointFitResult)
    # the interface every result shares (lcmodel.Result): indicators, facts, hashes, a copy
    assert loaded.is_joint
    assert loaded.names == ["trust", "health"]
    assert loaded["health"] is loaded.indicators["health"]
    facts = loaded.indicator_facts()
    assert [spec.name for spec, _ in facts.values()] == ["trust", "health"]
    assert loaded.data_hashes() == {
        name: mixed_fit.metadata["indicators"][name]["data_hash"] for name in ("trust", "health")
    }
    copy = loaded.with_posterior(loaded.idata)
    assert isinstance(copy, JointFitResult)
    pd.testing.assert_frame_equal(copy.correlations(), loaded.correlations())
    pd.testing.assert_frame_equal(loaded.estimates(), mixed_fit.estimates())
    pd.testing.assert_frame_equal(loaded.correlations(), mixed_fit.correlations())
    written = loaded.export(tmp_path / "mixed.xlsx")
    sheets = pd.read_excel(written[0], sheet_name=None)
    assert set(sheets) == {"estimates", "metadata", "correlations"}
    assert len(sheets["estimates"]) == len(mixed_fit.estimates())


@pytest.mark.sampling
def test_comparison_with_separate_models(mixed: JointModel, mixed_fit: JointFitResult) -> None:
    comparison = compare_with_separate(mixed, joint_result=mixed_fit)
    loo = comparison.loo.set_index("indicator")
    answers = {name: len(mixed[name].data.respondents) for name in mixed.names}
    assert loo.loc["trust", "answers"] == answers["trust"]
    assert loo.loc["all", "answers"] == sum(answers.values())
    # the "all" row pools every answer of every indicator
    for column in ["elpd_joint", "elpd_separate", "p_loo_joint"]:
        assert loo.loc["all", column] == pytest.approx(loo.loc[mixed.names, column].sum())
    assert np.isfinite(loo[["elpd_joint", "elpd_separate", "se_diff"]].to_numpy()).all()
    # answers are scored one by one: elpd per answer is a log probability of one answer
    assert -2.0 < loo.loc["trust", "elpd_joint"] / answers["trust"] < 0
    widths = comparison.widths
    assert len(widths) == len(mixed_fit.estimates())
    assert (widths["width_joint"] > 0).all() and (widths["width_separate"] > 0).all()
    small = comparison.smallest_areas(2)
    assert small["area"].nunique() == 2 and small["headline"].all()
    assert "PSIS-LOO over" in comparison.describe()
    assert set(comparison.diagnostics) == {"joint", "trust (separate)", "health (separate)"}


@pytest.mark.sampling
def test_joint_model_recovers_correlations_and_shares(tmp_path: Path) -> None:
    """60 simulated areas, true correlations 0.40-0.60 among the four social indicators."""
    from lcmodel.simulate.survey import _AREA_CORRELATION, _OUTCOMES

    survey = simulate_survey(
        n_respondents=3000, n_areas=60, seed=11, area_sd=0.8, spatial_share=0.0
    )
    survey.write(tmp_path)
    names = ["speak_neighbours", "trust", "belonging", "collective_efficacy"]
    for name in names:
        text = (MODELS / f"{name}.toml").read_text().replace("../data/", "")
        (tmp_path / f"{name}.toml").write_text(text.split("[benchmark]")[0])
    result = JointModel.from_spec(_joint_spec(tmp_path, names)).fit(
        progressbar=False, draws=500, tune=500, chains=2, seed=5
    )
    assert result.diagnostics().n_divergent == 0
    index = {name: i for i, name in enumerate(_OUTCOMES)}
    correlations = result.correlations()
    truth = np.array(
        [
            _AREA_CORRELATION[index[a], index[b]]
            for a, b in zip(correlations["indicator"], correlations["with_indicator"], strict=True)
        ]
    )
    covered = (correlations["lower"] <= truth) & (truth <= correlations["upper"])
    print(correlations.assign(truth=truth)[["indicator", "with_indicator", "mean", "truth"]])
    assert covered.sum() >= 5
    assert np.abs(correlations["mean"] - truth).mean() < 0.15
    estimates = result.estimates()
    true = survey.truth.set_index(["indicator", "area", "quantity"])["sample"]
    keys = pd.MultiIndex.from_frame(estimates[["indicator", "area", "quantity"]])
    values = true.reindex(keys).to_numpy()
    coverage = np.mean((estimates["lower"] <= values) & (values <= estimates["upper"]))
    half = result.estimates(prob=0.5)
    coverage50 = np.mean((half["lower"] <= values) & (values <= half["upper"]))
    print(f"joint: 240 intervals, coverage 90%: {coverage:.3f}, 50%: {coverage50:.3f}")
    assert 0.84 <= coverage <= 0.96
    assert 0.40 <= coverage50 <= 0.60


# -------------------------------------------------------------------- CLI
@pytest.mark.sampling
def test_cli_fits_and_compares_a_joint_spec(models_copy: Path, tmp_path: Path, capsys) -> None:
    spec = _joint_spec(models_copy, ["trust", "health"])
    small = ["--draws", "200", "--tune", "200", "--chains", "2", "--seed", "2", "--quiet"]
    allow = "--allow-failed-diagnostics"
    out = tmp_path / "fit"
    assert main(["fit", str(spec), "--out", str(out), allow, *small]) == 0
    printed = capsys.readouterr().out
    assert "correlation of area effects" in printed and "health: share:good" in printed
    assert pd.read_csv(out / "estimates.csv")["indicator"].unique().tolist() == [
        "trust",
        "health",
    ]
    assert main(["summarize", str(out)]) == 0
    assert "trust|health" not in capsys.readouterr().out  # pairs are shown as two columns

    compared = tmp_path / "compare"
    assert main(["compare", str(spec), "--out", str(compared), allow, *small]) == 0
    assert {p.name for p in compared.iterdir()} == {"widths.csv", "loo.csv"}
    loo = pd.read_csv(compared / "loo.csv")
    assert loo["indicator"].tolist() == ["trust", "health", "all"]

    assert main(["compare", str(models_copy / "trust.toml")]) == EXIT_BAD_INPUT
    assert "takes a joint spec" in capsys.readouterr().err
    assert main(["check", str(out)]) == 0  # the saved joint fit: each indicator's checks
    checked = out / "checks"
    assert sorted(p.name for p in checked.iterdir()) == ["health", "trust"]
    assert (checked / "health" / "score_distribution.csv").is_file() is False  # labels
    assert (checked / "trust" / "loo.csv").is_file()


@pytest.mark.sampling
def test_joint_fit_with_area_wave_effects_gives_changes(models_copy: Path, tmp_path: Path) -> None:
    spec = _joint_spec(models_copy, ["trust_waves", "belonging"])
    result = JointModel.from_spec(spec).fit(
        progressbar=False, draws=200, tune=200, chains=2, seed=6
    )
    assert set(result.wave_inputs) == {"trust_waves"}
    changes = result["trust_waves"].changes(1, 6)
    assert len(changes) == 20 and changes["p_improved"].between(0, 1).all()
    with pytest.raises(LcmodelError, match="no area x wave estimates"):
        result["belonging"].changes()
    folder = result.save(tmp_path / "out")
    assert {"changes-trust_waves.csv", "trajectories-trust_waves.png"} <= {
        p.name for p in folder.iterdir()
    }
    pd.testing.assert_frame_equal(load(folder)["trust_waves"].changes(1, 6), changes)
    # one indicator's checks from a fresh joint fit score the joint posterior (all checks)
    checks = result["belonging"].checks()
    assert {"loo", "loo_pit", "prior_sensitivity"} <= set(checks.names)
    assert "log_likelihood" in result["trust_waves"].idata.children  # scored once, for both


def test_indicator_without_areas_table_is_named_plainly(models_copy: Path) -> None:
    text = (models_copy / "speak_neighbours.toml").read_text()
    text = text.replace('areas = "../data/areas.csv"\n', "").split("[benchmark]")[0]
    text = text.replace('area_covariates = ["deprivation_decile"]\n', "")
    (models_copy / "speak_neighbours.toml").write_text(text)
    with pytest.raises(SpecError, match="'speak_neighbours' has no areas but 'trust' has areas ="):
        load_joint_spec(_joint_spec(models_copy, ["trust", "speak_neighbours"]))
