"""Recovery on a map of several hundred areas: BYM2 against independent area effects.

For each seed, ``lcmodel.simulate.simulate_survey`` draws a one-wave survey over a synthetic
Voronoi map (``--areas`` areas, ``--respondents`` respondents spread unevenly over them) twice:
once with a spatially smooth truth (``spatial_share`` 0.7 of the between-area variance in a
smooth field, the rest independent) and once with no spatial structure (``spatial_share`` 0).
Each survey is fitted with ``models/trust.toml`` (independent area effects) and
``models/trust_bym2.toml`` (BYM2 over the map's queen contiguity), both without their wave
terms, and the area estimates are scored against the known truth: the true share of trust among
each area's respondents' composition (``truth.csv``, column ``sample``: what these specs
estimate, having no population frame).

Reported per fit, all rows in one run: coverage of the 90% intervals, RMSE of the posterior
means, mean interval width, the posterior of ``rho_area`` (BYM2's spatial share), the
diagnostics gate, and PSIS-LOO of the two specs on the same answers (``elpd_diff`` of the
worse model against the better one and its standard error), from ``lcmodel.compare_models``.

Usage::

    python benchmarks/spatial_recovery.py --areas 300 --respondents 6000 --seeds 3 \
        --chains 2 --draws 1000 --tune 1000 --markdown table.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lcmodel import compare_models
from lcmodel.simulate import simulate_survey

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spatial import (  # the benchmarks folder is not a package
    add_sampling_options,
    emit_table,
    sampling_options,
    spec_over,
)

SPECS = {"iid": "trust.toml", "BYM2": "trust_bym2.toml"}
SCENARIOS = {"smooth truth (spatial share 0.7)": 0.7, "no spatial structure": 0.0}


def _score(result: object, truth: pd.DataFrame) -> dict[str, object]:
    """Coverage, RMSE and width of the area estimates against the true shares."""
    table = result.estimates().set_index("area")
    true = truth.query("indicator == 'trust'").set_index("area")["sample"].reindex(table.index)
    inside = (table["lower"] <= true) & (true <= table["upper"])
    diagnostics = result.diagnostics()
    row: dict[str, object] = {
        "coverage": float(inside.mean()),
        "rmse": float(np.sqrt(((table["mean"] - true) ** 2).mean())),
        "width": float((table["upper"] - table["lower"]).mean()),
        "gate": "passed" if diagnostics.passed else "FAILED",
        "rhat": diagnostics.max_rhat,
        "divergent": diagnostics.n_divergent,
        "rho": "",
    }
    posterior = result.idata["posterior"]
    if "rho_area" in posterior:
        rho = posterior["rho_area"].to_numpy().ravel()
        low, high = np.quantile(rho, [0.05, 0.95])
        row["rho"] = f"{rho.mean():.2f} [{low:.2f}, {high:.2f}]"
    return row


def main() -> None:
    """Simulate, fit both specs per scenario and seed, and print one markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=300)
    parser.add_argument("--respondents", type=int, default=6000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--markdown", help="also write the table to this file")
    add_sampling_options(parser)
    args = parser.parse_args()
    sampling = sampling_options(args)
    lines = [
        "| truth | seed | area effects | 90% coverage | RMSE | mean width | rho_area "
        "(90% interval) | gate | max R-hat | divergences | elpd_diff (se) | wall (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scenario, share in SCENARIOS.items():
        for seed in range(1, args.seeds + 1):
            survey = simulate_survey(
                n_respondents=args.respondents,
                n_areas=args.areas,
                n_waves=1,
                seed=seed,
                spatial_share=share,
            )
            with tempfile.TemporaryDirectory() as folder:
                survey.write(folder)
                results, rows = {}, {}
                for label, spec in SPECS.items():
                    model = spec_over(spec, Path(folder), waves=False)
                    start = time.perf_counter()
                    results[label] = model.fit(progressbar=False, seed=seed, extend=0, **sampling)
                    rows[label] = _score(results[label], survey.truth)
                    rows[label]["wall"] = time.perf_counter() - start
                comparison = compare_models(list(results.values()))
            loo = comparison.table.set_index("model")
            for model_name, row in loo.iterrows():
                label = "BYM2" if "bym2" in str(model_name) else "iid"
                diff = f"{row['elpd_diff']:.1f} ({row['dse']:.1f})"
                rows[label]["loo"] = "best" if row["elpd_diff"] == 0 else diff
            for label, row in rows.items():
                lines.append(
                    f"| {scenario} | {seed} | {label} | {row['coverage']:.3f} | "
                    f"{row['rmse']:.4f} | {row['width']:.3f} | {row['rho']} | {row['gate']} | "
                    f"{row['rhat']:.3f} | {row['divergent']} | {row['loo']} | {row['wall']:.0f} |"
                )
                print(lines[-1], flush=True)
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
