"""Area-level models with waves: table checks, AR(1) densities, model structure (no sampling)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

from lcmodel import FayHerriotModel
from lcmodel.errors import DataError, SpecError
from lcmodel.models.area_waves import ar1_covariance, ar1_from_innovations, ar1_logp
from lcmodel.spec import parse_area_level_spec

AREAS = ["a", "b", "c", "d"]
WAVES = [1, 2, 3]


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = [(a, w) for a in AREAS for w in WAVES]
    return pd.DataFrame(
        {
            "region": [a for a, _ in rows],
            "period": [w for _, w in rows],
            "y": rng.normal(0.5, 0.1, len(rows)),
            "v": rng.uniform(0.002, 0.006, len(rows)),
            "x": rng.normal(0.0, 1.0, len(rows)),  # varies between an area's waves
        }
    )


def _model(tmp_path: Path, table: pd.DataFrame | None = None, **section: object):
    path = tmp_path / "estimates.csv"
    (_table() if table is None else table).to_csv(path, index=False)
    raw = {
        "name": "fh_waves",
        "area_level": {
            "table": str(path),
            "area": "region",
            "wave": "period",
            "estimate": "y",
            "variance": "v",
            **section,
        },
    }
    return FayHerriotModel.from_spec(parse_area_level_spec(raw, "test"))


# ------------------------------------------------------------------ specs and tables
@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"area_wave": "ar1"}, "'area_wave' needs the table's 'wave' column"),
        ({"wave": "y"}, "named as 'wave' and in another role"),
        ({"wave": "period", "population": "N", "n": "n"}, "'population' with 'wave'"),
        ({"wave": "period", "area_wave": "ar2"}, "'ar1', 'iid' or 'random_walk'"),
    ],
)
def test_wave_spec_errors(section: dict[str, object], message: str) -> None:
    raw = {
        "name": "w",
        "area_level": {"table": "t.csv", "estimate": "y", "variance": "v", **section},
    }
    with pytest.raises(SpecError, match=message):
        parse_area_level_spec(raw, "test")


def test_wave_needs_a_table() -> None:
    raw = {"name": "w", "area_level": {"survey": "s.toml", "wave": "period"}}
    with pytest.raises(SpecError, match="'wave' names a column of an area 'table'"):
        parse_area_level_spec(raw, "test")


def test_repeated_area_and_wave_is_an_error_naming_file_columns_and_lines(
    tmp_path: Path,
) -> None:
    table = _table()
    table.loc[4, "period"] = 1  # area b has wave 1 twice: lines 5 and 6
    with pytest.raises(DataError) as error:
        _model(tmp_path, table)
    message = str(error.value)
    assert "estimates.csv" in message
    assert "area 'b' has wave 1 more than once" in message
    assert "columns 'region' and 'period'" in message
    assert "lines 5, 6" in message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"period": "one"},
            r"column 'period' must hold whole numbers, but 'one' is not \(line 5\)",
        ),
        ({"period": None}, r"column 'period' \(the wave\) is blank \(line 5\)"),
    ],
)
def test_bad_waves_are_errors(tmp_path: Path, change: dict[str, object], message: str) -> None:
    table = _table().astype({"period": object})
    for column, value in change.items():
        table.loc[3, column] = value
    with pytest.raises(DataError, match=message):
        _model(tmp_path, table)


def test_a_single_wave_is_an_error(tmp_path: Path) -> None:
    table = _table()
    table = table[table["period"] == 2]
    with pytest.raises(DataError, match="holds a single wave"):
        _model(tmp_path, table)


def test_missing_area_wave_rows_are_predicted_or_named(tmp_path: Path) -> None:
    table = _table().drop(index=[5]).reset_index(drop=True)  # area b, wave 3
    model = _model(tmp_path, table)
    assert len(model.areas) == len(AREAS) * len(WAVES)
    row = model.areas[(model.areas.index == "b") & (model.areas["wave"] == 3)]
    assert row["estimate"].isna().all()
    with pytest.raises(DataError, match=r"\['b at wave 3'\] have no row, so their covariates"):
        _model(tmp_path, table, numeric_covariates=["x"])


def test_inputs_per_area_and_wave(tmp_path: Path) -> None:
    table = _table()
    table.loc[0, ["y", "v"]] = np.nan  # area a, wave 1: no estimate
    model = _model(tmp_path, table, numeric_covariates=["x"])
    area, waves = model.report_inputs()
    assert waves is not None and len(waves) == 12
    assert list(waves.columns[:2]) == ["area", "name"]
    b = table[table["region"] == "b"]
    row = area.set_index("area").loc["b"]
    assert row["direct"] == pytest.approx(b["y"].mean())
    assert row["direct_se"] == pytest.approx(np.sqrt(b["v"].sum()) / 3)
    assert np.isnan(area.set_index("area").loc["a", "direct"])  # not every wave
    assert area.set_index("area").loc["a", "in_sample"]


# ------------------------------------------------------------------ AR(1)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ar1_log_density_is_the_stationary_covariance(seed: int) -> None:
    """The centred log density equals MvNormal(0, sigma^2 rho^|s-t| / (1 - rho^2))."""
    rng = np.random.default_rng(seed)
    waves = int(rng.integers(2, 7))
    sigma, rho = float(rng.uniform(0.1, 2.0)), float(rng.uniform(-0.95, 0.95))
    value = rng.normal(0.0, 1.0, (5, waves))
    ours = ar1_logp(value, sigma, rho).eval()
    covariance = ar1_covariance(sigma, rho, waves)
    expected = multivariate_normal(np.zeros(waves), covariance).logpdf(value)
    np.testing.assert_allclose(ours, expected, rtol=1e-10)
    assert covariance[0, 0] == pytest.approx(sigma**2 / (1 - rho**2))
    assert covariance[0, 2] == pytest.approx(sigma**2 * rho**2 / (1 - rho**2))


def test_ar1_from_innovations_has_the_stationary_covariance() -> None:
    """The non-centred map is linear, u = L z, with L L' the stationary covariance."""
    sigma, rho, waves = 0.7, -0.6, 4
    basis = ar1_from_innovations(np.eye(waves), sigma, rho, waves).eval()  # row k = L[:, k]
    np.testing.assert_allclose(basis.T @ basis, ar1_covariance(sigma, rho, waves), atol=1e-12)


# ------------------------------------------------------------------ structure
@pytest.mark.parametrize(
    ("kind", "free"),
    [
        ("ar1", {"sigma_area_wave", "rho_area_wave"}),
        ("iid", {"sigma_area_wave"}),
        ("random_walk", {"sigma_area_wave", "z_area_wave"}),
    ],
)
def test_model_structure(tmp_path: Path, kind: str, free: set[str]) -> None:
    model = _model(tmp_path, numeric_covariates=["x"], area_wave=kind)
    pymc_model = model.build()
    names = {rv.name for rv in pymc_model.free_RVs}
    assert free <= names
    assert {"intercept", "gamma_x", "sigma_area"} <= names
    assert ("rho_area_wave" in names) == (kind == "ar1")
    assert pymc_model.named_vars_to_dims["area_wave_value"] == ("area", "wave", "quantity")
    assert pymc_model.named_vars_to_dims["area_value"] == ("area", "quantity")
    assert pymc_model.named_vars_to_dims["y"] == ("sampled_area_wave",)
    assert list(pymc_model.coords["wave"]) == WAVES
    assert pymc_model.coords["sampled_area_wave"][:2] == ("a:1", "a:2")
    point = pymc_model.initial_point()
    assert np.isfinite(pymc_model.compile_logp()(point))
    outputs = pymc_model.replace_rvs_by_values(
        [pymc_model["area_wave_value"], pymc_model["area_value"]]
    )
    values = pymc_model.compile_fn(outputs, inputs=pymc_model.value_vars)(point)
    np.testing.assert_allclose(values[1][:, 0], values[0][:, :, 0].mean(axis=1))
    assert "sigma_area_wave" in model.prior_table().index


def test_default_area_wave_is_ar1(tmp_path: Path) -> None:
    model = _model(tmp_path)
    assert model.spec.area_level.area_wave_kind == "ar1"
    assert "rho_area_wave" in {rv.name for rv in model.build().free_RVs}


def test_precise_areas_get_centred_area_wave_effects(tmp_path: Path) -> None:
    table = _table()
    table.loc[table["region"] == "c", "v"] = 1e-6
    model = _model(tmp_path, table)
    np.testing.assert_array_equal(model.area_wave_centred(), [False, False, True, False])
    pymc_model = model.build()
    assert pymc_model.named_vars_to_dims["area_wave_effect_centred"] == (
        "area_wave_centred",
        "wave",
    )
    assert np.isfinite(pymc_model.compile_logp()(pymc_model.initial_point()))
