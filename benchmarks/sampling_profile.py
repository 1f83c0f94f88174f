"""Where sampling time goes at scale: gradient cost, leapfrog steps, and the wave terms.

Sampling time is (leapfrog steps per draw) x (draws + tuning) x (cost of one log-density
gradient), plus what is done once per draw (the deterministics: area values, effects) and the
sampler's own bookkeeping. This script measures each factor for ``models/trust.toml`` on
simulated surveys (``lcmodel.simulate.simulate_survey``, 6 waves, age band x sex), fitted
with and without the spec's wave terms:

- **gradient**: the median time of one evaluation of the log density and its gradient,
  compiled by PyTensor's Numba backend as nutpie compiles it (200 evaluations at the
  initial point, one core), and that per cell;
- **steps per draw** and **tree depth**: means over the kept draws (nutpie's ``n_steps``,
  ``depth``), and the final step size;
- **sampling**: the sampler's wall time, and the share of it that the gradients of every
  kept draw and tuning step account for (steps per draw x (draws + tune) x gradient, per
  chain, the chains running side by side on ``--chains`` cores);
- **min bulk ESS** of the area values and that per second of sampling.

Usage::

    python benchmarks/sampling_profile.py --workloads 360x150000,2000x200000 --chains 2 \
        --draws 500 --tune 500 --markdown table.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from lcmodel.inference.sampling import _compiled_nutpie
from lcmodel.simulate import simulate_survey

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spatial import add_sampling_options, emit_table, sampling_options, spec_over

WAVES = 6
GRADIENT_EVALUATIONS = 200


def _gradient_seconds(pymc_model: object) -> tuple[float, int]:
    """Median seconds of one log density and gradient (PyTensor's Numba backend, as nutpie).

    Also the number of unconstrained parameters.
    """
    from pymc.blocking import DictToArrayBijection

    function = pymc_model.logp_dlogp_function(ravel_inputs=True, mode="NUMBA")
    function.set_extra_values({})
    point = DictToArrayBijection.map(pymc_model.initial_point()).data
    function(point)  # the first call may still compile
    times = []
    for _ in range(GRADIENT_EVALUATIONS):
        start = time.perf_counter()
        function(point)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), point.size


def profile(folder: Path, waves: bool, sampling: dict[str, int], seed: int) -> dict[str, object]:
    """Measure one fit of the trust spec over ``folder``'s survey."""
    model = spec_over("trust.toml", folder, waves=waves)
    cells = len(model.units())
    pymc_model = model.build()
    gradient, parameters = _gradient_seconds(pymc_model)
    _compiled_nutpie(pymc_model)  # compiled outside the sampling time; fit() reuses it
    result = model.fit(progressbar=False, seed=seed, extend=0, **sampling)
    stats = result.idata["sample_stats"].to_dataset()
    settings = result.spec.fit
    steps = float(stats["n_steps"].mean())
    sample = float(result.metadata["attempts"][-1]["wall_seconds"])
    ess = float(result.estimates()["ess_bulk"].min())
    explained = steps * (settings.draws + settings.tune) * gradient
    return {
        "cells": cells,
        "parameters": parameters,
        "gradient_ms": 1000 * gradient,
        "per_cell_us": 1e6 * gradient / cells,
        "steps": steps,
        "depth": float(stats["depth"].mean()),
        "step_size": float(stats["step_size"].isel(draw=-1).mean()),
        "sample": sample,
        "explained": explained / sample,
        "ess": ess,
        "ess_per_s": ess / sample,
        "rhat": result.diagnostics().max_rhat,
    }


def main() -> None:
    """Simulate each workload once and profile the fits with and without waves."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="360x150000,2000x200000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--markdown", help="also write the table to this file")
    add_sampling_options(parser)
    args = parser.parse_args()
    sampling = sampling_options(args)
    lines = [
        "| workload | wave terms | cells (per area x wave) | parameters | gradient (ms) | "
        "per cell (us) | steps per draw | tree depth | step size | sampling (s) | "
        "gradients' share | min ESS areas | ESS/s | max R-hat |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for workload in args.workloads.split(","):
        areas, respondents = (int(x) for x in workload.split("x"))
        survey = simulate_survey(
            n_respondents=respondents, n_areas=areas, n_waves=WAVES, seed=args.seed
        )
        with tempfile.TemporaryDirectory() as folder:
            survey.write(folder)
            for waves in (True, False):
                row = profile(Path(folder), waves, sampling, args.seed)
                per = row["cells"] / (areas * (WAVES if waves else 1))
                lines.append(
                    f"| {areas:,} x {respondents:,} | {'yes' if waves else 'no'} | "
                    f"{row['cells']:,} ({per:.1f}) | {row['parameters']:,} | "
                    f"{row['gradient_ms']:.2f} | {row['per_cell_us']:.3f} | "
                    f"{row['steps']:.1f} | {row['depth']:.2f} | {row['step_size']:.3f} | "
                    f"{row['sample']:.1f} | {row['explained']:.2f} | {row['ess']:.0f} | "
                    f"{row['ess_per_s']:.1f} | {row['rhat']:.3f} |"
                )
                print(lines[-1], flush=True)
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
