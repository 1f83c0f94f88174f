"""Sampling: sampler choice, seeds, timing, and the diagnostics gate.

``sampler = "auto"`` uses nutpie when it is installed (it compiles the model with numba and
samples in Rust, typically several times faster than PyMC's own NUTS) and PyMC's NUTS
otherwise. Every fit is seeded: when the spec gives no seed one is drawn from the operating
system's entropy and recorded in the result, so any run can be repeated exactly.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import warnings
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from lcmodel.comparison import match_benchmarks
from lcmodel.data import AREA
from lcmodel.diagnostics import compute_diagnostics
from lcmodel.direct import survey_direct_estimates
from lcmodel.errors import SpecError
from lcmodel.spec import FitSpec

if TYPE_CHECKING:
    from lcmodel.model import AreaModel
    from lcmodel.results import FitResult

__all__ = [
    "available_samplers",
    "fit_model",
    "indicator_metadata",
    "resolve_sampler",
    "run_metadata",
    "sample",
]

_SAMPLER_MODULES = {"pymc": ("pymc",), "nutpie": ("nutpie",), "numpyro": ("numpyro", "jax")}
_INSTALL_HINT = {
    "nutpie": "pip install 'lcmodel[nutpie]'",
    "numpyro": "pip install 'lcmodel[numpyro]'",
}


def available_samplers() -> list[str]:
    """NUTS samplers usable in this environment, in order of preference for ``auto``."""
    order = ["nutpie", "pymc", "numpyro"]
    return [
        name
        for name in order
        if all(importlib.util.find_spec(module) for module in _SAMPLER_MODULES[name])
    ]


def resolve_sampler(name: str) -> str:
    """Turn a spec's sampler name into an installed sampler.

    Parameters
    ----------
    name
        ``auto``, ``pymc``, ``nutpie`` or ``numpyro``.

    Raises
    ------
    SpecError
        When the named sampler is not installed (with the install command).
    """
    installed = available_samplers()
    if name == "auto":
        return installed[0]
    if name not in _SAMPLER_MODULES:
        raise SpecError(f"unknown sampler '{name}'; choose auto, pymc, nutpie or numpyro")
    if name not in installed:
        raise SpecError(
            f"sampler '{name}' is not installed; install it with {_INSTALL_HINT[name]} or use "
            f"--sampler pymc"
        )
    return name


def _version_of(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def available_cores(chains: int) -> int:
    """Cores to sample on: one per chain, at most the CPUs this process may use.

    Passing this explicitly matters: left unset, nutpie sampled 4 chains on 2 cores about
    1.9x slower here (docs/benchmarks.md).
    """
    if hasattr(os, "sched_getaffinity"):
        usable = len(os.sched_getaffinity(0))
    else:  # macOS, Windows
        usable = os.cpu_count() or 1
    return max(1, min(chains, usable))


def _process_context(sampler: str) -> dict[str, str]:
    """Worker-process settings for PyMC's sampler.

    PyMC's own sampler forks worker processes; forking after JAX has started its threads can
    deadlock, so a fork server is used once JAX is imported (e.g. after a numpyro fit).
    """
    if sampler == "pymc" and "jax" in sys.modules:
        return {"mp_ctx": "forkserver"}
    return {}


def draw_seed() -> int:
    """A fresh seed from the operating system's entropy (recorded with the result)."""
    return int(np.random.SeedSequence().entropy % (2**31 - 1))


def area_inputs(model: AreaModel) -> pd.DataFrame:
    """Everything per area and quantity that estimates need besides the posterior.

    One row per area x quantity: ``area``, ``quantity``, ``kind`` (share or mean), ``name``,
    ``nation``, ``deprivation_decile`` (when known), ``n``, ``in_sample``, ``estimand`` (what
    the area value averages over: respondents, a population frame, ...), the direct estimate
    with its standard error and design effect (:mod:`lcmodel.direct`; NaN in unsurveyed areas)
    and the benchmark match (see :func:`lcmodel.comparison.match_benchmarks`).
    """
    areas = model.data.areas
    columns = [c for c in ["name", "nation", "deprivation_decile"] if c in areas.columns]
    direct = survey_direct_estimates(model).set_index(["quantity", AREA])
    benchmarks = model.data.benchmarks
    match = model.spec.benchmark.match if model.spec.benchmark is not None else "national"
    parts = []
    for quantity in model.family.quantities():
        table = areas[columns].copy()
        table.insert(0, "quantity", quantity.name)
        table.insert(1, "kind", quantity.kind)
        table["n"] = areas["n"].astype(np.int64)
        table["in_sample"] = table["n"] > 0
        table["estimand"] = model.estimand()
        mine = direct.loc[quantity.name].reindex(areas.index)
        for column in ["direct", "direct_se", "deff"]:
            table[column] = mine[column]
        rows = None
        if benchmarks is not None:
            rows = benchmarks[benchmarks["quantity"] == quantity.name]
        parts.append(pd.concat([table, match_benchmarks(areas, rows, match)], axis=1))
    return pd.concat(parts).rename_axis(AREA).reset_index()


def sample(
    pymc_model: pm.Model, settings: FitSpec, seed: int, *, progressbar: bool
) -> tuple[xr.DataTree, float]:
    """Run NUTS on ``pymc_model`` with a spec's ``[fit]`` settings.

    Parameters
    ----------
    pymc_model
        The model to sample.
    settings
        Draws, tuning, chains, sampler, target acceptance and cores.
    seed
        Random seed.
    progressbar
        Show the sampler's progress bar.

    Returns
    -------
    tuple
        The posterior (``xarray.DataTree``) and the wall time in seconds.
    """
    sampler = resolve_sampler(settings.sampler)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # PyTensor's C backend computes initial points and deterministics; without a BLAS it
        # warns that matrix products are slow. The only ones here are tiny (the K x K LKJ
        # factor), and the samplers compile with numba or JAX, so the warning is noise.
        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
        idata = _run_nuts(pymc_model, settings, seed, sampler, progressbar=progressbar)
    return idata, time.perf_counter() - start


def _run_nuts(
    pymc_model: pm.Model, settings: FitSpec, seed: int, sampler: str, *, progressbar: bool
) -> xr.DataTree:
    return pm.sample(
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=settings.cores or available_cores(settings.chains),
        random_seed=seed,
        nuts_sampler=sampler,
        progressbar=progressbar,
        compute_convergence_checks=False,
        model=pymc_model,
        nuts={"target_accept": settings.target_accept},
        **_process_context(sampler),
    )


def run_metadata(seed: int, sampler: str, wall: float) -> dict[str, Any]:
    """What every result records about its run: versions, time, seed, sampler, wall time."""
    return {
        "lcmodel_version": version("lcmodel"),
        "versions": {name: _version_of(name) for name in ("pymc", "pytensor", "arviz", sampler)},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "sampler": sampler,
        "wall_seconds": round(wall, 3),
    }


def indicator_metadata(model: AreaModel) -> dict[str, Any]:
    """What a result records about one indicator's data and family."""
    return {
        "data_hash": model.data.data_hash,
        "n_respondents": len(model.data.respondents),
        "n_missing_outcome": model.data.n_missing_outcome,
        "n_missing_covariates": model.data.n_missing_covariates,
        "family": model.family.name,
        "outcome": model.spec.outcome.column,
        "headline": model.family.headline(),
        "weighted_direct": model.data.weighted,
    }


def fit_model(model: AreaModel, *, progressbar: bool = True, **overrides: Any) -> FitResult:
    """Sample ``model`` and wrap the posterior in a :class:`~lcmodel.results.FitResult`.

    Parameters
    ----------
    model
        The area model.
    progressbar
        Show the sampler's progress bar.
    **overrides
        ``[fit]`` settings replacing the spec's (``draws``, ``seed``, ``sampler``, ...).
    """
    from lcmodel.model import AreaModel
    from lcmodel.results import FitResult

    unknown = set(overrides) - set(FitSpec.model_fields)
    if unknown:
        raise SpecError(
            f"fit() takes [fit] settings only, not {sorted(unknown)}; to use other data, build "
            f"the model with AreaModel.from_spec(spec, data=...)"
        )
    if any(value is not None for value in overrides.values()):
        model = AreaModel(model.spec.with_overrides(**overrides), model.data)
    spec = model.spec
    seed = spec.fit.seed if spec.fit.seed is not None else draw_seed()
    sampler = resolve_sampler(spec.fit.sampler)
    inputs = area_inputs(model)  # benchmark matching warns before, not after, sampling
    pymc_model = model.build()
    idata, wall = sample(pymc_model, spec.fit, seed, progressbar=progressbar)
    checked = [rv.name for rv in pymc_model.free_RVs] + ["area_value"]
    waves = None
    if "area_wave_value" in pymc_model.named_vars:
        from lcmodel.waves import wave_inputs

        checked.append("area_wave_value")
        waves = wave_inputs(model, inputs)
    return FitResult(
        idata=idata,
        spec=spec.with_overrides(seed=seed),
        inputs=inputs,
        diagnostics=compute_diagnostics(idata, checked),
        metadata=run_metadata(seed, sampler, wall) | indicator_metadata(model),
        wave_inputs=waves,
    )
