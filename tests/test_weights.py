"""Survey weights under informative sampling: the weighted Fay-Herriot route against the
unweighted unit-level model (docs/statistics.md, section 13).

In each simulated area, residents who would answer "yes" are twice as likely to respond, so the
respondents over-represent "yes" and design weights (1 / selection probability) undo it. The
unweighted unit-level model estimates the respondents' share; the Fay-Herriot model of weighted
(Hajek) direct estimates targets the population share.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcmodel import FayHerriotModel, UnitLevelModel
from lcmodel.spec import parse_area_level_spec, parse_spec

pytestmark = pytest.mark.sampling


def _informative_survey(seed: int, areas: int = 40) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    rows, truth = [], {}
    for a in range(areas):
        name = f"A{a:02d}"
        p = 1 / (1 + np.exp(-rng.normal(0.0, 0.6)))
        population = rng.random(3000) < p
        truth[name] = population.mean()
        propensity = np.where(population, 2.0, 1.0)
        size = int(rng.integers(15, 120))
        chosen = rng.choice(3000, size=size, replace=False, p=propensity / propensity.sum())
        inclusion = size * propensity[chosen] / propensity.sum()
        rows += [
            {"area": name, "y": int(population[i]), "weight": 1.0 / pi}
            for i, pi in zip(chosen, inclusion, strict=True)
        ]
    return pd.DataFrame(rows), pd.Series(truth)


def test_weighted_fay_herriot_covers_the_population_share_where_unweighted_fails(
    tmp_path: Path,
) -> None:
    hits = {"unweighted unit-level": [], "weighted Fay-Herriot": []}
    for seed in range(2):
        survey, truth = _informative_survey(seed)
        folder = tmp_path / f"set{seed}"
        folder.mkdir()
        survey.to_csv(folder / "survey.csv", index=False)
        unit = {
            "name": "unit",
            "data": str(folder / "survey.csv"),
            "outcome": {"column": "y"},
            "structure": {"area": "area", "weight": "weight"},
        }
        spec = parse_spec(unit, "test")
        (folder / "unit.toml").write_text(
            'name = "unit"\ndata = "survey.csv"\n[outcome]\ncolumn = "y"\n'
            '[structure]\narea = "area"\nweight = "weight"\n'
        )
        settings = {"progressbar": False, "draws": 500, "tune": 500, "chains": 2, "seed": seed}
        unweighted = UnitLevelModel.from_spec(spec).fit(**settings).estimates()
        fh = FayHerriotModel.from_spec(
            parse_area_level_spec(
                {
                    "name": "fh",
                    "area_level": {"survey": str(folder / "unit.toml"), "likelihood": "binomial"},
                },
                "test",
            )
        )
        weighted = fh.fit(**settings).estimates()
        for label, table in [
            ("unweighted unit-level", unweighted),
            ("weighted Fay-Herriot", weighted),
        ]:
            table = table.set_index("area")
            true = truth.reindex(table.index)
            hits[label].extend((table["lower"] <= true) & (true <= table["upper"]))
    coverage = {label: float(np.mean(h)) for label, h in hits.items()}
    print(
        f"informative sampling, 80 areas, 90% interval coverage of the population share: {coverage}"
    )
    assert coverage["weighted Fay-Herriot"] >= 0.8
    assert coverage["unweighted unit-level"] <= coverage["weighted Fay-Herriot"] - 0.2
