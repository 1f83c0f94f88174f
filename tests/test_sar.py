"""SAR area effects (spatial Fay-Herriot): weights, exact log density, specs and priors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lcmodel import DataError, SpecError
from lcmodel.data.adjacency import Adjacency, load_adjacency
from lcmodel.design.adjacency import sar_weights
from lcmodel.models.fay_herriot import FayHerriotModel
from lcmodel.spec import parse_area_level_spec, parse_spec
from lcmodel.spec.priors import PriorSpec

# a 4-cycle a-b-c-d, a pendant e on d, and an island f
PAIRS = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a"), ("d", "e")]
AREAS = list("abcdef")


def _adjacency() -> Adjacency:
    first = [AREAS.index(x) for x, _ in PAIRS]
    second = [AREAS.index(y) for _, y in PAIRS]
    return Adjacency.from_pairs(AREAS, first, second, None, source="test", contiguity="table")


def _dense_w() -> np.ndarray:
    c = np.zeros((6, 6))
    for x, y in PAIRS:
        c[AREAS.index(x), AREAS.index(y)] = c[AREAS.index(y), AREAS.index(x)] = 1
    degree = c.sum(1)
    return np.divide(c, degree[:, None], out=np.zeros_like(c), where=degree[:, None] > 0)


def test_sar_weights_are_row_standardised_with_the_dense_eigenvalues() -> None:
    weights = sar_weights(_adjacency())
    w = np.zeros((6, 6))
    w[weights.rows, weights.columns] = weights.values
    np.testing.assert_allclose(w, _dense_w())
    np.testing.assert_allclose(w.sum(1), [1, 1, 1, 1, 1, 0])  # the island has no weights
    expected = np.sort(np.linalg.eigvals(_dense_w()).real)
    np.testing.assert_allclose(np.sort(weights.eigenvalues), expected, atol=1e-12)
    for rho in (-0.7, 0.3, 0.95):
        sign, logdet = np.linalg.slogdet(np.eye(6) - rho * _dense_w())
        assert sign > 0 and weights.log_determinant(rho) == pytest.approx(logdet, abs=1e-12)


def test_sar_refuses_components_too_large_for_dense_eigenvalues() -> None:
    with pytest.raises(ValueError, match=r"largest connected component has 5 areas.*bym2"):
        sar_weights(_adjacency(), limit=3)


def _fay_herriot(tmp_path: Path, **section: object) -> FayHerriotModel:
    (tmp_path / "adjacency.csv").write_text(
        "area,neighbour\n" + "".join(f"{x},{y}\n" for x, y in PAIRS) + "f,\n"
    )
    table = pd.DataFrame(
        {
            "area": AREAS,
            "y": [10.0, 12.0, 15.0, 11.0, np.nan, 9.0],
            "v": [1.0, 4.0, 2.0, 1.0, np.nan, 3.0],
            "x": [1.0, 2.0, 4.0, 3.0, 5.0, 2.5],
        }
    )
    table.to_csv(tmp_path / "table.csv", index=False)
    raw = {
        "table": str(tmp_path / "table.csv"),
        "estimate": "y",
        "variance": "v",
        "numeric_covariates": ["x"],
        "area_effect": "sar",
        "adjacency": str(tmp_path / "adjacency.csv"),
    } | section
    return FayHerriotModel.from_spec(parse_area_level_spec({"name": "sfh", "area_level": raw}, "x"))


@pytest.mark.parametrize("intercept", [True, False])
def test_sar_fay_herriot_has_the_exact_multivariate_normal_density(
    tmp_path: Path, intercept: bool
) -> None:
    """The area levels' log density is MVN(mean, sigma^2 [(I - rho W)'(I - rho W)]^-1)."""
    model = _fay_herriot(tmp_path, intercept=intercept)
    assert str(model.default_priors()["rho_sar"]) == "Uniform(lower=-1, upper=1)"
    assert ("intercept" in model.prior_table().index) is intercept
    built = model.build()
    free = {rv.name for rv in built.free_RVs}
    assert {"area_level_sar", "rho_sar", "sigma_area", "gamma_x"} <= free
    assert ("intercept" in free) is intercept
    level = built["area_level_sar"]
    logp = built.compile_logp(vars=[level], jacobian=False)
    names = ["area_effect", "z_area", "sigma_area", "rho_sar", "gamma_x"]
    outs = built.replace_rvs_by_values([built[n] for n in names])
    evaluate = built.compile_fn(outs, inputs=built.value_vars, on_unused_input="ignore")
    x = np.array([1.0, 2.0, 4.0, 3.0, 5.0, 2.5])
    scaled = (x - (x.mean() if intercept else 0.0)) / x.std()
    rng = np.random.default_rng(7)
    for _ in range(3):
        point = built.initial_point()
        point = {k: v + rng.normal(0, 0.5, np.shape(v)) for k, v in point.items()}
        effect, z, sigma, rho, gamma = evaluate(point)
        mean = gamma * scaled + (point["intercept"] if intercept else 0.0)
        values = point["area_level_sar"]
        np.testing.assert_allclose(effect, values - mean, atol=1e-12)
        np.testing.assert_allclose(z, effect / sigma, atol=1e-12)
        a = np.eye(6) - rho * _dense_w()
        covariance = sigma**2 * np.linalg.inv(a.T @ a)
        expected = stats.multivariate_normal(mean, covariance).logpdf(values)
        assert logp(point) == pytest.approx(expected, abs=1e-8)


def test_without_an_intercept_area_effects_are_independent_not_zero_sum(tmp_path: Path) -> None:
    model = _fay_herriot(tmp_path, intercept=False, area_effect="iid", adjacency=None)
    free = {rv.name for rv in model.build().free_RVs}
    assert not any(name.startswith(("z_area_surveyed", "area_effect_balance")) for name in free)


def test_sar_is_for_area_level_models_and_intercept_false_needs_numeric_covariates() -> None:
    raw = {
        "name": "x",
        "data": "survey.csv",
        "outcome": {"column": "y"},
        "structure": {"area": "area", "area_effect": "sar", "adjacency": "a.csv"},
    }
    with pytest.raises(SpecError, match=r"'sar' is for area-level .*'icar' or 'bym2'"):
        parse_spec(raw, "x.toml")
    section = {"table": "t.csv", "estimate": "y", "variance": "v", "intercept": False}
    with pytest.raises(SpecError, match="intercept = false needs at least one numeric covariate"):
        parse_area_level_spec({"name": "x", "area_level": section}, "x.toml")
    section |= {"numeric_covariates": ["x"], "covariates": ["region"]}
    with pytest.raises(SpecError, match="no categorical"):
        parse_area_level_spec({"name": "x", "area_level": section}, "x.toml")
    section |= {"area_effect": "sar", "covariates": []}
    with pytest.raises(SpecError, match="area_effect = 'sar' needs the areas' neighbours"):
        parse_area_level_spec({"name": "x", "area_level": section}, "x.toml")


def test_uniform_priors_serve_terms_whose_range_holds_their_bounds() -> None:
    PriorSpec(dist="Uniform", lower=-1, upper=1).check_support("rho_sar", "correlation")
    PriorSpec(dist="Uniform", lower=0, upper=100).check_support("sigma_area", "positive")
    with pytest.raises(SpecError, match=r"reaches outside the correlation values .*-1 to 1"):
        PriorSpec(dist="Uniform", lower=-2, upper=1).check_support("rho_sar", "correlation")
    with pytest.raises(SpecError, match="use one of Uniform"):
        PriorSpec(dist="Normal", mu=0, sigma=1).check_support("rho_sar", "correlation")
    with pytest.raises(SpecError, match="lower < upper"):
        parse_area_level_spec(
            {
                "name": "x",
                "area_level": {"table": "t.csv", "estimate": "y", "variance": "v"},
                "priors": {"sigma_area": {"dist": "Uniform", "lower": 1, "upper": 1}},
            },
            "x.toml",
        )


def test_row_standardised_weights_get_advice_to_drop_them(tmp_path: Path) -> None:
    rows = ["area,neighbour,weight"]
    for x, y in PAIRS:
        rows += [f"{x},{y},{{{x}}}", f"{y},{x},{{{y}}}"]
    degree = {a: sum(a in p for p in PAIRS) for a in AREAS}
    text = "\n".join(rows).format(**{a: 1 / max(d, 1) for a, d in degree.items()})
    (tmp_path / "w.csv").write_text(text + "\nf,,\n")
    with pytest.raises(DataError, match=r"look row-standardised .* drop the weight column"):
        load_adjacency(tmp_path / "w.csv", AREAS)


def test_a_map_too_large_for_sar_is_a_spec_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("lcmodel.design.adjacency.SAR_LIMIT", 3)
    with pytest.raises(SpecError, match=r"largest connected component of .* has 5 areas"):
        _fay_herriot(tmp_path)
