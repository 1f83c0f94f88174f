"""Posterior predictive checks of a fitted model against the observed answers.

:func:`model_checks` gives the model checks of any result (``result.checks()``), adding first,
from the rebuilt model and without refitting, the pointwise groups a result saved without them
lacks (:func:`with_check_groups`): results fitted with ``[fit] pointwise = false`` or by an
older lcmodel.

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

import pandas as pd

from lcmodel.errors import LcmodelError
from lcmodel.models.registry import model_from_spec
from lcmodel.models.scoring import CHECK_GROUPS, POINTWISE, add_check_groups, check_groups
from lcmodel.models.unit_level import UnitLevelModel
from lcmodel.results.checks import ModelChecks
from lcmodel.results.fit_result import FitResult
from lcmodel.results.result import Result

__all__ = [
    "SCORE_FAMILIES",
    "ScoreCheck",
    "model_checks",
    "require_scores",
    "score_distribution_check",
    "with_check_groups",
]


def _has_groups(result: Result) -> bool:
    children = result.idata.children
    return all(group in children for group in CHECK_GROUPS) and any(
        str(v).endswith(POINTWISE) for v in result.idata["log_likelihood"].data_vars
    )


def with_check_groups(result: Result) -> Result:
    """The result with the pointwise groups the checks need (itself when it has them).

    The model is rebuilt from the result's spec and data files (no sampling) and scores the
    saved posterior (:func:`lcmodel.models.scoring.check_groups`).

    Raises
    ------
    LcmodelError
        When the data files have changed since the result was fitted.
    """
    if _has_groups(result):
        return result
    model = model_from_spec(result.spec)
    if result.data_hashes() != model.data_hashes():
        raise LcmodelError(
            f"'{result.spec.name}': the data files have changed since this result was fitted "
            f"(its data hash differs from the files' now), so the checks cannot score its "
            f"answers; refit it with `lcmodel fit`"
        )
    idata = result.idata.copy()
    posterior = idata["posterior"].to_dataset()
    add_check_groups(idata, check_groups(model, posterior, int(result.metadata["seed"])))
    return result.with_posterior(idata)


def model_checks(result: Result) -> dict[str, ModelChecks]:
    """Every model check of a result, by indicator, adding the pointwise groups it lacks first.

    Parameters
    ----------
    result
        A unit-level, Fay-Herriot or joint result (fitted, or loaded from a folder).

    Returns
    -------
    dict
        One :class:`~lcmodel.results.checks.ModelChecks` per indicator (a one-indicator fit:
        one, under its name), as ``result.indicator_checks()`` of the result with its groups.
        When the model cannot be rebuilt (its data files are gone or changed), the checks that
        need no model, with the reason in ``missing`` for the others.
    """
    try:
        scored = with_check_groups(result)
    except LcmodelError as exc:
        # the model cannot be rebuilt (data files moved or changed): the checks that need
        # no model still run, and the others say why they did not
        checks = result.indicator_checks()
        why = f"the model could not be rebuilt to score the answers: {exc}"
        for one in checks.values():
            for name in list(one.missing):
                if "pointwise" in one.missing[name]:
                    one.missing[name] = why
        return checks
    return scored.indicator_checks()


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


def score_distribution_check(model: UnitLevelModel, result: FitResult) -> ScoreCheck:
    """Compare the observed distribution of scores with the model's replicated answers.

    The ``score_distribution`` model check (:func:`lcmodel.results.checks.score_distribution`)
    in the older form notebooks use: its table, mean total variation distance and posterior
    predictive p-value of the chi-square discrepancy.

    Parameters
    ----------
    model
        The model that was fitted (checked for a score outcome).
    result
        The fit.

    Returns
    -------
    ScoreCheck
        Per-score table, mean total variation distance and posterior predictive p-value.
    """
    require_scores(model)
    check = result.checks()["score_distribution"]
    table = check.table[["score", "observed", "mean", "lower", "upper"]]
    return ScoreCheck(table, check.statistics["total_variation"], check.statistics["p_value"])
