"""Approximate inference for exploring large surveys: PyMC's mean-field ADVI.

``[fit] method = "advi"`` (``--method advi``) fits a product of independent normals on the
unconstrained parameters by maximising the evidence lower bound (Kucukelbir et al. 2017) and
then draws ``draws x chains`` values from it: Adam steps (:data:`ADVI_LEARNING_RATE`) until
the loss stops falling (:func:`loss_has_settled`) or ``[fit] advi_steps`` is reached. It is
PyMC's own implementation (``pm.fit``). Mean-field ADVI ignores the posterior's
correlations, and nothing checks how far it is from the posterior (it is known to
under-estimate spread; at 2,000 areas it gave the area values about NUTS's widths and
``sigma_area`` twice its width): the fit never passes the diagnostics gate, and every table
and file it writes says it is approximate
(:data:`lcmodel.inference.diagnostics.APPROXIMATE_LABELS`). ``benchmarks/approximate.py``
measures how its intervals compare with NUTS's.

Pathfinder (Zhang et al. 2022) lives in ``pymc-extras``, whose releases pin PyMC below the
version lcmodel uses, so it is not offered.
"""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING

import numpy as np

from lcmodel.inference.sampling import reproducible_numerics
from lcmodel.spec import FitSpec

if TYPE_CHECKING:
    import pymc as pm
    import xarray as xr

__all__ = ["ADVI_LEARNING_RATE", "ADVI_WINDOW", "approximate", "loss_has_settled"]

ADVI_LEARNING_RATE = 0.01
"""Adam's learning rate for ADVI. PyMC's default (adagrad, 0.001) had not settled after 5,000
steps of ``models/trust.toml`` (mean loss 838 and falling); Adam at 0.01 settles at 733-734 in
about 3,000 and is less noisy there than at 0.03."""

ADVI_WINDOW = 500
"""Steps per window of the stopping rule (:func:`loss_has_settled`)."""


def loss_has_settled(losses: np.ndarray, window: int = ADVI_WINDOW) -> bool:
    """Whether the last ``window`` losses are no lower than the ``window`` before them.

    Lower means by more than two standard errors of the difference of the two windows'
    means: the trend is then lost in the noise of the stochastic objective, whose size grows
    with the model, so the rule needs no scale of its own.

    Parameters
    ----------
    losses
        The negative evidence lower bound at each step so far.
    window
        Steps per window.
    """
    if len(losses) < 2 * window:
        return False
    before, last = losses[-2 * window : -window], losses[-window:]
    se = np.sqrt((before.var() + last.var()) / window)
    return bool(before.mean() - last.mean() < 2.0 * se)


def approximate(
    pymc_model: pm.Model, settings: FitSpec, seed: int, *, progressbar: bool
) -> tuple[xr.DataTree, float, int]:
    """Fit ``settings.method``'s approximation and draw from it.

    Parameters
    ----------
    pymc_model
        The model.
    settings
        ``method``, ``advi_steps`` and the number of draws (``draws x chains``, one chain).
    seed
        Random seed of the optimisation and of the draws.
    progressbar
        Show the optimisation's progress bar.

    Returns
    -------
    tuple
        The draws as a one-chain posterior (``xarray.DataTree``), the wall time in seconds,
        and the optimisation steps taken.
    """
    import pymc as pm

    if settings.method != "advi":
        raise ValueError(f"unknown approximation {settings.method!r}")

    def stop_when_settled(_approximation: object, losses: np.ndarray, step: int) -> None:
        if step % ADVI_WINDOW == 0 and loss_has_settled(np.asarray(losses)):
            raise StopIteration

    start = time.perf_counter()
    with warnings.catch_warnings(), reproducible_numerics():
        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
        approximation = pm.fit(
            n=settings.advi_steps,
            method="advi",
            model=pymc_model,
            random_seed=seed,
            progressbar=progressbar,
            callbacks=[stop_when_settled],
            obj_optimizer=pm.adam(learning_rate=ADVI_LEARNING_RATE),
        )
        idata = approximation.sample(
            settings.draws * settings.chains, random_seed=seed, return_inferencedata=True
        )
    steps = len(approximation.hist)
    return idata, time.perf_counter() - start, steps
