"""Many fits on Dask: every job of a plan (specs x data files), resumable, one summary.

:func:`fit_many` runs a plan's jobs (:mod:`lcmodel.spec.plan`) on a Dask cluster: a
``LocalCluster`` made for the run by default, or an existing one (``scheduler``). Each job
runs :func:`run_job` inside a worker process, which

1. removes what an earlier, killed attempt left beside its folder (a staging folder);
2. builds the model of its spec (the plan's ``[fit]`` settings and the job's own seed) on its
   data file, and skips the fit when the job's folder already holds a finished result of the
   same spec on the same data: the saved spec equal to the job's (cores aside, and the
   tuning and draws of its first attempt when it was sampled again), and every data hash the
   result recorded (``data_hash``, files' ``sha256``) equal to the data's now;
3. fits with the job's core budget (``cores``) and writes the folder atomically (all files or
   none), unless the fit fails its diagnostics gate: that is recorded and nothing is written,
   as ``lcmodel fit`` does, unless the plan allows failed diagnostics;
4. returns one record: job, status (``done``, ``skipped``, ``failed``,
   ``diagnostics_failed``), seconds, the diagnostics (minimum bulk ESS, maximum R-hat,
   divergences, whether the gate passed), the error and the warnings.

An error in a job (bad data, a sampler that fails) becomes that job's record and the other jobs
go on. A worker that dies (out of memory, killed) has its job rescheduled by Dask on another
worker; after ``distributed.scheduler.allowed-failures`` deaths (3 by default) the job is
recorded as failed with Dask's ``KilledWorker``, and whatever it left half-written is removed.
The records make ``summary.csv`` in the plan's folder, written atomically once every job has
finished, and a :class:`PlanRun`.

Each fit runs in a worker with one thread, so that fits do not share a core budget: the local
cluster has ``workers`` single-threaded workers and gives each fit ``cores`` cores, chosen from
the machine (:func:`cluster_size`). Workers of an existing cluster should have one thread each
(``dask worker ADDRESS --nthreads 1``); see ``docs/scaling.md``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import pandas as pd

from lcmodel.errors import LcmodelError
from lcmodel.inference.sampling import usable_cores
from lcmodel.io.atomic import atomic_file, check_replaceable, clear_staging
from lcmodel.spec.plan import Plan, PlanJob, load_plan

if TYPE_CHECKING:
    from distributed import Client

    from lcmodel.inference.diagnostics import Diagnostics
    from lcmodel.models.base import Model

__all__ = [
    "IN_PROCESS",
    "PLAN_MARKER",
    "STATUSES",
    "SUMMARY_COLUMNS",
    "PlanRun",
    "cluster_size",
    "fit_many",
    "run_job",
    "run_plan",
]

STATUSES = ("done", "skipped", "failed", "diagnostics_failed")
"""What became of a job: fitted and written; already finished (not refitted); failed with an
error (nothing written); fitted but failed its diagnostics gate (nothing written)."""

SUMMARY_COLUMNS = (
    "job",
    "status",
    "seconds",
    "min_ess_bulk",
    "max_rhat",
    "divergences",
    "diagnostics_passed",
    "error",
    "warnings",
    "seed",
    "spec",
    "data",
    "folder",
    "worker",
)
"""The columns of ``summary.csv``, one row per job in the plan's order."""

PLAN_MARKER = "plan.json"
"""The file that marks a folder as a plan's output (the plan's name, file and jobs)."""

IN_PROCESS = "in-process"
"""The ``scheduler`` that runs the jobs one after another in this process, without Dask."""

Runner = Callable[[PlanJob], dict[str, Any]]
"""What runs one job and returns its record (:func:`run_job`)."""


# ----------------------------------------------------------------------------- one job
def _record(job: PlanJob, **values: Any) -> dict[str, Any]:
    record: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS)
    record |= {
        "job": job.id,
        "seed": job.seed,
        "spec": str(job.spec_file),
        "data": "" if job.data is None else str(job.data),
        "folder": str(job.folder),
        "error": "",
        "warnings": "",
    }
    return record | values


def _diagnostic_values(diagnostics: Diagnostics) -> dict[str, Any]:
    return {
        "min_ess_bulk": round(float(diagnostics.min_ess_bulk), 1),
        "max_rhat": round(float(diagnostics.max_rhat), 4),
        "divergences": int(diagnostics.n_divergent),
        "diagnostics_passed": bool(diagnostics.passed),
    }


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _comparable(spec: dict[str, Any], attempts: list[dict[str, Any]] | None = None) -> Any:
    """A spec as the resume check compares it: cores aside, the first attempt's lengths."""
    from lcmodel.spec import parse_any_spec

    spec = json.loads(json.dumps(spec))
    spec["fit"]["cores"] = None
    if attempts:  # sampled again, twice as long: the job asked for the first attempt's
        spec["fit"]["draws"] = attempts[0]["draws"]
        spec["fit"]["tune"] = attempts[0]["tune"]
    return parse_any_spec(spec, source="a saved result").model_dump(mode="json")


def _hashes(metadata: Any, where: str = "") -> dict[str, Any]:
    """Every data hash a result's metadata records (``data_hash``, files' ``sha256``)."""
    found: dict[str, Any] = {}
    if isinstance(metadata, dict):
        for key, value in metadata.items():
            if key in ("data_hash", "sha256"):
                found[f"{where}{key}"] = value
            else:
                found |= _hashes(value, f"{where}{key}.")
    return found


def finished_diagnostics(folder: Path, model: Model) -> Diagnostics | None:
    """The diagnostics of the finished result of ``model`` in ``folder``, or ``None``.

    A finished result is a complete saved result whose spec is the model's (cores aside; a
    fit sampled again is compared by its first attempt) and whose recorded data hashes are
    those of the model's data now. Anything else (no result, another spec or seed, changed
    data, an unreadable file) is ``None``: the job is fitted again.
    """
    from lcmodel.inference.diagnostics import Diagnostics
    from lcmodel.results.fit_result import RESULT_MARKER

    names = (RESULT_MARKER, "diagnostics.json", "posterior.nc")
    if not all((folder / name).is_file() for name in names):
        return None
    try:
        payload = json.loads((folder / RESULT_MARKER).read_text())
        metadata = payload["metadata"]
        saved = _comparable(payload["spec"], metadata.get("attempts"))
        wanted = _comparable(model.spec.model_dump(mode="json"))
        if saved != wanted or _hashes(metadata) != _hashes(model.data_metadata()):
            return None
        return Diagnostics.from_dict(json.loads((folder / "diagnostics.json").read_text()))
    except (LcmodelError, KeyError, TypeError, ValueError):
        return None


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return IN_PROCESS


def run_job(job: PlanJob) -> dict[str, Any]:
    """Run one job of a plan (in a Dask worker, or in this process) and return its record.

    Never raises for a failed job: its error is the record's. See the module docstring for
    what it does.

    Parameters
    ----------
    job
        The job, with its core budget (``job.cores``).

    Returns
    -------
    dict
        One row of the summary (:data:`SUMMARY_COLUMNS`).
    """
    start = time.perf_counter()
    record = _record(job, worker=_worker_name())
    logging.getLogger("pymc").setLevel(logging.WARNING)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            record |= _fit_job(job)
        except LcmodelError as exc:
            record |= {"status": "failed", "error": _one_line(str(exc))}
        except Exception as exc:  # one job's failure is its record; the others go on
            record |= {"status": "failed", "error": _one_line(f"{type(exc).__name__}: {exc}")}
    seen = dict.fromkeys(_one_line(str(w.message)) for w in caught)
    record["warnings"] = " | ".join(seen)
    record["seconds"] = round(time.perf_counter() - start, 2)
    return record


def _fit_job(job: PlanJob) -> dict[str, Any]:
    from lcmodel.models.registry import model_from_spec
    from lcmodel.results.fit_result import RESULT_MARKER

    clear_staging(job.folder)  # a killed attempt's half-written folder
    check_replaceable(job.folder, RESULT_MARKER)  # before sampling, not after
    model = model_from_spec(job.spec, job.data).with_fit_settings(cores=job.cores)
    finished = finished_diagnostics(job.folder, model)
    if finished is not None:
        return {"status": "skipped", **_diagnostic_values(finished)}
    result = model.fit(progressbar=False)
    diagnostics = result.diagnostics()
    values = _diagnostic_values(diagnostics)
    if not diagnostics.passed and not job.allow_failed_diagnostics:
        error = "; ".join(diagnostics.failures) + " (nothing written)"
        return {"status": "diagnostics_failed", "error": _one_line(error), **values}
    result.metadata["plan"] = {"job": job.id, "seed": job.seed}
    result.save(job.folder)
    return {"status": "done", **values}


# ----------------------------------------------------------------------------- many jobs
@dataclass(frozen=True)
class PlanRun:
    """What a run of a plan did: one summary row per job, and how it ran.

    Attributes
    ----------
    plan
        The plan run.
    summary
        One row per job, in the plan's order (:data:`SUMMARY_COLUMNS`), as in ``summary.csv``.
    seconds
        Wall time of the whole run.
    workers, cores
        Workers the jobs ran on (``None``: in this process) and cores given to each fit.
    """

    plan: Plan
    summary: pd.DataFrame
    seconds: float
    workers: int | None
    cores: int | None

    @property
    def counts(self) -> dict[str, int]:
        """Jobs per status (every status, zeros included)."""
        found = self.summary["status"].value_counts()
        return {status: int(found.get(status, 0)) for status in STATUSES}

    @property
    def ok(self) -> bool:
        """Whether every job is done or skipped."""
        return bool(self.summary["status"].isin(["done", "skipped"]).all())

    def describe(self) -> str:
        """One paragraph: what became of the jobs, where they are, how long it took."""
        counts = self.counts
        parts = [f"{n} {status.replace('_', ' ')}" for status, n in counts.items() if n]
        where = (
            "in this process"
            if self.workers is None
            else f"on {self.workers} worker{'s' if self.workers != 1 else ''}"
        )
        budget = (
            f", {self.cores} core{'s' if self.cores != 1 else ''} per fit" if self.cores else ""
        )
        text = (
            f"Plan '{self.plan.name}': {len(self.summary)} jobs, {', '.join(parts)}, in "
            f"{self.seconds:.1f} s {where}{budget}. Summary: {self.plan.out / 'summary.csv'}."
        )
        failed = self.summary[self.summary["status"] == "failed"]
        if len(failed):
            text += " Failed: " + "; ".join(
                f"{row.job}: {row.error}" for row in failed.itertuples()
            )
        skipped = counts["skipped"]
        if skipped:
            text += (
                f" {skipped} job{'s' if skipped != 1 else ''} already had a finished result of "
                f"the same spec and data, and {'were' if skipped != 1 else 'was'} not refitted."
            )
        return text


class _Progress:
    """Jobs done, on one line of stderr (rewritten in a terminal, one line per job else)."""

    def __init__(self, plan: Plan, show: bool, stream: TextIO | None = None) -> None:
        self.plan = plan
        self.show = show
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.failed = 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.failed += record["status"] in ("failed", "diagnostics_failed")
        if not self.show:
            return
        total = len(self.plan.jobs)
        width = 20
        filled = round(width * self.done / max(total, 1))
        bar = "#" * filled + "-" * (width - filled)
        failed = f", {self.failed} failed" if self.failed else ""
        took = "" if record["seconds"] is None else f" ({record['seconds']:.1f} s)"
        line = (
            f"fit-many {self.plan.name} [{bar}] {self.done}/{total} jobs{failed} | "
            f"{record['job']}: {record['status']}{took}"
        )
        end = "\n" if not self.tty or self.done == total else ""
        prefix = "\r\x1b[2K" if self.tty else ""
        print(prefix + line, end=end, file=self.stream, flush=True)


def _lost(job: PlanJob, exc: BaseException) -> dict[str, Any]:
    """The record of a job that Dask could not finish (its worker died too often)."""
    from lcmodel.results.fit_result import RESULT_MARKER

    leftovers = clear_staging(job.folder)  # the batch is over: nobody else writes it
    text = f"{type(exc).__name__}: {exc}"
    if type(exc).__name__ == "KilledWorker":
        text = (
            f"KilledWorker: the worker running this job died on every try (out of memory, "
            f"killed?); nothing of this try was written. {exc}"
        )
    if leftovers:
        text += f" (removed {len(leftovers)} half-written folder(s) beside {job.folder.name})"
    old = (job.folder / RESULT_MARKER).is_file()
    if old:
        text += "; the folder keeps its earlier result"
    return _record(job, status="failed", error=_one_line(text), worker="")


def run_plan(
    plan: Plan,
    client: Client | None,
    *,
    cores: int | None = None,
    runner: Runner = run_job,
    progressbar: bool = True,
    workers: int | None = None,
) -> PlanRun:
    """Run every job of ``plan`` on ``client`` (``None``: one after another in this process).

    Parameters
    ----------
    plan
        The plan (:func:`lcmodel.spec.plan.load_plan`).
    client
        A connected ``distributed.Client``, or ``None``.
    cores
        Cores each fit may use (``None``: the sampler's default, one per chain).
    runner
        What runs one job in a worker (:func:`run_job`; a picklable function).
    progressbar
        Show jobs done on stderr.
    workers
        The number of workers, for the record (``None``: read from ``client``).

    Returns
    -------
    PlanRun
        The summary, also written to ``<plan out>/summary.csv``.
    """
    start = time.perf_counter()
    out = _prepare_out(plan)
    jobs = [replace(job, cores=cores) for job in plan.jobs]
    progress = _Progress(plan, progressbar)
    records: dict[str, dict[str, Any]] = {}
    if client is None:
        for job in jobs:
            records[job.id] = runner(job)
            progress.update(records[job.id])
    else:
        from distributed import as_completed

        if workers is None:
            workers = len(client.scheduler_info().get("workers", {}))
        futures = {
            client.submit(
                runner, job, key=f"{job.id}-{plan.name}-{time.time_ns()}", pure=False
            ): job
            for job in jobs
        }
        try:
            for future in as_completed(futures):
                job = futures[future]
                try:
                    record = future.result()
                except Exception as exc:  # the worker died too often, or Dask failed
                    record = _lost(job, exc)
                records[job.id] = record
                progress.update(record)
        except BaseException:
            client.cancel(list(futures))
            raise
    summary = pd.DataFrame([records[job.id] for job in jobs], columns=list(SUMMARY_COLUMNS))
    summary = summary.astype({"divergences": "Int64", "diagnostics_passed": "boolean"})
    with atomic_file(out / "summary.csv") as staging:
        summary.to_csv(staging, index=False)
    return PlanRun(
        plan=plan,
        summary=summary,
        seconds=round(time.perf_counter() - start, 2),
        workers=workers if client is not None else None,
        cores=cores,
    )


def _prepare_out(plan: Plan) -> Path:
    """The plan's folder, created and marked (refused when it holds something else)."""
    out = check_replaceable(plan.out, PLAN_MARKER)
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "name": plan.name,
        "plan": str(plan.source),
        "seed": plan.seed,
        "jobs": [job.id for job in plan.jobs],
    }
    with atomic_file(out / PLAN_MARKER) as staging:
        staging.write_text(json.dumps(record, indent=2) + "\n")
    return out


def cluster_size(
    n_jobs: int,
    chains: int,
    *,
    workers: int | None = None,
    cores: int | None = None,
    usable: int | None = None,
) -> tuple[int, int]:
    """Workers of a local cluster, and cores per fit, so that fits share no core.

    By default as many fits run at once as there are jobs and cores (one core each at
    least), and the cores are shared out among them, at most one per chain (a fit uses no
    more): 10 jobs of 4 chains on 2 cores run as 2 workers of 1 core, on 64 cores as 10
    workers of 4 cores.

    Parameters
    ----------
    n_jobs
        Jobs in the plan.
    chains
        The most chains any job samples.
    workers, cores
        Either or both fixed by the caller (the other is chosen).
    usable
        Cores of the machine (default: the CPUs this process may use).
    """
    usable = usable or usable_cores()
    if workers is None:
        fits = usable // cores if cores else usable
        workers = max(1, min(n_jobs, fits))
    if cores is None:
        cores = max(1, min(chains, usable // workers))
    return workers, cores


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise LcmodelError(
            "fit-many runs its jobs on Dask, which is not installed: pip install "
            '"lcmodel[distributed]" (or run the jobs one after another with '
            f"scheduler='{IN_PROCESS}')"
        ) from None
    return distributed


def fit_many(
    plan: str | Path | Plan,
    *,
    scheduler: str | Client | None = None,
    workers: int | None = None,
    cores: int | None = None,
    out: str | Path | None = None,
    allow_failed_diagnostics: bool = False,
    progressbar: bool = True,
) -> PlanRun:
    """Fit every job of a plan on a Dask cluster; resumable; one summary of every job.

    Parameters
    ----------
    plan
        A plan file (TOML; see :mod:`lcmodel.spec.plan` and ``docs/scaling.md``) or a loaded
        :class:`~lcmodel.spec.plan.Plan`.
    scheduler
        ``None``: a local cluster for this run (``workers`` single-threaded worker processes);
        the address of an existing Dask scheduler (``"tcp://host:8786"``) or a connected
        ``distributed.Client``; or ``"in-process"``: the jobs one after another in this
        process, without Dask.
    workers
        Workers of the local cluster (default: chosen with ``cores`` from the machine, see
        :func:`cluster_size`).
    cores
        Cores each fit may use (default: the machine's shared out among the local cluster's
        workers; on an existing cluster or in this process, one per chain).
    out
        Folder replacing the plan's ``out`` (relative to the working directory).
    allow_failed_diagnostics
        Write fits that fail their diagnostics gate (also a plan setting).
    progressbar
        Show jobs done on stderr.

    Returns
    -------
    PlanRun
        One row per job (status, seconds, diagnostics, error), as in ``summary.csv``.

    Raises
    ------
    SpecError
        When the plan, or a spec or data file it lists, is invalid (before any fit).
    LcmodelError
        When the plan's folder holds something other than an earlier run's output, or Dask
        is needed and not installed.

    Examples
    --------
    >>> run = lcmodel.fit_many("plans/all-indicators.toml")  # doctest: +SKIP
    >>> run.summary[["job", "status", "seconds", "min_ess_bulk"]]  # doctest: +SKIP
    """
    if not isinstance(plan, Plan):
        plan = load_plan(plan, out=out, allow_failed_diagnostics=allow_failed_diagnostics)
    elif out is not None or allow_failed_diagnostics:
        raise LcmodelError("'out' and 'allow_failed_diagnostics' apply to a plan file's path")
    for name, value in (("workers", workers), ("cores", cores)):
        if value is not None and value < 1:
            raise LcmodelError(f"'{name}' must be at least 1, not {value}")
    if workers is not None and scheduler is not None:
        raise LcmodelError(
            "'workers' sizes the local cluster that fit-many starts; an existing cluster has "
            "its own workers (start them with one thread each, see docs/scaling.md)"
        )
    check_replaceable(plan.out, PLAN_MARKER)  # before starting a cluster, not after
    if scheduler == IN_PROCESS:
        return run_plan(plan, None, cores=cores, progressbar=progressbar)
    distributed = _distributed()
    if scheduler is None:
        import dask

        n_workers, per_fit = cluster_size(len(plan.jobs), plan.chains, workers=workers, cores=cores)
        # one job at a time per worker: a worker's queued job would wait for the one running
        # there while another worker is idle, and would count as suspicious if that one died
        with (
            dask.config.set({"distributed.scheduler.worker-saturation": 1.0}),
            distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            return run_plan(plan, client, cores=per_fit, progressbar=progressbar, workers=n_workers)
    if isinstance(scheduler, str):
        with distributed.Client(scheduler) as client:
            return run_plan(plan, client, cores=cores, progressbar=progressbar)
    return run_plan(plan, scheduler, cores=cores, progressbar=progressbar)
