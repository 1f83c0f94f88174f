"""Unit-level specs: one survey indicator modelled from respondents' answers.

A spec names the data, the outcome and its family, the area/wave/covariate structure, the
benchmark to compare with, sampler settings and prior overrides.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from lcmodel.errors import SpecError, did_you_mean, shown
from lcmodel.spec.common import (
    ADJACENCY,
    AREA_EFFECT,
    BOUNDARIES,
    CONTIGUITY,
    FAMILY_NAMES,
    NAME_PATTERN,
    ZERO_SUM_AREAS,
    AreaEffectKind,
    CalibrateSpec,
    FitSpec,
    Strict,
    spatial_settings,
)
from lcmodel.spec.kinds import KindSpec
from lcmodel.spec.priors import PriorSpec

ESTIMANDS = ("finite_population", "superpopulation", "sample")
"""What a unit-level area value estimates (see :attr:`ModelSpec.estimand`)."""

__all__ = [
    "ESTIMANDS",
    "BenchmarkSpec",
    "FrameSpec",
    "ModelSpec",
    "OutcomeSpec",
    "PopulationSpec",
    "StructureSpec",
    "UnitLevelSpec",
    "parse_spec",
]


class OutcomeSpec(Strict):
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
    trials: str | None = Field(
        default=None,
        description="Bernoulli family with counts: the column of trials, 'column' then holding "
        "the successes (one row per area or cell, as published tables give them).",
    )
    higher_is_better: bool = Field(
        default=True,
        description="Whether an increase of the headline quantity is an improvement (false "
        "for anxiety); used by the probability that an area improved between waves.",
    )

    @field_validator("success", "failure", mode="before")
    @classmethod
    def _labels_as_text(cls, value: Any) -> Any:
        """Numeric labels (``success = [1]`` for a 0/1 column) are read as their text."""
        if not isinstance(value, list):
            return value
        labels = []
        for item in value:
            if isinstance(item, bool):
                raise ValueError(
                    f"answer labels are text or numbers, not {str(item).lower()}; write 1 or "
                    f"\"yes\" (or leave 'success' out for a 0/1 or true/false column)"
                )
            if isinstance(item, float) and item.is_integer():
                item = int(item)
            labels.append(str(item) if isinstance(item, int | float) else item)
        return labels

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
        if self.trials is not None:
            if self.family != "bernoulli":
                raise ValueError(f"'trials' belongs to the bernoulli family, not {self.family}")
            if binary:
                raise ValueError(
                    "with 'trials', 'column' holds counts of successes: leave out "
                    "'success'/'failure' (they code answer labels)"
                )
            if self.trials == self.column:
                raise ValueError("'trials' and 'column' must name different columns")
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
                        f"group '{group}' has {shown(unknown[0])}, which is not in 'categories'"
                        f"{did_you_mean(unknown[0], labels)}"
                    )
                if not members:
                    raise ValueError(f"group '{group}' is empty")
        return self

    @property
    def category_labels(self) -> list[str]:
        """Ordinal categories as text labels (empty for other families)."""
        return [str(c) for c in self.categories or []]


class StructureSpec(Strict):
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
    zero_sum_areas: bool = ZERO_SUM_AREAS
    area_effect: AreaEffectKind = AREA_EFFECT
    adjacency: Path | None = ADJACENCY
    contiguity: Literal["queen", "rook"] | None = CONTIGUITY
    boundaries: Path | None = BOUNDARIES
    area_wave: Literal["random_walk"] | None = Field(
        default=None,
        description="Area x wave effects: each area's own path over the waves (a random walk), "
        "giving area x wave estimates and changes between waves.",
    )

    @model_validator(mode="after")
    def _distinct(self) -> StructureSpec:
        if self.area_wave is not None and self.wave is None:
            raise ValueError("'area_wave' needs a 'wave' column")
        if self.area_effect == "sar":
            raise ValueError(
                "area_effect = 'sar' is for area-level (Fay-Herriot) models ([area_level]); "
                "a unit-level model's spatial effects are 'icar' or 'bym2'"
            )
        spatial_settings(self.area_effect, self.adjacency, self.contiguity)
        used = [self.area, self.wave, *self.covariates, *self.numeric_covariates, self.weight]
        named = [c for c in used if c is not None]
        repeated = sorted({c for c in named if named.count(c) > 1})
        if repeated:
            raise ValueError(f"column(s) {repeated} are used for more than one role")
        return self


class PopulationSpec(Strict):
    """Population covariate means (and level shares) per area, for area means over the population.

    With numeric covariates, the area mean of a linear (Gaussian) model is the prediction at
    the area's population mean of the covariates (the unit-level model of Battese, Harter and
    Fuller). This table gives those means, and for each categorical covariate the share of
    the area's population at each level.
    """

    table: Path = Field(description="CSV/Parquet with one row per area (relative to the spec).")
    area: str = Field(default="area", description="Column of the table naming the area.")
    means: dict[str, str] = Field(
        default_factory=dict,
        description="Numeric covariate -> column of the table holding its population mean.",
    )
    shares: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Categorical covariate -> {level -> column holding the share of the "
        "area's population at that level}; each covariate's shares sum to 1.",
    )
    size: str | None = Field(
        default=None,
        description="Column with the number of population units per area; when given, the "
        "default estimand is the finite population's area mean.",
    )


class FrameSpec(Strict):
    """A population frame for poststratification (MRP): area x covariate cells with counts.

    Area values then average the model's predictions over the frame's cells, weighted by their
    counts, instead of over the respondents.
    """

    table: Path = Field(description="CSV/Parquet, one row per area x covariate cell.")
    area: str = Field(default="area", description="Column of the frame naming the area.")
    count: str = Field(default="count", description="Column of population counts (positive).")


class BenchmarkSpec(Strict):
    """Which benchmark rows to compare area estimates with."""

    table: Path = Field(description="Benchmarks CSV/Parquet (relative to the spec file).")
    indicator: str = Field(description="Value of the benchmarks' 'indicator' column to use.")
    match: Literal["deprivation", "national"] = Field(
        default="deprivation",
        description="Match each area's nation and deprivation decile, or its nation only.",
    )


class ModelSpec(KindSpec):
    """A complete, validated model spec.

    Paths are stored as given; :func:`lcmodel.spec.load_spec` resolves them against the spec
    file's folder.
    """

    label: ClassVar[str] = "model spec"
    how_to_fit: ClassVar[str] = "lcmodel.UnitLevelModel.from_spec()"
    kind: Literal["unit_level"] = Field(
        default="unit_level",
        description="What kind of model the spec describes (inferred when omitted).",
    )

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
    calibrate: CalibrateSpec | None = None
    estimand: Literal["finite_population", "superpopulation", "sample"] | None = Field(
        default=None,
        description="What an area value estimates: the area's actual population "
        "('finite_population', the default when a frame or population sizes are given), its "
        "underlying expected value ('superpopulation', the default with population means "
        "without sizes), or the expected value for its respondents' own mix ('sample', the "
        "default with neither).",
    )
    fit: FitSpec = Field(default_factory=FitSpec)
    priors: dict[str, PriorSpec] = Field(default_factory=dict)

    @property
    def target(self) -> str:
        """The estimand in force: the spec's ``estimand``, or its default for the data given."""
        if self.estimand is not None:
            return self.estimand
        if self.frame is not None or (self.population is not None and self.population.size):
            return "finite_population"
        return "superpopulation" if self.population is not None else "sample"

    @model_validator(mode="after")
    def _estimand_has_population(self) -> ModelSpec:
        if self.estimand == "finite_population" and not (
            self.frame is not None or (self.population is not None and self.population.size)
        ):
            raise ValueError(
                "estimand = 'finite_population' needs the areas' population sizes: give a "
                "[frame] (cells with counts) or 'size' in [population]; without them use "
                "'sample' (the respondents' mix)"
            )
        if self.estimand == "superpopulation" and self.frame is None and self.population is None:
            raise ValueError(
                "estimand = 'superpopulation' needs a population to average over: give a "
                "[frame] or a [population] table; without one use 'sample' (the respondents' "
                "mix)"
            )
        return self

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
            categorical = sorted(self.structure.covariates)
            if sorted(self.population.shares) != categorical:
                raise ValueError(
                    f"'population.shares' must give the level shares of exactly the "
                    f"categorical covariates {categorical}; got {sorted(self.population.shares)}"
                    f' (for example [population.shares.sex] female = "share_female", male = '
                    f'"share_male")'
                )
            if self.structure.wave:
                raise ValueError(
                    "'population' means have no waves: drop 'structure.wave', or give a "
                    "population [frame] of cells instead"
                )
        return self

    def with_overrides(self, **changes: Any) -> Self:
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
        return type(self).parse(data, source="overrides")

    def resolved(self, base: Path) -> Self:
        """Return a copy whose relative file paths are made absolute against ``base``."""

        def fix(path: Path | None) -> Path | None:
            if path is None:
                return None
            return path if path.is_absolute() else (base / path).resolve()

        data = self.model_dump()
        data["data"] = fix(self.data)
        data["areas"] = fix(self.areas)
        data["structure"]["adjacency"] = fix(self.structure.adjacency)
        data["structure"]["boundaries"] = fix(self.structure.boundaries)
        if self.benchmark is not None:
            data["benchmark"]["table"] = fix(self.benchmark.table)
        if self.population is not None:
            data["population"]["table"] = fix(self.population.table)
        if self.frame is not None:
            data["frame"]["table"] = fix(self.frame.table)
        return type(self).model_validate(data)


def parse_spec(raw: dict[str, Any], source: str) -> ModelSpec:
    """Validate a spec dictionary, turning pydantic errors into one :class:`SpecError`.

    Parameters
    ----------
    raw
        The parsed TOML (or equivalent dictionary).
    source
        Where it came from, for the message (usually the file path).
    """
    return ModelSpec.parse(raw, source)


UnitLevelSpec = ModelSpec
"""The unit-level spec (``ModelSpec`` is its original name)."""
