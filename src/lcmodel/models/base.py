"""One base class for every model kind, with the one fit sequence they share.

:meth:`Model.fit` is the only place a model is sampled::

    [fit] overrides -> seed -> sampler -> report inputs -> build -> sample
        -> finish posterior -> calibrate -> diagnostics [-> longer sampling, if R-hat or ESS
        fall short] [-> pointwise scores for the model checks ([fit] pointwise)]
        -> run record -> result

A model kind (unit-level, Fay-Herriot, joint) says only what differs: how it is built, what
its report needs besides the posterior, which variables the diagnostics gate checks, what it
records about its data, and which result type wraps its posterior.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from lcmodel.design.calibration import Calibration, calibrate
from lcmodel.design.dims import SEPARATOR
from lcmodel.discovery import register
from lcmodel.errors import SpecError
from lcmodel.inference.diagnostics import Diagnostics, compute_diagnostics
from lcmodel.inference.samplers import resolve_sampler
from lcmodel.inference.sampling import draw_seed, run_metadata, sample, thinned
from lcmodel.models.priors import HasPriors
from lcmodel.spec import FitSpec

if TYPE_CHECKING:
    import pymc as pm


__all__ = [
    "COMPACT_VARIABLES",
    "FINISH_STREAM",
    "MODEL_TYPES",
    "Model",
    "calibrated",
    "compact",
    "record_calibration",
]

FINISH_STREAM = 1
"""Predictive draws after sampling use ``numpy.random.default_rng([seed, FINISH_STREAM])``."""


MODEL_TYPES: dict[str, type[Model]] = {}
"""The model class of each spec kind, filled as the classes are defined."""


class Model(HasPriors, ABC):
    """What every lcmodel model is: a spec, its priors, ``build()`` and ``fit()``.

    The model *holds* a PyMC model (from :meth:`build`); it never subclasses one.
    """

    kind: ClassVar[str]
    """The spec kind this model fits (``unit_level``, ``joint``, ``area_level``).

    A class that sets it is the model of that kind (:data:`MODEL_TYPES`); a subclass that
    keeps its parent's ``kind`` is a variant, and registers nothing.
    """

    spec: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in vars(cls):
            register(MODEL_TYPES, cls.kind, cls, "model of spec kind")

    @classmethod
    @abstractmethod
    def from_spec(cls, spec: Any, data: Any = None) -> Self:
        """The model of a spec (object or TOML path) with its data loaded."""

    @abstractmethod
    def build(self) -> pm.Model:
        """Create the PyMC model (no sampling)."""

    @abstractmethod
    def with_spec(self, spec: Any) -> Self:
        """The same model on the same data with another spec (new ``[fit]`` settings)."""

    @abstractmethod
    def report_inputs(self) -> Any:
        """What the result's tables need besides the posterior (per area, per wave)."""

    @abstractmethod
    def checked_variables(self, pymc_model: pm.Model) -> list[str]:
        """Variables whose R-hat and ESS the diagnostics gate checks."""

    @abstractmethod
    def data_metadata(self) -> dict[str, Any]:
        """What the result records about the data and the model (hashes, sizes, family)."""

    def data_hashes(self) -> dict[str, str | None]:
        """Each indicator's data hash as its files give it now, keyed as a result's.

        Compared with :meth:`~lcmodel.results.result.Result.data_hashes` of a saved result, it
        says whether the result was fitted to the same data (a joint model's facts are under
        ``"indicators"``).
        """
        facts = self.data_metadata()
        own = facts.get("indicators") or {self.spec.name: facts}
        return {name: one.get("data_hash") for name, one in own.items()}

    def finish_posterior(self, posterior: Any, rng: Any) -> Any:
        """What follows from the posterior draws (finite-population values); by default nothing.

        Parameters
        ----------
        posterior
            The sampled posterior (an ``xarray.Dataset``).
        rng
            A ``numpy.random.Generator`` seeded from the fit's seed (:data:`FINISH_STREAM`).
        """
        return posterior

    def calibrations(self, inputs: Any) -> list[Calibration]:
        """What ``[calibrate]`` asks of the area values (none by default).

        Parameters
        ----------
        inputs
            The model's report inputs (:meth:`report_inputs`), whose direct estimates give a
            ``target = "direct"``.
        """
        return []

    def make_result(
        self,
        idata: Any,
        spec: Any,
        inputs: Any,
        diagnostics: Diagnostics,
        metadata: dict[str, Any],
    ) -> Any:
        """Wrap a posterior of this model; ``spec`` is the spec with the seed actually used.

        By default a :class:`~lcmodel.results.fit_result.FitResult`, with ``inputs`` the
        (per-area, per-wave) pair of :meth:`report_inputs`; a joint model wraps its own.
        """
        from lcmodel.results.fit_result import FitResult

        area, waves = inputs
        return FitResult(
            idata=idata,
            spec=spec,
            inputs=area,
            diagnostics=diagnostics,
            metadata=metadata,
            wave_inputs=waves,
        )

    def with_fit_settings(self, **overrides: Any) -> Self:
        """Return this model with ``[fit]`` settings replaced (``None`` values are ignored).

        Raises
        ------
        SpecError
            For a key that is not a ``[fit]`` setting.
        """
        unknown = set(overrides) - set(FitSpec.model_fields)
        if unknown:
            raise SpecError(
                f"fit() takes [fit] settings only, not {sorted(unknown)}; to use other data, "
                f"build the model with from_spec(spec, data=...)"
            )
        if all(value is None for value in overrides.values()):
            return self
        return self.with_spec(self.spec.with_overrides(**overrides))

    def fit(self, *, progressbar: bool = True, **overrides: Any) -> Any:
        """Sample the posterior and return the result.

        Parameters
        ----------
        progressbar
            Show the sampler's progress bar.
        **overrides
            Any ``[fit]`` setting (``draws``, ``tune``, ``chains``, ``seed``, ``sampler``...).

        Returns
        -------
        Result
            A :class:`~lcmodel.results.fit_result.FitResult` (one indicator) or a
            :class:`~lcmodel.results.joint_result.JointFitResult` (several); both are
            :class:`~lcmodel.results.result.Result`.
        """
        model = self.with_fit_settings(**overrides)
        settings = model.spec.fit
        seed = settings.seed if settings.seed is not None else draw_seed()
        approximate = settings.method != "nuts"
        sampler = "pymc" if approximate else resolve_sampler(settings.sampler, settings.device)
        inputs = model.report_inputs()  # benchmark matching warns before, not after, sampling
        plans = model.calibrations(inputs)  # a bad [calibrate] fails before sampling too
        pymc_model = model.build()
        checked = model.checked_variables(pymc_model)
        attempts: list[dict[str, Any]] = []
        while True:
            if approximate:
                from lcmodel.inference.approximate import approximate as fit_approximation

                idata, wall, steps = fit_approximation(
                    pymc_model, settings, seed, progressbar=progressbar
                )
            else:
                idata, wall = sample(pymc_model, settings, seed, progressbar=progressbar)
            idata = thinned(idata, settings.thin)
            rng = np.random.default_rng([seed, FINISH_STREAM])
            posterior = idata["posterior"].to_dataset()
            finished = compact(calibrated(model.finish_posterior(posterior, rng), plans))
            if finished is not posterior:
                idata["posterior"] = finished
            if approximate:
                draws = settings.draws * settings.chains
                diagnostics = Diagnostics.of_approximation(settings.method, draws)
            else:
                diagnostics = compute_diagnostics(idata, checked)
            attempts.append(
                {
                    "draws": settings.draws,
                    "tune": settings.tune,
                    "passed": diagnostics.passed,
                    "wall_seconds": round(wall, 3),
                }
                | ({"method": settings.method, "steps": steps} if approximate else {})
            )
            if len(attempts) > settings.extend or not diagnostics.more_draws_may_help:
                break
            # R-hat or ESS short of the gate: longer tuning and more draws, same seed
            settings = settings.model_copy(
                update={"draws": 2 * settings.draws, "tune": 2 * settings.tune}
            )
        if settings.pointwise:
            from lcmodel.models.scoring import add_check_groups, check_groups

            posterior = idata["posterior"].to_dataset()
            add_check_groups(idata, check_groups(model, posterior, seed))
        total = sum(attempt["wall_seconds"] for attempt in attempts)
        metadata = run_metadata(seed, sampler, total) | model.data_metadata()
        metadata["attempts"] = attempts
        metadata["method"] = settings.method
        if approximate:
            idata["posterior"].attrs["inference"] = diagnostics.failures[0]
        for plan in plans:
            record_calibration(metadata, plan)
        spec = model.spec.with_overrides(seed=seed, draws=settings.draws, tune=settings.tune)
        result = model.make_result(idata, spec, inputs, diagnostics, metadata)
        if not settings.pointwise:
            # computed when the checks first ask: the fit keeps its model for that
            result.pointwise_source = partial(_add_check_groups, model, seed)
        return result


def _add_check_groups(model: Model, seed: int, idata: Any) -> None:
    """Add the model checks' pointwise groups to a fit's ``idata`` (``[fit] pointwise``)."""
    from lcmodel.models.scoring import add_check_groups, check_groups

    add_check_groups(idata, check_groups(model, idata["posterior"].to_dataset(), seed))


def calibrated(posterior: Any, plans: list[Calibration]) -> Any:
    """The posterior with each plan's area values benchmarked draw by draw.

    The unadjusted values are kept as ``<variable>_uncalibrated``, so that the estimates can
    report each area's adjustment (:func:`lcmodel.design.calibration.calibrate`).
    """
    for plan in plans:
        values = posterior[plan.variable]
        if values.ndim != 4:
            raise ValueError(f"{plan.variable} is not (chain, draw, area, quantity)")
        data = values.to_numpy().copy()
        data[..., plan.quantity] = calibrate(
            data[..., plan.quantity], plan.weights, plan.target, plan.method
        )
        posterior = posterior.assign(
            {
                f"{plan.variable}_uncalibrated": values,
                plan.variable: values.copy(data=data),
            }
        )
    return posterior


COMPACT_VARIABLES = (
    "area_value",
    "area_value_uncalibrated",
    "area_wave_value",
    "area_effect",
    "area_wave_effect",
    "z_area",
)
"""Per-area quantities the sampler computes from the parameters, kept in single precision.

They are reported, never fed back into the model (the log-likelihood and the checks read the
free variables), and each is one value per area and draw: at 32,844 areas and 4,000 draws one
of them takes 1.05 GB in double precision. Single precision (7 significant digits) halves
that with no effect on any reported figure: estimates are summarised in double precision
from the stored draws, so a share's posterior mean and interval bounds move by at most the
rounding of one draw, 3e-8."""


def compact(posterior: Any) -> Any:
    """The posterior with its :data:`COMPACT_VARIABLES` (any indicator's) in single precision."""
    names = [
        name
        for name, values in posterior.data_vars.items()
        if name.split(SEPARATOR)[-1] in COMPACT_VARIABLES and values.dtype == np.float64
    ]
    if not names:
        return posterior
    return posterior.assign({name: posterior[name].astype(np.float32) for name in names})


def record_calibration(metadata: dict[str, Any], plan: Calibration) -> None:
    """Note a calibration in a result's metadata (a joint model's under its indicator)."""
    record = {"label": plan.label, "method": plan.method, "target": plan.target}
    record["quantity_index"] = plan.quantity
    if SEPARATOR in plan.variable:
        indicator = plan.variable.split(SEPARATOR)[0]
        metadata["indicators"][indicator]["calibration"] = record
    else:
        metadata["calibration"] = record
