"""ADVI against NUTS on one large survey: time, and how far apart their area intervals are.

One survey is simulated (``lcmodel.simulate.simulate_survey``: ``--areas`` areas,
``--respondents`` respondents, one wave) and ``models/trust.toml`` (without its wave terms) is
fitted to it twice, with NUTS (``--chains`` x ``--draws`` after ``--tune``) and with
``method = "advi"`` (``chains x draws`` draws from the approximation). Per method: wall time,
and the area estimates scored against the known truth (coverage of the 90% intervals, RMSE).
Then ADVI's intervals against NUTS's, area by area:

- **NUTS mass inside ADVI's interval**: the share of an area's NUTS draws that fall inside
  ADVI's 90% interval (0.90 when the two agree; less when ADVI's is too narrow or shifted);
- **width ratio**: ADVI's interval width over NUTS's;
- **shift**: ``|mean_ADVI - mean_NUTS| / sd_NUTS``;

and the two posteriors of ``sigma_area``, the between-area sd (a hierarchical variance:
where mean-field approximations are known to be too narrow).

Usage::

    python benchmarks/approximate.py --areas 2000 --respondents 200000 --chains 2 \
        --draws 500 --tune 500 --markdown table.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lcmodel.results.estimates import row_draws
from lcmodel.simulate import simulate_survey

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spatial import add_sampling_options, emit_table, sampling_options, spec_over


def _score(result: object, truth: pd.DataFrame) -> dict[str, float]:
    """Coverage and RMSE of the area estimates against the true shares."""
    table = result.estimates().set_index("area")
    true = truth.query("indicator == 'trust'").set_index("area")["sample"].reindex(table.index)
    inside = (table["lower"] <= true) & (true <= table["upper"])
    return {
        "coverage": float(inside.mean()),
        "rmse": float(np.sqrt(((table["mean"] - true) ** 2).mean())),
        "width": float((table["upper"] - table["lower"]).mean()),
    }


def agreement(advi: object, nuts: object) -> pd.DataFrame:
    """Per area: NUTS draws inside ADVI's interval, width ratio and shift in NUTS sds."""
    approximate, exact = advi.estimates(), nuts.estimates()
    draws, _ = row_draws(nuts.posterior["area_value"], exact)
    inside = (draws >= approximate["lower"].to_numpy()[:, None]) & (
        draws <= approximate["upper"].to_numpy()[:, None]
    )
    return pd.DataFrame(
        {
            "nuts_mass": inside.mean(axis=1),
            "width_ratio": (approximate["upper"] - approximate["lower"])
            / (exact["upper"] - exact["lower"]),
            "shift": (approximate["mean"] - exact["mean"]).abs() / exact["sd"],
        }
    )


def _spread(values: pd.Series) -> str:
    low, mid, high = np.quantile(values, [0.05, 0.5, 0.95])
    return f"{mid:.2f} ({low:.2f}-{high:.2f})"


def main() -> None:
    """Simulate, fit with NUTS and ADVI, and print one markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=2000)
    parser.add_argument("--respondents", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--markdown", help="also write the table to this file")
    add_sampling_options(parser)
    args = parser.parse_args()
    sampling = sampling_options(args)
    survey = simulate_survey(
        n_respondents=args.respondents, n_areas=args.areas, n_waves=1, seed=args.seed
    )
    results, rows = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        survey.write(folder)
        model = spec_over("trust.toml", Path(folder), waves=False)
        for method in ("nuts", "advi"):
            start = time.perf_counter()
            result = model.fit(
                progressbar=False, seed=args.seed, extend=0, method=method, **sampling
            )
            rows[method] = _score(result, survey.truth) | {"wall": time.perf_counter() - start}
            rows[method]["steps"] = result.metadata["attempts"][-1].get("steps", "")
            results[method] = result
            print(method, rows[method], result.diagnostics().message(), flush=True)
    compared = agreement(results["advi"], results["nuts"])
    sigma = {
        name: np.quantile(result.posterior["sigma_area"].to_numpy().ravel(), [0.05, 0.5, 0.95])
        for name, result in results.items()
    }
    nuts, advi = rows["nuts"], rows["advi"]
    lines = [
        f"{args.areas} areas x {args.respondents} respondents, seed {args.seed}",
        "",
        "| method | wall (s) | ADVI steps | 90% coverage of the truth | RMSE | mean width |",
        "|---|---|---|---|---|---|",
        *(
            f"| {name} | {row['wall']:.0f} | {row['steps']} | {row['coverage']:.3f} | "
            f"{row['rmse']:.4f} | {row['width']:.3f} |"
            for name, row in (("NUTS", nuts), ("ADVI (approximate)", advi))
        ),
        "",
        "| ADVI against NUTS, per area: median (5%-95%) | |",
        "|---|---|",
        f"| NUTS draws inside ADVI's 90% interval | {_spread(compared['nuts_mass'])} |",
        f"| width ratio ADVI / NUTS | {_spread(compared['width_ratio'])} |",
        f"| shift of the mean, NUTS sds | {_spread(compared['shift'])} |",
        f"| speed-up (NUTS wall / ADVI wall) | {nuts['wall'] / advi['wall']:.1f} |",
        "",
        "| sigma_area | median | 90% interval | width |",
        "|---|---|---|---|",
        *(
            f"| {name} | {q[1]:.3f} | {q[0]:.3f}-{q[2]:.3f} | {q[2] - q[0]:.3f} |"
            for name, q in (("NUTS", sigma["nuts"]), ("ADVI", sigma["advi"]))
        ),
    ]
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
