"""Spatial area effects against independent ones: wall time and sampling quality.

Fits ``models/trust.toml`` (independent area effects) and ``models/trust_bym2.toml`` (BYM2 over
the shipped synthetic map) with their default settings (4 chains x 1000 draws after 1000
tuning steps) for a few seeds, in one run, and reports per fit the wall time of sampling (the
model compiled once per spec and reused across seeds, so the seeds after the first measure
sampling alone), the diagnostics gate, the smallest bulk ESS over every area value and over
``sigma_area`` and ``rho_area``, the largest R-hat, divergences, and the posterior of
``rho_area``. The issue's target: BYM2 at most 1.5 times the wall time of the independent fit,
R-hat <= 1.01, bulk ESS >= 400 for ``rho_area``, ``sigma_area`` and every area value, no
divergences.

At scale (the issue's second target: BYM2 at 2,000 areas x 200,000 respondents within 2x the
independent fit), point ``--data`` at a folder written by ``lcmodel simulate`` (survey, areas,
benchmarks and ``areas.geojson``); the specs are read with their files replaced by that
folder's, ``--no-waves`` drops the wave terms (a one-wave survey) and ``--chains``, ``--draws``
and ``--tune`` shorten the runs.

Usage::

    python benchmarks/spatial.py --seeds 3 --markdown table.md
    lcmodel simulate --out big --areas 2000 --respondents 200000 --waves 1 --spatial-share 0.7
    python benchmarks/spatial.py --data big --no-waves --seeds 1 --chains 2 --draws 500 --tune 500
"""

from __future__ import annotations

import argparse
import time
import tomllib
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np

from lcmodel import UnitLevelModel
from lcmodel.spec import parse_spec

ROOT = Path(__file__).resolve().parents[1]
SPECS = {"independent (trust)": "trust.toml", "BYM2 (trust_bym2)": "trust_bym2.toml"}


def table_file(folder: Path, name: str) -> Path:
    """``name.parquet`` in ``folder`` when ``lcmodel simulate --format parquet`` wrote it."""
    parquet = folder / f"{name}.parquet"
    return parquet if parquet.is_file() else folder / f"{name}.csv"


def spec_over(spec: str, data: Path | None, waves: bool) -> UnitLevelModel:
    """The shipped spec, or the same spec over the files (CSV or Parquet) of a simulated folder."""
    if data is None and waves:
        return UnitLevelModel.from_spec(ROOT / "models" / spec)
    raw: dict[str, Any] = tomllib.loads((ROOT / "models" / spec).read_text())
    folder = (data or ROOT / "data").resolve()
    raw["data"], raw["areas"] = str(table_file(folder, "survey")), str(table_file(folder, "areas"))
    raw["benchmark"]["table"] = str(table_file(folder, "benchmarks"))
    if "adjacency" in raw["structure"]:
        raw["structure"]["adjacency"] = str(folder / "areas.geojson")
    if not waves:
        raw["structure"].pop("wave", None)
    return UnitLevelModel.from_spec(parse_spec(raw, f"{spec} over {folder}"))


SAMPLING = ("chains", "draws", "tune")
"""The sampling settings a benchmark may shorten from the command line."""


def add_sampling_options(parser: argparse.ArgumentParser) -> None:
    """``--chains``, ``--draws`` and ``--tune`` (each defaulting to the spec's)."""
    for name in SAMPLING:
        parser.add_argument(f"--{name}", type=int, help=f"{name} (default: the spec's)")


def sampling_options(args: argparse.Namespace) -> dict[str, int]:
    """The sampling settings given on the command line, as ``fit()`` overrides."""
    return {name: getattr(args, name) for name in SAMPLING if getattr(args, name)}


def emit_table(lines: list[str], markdown: str | None) -> None:
    """Print a markdown table and, when asked, write it to ``markdown``."""
    table = "\n".join(lines)
    print(table)
    if markdown:
        Path(markdown).write_text(table + "\n")


def _fit(model: UnitLevelModel, seed: int, sampling: dict[str, int]) -> dict:
    start = time.perf_counter()
    result = model.fit(progressbar=False, seed=seed, extend=0, **sampling)
    wall = time.perf_counter() - start
    posterior = result.idata["posterior"].to_dataset()
    ess = az.ess(posterior[["area_value", "sigma_area"]])
    row = {
        "wall": wall,
        "passed": result.diagnostics().passed,
        "ess_area": float(ess["area_value"].min()),
        "ess_sigma": float(ess["sigma_area"]),
        "rhat": result.diagnostics().max_rhat,
        "divergent": result.diagnostics().n_divergent,
        "rho": "",
    }
    if "rho_area" in posterior:
        rho = posterior["rho_area"].to_numpy().ravel()
        row["ess_rho"] = float(az.ess(posterior[["rho_area"]])["rho_area"])
        low, high = np.quantile(rho, [0.05, 0.95])
        row["rho"] = f"{rho.mean():.2f} [{low:.2f}, {high:.2f}]"
    return row


def main() -> None:
    """Fit both specs for each seed and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--data", type=Path, help="a folder written by lcmodel simulate")
    parser.add_argument("--no-waves", action="store_true", help="fit without wave terms")
    add_sampling_options(parser)
    args = parser.parse_args()
    sampling = sampling_options(args)
    lines = [
        "| area effects | seed | wall (s) | gate | max R-hat | min bulk ESS of area values "
        "| ESS sigma_area | ESS rho_area | divergences | rho_area (90% interval) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, spec in SPECS.items():
        start = time.perf_counter()
        model = spec_over(spec, args.data, waves=not args.no_waves)
        print(f"{label}: data read and checked in {time.perf_counter() - start:.1f} s", flush=True)
        for seed in range(1, args.seeds + 1):
            row = _fit(model, seed, sampling)
            gate = "passed" if row["passed"] else "FAILED"
            lines.append(
                f"| {label} | {seed} | {row['wall']:.1f} | {gate}"
                f" | {row['rhat']:.3f} | {row['ess_area']:.0f} | {row['ess_sigma']:.0f} | "
                f"{row.get('ess_rho', float('nan')):.0f} | {row['divergent']} | {row['rho']} |"
            )
            print(lines[-1], flush=True)
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
