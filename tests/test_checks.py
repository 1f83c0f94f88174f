"""Model checks: fast ones on saved results, and real fits (small draws) per model kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcmodel import UnitLevelModel
from lcmodel.errors import LcmodelError
from lcmodel.results.fit_result import FitResult
from lcmodel.workflows.checks import score_distribution_check

MODELS = Path(__file__).resolve().parents[1] / "models"
SMALL = {"draws": 300, "tune": 300, "chains": 2, "seed": 8}


def _check(name: str):
    model = UnitLevelModel.from_spec(MODELS / f"{name}.toml")
    result = model.fit(progressbar=False, **SMALL)
    return score_distribution_check(model, result), result.checks()["score_distribution"]


@pytest.mark.sampling
def test_ordinal_reproduces_the_anxiety_distribution_and_gaussian_does_not() -> None:
    """Anxiety answers are right-skewed with a peak at 0 (22% of answers): a normal model of
    the 0-10 scores cannot reproduce that; the cumulative-logit model can."""
    (ordinal, ordinal_new), (gaussian, gaussian_new) = _check("anxiety"), _check("anxiety_gaussian")
    # the model check (replicated answers, from the stored predictive draws) says the same
    assert ordinal_new.statistics["p_value"] > 0.05
    assert gaussian_new.statistics["p_value"] < 0.01
    assert (
        gaussian_new.statistics["total_variation"] > 2 * ordinal_new.statistics["total_variation"]
    )
    assert "0" in gaussian_new.flagged
    for check in (ordinal, gaussian, ordinal_new, gaussian_new):
        assert list(check.table["score"]) == list(np.arange(11.0))
        np.testing.assert_allclose(check.table["mean"].sum(), 1.0)
        np.testing.assert_allclose(check.table["observed"].sum(), 1.0)
    assert (ordinal.p_value, gaussian.p_value) == (
        ordinal_new.statistics["p_value"],
        gaussian_new.statistics["p_value"],
    )  # the older form is the model check's
    zero = gaussian.table.set_index("score").loc[0.0]
    assert zero["upper"] < zero["observed"]  # the Gaussian misses the pile-up at 0


# --------------------------------------------------------------- model checks (result.checks())
SAVED = Path(__file__).resolve().parent / "fixtures" / "saved-0.1.0"


def _saved(name: str):
    import lcmodel

    return lcmodel.load(SAVED / name)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize("name", ["trust", "trust_fh"])
def test_checks_of_a_saved_result_need_no_model(name: str, tmp_path: Path) -> None:
    """A result saved without the pointwise groups still has the checks that need no model;
    the others say why they are missing."""
    checks = _saved(name).checks()
    assert checks.names == ["area_ppc", "direct_vs_model", "area_effects_qq"]
    assert set(checks.missing) == {"loo_pit", "loo", "prior_sensitivity", "score_distribution"}
    cv = checks["direct_vs_model"].table
    assert len(cv) == 20 and cv["area"].is_unique
    assert cv[["direct_cv", "model_cv"]].notna().all().all()
    folder = checks.save(tmp_path)
    assert folder == (tmp_path / "checks").resolve()
    assert {p.name for p in folder.iterdir()} == {
        f"{n}.{ext}" for n in checks.names for ext in ("csv", "png")
    } | {"summary.txt"}
    with pytest.raises(LcmodelError, match="no loo check"):
        checks["loo"]


def test_an_area_whose_direct_value_is_moved_far_out_is_flagged_by_the_ppc() -> None:
    result = _saved("trust")
    assert "LC05" not in result.checks()["area_ppc"].flagged
    inputs = result.inputs.copy()
    inputs.loc[inputs["area"] == "LC05", "direct"] = 0.05
    moved = FitResult(
        result.idata, result.spec, inputs, result.diagnostics(), result.metadata
    ).checks()["area_ppc"]
    assert "LC05" in moved.flagged
    row = moved.table.set_index("area").loc["LC05"]
    assert row["outside"] and row["direct"] < row["predictive_lower"]
    assert "LC05" in moved.summary


def test_an_outlying_area_effect_is_flagged_by_the_qq_check() -> None:
    result = _saved("trust")
    posterior = result.idata["posterior"].to_dataset()
    effect = posterior["area_effect"].copy()
    effect.loc[{"area": "LC09"}] = 5.0 * posterior["sigma_area"]
    idata = result.idata.copy()
    idata["posterior"] = posterior.assign(area_effect=effect)
    changed = FitResult(idata, result.spec, result.inputs, result.diagnostics(), result.metadata)
    check = changed.checks()["area_effects_qq"]
    assert check.flagged == ["LC09"]
    assert check.table["standardised"].iloc[-1] == pytest.approx(5.0)
    fig, _ = check.figure()
    assert fig.axes


# one small fit per model kind: the pointwise groups, computed when checks() first asks (or at
# fit time with [fit] pointwise = true), feed every check
SMALL_CHECKS = {"draws": 200, "tune": 200, "chains": 2, "seed": 3}


@pytest.mark.sampling
def test_unit_level_checks_from_the_stored_groups(trust_fit: FitResult, tmp_path: Path) -> None:
    import lcmodel

    # the session's shared fit (conftest.py), on a copy of its posterior: checks add groups
    result = trust_fit.with_posterior(trust_fit.idata.copy())
    result.pointwise_source = trust_fit.pointwise_source
    assert "log_likelihood" not in result.idata.children  # [fit] pointwise is off by default
    checks = result.checks()
    assert {"log_likelihood", "posterior_predictive", "log_prior"} <= set(result.idata.children)
    assert checks.names == [
        "area_ppc",
        "loo_pit",
        "loo",
        "direct_vs_model",
        "area_effects_qq",
        "prior_sensitivity",
    ]
    loo = checks["loo"].table
    assert list(loo["area"])[-1] == "all"
    total = loo.iloc[-1]
    assert total["observations"] == result.metadata["n_respondents"]
    assert total["pareto_k_over_0_7"] == loo["pareto_k_over_0_7"].iloc[:-1].sum()
    assert loo["elpd_loo"].iloc[:-1].sum() == pytest.approx(total["elpd_loo"])
    pit = checks["loo_pit"].table
    assert 0.4 < pit["pit_mean"].iloc[-1] < 0.6
    # saved and loaded: the same checks, no model needed
    again = lcmodel.load(result.save(tmp_path / "trust")).checks()
    pd.testing.assert_frame_equal(again["loo"].table, loo)


@pytest.mark.sampling
def test_fay_herriot_checks_and_a_tight_prior_flagged_by_prior_sensitivity() -> None:
    from lcmodel import FayHerriotModel
    from lcmodel.spec import load_spec

    spec = load_spec(MODELS / "trust_fh.toml")
    result = FayHerriotModel.from_spec(spec).fit(progressbar=False, **SMALL_CHECKS)
    checks = result.checks()
    assert "loo" in checks.names and "prior_sensitivity" in checks.names
    assert checks["loo"].table["observations"].iloc[-1] == 20  # one per area estimate
    assert "intercept" not in checks["prior_sensitivity"].flagged
    prior = {"dist": "Normal", "mu": -1.0, "sigma": 0.02}
    tight = type(spec).model_validate(spec.model_dump() | {"priors": {"intercept": prior}})
    tightened = FayHerriotModel.from_spec(tight).fit(progressbar=False, **SMALL_CHECKS)
    sensitivity = tightened.checks()["prior_sensitivity"]
    assert "intercept" in sensitivity.flagged
    row = sensitivity.table.set_index("parameter").loc["intercept"]
    assert row["diagnosis"] in {"prior-data conflict", "prior-dominated"}
