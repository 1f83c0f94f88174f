"""Does the default fit pass its own gate? Area-effect parameterisations over many seeds.

The plain model ``trust ~ age_band + sex + (1 | area)`` (no waves, no area covariates) is fitted
with default settings (4 chains x 1000 draws after 1000 tuning steps, nutpie) to four survey
shapes, for 20 seeds and these set-ups (``--variants`` picks some):

- ``independent``: independent non-centred area effects (the default before zero-sum effects);
- ``one choice``: zero-sum effects, all centred when most areas' data outweigh the prior, else
  all non-centred (the default before the per-area choice);
- ``per area``: zero-sum effects, each area centred when its own data outweigh the prior (the
  default now);
- ``per area, low-rank``: the default with nutpie's low-rank mass matrix adaptation.
- ``per area, independent``: independent effects (no zero-sum), each area centred or not by its
  own data; a centred area's intercept is centred on the intercept plus its area covariates'
  term (hierarchical centring).

Shapes:

- ``shipped``: the shipped example survey (20 areas, 12-482 answers each);
- ``few large``: 6 areas with about 700 answers each;
- ``many tiny``: 150 areas with about 10 answers each;
- ``mixed``: 8 areas with about 400 answers each and 52 with 3-6 answers;
- ``shipped + area covariates``: the shipped survey with ``deprivation_decile`` and ``nation``
  as area covariates.

The model is compiled once per shape and parameterisation and sampled once per seed. Reported:
how many seeds pass the gate (R-hat <= 1.01, bulk and tail ESS >= 400 over every free
parameter and area value, no divergences, E-BFMI >= 0.3), and the smallest, median and largest
minimum bulk ESS over all parameters, and ESS per second of sampling.

Usage::

    python benchmarks/parameterisation.py                 # 20 seeds
    python benchmarks/parameterisation.py --seeds 4 --markdown out.md
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lcmodel.data.survey import load_survey_data
from lcmodel.inference.diagnostics import compute_diagnostics
from lcmodel.inference.sampling import available_cores
from lcmodel.models.unit_level import UnitLevelModel
from lcmodel.simulate import simulate_survey
from lcmodel.spec import parse_spec

ROOT = Path(__file__).resolve().parents[1]
SHAPES = {
    "shipped": None,
    "few large": (4200, 6),
    "many tiny": (1500, 150),
    "mixed": (6000, 60),
    "shipped + area covariates": None,
}
"""Shape -> (respondents, areas) to simulate (``None``: the shipped data)."""

AREA_COVARIATES = {"shipped + area covariates": ["deprivation_decile", "nation"]}
"""Shapes whose model also has area covariates (columns of the areas table)."""

MIXED_LARGE = 8
"""In the ``mixed`` shape, the areas kept whole; the others keep 3-6 answers."""

VARIANTS = {
    "independent": (False, "non-centred", "diagonal"),
    "one choice": (True, "one choice", "diagonal"),
    "per area": (True, "auto", "diagonal"),
    "per area, low-rank": (True, "auto", "low_rank"),
    "per area, independent": (False, "auto", "diagonal"),
}
"""Label -> (structure.zero_sum_areas, fit.centring, fit.mass_matrix); ``one choice`` is the
rule before the per-area choice, applied here as ``centred`` or ``non-centred``."""


def _spec(folder: Path, variant: tuple[bool, str, str], area_covariates: list[str]) -> dict:
    zero_sum, centring, mass_matrix = variant
    areas = {"areas": str(folder / "areas.csv")} if area_covariates else {}
    return areas | {
        "name": "trust_plain",
        "data": str(folder / "survey.csv"),
        "outcome": {
            "column": "trust",
            "success": ["Many can be trusted", "Some can be trusted"],
            "failure": ["A few can be trusted", "None can be trusted"],
        },
        "structure": {
            "area": "area",
            "covariates": ["age_band", "sex"],
            "zero_sum_areas": zero_sum,
            "area_covariates": area_covariates,
        },
        "fit": {
            "centring": "auto" if centring == "one choice" else centring,
            "mass_matrix": mass_matrix,
        },
    }


def _one_choice(model: UnitLevelModel) -> str:
    """The centring rule before the per-area choice: all areas as most areas would choose."""
    return "centred" if model.centred().mean() > 0.5 else "non-centred"


def _mixed(folder: Path) -> None:
    """Cut all but the :data:`MIXED_LARGE` largest areas of a survey down to 3-6 answers."""
    survey = pd.read_csv(folder / "survey.csv")
    sizes = survey["area"].value_counts()
    large = set(sizes.index[:MIXED_LARGE])
    rng = np.random.default_rng(11)
    kept = [
        group if area in large else group.head(int(rng.integers(3, 7)))
        for area, group in survey.groupby("area", sort=False)
    ]
    pd.concat(kept).to_csv(folder / "survey.csv", index=False)


def _run(shape: str, folder: Path, variant: tuple[bool, str, str], seeds: int) -> dict:
    import nutpie

    spec = parse_spec(_spec(folder, variant, AREA_COVARIATES.get(shape, [])), source=shape)
    model = UnitLevelModel(spec, load_survey_data(spec))
    if variant[1] == "one choice":
        model = model.with_fit_settings(centring=_one_choice(model))
    centred = model.centred()
    pymc_model = model.build()
    compiled = nutpie.compile_pymc_model(pymc_model)
    checked = model.checked_variables(pymc_model)
    fit = spec.fit
    results = []
    for seed in range(seeds):
        start = time.perf_counter()
        idata = nutpie.sample(
            compiled,
            draws=fit.draws,
            tune=fit.tune,
            chains=fit.chains,
            seed=seed,
            cores=available_cores(fit.chains),
            progress_bar=False,
            target_accept=fit.target_accept,
            adaptation="low_rank" if fit.mass_matrix == "low_rank" else "diag",
        )
        wall = time.perf_counter() - start
        diagnostics = compute_diagnostics(idata, checked)
        results.append((diagnostics.passed, diagnostics.min_ess_bulk, wall, diagnostics))
    ess = np.array([r[1] for r in results])
    walls = np.array([r[2] for r in results])
    failures = sorted({f for r in results for f in r[3].failures})
    return {
        "passed": sum(r[0] for r in results),
        "seeds": seeds,
        "ess_min": ess.min(),
        "ess_median": float(np.median(ess)),
        "ess_max": ess.max(),
        "ess_per_s": float(np.median(ess / walls)),
        "failures": failures[:3],
        "centred": f"{int(centred.sum())} of {len(centred)}",
    }


def main() -> None:
    """Run every shape and parameterisation; print (and optionally write) a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    lines = [
        "| survey | set-up | areas centred | gate passed "
        "| min bulk ESS: smallest / median / largest | ESS per s (median) |",
        "|---|---|---|---|---|---|",
    ]
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes:
            size = SHAPES[shape]
            folder = ROOT / "data"
            if size is not None:
                folder = Path(tmp) / shape.replace(" ", "-")
                simulate_survey(
                    n_respondents=size[0], n_areas=size[1], seed=11, spatial_share=0.0
                ).write(folder)
                if shape == "mixed":
                    _mixed(folder)
            for label in args.variants:
                row = _run(shape, folder, VARIANTS[label], args.seeds)
                lines.append(
                    f"| {shape} | {label} | {row['centred']} | {row['passed']} of {row['seeds']} | "
                    f"{row['ess_min']:.0f} / {row['ess_median']:.0f} / {row['ess_max']:.0f} | "
                    f"{row['ess_per_s']:.0f} |"
                )
                print(lines[-1], flush=True)
                if row["failures"]:
                    notes.append(f"- {shape}, {label}: {'; '.join(row['failures'])}")
    table = "\n".join([*lines, "", *notes] if notes else lines)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")


if __name__ == "__main__":
    main()
