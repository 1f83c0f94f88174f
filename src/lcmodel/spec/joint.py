"""Joint specs: several indicators of one survey with correlated area effects."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from lcmodel.errors import SpecError
from lcmodel.spec.common import NAME_PATTERN, FitSpec, Strict, with_fit_overrides
from lcmodel.spec.kinds import KindSpec, load_spec
from lcmodel.spec.unit_level import ModelSpec

__all__ = ["CorrelationSpec", "JointSpec", "parse_joint_spec"]


class CorrelationSpec(Strict):
    """Prior on the correlation of area effects across the indicators of a joint model."""

    eta: float = Field(
        default=2.0,
        gt=0,
        description="LKJ shape: 1 is uniform over correlation matrices; larger values pull "
        "correlations towards 0.",
    )


class JointSpec(KindSpec):
    """A joint model of several indicators with correlated area effects.

    ``indicators`` are complete single-indicator specs (in a TOML file, paths to them). They
    must share the survey file, the areas table and the area column; each keeps its own
    outcome, covariates, benchmark and priors. The joint spec's ``[fit]`` replaces theirs.
    """

    label: ClassVar[str] = "joint model spec"
    how_to_fit: ClassVar[str] = "lcmodel.JointModel.from_spec()"
    markers: ClassVar[tuple[str, ...]] = ("indicators",)
    kind: Literal["joint"] = Field(
        default="joint",
        description="What kind of model the spec describes (inferred when omitted).",
    )

    name: str = Field(pattern=NAME_PATTERN, description="Model name (names the output folder).")
    indicators: list[ModelSpec] = Field(min_length=2, description="The indicators, in order.")
    correlation: CorrelationSpec = Field(default_factory=CorrelationSpec)
    fit: FitSpec = Field(default_factory=FitSpec)

    @model_validator(mode="after")
    def _shared(self) -> JointSpec:
        names = [spec.name for spec in self.indicators]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(
                f"indicator names must differ, but {repeated} appear more than once; give "
                f"each indicator spec its own 'name'"
            )
        first = self.indicators[0]
        for spec in self.indicators[1:]:
            for key, mine, theirs in [
                ("data", spec.data, first.data),
                ("areas", spec.areas, first.areas),
                ("structure.area", spec.structure.area, first.structure.area),
            ]:
                if mine != theirs:

                    def shown(value: object, key: str = key) -> str:
                        return f"{key} = '{value}'" if value is not None else f"no {key}"

                    raise ValueError(
                        f"indicators share one survey: '{spec.name}' has {shown(mine)} but "
                        f"'{first.name}' has {shown(theirs)}; give every indicator spec the "
                        f"same {key}"
                    )
        return self

    @classmethod
    def from_toml(cls, path: Path, raw: dict[str, Any]) -> Self:
        """A joint spec whose ``indicators`` are paths of unit-level specs (relative to it)."""
        if "indicators" not in raw:
            return cls.parse(raw, str(path))  # says that 'indicators' is missing
        listed = raw["indicators"]
        if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
            raise SpecError(
                f"{path}: 'indicators' must be a list of spec file paths, e.g. "
                f'indicators = ["trust.toml", "belonging.toml"]'
            )
        base = path.parent.resolve()
        specs = [load_spec(base / item, "unit_level") for item in listed]
        return cls.parse({**raw, "indicators": [spec.model_dump() for spec in specs]}, str(path))

    @property
    def names(self) -> list[str]:
        """Indicator names, in order."""
        return [spec.name for spec in self.indicators]

    def with_overrides(self, **changes: Any) -> JointSpec:
        """Return a copy with ``fit`` fields replaced (``None`` values ignored).

        Parameters
        ----------
        **changes
            Any :class:`FitSpec` field.
        """
        return with_fit_overrides(self, changes)

    def indicator_specs(self) -> list[ModelSpec]:
        """The indicator specs, each with the joint ``[fit]`` settings."""
        fit = self.fit.model_dump()
        return [spec.with_overrides(**fit) for spec in self.indicators]


def parse_joint_spec(raw: dict[str, Any], source: str) -> JointSpec:
    """Validate a joint spec dictionary (see :class:`JointSpec`).

    Parameters
    ----------
    raw
        The parsed TOML, its ``indicators`` either paths or full indicator specs.
    source
        Where it came from, for the message.
    """
    return JointSpec.parse(raw, source)
