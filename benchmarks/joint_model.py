"""The joint model of the four binary indicators against four separate fits, in one run.

Times ``lcmodel fit`` (the whole command line, writing included, warm compile caches: each
command runs twice and the second run is reported) for the joint spec and for each of its
indicators, reads the joint fit's diagnostics, then runs ``lcmodel compare`` once and reports
what the joint model buys: interval widths in the smallest areas and PSIS-LOO.

Usage::

    python benchmarks/joint_model.py                      # models/social_joint.toml
    python benchmarks/joint_model.py --markdown out.md    # also write the tables
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
LCMODEL = str(Path(sys.executable).parent / "lcmodel")


def _run(command: list[str], out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [LCMODEL, *command, "--out", str(out), "--quiet"],
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - start


def _warm_wall(command: list[str], folder: Path) -> float:
    _run(command, folder / "warm-up")
    return _run(command, folder / "timed")


def main() -> None:
    """Run the benchmark and print (and optionally write) markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(ROOT / "models" / "social_joint.toml"))
    parser.add_argument("--markdown", help="also write the tables to this file")
    args = parser.parse_args()

    from lcmodel.spec import load_joint_spec

    spec = load_joint_spec(args.spec)
    lines = [
        f"Spec `{Path(args.spec).name}`: {', '.join(spec.names)}; "
        f"{spec.fit.chains} chains x {spec.fit.draws} draws ({spec.fit.tune} tuning).",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        joint_wall = _warm_wall(["fit", args.spec], folder / "joint")
        diagnostics = json.loads((folder / "joint" / "timed" / "diagnostics.json").read_text())
        separate = {}
        for name in spec.names:
            path = str(Path(args.spec).parent / f"{name}.toml")
            separate[name] = _warm_wall(["fit", path], folder / name)
        lines += [
            "| fit | `lcmodel fit` wall (s, warm) | max R-hat | min bulk ESS | min tail ESS "
            "| divergences |",
            "|---|---|---|---|---|---|",
            f"| joint ({len(spec.names)} indicators) | {joint_wall:.1f} | "
            f"{diagnostics['max_rhat']:.3f} | {diagnostics['min_ess_bulk']:.0f} | "
            f"{diagnostics['min_ess_tail']:.0f} | {diagnostics['n_divergent']} |",
        ]
        lines += [f"| {name} alone | {wall:.1f} | | | | |" for name, wall in separate.items()]
        lines += [
            f"| the {len(separate)} separate fits together | "
            f"{sum(separate.values()):.1f} | | | | |",
            "",
        ]

        _run(["compare", args.spec], folder / "compare")
        loo = pd.read_csv(folder / "compare" / "loo.csv")
        widths = pd.read_csv(folder / "compare" / "widths.csv")
    headline = widths[widths["headline"]]
    smallest = headline.groupby("area")["n"].min().nsmallest(3).index
    small = headline[headline["area"].isin(smallest)].sort_values(["n", "indicator"])
    lines += [
        "Interval widths (90% equal-tailed, headline share), joint / separate:",
        "",
        "| area | indicator | n | width joint | width separate | ratio |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.area} ({r.name}) | {r.indicator} | {r.n} | {r.width_joint:.3f} | "
        f"{r.width_separate:.3f} | {r.ratio:.2f} |"
        for r in small.itertuples(index=False)
    ]
    lines += [
        "",
        f"Median ratio: {small['ratio'].median():.2f} in the 3 smallest areas, "
        f"{headline['ratio'].median():.2f} over all {headline['area'].nunique()} areas.",
        "",
        "PSIS-LOO by answer (elpd; difference = joint - separate, positive favours joint):",
        "",
        "| indicator | answers | elpd joint | elpd separate | difference | se | "
        "Pareto k > 0.7 (joint, separate) |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.indicator} | {r.answers} | {r.elpd_joint:.1f} | {r.elpd_separate:.1f} | "
        f"{r.elpd_diff:+.1f} | {r.se_diff:.1f} | {r.k_high_joint}, {r.k_high_separate} |"
        for r in loo.itertuples(index=False)
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")


if __name__ == "__main__":
    main()
