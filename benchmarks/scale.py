"""National scale: the issue's workloads, simulated and fitted stage by stage, in one run.

Workloads (6 waves, age band x sex, binary trust), each fitted with ``models/trust.toml``
(waves, age band, sex and deprivation, independent area effects):

- ``shipped``: the shipped survey (20 areas, 2,852 respondents, ``data/``);
- ``360``: 360 areas x 150,000 respondents;
- ``2000``: 2,000 areas x 200,000 respondents;
- ``32844``: 32,844 areas x 1,000,000 respondents.

Each workload runs in a Python process of its own, so that its peak memory is its own. That
process writes the workload's data with ``lcmodel simulate --format parquet`` (in a subprocess
again, whose peak memory is read when it ends; the shipped survey is read as shipped), then
times the stages of one fit of the trust spec over it, as ``benchmarks/startup.py`` does for
the shipped data: load and validate (``benchmarks/spatial.py``'s ``spec_over``), cells,
report inputs, build, compile (nutpie, through lcmodel's per-process cache of compiled
models, which ``fit()`` then reuses), sample (the sampler's wall time inside ``fit()``), the
rest of ``fit()`` (its own build, finishing the posterior, diagnostics), summarise
(estimates and their prose) and write (``result.save``). Per stage: wall seconds and peak
resident memory during the stage (on Linux the peak is reset before each stage through
``/proc/self/clear_refs``; elsewhere it is the process's peak so far). Per fit: the smallest
bulk ESS of the area values, and that per second of sampling.

A workload that runs past ``--timeout`` seconds is stopped (its process group: POSIX only)
and reported as not finished within that time, with the stages it did finish. ``--no-sample``
stops the named workloads after compiling, for machines on which their sampling is out of
reach; the stages not run say so.

Usage::

    python benchmarks/scale.py --workloads shipped,360 --chains 2 --draws 500 --tune 500
    python benchmarks/scale.py --no-sample 32844 --timeout 1800 --markdown table.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import LCMODEL, ROOT  # the benchmarks folder is not a package

WORKLOADS: dict[str, tuple[str, tuple[int, int] | None]] = {
    "shipped": ("shipped survey, 20 x 2,852", None),
    "360": ("360 x 150,000", (360, 150_000)),
    "2000": ("2,000 x 200,000", (2_000, 200_000)),
    "32844": ("32,844 x 1,000,000", (32_844, 1_000_000)),
}
"""Name -> (column heading: areas x respondents, (areas, respondents) to simulate or None)."""

WAVES = 6
SPEC = "trust.toml"
STAGES = (
    "simulate",
    "load and validate",
    "cells",
    "report inputs",
    "build",
    "compile",
    "sample",
    "rest of fit()",
    "summarise",
    "write",
)
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _peak_mb() -> float:
    """Peak resident memory of this process since the last reset (Linux) or since it began."""
    if _STATUS.is_file():
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _reset_peak() -> bool:
    """Reset the peak resident memory to the current one (Linux 4.0+); False if unable."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class Record:
    """Stage timings of one workload, appended to a JSON-lines file as each stage ends.

    The parent reads the file even when it stopped the workload at its time limit.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, entry: dict[str, Any]) -> None:
        """Append one entry."""
        with self.path.open("a") as sink:
            sink.write(json.dumps(entry) + "\n")

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block and record its wall seconds and peak memory as stage ``name``."""
        per_stage = _reset_peak()
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        self.write(
            {"stage": name, "seconds": seconds, "peak_mb": _peak_mb(), "per_stage": per_stage}
        )


def run_workload(name: str, record: Record, args: argparse.Namespace, folder: Path) -> None:
    """Simulate (unless shipped) and fit one workload in this process, recording each stage."""
    size = WORKLOADS[name][1]
    data: Path | None = None
    if size is not None:
        areas, respondents = size
        data = folder / name
        command = [
            *LCMODEL,
            "simulate",
            "--out",
            str(data),
            "--areas",
            str(areas),
            "--respondents",
            str(respondents),
            "--waves",
            str(WAVES),
            "--format",
            args.format,
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        seconds = time.perf_counter() - start
        child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        record.write({"stage": "simulate", "seconds": seconds, "peak_mb": child_peak})

    # imports are not a stage (benchmarks/startup.py times them): PyMC comes with spec_over
    from spatial import spec_over

    from lcmodel.inference.sampling import _compiled_nutpie

    if args.sampler == "nutpie":
        import nutpie  # noqa: F401

    with record.stage("load and validate"):
        model = spec_over(SPEC, data, waves=True)
    with record.stage("cells"):
        cells = model.units()
    record.write(
        {
            "info": {
                "respondents": len(model.data.respondents),
                "areas": len(model.data.areas),
                "cells": len(cells),
            }
        }
    )
    del cells
    with record.stage("report inputs"):
        model.report_inputs()
    with record.stage("build"):
        pymc_model = model.build()
    sampling = {k: getattr(args, k) for k in ("chains", "draws", "tune") if getattr(args, k)}
    sampler = args.sampler
    if sampler == "nutpie" and args.method == "nuts":
        with record.stage("compile"):
            _compiled_nutpie(pymc_model)  # fit() finds it in lcmodel's cache
    del pymc_model
    if name in args.no_sample:
        record.write({"info": {"stopped": "before sampling (--no-sample)"}})
        return
    start = time.perf_counter()
    per_stage = _reset_peak()
    result = model.fit(
        progressbar=False,
        extend=0,
        sampler=sampler,
        device=args.device,
        method=args.method,
        **sampling,
    )
    wall = time.perf_counter() - start
    peak = _peak_mb()
    sample = sum(attempt["wall_seconds"] for attempt in result.metadata["attempts"])
    record.write({"stage": "sample", "seconds": sample, "peak_mb": peak, "per_stage": per_stage})
    record.write({"stage": "rest of fit()", "seconds": wall - sample, "peak_mb": peak})
    with record.stage("summarise"):
        table = result.estimates()
        result.describe()
    with record.stage("write"):
        result.save(folder / f"{name}-result")
    settings = result.spec.fit
    ess = float(table["ess_bulk"].min())
    record.write(
        {
            "info": {
                "sampling": f"{settings.chains} x {settings.draws} (tune {settings.tune})",
                "min_ess_area": ess,
                "ess_per_second": ess / sample,
                "max_rhat": float(table["rhat"].max()),
                "divergences": int(result.diagnostics().n_divergent),
            }
        }
    )


def _child(args: argparse.Namespace) -> None:
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    run_workload(args.child, Record(Path(args.record)), args, folder)


def _measure(name: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Run one workload in a fresh process; its stages, facts and how it ended."""
    record = folder / f"{name}.jsonl"
    record.unlink(missing_ok=True)
    command = [sys.executable, __file__, "--child", name, "--record", str(record)]
    command += ["--folder", str(folder), "--sampler", args.sampler, "--format", args.format]
    command += ["--device", args.device, "--method", args.method]
    command += ["--no-sample", ",".join(args.no_sample)]
    for key in ("chains", "draws", "tune"):
        if getattr(args, key):
            command += [f"--{key}", str(getattr(args, key))]
    status = "finished"
    # a session of its own, so that a workload past its time is stopped with its simulate
    with subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    ) as child:
        try:
            _, errors = child.communicate(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            status = f"not finished within {args.timeout:.0f} s"
        else:
            if child.returncode != 0:
                last = (errors.strip().splitlines() or [""])[-1]
                status = f"failed (exit {child.returncode}): {last}"
    stages: dict[str, dict[str, Any]] = {}
    info: dict[str, Any] = {}
    if record.is_file():
        for line in record.read_text().splitlines():
            entry = json.loads(line)
            if "stage" in entry:
                stages[entry["stage"]] = entry
            else:
                info |= entry["info"]
    if status == "finished" and "stopped" in info:
        status = f"stopped {info['stopped']}"
    return {"status": status, "stages": stages, "info": info}


def _cell(name: str, stage: str, run: dict[str, Any]) -> str:
    entry = run["stages"].get(stage)
    if entry is not None:
        return f"{entry['seconds']:.1f} s, {entry['peak_mb']:,.0f} MB"
    if stage == "simulate" and WORKLOADS[name][1] is None:
        return "(shipped files)"
    if stage == "compile" and run["info"].get("sampler") not in (None, "nutpie"):
        return "(in sample)"
    if "stopped" in run["info"]:
        return "not run (--no-sample)"
    return "not run" if run["status"] == "finished" else run["status"]


def table(runs: dict[str, dict[str, Any]]) -> str:
    """The markdown table: one column per workload, one row per stage and per fact."""
    names = list(runs)
    head = "| | " + " | ".join(WORKLOADS[n][0] for n in names) + " |"
    lines = [head, "|---" * (len(names) + 1) + "|"]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("answers / areas / cells", [_facts(runs[n]["info"]) for n in names])
    for stage in STAGES:
        row(stage, [_cell(n, stage, runs[n]) for n in names])
    info = [runs[n]["info"] for n in names]
    row("draws", [i.get("sampling", "-") for i in info])
    row("min bulk ESS, area values", [_number(i, "min_ess_area", "{:.0f}") for i in info])
    row("min bulk ESS / s of sampling", [_number(i, "ess_per_second", "{:.1f}") for i in info])
    row("max R-hat, divergences", [_quality(i) for i in info])
    row("workload", [runs[n]["status"] for n in names])
    return "\n".join(lines)


def _facts(info: dict[str, Any]) -> str:
    if "cells" not in info:
        return "-"
    return f"{info['respondents']:,} / {info['areas']:,} / {info['cells']:,}"


def _number(info: dict[str, Any], key: str, form: str) -> str:
    return form.format(info[key]) if key in info else "-"


def _quality(info: dict[str, Any]) -> str:
    if "max_rhat" not in info:
        return "-"
    return f"{info['max_rhat']:.3f}, {info['divergences']}"


def main() -> None:
    """Run each workload in its own process and print (and optionally write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workloads", default=",".join(WORKLOADS), help=f"of {', '.join(WORKLOADS)}"
    )
    for key in ("chains", "draws", "tune"):
        parser.add_argument(f"--{key}", type=int, help=f"{key} (default: the spec's)")
    parser.add_argument("--sampler", default="nutpie", choices=("nutpie", "pymc", "numpyro"))
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "gpu"))
    parser.add_argument("--method", default="nuts", choices=("nuts", "advi"))
    parser.add_argument("--format", default="parquet", choices=("parquet", "csv"))
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per workload")
    parser.add_argument(
        "--no-sample", default="", help="workloads to stop before sampling, e.g. 32844"
    )
    parser.add_argument("--data", help="folder for the simulated data (default: a temporary one)")
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--record", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.no_sample = [n for n in args.no_sample.split(",") if n]
    if args.child:
        _child(args)
        return
    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in [*names, *args.no_sample] if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.data) if args.data else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            start = time.perf_counter()
            runs[name] = _measure(name, args, folder)
            runs[name]["info"]["sampler"] = (
                "ADVI, approximate"
                if args.method == "advi"
                else args.sampler + ("" if args.device == "auto" else f" on {args.device}")
            )
            print(
                f"{name}: {runs[name]['status']} in {time.perf_counter() - start:.0f} s", flush=True
            )
    text = table(runs)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")


if __name__ == "__main__":
    main()
