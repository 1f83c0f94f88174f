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


def _grapes_model(area_effect: str, adjacency: Path) -> FayHerriotModel:
    """sae::eblupSFH's grapes example: grapehect ~ area + workdays - 1, known variances.

    Weak priors, as the data folder's README compares with: coefficients Normal(0, 1000) per
    sd of their covariate, sigma_area HalfNormal(1000) (flat for practical purposes against a
    posterior sd near 0.8), rho_sar the default Uniform(-1, 1).
    """
    spec = parse_area_level_spec(
        {
            "name": f"grapes_{area_effect}",
            "area_level": {
                "table": str(VALIDATION / "grapes.csv"),
                "area": "area_id",
                "estimate": "grapehect",
                "variance": "var",
                "numeric_covariates": ["area", "workdays"],
                "intercept": False,
                "area_effect": area_effect,
                "adjacency": str(adjacency),
            },
            "priors": {
                "gamma_area": {"dist": "Normal", "mu": 0, "sigma": 1000},
                "gamma_workdays": {"dist": "Normal", "mu": 0, "sigma": 1000},
                "sigma_area": {"dist": "HalfNormal", "sigma": 1000},
            },
        },
        "golden grapes spec",
    )
    return FayHerriotModel.from_spec(spec)


@pytest.fixture(scope="module")
def grapes_adjacency(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The grapesprox neighbours as an lcmodel adjacency table (0/1: SAR row-standardises)."""
    table = pd.read_csv(VALIDATION / "grapes_adjacency.csv")
    path = tmp_path_factory.mktemp("grapes") / "neighbours.csv"
    table.rename(columns={"neighbour_id": "neighbour"})[["area_id", "neighbour"]].to_csv(
        path, index=False
    )
    return path


def _grapes_parameters(model: str) -> pd.Series:
    table = pd.read_csv(VALIDATION / "grapes_sfh_params.csv")
    mine = table[
        (table["model"] == model) & (table["method"] == "REML") & (table["precision"] == 1e-4)
    ]
    return mine.set_index("parameter")


@pytest.mark.parametrize(
    ("area_effect", "prefix", "model"), [("sar", "sfh", "SFH"), ("iid", "fh", "FH")]
)
def test_grapes_fay_herriot_matches_sae(
    grapes_adjacency: Path, area_effect: str, prefix: str, model: str
) -> None:
    """Spatial (SAR) and plain Fay-Herriot on 274 municipalities against sae's REML fits.

    The README's tolerances (its exact weak-prior posterior differs from REML by up to 0.09
    rmse): every area within 0.25 sqrt(mse) of the EBLUP (median 0.05), posterior sds within
    20% of sqrt(mse) for at least 90% of areas (the issue) and within 15% for as many; rho
    within 0.1 of REML's, A = sigma_area^2 within 25%, the coefficients within 0.25 of their
    standard errors.
    """
    fitted = _grapes_model(area_effect, grapes_adjacency).fit(progressbar=False, seed=2009)
    assert fitted.diagnostics().passed, fitted.diagnostics().message()
    published = pd.read_csv(VALIDATION / "grapes_sfh_published.csv")
    published.index = published["area_id"].astype(str)
    table = fitted.estimates().set_index("area").loc[published.index]
    rmse = published[f"{prefix}_reml_rmse"]
    gap = (table["mean"] - published[f"{prefix}_reml_eblup"]).abs() / rmse
    ratio = table["sd"] / rmse
    posterior = fitted.idata["posterior"]
    reference = _grapes_parameters(model)
    data = pd.read_csv(VALIDATION / "grapes.csv")
    report = [f"grapes {model}: max gap {gap.max():.3f} rmse (median {gap.median():.3f})"]
    report.append(f"sd ratio {ratio.min():.3f}-{ratio.max():.3f}")
    variance = float((posterior["sigma_area"] ** 2).mean())
    report.append(f"A {variance:.1f} (REML {reference.loc['A_sigma2u', 'estimate']:.1f})")
    for covariate in ("area", "workdays"):
        # the model's coefficient is per sd of the covariate (population sd, as in the design)
        beta = float(posterior[f"gamma_{covariate}"].mean()) / data[covariate].std(ddof=0)
        row = reference.loc[f"beta_{covariate}"]
        distance = abs(beta - row["estimate"]) / row["std_error"]
        report.append(f"beta_{covariate} {beta:.5f} ({distance:.2f} se)")
        assert distance <= 0.25
    if area_effect == "sar":
        rho = float(posterior["rho_sar"].mean())
        report.append(f"rho {rho:.3f} (REML {reference.loc['rho', 'estimate']:.3f})")
        assert abs(rho - reference.loc["rho", "estimate"]) <= 0.1
    print(", ".join(report))
    assert gap.max() <= 0.25
    assert gap.median() <= 0.05
    assert (ratio - 1).abs().le(0.2).mean() >= 0.9
    assert (ratio - 1).abs().le(0.15).mean() >= 0.9
    assert abs(variance / reference.loc["A_sigma2u", "estimate"] - 1) <= 0.25


SPACETIME_PRIORS = {
    # the README's exact weak-prior posterior: flat betas, rho's U(-0.99, 0.99), sigma21 and
    # sigma22 flat on (0, 0.006) and (0, 0.003); lcmodel's priors are on the sds, so these are
    # flat on the sds over the same ranges (more weight near 0 than flat variances)
    "intercept": {"dist": "Normal", "mu": 0, "sigma": 100},
    "gamma_X1": {"dist": "Normal", "mu": 0, "sigma": 100},
    "gamma_X2": {"dist": "Normal", "mu": 0, "sigma": 100},
    "sigma_area": {"dist": "Uniform", "lower": 0, "upper": 0.006**0.5},
    "sigma_area_wave": {"dist": "Uniform", "lower": 0, "upper": 0.003**0.5},
    "rho_sar": {"dist": "Uniform", "lower": -0.99, "upper": 0.99},
}


@pytest.fixture(scope="module")
def spacetime_adjacency(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """spacetimeprox's neighbours as an lcmodel adjacency table (0/1: SAR row-standardises)."""
    table = pd.read_csv(VALIDATION / "spacetime_adjacency.csv")
    path = tmp_path_factory.mktemp("spacetime") / "neighbours.csv"
    table.rename(columns={"neighbour_id": "neighbour"})[["area_id", "neighbour"]].to_csv(
        path, index=False
    )
    return path


def _spacetime_model(area_wave: str, adjacency: Path) -> FayHerriotModel:
    """sae::eblupSTFH's spacetime example: Y ~ X1 + X2, SAR over areas, AR(1) or iid in time."""
    priors = dict(SPACETIME_PRIORS)
    if area_wave == "ar1":
        priors["rho_area_wave"] = {"dist": "Uniform", "lower": -0.99, "upper": 0.99}
    spec = parse_area_level_spec(
        {
            "name": f"spacetime_{area_wave}",
            "area_level": {
                "table": str(VALIDATION / "spacetime.csv"),
                "area": "area_id",
                "wave": "Time",
                "estimate": "Y",
                "variance": "Var",
                "numeric_covariates": ["X1", "X2"],
                "area_effect": "sar",
                "adjacency": str(adjacency),
                "area_wave": area_wave,
            },
            "priors": priors,
            # 11 areas: sigma_area reaches towards 0 and rho_sar towards 1, where the SAR
            # field's constant per connected component trades against the intercept; the
            # default target_accept of 0.9 left 54 divergent transitions in 4,000 draws; with
            # 2,000 draws after 1,000 tuning steps, R-hat of sigma_area or rho_sar sat at
            # 1.010-1.015 on one machine (R-hat 1.002-1.003 with these settings)
            "fit": {"target_accept": 0.99, "draws": 4000, "tune": 2000},
        },
        "golden spacetime spec",
    )
    return FayHerriotModel.from_spec(spec)


@pytest.mark.parametrize(("area_wave", "model"), [("ar1", "ST"), ("iid", "S")])
def test_spacetime_fay_herriot_matches_sae(
    spacetime_adjacency: Path, area_wave: str, model: str
) -> None:
    """Spatio-temporal Fay-Herriot (11 areas x 3 periods) against sae::eblupSTFH (REML).

    The README's tolerances (its exact weak-prior posterior differs from REML by up to 0.60
    rmse for model ST): every area and period within 0.75 rmse_B1000 of the EBLUP (median
    0.2), posterior sds within 35% of rmse_B1000, the coefficients within 0.75 of their
    std errors, the variance parameters and rhos within 2 of theirs (they depend on priors).
    """
    fitted = _spacetime_model(area_wave, spacetime_adjacency).fit(progressbar=False, seed=2013)
    diagnostics = fitted.diagnostics()
    published = pd.read_csv(VALIDATION / "spacetime_stfh_published.csv")
    prefix = model.lower()
    keys = pd.MultiIndex.from_arrays([published["area_id"].astype(str), published["Time"]])
    table = fitted.wave_estimates().set_index(["area", "wave"]).loc[keys]
    rmse = published[f"{prefix}_rmse_B1000"].to_numpy()
    gap = np.abs(table["mean"].to_numpy() - published[f"{prefix}_eblup"].to_numpy()) / rmse
    ratio = table["sd"].to_numpy() / rmse
    posterior = fitted.idata["posterior"]
    params = pd.read_csv(VALIDATION / "spacetime_stfh_params.csv")
    params = params[
        (params["model"] == model) & (params["method"] == "REML") & (params["precision"] == 1e-4)
    ].set_index("parameter")
    data = pd.read_csv(VALIDATION / "spacetime.csv")
    report = [f"spacetime {model}: max gap {gap.max():.3f} rmse (median {np.median(gap):.3f})"]
    report.append(f"sd ratio {ratio.min():.3f}-{ratio.max():.3f}")
    # the model's coefficients are per sd of the covariate (population sd), centred on its mean
    slopes = {x: posterior[f"gamma_{x}"] / data[x].std(ddof=0) for x in ("X1", "X2")}
    betas = {f"beta_{x}": slope for x, slope in slopes.items()}
    betas["beta_(Intercept)"] = posterior["intercept"] - sum(
        slope * data[x].mean() for x, slope in slopes.items()
    )
    distances = {}
    for name, draws in betas.items():
        row = params.loc[name]
        distances[name] = abs(float(draws.mean()) - row["estimate"]) / row["std_error"]
        report.append(f"{name} {float(draws.mean()):.3f} ({distances[name]:.2f} se)")
    loose = {
        "sigma21": float((posterior["sigma_area"] ** 2).mean()),
        "rho1": float(posterior["rho_sar"].mean()),
        "sigma22": float((posterior["sigma_area_wave"] ** 2).mean()),
    }
    if area_wave == "ar1":
        loose["rho2"] = float(posterior["rho_area_wave"].mean())
    for name, value in loose.items():
        row = params.loc[name]
        report.append(f"{name} {value:.4g} (REML {row['estimate']:.4g}, se {row['std_error']:.2g})")
    report.append(diagnostics.message())
    print("\n" + ", ".join(report))
    # Known limitation: at rho_sar near 1 the SAR field's constant on each of the map's three
    # connected components trades against the intercept, and a few transitions in 8,000
    # diverge there (3 for ST, 4 for S when measured), so this checks the gate's R-hat, ESS
    # and E-BFMI and allows divergences in at most 0.1% of the draws.
    assert diagnostics.max_rhat <= 1.01, diagnostics.message()
    assert min(diagnostics.min_ess_bulk, diagnostics.min_ess_tail) >= 400, diagnostics.message()
    assert diagnostics.n_divergent <= 0.001 * diagnostics.draws * diagnostics.chains
    assert diagnostics.min_bfmi >= 0.3
    assert gap.max() <= 0.75
    assert np.median(gap) <= 0.2
    assert (np.abs(ratio - 1) <= 0.35).all()
    assert max(distances.values()) <= 0.75
    for name, value in loose.items():
        row = params.loc[name]
        assert abs(value - row["estimate"]) <= 2 * row["std_error"], name
