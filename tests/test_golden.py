"""Golden tests: published small-area results on real data (../shared/validation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcmodel import UnitLevelModel
from lcmodel.data.survey import prepare_survey_data
from lcmodel.models.fay_herriot import FayHerriotModel
from lcmodel.spec import parse_area_level_spec, parse_spec

VALIDATION = Path(__file__).resolve().parents[2] / "shared" / "validation"

pytestmark = [
    pytest.mark.golden,
    pytest.mark.sampling,
    pytest.mark.skipif(not VALIDATION.is_dir(), reason="../shared/validation is not present"),
]


def _corn_model(finite_population: bool) -> UnitLevelModel:
    """BHF 1988: CornHec ~ CornPix + SoyBeansPix + (1 | County), segment 33 dropped."""
    population = {
        "table": str(VALIDATION / "cornsoybeanmeans.csv"),
        "area": "CountyIndex",
        "means": {"CornPix": "MeanCornPixPerSeg", "SoyBeansPix": "MeanSoyBeansPixPerSeg"},
    }
    if finite_population:
        population["size"] = "PopnSegments"
    spec = parse_spec(
        {
            "name": "corn_bhf",
            "data": str(VALIDATION / "cornsoybean.csv"),
            "outcome": {"column": "CornHec", "family": "gaussian"},
            "structure": {"area": "County", "numeric_covariates": ["CornPix", "SoyBeansPix"]},
            "population": population,
            # 12 counties with 1-6 segments each: sigma_area's posterior reaches towards 0,
            # where the default target_accept of 0.9 left 1 divergent transition in 8,000
            "fit": {"target_accept": 0.95},
        },
        "golden corn spec",
    )
    survey = pd.read_csv(VALIDATION / "cornsoybean.csv")
    survey = survey[survey["bhf_excluded_row33"] == 0]
    means = pd.read_csv(VALIDATION / "cornsoybeanmeans.csv")
    return UnitLevelModel(spec, prepare_survey_data(survey, spec, population=means))


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    table = pd.read_csv(VALIDATION / "bhf_corn_eblup_published.csv")
    return table.set_index(table["CountyIndex"].astype(str))


def _posterior(model: UnitLevelModel) -> pd.DataFrame:
    result = model.fit(progressbar=False, draws=2000, tune=1000, chains=4, seed=1988)
    assert result.diagnostics().passed, result.diagnostics().message()
    table = result.estimates()
    return table.set_index("area")[["mean", "sd"]]


def test_bhf_corn_county_means_match_published_eblup(published: pd.DataFrame) -> None:
    """Every county within 0.25 posterior sd of the published EBLUP, sd within 20% of its SE.

    Published: JoSAE 0.3.0 vignette, Table 3 (REML EBLUP of the county mean without the
    finite-population correction, and its standard error ``se1``). Differences come from
    posterior means versus REML plug-in estimates and from the weak priors.
    """
    model = _corn_model(finite_population=False)
    ours = _posterior(model)
    reference = published.loc[ours.index]
    gap = (ours["mean"] - reference["josae_eblup_reml"]).abs() / ours["sd"]
    sd_ratio = ours["sd"] / reference["josae_eblup_se1"]
    report = pd.DataFrame({"gap_in_sd": gap, "sd_ratio": sd_ratio})
    print("\nBHF corn, no FPC: max |mean - EBLUP| / sd =", round(gap.max(), 3))
    print(report.round(3).to_string())
    assert (gap <= 0.25).all(), report
    assert ((sd_ratio - 1.0).abs() <= 0.20).all(), report


def test_bhf_corn_with_finite_population_correction(published: pd.DataFrame) -> None:
    """With population sizes, estimates follow sae::eblupBHF (R Journal 2015) closely."""
    ours = _posterior(_corn_model(finite_population=True))
    reference = published.loc[ours.index, "rjournal2015_eblupBHF_reml"]
    gap = (ours["mean"] - reference).abs() / ours["sd"]
    print("\nBHF corn, FPC: max |mean - eblupBHF| / sd =", round(gap.max(), 3))
    assert (gap <= 0.25).all(), gap
    assert np.corrcoef(ours["mean"], reference)[0, 1] > 0.99


def _milk_model(**area_level: object) -> FayHerriotModel:
    """Arora and Lahiri (1997) milk expenditure: yi ~ factor(MajorArea), known variances."""
    spec = parse_area_level_spec(
        {
            "name": "milk_fh",
            "area_level": {
                "table": str(VALIDATION / "milk.csv"),
                "area": "SmallArea",
                "estimate": "yi",
                "variance": "var",
                "n": "ni",
                "covariates": ["MajorArea"],
                "sampling_variance": "known",  # as the published REML EBLUP takes them
                **area_level,
            },
        },
        "golden milk spec",
    )
    return FayHerriotModel.from_spec(spec)


def test_fay_herriot_reproduces_published_reml_eblup() -> None:
    """Every area's posterior mean within 0.1 posterior sd of the REML EBLUP, and its posterior
    sd within 15% of sqrt(MSE), as the issue asks. The default priors are weak here: the
    intercept's sd is 2.5 times the spread of the direct estimates, sigma_area's scale 1 spread,
    and the four major-area effects are estimated from 7-14 areas each."""
    result = _milk_model().fit(progressbar=False, draws=2000, tune=1000, chains=4, seed=1997)
    assert result.diagnostics().passed, result.diagnostics().message()
    published = pd.read_csv(VALIDATION / "milk_fh_published.csv")
    published = published.set_index(published["SmallArea"].astype(str))
    table = result.estimates().set_index("area").loc[published.index]
    gap = (table["mean"] - published["eblup_reml"]).abs() / table["sd"]
    ratio = table["sd"] / np.sqrt(published["mse_reml"])
    print(f"milk FH: max gap {gap.max():.3f} sd, sd ratio {ratio.min():.3f}-{ratio.max():.3f}")
    assert gap.max() <= 0.1
    assert ratio.between(0.85, 1.15).all()
