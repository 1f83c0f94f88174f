"""Fixed cost of a fit, stage by stage, and the start-up of the command line, in one run.

Rows, each in a fresh process so that nothing is cached in memory:

- ``lcmodel --help``, a bad-spec error and a bad-data error (wall time of the whole command);
- the stages of one fit of a spec (default ``models/trust.toml``, 4 x 1000 draws): import,
  load and validate, report inputs, build, compile, sample, summarise, write;
- ``lcmodel fit SPEC`` as a whole, cold and warm (the second of two runs);
- ``lcmodel fit SPEC --sampler numpyro`` with JAX's compilation cache empty and then filled
  (when numpyro is installed).

Compile and sample are timed apart by compiling the model with nutpie first and then sampling
the compiled model with the same settings as ``lcmodel`` (when nutpie is the sampler). The first
``fit()`` compiles again (nutpie's compiled model from the stage before is not lcmodel's); a
second ``fit()`` with another seed reuses lcmodel's compiled model.

Usage::

    python benchmarks/startup.py                       # trust, 4 x 1000 draws
    python benchmarks/startup.py --spec models/health.toml --markdown out.md
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LCMODEL = [sys.executable, "-m", "lcmodel.cli"]

STAGES = r"""
import json, sys, time, tempfile
from pathlib import Path
t0 = time.perf_counter()
import lcmodel
from lcmodel.models.registry import model_from_spec
import pymc, nutpie
times = {"import": time.perf_counter() - t0}
t = time.perf_counter()
model = model_from_spec(sys.argv[1])
times["load and validate"] = time.perf_counter() - t
t = time.perf_counter()
inputs = model.report_inputs()
times["report inputs"] = time.perf_counter() - t
t = time.perf_counter()
pymc_model = model.build()
times["build"] = time.perf_counter() - t
t = time.perf_counter()
compiled = nutpie.compile_pymc_model(pymc_model)
times["compile (nutpie)"] = time.perf_counter() - t
fit = model.spec.fit
from lcmodel.inference.sampling import available_cores
t = time.perf_counter()
nutpie.sample(compiled, draws=fit.draws, tune=fit.tune, chains=fit.chains, seed=fit.seed or 1,
              cores=available_cores(fit.chains), progress_bar=False,
              target_accept=fit.target_accept)
times["sample (nutpie, compiled)"] = time.perf_counter() - t
t = time.perf_counter()
result = model.fit(progressbar=False)
times["fit() as a whole"] = time.perf_counter() - t
t = time.perf_counter()
model.fit(progressbar=False, seed=(fit.seed or 1) + 1)
times["fit() again, another seed (compiled model reused)"] = time.perf_counter() - t
t = time.perf_counter()
table = result.estimates()
result.describe()
times["summarise"] = time.perf_counter() - t
with tempfile.TemporaryDirectory() as tmp:
    t = time.perf_counter()
    result.save(Path(tmp) / "out")
    times["write"] = time.perf_counter() - t
d = result.diagnostics()
area = table
times["_quality"] = {
    "max_rhat": float(area["rhat"].max()),
    "min_ess_bulk_area": float(area["ess_bulk"].min()),
    "divergences": int(d.n_divergent),
    "min_ess_bulk_all": float(d.min_ess_bulk),
}
print(json.dumps(times))
"""


def _wall(command: list[str], expect: int = 0, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, env=env)
    wall = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(f"{command} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return wall


def _numpyro_rows(spec: str, tmp: Path) -> list[tuple[str, str]]:
    """``lcmodel fit --sampler numpyro`` with JAX's compilation cache empty, then filled."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    env["XDG_CACHE_HOME"] = str(tmp / "cache")  # lcmodel keeps JAX's cache under it
    rows = []
    for label in ("empty JAX cache", "JAX cache filled"):
        out = tmp / f"numpyro-{label.split()[0]}"
        command = [*LCMODEL, "fit", spec, "--sampler", "numpyro", "--out", str(out), "--quiet"]
        wall = _wall(command, env=env)
        rows.append((f"`lcmodel fit --sampler numpyro` ({label})", f"{wall:.2f}"))
    return rows


def main() -> None:
    """Run every row and print (and optionally write) a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(ROOT / "models" / "trust.toml"))
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    rows.append(("`lcmodel --help`", f"{_wall([*LCMODEL, '--help']):.2f}"))
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / "bad.toml"
        bad.write_text('name = "bad"\ndata = "x.csv"\n[outcome]\ncolumn = "q"\nfamly = "x"\n')
        rows.append(("bad spec: error and exit 2", f"{_wall([*LCMODEL, 'fit', str(bad)], 2):.2f}"))
        typo = Path(tmp) / "typo.toml"
        survey, areas = ROOT / "data" / "survey.csv", ROOT / "data" / "areas.csv"
        typo.write_text(
            f'name = "typo"\ndata = "{survey}"\nareas = "{areas}"\n'
            '[outcome]\ncolumn = "trusst"\n[structure]\narea = "area"\n'
        )
        wall = _wall([*LCMODEL, "fit", str(typo)], 2)
        rows.append(("bad data (column not found): error and exit 2", f"{wall:.2f}"))
        done = subprocess.run(
            [sys.executable, "-c", STAGES, args.spec],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        stages = json.loads(done.stdout.strip().splitlines()[-1])
        quality = stages.pop("_quality")
        rows += [(f"stage: {name}", f"{seconds:.2f}") for name, seconds in stages.items()]
        for label in ("first run", "second run"):
            out = Path(tmp) / label.replace(" ", "-")
            wall = _wall([*LCMODEL, "fit", args.spec, "--out", str(out), "--quiet"])
            rows.append((f"`lcmodel fit` ({label})", f"{wall:.2f}"))
        if importlib.util.find_spec("numpyro") is not None:
            rows += _numpyro_rows(args.spec, Path(tmp))
    lines = ["| what | wall (s) |", "|---|---|", *[f"| {a} | {b} |" for a, b in rows]]
    lines.append("")
    lines.append(
        f"Fit quality: max R-hat of area values {quality['max_rhat']:.3f}, min bulk ESS of area "
        f"values {quality['min_ess_bulk_area']:.0f} (over every parameter "
        f"{quality['min_ess_bulk_all']:.0f}), divergences {quality['divergences']}."
    )
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")


if __name__ == "__main__":
    main()
