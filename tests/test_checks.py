"""Posterior predictive check of the score distribution (real fits, small draws)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lcmodel import UnitLevelModel
from lcmodel.workflows.checks import score_distribution_check

MODELS = Path(__file__).resolve().parents[1] / "models"
pytestmark = pytest.mark.sampling
SMALL = {"draws": 300, "tune": 300, "chains": 2, "seed": 8}


def _check(name: str):
    model = UnitLevelModel.from_spec(MODELS / f"{name}.toml")
    return score_distribution_check(model, model.fit(progressbar=False, **SMALL))


def test_ordinal_reproduces_the_anxiety_distribution_and_gaussian_does_not() -> None:
    """Anxiety answers are right-skewed with a peak at 0 (22% of answers): a normal model of
    the 0-10 scores cannot reproduce that; the cumulative-logit model can."""
    ordinal, gaussian = _check("anxiety"), _check("anxiety_gaussian")
    for check in (ordinal, gaussian):
        assert list(check.table["score"]) == list(np.arange(11.0))
        np.testing.assert_allclose(check.table["mean"].sum(), 1.0)
        np.testing.assert_allclose(check.table["observed"].sum(), 1.0)
    assert ordinal.total_variation < 0.04
    assert gaussian.total_variation > 2 * ordinal.total_variation
    assert ordinal.p_value > 0.05
    assert gaussian.p_value < 0.01
    zero = gaussian.table.set_index("score").loc[0.0]
    assert zero["upper"] < zero["observed"]  # the Gaussian misses the pile-up at 0
