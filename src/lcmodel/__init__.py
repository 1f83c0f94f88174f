"""lcmodel: Bayesian small-area estimation of community survey outcomes.

Fit hierarchical models of survey indicators across areas, read per-area estimates with
honest intervals, and compare each area with a deprivation-matched benchmark.

Examples
--------
>>> import lcmodel
>>> model = lcmodel.AreaModel.from_spec("models/trust.toml")  # doctest: +SKIP
>>> result = model.fit()  # doctest: +SKIP
>>> result.estimates()  # doctest: +SKIP
"""

from importlib.metadata import version as _version

from lcmodel.area_level import FayHerriotModel
from lcmodel.data import SurveyData, load_survey_data, prepare_survey_data
from lcmodel.diagnostics import Diagnostics
from lcmodel.errors import DataError, LcmodelError, SpecError
from lcmodel.joint import JointModel
from lcmodel.joint_comparison import JointComparison, compare_with_separate
from lcmodel.joint_results import JointFitResult
from lcmodel.model import AreaModel
from lcmodel.priors import PriorSpec
from lcmodel.results import FitResult, load
from lcmodel.spec import (
    AreaLevelSpec,
    JointSpec,
    ModelSpec,
    load_area_level_spec,
    load_joint_spec,
    load_spec,
)

__version__ = _version("lcmodel")

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
    "ModelSpec",
    "PriorSpec",
    "SpecError",
    "SurveyData",
    "__version__",
    "compare_with_separate",
    "load",
    "load_area_level_spec",
    "load_joint_spec",
    "load_spec",
    "load_survey_data",
    "prepare_survey_data",
]
