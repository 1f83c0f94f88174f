"""Recovery of known truth by every family (real fits, small draws).

Coverage is counted over many areas (and categories); with independent intervals a binomial
99.9% range around 0.9 for a few hundred intervals is roughly [0.84, 0.96]. A 50% interval is
the negative control: it must cover about half as often, so wide intervals cannot pass.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcmodel import UnitLevelModel
from lcmodel.data.survey import prepare_survey_data
from lcmodel.simulate import simulate_survey
from lcmodel.spec import parse_spec

MODELS = Path(__file__).resolve().parents[1] / "models"
pytestmark = pytest.mark.sampling


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("recovery")
    survey = simulate_survey(n_respondents=3000, n_areas=60, seed=11, spatial_share=0.0)
    survey.write(folder)
    return folder, survey.truth


def _coverage(table: pd.DataFrame, truth: pd.Series) -> float:
    true = truth.reindex(pd.MultiIndex.from_frame(table[["area", "quantity"]])).to_numpy()
    return float(np.mean((table["lower"] <= true) & (true <= table["upper"])))


def _fit_shipped_spec(name: str, folder: Path, **fit) -> object:
    text = (MODELS / f"{name}.toml").read_text().replace("../data/", "")
    path = folder / f"{name}.toml"
    path.write_text(text.split("[benchmark]")[0])
    model = UnitLevelModel.from_spec(path)
    return model.fit(progressbar=False, draws=500, tune=500, chains=2, seed=5, **fit)


BINARY = ["trust", "belonging", "speak_neighbours", "collective_efficacy"]


def test_binary_recovers_area_shares(simulated) -> None:
    """240 intervals: 4 indicators x 60 areas of the sample-standardised true share."""
    folder, truth = simulated
    hits90, hits50 = [], []
    for name in BINARY:
        result = _fit_shipped_spec(name, folder)
        assert result.diagnostics().n_divergent == 0
        true = truth[truth["indicator"] == name].set_index(["area", "quantity"])["sample"]
        hits90.append(_coverage(result.estimates(), true))
        hits50.append(_coverage(result.estimates(prob=0.5), true))
    coverage90, coverage50 = np.mean(hits90), np.mean(hits50)
    print(f"binary: 240 intervals, coverage 90%: {coverage90:.3f}, 50%: {coverage50:.3f}")
    assert 0.84 <= coverage90 <= 0.96
    assert 0.38 <= coverage50 <= 0.62


@pytest.mark.parametrize("name", ["health", "life_satisfaction"])
def test_ordinal_recovers_category_shares_and_means(name, simulated) -> None:
    folder, truth = simulated
    result = _fit_shipped_spec(name, folder)
    assert result.diagnostics().n_divergent == 0
    true = truth[truth["indicator"] == name]
    # the simulator's quantities are category shares ("share:<label>") and, for scales, "mean"
    true = true.set_index(["area", "quantity"])["sample"]
    table90 = result.estimates()
    table90 = table90[table90["quantity"].isin(true.index.get_level_values(1))]
    table50 = result.estimates(prob=0.5)
    table50 = table50[table50["quantity"].isin(true.index.get_level_values(1))]
    coverage90, coverage50 = _coverage(table90, true), _coverage(table50, true)
    print(
        f"{name}: {len(table90)} intervals, coverage 90%: {coverage90:.3f}, 50%: {coverage50:.3f}"
    )
    assert len(table90) >= 60 * 5
    assert 0.84 <= coverage90 <= 0.96
    assert 0.36 <= coverage50 <= 0.64


def _gaussian_survey(seed: int, n_areas: int = 60) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 60, n_areas)
    area = np.repeat([f"A{i:02d}" for i in range(n_areas)], sizes)
    group = rng.choice(["x", "y", "z"], size=area.size)
    effect = dict(zip(np.unique(area), rng.normal(0, 3.0, n_areas), strict=True))
    group_effect = {"x": -2.0, "y": 0.0, "z": 2.0}
    mean = 50 + np.array([effect[a] for a in area]) + np.array([group_effect[g] for g in group])
    y = mean + rng.normal(0, 8.0, area.size)
    survey = pd.DataFrame({"area": area, "group": group, "y": y})
    truth = pd.Series(mean).groupby(area).mean()
    return survey, truth


def test_gaussian_recovers_area_means() -> None:
    spec = parse_spec(
        {
            "name": "g",
            "data": "x.csv",
            "outcome": {"column": "y", "family": "gaussian"},
            "structure": {"area": "area", "covariates": ["group"]},
        },
        "gaussian recovery",
    )
    hits90, hits50 = [], []
    for seed in (1, 2, 3):
        survey, truth = _gaussian_survey(seed)
        model = UnitLevelModel(spec, prepare_survey_data(survey, spec))
        result = model.fit(progressbar=False, draws=500, tune=500, chains=2, seed=seed)
        for prob, hits in [(0.9, hits90), (0.5, hits50)]:
            table = result.estimates(prob=prob).set_index("area")
            true = truth[table.index]
            hits.extend(((table["lower"] <= true) & (true <= table["upper"])).tolist())
    coverage90, coverage50 = np.mean(hits90), np.mean(hits50)
    print(
        f"gaussian: {len(hits90)} intervals, coverage 90%: {coverage90:.3f}, 50%: {coverage50:.3f}"
    )
    assert 0.84 <= coverage90 <= 0.96
    assert 0.36 <= coverage50 <= 0.64
