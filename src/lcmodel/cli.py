"""Command line: ``lcmodel fit|fit-many|compare|check|simulate|priors|summarize|export|report``.

Exit codes: 0 success, 1 unexpected error, 2 bad input (spec, plan, data, arguments),
3 diagnostics failed (no output written unless ``--allow-failed-diagnostics``; for
``fit-many``: some job's, and no job failed otherwise), 4 some job of ``fit-many`` failed
(its error is in the summary; the other jobs ran).
Warnings print as one line each on stderr, ``warning: <message>``, during a run only.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from lcmodel.errors import LcmodelError
from lcmodel.spec.common import SAMPLERS

if TYPE_CHECKING:
    import pandas as pd

    from lcmodel.models.base import Model
    from lcmodel.results.result import Result
    from lcmodel.spec import AreaLevelSpec, JointSpec, ModelSpec

__all__ = ["main"]

EXIT_BAD_INPUT = 2
EXIT_DIAGNOSTICS = 3
EXIT_JOBS_FAILED = 4


def _paragraph(text: str) -> str:
    return "\n".join(
        textwrap.fill(p, width=100, break_long_words=False, break_on_hyphens=False)
        for p in text.split("\n")
    )


def format_estimates(table: pd.DataFrame, quantity: str) -> str:
    """Render one quantity's rows of an estimates table (shares as percentages)."""
    import pandas as pd

    table = table[table["quantity"] == quantity]
    pct = quantity.startswith("share")
    shown = pd.DataFrame(
        {
            "area": table["area"],
            "name": table["name"].str.slice(0, 22),
            "n": table["n"],
            "direct": table["direct"],
            "mean": table["mean"],
            "lower": table["lower"],
            "upper": table["upper"],
            "benchmark": table["benchmark"],
            "diff": table["diff_mean"],
            "P(above)": table["p_above_benchmark"],
            "rhat": table["rhat"],
            "ess": table["ess_bulk"],
            "flag": table["reliability"].where(table["reliability"] != "publish", ""),
        }
    )
    value_columns = ["direct", "mean", "lower", "upper", "benchmark", "diff"]
    formats = {c: (lambda v: "" if pd.isna(v) else f"{v * 100:.1f}%") for c in value_columns}
    if not pct:
        formats = {c: (lambda v: "" if pd.isna(v) else f"{v:.2f}") for c in value_columns}
    formats |= {
        "P(above)": lambda v: "" if pd.isna(v) else f"{v:.2f}",
        "rhat": lambda v: f"{v:.3f}",
        "ess": lambda v: f"{v:.0f}",
    }
    # leave out what says nothing: no sample sizes (an area table without them), no
    # benchmark, or names that only repeat the codes
    empty = [c for c in ("n", "benchmark", "diff", "P(above)") if shown[c].isna().all()]
    if (shown["name"].astype(str) == shown["area"].astype(str)).all():
        empty.append("name")
    shown = shown.drop(columns=empty)
    interval = table["interval"].iloc[0]
    body = shown.to_string(index=False, formatters={c: formats[c] for c in formats if c in shown})
    return (
        f"{quantity}\n{body}\n(lower/upper: {interval} posterior interval; flag: reliability "
        f"from the coefficient of variation, blank = publish)"
    )


def format_correlations(table: pd.DataFrame) -> str:
    """Render a joint result's correlations of area effects."""
    shown = table[["indicator", "with_indicator", "mean", "lower", "upper", "p_positive", "rhat"]]
    body = shown.to_string(index=False, float_format=lambda v: f"{v:.2f}")
    return f"correlation of area effects\n{body}\n(lower/upper: {table['interval'].iloc[0]})"


def _report(result: Result) -> str:
    """The estimates (headline quantity of each indicator) and the paragraph about them."""
    parts = []
    for name, one in result.indicators.items():
        table = format_estimates(one.estimates(), one.headline)
        parts.append(f"{name}: {table}" if result.is_joint else table)
    correlations = result.correlations()
    if not correlations.empty:
        parts.append(format_correlations(correlations))
    return "\n\n".join(parts) + "\n\n" + _paragraph(result.describe())


def _load_model(
    args: argparse.Namespace, spec: ModelSpec | JointSpec | AreaLevelSpec | None = None
) -> Model:
    """The model of ``args.spec`` (of ``spec`` when already loaded), with ``--data`` applied."""
    from lcmodel.models.registry import model_from_spec

    data = None if args.data is None else Path(args.data).resolve()
    return model_from_spec(spec or args.spec, data)


def _fit(args: argparse.Namespace) -> int:
    from lcmodel.spec import load_spec

    spec = load_spec(args.spec)  # spec errors come before any heavy import

    from lcmodel.io.atomic import check_replaceable
    from lcmodel.results.fit_result import RESULT_MARKER

    out = Path(args.out) if args.out else Path("out") / spec.name
    check_replaceable(out, RESULT_MARKER)  # before sampling, not after
    model = _load_model(args, spec)
    result = model.fit(progressbar=not args.quiet, **_sampling(args))
    print(_report(result))
    attempts = result.metadata.get("attempts", [])
    if len(attempts) > 1:
        first = attempts[0]
        print(
            _paragraph(
                f"\nThe first run ({first['draws']} draws after {first['tune']} tuning steps "
                f"per chain) fell short of the gate on R-hat or ESS, so the model was sampled "
                f"again with twice the tuning and draws ({len(attempts)} runs in all; "
                f"[fit] extend)."
            )
        )
    approximate = result.diagnostics().approximate  # asked for: written, and labelled
    if not (result.diagnostics().passed or approximate or args.allow_failed_diagnostics):
        print(
            _paragraph(
                "\nNothing was written. Rerun with --allow-failed-diagnostics to write the "
                "output anyway (estimates.csv then has diagnostics_ok = False on every row)."
            ),
            file=sys.stderr,
        )
        return EXIT_DIAGNOSTICS
    folder = result.save(out)
    print(f"\nWrote {', '.join(sorted(p.name for p in folder.iterdir()))} to {folder}")
    return 0


def format_summary(summary: pd.DataFrame) -> str:
    """Render a plan run's summary: one line per job, errors cut short (all in summary.csv)."""
    import pandas as pd

    shown = pd.DataFrame(
        {
            "job": summary["job"],
            "status": summary["status"],
            "seconds": summary["seconds"],
            "min ESS": summary["min_ess_bulk"],
            "max R-hat": summary["max_rhat"],
            "divergences": summary["divergences"],
            "error": summary["error"].fillna("").str.slice(0, 60),
        }
    )
    formats = {
        "seconds": lambda v: "" if pd.isna(v) else f"{v:.1f}",
        "min ESS": lambda v: "" if pd.isna(v) else f"{v:.0f}",
        "max R-hat": lambda v: "" if pd.isna(v) else f"{v:.3f}",
        "divergences": lambda v: "" if pd.isna(v) else f"{v:d}",
    }
    if not shown["error"].str.len().any():
        shown = shown.drop(columns="error")
    return shown.to_string(index=False, formatters=formats)


def _fit_many(args: argparse.Namespace) -> int:
    """``lcmodel fit-many PLAN``: every job of a plan on Dask, and their summary."""
    from lcmodel.spec.plan import load_plan

    plan = load_plan(  # plan, spec and data file errors come before any heavy import
        args.plan, out=args.out, allow_failed_diagnostics=args.allow_failed_diagnostics
    )
    from lcmodel.workflows.fit_many import fit_many

    run = fit_many(
        plan,
        scheduler=args.scheduler,
        workers=args.workers,
        cores=args.cores,
        progressbar=not args.quiet,
    )
    print(format_summary(run.summary))
    print()
    print(_paragraph(run.describe()))
    counts = run.counts
    if counts["failed"]:
        return EXIT_JOBS_FAILED
    return EXIT_DIAGNOSTICS if counts["diagnostics_failed"] else 0


def _compare(args: argparse.Namespace) -> int:
    if len(args.specs) > 1:
        return _compare_models(args)
    import pandas as pd

    from lcmodel.io.atomic import check_replaceable
    from lcmodel.workflows.joint_comparison import COMPARISON_MARKER, compare_with_separate

    (args.spec,) = args.specs
    if Path(args.spec).is_dir():
        raise LcmodelError(
            f"{args.spec}: 'compare' takes two or more specs or result folders to compare by "
            f"PSIS-LOO, or one joint spec to compare with its indicators' separate fits"
        )
    model = _load_model(args)
    if model.kind != "joint":
        raise LcmodelError(
            f"{args.spec}: 'compare' takes a joint spec (one that lists 'indicators') when "
            f"given one spec; a single indicator has nothing to be compared with. Give two or "
            f"more specs or result folders to compare them by PSIS-LOO"
        )
    out = Path(args.out) if args.out else Path("out") / f"{model.spec.name}-vs-separate"
    check_replaceable(out, COMPARISON_MARKER)
    comparison = compare_with_separate(model, progressbar=not args.quiet, **_sampling(args))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(comparison.loo.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        print()
        columns = ["indicator", "area", "name", "n", "width_joint", "width_separate", "ratio"]
        small = comparison.smallest_areas()[columns]
        print(small.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return _finish_comparison(comparison, out, args)


def _finish_comparison(comparison: Any, out: Path, args: argparse.Namespace) -> int:
    """Say what a comparison found and write it, unless a fit failed its diagnostics."""
    print()
    print(_paragraph(comparison.describe()))
    problems = comparison.diagnostics_failures()
    if problems and not args.allow_failed_diagnostics:
        print(_paragraph(f"\nNothing was written: {'; '.join(problems)}"), file=sys.stderr)
        return EXIT_DIAGNOSTICS
    folder = comparison.save(out)
    print(f"\nWrote {', '.join(sorted(p.name for p in folder.iterdir()))} to {folder}")
    return 0


def _compare_models(args: argparse.Namespace) -> int:
    """``lcmodel compare A B [C ...]``: PSIS-LOO of two or more models on the same data."""
    import pandas as pd

    from lcmodel.io.atomic import check_replaceable
    from lcmodel.workflows.joint_comparison import COMPARISON_MARKER
    from lcmodel.workflows.model_comparison import compare_models

    if args.out:
        out = Path(args.out)
    else:
        stems = [
            Path(item).stem if Path(item).is_file() else Path(item).name for item in args.specs
        ]
        out = Path("out") / f"compare-{'-'.join(stems)}"
    check_replaceable(out, COMPARISON_MARKER)  # before sampling, not after
    comparison = compare_models(
        args.specs, data=args.data, progressbar=not args.quiet, **_sampling(args)
    )
    shown = comparison.table.drop(columns="source")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return _finish_comparison(comparison, out, args)


def _simulate(args: argparse.Namespace) -> int:
    from lcmodel.simulate import simulate_survey

    try:
        simulated = simulate_survey(
            n_respondents=args.respondents,
            n_areas=args.areas,
            n_waves=args.waves,
            seed=args.seed,
            spatial_share=args.spatial_share,
        )
    except ValueError as exc:
        raise LcmodelError(f"simulate: {exc}") from None
    simulated.write(args.out, file_format=args.format)
    boundaries = (
        "with their boundaries in areas.geojson"
        if simulated.boundaries is not None
        else 'without boundaries (pip install "lcmodel[spatial]" to write areas.geojson)'
    )
    print(
        f"Wrote {len(simulated.survey):,} respondents in {len(simulated.areas)} areas over "
        f"{args.waves} waves (seed {args.seed}, spatial share {args.spatial_share:g}) to "
        f"{args.out} as {args.format.upper()} files, {boundaries}"
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    """``lcmodel check SPEC_OR_RESULT_DIR``: every model check, printed and written."""
    from lcmodel.results.checks import CHECKS_MARKER
    from lcmodel.results.folder import load
    from lcmodel.workflows.checks import model_checks

    source = Path(args.spec)
    if source.is_dir():
        if args.data is not None:
            raise LcmodelError(
                f"{source}: --data replaces a spec's survey; a saved result keeps its own"
            )
        result = load(source)
        folder = source
    else:
        from lcmodel.io.atomic import check_replaceable
        from lcmodel.results.fit_result import RESULT_MARKER
        from lcmodel.spec import load_spec

        spec = load_spec(source)
        folder = Path("out") / spec.name
        if args.out is None:
            check_replaceable(folder, RESULT_MARKER)  # before sampling, not after
        model = _load_model(args, spec)
        result = model.fit(progressbar=not args.quiet, **_sampling(args))
        if args.out is None:
            folder = result.save(folder)
            print(f"Wrote the fit to {folder}")
    out = Path(args.out) if args.out else folder / "checks"
    from lcmodel.io.atomic import check_replaceable

    # a joint fit's checks go in one folder per indicator, a single fit's in the folder itself
    subfolders = {name: name if result.is_joint else None for name in result.names}
    for subfolder in subfolders.values():
        check_replaceable(out / (subfolder or ""), CHECKS_MARKER)
    per_indicator = model_checks(result)
    for name, found in per_indicator.items():
        print(f"\n{result.spec.name}: {name}" if result.is_joint else f"\n{result.spec.name}")
        print(_paragraph(found.describe()))
    written = [found.save(out, subfolder=subfolders[name]) for name, found in per_indicator.items()]
    if result.is_joint:
        print(f"\nWrote the checks to {', '.join(str(p) for p in written)}")
    else:
        print(f"\nWrote {', '.join(sorted(p.name for p in written[0].iterdir()))} to {written[0]}")
    print(_paragraph(result.diagnostics().message()))
    return 0


def _priors(args: argparse.Namespace) -> int:
    import pandas as pd

    model = _load_model(args)
    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(model.prior_table().to_string())
    return 0


def _summarize(args: argparse.Namespace) -> int:
    from lcmodel.results.folder import load

    print(_report(load(args.folder)))
    return 0


def _export(args: argparse.Namespace) -> int:
    from lcmodel.results.folder import load

    written = load(args.folder).export(args.file)
    print(f"Wrote {', '.join(str(p) for p in written)}")
    return 0


def _write_report(args: argparse.Namespace) -> int:
    from lcmodel.reporting.render import report

    written = report(args.folders, to=args.to, markdown=args.markdown, title=args.title)
    files = [written.html] + ([written.markdown] if written.markdown else [])
    sizes = ", ".join(f"{path} ({path.stat().st_size / 1024:,.0f} KiB)" for path in files)
    print(f"Wrote {sizes} in {written.seconds:.1f} s")
    return 0


def _add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--draws", type=int, help="posterior draws per chain")
    parser.add_argument("--tune", type=int, help="tuning steps per chain")
    parser.add_argument("--chains", type=int, help="number of chains")
    parser.add_argument(
        "--extend",
        type=int,
        help="times to sample again, twice as long, when only R-hat or ESS miss the gate "
        "(default 1; 0 never)",
    )
    parser.add_argument(
        "--thin", type=int, help="keep every N-th draw after sampling (default 1: all)"
    )
    parser.add_argument("--seed", type=int, help="random seed")
    parser.add_argument("--sampler", choices=SAMPLERS)
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "gpu"),
        help="where the numpyro sampler runs (gpu picks numpyro when --sampler is auto)",
    )
    parser.add_argument(
        "--method",
        choices=("nuts", "advi"),
        help="nuts (default), or advi: a fast approximation for exploring, labelled "
        "approximate in every output (its intervals only roughly the posterior's)",
    )
    parser.add_argument(
        "--cores",
        type=int,
        help="cores this fit may use (default: one per chain, at most the machine's)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _sampling(args: argparse.Namespace) -> dict[str, object]:
    """The [fit] settings given on the command line (None where not given)."""
    names = (
        "draws",
        "tune",
        "chains",
        "extend",
        "thin",
        "seed",
        "sampler",
        "device",
        "method",
        "cores",
    )
    return {name: getattr(args, name) for name in names}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``lcmodel`` command."""
    parser = argparse.ArgumentParser(
        prog="lcmodel",
        description="Bayesian small-area estimation of community survey outcomes.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    fit = sub.add_parser("fit", help="fit a model spec and write estimates, posterior and plot")
    fit.add_argument("spec", help="model spec (TOML), single-indicator or joint")
    fit.add_argument("--data", help="survey file replacing the spec's 'data'")
    fit.add_argument("--out", help="output folder (default: out/<spec name>)")
    _add_sampling_arguments(fit)
    fit.add_argument(
        "--allow-failed-diagnostics",
        action="store_true",
        help="write outputs even when convergence diagnostics fail (exit code stays 0)",
    )
    fit.set_defaults(handler=_fit)

    many = sub.add_parser(
        "fit-many",
        help="fit a plan's grid of specs x data files on a Dask cluster (resumable), with one "
        "summary of every job",
    )
    many.add_argument("plan", help="plan file (TOML): name, seed, out, [fit], [grid] specs, data")
    many.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of an existing Dask scheduler, e.g. tcp://host:8786 (default: a local "
        "cluster for this run); 'in-process': the jobs one after another, without Dask",
    )
    many.add_argument(
        "--workers", type=int, help="workers of the local cluster (default: from the machine)"
    )
    many.add_argument(
        "--cores",
        type=int,
        help="cores each fit may use (default: the machine's shared among the local cluster's "
        "workers, at most one per chain; elsewhere one per chain)",
    )
    many.add_argument("--out", help="output folder replacing the plan's 'out'")
    many.add_argument(
        "--allow-failed-diagnostics",
        action="store_true",
        help="write fits that fail their convergence diagnostics (the plan may say so too)",
    )
    many.add_argument("--quiet", action="store_true", help="no progress bar")
    many.set_defaults(handler=_fit_many)

    simulate = sub.add_parser("simulate", help="write a synthetic survey with known truth")
    simulate.add_argument("--out", default="data", help="output folder (default: data)")
    simulate.add_argument("--seed", type=int, default=2026)
    simulate.add_argument("--respondents", type=int, default=2852)
    simulate.add_argument("--areas", type=int, default=20)
    simulate.add_argument("--waves", type=int, default=6)
    simulate.add_argument(
        "--spatial-share",
        type=float,
        default=0.7,
        help="share of the area effects' variance that is smooth over the map, 0-1 (default "
        "0.7, as the shipped data; 0: independent area effects)",
    )
    simulate.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="file format of the tables (default csv; parquet keeps the columns' types and is "
        "written and read many times faster at national scale)",
    )
    simulate.set_defaults(handler=_simulate)

    priors = sub.add_parser("priors", help="list the priors a spec's model uses, and why")
    priors.add_argument("spec")
    priors.add_argument("--data", help="survey file replacing the spec's 'data'")
    priors.set_defaults(handler=_priors)

    check = sub.add_parser(
        "check",
        help="model checks (predictive per area, LOO-PIT, PSIS-LOO, direct vs model, area "
        "effects, prior sensitivity, scores) of a result folder, or of a spec fitted first",
    )
    check.add_argument(
        "spec", help="a result folder written by 'lcmodel fit', or a model spec (TOML) to fit"
    )
    check.add_argument("--data", help="survey file replacing the spec's 'data'")
    check.add_argument(
        "--out",
        help="folder for the checks' tables and figures (default: <result folder>/checks; a "
        "spec's fit is saved to out/<spec name> first)",
    )
    _add_sampling_arguments(check)
    check.set_defaults(handler=_check)

    compare = sub.add_parser(
        "compare",
        help="compare two or more models by PSIS-LOO on the same data; or a joint spec with "
        "its indicators fitted separately (interval widths and LOO)",
    )
    compare.add_argument(
        "specs",
        nargs="+",
        metavar="spec",
        help="two or more model specs (TOML) or result folders written by 'lcmodel fit', "
        "mixed as you like; or one joint spec",
    )
    compare.add_argument("--data", help="survey file replacing the specs' 'data'")
    compare.add_argument(
        "--out",
        help="output folder (default: out/compare-<name>-<name>, or out/<spec name>-vs-separate "
        "for one joint spec)",
    )
    _add_sampling_arguments(compare)
    compare.add_argument(
        "--allow-failed-diagnostics",
        action="store_true",
        help="write the comparison even when a fit fails its convergence diagnostics",
    )
    compare.set_defaults(handler=_compare)

    export = sub.add_parser(
        "export", help="write a saved result's estimates and metadata to .csv, .parquet or .xlsx"
    )
    export.add_argument("folder", help="a folder written by 'lcmodel fit'")
    export.add_argument("file", help="output file, .csv, .parquet or .xlsx")
    export.set_defaults(handler=_export)

    summarize = sub.add_parser("summarize", help="print the estimates of a saved result")
    summarize.add_argument("folder")
    summarize.set_defaults(handler=_summarize)

    report = sub.add_parser(
        "report",
        help="write a report for readers of one or more saved results: one self-contained "
        "HTML file (and a Quarto document)",
    )
    report.add_argument(
        "folders", nargs="+", metavar="folder", help="folders written by 'lcmodel fit'"
    )
    report.add_argument(
        "--to", default="report.html", help="the HTML file to write (default: report.html)"
    )
    report.add_argument(
        "--markdown", help="also write the same report as a Quarto document (.qmd or .md)"
    )
    report.add_argument("--title", help="the report's title (default: the models' names)")
    report.set_defaults(handler=_write_report)
    return parser


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Print a warning as ``warning: <message>``, one line, without its source location.

    Installed by :func:`main` for the run only (``warnings.showwarning``); Python API users
    keep Python's own format.
    """
    text = " ".join(str(message).split())
    try:
        print(f"warning: {text}", file=file if file is not None else sys.stderr)
    except OSError:  # stderr closed: a warning is not worth a crash
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.getLogger("pymc").setLevel(logging.WARNING)
    with warnings.catch_warnings():  # restores the filters and showwarning when the run ends
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            code = int(args.handler(args))
            sys.stdout.flush()  # a closed pipe (``| head``) surfaces here, inside the handler
            return code
        except LcmodelError as exc:
            print(_paragraph(f"error: {exc}"), file=sys.stderr)
            return EXIT_BAD_INPUT
        except BrokenPipeError:
            # the reader stopped early (``lcmodel summarize out | head``): that is not an
            # error; point stdout at devnull so that the interpreter's final flush stays quiet
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0


if __name__ == "__main__":
    sys.exit(main())
