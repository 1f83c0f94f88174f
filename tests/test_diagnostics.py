"""Diagnostic gates on synthetic posteriors (no sampling)."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest

from lcmodel.inference.diagnostics import Diagnostics, compute_diagnostics


def _tree(posterior: dict, diverging: np.ndarray | None = None, energy: bool = True):
    chains, draws = next(iter(posterior.values())).shape[:2]
    rng = np.random.default_rng(0)
    stats = {}
    if diverging is not None:
        stats["diverging"] = diverging
    if energy:
        stats["energy"] = rng.normal(size=(chains, draws))
    groups = {"posterior": posterior}
    if stats:
        groups["sample_stats"] = stats
    return az.from_dict(groups)


def _check(tree, names):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # arviz on constant or NaN draws
        return compute_diagnostics(tree, names)


RNG = np.random.default_rng(42)
GOOD = RNG.normal(size=(4, 1000))
NO_DIVERGENCE = np.zeros((4, 1000), dtype=bool)


def test_well_mixed_posterior_passes() -> None:
    result = _check(_tree({"a": GOOD}, NO_DIVERGENCE), ["a"])
    assert result.passed, result.failures
    assert result.max_rhat < 1.01 and result.min_ess_bulk > 2000


def test_chains_that_disagree_fail_rhat() -> None:
    shifted = GOOD + np.array([0.0, 0.0, 0.0, 1.0])[:, None]
    result = _check(_tree({"a": shifted}, NO_DIVERGENCE), ["a"])
    assert not result.passed
    assert any("R-hat above 1.01" in f for f in result.failures)


def test_sticky_chains_fail_ess() -> None:
    sticky = np.repeat(RNG.normal(size=(4, 20)), 50, axis=1)
    result = _check(_tree({"a": sticky}, NO_DIVERGENCE), ["a"])
    assert any("bulk ESS below 400" in f for f in result.failures)


def test_divergences_fail() -> None:
    diverging = NO_DIVERGENCE.copy()
    diverging[2, 10] = True
    result = _check(_tree({"a": GOOD}, diverging), ["a"])
    assert result.n_divergent == 1
    assert result.failures == ("1 divergent transitions after tuning",)


def test_missing_divergence_information_fails() -> None:
    result = _check(_tree({"a": GOOD}), ["a"])
    assert "no divergence information" in result.failures[0]


def test_one_chain_cannot_pass() -> None:
    result = _check(_tree({"a": GOOD[:1]}, NO_DIVERGENCE[:1]), ["a"])
    assert any("one chain" in f for f in result.failures)


def test_nan_draws_fail_but_constant_quantities_pass() -> None:
    constant = np.ones((4, 1000))
    nan = np.full((4, 1000), np.nan)
    assert _check(_tree({"a": GOOD, "c": constant}, NO_DIVERGENCE), ["a", "c"]).passed
    result = _check(_tree({"a": GOOD, "b": nan}, NO_DIVERGENCE), ["a", "b"])
    assert any("could not be computed" in f for f in result.failures)


def test_only_mixing_failures_call_for_more_draws() -> None:
    shifted = GOOD + np.array([0.0, 0.0, 0.0, 1.0])[:, None]
    assert _check(_tree({"a": shifted}, NO_DIVERGENCE), ["a"]).more_draws_may_help
    sticky = np.repeat(RNG.normal(size=(4, 20)), 50, axis=1)
    assert _check(_tree({"a": sticky}, NO_DIVERGENCE), ["a"]).more_draws_may_help
    assert not _check(_tree({"a": GOOD}, NO_DIVERGENCE), ["a"]).more_draws_may_help  # passed
    diverging = NO_DIVERGENCE.copy()
    diverging[2, 10] = True
    assert not _check(_tree({"a": shifted}, diverging), ["a"]).more_draws_may_help
    assert not _check(_tree({"a": GOOD[:1]}, NO_DIVERGENCE[:1]), ["a"]).more_draws_may_help
    assert not _check(_tree({"a": GOOD}), ["a"]).more_draws_may_help  # no divergence record


def test_dictionary_round_trip() -> None:
    result = _check(_tree({"a": GOOD}, NO_DIVERGENCE), ["a"])
    assert Diagnostics.from_dict(result.to_dict()) == result
    as_json = result.to_dict() | {"min_bfmi": None}
    assert np.isnan(Diagnostics.from_dict(as_json).min_bfmi)


@pytest.mark.parametrize("threshold", [0.3])
def test_low_bfmi_fails(threshold: float) -> None:
    chains, draws = 4, 1000
    walk = np.cumsum(RNG.normal(size=(chains, draws)), axis=1)  # energy barely changes
    tree = az.from_dict(
        {
            "posterior": {"a": GOOD},
            "sample_stats": {"diverging": NO_DIVERGENCE, "energy": walk},
        }
    )
    result = _check(tree, ["a"])
    assert result.min_bfmi < threshold
    assert any("E-BFMI" in f for f in result.failures)
