"""Coverage of the real area values: finite-population estimands and modelled variances.

Populations of units with known answers (``lcmodel.simulate.population``: areas of 10 to
5,000 units, an area covariate, three strata with different outcomes) are each sampled once
(sampling fractions 1%-50% per area, strata sampled at rates 0.5 / 2 / 1, so sampling is
informative; about 10% of areas unsampled). A new population per replicate: with one fixed
population, every sample shares the same area effects, and the coverage of one population's
few large areas (which settle ``sigma_area``) would stand for all. Each sample is fitted by
four models, each in its old and its new form, and every 90% interval is checked against the
area's *finite* population value (the mean over all its units):

- binary MRP (``y ~ stratum + deprivation + (1 | area)``, ``[frame]`` of area x stratum
  counts): ``estimand = "superpopulation"`` (the expected share over the frame: the default
  before finite-population estimands) vs ``"finite_population"`` (the default now);
- Gaussian unit-level (``score ~ stratum + deprivation + (1 | area)``, ``[population]`` with
  stratum shares and sizes): the same two estimands;
- binomial Fay-Herriot of the weighted direct shares of ``y`` and normal Fay-Herriot of the
  weighted direct means of ``score``, with the area's deprivation and its census stratum
  shares as covariates (the composition the unit-level models get from the frame):
  ``sampling_variance = "known"`` with the model's expected area value (the defaults before)
  vs ``"modelled"`` with the areas' population sizes, so that the area value is the finite
  population's (``[area_level] population``; the defaults now when sizes are given).

Coverage is reported for all areas and by the number of sampled units (1-19, 20-99, 100+,
unsampled), pooled over the samples, with the RMSE against the finite values.

Usage::

    python benchmarks/finite_population.py                       # 6 populations, 60 areas
    python benchmarks/finite_population.py --samples 2 --markdown out.md
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from lcmodel.data.survey import load_survey_data
from lcmodel.models.fay_herriot import FayHerriotModel
from lcmodel.models.unit_level import UnitLevelModel
from lcmodel.simulate.population import STRATA, simulate_population
from lcmodel.spec import parse_area_level_spec, parse_spec

BANDS = [(-1, 0, "unsampled"), (0, 19, "1-19 units"), (19, 99, "20-99 units"), (99, 10**9, "100+")]
"""Bands of sampled units per area: (above, up to, label)."""


def _unit_level(folder: Path, outcome: str, estimand: str, fit: dict) -> dict:
    """A unit-level spec of ``y`` (MRP with a frame) or ``score`` (population shares)."""
    raw = {
        "name": f"{outcome}_{estimand}",
        "data": str(folder / "survey.csv"),
        "areas": str(folder / "areas.csv"),
        "estimand": estimand,
        "structure": {
            "area": "area",
            "covariates": ["stratum"],
            "area_covariates": ["deprivation"],
            "weight": "weight",
        },
        "fit": fit,
    }
    if outcome == "y":
        raw["outcome"] = {"column": "y"}
        raw["frame"] = {"table": str(folder / "frame.csv")}
    else:
        raw["outcome"] = {"column": "score", "family": "gaussian"}
        raw["population"] = {
            "table": str(folder / "population.csv"),
            "shares": {"stratum": {s: f"share_{s}" for s in STRATA}},
            "size": "size",
        }
    return raw


MODELS = ("binary MRP", "Gaussian unit-level", "binomial Fay-Herriot", "Gaussian Fay-Herriot")
"""The models compared, in the table's order."""


def _fits(
    folder: Path, fit: dict, chosen: tuple[str, ...] = MODELS
) -> dict[tuple[str, str], UnitLevelModel | FayHerriotModel]:
    """The models of the comparison (those ``chosen``): (model, old or new) -> model."""
    models: dict[tuple[str, str], UnitLevelModel | FayHerriotModel] = {}
    for outcome, label in [("y", "binary MRP"), ("score", "Gaussian unit-level")]:
        if label not in chosen:
            continue
        for version, estimand in [("old", "superpopulation"), ("new", "finite_population")]:
            spec = parse_spec(_unit_level(folder, outcome, estimand, fit), label)
            models[label, version] = UnitLevelModel(spec, load_survey_data(spec))
    for outcome, label, likelihood in [
        ("y", "binomial Fay-Herriot", "binomial"),
        ("score", "Gaussian Fay-Herriot", "normal"),
    ]:
        if label not in chosen:
            continue
        survey = folder / f"{outcome}_sample.toml"
        raw = _unit_level(folder, outcome, "sample", fit)
        for key in ("frame", "population", "estimand"):
            raw.pop(key, None)
        survey.write_text(_toml(raw))
        for version, variance in [("old", "known"), ("new", "modelled")]:
            section = {
                "survey": str(survey),
                "numeric_covariates": ["deprivation", "share_owner", "share_social"],
                "likelihood": likelihood,
                "sampling_variance": variance,
            }
            if version == "new":
                section["population"] = "size"
            spec = parse_area_level_spec(
                {"name": f"{outcome}_fh_{variance}", "area_level": section, "fit": fit}, label
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the known-variance model drops 0-variance areas
                models[label, version] = FayHerriotModel.from_spec(spec)
    return models


def _toml(raw: dict) -> str:
    """A flat TOML of a spec dictionary (strings, lists and one level of tables)."""

    def value(v: object) -> str:
        if isinstance(v, str):
            return f'"{v}"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return str(v).lower() if isinstance(v, bool) else str(v)

    lines = [f"{k} = {value(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    for key, table in raw.items():
        if isinstance(table, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def run(
    samples: int, areas: int, fit: dict, chosen: tuple[str, ...] = MODELS, first: int = 1
) -> pd.DataFrame:
    """Fit the models to every sample: one row per sample, model, version and area.

    Populations (and samples) are seeded ``first, first + 1, ...``: ``first = 7`` with six
    samples adds six new populations to a default run.
    """
    rows = []
    for seed in range(first, first + samples):
        sample = simulate_population(areas, seed=seed).sample(seed)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            sample.write(folder)
            # the census composition of each area, as area covariates for the area-level models
            shares = sample.population[["area", "size", "share_owner", "share_social"]]
            sample.areas.merge(shares, on="area").to_csv(folder / "areas.csv", index=False)
            truth = sample.truth.set_index("area")
            for (label, version), model in _fits(folder, fit | {"seed": seed}, chosen).items():
                start = time.perf_counter()
                result = model.fit(progressbar=False)
                wall = time.perf_counter() - start
                table = result.estimates().set_index("area")
                column = "finite_y" if label.startswith(("binary", "binomial")) else "finite_score"
                true = truth[column].reindex(table.index)
                diagnostics = result.diagnostics()
                rows.append(
                    pd.DataFrame(
                        {
                            "sample": seed,
                            "model": label,
                            "version": version,
                            "area": table.index,
                            "n": truth["n"].reindex(table.index).to_numpy(),
                            "truth": true.to_numpy(),
                            "mean": table["mean"].to_numpy(),
                            "sd": table["sd"].to_numpy(),
                            "covered": (
                                (table["lower"] <= true) & (true <= table["upper"])
                            ).to_numpy(),
                            "wall": wall,
                            "passed": diagnostics.passed,
                            "attempts": len(result.metadata["attempts"]),
                        }
                    )
                )
                print(
                    f"sample {seed} {label} ({version}): coverage "
                    f"{rows[-1]['covered'].mean():.3f}, {wall:.0f} s, gate "
                    f"{'passed' if diagnostics.passed else 'FAILED: ' + diagnostics.failures[0]}"
                    f" after {len(result.metadata['attempts'])} attempt(s)",
                    flush=True,
                )
    return pd.concat(rows, ignore_index=True)


def coverage_table(per_area: pd.DataFrame) -> pd.DataFrame:
    """Coverage by model, version and band of sampled units, with the RMSE."""
    band = pd.Series("", index=per_area.index)
    for low, high, label in BANDS:
        band[(per_area["n"] > low) & (per_area["n"] <= high)] = label
    per_area = per_area.assign(band=band, error=(per_area["mean"] - per_area["truth"]) ** 2)
    keys = ["model", "version"]
    table = per_area.groupby(keys, sort=False)["covered"].mean().rename("all areas").to_frame()
    by_band = per_area.pivot_table(index=keys, columns="band", values="covered", aggfunc="mean")
    table = table.join(by_band[[label for *_, label in BANDS]])
    table["RMSE"] = np.sqrt(per_area.groupby(keys, sort=False)["error"].mean())
    counts = per_area.groupby("band")["area"].size() / per_area.groupby(keys).ngroups
    table.attrs["intervals"] = counts.to_dict()
    return table


def _markdown(table: pd.DataFrame) -> str:
    """A pipe table: numbers with 3 decimals (whole numbers as they are)."""

    def cell(value: object) -> str:
        if isinstance(value, float | np.floating):
            return "" if np.isnan(value) else f"{value:.3f}"
        return str(value)

    lines = ["| " + " | ".join(map(str, table.columns)) + " |"]
    lines.append("|" + "|".join("---" if i < 2 else "---:" for i in range(table.shape[1])) + "|")
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(False)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=6)
    parser.add_argument("--first", type=int, default=1, help="seed of the first population")
    parser.add_argument("--areas", type=int, default=60)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument(
        "--models", nargs="+", choices=MODELS, default=list(MODELS), help="models to compare"
    )
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--csv", type=Path, help="write the per-area results here")
    args = parser.parse_args()
    fit = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    start = time.perf_counter()
    per_area = run(args.samples, args.areas, fit, tuple(args.models), args.first)
    table = coverage_table(per_area)
    counts = table.attrs["intervals"]
    header = (
        f"{args.samples} populations of {args.areas} areas, one sample each; 90% intervals "
        f"against the finite area values; intervals per model and version: "
        + ", ".join(f"{label} {int(counts.get(label, 0))}" for *_, label in BANDS)
        + f"; {args.chains} chains x {args.draws} draws; {time.perf_counter() - start:.0f} s"
    )
    gate = per_area.groupby(["model", "version", "sample"])["passed"].first()
    failed = gate.groupby(["model", "version"]).apply(lambda s: int((~s).sum()))
    table["gate failures"] = failed.reindex(table.index).to_numpy()
    attempts = per_area.groupby(["model", "version", "sample"])["attempts"].first()
    table["sampled again"] = (
        (attempts > 1).groupby(["model", "version"]).sum().reindex(table.index).to_numpy()
    )
    markdown = _markdown(table.reset_index())
    print(header)
    print(markdown)
    if args.markdown:
        args.markdown.write_text(f"{header}\n\n{markdown}\n")
    if args.csv:
        per_area.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
