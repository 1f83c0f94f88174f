"""The sampler registry: every NUTS sampler lcmodel can use, in one place.

``auto`` takes the first installed sampler in :data:`SAMPLERS` order: nutpie (compiles the model
with numba and samples in Rust, typically several times faster than PyMC's own NUTS), then
PyMC, then numpyro (JAX).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from lcmodel.errors import SpecError
from lcmodel.spec.common import SAMPLERS as SAMPLER_NAMES

__all__ = ["GPU_SAMPLERS", "SAMPLERS", "Sampler", "available_samplers", "resolve_sampler"]


@dataclass(frozen=True)
class Sampler:
    """A NUTS sampler: the modules it needs and how to install them."""

    name: str
    modules: tuple[str, ...]
    install: str


SAMPLERS: dict[str, Sampler] = {
    "nutpie": Sampler("nutpie", ("nutpie",), "pip install 'lcmodel[nutpie]'"),
    "pymc": Sampler("pymc", ("pymc",), "pip install pymc"),
    "numpyro": Sampler("numpyro", ("numpyro", "jax"), "pip install 'lcmodel[numpyro]'"),
}
"""Every sampler, in order of preference for ``auto``."""


def available_samplers() -> list[str]:
    """NUTS samplers usable in this environment, in order of preference for ``auto``."""
    return [
        name
        for name, sampler in SAMPLERS.items()
        if all(importlib.util.find_spec(module) for module in sampler.modules)
    ]


GPU_SAMPLERS = ("numpyro",)
"""Samplers that run on a GPU (through JAX); ``device = "gpu"`` with ``auto`` picks the first."""


def resolve_sampler(name: str, device: str = "auto") -> str:
    """Turn a spec's sampler name into an installed sampler.

    Parameters
    ----------
    name
        ``auto`` or a name of :data:`SAMPLERS`.
    device
        The spec's ``[fit] device``: ``gpu`` needs (and with ``auto`` picks) a sampler of
        :data:`GPU_SAMPLERS`.

    Raises
    ------
    SpecError
        When the named sampler is unknown or not installed (with the install command), or
        cannot run on the device.
    """
    installed = available_samplers()
    if device == "gpu":
        if name not in ("auto", *GPU_SAMPLERS):
            raise SpecError(
                f"sampler '{name}' runs on CPU only; device = 'gpu' needs sampler = "
                f"{' or '.join(repr(s) for s in GPU_SAMPLERS)} (or 'auto')"
            )
        name = GPU_SAMPLERS[0] if name == "auto" else name
    if name == "auto":
        return installed[0]
    if name not in SAMPLERS:
        raise SpecError(f"unknown sampler '{name}'; choose one of {', '.join(SAMPLER_NAMES)}")
    if name not in installed:
        raise SpecError(
            f"sampler '{name}' is not installed; install it with {SAMPLERS[name].install} or "
            f"use --sampler pymc"
        )
    return name
