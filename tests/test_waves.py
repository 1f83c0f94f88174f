"""Change across waves: the area x wave random walk, wave estimates, changes, trajectories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lcmodel import UnitLevelModel, load
from lcmodel.data.survey import prepare_survey_data
from lcmodel.errors import LcmodelError, SpecError
from lcmodel.spec import parse_spec

MODELS = Path(__file__).resolve().parents[1] / "models"


def _trending_survey(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """30 areas x 6 waves x 30 respondents; each area drifts by its own random walk."""
    rng = np.random.default_rng(seed)
    areas, waves = 30, 6
    level = rng.normal(0.8, 0.5, areas)
    walk = np.cumsum(rng.normal(0, 0.25, (areas, waves)), axis=1)
    logit = level[:, None] + walk - walk.mean(axis=1, keepdims=True)
    truth = 1 / (1 + np.exp(-logit))
    rows = []
    for a in range(areas):
        for t in range(waves):
            answers = rng.random(30) < truth[a, t]
            rows += [{"area": f"A{a:02d}", "wave": t + 1, "y": int(v)} for v in answers]
    frame = pd.DataFrame(rows)
    true = pd.DataFrame(truth, index=[f"A{a:02d}" for a in range(areas)], columns=range(1, 7))
    return frame, true


def _spec(**structure: object):
    return parse_spec(
        {
            "name": "trend",
            "data": "survey.csv",
            "outcome": {"column": "y"},
            "structure": {"area": "area", "wave": "wave", "area_wave": "random_walk"} | structure,
        },
        "test",
    )


def test_area_wave_needs_a_wave() -> None:
    with pytest.raises(SpecError, match="'area_wave' needs a 'wave' column"):
        parse_spec(
            {
                "name": "t",
                "data": "s.csv",
                "outcome": {"column": "y"},
                "structure": {"area": "area", "area_wave": "random_walk"},
            },
            "test",
        )


def test_random_walk_structure() -> None:
    survey, _ = _trending_survey(0)
    model = UnitLevelModel(_spec(), prepare_survey_data(survey, _spec()))
    built = model.build()
    assert "sigma_area_wave" in model.default_priors()
    assert built.named_vars_to_dims["z_area_wave"] == ("area", "wave_step")
    assert built.named_vars_to_dims["area_wave_value"] == ("area", "wave", "quantity")
    # each area's walk is centred, so area_effect stays its average level
    point = built.initial_point()
    rng = np.random.default_rng(1)
    point = {k: rng.normal(size=np.shape(v)) for k, v in point.items()}
    outs = built.replace_rvs_by_values([built["area_wave_effect"]])
    walk = built.compile_fn(outs, inputs=built.value_vars, on_unused_input="ignore")(point)[0]
    np.testing.assert_allclose(walk.mean(axis=1), 0.0, atol=1e-12)
    assert walk.std() > 0


@pytest.mark.sampling
def test_wave_estimates_and_changes_recover_known_trends(tmp_path: Path) -> None:
    survey, truth = _trending_survey(4)
    spec = _spec()
    model = UnitLevelModel(spec, prepare_survey_data(survey, spec))
    result = model.fit(progressbar=False, draws=500, tune=500, chains=2, seed=3)
    assert result.diagnostics().n_divergent == 0
    waves = result.wave_estimates()
    assert len(waves) == 30 * 6
    true = truth.stack().reindex(pd.MultiIndex.from_frame(waves[["area", "wave"]])).to_numpy()
    coverage = np.mean((waves["lower"] <= true) & (true <= waves["upper"]))
    change = result.changes(1, 6).set_index("area")
    true_change = (truth[6] - truth[1]).reindex(change.index)
    covered = (change["change_lower"] <= true_change) & (true_change <= change["change_upper"])
    rose = true_change > 0.1
    fell = true_change < -0.1
    print(
        f"waves: 180 area x wave intervals cover {coverage:.3f}; 30 changes cover "
        f"{covered.mean():.3f}; mean P(improved) {change['p_improved'][rose].mean():.2f} where "
        f"the truth rose by over 10 points, {change['p_improved'][fell].mean():.2f} where it fell"
    )
    assert 0.83 <= coverage <= 0.97
    assert covered.mean() >= 0.75
    # 30 answers per area and wave detect a 10-point change only partly, but the probability
    # separates areas that rose from areas that fell
    assert change["p_improved"][rose].mean() > 0.6
    assert change["p_improved"][fell].mean() < 0.4
    folder = result.save(tmp_path / "out")
    assert {"wave_estimates.csv", "changes.csv", "trajectories.png"} <= {
        p.name for p in folder.iterdir()
    }
    pd.testing.assert_frame_equal(load(folder).changes(1, 6), result.changes(1, 6))


def test_changes_need_area_wave_effects() -> None:
    model = UnitLevelModel.from_spec(MODELS / "trust.toml")
    from lcmodel.results.fit_result import FitResult

    empty = FitResult(None, model.spec, pd.DataFrame(), None, {"seed": 1})  # type: ignore[arg-type]
    with pytest.raises(LcmodelError, match=r'set structure\.area_wave = "random_walk"'):
        empty.changes()


def test_changes_pair_the_draws_and_respect_the_direction() -> None:
    """Fake posterior: wave 2 = wave 1 + 0.1 exactly, draw by draw, with wide spread across
    draws. Paired differences are exactly 0.1; unpaired ones would have a wide interval."""
    from lcmodel.results.waves import changes

    rng = np.random.default_rng(0)
    base = rng.normal(0.5, 0.2, (2, 100, 1, 1, 2))  # chain, draw, area, wave, quantity
    values = np.concatenate([base, base + 0.1], axis=3)
    posterior = xr.Dataset(
        {"area_wave_value": (("chain", "draw", "area", "wave", "quantity"), values)},
        coords={"area": ["A"], "wave": [1, 2], "quantity": ["share:x", "mean"]},
    )
    inputs = pd.DataFrame(
        {
            "area": "A",
            "name": "A",
            "wave": [1, 1, 2, 2],
            "quantity": ["share:x", "mean", "share:x", "mean"],
            "n": [10, 10, 12, 12],
        }
    )
    settings = {"first": 1, "last": 2, "prob": 0.9, "kind": "eti", "headline": "mean"}
    rising = changes(posterior, inputs, higher_is_better=True, **settings).set_index("quantity")
    np.testing.assert_allclose(rising[["change_lower", "change_upper"]], 0.1, atol=1e-12)
    assert rising.loc["mean", "p_improved"] == 1.0
    assert np.isnan(rising.loc["share:x", "p_improved"])  # no stated direction
    falling = changes(posterior, inputs, higher_is_better=False, **settings).set_index("quantity")
    assert falling.loc["mean", "p_improved"] == 0.0
    assert falling.loc["mean", "p_increase"] == 1.0
