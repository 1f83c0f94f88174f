"""The approximate method (ADVI): its stopping rule, and a fit labelled approximate everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lcmodel
from lcmodel.cli import main
from lcmodel.inference.approximate import loss_has_settled
from lcmodel.spec import SpecError, load_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "models" / "trust.toml"


def test_the_stopping_rule_waits_for_the_loss_to_stop_falling() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0.0, 10.0, 2000)
    falling = 1000.0 - 0.05 * np.arange(2000) + noise  # 25 per window: 11 standard errors
    assert not loss_has_settled(falling)
    assert loss_has_settled(700.0 + noise)
    assert not loss_has_settled(700.0 + noise[:999])  # two windows needed
    assert loss_has_settled(700.0 + 5.0 * noise)  # noisier models need no other scale


def test_an_unknown_method_is_a_spec_error(tmp_path: Path) -> None:
    text = SPEC.read_text().replace("[fit]\n", '[fit]\nmethod = "laplace"\n')
    (tmp_path / "x.toml").write_text(text)
    with pytest.raises(SpecError, match=r"method"):
        load_spec(tmp_path / "x.toml")


@pytest.mark.sampling
def test_an_advi_fit_is_written_and_labelled_approximate(tmp_path: Path, capsys) -> None:
    """Exit code 0 without --allow-failed-diagnostics, 'approximate' in every file."""
    out = tmp_path / "out"
    code = main(["fit", str(SPEC), "--out", str(out), "--method", "advi", "--seed", "3"])
    printed = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert "APPROXIMATE" in printed and "method = 'nuts'" in printed
    table = pd.read_csv(out / "estimates.csv")
    assert (table["method"] == "ADVI, approximate").all()
    assert table["rhat"].isna().all() and table["ess_bulk"].isna().all()
    assert not table["diagnostics_ok"].any()
    diagnostics = json.loads((out / "diagnostics.json").read_text())
    assert diagnostics["method"] == "advi" and not diagnostics["passed"]
    saved = json.loads((out / "result.json").read_text())
    assert saved["spec"]["fit"]["method"] == "advi"
    (attempt,) = saved["metadata"]["attempts"]  # never sampled again: more draws cannot help
    assert 0 < attempt["steps"] < saved["spec"]["fit"]["advi_steps"]  # stopped when settled

    result = lcmodel.load(out)
    assert result.diagnostics().approximate
    assert "approximate" in result.idata["posterior"].attrs["inference"]
    assert result.posterior.sizes["chain"] == 1 and result.posterior.sizes["draw"] == 4000
    # the approximation still finds the areas: posterior means near the simulated truth
    truth = pd.read_csv(ROOT / "data" / "truth.csv").query("indicator == 'trust'")
    estimates = result.estimates().merge(truth, on="area")
    error = estimates["mean"] - estimates["sample"]
    assert np.sqrt((error**2).mean()) < 0.06
    assert (
        (estimates["lower"] <= estimates["sample"]) & (estimates["sample"] <= estimates["upper"])
    ).mean() >= 0.7
