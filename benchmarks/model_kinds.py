"""Wall time of ``lcmodel fit`` for each kind of model on the shipped data, in one run.

Each spec is fitted twice from the command line (fresh processes, whole command including
writing the output folder); the second, warm-cache run is reported with the fit's diagnostics.
The unit-level ``trust`` spec is the reference row for the ratios.

Usage::

    python benchmarks/model_kinds.py                      # the default specs
    python benchmarks/model_kinds.py --markdown out.md    # also write the table
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LCMODEL = str(Path(sys.executable).parent / "lcmodel")
SPECS = {
    "trust": "unit-level (reference)",
    "trust_mrp": "unit-level, poststratified to the frame (MRP)",
    "trust_waves": "unit-level with area x wave random walk",
    "trust_fh": "Fay-Herriot, binomial, from the survey's direct estimates",
}


def _fit(spec: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [LCMODEL, "fit", str(spec), "--out", str(out), "--quiet"],
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print (and optionally write) a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    lines = [
        "| spec | model | `lcmodel fit` wall (s, warm) | ratio to `trust` | max R-hat "
        "| min bulk ESS | divergences |",
        "|---|---|---|---|---|---|---|",
    ]
    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        for name, label in SPECS.items():
            spec = ROOT / "models" / f"{name}.toml"
            _fit(spec, Path(tmp) / f"{name}-warm-up")
            wall = _fit(spec, Path(tmp) / name)
            reference = reference or wall
            check = json.loads((Path(tmp) / name / "diagnostics.json").read_text())
            lines.append(
                f"| `{name}` | {label} | {wall:.1f} | {wall / reference:.2f} | "
                f"{check['max_rhat']:.3f} | {check['min_ess_bulk']:.0f} | {check['n_divergent']} |"
            )
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")


if __name__ == "__main__":
    main()
