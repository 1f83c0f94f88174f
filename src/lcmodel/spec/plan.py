"""Plans of many fits: a grid of specs x data files, one seed, one output folder.

A plan is a TOML file read by ``lcmodel fit-many`` and :func:`lcmodel.fit_many`::

    name = "all-indicators"
    seed = 20261202
    out = "out/all-indicators"        # relative to the plan (default: out/<name> beside it)
    allow_failed_diagnostics = false  # write a fit that fails its diagnostics gate anyway

    [fit]                             # [fit] settings replacing every spec's own
    draws = 1000
    chains = 4

    [grid]
    specs = ["models/*.toml"]         # paths or globs, relative to the plan
    data = ["data/survey.csv"]        # optional: each file replaces every spec's survey

Every spec (a glob's matches sorted by name) is fitted to every data file, in the order
listed; without ``data`` each spec is fitted to its own. Each job's seed is spawned from the
plan's (``numpy.random.SeedSequence(seed).spawn``) in that order, so the same plan gives the
same seeds, and a spec or data file added at the end of its list leaves every other job's
seed as it was. A job's folder is ``<out>/<spec name>`` without ``data``, and
``<out>/<spec name>--<data file stem>`` with it.

Everything is checked here, before any fit: the plan's keys, that every spec and data file
exists, that every spec is valid, and that no two jobs would share a folder.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from lcmodel.errors import SpecError, did_you_mean
from lcmodel.spec.area_level import AreaLevelSpec
from lcmodel.spec.common import NAME_PATTERN, Strict, read_toml, validate
from lcmodel.spec.joint import JointSpec
from lcmodel.spec.unit_level import ModelSpec

__all__ = [
    "PLAN_FILES",
    "Plan",
    "PlanFit",
    "PlanGrid",
    "PlanJob",
    "PlanSpec",
    "job_seeds",
    "load_plan",
]

PLAN_FILES = ("summary.csv", "plan.json")
"""Files a plan writes beside its jobs' folders (so no job may have these names)."""

_SEED_BOUND = 2**31 - 1
"""Job seeds lie in ``[0, 2**31 - 1)``, as the seeds lcmodel draws itself."""


class PlanFit(Strict):
    """``[fit]`` of a plan: settings that replace every spec's own (omitted: the spec's)."""

    label: ClassVar[str] = "[fit] of a plan"
    draws: int | None = Field(default=None, gt=0, description="Posterior draws per chain.")
    tune: int | None = Field(default=None, ge=0, description="Tuning steps per chain.")
    chains: int | None = Field(default=None, gt=0, description="Chains per fit.")
    extend: int | None = Field(
        default=None,
        ge=0,
        le=3,
        description="Times to sample again, twice as long, when only R-hat or ESS miss the gate.",
    )
    sampler: Literal["auto", "nutpie", "pymc", "numpyro"] | None = None
    target_accept: float | None = Field(default=None, gt=0, lt=1)
    mass_matrix: Literal["diagonal", "low_rank"] | None = None
    centring: Literal["auto", "non-centred", "centred"] | None = None
    pointwise: bool | None = Field(
        default=None, description="Store the model checks' pointwise groups with each fit."
    )

    def overrides(self) -> dict[str, Any]:
        """The settings given (the ones left out keep each spec's own)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class PlanGrid(Strict):
    """``[grid]``: the specs and data files whose every combination is one job."""

    label: ClassVar[str] = "[grid] of a plan"
    specs: list[str] = Field(
        min_length=1,
        description="Spec files (unit-level, joint or area-level), relative to the plan; "
        "globs allowed (their matches sorted by name).",
    )
    data: list[str] = Field(
        default_factory=list,
        description="Survey files, relative to the plan, each replacing every spec's 'data' "
        "(one job per spec and file); omitted: each spec is fitted to its own data.",
    )


class PlanSpec(Strict):
    """A plan file as written: what to fit, with which seed, and where to write it."""

    label: ClassVar[str] = "plan"
    name: str = Field(pattern=NAME_PATTERN, description="The plan's name.")
    seed: int = Field(ge=0, description="The seed every job's seed is spawned from.")
    out: Path | None = Field(
        default=None,
        description="Folder of the jobs' folders and summary.csv, relative to the plan "
        "(default: out/<name> beside the plan).",
    )
    allow_failed_diagnostics: bool = Field(
        default=False,
        description="Write a fit that fails its diagnostics gate (status 'done', "
        "diagnostics_passed false) instead of recording it as 'diagnostics_failed' unwritten.",
    )
    fit: PlanFit = Field(default_factory=PlanFit)
    grid: PlanGrid


@dataclass(frozen=True)
class PlanJob:
    """One fit of a plan: a spec (plan ``[fit]`` and job seed applied) on one data file.

    Attributes
    ----------
    id
        The job's name, and its folder's: ``<spec name>`` or ``<spec name>--<data stem>``.
    spec
        The spec with the plan's ``[fit]`` settings and the job's seed.
    spec_file
        The spec's file.
    data
        The survey file replacing the spec's, or ``None`` (the spec's own data).
    seed
        The job's seed, spawned from the plan's.
    folder
        Where the result is written.
    allow_failed_diagnostics
        Whether a fit failing its diagnostics gate is written anyway.
    cores
        Cores the fit may use (set when the job is handed to a worker; ``None``: the
        sampler's default of one per chain).
    """

    id: str
    spec: ModelSpec | JointSpec | AreaLevelSpec
    spec_file: Path
    data: Path | None
    seed: int
    folder: Path
    allow_failed_diagnostics: bool = False
    cores: int | None = None


@dataclass(frozen=True)
class Plan:
    """A loaded plan: its settings and its jobs, in order.

    Attributes
    ----------
    name, seed, out
        From the plan file (``out`` absolute).
    source
        The plan file.
    jobs
        One per spec and data file, in the plan's order (which decides each job's seed).
    """

    name: str
    seed: int
    out: Path
    source: Path
    jobs: tuple[PlanJob, ...] = field(default_factory=tuple)

    @property
    def chains(self) -> int:
        """The most chains any job samples (a fit can use no more cores than that)."""
        return max((job.spec.fit.chains for job in self.jobs), default=1)


def _matches(pattern: str, base: Path) -> list[Path]:
    """Files a plan entry names: the file itself, or a glob's matches sorted by name."""
    path = Path(pattern) if Path(pattern).is_absolute() else base / pattern
    if glob.has_magic(pattern):
        return sorted(Path(p).resolve() for p in glob.glob(str(path)) if Path(p).is_file())
    return [path.resolve()] if path.is_file() else []


def _missing(source: Path, key: str, pattern: str, base: Path) -> SpecError:
    path = Path(pattern) if Path(pattern).is_absolute() else base / pattern
    if glob.has_magic(pattern):
        return SpecError(f"{source}: '{key}' = '{pattern}' matches no file")
    folder = path.parent
    hint = ""
    if folder.is_dir():
        hint = did_you_mean(path.name, [p.name for p in folder.iterdir() if p.is_file()])
    where = "" if folder.is_dir() else f" (no folder {folder})"
    return SpecError(f"{source}: '{key}' = '{pattern}': no such file{hint}{where}")


def _files(source: Path, key: str, entries: list[str], base: Path) -> list[Path]:
    """Every file a list of paths and globs names, first mention first, each once."""
    found: list[Path] = []
    for index, pattern in enumerate(entries):
        matches = _matches(pattern, base)
        if not matches:
            raise _missing(source, f"{key}[{index}]", pattern, base)
        found += [m for m in matches if m not in found]
    return found


def _folder_name(stem: str) -> str:
    """A data file's stem made safe for a folder name (letters, digits, ``_ . -``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem)


def job_seeds(seed: int, n_jobs: int) -> list[int]:
    """Each job's seed: ``SeedSequence(seed).spawn(n_jobs)``, one integer per child.

    Child ``i`` depends on ``seed`` and ``i`` alone, so appending jobs changes no earlier seed.
    """
    children = np.random.SeedSequence(seed).spawn(n_jobs)
    return [int(child.generate_state(1)[0]) % _SEED_BOUND for child in children]


def load_plan(
    path: str | Path, *, out: str | Path | None = None, allow_failed_diagnostics: bool = False
) -> Plan:
    """Read a plan file, check every spec and data file it names, and list its jobs.

    Parameters
    ----------
    path
        The plan (TOML).
    out
        Output folder replacing the plan's ``out`` (relative to the working directory).
    allow_failed_diagnostics
        Write fits that fail their diagnostics gate even when the plan does not say so.

    Returns
    -------
    Plan
        The plan with its jobs, in order.

    Raises
    ------
    SpecError
        When the plan is invalid (naming its file and key), a spec or data file it lists is
        missing or invalid, or two jobs would write the same folder.
    """
    from lcmodel.spec import load_spec

    source = Path(path)
    raw = read_toml(source)
    if "outcome" in raw or "indicators" in raw or "area_level" in raw:
        raise SpecError(
            f"{source}: is a model spec, not a plan; fit it with 'lcmodel fit', or list it in "
            f"a plan's [grid] specs"
        )
    parsed = validate(PlanSpec, raw, str(source))
    base = source.parent.resolve()
    if out is not None:
        folder = Path(out).resolve()
    elif parsed.out is not None:
        folder = (base / parsed.out).resolve()
    else:
        folder = base / "out" / parsed.name
    spec_files = _files(source, "grid.specs", parsed.grid.specs, base)
    data_files = _files(source, "grid.data", parsed.grid.data, base)
    specs = []
    for spec_file in spec_files:
        try:
            spec = load_spec(spec_file)
        except SpecError as exc:
            raise SpecError(f"{source}: 'grid.specs' lists an invalid spec: {exc}") from None
        if data_files and isinstance(spec, AreaLevelSpec):
            raise SpecError(
                f"{source}: 'grid.data' replaces each spec's survey file, but {spec_file} is "
                f"an area-level spec (it reads an area table); list it in a plan without "
                f"'grid.data'"
            )
        specs.append((spec_file, spec))
    each_data: list[Path | None] = [*data_files] if data_files else [None]
    pairs = [(f, s, d) for f, s in specs for d in each_data]
    seeds = job_seeds(parsed.seed, len(pairs))
    overrides = parsed.fit.overrides()
    jobs: list[PlanJob] = []
    owners: dict[str, str] = {}
    for (spec_file, spec, data), seed in zip(pairs, seeds, strict=True):
        job_id = spec.name if data is None else f"{spec.name}--{_folder_name(data.stem)}"
        what = str(spec_file) if data is None else f"{spec_file} on {data}"
        if job_id in owners:
            raise SpecError(
                f"{source}: two jobs would write the folder '{job_id}': {owners[job_id]} and "
                f"{what}; give the specs different names (or the data files different stems)"
            )
        if job_id in PLAN_FILES:
            raise SpecError(f"{source}: a job may not be named '{job_id}' ({what})")
        owners[job_id] = what
        try:
            job_spec = spec.with_overrides(**overrides, seed=seed)
        except SpecError as exc:
            raise SpecError(f"{source}: [fit] does not suit {spec_file}: {exc}") from None
        jobs.append(
            PlanJob(
                id=job_id,
                spec=job_spec,
                spec_file=spec_file,
                data=data,
                seed=seed,
                folder=folder / job_id,
                allow_failed_diagnostics=allow_failed_diagnostics
                or parsed.allow_failed_diagnostics,
            )
        )
    return Plan(
        name=parsed.name, seed=parsed.seed, out=folder, source=source.resolve(), jobs=tuple(jobs)
    )
