"""Comparing any two or more models by PSIS-LOO on the same observations."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lcmodel import compare_models
from lcmodel.cli import EXIT_BAD_INPUT, main
from lcmodel.errors import LcmodelError
from lcmodel.inference.diagnostics import Diagnostics
from lcmodel.models.registry import model_from_spec
from lcmodel.results.fit_result import FitResult
from lcmodel.workflows.model_comparison import LOO_COLUMNS, observations_of

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"


@pytest.fixture
def models_copy(tmp_path: Path) -> Path:
    shutil.copytree(MODELS, tmp_path / "models")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path / "models"


# ----------------------------------------------------- refusals (no sampling)
def test_unit_and_area_level_models_are_not_compared() -> None:
    with pytest.raises(LcmodelError, match=r"unit-level model.*area-level") as error:
        compare_models([MODELS / "trust.toml", MODELS / "trust_fh.toml"])
    assert "trust_fh.toml" in str(error.value)


def test_models_of_other_data_are_refused_naming_both_files(models_copy: Path) -> None:
    survey = pd.read_csv(models_copy.parent / "data" / "survey.csv")
    changed = survey["trust"] == "Many can be trusted"
    survey.loc[changed, "trust"] = "None can be trusted"  # same rows, other answers
    survey.to_csv(models_copy.parent / "data" / "other.csv", index=False)
    text = (models_copy / "trust.toml").read_text()
    other = text.replace('name = "trust"', 'name = "other"').replace("survey.csv", "other.csv")
    (models_copy / "other.toml").write_text(other)
    with pytest.raises(LcmodelError, match="different data") as error:
        compare_models([models_copy / "trust.toml", models_copy / "other.toml"])
    message = str(error.value)
    assert "survey.csv" in message and "other.csv" in message
    assert message.count("hash") == 2


def test_models_of_other_outcomes_are_refused() -> None:
    with pytest.raises(LcmodelError, match=r"different outcomes.*'trust'.*'health'"):
        compare_models([MODELS / "trust.toml", MODELS / "health.toml"])


def test_a_saved_result_of_changed_data_is_refused() -> None:
    model = model_from_spec(MODELS / "trust.toml")
    diagnostics = Diagnostics(
        max_rhat=1.0, min_ess_bulk=1e3, min_ess_tail=1e3, n_divergent=0, min_bfmi=1.0, draws=1,
        chains=1,
    )  # fmt: skip
    stale = FitResult(
        idata=xr.DataTree(),
        spec=model.spec,
        inputs=pd.DataFrame(),
        diagnostics=diagnostics,
        metadata={"data_hash": "0" * 64},
    )
    with pytest.raises(LcmodelError, match=r"data files have changed.*000000000000"):
        compare_models([stale, MODELS / "trust_bym2.toml"])


def test_joint_models_and_single_models_are_refused(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(LcmodelError, match="joint model"):
        compare_models([MODELS / "trust.toml", MODELS / "social_joint.toml"])
    with pytest.raises(LcmodelError, match="two or more"):
        compare_models([MODELS / "trust.toml"])
    assert main(["compare", str(MODELS / "trust.toml")]) == EXIT_BAD_INPUT
    message = " ".join(capsys.readouterr().err.split())
    assert "takes a joint spec" in message and "Give two or more specs" in message


def test_models_with_other_covariates_or_area_effects_score_the_same_answers(
    models_copy: Path,
) -> None:
    """Their cells differ, but the answers they are scored on do not."""
    text = (models_copy / "trust.toml").read_text()
    plain = text.replace('covariates = ["age_band", "sex"]\n', "")
    plain = plain.replace('area_covariates = ["deprivation_decile"]\n', "")
    (models_copy / "plain.toml").write_text(plain.replace('name = "trust"', 'name = "plain"'))
    seen = [
        observations_of(model_from_spec(models_copy / f"{name}.toml"))
        for name in ("trust", "trust_bym2", "plain")
    ]
    assert seen[0] == seen[1] == seen[2]
    assert seen[0].unit == "answer" and seen[0].count > 2000


# ----------------------------------------------------------------- sampling
def _fay_herriot_specs(folder: Path) -> tuple[Path, Path]:
    """Direct estimates of 60 areas whose values follow a strong area covariate."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=60)
    theta = 2.0 + 1.0 * x + rng.normal(0, 0.15, 60)
    variance = rng.uniform(0.15, 0.4, 60)
    table = pd.DataFrame(
        {
            "region": [f"r{i:02d}" for i in range(60)],
            "y": rng.normal(theta, np.sqrt(variance)),
            "v": variance,
            "x": x,
        }
    )
    table.to_csv(folder / "estimates.csv", index=False)
    section = (
        '[area_level]\ntable = "estimates.csv"\narea = "region"\nestimate = "y"\nvariance = "v"\n'
    )
    (folder / "with_x.toml").write_text(f'name = "with_x"\n{section}numeric_covariates = ["x"]\n')
    (folder / "without_x.toml").write_text(f'name = "without_x"\n{section}')
    return folder / "with_x.toml", folder / "without_x.toml"


@pytest.mark.sampling
def test_a_strong_covariate_wins_by_more_than_two_standard_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A saved fit and a spec fitted on the way, compared on the same 60 direct estimates."""
    with_x, without_x = _fay_herriot_specs(tmp_path)
    small = ["--draws", "500", "--tune", "500", "--chains", "2", "--seed", "4", "--quiet"]
    allow = "--allow-failed-diagnostics"
    saved = tmp_path / "fit_with_x"
    assert main(["fit", str(with_x), "--out", str(saved), allow, *small]) == 0
    capsys.readouterr()
    out = tmp_path / "compared"
    assert main(["compare", str(without_x), str(saved), "--out", str(out), allow, *small]) == 0
    printed = capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == {"loo.csv", "summary.txt"}
    table = pd.read_csv(out / "loo.csv")
    print(table.drop(columns="source").to_string())
    assert list(table.columns) == LOO_COLUMNS
    assert table["model"].tolist() == ["with_x", "without_x"]
    assert table["n_obs"].tolist() == [60, 60]
    worse = table.iloc[1]
    assert table["elpd_diff"].iloc[0] == 0
    assert -worse["elpd_diff"] > 2 * worse["dse"]
    assert table["pareto_k_over_0_7"].iloc[0] <= 3  # the better model's PSIS-LOO is reliable
    assert np.isclose(table["weight"].sum(), 1.0)
    summary = (out / "summary.txt").read_text()
    print(summary)
    assert summary.startswith("PSIS-LOO over the same 60 area estimates: 'with_x' has the highest")
    assert "more than 2 standard errors" in summary
    assert " ".join(summary.split()) in " ".join(printed.split())
