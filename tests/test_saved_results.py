"""Results saved by lcmodel 0.1.0 (before the layered package) still load, with equal tables.

The folders under ``tests/fixtures/saved-0.1.0`` were written by ``lcmodel fit`` of 0.1.0 (a
unit-level and a Fay-Herriot spec, 2 chains x 40 draws). Their spec has no ``kind`` key and no
``[fit]`` settings added since; the folder format itself is unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import lcmodel
from lcmodel.errors import LcmodelError

SAVED = Path(__file__).resolve().parent / "fixtures" / "saved-0.1.0"


@pytest.mark.parametrize(("name", "kind"), [("trust", "unit_level"), ("trust_fh", "area_level")])
def test_old_results_load_with_the_same_estimates(name: str, kind: str) -> None:
    folder = SAVED / name
    assert "kind" not in json.loads((folder / "result.json").read_text())["spec"]
    result = lcmodel.load(folder)
    assert result.spec.kind == kind
    saved = pd.read_csv(folder / "estimates.csv")
    again = result.estimates().reset_index(drop=True)
    pd.testing.assert_frame_equal(again, saved, check_dtype=False, check_exact=False, rtol=1e-9)
    assert result.describe().startswith(name)


def test_unknown_result_kind_says_how_to_refit(tmp_path: Path) -> None:
    folder = tmp_path / "future"
    folder.mkdir()
    for file in ("posterior.nc", "diagnostics.json"):
        (folder / file).write_bytes((SAVED / "trust" / file).read_bytes())
    payload = json.loads((SAVED / "trust" / "result.json").read_text()) | {"kind": "spatial"}
    (folder / "result.json").write_text(json.dumps(payload))
    with pytest.raises(LcmodelError, match=r"kind 'spatial'.*refit the spec with `lcmodel fit`"):
        lcmodel.load(folder)


@pytest.mark.parametrize("name", ["trust", "trust_fh"])
def test_a_single_fit_is_a_result_with_one_indicator_and_no_correlations(name: str) -> None:
    """Code that reads results treats every kind alike (lcmodel.Result): a one-indicator fit
    lists itself as its only indicator, and its correlation table is empty."""
    result = lcmodel.load(SAVED / name)
    assert isinstance(result, lcmodel.Result)
    assert result.names == [name]
    assert not result.is_joint
    assert result[name] is result
    with pytest.raises(LcmodelError, match=rf"no indicator 'nope' in '{name}'"):
        result["nope"]
    correlations = result.correlations()
    assert correlations.empty
    assert list(correlations.columns) == list(lcmodel.results.result.CORRELATION_COLUMNS)
    spec, facts = result.indicator_facts()[name]
    assert spec is result.spec
    assert result.data_hashes() == {name: facts["data_hash"]}
    assert len(facts["data_hash"]) == 64
    again = result.with_posterior(result.idata)
    assert type(again) is type(result)
    pd.testing.assert_frame_equal(again.estimates(), result.estimates())
