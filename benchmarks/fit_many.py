"""fit-many: the ten shipped single-indicator specs as one plan, sequential vs a local cluster.

The ten specs are the unit-level specs in ``models/`` named after their outcome column, one
per survey question (anxiety, belonging, collective_efficacy, happiness, health,
life_satisfaction, services, speak_neighbours, trust, worthwhile). Left out: the variants of
an indicator (``*_gaussian``, ``trust_bym2``, ``trust_mrp``, ``trust_waves``), the joint spec
and the area-level one.

Each configuration is one run of the command line in a fresh process, into its own empty
output folder, so its wall time is what a user waits for: imports, the local cluster's start
(workers importing PyMC), building, compiling and sampling every model, and writing every
folder and ``summary.csv``:

- ``sequential``: ``lcmodel fit-many PLAN --scheduler in-process --cores C``: one fit after
  another in one process, each with the same cores as on the cluster;
- ``local cluster``: ``lcmodel fit-many PLAN``: the default local cluster (workers and cores
  per fit chosen from the machine, see ``lcmodel.workflows.fit_many.cluster_size``);
- ``sequential, all cores``: one fit after another with one core per chain (what a loop of
  ``lcmodel fit`` does), for reference.

Before them, an untimed run of every spec (with 10 draws) in another process fills the
compile caches on disk, so that no configuration pays for cold caches the others do not. Every
configuration fits the same jobs with the same seeds, so their diagnostics must agree: the
script checks that each job's minimum ESS and maximum R-hat are the same in every run.

"CPU s" is the CPU time of the ``lcmodel`` process and its workers, and "cores used" that over
the wall time: on a machine shared with other work it shows how many cores a configuration
really got ("load before" is the 1-minute load average as it started).

Usage::

    python benchmarks/fit_many.py                          # the specs' own settings
    python benchmarks/fit_many.py --draws 300 --tune 300   # shorter fits
    python benchmarks/fit_many.py --markdown /tmp/fit_many.md
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
LCMODEL = [sys.executable, "-m", "lcmodel.cli"]


def ten_specs() -> list[Path]:
    """The unit-level specs named after their outcome column: one per survey question."""
    found = []
    for path in sorted((ROOT / "models").glob("*.toml")):
        raw = tomllib.loads(path.read_text())
        if raw.get("outcome", {}).get("column") == raw.get("name"):
            found.append(path)
    return found


def write_plan(folder: Path, specs: list[Path], fit: dict[str, int]) -> Path:
    lines = ['name = "ten-indicators"', "seed = 20261202", "", "[fit]"]
    lines += [f"{key} = {value}" for key, value in fit.items()]
    lines += ["", "[grid]", "specs = [" + ", ".join(f'"{p}"' for p in specs) + "]", ""]
    path = folder / "plan.toml"
    path.write_text("\n".join(lines))
    return path


def run(plan: Path, out: Path, extra: list[str]) -> tuple[float, float, pd.DataFrame]:
    """Wall and CPU time of one ``lcmodel fit-many`` process (workers included), its summary."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [*LCMODEL, "fit-many", str(plan), "--out", str(out), "--quiet", *extra],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 3):
        raise RuntimeError(f"fit-many failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    # CPU time of the process and its workers (waited-for descendants): cores it really got
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, pd.read_csv(out / "summary.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, help="draws per chain (default: the specs')")
    parser.add_argument("--tune", type=int, help="tuning steps per chain (default: the specs')")
    parser.add_argument("--chains", type=int, help="chains (default: the specs')")
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--no-warm-up", action="store_true", help="leave the caches as they are")
    parser.add_argument(
        "--configurations",
        default="sequential,cluster,sequential-all-cores",
        help="which configurations to run, in this order (comma-separated)",
    )
    args = parser.parse_args()

    from lcmodel.inference.sampling import usable_cores
    from lcmodel.spec.plan import load_plan
    from lcmodel.workflows.fit_many import cluster_size

    specs = ten_specs()
    fit = {"extend": 0}  # every configuration samples each job once, the same length
    fit |= {k: v for k, v in (("draws", args.draws), ("tune", args.tune)) if v is not None}
    if args.chains is not None:
        fit["chains"] = args.chains
    cores = usable_cores()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plan = write_plan(folder, specs, fit)
        loaded = load_plan(plan)
        workers, per_fit = cluster_size(len(loaded.jobs), loaded.chains)
        if not args.no_warm_up:
            (folder / "warm").mkdir()
            warm = write_plan(folder / "warm", specs, fit | {"draws": 10, "tune": 10})
            run(warm, folder / "out-warm", ["--scheduler", "in-process"])
        all_cores = min(loaded.chains, cores)
        known = {
            "sequential": (
                "sequential",
                ["--scheduler", "in-process", "--cores", str(per_fit)],
                1,
                per_fit,
            ),
            "cluster": ("local cluster", [], workers, per_fit),
            "sequential-all-cores": (
                "sequential, all cores",
                ["--scheduler", "in-process", "--cores", str(all_cores)],
                1,
                all_cores,
            ),
        }
        rows, summaries = [], {}
        for key in args.configurations.split(","):
            name, extra, n_workers, n_cores = known[key.strip()]
            load = os.getloadavg()[0]
            wall, cpu, summary = run(plan, folder / f"out-{len(rows)}", extra)
            summaries[name] = summary.set_index("job")
            rows.append(
                {
                    "configuration": name,
                    "fits at once": n_workers,
                    "cores per fit": n_cores,
                    "wall s": round(wall, 1),
                    "sum of job s": round(float(summary["seconds"].sum()), 1),
                    "CPU s": round(cpu, 1),
                    "cores used": round(cpu / wall, 2),
                    "load before": round(load, 1),
                    "done": int((summary["status"] == "done").sum()),
                    "failed": int((summary["status"] == "failed").sum()),
                    "diag. failed": int((summary["status"] == "diagnostics_failed").sum()),
                    "worst min ESS": round(float(summary["min_ess_bulk"].min())),
                    "worst R-hat": round(float(summary["max_rhat"].max()), 3),
                }
            )
    table = pd.DataFrame(rows)
    if (table["configuration"] == "sequential").any():
        reference = table.loc[table["configuration"] == "sequential", "wall s"].iloc[0]
        table["sequential / this"] = (reference / table["wall s"]).round(2)
    columns = ["min_ess_bulk", "max_rhat", "divergences"]
    first = next(iter(summaries.values()))[columns]
    same = all(s[columns].equals(first) for s in summaries.values())
    settings = ", ".join(f"{k} = {v}" for k, v in fit.items())
    header = (
        f"{len(specs)} specs ({', '.join(p.stem for p in specs)}); [fit] {settings}; "
        f"{cores} usable cores; Python {sys.version.split()[0]}; "
        f"{os.uname().sysname} {os.uname().machine}"
    )
    print(header)
    print(table.to_string(index=False))
    print(f"same diagnostics in every configuration (same seeds): {same}")
    if args.markdown:
        lines = ["| " + " | ".join(table.columns) + " |"]
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(table.columns) - 1)) + "|")
        lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.to_numpy()]
        text = "\n".join(lines)
        Path(args.markdown).write_text(f"{header}\n\n{text}\n\nsame diagnostics: {same}\n")


if __name__ == "__main__":
    main()
