"""Posterior predictive checks of a fitted model against the observed answers.

:func:`score_distribution_check` asks whether a model reproduces the distribution of answers
over the whole sample: for an ordinal outcome, or a Gaussian model of whole-number scores such
as the 0-10 ONS wellbeing scales, it compares the observed share of each score with the
model's expected share (averaged over the respondents, per posterior draw), and computes a
posterior predictive p-value for the chi-square discrepancy
``D = sum_k (O_k - N p_k)^2 / (N p_k)``: the share of draws in which replicated answers
(multinomial with the draw's expected shares) are more discrepant than the observed ones.
A p-value near 0 says the model's answer distribution does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lcmodel.data.survey import AREA
from lcmodel.errors import LcmodelError
from lcmodel.models.unit_level import UnitLevelModel
from lcmodel.results.fit_result import FitResult

__all__ = ["SCORE_FAMILIES", "ScoreCheck", "require_scores", "score_distribution_check"]

SCORE_FAMILIES = ("ordinal", "gaussian")
"""Families whose answers are scores the check can compare."""


def require_scores(model: UnitLevelModel) -> None:
    """Raise :class:`LcmodelError` unless the model's outcome can be checked (before fitting)."""
    if model.family.name not in SCORE_FAMILIES:
        raise LcmodelError(
            f"no score check for the {model.family.name} family; it needs an ordinal or "
            f"gaussian outcome"
        )
    if model.spec.outcome.family == "ordinal" and not all(
        str(c).lstrip("-").isdigit() for c in model.spec.outcome.category_labels
    ):
        raise LcmodelError(
            "the score check needs numeric categories (such as 0-10); these are labels"
        )


@dataclass(frozen=True)
class ScoreCheck:
    """Observed against predicted distribution of scores.

    Attributes
    ----------
    table
        One row per score: ``observed`` share, predicted ``mean`` share and its ``lower`` and
        ``upper`` 90% equal-tailed bounds.
    total_variation
        Posterior mean of half the summed absolute differences between observed and predicted
        shares (0 = identical distributions).
    p_value
        Posterior predictive p-value of the chi-square discrepancy.
    """

    table: pd.DataFrame
    total_variation: float
    p_value: float


def _score_probabilities(model: UnitLevelModel, result: FitResult) -> tuple[np.ndarray, np.ndarray]:
    """Scores and, per posterior draw, the expected share of answers with each score."""
    require_scores(model)
    outcome = model.spec.outcome
    if model.family.name == "ordinal":
        scores = np.array([float(c) for c in outcome.category_labels])
        quantities = [f"share:{c}" for c in outcome.category_labels]
        values = result.posterior["area_value"].sel(quantity=quantities)
    else:  # gaussian
        y = model.data.respondents["y"].to_numpy()
        if not np.all(y == np.round(y)):
            raise LcmodelError("the score check needs whole-number answers")
        scores = np.arange(y.min(), y.max() + 1.0)
        bands = [[float(s), float(s)] for s in scores]
        family = model.family

        def shares(eta: Any, params: dict[str, Any]) -> Any:
            return family.band_probabilities(eta, params, bands)  # type: ignore[attr-defined]

        values = model.area_quantities(result.posterior, shares, [f"{s:g}" for s in scores])
        values = values.rename(extra="quantity")
    n = model.data.areas["n"].reindex(values[AREA].to_numpy()).to_numpy(dtype=float)
    weights = n / n.sum()
    stacked = values.stack(sample=("chain", "draw")).transpose("sample", AREA, "quantity")
    probabilities = np.einsum("a,saq->sq", weights, stacked.to_numpy())
    return scores, probabilities


def score_distribution_check(
    model: UnitLevelModel, result: FitResult, *, seed: int = 0
) -> ScoreCheck:
    """Compare the observed distribution of scores with the model's prediction.

    Parameters
    ----------
    model
        The model that was fitted (its data are the observed answers).
    result
        The fit.
    seed
        Seed for the replicated answers of the p-value.

    Returns
    -------
    ScoreCheck
        Per-score table, mean total variation distance and posterior predictive p-value.
    """
    scores, probabilities = _score_probabilities(model, result)
    values = model.family.respondent_values(model.data.respondents[model.data.count_columns])
    if model.family.name == "ordinal":
        counts = values[:, : len(scores)].sum(axis=0)
    else:
        answers = values[:, 0]
        counts = np.array([(answers == s).sum() for s in scores], dtype=float)
    total = counts.sum()
    observed = counts / total
    probabilities = np.clip(probabilities, 1e-12, None)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    expected = total * probabilities
    rng = np.random.default_rng(seed)
    replicated = np.array([rng.multinomial(int(total), p) for p in probabilities])
    d_observed = ((counts - expected) ** 2 / expected).sum(axis=1)
    d_replicated = ((replicated - expected) ** 2 / expected).sum(axis=1)
    lower, upper = np.quantile(probabilities, [0.05, 0.95], axis=0)
    table = pd.DataFrame(
        {
            "score": scores,
            "observed": observed,
            "mean": probabilities.mean(axis=0),
            "lower": lower,
            "upper": upper,
        }
    )
    total_variation = float(0.5 * np.abs(probabilities - observed).sum(axis=1).mean())
    return ScoreCheck(table, total_variation, float(np.mean(d_replicated >= d_observed)))
