"""Model specs: the declarative description of one fit, read from TOML and validated.

A spec names the data, the outcome and its family, the area/wave/covariate structure, the
benchmark to compare with, sampler settings and prior overrides. It is validated with pydantic
(``extra="forbid"``): an unknown key is an error with a "did you mean" hint, never silence.
A spec cannot run code: families and distributions are chosen by name from fixed registries.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from lcmodel.errors import SpecError, did_you_mean
from lcmodel.priors import PriorSpec

__all__ = [
    "DEFAULT_INTERVAL",
    "AreaLevelSection",
    "AreaLevelSpec",
    "BenchmarkSpec",
    "CorrelationSpec",
    "FitSpec",
    "FrameSpec",
    "JointSpec",
    "ModelSpec",
    "OutcomeSpec",
    "PopulationSpec",
    "StructureSpec",
    "load_any_spec",
    "load_area_level_spec",
    "load_joint_spec",
    "load_spec",
    "parse_area_level_spec",
    "parse_joint_spec",
    "parse_spec",
]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""What a model name may hold (it names the output folder and prefixes joint variables)."""

DEFAULT_INTERVAL = 0.9
"""Default posterior interval probability, used everywhere an interval is reported."""

DEFAULT_CV_CAUTION = 0.2
"""Coefficient of variation above which an estimate is published with a caution."""

DEFAULT_CV_SUPPRESS = 0.33
"""Coefficient of variation above which an estimate should not be published."""

FAMILY_NAMES = ("bernoulli", "ordinal", "gaussian")
"""Outcome families a spec may name (one module each under ``lcmodel.families``)."""

SAMPLERS = ("auto", "pymc", "nutpie", "numpyro")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutcomeSpec(_Strict):
    """The indicator being modelled: its column, family and answer coding."""

    column: str = Field(description="Survey column holding the answers.")
    family: str = Field(default="bernoulli", description="Outcome family.")
    success: list[str] | None = Field(
        default=None, description="Answer labels counted as 1 (omit for 0/1 columns)."
    )
    failure: list[str] | None = Field(
        default=None,
        description="Answer labels counted as 0; when given, any other label is an error.",
    )
    higher_is_better: bool = Field(
        default=True,
        description="Whether an increase of the headline quantity is an improvement (false "
        "for anxiety); used by the probability that an area improved between waves.",
    )

    @field_validator("family")
    @classmethod
    def _known_family(cls, value: str) -> str:
        if value not in FAMILY_NAMES:
            raise ValueError(
                f"unknown family '{value}'{did_you_mean(value, FAMILY_NAMES)}; "
                f"available: {', '.join(FAMILY_NAMES)}"
            )
        return value

    categories: list[str | int] | None = Field(
        default=None,
        description="Ordinal family: the answer labels (or 0-10 scores) from lowest to highest.",
    )
    groups: dict[str, list[str | int]] = Field(
        default_factory=dict,
        description="Ordinal family: named groups of categories whose shares are reported.",
    )

    bands: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="Gaussian family: named score ranges [low, high] (inclusive, answers "
        "rounded to whole numbers) whose shares are reported.",
    )

    @model_validator(mode="after")
    def _labels(self) -> OutcomeSpec:
        if self.bands and self.family != "gaussian":
            raise ValueError(f"'bands' belong to the gaussian family, not {self.family}")
        for band, (low, high) in self.bands.items():
            if not low <= high:
                raise ValueError(f"band '{band}' runs from {low} to {high}; give [low, high]")
        binary = self.success is not None or self.failure is not None
        ordinal = self.categories is not None or bool(self.groups)
        if self.family != "bernoulli" and binary:
            raise ValueError(
                f"'success'/'failure' belong to the bernoulli family, not {self.family}"
            )
        if self.family != "ordinal" and ordinal:
            raise ValueError(
                f"'categories'/'groups' belong to the ordinal family, not {self.family}"
            )
        if self.failure is not None and self.success is None:
            raise ValueError("'failure' labels are given without 'success' labels")
        if self.success is not None:
            if not self.success:
                raise ValueError("'success' must list at least one answer label")
            both = set(self.success) & set(self.failure or [])
            if both:
                raise ValueError(f"label(s) {sorted(both)} are in both 'success' and 'failure'")
        if self.family == "ordinal":
            if self.categories is None:
                raise ValueError("the ordinal family needs 'categories', lowest to highest")
            labels = [str(c) for c in self.categories]
            if len(labels) < 3:
                raise ValueError(
                    "an ordinal outcome needs at least 3 categories; use family = 'bernoulli' "
                    "for two"
                )
            if len(set(labels)) != len(labels):
                raise ValueError("'categories' lists a category more than once")
            for group, members in self.groups.items():
                if group in labels:
                    raise ValueError(
                        f"group '{group}' has the name of a category; give groups other names"
                    )
                unknown = [str(m) for m in members if str(m) not in labels]
                if unknown:
                    raise ValueError(
                        f"group '{group}' has {unknown[0]!r}, which is not in 'categories'"
                        f"{did_you_mean(unknown[0], labels)}"
                    )
                if not members:
                    raise ValueError(f"group '{group}' is empty")
        return self

    @property
    def category_labels(self) -> list[str]:
        """Ordinal categories as text labels (empty for other families)."""
        return [str(c) for c in self.categories or []]


class StructureSpec(_Strict):
    """How respondents are grouped: area, wave, and covariates."""

    area: str = Field(description="Survey column naming the area of each respondent.")
    wave: str | None = Field(default=None, description="Survey column with the wave (integer).")
    covariates: list[str] = Field(
        default_factory=list, description="Categorical respondent covariates."
    )
    numeric_covariates: list[str] = Field(
        default_factory=list,
        description="Numeric respondent covariates (standardised before they enter).",
    )
    area_covariates: list[str] = Field(
        default_factory=list, description="Columns of the areas table used as area covariates."
    )
    weight: str | None = Field(
        default=None,
        description="Survey column of design weights (used by the direct estimates).",
    )
    area_wave: Literal["random_walk"] | None = Field(
        default=None,
        description="Area x wave effects: each area's own path over the waves (a random walk), "
        "giving area x wave estimates and changes between waves.",
    )

    @model_validator(mode="after")
    def _distinct(self) -> StructureSpec:
        if self.area_wave is not None and self.wave is None:
            raise ValueError("'area_wave' needs a 'wave' column")
        used = [self.area, self.wave, *self.covariates, *self.numeric_covariates, self.weight]
        named = [c for c in used if c is not None]
        repeated = sorted({c for c in named if named.count(c) > 1})
        if repeated:
            raise ValueError(f"column(s) {repeated} are used for more than one role")
        return self


class PopulationSpec(_Strict):
    """Population covariate means per area, for area means over the population.

    With numeric covariates, the area mean of a linear (Gaussian) model is the prediction at
    the area's population mean of the covariates (the unit-level model of Battese, Harter and
    Fuller). This table gives those means.
    """

    table: Path = Field(description="CSV/Parquet with one row per area (relative to the spec).")
    area: str = Field(default="area", description="Column of the table naming the area.")
    means: dict[str, str] = Field(
        description="Numeric covariate -> column of the table holding its population mean."
    )
    size: str | None = Field(
        default=None,
        description="Column with the number of population units per area; when given, area "
        "means include the finite-population correction.",
    )


class FrameSpec(_Strict):
    """A population frame for poststratification (MRP): area x covariate cells with counts.

    Area values then average the model's predictions over the frame's cells, weighted by their
    counts, instead of over the respondents.
    """

    table: Path = Field(description="CSV/Parquet, one row per area x covariate cell.")
    area: str = Field(default="area", description="Column of the frame naming the area.")
    count: str = Field(default="count", description="Column of population counts (positive).")


class BenchmarkSpec(_Strict):
    """Which benchmark rows to compare area estimates with."""

    table: Path = Field(description="Benchmarks CSV/Parquet (relative to the spec file).")
    indicator: str = Field(description="Value of the benchmarks' 'indicator' column to use.")
    match: Literal["deprivation", "national"] = Field(
        default="deprivation",
        description="Match each area's nation and deprivation decile, or its nation only.",
    )


class FitSpec(_Strict):
    """Sampler settings."""

    draws: int = Field(default=1000, gt=0)
    tune: int = Field(default=1000, ge=0)
    chains: int = Field(default=4, gt=0)
    seed: int | None = Field(
        default=None,
        ge=0,
        description="Random seed; when omitted one is drawn and recorded with the result.",
    )
    sampler: Literal["auto", "pymc", "nutpie", "numpyro"] = "auto"
    target_accept: float = Field(default=0.9, gt=0, lt=1)
    interval: float = Field(default=DEFAULT_INTERVAL, gt=0, lt=1)
    interval_kind: Literal["eti", "hdi"] = "eti"
    cores: int | None = Field(default=None, gt=0)
    aggregate: bool = Field(
        default=True,
        description="Collapse respondents into sufficient-statistic cells (same posterior).",
    )
    cv_caution: float = Field(
        default=DEFAULT_CV_CAUTION,
        gt=0,
        description="Coefficient of variation above which an estimate is flagged 'caution'.",
    )
    cv_suppress: float = Field(
        default=DEFAULT_CV_SUPPRESS,
        gt=0,
        description="Coefficient of variation above which an estimate is flagged 'suppress'.",
    )

    @model_validator(mode="after")
    def _ordered_thresholds(self) -> FitSpec:
        if not self.cv_caution < self.cv_suppress:
            raise ValueError(
                f"cv_caution ({self.cv_caution}) must be below cv_suppress ({self.cv_suppress})"
            )
        return self


class ModelSpec(_Strict):
    """A complete, validated model spec.

    Paths are stored as given; :func:`load_spec` resolves them against the spec file's folder.
    """

    name: str = Field(
        pattern=NAME_PATTERN,
        description="Model name: letters, digits, '_', '.', '-' (it names the output folder).",
    )
    data: Path
    areas: Path | None = None
    outcome: OutcomeSpec
    structure: StructureSpec
    benchmark: BenchmarkSpec | None = None
    population: PopulationSpec | None = None
    frame: FrameSpec | None = None
    fit: FitSpec = Field(default_factory=FitSpec)
    priors: dict[str, PriorSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if self.structure.area_covariates and self.areas is None:
            raise ValueError("'structure.area_covariates' needs an 'areas' table")
        if self.benchmark is not None and self.areas is None:
            raise ValueError("'benchmark' needs an 'areas' table to know each area's nation")
        if self.frame is not None:
            if self.population is not None:
                raise ValueError(
                    "give either 'frame' (cells with counts) or 'population' (covariate means)"
                )
            if self.structure.numeric_covariates:
                raise ValueError(
                    "a 'frame' poststratifies over categorical covariates; numeric respondent "
                    "covariates have no cells (drop them, or band them into categories)"
                )
        if self.population is not None:
            if self.outcome.family != "gaussian":
                raise ValueError(
                    "'population' covariate means give area means of a gaussian outcome only "
                    "(a mean of predicted probabilities is not the probability at the mean)"
                )
            missing = set(self.structure.numeric_covariates) - set(self.population.means)
            extra = set(self.population.means) - set(self.structure.numeric_covariates)
            if missing or extra:
                wanted = sorted(self.structure.numeric_covariates)
                raise ValueError(
                    f"'population.means' must name exactly the numeric covariates {wanted}; "
                    f"got {sorted(self.population.means)}"
                )
            if self.outcome.bands:
                raise ValueError(
                    "'outcome.bands' cannot be combined with 'population' means: a band's share "
                    "at the mean covariates is not the population share in the band"
                )
            if self.structure.covariates or self.structure.wave:
                raise ValueError(
                    "'population' means work with numeric covariates only; categorical "
                    "covariates and waves need a population frame of cells (not yet supported)"
                )
        return self

    def with_overrides(self, **changes: Any) -> ModelSpec:
        """Return a copy with top-level or ``fit`` fields replaced (``None`` values ignored).

        Parameters
        ----------
        **changes
            ``data``, ``areas`` or any :class:`FitSpec` field.
        """
        changes = {k: v for k, v in changes.items() if v is not None}
        fit_keys = set(FitSpec.model_fields)
        fit = {k: v for k, v in changes.items() if k in fit_keys}
        top = {k: v for k, v in changes.items() if k not in fit_keys}
        unknown = set(top) - set(ModelSpec.model_fields)
        if unknown:
            raise SpecError(f"cannot override unknown spec field(s) {sorted(unknown)}")
        data = self.model_dump()
        data.update(top)
        data["fit"] = {**data["fit"], **fit}
        return parse_spec(data, source="overrides")

    def resolved(self, base: Path) -> ModelSpec:
        """Return a copy whose relative file paths are made absolute against ``base``."""

        def fix(path: Path | None) -> Path | None:
            if path is None:
                return None
            return path if path.is_absolute() else (base / path).resolve()

        data = self.model_dump()
        data["data"] = fix(self.data)
        data["areas"] = fix(self.areas)
        if self.benchmark is not None:
            data["benchmark"]["table"] = fix(self.benchmark.table)
        if self.population is not None:
            data["population"]["table"] = fix(self.population.table)
        if self.frame is not None:
            data["frame"]["table"] = fix(self.frame.table)
        return ModelSpec.model_validate(data)


class CorrelationSpec(_Strict):
    """Prior on the correlation of area effects across the indicators of a joint model."""

    eta: float = Field(
        default=2.0,
        gt=0,
        description="LKJ shape: 1 is uniform over correlation matrices; larger values pull "
        "correlations towards 0.",
    )


class JointSpec(_Strict):
    """A joint model of several indicators with correlated area effects.

    ``indicators`` are complete single-indicator specs (in a TOML file, paths to them). They
    must share the survey file, the areas table and the area column; each keeps its own
    outcome, covariates, benchmark and priors. The joint spec's ``[fit]`` replaces theirs.
    """

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
                    raise ValueError(
                        f"indicators share one survey: '{spec.name}' has {key} = '{mine}' but "
                        f"'{first.name}' has '{theirs}'"
                    )
        return self

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
        return _with_fit_overrides(self, changes)

    def indicator_specs(self) -> list[ModelSpec]:
        """The indicator specs, each with the joint ``[fit]`` settings."""
        fit = self.fit.model_dump()
        return [spec.with_overrides(**fit) for spec in self.indicators]


class AreaLevelSection(_Strict):
    """What a Fay-Herriot model is fitted to: a survey spec's direct estimates or an area table."""

    survey: Path | None = Field(
        default=None,
        description="A single-indicator spec; its data give direct estimates and their variances.",
    )
    quantity: str | None = Field(
        default=None, description="With 'survey': which quantity (default: its headline)."
    )
    table: Path | None = Field(
        default=None, description="An area table of direct estimates and sampling variances."
    )
    area: str = Field(default="area", description="With 'table': the area column.")
    estimate: str | None = Field(default=None, description="With 'table': direct estimates.")
    variance: str | None = Field(default=None, description="With 'table': sampling variances.")
    n: str | None = Field(default=None, description="With 'table': sample sizes (optional).")
    kind: Literal["mean", "share"] = Field(
        default="mean", description="With 'table': estimates are means or shares (0-1)."
    )
    covariates: list[str] = Field(
        default_factory=list, description="Categorical area covariates (zero-sum effects)."
    )
    numeric_covariates: list[str] = Field(
        default_factory=list, description="Numeric area covariates (standardised)."
    )
    likelihood: Literal["normal", "binomial"] = Field(
        default="normal",
        description="'normal': the Fay-Herriot model; 'binomial': shares on the logit scale "
        "with effective sample sizes.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> AreaLevelSection:
        if (self.survey is None) == (self.table is None):
            raise ValueError("give exactly one of 'survey' (a spec) or 'table' (area estimates)")
        if self.table is not None:
            missing = [k for k in ("estimate", "variance") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"an area 'table' needs the column name(s) {missing}")
            if self.quantity is not None:
                raise ValueError("'quantity' picks a survey spec's quantity; a table has one")
        elif any(getattr(self, k) is not None for k in ("estimate", "variance", "n")):
            raise ValueError("'estimate', 'variance' and 'n' name columns of a 'table'")
        if self.likelihood == "binomial" and self.table is not None and self.kind != "share":
            raise ValueError("likelihood 'binomial' models shares: set kind = \"share\"")
        repeated = set(self.covariates) & set(self.numeric_covariates)
        if repeated:
            raise ValueError(f"covariate(s) {sorted(repeated)} listed as categorical and numeric")
        return self


class AreaLevelSpec(_Strict):
    """A Fay-Herriot (area-level) model of direct estimates with known sampling variances."""

    name: str = Field(pattern=NAME_PATTERN, description="Model name (names the output folder).")
    area_level: AreaLevelSection
    fit: FitSpec = Field(default_factory=FitSpec)
    priors: dict[str, PriorSpec] = Field(default_factory=dict)

    def with_overrides(self, **changes: Any) -> AreaLevelSpec:
        """Return a copy with ``fit`` fields replaced (``None`` values ignored).

        Parameters
        ----------
        **changes
            Any :class:`FitSpec` field.
        """
        return _with_fit_overrides(self, changes)

    def resolved(self, base: Path) -> AreaLevelSpec:
        """Return a copy whose relative paths are made absolute against ``base``."""
        data = self.model_dump()
        for key in ("survey", "table"):
            path = data["area_level"][key]
            if path is not None and not Path(path).is_absolute():
                data["area_level"][key] = (base / path).resolve()
        return AreaLevelSpec.model_validate(data)


def _with_fit_overrides[S: BaseModel](spec: S, changes: dict[str, Any]) -> S:
    """A copy of a joint or area-level spec with ``[fit]`` fields replaced (``None`` ignored)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    unknown = set(changes) - set(FitSpec.model_fields)
    if unknown:
        raise SpecError(
            f"spec '{getattr(spec, 'name', '')}' overrides [fit] settings only, not "
            f"{sorted(unknown)}"
        )
    data = spec.model_dump()
    data["fit"] = {**data["fit"], **changes}
    return _validate(type(spec), data, "overrides")


def _section_fields(loc: tuple[int | str, ...], model: type[BaseModel]) -> list[str]:
    """Allowed keys at the table that ``loc`` points into, in a spec of type ``model``."""
    for part in loc[:-1]:
        if isinstance(part, int):  # a list item: its type is the list's
            continue
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None) if field else None
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return []
        model = nested[0]
    return list(model.model_fields)


def _format_error(error: dict[str, Any], model: type[BaseModel]) -> str:
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        allowed = _section_fields(loc, model)
        return (
            f"unknown key '{where}'{did_you_mean(str(loc[-1]), allowed)}; "
            f"allowed keys here: {', '.join(allowed)}"
        )
    if error["type"] == "missing":
        return f"missing required key '{where}'"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"'{where}': {message}" if loc else message


def _validate[S: BaseModel](kind: type[S], raw: dict[str, Any], source: str) -> S:
    try:
        return kind.model_validate(raw)
    except ValidationError as exc:
        problems = [_format_error(dict(e), kind) for e in exc.errors()]
        bullet = "\n  - ".join(problems)
        what = {JointSpec: "joint model spec", AreaLevelSpec: "area-level spec"}.get(
            kind, "model spec"
        )
        raise SpecError(f"{source}: invalid {what}:\n  - {bullet}") from None


def parse_spec(raw: dict[str, Any], source: str) -> ModelSpec:
    """Validate a spec dictionary, turning pydantic errors into one :class:`SpecError`.

    Parameters
    ----------
    raw
        The parsed TOML (or equivalent dictionary).
    source
        Where it came from, for the message (usually the file path).
    """
    return _validate(ModelSpec, raw, source)


def parse_joint_spec(raw: dict[str, Any], source: str) -> JointSpec:
    """Validate a joint spec dictionary (see :class:`JointSpec`).

    Parameters
    ----------
    raw
        The parsed TOML, its ``indicators`` either paths or full indicator specs.
    source
        Where it came from, for the message.
    """
    return _validate(JointSpec, raw, source)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SpecError(f"{path}: spec file not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None


def load_spec(path: str | Path) -> ModelSpec:
    """Read and validate a TOML model spec; relative paths resolve against its folder.

    Parameters
    ----------
    path
        Path to a ``.toml`` spec.

    Returns
    -------
    ModelSpec
        The validated spec, with absolute data paths.

    Raises
    ------
    SpecError
        When the file is missing, is not valid TOML, or fails validation.
    """
    path = Path(path)
    raw = _read_toml(path)
    if "indicators" in raw:
        raise SpecError(
            f"{path}: is a joint model spec (it lists 'indicators'); load it with "
            f"load_joint_spec() or JointModel.from_spec()"
        )
    if "area_level" in raw:
        raise SpecError(
            f"{path}: is an area-level spec (it has an [area_level] table); load it with "
            f"load_area_level_spec() or FayHerriotModel.from_spec()"
        )
    return parse_spec(raw, source=str(path)).resolved(path.parent.resolve())


def load_joint_spec(path: str | Path) -> JointSpec:
    """Read a joint model spec and the indicator specs it lists (paths relative to it).

    Parameters
    ----------
    path
        Path to a ``.toml`` joint spec.

    Raises
    ------
    SpecError
        When the file or an indicator spec is missing or invalid, or when the file is a
        single-indicator spec.
    """
    path = Path(path)
    raw = _read_toml(path)
    if "indicators" not in raw:
        raise SpecError(
            f"{path}: a joint model spec lists its 'indicators' (spec files); this file has "
            f"none. Fit a single-indicator spec with AreaModel.from_spec()."
        )
    listed = raw["indicators"]
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        raise SpecError(
            f"{path}: 'indicators' must be a list of spec file paths, e.g. "
            f'indicators = ["trust.toml", "belonging.toml"]'
        )
    base = path.parent.resolve()
    specs = [load_spec(base / item) for item in listed]
    raw = {**raw, "indicators": [spec.model_dump() for spec in specs]}
    return parse_joint_spec(raw, source=str(path))


def parse_area_level_spec(raw: dict[str, Any], source: str) -> AreaLevelSpec:
    """Validate an area-level (Fay-Herriot) spec dictionary.

    Parameters
    ----------
    raw
        The parsed TOML.
    source
        Where it came from, for the message.
    """
    return _validate(AreaLevelSpec, raw, source)


def load_area_level_spec(path: str | Path) -> AreaLevelSpec:
    """Read an area-level (Fay-Herriot) spec; relative paths resolve against its folder.

    Parameters
    ----------
    path
        Path to a ``.toml`` spec with an ``[area_level]`` table.
    """
    path = Path(path)
    spec = parse_area_level_spec(_read_toml(path), source=str(path))
    return spec.resolved(path.parent.resolve())


def load_any_spec(path: str | Path) -> ModelSpec | JointSpec | AreaLevelSpec:
    """Read a single-indicator, joint or area-level spec, whichever the file holds.

    Parameters
    ----------
    path
        Path to a ``.toml`` spec; a joint spec lists ``indicators``, an area-level spec has an
        ``[area_level]`` table.
    """
    path = Path(path)
    raw = _read_toml(path)
    if "indicators" in raw:
        return load_joint_spec(path)
    if "area_level" in raw:
        return load_area_level_spec(path)
    return load_spec(path)
