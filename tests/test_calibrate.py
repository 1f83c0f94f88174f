"""Internal benchmarking (``[calibrate]``): exact draw-by-draw constraints, specs, coverage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcmodel import DataError, SpecError, UnitLevelModel
from lcmodel.data.population import area_weights
from lcmodel.design.calibration import calibrate, plan_calibration
from lcmodel.simulate import simulate_survey
from lcmodel.spec import CalibrateSpec, parse_spec

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.mark.parametrize("method", ["ratio", "difference"])
def test_every_draw_has_the_target_weighted_mean(method: str) -> None:
    rng = np.random.default_rng(1)
    values = rng.uniform(0.2, 0.8, size=(4, 250, 12))
    weights = rng.integers(0, 500, size=12).astype(float)
    adjusted = calibrate(values, weights, 0.61, method)
    means = (adjusted * weights).sum(axis=-1) / weights.sum()
    np.testing.assert_allclose(means, 0.61, atol=1e-12)
    change = adjusted / values if method == "ratio" else adjusted - values
    # one factor (or shift) per draw, the same for every area
    np.testing.assert_allclose(change, change[..., :1].repeat(12, axis=-1), atol=1e-12)


def _inputs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area": ["a", "b", "c", "a", "b", "c"],
            "quantity": ["share"] * 3 + ["other"] * 3,
            "kind": ["share"] * 3 + ["mean"] * 3,
            "direct": [0.2, 0.6, np.nan, 1.0, 2.0, 3.0],
        }
    )


def test_a_direct_target_is_the_weighted_mean_over_areas_with_a_direct_estimate() -> None:
    settings = CalibrateSpec(target="direct", weights="population")
    weights = np.array([100.0, 300.0, 600.0])
    plan = plan_calibration(
        settings, _inputs(), ["a", "b", "c"], ["share", "other"], "share", weights
    )
    assert plan.target == pytest.approx((0.2 * 100 + 0.6 * 300) / 400)
    np.testing.assert_array_equal(plan.weights, [100.0, 300.0, 0.0])  # c has no direct
    assert plan.quantity == 0 and plan.method == "ratio"
    assert "population-weighted mean of share" in plan.label
    other = CalibrateSpec(target=2.5, method="difference", quantity="other")
    plan = plan_calibration(other, _inputs(), ["a", "b", "c"], ["share", "other"], "share", weights)
    assert (plan.quantity, plan.target) == (1, 2.5)
    np.testing.assert_array_equal(plan.weights, weights)


def test_bad_calibrations_are_spec_errors() -> None:
    weights = np.ones(3)
    with pytest.raises(SpecError, match="not a share between 0 and 1"):
        plan_calibration(
            CalibrateSpec(target=56.0), _inputs(), list("abc"), ["share"], "share", weights
        )
    with pytest.raises(SpecError, match="quantity 'trust' is not a quantity"):
        plan_calibration(
            CalibrateSpec(target=0.5, quantity="trust"),
            _inputs(),
            list("abc"),
            ["share"],
            "share",
            weights,
        )
    raw = {
        "name": "x",
        "data": "s.csv",
        "outcome": {"column": "y"},
        "structure": {"area": "area"},
        "calibrate": {"target": 0.5, "method": "rake"},
    }
    with pytest.raises(SpecError, match=r"calibrate\.method"):
        parse_spec(raw, "x.toml")


def test_area_weights_name_the_table_and_column() -> None:
    areas = pd.DataFrame({"population": [10.0, -1.0, 5.0]}, index=["a", "b", "c"])
    n = pd.Series([3, 0, 2], index=areas.index)
    np.testing.assert_array_equal(area_weights(areas, "n", "areas.csv", n), [3, 0, 2])
    with pytest.raises(DataError, match=r"areas\.csv: .*'populaton' not found.*'population'"):
        area_weights(areas, "populaton", "areas.csv", n)
    with pytest.raises(DataError, match=r"non-negative numbers; area\(s\) \['b'\]"):
        area_weights(areas, "population", "areas.csv", n)
    with pytest.raises(DataError, match="zero in every area"):
        area_weights(areas.assign(population=0.0), "population", "areas.csv", n)


@pytest.mark.sampling
def test_calibrated_mrp_adds_up_and_still_covers_the_true_area_shares(tmp_path: Path) -> None:
    """MRP of 40 simulated areas benchmarked to the true population share of all of them."""
    survey = simulate_survey(n_respondents=2000, n_areas=40, n_waves=1, seed=23)
    survey.write(tmp_path)
    population = pd.read_csv(tmp_path / "population.csv").groupby("area")["count"].sum()
    areas = pd.read_csv(tmp_path / "areas.csv")
    areas["population"] = areas["area"].map(population)
    areas.to_csv(tmp_path / "areas.csv", index=False)
    truth = survey.truth
    truth = truth[truth["indicator"] == "trust"].set_index("area")["population"]
    target = float((truth * population).sum() / population.sum())
    text = (MODELS / "trust_mrp.toml").read_text().replace("../data/", "")
    text = text.replace('wave = "wave"\n', "").split("[fit]")[0]
    text += f'\n[calibrate]\ntarget = {target!r}\nweights = "population"\n'
    (tmp_path / "spec.toml").write_text(text)
    result = UnitLevelModel.from_spec(tmp_path / "spec.toml").fit(
        progressbar=False, draws=500, tune=500, chains=2, seed=3
    )
    values = result.posterior["area_value"].sel(quantity="share").to_numpy()
    weights = population.reindex(result.posterior["area"].values).to_numpy(dtype=float)
    np.testing.assert_allclose((values * weights).sum(-1) / weights.sum(), target, atol=1e-12)
    table = result.estimates().set_index("area")
    true = truth.reindex(table.index)
    coverage = float(((table["lower"] <= true) & (true <= table["upper"])).mean())
    raw = result.posterior["area_value_uncalibrated"].sel(quantity="share")
    low, high = (raw.quantile(q, dim=("chain", "draw")).to_series() for q in (0.05, 0.95))
    before = float(((low[table.index] <= true) & (true <= high[table.index])).mean())
    print(
        f"calibrated MRP, 40 areas: coverage 90% {coverage:.3f} (unadjusted {before:.3f}), "
        f"mean |adjustment| {table['adjustment'].abs().mean():.4f}"
    )
    assert (table["calibration"].str.startswith("ratio benchmarked")).all()
    assert coverage >= 0.8
