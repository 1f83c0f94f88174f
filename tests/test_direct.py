"""Design-based direct estimates: Hajek mean, linearisation variance, design effect."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcmodel.design.direct import design_estimates, survey_direct_estimates
from lcmodel.models.unit_level import UnitLevelModel

MODELS = Path(__file__).resolve().parents[1] / "models"


def _one_area(values: np.ndarray, weights: np.ndarray | None) -> pd.Series:
    groups = pd.DataFrame({"area": ["A"] * len(values)})
    table = design_estimates(values[:, None], weights, groups, ["share"])
    return table.iloc[0]


def test_unweighted_is_the_sample_mean_with_variance_s2_over_n() -> None:
    y = np.array([1.0, 0, 0, 1, 1, 1, 0, 1])
    row = _one_area(y, None)
    assert row["direct"] == pytest.approx(y.mean())
    assert row["direct_var"] == pytest.approx(y.var(ddof=1) / len(y))
    assert row["deff"] == pytest.approx(1.0)
    assert row["n_eff"] == pytest.approx(len(y))


def test_hajek_variance_is_unbiased_under_unequal_probability_sampling() -> None:
    """Sampling with replacement, probabilities proportional to size: the mean of the variance
    estimates matches the variance of the estimates over 3,000 samples, and the design effect
    is above 1 because the weights vary."""
    rng = np.random.default_rng(7)
    size = rng.gamma(2.0, 1.0, 5000)
    y = (rng.random(5000) < 1 / (1 + np.exp(-(size - 2)))).astype(float)
    p = size / size.sum()
    # the 3,000 samples as 3,000 groups of one call (each group's estimate is its own)
    drawn = rng.choice(5000, size=(3000, 150), p=p).ravel()
    groups = pd.DataFrame({"area": np.repeat(np.arange(3000), 150)})
    table = design_estimates(y[drawn][:, None], 1.0 / p[drawn], groups, ["share"])
    estimates = table["direct"].to_numpy()
    variances = table["direct_var"].to_numpy()
    deffs = table["deff"].to_numpy()
    assert len(table) == 3000 and (table["n"] == 150).all()
    assert np.mean(estimates) == pytest.approx(y.mean(), abs=0.005)
    assert np.mean(variances) == pytest.approx(np.var(estimates), rel=0.08)
    assert np.median(deffs) > 1.1


def test_constant_answers_fall_back_on_kish_effective_size() -> None:
    w = np.array([1.0, 2.0, 3.0, 2.0])
    row = _one_area(np.ones(4), w)
    assert row["direct"] == 1.0 and row["direct_var"] == 0.0
    assert np.isnan(row["deff"])
    assert row["n_eff"] == pytest.approx(w.sum() ** 2 / (w**2).sum())
    single = _one_area(np.array([1.0]), None)
    assert np.isnan(single["direct_var"]) and single["n"] == 1


def test_survey_direct_estimates_per_area_and_wave() -> None:
    model = UnitLevelModel.from_spec(MODELS / "trust.toml")
    by_area = survey_direct_estimates(model.data)
    assert set(by_area.columns) >= {"area", "quantity", "direct", "direct_se", "deff", "n_eff"}
    assert by_area["n"].sum() == len(model.data.respondents)
    by_wave = survey_direct_estimates(model.data, by_wave=True)
    assert by_wave["n"].sum() == len(model.data.respondents)
    assert {"area", "wave"} <= set(by_wave.columns)
    one = by_wave[(by_wave["area"] == "LC01") & (by_wave["wave"] == 1)].iloc[0]
    answers = model.data.respondents
    mine = answers[(answers["area"] == "LC01") & (answers["wave"] == 1)]["y"]
    assert one["direct"] == pytest.approx(mine.mean())
