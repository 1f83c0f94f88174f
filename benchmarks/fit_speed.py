"""Speed of fitting a spec: binomial cells vs Bernoulli rows, each sampler, cold vs warm cache.

Every configuration runs in a fresh Python process, as ``lcmodel fit`` would: imports, model
building, compilation and sampling are all inside the measured wall time. "Warm" runs the
configuration once to fill the compile caches and reports the second run; "cold" points
PyTensor and Numba at an empty cache folder. The ``lcmodel fit`` rows time the whole command
line (writing the output folder included).

Usage::

    python benchmarks/fit_speed.py                      # models/trust.toml, 4 x 1000 draws
    python benchmarks/fit_speed.py --markdown out.md    # also write the table
    python benchmarks/fit_speed.py --spec models/health.toml --samplers nutpie

Reported per run: wall seconds, sampling seconds (the sampler's own clock), the minimum bulk
ESS over area values and over sampled parameters, and minimum-ESS per second of wall time and
of sampling time. Ratios compare each row with the reference row (nutpie, cells, warm).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(spec: str, sampler: str, aggregate: bool, draws: int, tune: int, chains: int) -> dict:
    """Fit once in this process and return timings and ESS (run in a subprocess)."""
    start = time.perf_counter()
    import arviz as az

    from lcmodel import UnitLevelModel

    model = UnitLevelModel.from_spec(spec)
    result = model.fit(
        progressbar=False,
        sampler=sampler,
        aggregate=aggregate,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=2026,
    )
    wall = time.perf_counter() - start
    posterior = result.idata["posterior"]
    sampling = float(posterior.attrs.get("sampling_time", float("nan")))
    free = [rv.name for rv in model.build().free_RVs]
    ess_params = az.ess(result.idata, var_names=free)
    ess_area = az.ess(result.idata, var_names=["area_value"])
    return {
        "wall": wall,
        "sampling": sampling,
        "min_ess_area": float(ess_area["area_value"].min()),
        "min_ess_params": float(min(ess_params[v].min() for v in free)),
        "divergences": result.diagnostics().n_divergent,
        "max_rhat": result.diagnostics().max_rhat,
    }


def _subprocess(args: list[str], env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cli(spec: str, draws: int, tune: int, chains: int, env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [
                str(Path(sys.executable).parent / "lcmodel"),
                "fit",
                spec,
                "--quiet",
                "--allow-failed-diagnostics",
                "--out",
                out,
                "--draws",
                str(draws),
                "--tune",
                str(tune),
                "--chains",
                str(chains),
            ],
            capture_output=True,
            env=env,
            check=True,
        )
        return {"wall": time.perf_counter() - start}


def _cold_env(folder: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = f"base_compiledir={folder}/pytensor"
    env["NUMBA_CACHE_DIR"] = f"{folder}/numba"
    return env


def main() -> None:
    """Run every configuration and print (and optionally write) the results table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", default=str(ROOT / "models" / "trust.toml"))
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--markdown", help="write the results table to this file")
    parser.add_argument(
        "--samplers", nargs="+", help="samplers to measure (default: every installed one)"
    )
    parser.add_argument("--one", nargs=2, metavar=("SAMPLER", "UNITS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = (args.draws, args.tune, args.chains)
    if args.one:
        sampler, units = args.one
        print(json.dumps(one_run(args.spec, sampler, units == "cells", *sizes)))
        return

    from lcmodel.inference.samplers import available_samplers

    samplers = [s for s in available_samplers() if not args.samplers or s in args.samplers]
    rows = []
    warm_env = dict(os.environ)
    configs = [(s, u) for s in samplers for u in ("cells", "rows")]
    for sampler, units in configs:
        one = ["--spec", args.spec, "--draws", str(args.draws), "--tune", str(args.tune)]
        one += ["--chains", str(args.chains), "--one", sampler, units]
        with tempfile.TemporaryDirectory() as cache:
            cold = _subprocess(one, _cold_env(cache))
        _subprocess(one, warm_env)
        warm = _subprocess(one, warm_env)
        rows.append({"sampler": sampler, "units": units, "cache": "cold", **cold})
        rows.append({"sampler": sampler, "units": units, "cache": "warm", **warm})
        print(f"done {sampler} {units}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as cache:
        rows.append({"sampler": "lcmodel fit (CLI)", "units": "cells", "cache": "cold"})
        rows[-1] |= _cli(args.spec, *sizes, _cold_env(cache))
    _cli(args.spec, *sizes, warm_env)
    rows.append({"sampler": "lcmodel fit (CLI)", "units": "cells", "cache": "warm"})
    rows[-1] |= _cli(args.spec, *sizes, warm_env)

    reference = (
        next(
            r for r in rows if (r["sampler"], r["units"], r["cache"]) == ("nutpie", "cells", "warm")
        )
        if "nutpie" in samplers
        else rows[1]
    )
    lines = [
        f"Spec `{Path(args.spec).name}`, {args.chains} chains x {args.draws} draws "
        f"(+{args.tune} tuning), {os.cpu_count()} CPU cores, Python {sys.version.split()[0]}.",
        "",
        "| sampler | units | cache | wall s | sampling s | min ESS area | min ESS params | "
        "ESS/s wall | ESS/s sampling | divergences | max R-hat | wall vs ref | ESS/s vs ref |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "sampling" not in r:
            lines.append(
                f"| {r['sampler']} | {r['units']} | {r['cache']} | {r['wall']:.1f} |  |  |  |"
                f"  |  |  |  | {r['wall'] / reference['wall']:.2f} |  |"
            )
            continue
        ess = min(r["min_ess_area"], r["min_ess_params"])
        ess_wall, ess_sampling = ess / r["wall"], ess / r["sampling"]
        ref_rate = min(reference["min_ess_area"], reference["min_ess_params"]) / reference["wall"]
        lines.append(
            f"| {r['sampler']} | {r['units']} | {r['cache']} | {r['wall']:.1f} | "
            f"{r['sampling']:.1f} | {r['min_ess_area']:.0f} | {r['min_ess_params']:.0f} | "
            f"{ess_wall:.0f} | {ess_sampling:.0f} | {r['divergences']} | {r['max_rhat']:.3f} | "
            f"{r['wall'] / reference['wall']:.2f} | {ess_wall / ref_rate:.2f} |"
        )
    for sampler in samplers:
        warm = {r["units"]: r for r in rows if r["sampler"] == sampler and r["cache"] == "warm"}
        cells, bern = warm["cells"], warm["rows"]
        speed = bern["sampling"] / cells["sampling"]
        rate = (cells["min_ess_params"] / cells["sampling"]) / (
            bern["min_ess_params"] / bern["sampling"]
        )
        lines += [
            "",
            f"{sampler}: cells sample {speed:.1f}x faster than respondent rows "
            f"(sampling time) and give {rate:.1f}x the minimum ESS per sampling second.",
        ]
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")


if __name__ == "__main__":
    main()
