"""What every kind of spec shares: the ``[fit]`` settings, names, constants, and validation.

Specs are validated with pydantic (``extra="forbid"``): an unknown key is an error with a "did
you mean" hint, never silence. A spec cannot run code: families, samplers and distributions are
chosen by name from fixed registries.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lcmodel.errors import SpecError, did_you_mean

__all__ = [
    "AREA_WAVE_DEFAULT",
    "DEFAULT_CV_CAUTION",
    "DEFAULT_CV_SUPPRESS",
    "DEFAULT_INTERVAL",
    "FAMILY_NAMES",
    "NAME_PATTERN",
    "SAMPLERS",
    "ZERO_SUM_AREAS",
    "CalibrateSpec",
    "FitSpec",
    "Strict",
    "read_toml",
    "validate",
    "with_fit_overrides",
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

SAMPLERS = ("auto", "nutpie", "pymc", "numpyro")
"""Sampler names a spec or the command line may give (``auto`` picks the first installed)."""


ZERO_SUM_AREAS = Field(
    default=True,
    description="Whether the effects of the areas with data sum to zero, so that the intercept "
    "is the level of an average such area (default: better sampling, and the same model up to "
    "a prior variance of sigma_area^2 / areas on that level); false gives independent effects "
    "around a free intercept, as in lme4 or rstanarm (each data-rich area's intercept centred "
    "on the intercept and its area covariates' term).",
)
"""The ``zero_sum_areas`` setting, shared by the unit-level and area-level specs."""

AreaEffectKind = Literal["iid", "icar", "bym2", "sar"]
"""Kinds of area effect a spec may name (``sar``: area-level specs only)."""

AreaWaveKind = Literal["ar1", "iid", "random_walk"]
"""Kinds of area x wave effect: unit-level specs take ``random_walk``, area-level specs all."""

AREA_WAVE_DEFAULT = "ar1"
"""The area x wave effect of an area table with a ``wave`` column when ``area_wave`` is not set:
a stationary AR(1) per area, as ``sae::eblupSTFH`` (Marhuenda, Molina and Morales 2013)."""

AREA_EFFECT = Field(
    default="iid",
    description="Kind of area effect: 'iid' (independent areas), 'icar' (each area like its "
    "neighbours: an intrinsic CAR field, scaled) or 'bym2' (the sum of the two, with "
    "'rho_area' the spatial share of the variance; Riebler et al. 2016). 'icar' and 'bym2' "
    "need 'adjacency'.",
)
"""The ``area_effect`` setting of the unit-level specs."""

AREA_LEVEL_EFFECT = Field(
    default="iid",
    description=AREA_EFFECT.description
    + " Area-level models may also choose 'sar': a simultaneous autoregressive effect over "
    "the row-standardised neighbourhood, with 'rho_sar' its autocorrelation (the spatial "
    "Fay-Herriot model of sae::eblupSFH).",
)
"""The ``area_effect`` setting of the area-level specs."""

CONTIGUITY = Field(
    default=None,
    description="Neighbours from a boundary file: 'queen' (polygons sharing a boundary point; "
    "the default for boundary files) or 'rook' (sharing a boundary segment). Not for "
    "adjacency tables.",
)
"""The ``contiguity`` setting, shared by the unit-level and area-level specs."""

ADJACENCY = Field(
    default=None,
    description="The areas' neighbours, for spatial area effects: an adjacency table "
    "(CSV/Parquet with 'area', 'neighbour' and optional 'weight') or a boundary file "
    "(GeoJSON, GeoPackage or shapefile), relative to the spec.",
)
"""The ``adjacency`` file setting, shared by the unit-level and area-level specs."""

BOUNDARIES = Field(
    default=None,
    description="A boundary file of the areas' polygons (GeoJSON, GeoPackage or shapefile, "
    "with the area column), relative to the spec, for maps of the estimates; any area effect, "
    "'iid' too. Without it, maps use 'adjacency' when that is a boundary file.",
)
"""The ``boundaries`` file setting (maps), shared by the unit-level and area-level specs."""


def spatial_settings(kind: str, adjacency: Path | None, contiguity: str | None) -> None:
    """Check that spatial area effects have their neighbours (a validator's ``ValueError``)."""
    if kind != "iid" and adjacency is None:
        raise ValueError(
            f"area_effect = '{kind}' needs the areas' neighbours: set 'adjacency' to an "
            "adjacency table (area, neighbour) or a boundary file (GeoJSON, GeoPackage, "
            "shapefile), or use area_effect = 'iid'"
        )
    if contiguity is not None and adjacency is None:
        raise ValueError("'contiguity' applies to a boundary file: set 'adjacency' too")


class Strict(BaseModel):
    """Base of every spec table: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: ClassVar[str] = "spec"
    """What the table is called in messages."""


class CalibrateSpec(Strict):
    """``[calibrate]``: area values made to add up to a trusted aggregate, draw by draw."""

    label: ClassVar[str] = "[calibrate]"
    target: float | Literal["direct"] = Field(
        description="The weighted mean the area values must have in every draw: a number (a "
        "published figure for all the areas) or 'direct' (the weighted mean of the areas' "
        "direct estimates)."
    )
    weights: str = Field(
        default="n",
        description="Each area's weight in the mean: a column of the areas table (its "
        "population) or 'n' (its sample size).",
    )
    method: Literal["ratio", "difference"] = Field(
        default="ratio",
        description="'ratio' scales every area's value by the same factor in a draw; "
        "'difference' shifts them all by the same amount.",
    )
    quantity: str | None = Field(
        default=None, description="The quantity calibrated (default: the headline)."
    )


class FitSpec(Strict):
    """Sampler settings."""

    draws: int = Field(default=1000, gt=0)
    tune: int = Field(default=1000, ge=0)
    chains: int = Field(default=4, gt=0)
    extend: int = Field(
        default=1,
        ge=0,
        le=3,
        description="When the diagnostics gate fails on R-hat or ESS alone (no divergences, "
        "E-BFMI fine), sample again with twice the tuning and draws, up to this many times "
        "(0: never). Every attempt is recorded with the result.",
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        description="Random seed; when omitted one is drawn and recorded with the result.",
    )
    sampler: Literal["auto", "nutpie", "pymc", "numpyro"] = "auto"
    device: Literal["auto", "cpu", "gpu"] = Field(
        default="auto",
        description="Where the numpyro sampler runs: 'auto' (JAX's default device: a GPU when "
        "JAX was installed with GPU support), 'cpu', or 'gpu' (an error when JAX sees none). "
        "On a GPU the chains run vectorised on the one device; on CPU one per core. Other "
        "samplers run on CPU.",
    )
    method: Literal["nuts", "advi"] = Field(
        default="nuts",
        description="'nuts': the posterior by MCMC (the default). 'advi': PyMC's mean-field "
        "ADVI, a fast approximation for exploring large surveys; its intervals are only "
        "roughly the posterior's, it never passes the diagnostics gate, and every table and "
        "file it writes says 'approximate' (docs/scaling.md).",
    )
    advi_steps: int = Field(
        default=30_000,
        gt=0,
        description="Most optimisation steps of 'advi' (it stops earlier once its parameters "
        "settle); draws x chains draws are then taken from the approximation.",
    )
    thin: int = Field(
        default=1,
        ge=1,
        description="Keep every thin-th draw of each chain after sampling (1: keep all). The "
        "draws kept are the posterior that is summarised, checked against the gate (ESS of "
        "the kept draws), finished (finite-population draws) and written: draws / thin per "
        "chain. Sampling itself is unchanged, so this saves memory and disk after a fit of "
        "many areas, not the sampler's own memory.",
    )
    target_accept: float = Field(default=0.9, gt=0, lt=1)
    mass_matrix: Literal["diagonal", "low_rank"] = Field(
        default="diagonal",
        description="nutpie's mass matrix adaptation: diagonal (the default), or a diagonal "
        "with low-rank corrections that follows correlated parameters (more effective samples "
        "per draw in small models, slower per draw with many areas). Other samplers adapt a "
        "diagonal.",
    )
    centring: Literal["auto", "non-centred", "centred"] = Field(
        default="auto",
        description="Parameterisation of the surveyed areas' effects (the posterior is the "
        "same): 'auto' centres each area's effect when its own data outweigh the prior and "
        "leaves the others non-centred; 'centred' / 'non-centred' make one choice for all.",
    )
    interval: float = Field(default=DEFAULT_INTERVAL, gt=0, lt=1)
    interval_kind: Literal["eti", "hdi"] = "eti"
    cores: int | None = Field(default=None, gt=0)
    aggregate: bool = Field(
        default=True,
        description="Collapse respondents into sufficient-statistic cells (same posterior).",
    )
    pointwise: bool = Field(
        default=False,
        description="Store each answer's (or area estimate's) log-likelihood and a predictive "
        "draw, and the log prior, with the posterior when fitting, for the model checks "
        "(PSIS-LOO, LOO-PIT, score distribution, prior sensitivity), so that a saved result "
        "can be checked without its data files. By default they are computed when a fit's "
        "checks() first asks (and `lcmodel check DIR` computes them from the rebuilt model): "
        "per answer they cost about 6 bytes per draw, 66 MB for 2,750 answers x 4,000 draws.",
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
        if self.thin > self.draws:
            raise ValueError(
                f"thin ({self.thin}) keeps every thin-th draw, so it cannot exceed draws "
                f"({self.draws}); lower thin or raise draws"
            )
        return self


def with_fit_overrides[S: BaseModel](spec: S, changes: dict[str, Any]) -> S:
    """Return a copy of a spec with ``[fit]`` fields replaced (``None`` values ignored)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    unknown = set(changes) - set(FitSpec.model_fields)
    if unknown:
        raise SpecError(
            f"spec '{getattr(spec, 'name', '')}' overrides [fit] settings only, not "
            f"{sorted(unknown)}"
        )
    data = spec.model_dump()
    data["fit"] = {**data["fit"], **changes}
    return validate(type(spec), data, "overrides")


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


_OTHER_KINDS_KEYS = {
    "indicators": "a joint spec (a file of its own listing indicator specs)",
    "correlation": "a joint spec (a file of its own listing indicator specs)",
    "area_level": "an area-level spec (a file of its own)",
    "outcome": "a single-indicator spec",
    "structure": "a single-indicator spec",
    "benchmark": "a single-indicator spec",
}
"""Top-level tables of one kind of spec that a user may put in another kind."""


def _format_error(error: dict[str, Any], model: type[BaseModel]) -> str:
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        allowed = _section_fields(loc, model)
        elsewhere = _OTHER_KINDS_KEYS.get(str(loc[-1])) if len(loc) == 1 else None
        if elsewhere is not None:
            return f"unknown key '{where}': it belongs in {elsewhere}, not in a {model.label}"
        return (
            f"unknown key '{where}'{did_you_mean(str(loc[-1]), allowed)}; "
            f"allowed keys here: {', '.join(allowed)}"
        )
    if error["type"] == "missing":
        return f"missing required key '{where}'"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"'{where}': {message}" if loc else message


def validate[S: BaseModel](kind: type[S], raw: dict[str, Any], source: str) -> S:
    """Validate ``raw`` as a ``kind``, turning pydantic's errors into one :class:`SpecError`."""
    try:
        return kind.model_validate(raw)
    except ValidationError as exc:
        problems = [_format_error(dict(e), kind) for e in exc.errors()]
        bullet = "\n  - ".join(problems)
        raise SpecError(f"{source}: invalid {kind.label}:\n  - {bullet}") from None


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML of a spec file; a missing or invalid file is a :class:`SpecError`."""
    if not path.is_file():
        raise SpecError(f"{path}: spec file not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None
