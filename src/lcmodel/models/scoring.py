"""Pointwise scores of a fitted model: log-likelihood, predictive draws and log prior.

One function computes the log-likelihood of every observation at every draw
(:func:`pointwise_log_likelihood`): per answer for unit-level and joint models (the model
built on respondent rows, ``aggregate_cells=False``, whatever cells it was fitted with), per
area's direct estimate for Fay-Herriot models. Model comparison (``lcmodel compare``) and
the model checks both use it.

:func:`check_groups` adds what the checks of :mod:`lcmodel.results.checks` need and cannot
get from the posterior alone: ``log_likelihood`` and ``posterior_predictive`` (one draw of
every observation per posterior draw) with the ``observed_data`` they score, and
``log_prior`` (each free variable's log prior density), for PSIS-LOO, LOO-PIT, the score
distribution and power-scaling sensitivity. :meth:`lcmodel.models.base.Model.fit` stores
them with the posterior (``[fit] pointwise``), so that ``result.checks()`` needs no model.

The observations are the variable :data:`POINTWISE` (``y_i``) along the dimension
:data:`OBSERVATION`, with a coordinate :data:`OBSERVATION_AREA` naming each observation's
area; a joint model prefixes each indicator's names with ``<indicator>::``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from lcmodel.data.survey import AREA
from lcmodel.design.dims import SEPARATOR
from lcmodel.errors import LcmodelError, listed
from lcmodel.inference.sampling import reproducible_numerics
from lcmodel.results.fit_result import FitResult

if TYPE_CHECKING:
    import pymc as pm

    from lcmodel.models.base import Model
    from lcmodel.models.fay_herriot import FayHerriotModel

# the model kinds are told apart by ``kind``, not by class: models/base.py imports this module
UNIT_LEVEL, AREA_LEVEL, JOINT = "unit_level", "area_level", "joint"

__all__ = [
    "CHECK_GROUPS",
    "OBSERVATION",
    "OBSERVATION_AREA",
    "POINTWISE",
    "add_check_groups",
    "check_groups",
    "independent_indicator",
    "pointwise_log_likelihood",
]

OBSERVATION = "observation"
"""Variable and dimension of the pointwise groups: one answer, or one area's direct estimate."""

POINTWISE = "y_i"
"""Variable of the pointwise groups, along :data:`OBSERVATION`."""

OBSERVATION_AREA = "observation_area"
"""Coordinate along :data:`OBSERVATION`: the area of each observation."""

CHECK_GROUPS = ("log_likelihood", "posterior_predictive", "log_prior")
"""The groups :func:`check_groups` adds (with :data:`OBSERVATION` in ``observed_data``)."""


def _scoring_model(model: Model) -> pm.Model:
    """The model whose likelihood has one term per observation, without start values."""
    if model.kind in (UNIT_LEVEL, JOINT):
        scoring = model.build(aggregate_cells=False)  # one observation per answer
    else:
        scoring = model.build()
    for rv in scoring.free_RVs:  # start values play no part in scoring, and PyMC refuses them
        scoring.set_initval(rv, None)
    return scoring


def _free_posterior(scoring: pm.Model, posterior: xr.Dataset, name: str) -> xr.Dataset:
    free = [rv.name for rv in scoring.free_RVs]
    missing = [v for v in free if v not in posterior]
    if missing:
        raise LcmodelError(
            f"'{name}': the posterior lacks {listed(missing)}, which its spec's model has; was "
            f"it fitted with another version of lcmodel? Refit it with `lcmodel fit`"
        )
    return posterior[free]


def _prefixes(model: Model) -> list[str]:
    """The name prefix of each indicator's observations (``""`` for a single indicator)."""
    if model.kind == JOINT:
        return [f"{name}{SEPARATOR}" for name in model.names]
    return [""]


def _answer_areas(model: Model) -> dict[str, np.ndarray]:
    """Per prefix, the area of each answer (unit-level and joint) or estimate (Fay-Herriot)."""
    if model.kind == AREA_LEVEL:
        return {"": model.observed_estimates().index.astype(str).to_numpy()}
    models = [model] if model.kind == UNIT_LEVEL else list(model.models.values())
    return {
        prefix: m.units(False).keys[AREA].astype(str).to_numpy()
        for prefix, m in zip(_prefixes(model), models, strict=True)
    }


def _unit_log_likelihood(scoring: pm.Model, free: xr.Dataset, names: list[str]) -> xr.Dataset:
    import pymc as pm

    with reproducible_numerics():
        log_lik = pm.compute_log_likelihood(
            xr.DataTree.from_dict({"posterior": free}),
            model=scoring,
            var_names=names,
            extend_inferencedata=False,
            progressbar=False,
        )
    return log_lik.to_dataset() if isinstance(log_lik, xr.DataTree) else log_lik


def _fay_herriot_values(model: FayHerriotModel, scoring: pm.Model, free: xr.Dataset) -> xr.Dataset:
    """The model's own area values and variances, computed afresh from the free variables.

    A finite-population fit's saved ``area_value`` is not the likelihood's.
    """
    import pymc as pm

    wanted = [n for n in ("area_value", "sampling_variance") if n in scoring.named_vars]
    with reproducible_numerics():
        return pm.compute_deterministics(free, var_names=wanted, model=scoring, progressbar=False)


def pointwise_log_likelihood(model: Model, result: FitResult | xr.Dataset) -> xr.DataTree:
    """The log-likelihood of every observation at every draw, with the free variables' draws.

    Parameters
    ----------
    model
        The model the result is a fit of (unit-level or Fay-Herriot).
    result
        Its fit, or its posterior.

    Returns
    -------
    xarray.DataTree
        Groups ``posterior`` (the free variables) and ``log_likelihood`` (one variable
        ``y``, dims ``chain, draw, observation``), ready for :func:`arviz.loo`.
    """
    posterior = result.posterior if isinstance(result, FitResult) else result
    name = str(model.spec.name)
    scoring = _scoring_model(model)
    free = _free_posterior(scoring, posterior, name)
    if model.kind == UNIT_LEVEL:
        values = _unit_log_likelihood(scoring, free, ["y"])["y"].to_numpy()
    elif model.kind == AREA_LEVEL:
        values = _fay_herriot_log_likelihood(model, _fay_herriot_values(model, scoring, free))
    else:
        raise LcmodelError(f"'{name}': pointwise_log_likelihood takes one indicator's model")
    chains, draws = values.shape[:2]
    values = values.reshape(chains, draws, -1)
    log_likelihood = xr.Dataset(
        {"y": (("chain", "draw", OBSERVATION), values)},
        coords={OBSERVATION: np.arange(values.shape[2])},
    )
    return xr.DataTree.from_dict({"posterior": free, "log_likelihood": log_likelihood})


def _fay_herriot_log_likelihood(model: FayHerriotModel, values: xr.Dataset) -> np.ndarray:
    """Per draw and area with a direct estimate: the log-likelihood of that estimate.

    ``values`` holds the model's ``area_value`` and, with modelled variances and the normal
    likelihood, ``sampling_variance``.
    """
    from scipy.special import gammaln, xlog1py, xlogy
    from scipy.stats import norm

    observed = model.observed_estimates()
    value = _observed_values(model, values)
    y = observed["estimate"].to_numpy(dtype=float)
    if "n_eff" in observed:
        # the binomial of n_eff * y successes in n_eff trials (real-valued counts)
        n = observed["n_eff"].to_numpy(dtype=float)
        k = n * y
        constant = gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)
        return constant + xlogy(k, value) + xlog1py(n - k, -value)
    return norm.logpdf(y, loc=value, scale=np.sqrt(_fay_herriot_variance(model, values)))


def _observed_values(model: FayHerriotModel, values: xr.Dataset) -> np.ndarray:
    observed = model.observed_estimates()
    value = values["area_value"].sel({AREA: list(observed.index)}).isel(quantity=0)
    return value.transpose("chain", "draw", AREA).to_numpy()


def _fay_herriot_variance(model: FayHerriotModel, values: xr.Dataset) -> np.ndarray:
    if "sampling_variance" in values:
        return values["sampling_variance"].transpose("chain", "draw", ...).to_numpy()
    return model.observed_estimates()["variance"].to_numpy(dtype=float)


def _fay_herriot_predictive(
    model: FayHerriotModel, values: xr.Dataset, rng: np.random.Generator
) -> np.ndarray:
    """One replicated direct estimate per draw and area, from the likelihood."""
    observed = model.observed_estimates()
    value = _observed_values(model, values)
    if "n_eff" in observed:
        n = np.maximum(np.round(observed["n_eff"].to_numpy(dtype=float)), 1.0)
        return rng.binomial(n.astype(np.int64), np.clip(value, 0.0, 1.0)) / n
    scale = np.sqrt(_fay_herriot_variance(model, values))
    return value + scale * rng.standard_normal(value.shape)


def _pointwise(values: np.ndarray, prefix: str, areas: np.ndarray, dtype: Any = None) -> xr.Dataset:
    """A pointwise array as the named variable of a group, with its areas."""
    chains, draws = values.shape[:2]
    values = values.reshape(chains, draws, -1)
    if dtype is not None:
        values = values.astype(dtype)
    dim = f"{prefix}{OBSERVATION}"
    return xr.Dataset(
        {f"{prefix}{POINTWISE}": (("chain", "draw", dim), values)},
        coords={dim: np.arange(values.shape[2]), f"{prefix}{OBSERVATION_AREA}": (dim, areas)},
    )


def _observed(values: np.ndarray, prefix: str, areas: np.ndarray) -> xr.Dataset:
    dim = f"{prefix}{OBSERVATION}"
    return xr.Dataset(
        {f"{prefix}{POINTWISE}": ((dim,), values)},
        coords={dim: np.arange(len(values)), f"{prefix}{OBSERVATION_AREA}": (dim, areas)},
    )


def _compact(values: np.ndarray) -> np.ndarray:
    """Whole-number draws as small integers, the rest as float32 (the groups are large)."""
    if np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int16)
    return values.astype(np.float32)


def check_groups(model: Model, posterior: xr.Dataset, seed: int) -> dict[str, xr.Dataset]:
    """What the model checks need from the model, computed once from the posterior.

    Parameters
    ----------
    model
        The fitted model (any kind).
    posterior
        Its posterior draws.
    seed
        Seed of the predictive draws (with the fit's seed they are reproducible).

    Returns
    -------
    dict
        ``log_likelihood`` (float32 per answer, float64 per area estimate),
        ``posterior_predictive`` (one replicated observation per draw), ``observed_data``
        (the observations, to be merged into the fit's own ``observed_data`` group) and
        ``log_prior`` (each free variable's log prior density), each keyed by group name;
        see the module docstring for the names.
    """
    if model.kind == JOINT:
        return _joint_groups(model, posterior, seed)
    return _single_groups(model, posterior, seed)


def independent_indicator(indicator: Any) -> Any:
    """A joint model's indicator as a model with independent, non-centred ``z_area``.

    It scores the indicator's slice of a joint posterior (which holds the correlated
    ``z_area``): the likelihood of the answers is the joint model's.
    """
    structure = indicator.spec.structure.model_copy(update={"zero_sum_areas": False})
    fit = indicator.spec.fit.model_copy(update={"centring": "non-centred"})
    return indicator.with_spec(
        indicator.spec.model_copy(update={"structure": structure, "fit": fit})
    )


def _joint_groups(model: Any, posterior: xr.Dataset, seed: int) -> dict[str, xr.Dataset]:
    """Each indicator's groups, from its slice of the joint posterior, prefixed."""
    from lcmodel.results.joint_result import indicator_tree

    tree = xr.DataTree.from_dict({"posterior": posterior})
    parts: dict[str, list[xr.Dataset]] = {}
    for i, name in enumerate(model.names):
        prefix = f"{name}{SEPARATOR}"
        part = indicator_tree(tree, name)["posterior"].to_dataset()
        groups = _single_groups(independent_indicator(model[name]), part, seed + i)
        for group, dataset in groups.items():
            renamed = dataset.rename(
                {
                    v: f"{prefix}{v}"
                    for v in [*dataset.data_vars, *dataset.coords]
                    if v not in ("chain", "draw") and v in dataset.variables
                }
            )
            dims = {
                d: f"{prefix}{d}"
                for d in renamed.dims
                if d not in ("chain", "draw") and not str(d).startswith(prefix)
            }
            parts.setdefault(group, []).append(renamed.rename_dims(dims))
    return {
        group: xr.merge(datasets, combine_attrs="override") for group, datasets in parts.items()
    }


def _single_groups(model: Any, posterior: xr.Dataset, seed: int) -> dict[str, xr.Dataset]:
    import pymc as pm

    name = str(model.spec.name)
    scoring = _scoring_model(model)
    free = _free_posterior(scoring, posterior, name)
    areas = _answer_areas(model)
    rng = np.random.default_rng([seed, 2])
    log_lik, predictive, observed = xr.Dataset(), xr.Dataset(), xr.Dataset()
    if model.kind == AREA_LEVEL:
        values = _fay_herriot_values(model, scoring, free)
        log_lik = _pointwise(_fay_herriot_log_likelihood(model, values), "", areas[""])
        predictive = _pointwise(_fay_herriot_predictive(model, values, rng), "", areas[""])
        estimates = model.observed_estimates()["estimate"].to_numpy(dtype=float)
        observed = _observed(estimates, "", areas[""])
    else:
        names = [f"{prefix}y" for prefix in _prefixes(model)]
        computed = _unit_log_likelihood(scoring, free, names)
        with reproducible_numerics():
            replicated = pm.sample_posterior_predictive(
                xr.DataTree.from_dict({"posterior": free}),
                model=scoring,
                var_names=names,
                random_seed=rng,
                progressbar=False,
                extend_inferencedata=False,
            )
        replicated = replicated["posterior_predictive"].to_dataset()
        parts: dict[str, list[xr.Dataset]] = {"log": [], "rep": [], "obs": []}
        for prefix, var in zip(_prefixes(model), names, strict=True):
            rv = scoring[var]
            answers = np.asarray(scoring.rvs_to_values[rv].data)
            rep = replicated[var].to_numpy()
            parts["log"].append(
                _pointwise(computed[var].to_numpy(), prefix, areas[prefix], np.float32)
            )
            parts["rep"].append(_pointwise(_compact(rep), prefix, areas[prefix]))
            parts["obs"].append(_observed(answers, prefix, areas[prefix]))
        log_lik = xr.merge(parts["log"])
        predictive = xr.merge(parts["rep"])
        observed = xr.merge(parts["obs"])
    with reproducible_numerics():
        log_prior = pm.stats.compute_log_prior(
            xr.DataTree.from_dict({"posterior": free}),
            model=scoring,
            extend_inferencedata=False,
            progressbar=False,
        )
    log_prior = log_prior.to_dataset() if isinstance(log_prior, xr.DataTree) else log_prior
    return {
        "log_likelihood": log_lik,
        "posterior_predictive": predictive,
        "observed_data": observed,
        "log_prior": log_prior,
    }


def add_check_groups(idata: xr.DataTree, groups: dict[str, xr.Dataset]) -> None:
    """Put the groups of :func:`check_groups` into ``idata`` (``observed_data`` is merged)."""
    for group, dataset in groups.items():
        if group == "observed_data" and group in idata.children:
            # the fit's cells keep their names; the observations add their own
            dataset = xr.merge(
                [idata[group].to_dataset(), dataset], combine_attrs="override", join="outer"
            )
        idata[group] = dataset
