"""Sampling: seeds, core budgets, timing, and the run's record.

Every fit is seeded: when the spec gives no seed one is drawn from the operating system's
entropy and recorded in the result, so any run can be repeated exactly. Which sampler runs is
decided by :mod:`lcmodel.inference.samplers`.

A seed alone is not enough for identical draws: the model's code must also compute the same bits
every time. PyTensor compiles it with Numba, by default with fast-math flags (reassociation,
contraction, approximate functions), and keeps the compiled pieces in a cache. Code compiled
afresh (an empty cache) then inlines and reorders differently from code loaded from the cache,
so a cold and a warm run differed in the last bits of the log density, which NUTS amplifies into
different draws. :func:`reproducible_numerics` compiles without fast-math while sampling.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import numpy as np

from lcmodel.inference.samplers import resolve_sampler
from lcmodel.spec import FitSpec

if TYPE_CHECKING:
    import pymc as pm
    import xarray as xr

__all__ = ["available_cores", "draw_seed", "reproducible_numerics", "run_metadata", "sample"]

NUMERICS = {"numba_fastmath": False}
"""How lcmodel compiles model code (recorded in every result's metadata)."""


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


@contextmanager
def reproducible_numerics() -> Iterator[None]:
    """Compile model code (PyTensor's Numba backend) without fast-math flags.

    With fast-math, Numba may reassociate sums and fuse operations differently depending on
    what it inlines, and that depends on which pieces of the model it finds in PyTensor's
    compile cache: the same seed gave different draws with an empty and with a warm cache.
    Without fast-math the compiled code computes the same bits either way. The flag is part of
    PyTensor's cache key, so cached fast-math code is never reused here. Measured on
    ``models/trust.toml``, a log-density-and-gradient evaluation costs the same either way.
    """
    import pytensor

    with pytensor.config.change_flags(numba__fastmath=NUMERICS["numba_fastmath"]):
        yield


def draw_seed() -> int:
    """A fresh seed from the operating system's entropy (recorded with the result)."""
    return int(np.random.SeedSequence().entropy % (2**31 - 1))


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
        with reproducible_numerics():
            idata = _run_nuts(pymc_model, settings, seed, sampler, progressbar=progressbar)
    return idata, time.perf_counter() - start


def _run_nuts(
    pymc_model: pm.Model, settings: FitSpec, seed: int, sampler: str, *, progressbar: bool
) -> xr.DataTree:
    import pymc as pm

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
        nuts=_nuts_options(settings, sampler),
        **_process_context(sampler),
    )


def _nuts_options(settings: FitSpec, sampler: str) -> dict[str, Any]:
    """The NUTS options a sampler takes from the ``[fit]`` settings."""
    options: dict[str, Any] = {"target_accept": settings.target_accept}
    if sampler == "nutpie":
        options["adaptation"] = "low_rank" if settings.mass_matrix == "low_rank" else "diag"
    return options


def run_metadata(seed: int, sampler: str, wall: float) -> dict[str, Any]:
    """What every result records about its run: versions, time, seed, sampler, wall time."""
    return {
        "lcmodel_version": version("lcmodel"),
        "versions": {name: _version_of(name) for name in ("pymc", "pytensor", "arviz", sampler)},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "sampler": sampler,
        "wall_seconds": round(wall, 3),
        "numerics": dict(NUMERICS),
    }
