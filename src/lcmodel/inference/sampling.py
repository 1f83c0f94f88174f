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

Compiling is most of a small fit's time (about 9 s of a 15 s fit of ``models/trust.toml``), so
nutpie's compiled model is kept for the rest of the process and reused by any later fit of a
model with the same structure and data (:func:`model_fingerprint`): a fit sampled again with
more draws, a refit with another seed, the same spec in a notebook. The draws are those of
PyMC's own nutpie route, bit for bit (``tests/test_fit.py`` checks it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lcmodel.errors import SpecError
from lcmodel.inference.samplers import resolve_sampler
from lcmodel.spec import FitSpec

if TYPE_CHECKING:
    import pymc as pm
    import xarray as xr

__all__ = [
    "available_cores",
    "compiled_models",
    "draw_seed",
    "jax_compilation_cache",
    "jax_device",
    "model_fingerprint",
    "reproducible_numerics",
    "run_metadata",
    "sample",
    "sampling_cores",
    "thinned",
    "usable_cores",
]

NUMERICS = {"numba_fastmath": False}
"""How lcmodel compiles model code (recorded in every result's metadata)."""


def _version_of(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def usable_cores() -> int:
    """The CPUs this process may use (its affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # macOS, Windows


def available_cores(chains: int) -> int:
    """Cores to sample on: one per chain, at most the CPUs this process may use.

    Passing this explicitly matters: left unset, nutpie sampled 4 chains on 2 cores about
    1.9x slower here (docs/benchmarks.md).
    """
    return max(1, min(chains, usable_cores()))


def sampling_cores(settings: FitSpec) -> int:
    """The cores a fit samples on: its budget ``[fit] cores`` (``--cores``), else one per chain.

    A budget lets several fits share a machine; without one, :func:`available_cores`.
    """
    return settings.cores or available_cores(settings.chains)


def _process_context(sampler: str) -> dict[str, str]:
    """Worker-process settings for PyMC's sampler.

    PyMC's own sampler forks worker processes; forking after JAX has started its threads can
    deadlock, so a fork server is used wherever JAX is installed (PyMC imports it during a
    fit). Deciding by whether it is installed, not whether it was imported yet, keeps every
    fit of a process on the same kind of worker: the first fit forked and later ones used the
    fork server, and their draws differed for the same seed.
    """
    if sampler == "pymc" and importlib.util.find_spec("jax") is not None:
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

    PyMC's own sampler compiles again in its worker processes, which read PyTensor's settings
    from the environment, not from this process's configuration; so the flag is also put in
    ``PYTENSOR_FLAGS`` while sampling. Its workers come from a fork server that keeps the
    environment it started with, and the first fit that uses PyMC's sampler starts it. Without
    this, two fits with the same seed drew differently when the cache filled between them.
    """
    import pytensor

    setting = f"numba__fastmath={NUMERICS['numba_fastmath']}"
    before = os.environ.get("PYTENSOR_FLAGS")
    os.environ["PYTENSOR_FLAGS"] = ",".join(f for f in (before, setting) if f)
    try:
        with pytensor.config.change_flags(numba__fastmath=NUMERICS["numba_fastmath"]):
            yield
    finally:
        if before is None:
            os.environ.pop("PYTENSOR_FLAGS", None)
        else:
            os.environ["PYTENSOR_FLAGS"] = before


def thinned(idata: xr.DataTree, thin: int) -> xr.DataTree:
    """Every ``thin``-th draw of each chain, in every group that has draws (``[fit] thin``).

    The first draw of each chain is kept, then every ``thin``-th after it; groups without a
    ``draw`` dimension (observed data) are unchanged. ``thin = 1`` returns ``idata`` itself.
    """
    if thin == 1:
        return idata
    import xarray as xr

    groups = {
        name: (
            node.to_dataset().isel(draw=slice(None, None, thin))
            if "draw" in node.dims
            else node.to_dataset()
        )
        for name, node in idata.children.items()
    }
    return xr.DataTree.from_dict(groups)


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
    sampler = resolve_sampler(settings.sampler, settings.device)
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
    if sampler == "nutpie":
        return _run_nutpie(pymc_model, settings, seed, progressbar=progressbar)
    if sampler == "numpyro":
        with jax_device(settings.device, settings.chains) as chain_method:
            options = _nuts_options(settings, sampler) | {"chain_method": chain_method}
            return _pymc_sample(pymc_model, settings, seed, sampler, options, progressbar)
    options = _nuts_options(settings, sampler)
    return _pymc_sample(pymc_model, settings, seed, sampler, options, progressbar)


@contextmanager
def jax_device(device: str, chains: int) -> Iterator[str]:
    """Run JAX's computations on ``device``; yields how numpyro should run the chains.

    On a GPU the chains run ``vectorized`` (one batched computation on the one device); on CPU
    ``parallel``, one chain per JAX host device. JAX makes one CPU device unless told before its
    backend starts, so ``XLA_FLAGS`` asks for one per chain (unless the flags already set a
    number); when the backend had started before (an earlier JAX computation in the process)
    and has fewer devices than chains, the chains run ``sequential``, one after another.

    Parameters
    ----------
    device
        ``[fit] device``: ``auto`` (JAX's default backend), ``cpu`` or ``gpu``.
    chains
        The number of chains.

    Raises
    ------
    SpecError
        ``gpu`` when JAX sees no GPU (with what it sees, and how to install GPU support).
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        count = f"--xla_force_host_platform_device_count={chains}"
        os.environ["XLA_FLAGS"] = f"{flags} {count}".strip()
    import jax

    jax_compilation_cache()
    on_cpu = "parallel" if len(jax.devices("cpu")) >= chains else "sequential"
    if device == "auto":
        yield "vectorized" if jax.default_backend() == "gpu" else on_cpu
        return
    try:
        found = jax.devices(device)
    except RuntimeError:  # no backend of that kind
        found = []
    if not found:
        seen = ", ".join(sorted({d.platform for d in jax.devices()}))
        raise SpecError(
            f"device = '{device}', but JAX sees no {device.upper()} (it sees: {seen}); install "
            f"JAX with GPU support (pip install 'jax[cuda12]') or use device = 'cpu'"
        )
    with jax.default_device(found[0]):
        yield "vectorized" if device == "gpu" else on_cpu


def jax_compilation_cache() -> Path | None:
    """Keep JAX's compiled code on disk, so that the next process reuses it.

    A numpyro fit compiles about 180 small JAX functions besides the sampler's loop (PyMC's
    log density, initial points, statistics, deterministics), each in milliseconds, and a new
    ``lcmodel fit`` compiled them all again: 29-32 s for ``models/trust.toml`` on 2 cores, of
    which 18 s remained with every piece read from the cache (docs/benchmarks.md). JAX keeps
    only compilations over 1 s by default, which kept the loop and left 25 s; here every
    compilation is kept (about 1.2 MB for that model).

    JAX's own settings stand: when ``jax_compilation_cache_dir`` is set (for example by
    ``JAX_COMPILATION_CACHE_DIR``) or the cache is switched off
    (``JAX_ENABLE_COMPILATION_CACHE=false``), nothing changes. Otherwise the cache is
    ``$XDG_CACHE_HOME/lcmodel/jax`` (``~/.cache/lcmodel/jax`` by default); deleting it is always
    safe. A compilation read back from the cache computes the same bits as a fresh one
    (``tests/test_devices.py`` checks that the draws are identical).

    Returns
    -------
    Path or None
        The cache folder in use, or ``None`` when JAX's cache is switched off (or the folder
        cannot be made).
    """
    import jax

    if not jax.config.jax_enable_compilation_cache:
        return None
    if jax.config.jax_compilation_cache_dir:
        return Path(jax.config.jax_compilation_cache_dir)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    folder = Path(base) / "lcmodel" / "jax"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: compile as before
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return folder


def _pymc_sample(
    pymc_model: pm.Model,
    settings: FitSpec,
    seed: int,
    sampler: str,
    options: dict[str, Any],
    progressbar: bool,
) -> xr.DataTree:
    import pymc as pm

    return pm.sample(
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=sampling_cores(settings),
        random_seed=seed,
        nuts_sampler=sampler,
        progressbar=progressbar,
        compute_convergence_checks=False,
        model=pymc_model,
        nuts=options,
        **_process_context(sampler),
    )


COMPILED_KEPT = 16
"""How many compiled models a process keeps (least recently used dropped first)."""

_compiled: OrderedDict[str, Any] = OrderedDict()
_compile_count = [0]  # compilations so far in this process (read by compiled_models)


def compiled_models() -> dict[str, int]:
    """What the process's cache of compiled models holds: ``size`` and ``compiled`` so far."""
    return {"size": len(_compiled), "compiled": _compile_count[0]}


def _compiled_nutpie(pymc_model: pm.Model) -> Any:
    """Nutpie's compiled model of ``pymc_model``, compiled once per structure and data."""
    import nutpie

    key = model_fingerprint(pymc_model)
    if key in _compiled:
        _compiled.move_to_end(key)
        return _compiled[key]
    compiled = nutpie.compile_pymc_model(pymc_model, backend="numba")
    _compile_count[0] += 1
    _compiled[key] = compiled
    while len(_compiled) > COMPILED_KEPT:
        _compiled.popitem(last=False)
    return compiled


def _run_nutpie(
    pymc_model: pm.Model, settings: FitSpec, seed: int, *, progressbar: bool
) -> xr.DataTree:
    """Sample with nutpie as ``pm.sample(nuts_sampler="nutpie")`` does, reusing compiled code.

    nutpie gets the first of PyMC's per-chain seeds for ``seed``, as PyMC passes it, so the
    draws are the same as PyMC's route.
    """
    import nutpie
    from pymc.backends.arviz import patch_nutpie_idata
    from pymc.util import get_random_generator

    compiled = _compiled_nutpie(pymc_model)
    # PyMC's seeds: one generator per chain spawned from the seed; nutpie takes the first's
    chain_seed = int(get_random_generator(seed).spawn(settings.chains)[0].integers(2**30))
    start = time.time()
    idata = nutpie.sample(
        compiled,
        draws=settings.draws,
        tune=max(settings.tune, 1),  # nuts-rs needs at least one tuning step
        chains=settings.chains,
        cores=sampling_cores(settings),
        seed=chain_seed,
        save_warmup=False,
        store_unconstrained=False,
        progress_bar=progressbar,
        **_nuts_options(settings, "nutpie"),
    )
    patch_nutpie_idata(idata, pymc_model, sampling_time=time.time() - start)
    return idata


def model_fingerprint(pymc_model: pm.Model) -> str:
    """A digest of everything compiled code depends on: graph, data, names, dims and coords.

    Two models with the same fingerprint compile to the same code. It hashes every operation
    of the model's graph (free, observed and deterministic variables and potentials) with its
    parameters, every constant's and shared variable's values, each variable's name, dims and
    transform, and the coordinates. Anything it cannot see exactly (an operation whose
    description holds a memory address) only makes fingerprints differ, never agree wrongly.
    """
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant
    from pytensor.graph.traversal import toposort

    digest = hashlib.blake2b(digest_size=20)

    def add(*parts: object) -> None:
        for part in parts:
            digest.update(repr(part).encode())
            digest.update(b"\x00")

    def add_array(value: Any) -> None:
        array = np.asarray(value)
        add(array.dtype.str, array.shape)
        digest.update(np.ascontiguousarray(array).tobytes())

    rvs = [*pymc_model.free_RVs, *pymc_model.observed_RVs]
    values = [pymc_model.rvs_to_values[rv] for rv in rvs]
    outputs = [*rvs, *values, *pymc_model.deterministics, *pymc_model.potentials]
    names: dict[Any, int] = {}

    def ref(variable: Any) -> int:
        if variable not in names:
            names[variable] = len(names)
            add("leaf", variable.type, variable.name)
            if isinstance(variable, Constant):
                add_array(variable.data)
            elif isinstance(variable, SharedVariable):
                value = variable.get_value(borrow=True)
                if isinstance(value, np.ndarray | np.generic | int | float):
                    add_array(value)
                else:  # random generators: their state does not change the compiled code
                    add(type(value).__name__)
        return names[variable]

    for node in toposort(outputs):
        props = node.op._props_dict() if hasattr(node.op, "_props_dict") else None
        inner = getattr(node.op, "fgraph", None)  # an operation defined by a graph of its own
        add("op", type(node.op).__qualname__, str(node.op), props, str(inner))
        add([ref(i) for i in node.inputs])
        for out in node.outputs:
            names[out] = len(names)
            add("out", out.type, out.name)
    for variable in outputs:
        add("named", variable.name, ref(variable), pymc_model.named_vars_to_dims.get(variable.name))
    for rv in rvs:
        transform = pymc_model.rvs_to_transforms.get(rv)
        settings = sorted(vars(transform).items()) if transform is not None else None
        add("transform", rv.name, type(transform).__qualname__, settings)
    for name, coord in pymc_model.coords.items():
        add("coord", name, tuple(coord) if coord is not None else None)
    return digest.hexdigest()


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
