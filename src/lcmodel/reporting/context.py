"""What the report says, built from results: one dictionary a template renders.

:func:`report_context` turns saved or fitted results into plain data: per indicator a summary
in words, its estimates tables (suppressed estimates as words only; see
:mod:`lcmodel.reporting.tables`), its figures as PNG data URIs (so the report makes no request),
the changes between waves where the model has them; per joint fit the correlations of area
effects; and per result a methods appendix (model, priors, data and their hashes,
diagnostics, model checks, software versions). The HTML and the Quarto templates render the same
context.
"""

from __future__ import annotations

import base64
import io
import json
import platform
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from lcmodel.errors import LcmodelError
from lcmodel.reporting.tables import (
    Table,
    change_table,
    correlation_table,
    estimate_table,
    format_value,
    key_value_table,
    plain_table,
)
from lcmodel.results.estimates import interval_label
from lcmodel.results.fit_result import FitResult
from lcmodel.results.result import Result
from lcmodel.spec import ModelSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = [
    "CheckGroup",
    "CheckView",
    "Figure",
    "IndicatorSection",
    "JointSection",
    "MethodsEntry",
    "Source",
    "figure_uri",
    "report_context",
]

Source = str | Path | Result
"""What a report is made of: a result folder, or a result."""

LIKELY = 0.9
"""The probability above which the summary calls a comparison or a change likely."""


@dataclass(frozen=True)
class Figure:
    """A figure embedded in the report: a PNG data URI and its text alternative."""

    uri: str
    alt: str
    caption: str = ""


@dataclass
class IndicatorSection:
    """Everything the report shows of one indicator."""

    id: str
    title: str
    source: str
    summary: list[str]
    tables: list[Table]
    forest: Figure
    map: Figure | None = None
    trajectories: Figure | None = None
    changes: Table | None = None
    joint: str | None = None
    benchmarks: list[str] = field(default_factory=list)


@dataclass
class JointSection:
    """A joint fit's correlations of area effects."""

    id: str
    title: str
    summary: list[str]
    correlations: Table


@dataclass
class CheckView:
    """One model check as the report shows it."""

    name: str
    title: str
    summary: str
    flagged: list[str]
    figure: Figure | None


@dataclass
class CheckGroup:
    """The checks of one indicator (``label`` is empty for a single-indicator result)."""

    label: str
    checks: list[CheckView]


@dataclass
class MethodsEntry:
    """The methods appendix of one result."""

    id: str
    title: str
    source: str
    model: Table
    spec_json: str
    priors: Table | None
    priors_note: str
    data: Table
    diagnostics: Table
    diagnostics_message: str
    worst: Table | None
    checks: list[CheckGroup] = field(default_factory=list)
    checks_note: str = ""
    software: Table | None = None


def figure_uri(fig: MplFigure, *, dpi: int = 100) -> str:
    """Render a matplotlib figure as a PNG ``data:`` URI, and close it.

    Parameters
    ----------
    fig
        The figure.
    dpi
        Resolution of the PNG.
    """
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-") or "section"


class _Ids:
    """Unique HTML ids."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, *parts: str) -> str:
        base = _slug(*parts)
        name, count = base, 1
        while name in self.seen:
            count += 1
            name = f"{base}-{count}"
        self.seen.add(name)
        return name


def _load(source: Source) -> tuple[Result, str]:
    if isinstance(source, Result):
        return source, "(fitted in this session)"
    from lcmodel.results.folder import load

    return load(source), str(Path(source).resolve())


def quantity_label(result: FitResult, quantity: str) -> str:
    """What a quantity is, in words: ``share answering 'A' or 'B' to 'trust'``."""
    spec = result.spec
    outcome = str(result.metadata.get("outcome", ""))
    if isinstance(spec, ModelSpec):
        if quantity == "share" and spec.outcome.success:
            answers = " or ".join(f"'{a}'" for a in spec.outcome.success)
            return f"share answering {answers} to '{outcome}'"
        if quantity.startswith("share:"):
            return f"share answering '{quantity.removeprefix('share:')}' to '{outcome}'"
        if quantity == "mean":
            return f"mean answer to '{outcome}'"
        return f"{quantity} of '{outcome}'"
    return f"{quantity} of '{outcome}', modelled from the areas' direct estimates"


def _count_words(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def summary_sentences(result: FitResult, estimates: pd.DataFrame) -> list[str]:
    """A plain-language summary of one indicator's headline estimates.

    Only estimates that are not suppressed are named or quoted; the suppressed ones are
    counted.

    Parameters
    ----------
    result
        The indicator's result.
    estimates
        Its estimates table.
    """
    quantity = result.headline
    share = quantity.startswith("share")
    table = estimates[estimates["quantity"] == quantity]
    shown = table[table["reliability"] != "suppress"]
    meta = result.metadata
    fit = result.spec.fit
    surveyed = int(table["in_sample"].sum())
    if meta.get("kind") == "area_level":
        basis = (
            f"the direct estimates of {meta['n_areas_with_estimates']} areas "
            f"(a Fay-Herriot model, {meta['family']})"
        )
    else:
        basis = (
            f"{meta['n_respondents']:,} survey answers ({meta['family']} model; "
            f"{meta['n_missing_outcome']:,} people who did not answer and "
            f"{meta['n_missing_covariates']:,} with a missing covariate are left out)"
        )
    sentences = [
        f"This section estimates the {quantity_label(result, quantity)} in each of "
        f"{len(table)} areas ({surveyed} with data), from {basis}."
    ]
    estimands = ", ".join(dict.fromkeys(str(e) for e in table["estimand"].dropna()))
    sentences.append(
        f"Each estimate comes with a {interval_label(fit.interval, fit.interval_kind)} "
        f"interval: under the model, the area's value lies inside it with "
        f"{fit.interval * 100:g}% probability (estimand: {estimands})."
    )
    flags = table["reliability"].value_counts()
    publish, caution, suppress = (int(flags.get(f, 0)) for f in ("publish", "caution", "suppress"))
    sentences.append(
        f"{publish} of {len(table)} estimates are precise enough to publish; {caution} should "
        f"be read with caution (coefficient of variation above {fit.cv_caution:g}) and "
        f"{suppress} are suppressed (above {fit.cv_suppress:g}): their values are not shown "
        f"anywhere in this report."
    )
    if len(shown):
        low = shown.loc[shown["mean"].idxmin()]
        high = shown.loc[shown["mean"].idxmax()]
        sentences.append(
            f"Among the estimates shown, the lowest is {format_value(low['mean'], share)} in "
            f"{low['name']} ({format_value(low['lower'], share)} to "
            f"{format_value(low['upper'], share)}) and the highest "
            f"{format_value(high['mean'], share)} in {high['name']} "
            f"({format_value(high['lower'], share)} to {format_value(high['upper'], share)})."
        )
    else:
        sentences.append("No estimate is precise enough to be shown.")
    compared = shown.dropna(subset=["p_above_benchmark"])
    if len(compared):
        above = int((compared["p_above_benchmark"] > LIKELY).sum())
        below = int((compared["p_above_benchmark"] < 1 - LIKELY).sum())
        sentences.append(
            "Compared with the benchmark for similar areas (its sources are listed under the "
            f"estimates table), "
            f"{_count_words(above, 'area is', 'areas are')} likely above it and {below} likely "
            f"below it (probability over {LIKELY * 100:g}%); for the other "
            f"{len(compared) - above - below} shown the data cannot tell."
        )
    if result.wave_inputs is not None:
        change = result.changes()
        change = change[change["quantity"] == quantity]
        waves = result.wave_estimates()
        flags_by_wave = waves[waves["quantity"] == quantity].set_index(["area", "wave"])
        hidden = [
            any(
                flags_by_wave["reliability"].get((row.area, wave), "suppress") == "suppress"
                for wave in (row.from_wave, row.to_wave)
            )
            for row in change.itertuples(index=False)
        ]
        visible = change[[not h for h in hidden]]
        improved = int((visible["p_improved"] > LIKELY).sum())
        worse = int((visible["p_improved"] < 1 - LIKELY).sum())
        first, last = int(change["from_wave"].iloc[0]), int(change["to_wave"].iloc[0])
        sentences.append(
            f"From wave {first} to wave {last}, {improved} areas likely improved and {worse} "
            f"likely got worse (probability over {LIKELY * 100:g}%); {sum(hidden)} changes are "
            f"suppressed because the estimate at either wave is."
        )
    diagnostics = result.diagnostics()
    sentences.append(
        "The model's convergence checks passed."
        if diagnostics.passed
        else "The model FAILED its convergence checks ("
        + "; ".join(diagnostics.failures)
        + "): these estimates are not reliable."
    )
    return sentences


def _indicator_section(
    result: FitResult, title: str, source: str, ids: _Ids, joint: str | None
) -> IndicatorSection:
    """One indicator's summary, tables and figures."""
    estimates = result.estimates()
    headline = result.headline
    quantities = [headline, *[q for q in dict.fromkeys(estimates["quantity"]) if q != headline]]
    tables = [estimate_table(estimates, q, quantity_label(result, q)) for q in quantities]
    fig, _ = result.plot_forest(hide_suppressed=True)
    forest = Figure(
        figure_uri(fig, dpi=90),
        alt=f"Forest plot of {title}: each area's estimate and interval, with the benchmark",
        caption="Areas ordered by estimate: model estimate and interval (coloured by "
        "reliability), direct survey estimate (open circle) and benchmark (red tick); "
        "suppressed estimates are not drawn.",
    )
    section = IndicatorSection(
        id=ids("indicator", title),
        title=title,
        source=source,
        summary=summary_sentences(result, estimates),
        tables=tables,
        forest=forest,
        joint=joint,
        benchmarks=_benchmark_sources(estimates[estimates["quantity"] == headline]),
    )
    if result.can_map():
        fig, _ = result.plot_map()
        section.map = Figure(
            figure_uri(fig, dpi=80),
            alt=f"Map of {title}: estimates and the widths of their intervals",
            caption="Left: the estimates; right: the width of each interval. Suppressed "
            "estimates are grey and hatched.",
        )
    if result.wave_inputs is not None:
        waves = result.wave_estimates()
        fig, _ = result.plot_trajectories(hide_suppressed=True)
        section.trajectories = Figure(
            figure_uri(fig, dpi=80),
            alt=f"Trajectories of {title} over the waves, one panel per area",
            caption="Each area over the waves: model estimate and interval, direct estimates "
            "and the benchmark; gaps are suppressed estimates.",
        )
        section.changes = change_table(
            result.changes(), waves, headline, f"Change in the {quantity_label(result, headline)}"
        )
    return section


def _benchmark_sources(table: pd.DataFrame) -> list[str]:
    """Each benchmark used, once: where it applies and where it comes from."""
    rows = table.dropna(subset=["benchmark"])
    pairs = zip(rows["benchmark_match"], rows["benchmark_source"], strict=True)
    return [f"{match}: {source}" for match, source in dict.fromkeys(pairs)]


def _joint_section(result: Result, ids: _Ids) -> JointSection:
    correlations = result.correlations()
    ordered = correlations.sort_values("mean", key=lambda s: s.abs(), ascending=False)
    strongest = ordered.iloc[0] if len(ordered) else None
    summary = [
        f"{result.spec.name} fits {len(result.names)} indicators ({', '.join(result.names)}) "
        f"together, with correlated area effects (LKJ prior, eta "
        f"{result.spec.correlation.eta:g}): what an area's answers say about one question "
        f"informs its estimates for the others."
    ]
    if strongest is not None:
        summary.append(
            f"The strongest correlation is between {strongest['indicator']} and "
            f"{strongest['with_indicator']}: {strongest['mean']:.2f} "
            f"({strongest['lower']:.2f} to {strongest['upper']:.2f})."
        )
    return JointSection(
        id=ids("joint", result.spec.name),
        title=f"{result.spec.name}: how the indicators move together",
        summary=summary,
        correlations=correlation_table(correlations),
    )


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _model_facts(result: Result) -> dict[str, object]:
    spec = result.spec
    meta = result.metadata
    fit = spec.fit
    facts: dict[str, object] = {"name": spec.name, "kind": spec.kind}
    if result.is_joint:
        facts["indicators"] = ", ".join(
            f"{name} ({own['family']})" for name, (_, own) in result.indicator_facts().items()
        )
        facts["correlation of area effects"] = f"LKJ prior, eta {spec.correlation.eta:g}"
    elif isinstance(spec, ModelSpec):
        structure = spec.structure
        facts["family"] = meta.get("family", spec.outcome.family)
        facts["outcome"] = spec.outcome.column
        facts["area effects"] = structure.area_effect
        facts["respondent covariates"] = ", ".join(structure.covariates) or "none"
        facts["numeric covariates"] = ", ".join(structure.numeric_covariates) or "none"
        facts["area covariates"] = ", ".join(structure.area_covariates) or "none"
        facts["waves"] = (
            f"'{structure.wave}', area paths: {structure.area_wave or 'none'}"
            if structure.wave
            else "none"
        )
        facts["weights"] = structure.weight or "none"
        facts["poststratification"] = (
            "population frame"
            if spec.frame
            else ("population table" if spec.population else "none")
        )
        if spec.benchmark:
            facts["benchmark"] = f"'{spec.benchmark.indicator}', matched on {spec.benchmark.match}"
    else:
        level = spec.area_level  # type: ignore[union-attr]
        facts["family"] = meta.get("family", "")
        facts["likelihood"] = level.likelihood
        facts["sampling variances"] = level.sampling_variance or "default"
        facts["area effects"] = level.area_effect
        covariates = [*level.covariates, *level.numeric_covariates]
        facts["area covariates"] = ", ".join(covariates) or "none"
    facts["interval"] = interval_label(fit.interval, fit.interval_kind)
    facts["reliability"] = (
        f"publish if CV <= {fit.cv_caution:g}; caution if CV <= {fit.cv_suppress:g}; "
        f"suppress above (CV = posterior sd / |posterior mean|)"
    )
    facts["sampling"] = (
        f"{meta.get('sampler', '')}, {fit.chains} chains x {fit.draws} draws after "
        f"{fit.tune} tuning steps, seed {meta.get('seed')}"
    )
    return facts


def _priors(result: Result) -> tuple[Table | None, str]:
    """The prior table, recomputed from the spec's data when they are unchanged."""
    overrides = {
        f"{name}::{k}" if result.is_joint else k: v
        for name, (spec, _) in result.indicator_facts().items()
        for k, v in spec.priors.items()
    }
    try:
        from lcmodel.models.registry import model_from_spec

        model = model_from_spec(result.spec)
        current = model.data_hashes()
    except (LcmodelError, OSError) as exc:
        reason = f"its data could not be read ({exc})"
    else:
        if result.data_hashes() == current:
            table = model.prior_table().reset_index()  # type: ignore[attr-defined]
            columns = [c for c in table.columns if c != "default"]
            return plain_table(table[columns], "Priors", kind="priors"), ""
        reason = "its data files have changed since the fit"
    note = (
        f"The default priors are scaled to the data, and {reason}, so they are not listed "
        f"here (`lcmodel priors SPEC` lists them)."
    )
    if overrides:
        frame = pd.DataFrame(
            {"term": list(overrides), "prior": [str(p) for p in overrides.values()]}
        )
        return plain_table(frame, "Priors set in the spec", kind="priors"), note
    return None, note + " The spec sets no prior of its own: every prior is the default."


def _data_facts(result: Result) -> dict[str, object]:
    meta = result.metadata
    facts: dict[str, object] = {}
    for name, (spec, own) in result.indicator_facts().items():
        prefix = f"{name}: " if result.is_joint else ""
        if isinstance(spec, ModelSpec):
            facts[f"{prefix}survey file"] = spec.data
            if spec.areas:
                facts[f"{prefix}areas file"] = spec.areas
            if spec.benchmark:
                facts[f"{prefix}benchmark file"] = spec.benchmark.table
            for part in ("frame", "population"):
                if getattr(spec, part) is not None:
                    facts[f"{prefix}{part} file"] = getattr(spec, part).table
            facts[f"{prefix}answers used"] = f"{own.get('n_respondents', 0):,}"
            facts[f"{prefix}missing answers dropped"] = f"{own.get('n_missing_outcome', 0):,}"
            facts[f"{prefix}missing covariates dropped"] = f"{own.get('n_missing_covariates', 0):,}"
        else:
            level = spec.area_level
            facts[f"{prefix}direct estimates from"] = level.survey or level.table
            facts[f"{prefix}areas with direct estimates"] = own.get("n_areas_with_estimates")
        facts[f"{prefix}data hash (SHA-256)"] = own.get("data_hash", "not recorded")
        boundaries = own.get("boundaries") or meta.get("boundaries")
        if boundaries:
            facts[f"{prefix}boundary file"] = boundaries["file"]
            facts[f"{prefix}boundary file hash (SHA-256)"] = boundaries["sha256"]
    return facts


def _diagnostics(result: Result) -> tuple[Table, str, Table | None]:
    d = result.diagnostics()
    t = d.thresholds
    facts = {
        "verdict": "passed" if d.passed else "FAILED: " + "; ".join(d.failures),
        "largest R-hat": f"{d.max_rhat:.3f} (gate: at most {t.rhat_max:g})",
        "smallest bulk ESS": f"{d.min_ess_bulk:.0f} (gate: at least {t.ess_min:g})",
        "smallest tail ESS": f"{d.min_ess_tail:.0f} (gate: at least {t.ess_min:g})",
        "divergent transitions": f"{d.n_divergent} (gate: at most {t.divergences_max})",
        "smallest E-BFMI": f"{d.min_bfmi:.2f} (gate: at least {t.bfmi_min:g})",
        "draws": f"{d.chains} chains x {d.draws} draws",
    }
    worst = (
        plain_table(pd.DataFrame(list(d.worst)), "Lowest bulk ESS", kind="worst")
        if d.worst
        else None
    )
    return key_value_table(facts, "Convergence diagnostics", kind="diagnostics"), d.message(), worst


def _check_views(checks: Any) -> list[CheckView]:
    views = []
    for check in checks:
        figure = None
        if callable(getattr(check, "figure", None)):
            fig, _ = check.figure()
            figure = Figure(figure_uri(fig, dpi=80), alt=f"Model check: {check.title}")
        # no check tables: they hold model estimates, suppressed ones too (checks/*.csv
        # has them for analysts); the summary, the flagged areas and the figure stay
        views.append(
            CheckView(
                name=str(check.name),
                title=str(check.title),
                summary=str(check.summary),
                flagged=[str(f) for f in check.flagged],
                figure=figure,
            )
        )
    return views


def _checks(result: Result) -> tuple[list[CheckGroup], str]:
    """The result's model checks, and a note of those not run.

    As ``lcmodel check`` runs them (:func:`lcmodel.workflows.checks.model_checks`): a saved
    result without the pointwise groups gets them from its model, rebuilt from its spec and
    data files (no refit), so the report has every check whenever the data are at hand.
    """
    from lcmodel.workflows.checks import model_checks

    try:
        checks = result.indicator_checks()
        unscored = any(
            "pointwise" in why for group in checks.values() for why in group.missing.values()
        )
        if unscored:  # a saved result: score it with its rebuilt model, as lcmodel check does
            checks = model_checks(result)
    except LcmodelError as exc:
        return [], f"Model checks could not be run: {exc}"
    # a joint fit's checks are labelled by indicator; a single fit's need no label
    groups = {name if result.is_joint else "": group for name, group in checks.items()}
    missing = [
        f"{f'{label}: ' if label else ''}{name} ({why})"
        for label, group in groups.items()
        for name, why in group.missing.items()
    ]
    note = f"Not run here: {'; '.join(missing)}." if missing else ""
    return [CheckGroup(str(name), _check_views(c)) for name, c in groups.items()], note


def _software(result: Result) -> Table:
    meta = result.metadata
    facts: dict[str, object] = {"fitted with lcmodel": meta.get("lcmodel_version", "")}
    facts |= {f"fitted with {k}": v for k, v in meta.get("versions", {}).items()}
    facts["fitted (UTC)"] = meta.get("created", "")
    if "wall_seconds" in meta:
        facts["sampling time"] = f"{float(meta['wall_seconds']):.1f} s"
    facts["report made with lcmodel"] = _version("lcmodel")
    for package in ("jinja2", "matplotlib", "pandas", "arviz"):
        facts[f"report made with {package}"] = _version(package)
    facts["python"] = platform.python_version()
    return key_value_table(facts, "Software", kind="software")


def _methods(result: Result, source: str, ids: _Ids) -> MethodsEntry:
    priors, priors_note = _priors(result)
    diagnostics, message, worst = _diagnostics(result)
    checks, checks_note = _checks(result)
    return MethodsEntry(
        id=ids("methods", result.spec.name),
        title=result.spec.name,
        source=source,
        model=key_value_table(_model_facts(result), "Model", kind="model"),
        spec_json=json.dumps(result.spec.model_dump(mode="json"), indent=2),
        priors=priors,
        priors_note=priors_note,
        data=key_value_table(_data_facts(result), "Data", kind="data"),
        diagnostics=diagnostics,
        diagnostics_message=message,
        worst=worst,
        checks=checks,
        checks_note=checks_note,
        software=_software(result),
    )


def report_context(sources: list[Source], *, title: str | None = None) -> dict[str, Any]:
    """Everything the report shows, as data for a template.

    Parameters
    ----------
    sources
        Result folders (written by ``lcmodel fit``) or results, in the order shown.
    title
        The report's title (default: the models' names).

    Returns
    -------
    dict
        ``title``, ``generated``, ``sources``, ``indicators`` (:class:`IndicatorSection`),
        ``joints`` (:class:`JointSection`), ``methods`` (:class:`MethodsEntry`) and
        ``version``.

    Raises
    ------
    LcmodelError
        When no source is given, or a folder is not a saved result.
    """
    if not sources:
        raise LcmodelError("a report needs at least one result folder")
    ids = _Ids()
    indicators: list[IndicatorSection] = []
    joints: list[JointSection] = []
    methods: list[MethodsEntry] = []
    names: list[str] = []
    where: list[str] = []
    for source in sources:
        result, origin = _load(source)
        names.append(result.spec.name)
        where.append(origin)
        joint = result.spec.name if result.is_joint else None
        for name, one in result.indicators.items():
            indicators.append(_indicator_section(one, name, origin, ids, joint=joint))
        if result.is_joint:
            joints.append(_joint_section(result, ids))
        methods.append(_methods(result, origin, ids))
    return {
        "title": title or f"Small-area estimates: {', '.join(names)}",
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": where,
        "indicators": indicators,
        "joints": joints,
        "methods": methods,
        "version": _version("lcmodel"),
    }
