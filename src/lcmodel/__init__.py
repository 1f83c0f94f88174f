"""lcmodel: Bayesian small-area estimation of community survey outcomes.

Fit hierarchical models of survey indicators across areas, read per-area estimates with
honest intervals, and compare each area with a deprivation-matched benchmark.

Names are imported on first use, so ``import lcmodel`` (and the command line's help and input
errors) does not load PyMC.

Examples
--------
>>> import lcmodel
>>> model = lcmodel.UnitLevelModel.from_spec("models/trust.toml")  # doctest: +SKIP
>>> result = model.fit()  # doctest: +SKIP
>>> result.estimates()  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import version as _version
from typing import TYPE_CHECKING, Any

from lcmodel.discovery import MovedModules, warn_moved

if TYPE_CHECKING:
    from lcmodel.data.survey import SurveyData, load_survey_data, prepare_survey_data
    from lcmodel.errors import DataError, LcmodelError, SpecError
    from lcmodel.inference.diagnostics import Diagnostics
    from lcmodel.models.fay_herriot import FayHerriotModel
    from lcmodel.models.joint import JointModel
    from lcmodel.models.registry import model_from_spec
    from lcmodel.models.unit_level import UnitLevelModel
    from lcmodel.reporting.render import report
    from lcmodel.results.fit_result import FitResult
    from lcmodel.results.folder import load
    from lcmodel.results.joint_result import JointFitResult
    from lcmodel.results.result import Result
    from lcmodel.spec import (
        AreaLevelSpec,
        JointSpec,
        ModelSpec,
        PriorSpec,
        load_area_level_spec,
        load_joint_spec,
        load_plan,
        load_spec,
    )
    from lcmodel.workflows.fit_many import PlanRun, fit_many
    from lcmodel.workflows.joint_comparison import JointComparison, compare_with_separate
    from lcmodel.workflows.model_comparison import ModelComparison, compare_models

__version__ = _version("lcmodel")

_PUBLIC = {
    "AreaLevelSpec": "lcmodel.spec",
    "DataError": "lcmodel.errors",
    "Diagnostics": "lcmodel.inference.diagnostics",
    "FayHerriotModel": "lcmodel.models.fay_herriot",
    "FitResult": "lcmodel.results.fit_result",
    "JointComparison": "lcmodel.workflows.joint_comparison",
    "JointFitResult": "lcmodel.results.joint_result",
    "Result": "lcmodel.results.result",
    "JointModel": "lcmodel.models.joint",
    "JointSpec": "lcmodel.spec",
    "LcmodelError": "lcmodel.errors",
    "ModelComparison": "lcmodel.workflows.model_comparison",
    "ModelSpec": "lcmodel.spec",
    "PlanRun": "lcmodel.workflows.fit_many",
    "PriorSpec": "lcmodel.spec",
    "SpecError": "lcmodel.errors",
    "SurveyData": "lcmodel.data.survey",
    "UnitLevelModel": "lcmodel.models.unit_level",
    "compare_models": "lcmodel.workflows.model_comparison",
    "compare_with_separate": "lcmodel.workflows.joint_comparison",
    "fit_many": "lcmodel.workflows.fit_many",
    "load": "lcmodel.results.folder",
    "load_area_level_spec": "lcmodel.spec",
    "load_joint_spec": "lcmodel.spec",
    "load_plan": "lcmodel.spec",
    "load_spec": "lcmodel.spec",
    "load_survey_data": "lcmodel.data.survey",
    "model_from_spec": "lcmodel.models.registry",
    "prepare_survey_data": "lcmodel.data.survey",
    "report": "lcmodel.reporting.render",
}
"""Every public name and the module that defines it."""

_DEPRECATED = {"AreaModel": ("UnitLevelModel", "lcmodel.models.unit_level")}
"""Old public names, still importable for one release: old name -> (new name, module)."""

_MOVED_MODULES = {
    "lcmodel.area_level": "lcmodel.models.fay_herriot",
    "lcmodel.cells": "lcmodel.design.cells",
    "lcmodel.checks": "lcmodel.workflows.checks",
    "lcmodel.comparison": "lcmodel.design.benchmarks",
    "lcmodel.diagnostics": "lcmodel.inference.diagnostics",
    "lcmodel.direct": "lcmodel.design.direct",
    "lcmodel.estimates": "lcmodel.results.estimates",
    "lcmodel.export": "lcmodel.results.export",
    "lcmodel.frames": "lcmodel.data.population",
    "lcmodel.joint": "lcmodel.models.joint",
    "lcmodel.joint_comparison": "lcmodel.workflows.joint_comparison",
    "lcmodel.joint_results": "lcmodel.results.joint_result",
    "lcmodel.model": "lcmodel.models.unit_level",
    "lcmodel.plots": "lcmodel.results.plots",
    "lcmodel.priors": "lcmodel.spec.priors",
    "lcmodel.simulate_map": "lcmodel.simulate.geography",
    "lcmodel.simulate_population": "lcmodel.simulate.population",
    "lcmodel.storage": "lcmodel.io.storage",
    "lcmodel.tables": "lcmodel.io.tables",
    "lcmodel.waves": "lcmodel.results.waves",
}
"""Modules that moved into the layers (lcmodel 0.1.0's, and two simulators'): old -> new.

``import lcmodel.model`` (or ``from lcmodel.checks import score_distribution_check``) still
works for one release, with a ``DeprecationWarning``; the names the old ``lcmodel.data`` and
``lcmodel.results`` modules defined are found the same way in those packages.
"""

if not any(isinstance(hook, MovedModules) for hook in sys.meta_path):
    sys.meta_path.append(MovedModules(_MOVED_MODULES))

__all__ = [
    "AreaLevelSpec",
    "AreaModel",
    "DataError",
    "Diagnostics",
    "FayHerriotModel",
    "FitResult",
    "JointComparison",
    "JointFitResult",
    "JointModel",
    "JointSpec",
    "LcmodelError",
    "ModelComparison",
    "ModelSpec",
    "PlanRun",
    "PriorSpec",
    "Result",
    "SpecError",
    "SurveyData",
    "UnitLevelModel",
    "__version__",
    "compare_models",
    "compare_with_separate",
    "fit_many",
    "load",
    "load_area_level_spec",
    "load_joint_spec",
    "load_plan",
    "load_spec",
    "load_survey_data",
    "model_from_spec",
    "prepare_survey_data",
    "report",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    if name in _DEPRECATED:
        new, module = _DEPRECATED[name]
        warn_moved(f"lcmodel.{name}", f"lcmodel.{new}")
        return getattr(importlib.import_module(module), new)
    raise AttributeError(f"module 'lcmodel' has no attribute {name!r}")


def __dir__() -> list[str]:
    return [n for n in __all__ if n not in _DEPRECATED]
