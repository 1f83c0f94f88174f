"""Model specs: pydantic models of TOML specs, validated at the door (no PyMC here).

One module per kind of spec (:mod:`~lcmodel.spec.unit_level`, :mod:`~lcmodel.spec.joint`,
:mod:`~lcmodel.spec.area_level`), what they share in :mod:`~lcmodel.spec.common`, and the prior
vocabulary in :mod:`~lcmodel.spec.priors`. :func:`load_spec` reads any spec file and returns
the typed spec; its ``kind`` (``unit_level``, ``joint``, ``area_level``) is the one place that
decides what kind of model a file describes. Each kind's spec class registers itself
(:mod:`~lcmodel.spec.kinds`) and every module of this package is imported, so a new kind of
spec is one new module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, overload

from pydantic import Field

from lcmodel.discovery import import_modules
from lcmodel.errors import SpecError as SpecError  # re-exported, as before
from lcmodel.spec.area_level import AreaLevelSection, AreaLevelSpec, parse_area_level_spec
from lcmodel.spec.common import (
    DEFAULT_CV_CAUTION,
    DEFAULT_CV_SUPPRESS,
    DEFAULT_INTERVAL,
    FAMILY_NAMES,
    SAMPLERS,
    CalibrateSpec,
    FitSpec,
)
from lcmodel.spec.joint import CorrelationSpec, JointSpec, parse_joint_spec
from lcmodel.spec.kinds import DEFAULT_KIND, SPEC_KINDS, KindSpec, parse_any_spec, spec_kind
from lcmodel.spec.kinds import load_spec as _load_spec
from lcmodel.spec.plan import Plan, PlanJob, PlanSpec, load_plan
from lcmodel.spec.priors import PriorSpec, PriorTerm
from lcmodel.spec.unit_level import (
    BenchmarkSpec,
    FrameSpec,
    ModelSpec,
    OutcomeSpec,
    PopulationSpec,
    StructureSpec,
    UnitLevelSpec,
    parse_spec,
)

__all__ = [
    "DEFAULT_CV_CAUTION",
    "DEFAULT_CV_SUPPRESS",
    "DEFAULT_INTERVAL",
    "DEFAULT_KIND",
    "FAMILY_NAMES",
    "KINDS",
    "SAMPLERS",
    "AnySpec",
    "AreaLevelSection",
    "AreaLevelSpec",
    "BenchmarkSpec",
    "CalibrateSpec",
    "CorrelationSpec",
    "FitSpec",
    "FrameSpec",
    "JointSpec",
    "KindSpec",
    "ModelSpec",
    "OutcomeSpec",
    "Plan",
    "PlanJob",
    "PlanSpec",
    "PopulationSpec",
    "PriorSpec",
    "PriorTerm",
    "SpecKind",
    "StructureSpec",
    "UnitLevelSpec",
    "load_any_spec",
    "load_area_level_spec",
    "load_joint_spec",
    "load_plan",
    "load_spec",
    "parse_any_spec",
    "parse_area_level_spec",
    "parse_joint_spec",
    "parse_spec",
    "spec_kind",
]

SpecKind = Literal["unit_level", "joint", "area_level"]
"""The built-in kinds of spec, and so of model (more register in :data:`KINDS`)."""

AnySpec = Annotated[ModelSpec | JointSpec | AreaLevelSpec, Field(discriminator="kind")]
"""Any built-in spec, told apart by its ``kind`` (for type checkers; see :data:`KINDS`)."""

KINDS = SPEC_KINDS
"""Spec class of each kind: the built-in ones and any that a module of this package defines."""


@overload
def load_spec(path: str | Path, kind: Literal["unit_level"]) -> ModelSpec: ...
@overload
def load_spec(path: str | Path, kind: Literal["joint"]) -> JointSpec: ...
@overload
def load_spec(path: str | Path, kind: Literal["area_level"]) -> AreaLevelSpec: ...
@overload
def load_spec(path: str | Path, kind: str | None = None) -> KindSpec: ...


def load_spec(path: str | Path, kind: str | None = None) -> KindSpec:
    """Read and validate a TOML spec of any kind; relative paths resolve against its folder.

    Parameters
    ----------
    path
        Path to a ``.toml`` spec.
    kind
        The kind the caller needs (``unit_level``, ``joint``, ``area_level``, or one registered
        in :data:`KINDS`); a file of another kind is then an error saying how to load it.
        ``None`` accepts any kind.

    Returns
    -------
    KindSpec
        The validated spec (:class:`ModelSpec`, :class:`JointSpec`, :class:`AreaLevelSpec`,
        ...), with absolute paths; its ``kind`` says which.

    Raises
    ------
    SpecError
        When the file is missing, is not valid TOML, fails validation, or is not of ``kind``.
    """
    return _load_spec(path, kind)


def load_joint_spec(path: str | Path) -> JointSpec:
    """Read a joint spec (``load_spec(path, "joint")``)."""
    return load_spec(path, "joint")


def load_area_level_spec(path: str | Path) -> AreaLevelSpec:
    """Read an area-level spec (``load_spec(path, "area_level")``)."""
    return load_spec(path, "area_level")


def load_any_spec(path: str | Path) -> KindSpec:
    """Read a spec of any kind (``load_spec(path)``)."""
    return load_spec(path)


import_modules(__name__, __path__)  # a new spec/<kind>.py registers its kind (KINDS)
