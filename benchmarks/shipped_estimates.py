"""Fit every shipped spec and compare the estimates with those of another checkout.

A refactor must leave users' numbers alone. ``fit`` writes each shipped spec's
``estimates.csv`` (its own seed, the spec's draws) into a folder with ``lcmodel fit``; ``compare``
joins two such folders and reports, per spec, the largest difference of posterior means in
posterior sds, ``|mean_a - mean_b| / sd_a``, and of interval bounds.

Usage::

    python benchmarks/shipped_estimates.py fit OUT                 # this checkout
    PYTHONPATH=/other/checkout/src python benchmarks/shipped_estimates.py fit OLD
    python benchmarks/shipped_estimates.py compare OLD OUT --markdown table.md
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
KEYS = ["indicator", "area", "quantity"]


def fit(out: Path) -> None:
    """Fit every shipped spec into ``out/<spec>``."""
    out.mkdir(parents=True, exist_ok=True)
    for spec in sorted((ROOT / "models").glob("*.toml")):
        start = time.perf_counter()
        command = [sys.executable, "-m", "lcmodel.cli", "fit", str(spec), "--quiet"]
        command += ["--out", str(out / spec.stem), "--allow-failed-diagnostics"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr[-300:]}"
        print(f"{spec.stem}: {time.perf_counter() - start:.1f} s, {status}", flush=True)


def _estimates(folder: Path) -> pd.DataFrame:
    table = pd.read_csv(folder / "estimates.csv")
    if "indicator" not in table.columns:
        table.insert(0, "indicator", folder.name)
    return table.set_index(KEYS)


def compare(old: Path, new: Path) -> str:
    """A markdown table of the largest differences per spec."""
    lines = [
        "| spec | rows | max abs(mean diff) / sd | max abs(bound diff) / sd | max abs(mean diff) |",
        "|---|---|---|---|---|",
    ]
    worst = 0.0
    for folder in sorted(p for p in new.iterdir() if (p / "estimates.csv").is_file()):
        if not (old / folder.name / "estimates.csv").is_file():
            lines.append(f"| {folder.name} | not in {old} | | | |")
            continue
        a, b = _estimates(old / folder.name), _estimates(folder)
        both = a.merge(b, left_index=True, right_index=True, suffixes=("_old", "_new"))
        sd = both["sd_old"]
        mean = ((both["mean_new"] - both["mean_old"]).abs() / sd).max()
        bound = max(
            ((both[f"{c}_new"] - both[f"{c}_old"]).abs() / sd).max() for c in ("lower", "upper")
        )
        raw = (both["mean_new"] - both["mean_old"]).abs().max()
        worst = max(worst, mean)
        lines.append(f"| {folder.name} | {len(both)} | {mean:.3f} | {bound:.3f} | {raw:.2g} |")
    lines.append("")
    lines.append(f"Largest difference of posterior means over every spec: {worst:.3f} sd.")
    return "\n".join(lines)


def main() -> None:
    """Command line: ``fit OUT`` or ``compare OLD NEW``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fit_parser = sub.add_parser("fit")
    fit_parser.add_argument("out", type=Path)
    compare_parser = sub.add_parser("compare")
    compare_parser.add_argument("old", type=Path)
    compare_parser.add_argument("new", type=Path)
    compare_parser.add_argument("--markdown")
    args = parser.parse_args()
    if args.command == "fit":
        fit(args.out)
        return
    table = compare(args.old, args.new)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")


if __name__ == "__main__":
    main()
