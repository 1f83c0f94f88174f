"""Area-level (Fay-Herriot) specs: direct estimates with sampling variances, per area."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from lcmodel.spec.common import (
    ADJACENCY,
    AREA_LEVEL_EFFECT,
    AREA_WAVE_DEFAULT,
    BOUNDARIES,
    CONTIGUITY,
    NAME_PATTERN,
    ZERO_SUM_AREAS,
    AreaEffectKind,
    AreaWaveKind,
    CalibrateSpec,
    FitSpec,
    Strict,
    spatial_settings,
    with_fit_overrides,
)
from lcmodel.spec.kinds import KindSpec
from lcmodel.spec.priors import PriorSpec

__all__ = ["AreaLevelSection", "AreaLevelSpec", "parse_area_level_spec"]


class AreaLevelSection(Strict):
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
    wave: str | None = Field(
        default=None,
        description="With 'table': the wave (period) column, whole numbers. The table then has "
        "one row per area and wave (each pair at most once), the model has area x wave "
        "effects ('area_wave') and reports every area at every wave; covariates may vary "
        "between an area's rows.",
    )
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
    zero_sum_areas: bool = ZERO_SUM_AREAS
    intercept: bool = Field(
        default=True,
        description="Include an intercept. Without one (as 'y ~ x - 1' in R), numeric "
        "covariates are scaled by their sd but not centred, so the model is the one written; "
        "it then needs at least one numeric covariate and no categorical ones, and the area "
        "effects are independent ('zero_sum_areas' needs an intercept to absorb their mean).",
    )
    area_effect: AreaEffectKind = AREA_LEVEL_EFFECT
    area_wave: AreaWaveKind | None = Field(
        default=None,
        description="With 'wave': each area's own effect per wave, on top of 'area_effect'. "
        "'ar1' (the default): a stationary AR(1) over the waves with autocorrelation "
        "'rho_area_wave' and innovation sd 'sigma_area_wave' (the spatio-temporal "
        "Fay-Herriot model of sae::eblupSTFH with area_effect = 'sar'); 'iid': independent "
        "per area and wave (eblupSTFH's model 'S'); 'random_walk': a random walk over the "
        "waves, centred within each area, as in a unit-level spec.",
    )
    higher_is_better: bool = Field(
        default=True,
        description="With 'wave': whether a rise is an improvement (sets 'p_improved' in the "
        "changes between waves).",
    )
    adjacency: Path | None = ADJACENCY
    contiguity: Literal["queen", "rook"] | None = CONTIGUITY
    boundaries: Path | None = BOUNDARIES
    likelihood: Literal["normal", "binomial"] = Field(
        default="normal",
        description="'normal': the Fay-Herriot model; 'binomial': shares on the logit scale "
        "with effective sample sizes.",
    )
    sampling_variance: Literal["known", "modelled"] | None = Field(
        default=None,
        description="Sampling variances (normal) or design effects (binomial) taken as known, "
        "or modelled: each area's direct variance is a scaled chi-square draw with n - 1 "
        "degrees of freedom around a true variance pooled across areas. Default: 'modelled' "
        "when area sample sizes are known (a survey spec, or a table with 'n').",
    )
    population: str | None = Field(
        default=None,
        description="Column with each area's number of population units (of 'table', or of the "
        "survey spec's areas table). With it the default estimand is the finite population: "
        "the area's actual mean, its sampled units plus predictive draws for the others.",
    )
    min_units: int = Field(
        default=10,
        ge=2,
        description="Areas whose direct estimate rests on fewer units are flagged "
        "('few_units' in the estimates).",
    )

    @property
    def area_wave_kind(self) -> str | None:
        """The area x wave effect in force: ``area_wave``, its default with a wave, or ``None``."""
        if self.wave is None:
            return None
        return self.area_wave or AREA_WAVE_DEFAULT

    @property
    def variance_model(self) -> str:
        """The variance treatment in force: the spec's ``variance``, or its default."""
        if self.sampling_variance is not None:
            return self.sampling_variance
        return "modelled" if self.survey is not None or self.n is not None else "known"

    @model_validator(mode="after")
    def _one_source(self) -> AreaLevelSection:
        spatial_settings(self.area_effect, self.adjacency, self.contiguity)
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
        if self.sampling_variance == "modelled" and self.table is not None and self.n is None:
            raise ValueError(
                "sampling_variance = 'modelled' needs each area's sample size: name the "
                "table's 'n' column, or use sampling_variance = 'known'"
            )
        if self.likelihood == "binomial" and self.table is not None and self.kind != "share":
            raise ValueError("likelihood 'binomial' models shares: set kind = \"share\"")
        if not self.intercept and (self.covariates or not self.numeric_covariates):
            raise ValueError(
                "intercept = false needs at least one numeric covariate and no categorical "
                "ones (zero-sum level effects need an intercept to stand on): list "
                "'numeric_covariates', or keep the intercept"
            )
        repeated = set(self.covariates) & set(self.numeric_covariates)
        if repeated:
            raise ValueError(f"covariate(s) {sorted(repeated)} listed as categorical and numeric")
        self._check_waves()
        return self

    def _check_waves(self) -> None:
        """``wave`` and ``area_wave``: a table's column, and what it combines with."""
        if self.area_wave is not None and self.wave is None:
            raise ValueError("'area_wave' needs the table's 'wave' column: set 'wave'")
        if self.wave is None:
            return
        if self.table is None:
            raise ValueError(
                "'wave' names a column of an area 'table'; a survey spec's direct estimates "
                "are per area (model its waves with a unit-level spec's structure.area_wave)"
            )
        if self.population is not None:
            raise ValueError(
                "'population' with 'wave' is not supported: finite-population values per area "
                "and wave need population sizes per wave; drop 'population' (or 'wave')"
            )
        named = [self.area, self.estimate, self.variance, self.n, self.population]
        named += self.covariates + self.numeric_covariates
        if self.wave in named:
            raise ValueError(f"column '{self.wave}' is named as 'wave' and in another role")


class AreaLevelSpec(KindSpec):
    """A Fay-Herriot (area-level) model of direct estimates with known sampling variances."""

    label: ClassVar[str] = "area-level spec"
    how_to_fit: ClassVar[str] = "lcmodel.FayHerriotModel.from_spec()"
    markers: ClassVar[tuple[str, ...]] = ("area_level",)
    kind: Literal["area_level"] = Field(
        default="area_level",
        description="What kind of model the spec describes (inferred when omitted).",
    )

    name: str = Field(pattern=NAME_PATTERN, description="Model name (names the output folder).")
    area_level: AreaLevelSection
    estimand: Literal["finite_population", "superpopulation"] | None = Field(
        default=None,
        description="What an area value estimates: the area's actual population mean "
        "('finite_population', the default when [area_level] names 'population'), or the "
        "model's expected value of the area ('superpopulation', the default otherwise).",
    )
    calibrate: CalibrateSpec | None = None
    fit: FitSpec = Field(default_factory=FitSpec)
    priors: dict[str, PriorSpec] = Field(default_factory=dict)

    @property
    def target(self) -> str:
        """The estimand in force: the spec's ``estimand``, or its default."""
        if self.estimand is not None:
            return self.estimand
        return "superpopulation" if self.area_level.population is None else "finite_population"

    @model_validator(mode="after")
    def _estimand_has_population(self) -> AreaLevelSpec:
        section = self.area_level
        if self.estimand == "finite_population" and section.population is None:
            raise ValueError(
                "estimand 'finite_population' needs each area's population size: name its "
                "column in [area_level] 'population'"
            )
        if self.target == "finite_population" and section.table is not None and section.n is None:
            raise ValueError(
                "a finite-population estimand needs each area's sample size: name the "
                "table's 'n' column, or set estimand = 'superpopulation'"
            )
        return self

    def with_overrides(self, **changes: Any) -> AreaLevelSpec:
        """Return a copy with ``fit`` fields replaced (``None`` values ignored).

        Parameters
        ----------
        **changes
            Any :class:`FitSpec` field.
        """
        return with_fit_overrides(self, changes)

    def resolved(self, base: Path) -> Self:
        """Return a copy whose relative paths are made absolute against ``base``."""
        data = self.model_dump()
        for key in ("survey", "table", "adjacency", "boundaries"):
            path = data["area_level"][key]
            if path is not None and not Path(path).is_absolute():
                data["area_level"][key] = (base / path).resolve()
        return type(self).model_validate(data)


def parse_area_level_spec(raw: dict[str, Any], source: str) -> AreaLevelSpec:
    """Validate an area-level (Fay-Herriot) spec dictionary.

    Parameters
    ----------
    raw
        The parsed TOML.
    source
        Where it came from, for the message.
    """
    return AreaLevelSpec.parse(raw, source)
