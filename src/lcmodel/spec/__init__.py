"""Model specs: pydantic models of TOML specs, validated at the door (no PyMC here).

One module per kind of spec (:mod:`~lcmodel.spec.unit_level`, :mod:`~lcmodel.spec.joint`,
:mod:`~lcmodel.spec.area_level`), what they share in :mod:`~lcmodel.spec.common`, and the prior
vocabulary in :mod:`~lcmodel.spec.priors`. :func:`load_spec` reads any spec file and returns
the typed spec; its ``kind`` (``unit_level``, ``joint``, ``area_level``) is the one place that
decides what kind of model a file describes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, overload

from pydantic import Field, TypeAdapter

from lcmodel.errors import SpecError
from lcmodel.spec.area_level import AreaLevelSection, AreaLevelSpec, parse_area_level_spec
from lcmodel.spec.common import (
    DEFAULT_CV_CAUTION,
    DEFAULT_CV_SUPPRESS,
    DEFAULT_INTERVAL,
    FAMILY_NAMES,
    SAMPLERS,
    CalibrateSpec,
    FitSpec,
    read_toml,
)
from lcmodel.spec.joint import CorrelationSpec, JointSpec, parse_joint_spec
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
"""The kinds of spec, and so of model."""

AnySpec = Annotated[ModelSpec | JointSpec | AreaLevelSpec, Field(discriminator="kind")]
"""Any spec, told apart by its ``kind``."""

KINDS: dict[str, type[ModelSpec | JointSpec | AreaLevelSpec]] = {
    "unit_level": ModelSpec,
    "joint": JointSpec,
    "area_level": AreaLevelSpec,
}
"""Spec class of each kind."""

_HOW_TO_FIT = {
    "unit_level": "lcmodel.UnitLevelModel.from_spec()",
    "joint": "lcmodel.JointModel.from_spec()",
    "area_level": "lcmodel.FayHerriotModel.from_spec()",
}

_ANY: TypeAdapter[ModelSpec | JointSpec | AreaLevelSpec] = TypeAdapter(AnySpec)


def _a(label: str) -> str:
    return f"{'an' if label[0] in 'aeiou' else 'a'} {label}"


def spec_kind(raw: dict[str, Any]) -> str:
    """The kind of a raw spec: its ``kind`` key, else what its tables say.

    A spec that lists ``indicators`` is joint; one with an ``[area_level]`` table is
    area-level; any other is unit-level.
    """
    if "kind" in raw:
        kind = raw["kind"]
        if kind not in KINDS:
            raise SpecError(f"unknown spec kind {kind!r}; choose one of {', '.join(KINDS)}")
        return str(kind)
    if "indicators" in raw:
        return "joint"
    if "area_level" in raw:
        return "area_level"
    return "unit_level"


def parse_any_spec(raw: dict[str, Any], source: str) -> ModelSpec | JointSpec | AreaLevelSpec:
    """Validate a spec dictionary of any kind (as saved in a result's ``result.json``).

    Parameters
    ----------
    raw
        The spec as a dictionary; its kind is read or inferred (see :func:`spec_kind`).
    source
        Where it came from, for messages.
    """
    parse = {
        "unit_level": parse_spec,
        "joint": parse_joint_spec,
        "area_level": parse_area_level_spec,
    }[spec_kind(raw)]
    return parse(raw, source)


@overload
def load_spec(path: str | Path, kind: Literal["unit_level"]) -> ModelSpec: ...
@overload
def load_spec(path: str | Path, kind: Literal["joint"]) -> JointSpec: ...
@overload
def load_spec(path: str | Path, kind: Literal["area_level"]) -> AreaLevelSpec: ...
@overload
def load_spec(path: str | Path, kind: None = None) -> ModelSpec | JointSpec | AreaLevelSpec: ...


def load_spec(path: str | Path, kind: str | None = None) -> ModelSpec | JointSpec | AreaLevelSpec:
    """Read and validate a TOML spec of any kind; relative paths resolve against its folder.

    Parameters
    ----------
    path
        Path to a ``.toml`` spec.
    kind
        The kind the caller needs (``unit_level``, ``joint``, ``area_level``); a file of another
        kind is then an error saying how to load it. ``None`` accepts any kind.

    Returns
    -------
    ModelSpec, JointSpec or AreaLevelSpec
        The validated spec, with absolute paths; its ``kind`` says which.

    Raises
    ------
    SpecError
        When the file is missing, is not valid TOML, fails validation, or is not of ``kind``.
    """
    path = Path(path)
    raw = read_toml(path)
    found = spec_kind(raw)
    if kind is not None and found != kind:
        raise SpecError(
            f"{path}: is {_a(KINDS[found].label)}, not {_a(KINDS[kind].label)}; load it with "
            f"lcmodel.load_spec() or {_HOW_TO_FIT[found]}"
        )
    base = path.parent.resolve()
    if found == "joint":
        return _joint_from_file(path, raw, base)
    if found == "area_level":
        return parse_area_level_spec(raw, source=str(path)).resolved(base)
    return parse_spec(raw, source=str(path)).resolved(base)


def _joint_from_file(path: Path, raw: dict[str, Any], base: Path) -> JointSpec:
    """A joint spec whose ``indicators`` are paths of unit-level specs (relative to it)."""
    listed = raw["indicators"]
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        raise SpecError(
            f"{path}: 'indicators' must be a list of spec file paths, e.g. "
            f'indicators = ["trust.toml", "belonging.toml"]'
        )
    specs = [load_spec(base / item, "unit_level") for item in listed]
    raw = {**raw, "indicators": [spec.model_dump() for spec in specs]}
    return parse_joint_spec(raw, source=str(path))


def load_joint_spec(path: str | Path) -> JointSpec:
    """Read a joint spec (``load_spec(path, "joint")``)."""
    return load_spec(path, "joint")


def load_area_level_spec(path: str | Path) -> AreaLevelSpec:
    """Read an area-level spec (``load_spec(path, "area_level")``)."""
    return load_spec(path, "area_level")


def load_any_spec(path: str | Path) -> ModelSpec | JointSpec | AreaLevelSpec:
    """Read a spec of any kind (``load_spec(path)``)."""
    return load_spec(path)
