"""Simulation-based calibration of the binary area model (slow: run with --run-slow).

For each replication, parameters and answers are drawn from the model's own prior (through the
package's PyMC model), the model is fitted to those answers, and the rank of each true value
among the posterior draws is recorded. If the sampler and model are right, ranks are uniform
(Talts et al. 2018); a chi-square test over 10 bins checks it for the intercept, sigma_area and
the area values of a small and a large area.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy.stats import chisquare

from lcmodel import UnitLevelModel
from lcmodel.data.survey import prepare_survey_data
from lcmodel.spec import parse_spec

pytestmark = [pytest.mark.slow, pytest.mark.sampling]

REPLICATIONS = 100
SIZES = [5, 8, 12, 20, 30, 40, 60, 80, 100, 150]
SPEC = parse_spec(
    {
        "name": "sbc",
        "data": "x.csv",
        "outcome": {"column": "y"},
        "structure": {"area": "area", "covariates": ["sex"]},
    },
    "sbc",
)


def _survey(y: np.ndarray | None = None) -> pd.DataFrame:
    area = np.repeat([f"A{i:02d}" for i in range(len(SIZES))], SIZES)
    sex = np.tile(["F", "M"], len(area) // 2 + 1)[: len(area)]
    frame = pd.DataFrame({"area": area, "sex": sex})
    frame["y"] = np.arange(len(frame)) % 2 if y is None else y
    return frame


def _answers_from_cells(
    frame: pd.DataFrame, model: UnitLevelModel, successes: np.ndarray
) -> np.ndarray:
    """Respondent answers with the given number of successes in each cell."""
    y = np.zeros(len(frame), dtype=int)
    cells = model.units(aggregate_cells=True).keys
    for (area, sex), k in zip(cells.itertuples(index=False), successes, strict=True):
        rows = np.flatnonzero((frame["area"] == area) & (frame["sex"] == sex))
        y[rows[: int(k)]] = 1
    return y


def test_simulation_based_calibration() -> None:
    base = _survey()
    template = UnitLevelModel(SPEC, prepare_survey_data(base, SPEC))
    names = ["intercept", "sigma_area", "area_value_small", "area_value_large"]
    ranks: dict[str, list[int]] = {name: [] for name in names}
    for rep in range(REPLICATIONS):
        prior = pm.sample_prior_predictive(draws=1, model=template.build(), random_seed=rep)
        truth = prior["prior"]
        successes = prior["prior_predictive"]["y"].to_numpy().ravel()
        answers = _answers_from_cells(base, template, successes)
        model = UnitLevelModel(SPEC, prepare_survey_data(_survey(answers), SPEC))
        result = model.fit(progressbar=False, draws=200, tune=300, chains=2, seed=rep)
        post = result.posterior
        values = {
            "intercept": (post["intercept"], truth["intercept"]),
            "sigma_area": (post["sigma_area"], truth["sigma_area"]),
            "area_value_small": (
                post["area_value"].isel(area=0, quantity=0),
                truth["area_value"].isel(area=0, quantity=0),
            ),
            "area_value_large": (
                post["area_value"].isel(area=-1, quantity=0),
                truth["area_value"].isel(area=-1, quantity=0),
            ),
        }
        for name, (draws, true) in values.items():
            thinned = draws.to_numpy().ravel()[::4]  # 100 roughly independent draws
            ranks[name].append(int((thinned < float(true.to_numpy().ravel()[0])).sum()))
    report = {}
    for name, values in ranks.items():
        counts = np.histogram(values, bins=10, range=(0, 101))[0]
        report[name] = (counts.tolist(), chisquare(counts).pvalue)
    for name, (counts, p) in report.items():
        print(f"SBC {name}: rank histogram {counts}, chi-square p = {p:.3f}")
    for name, (_, p) in report.items():
        assert p > 0.001, (name, report)
