"""Prior specs: the fixed vocabulary, parameter checks and support checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from lcmodel.errors import SpecError
from lcmodel.spec import load_spec, parse_spec
from lcmodel.spec.priors import DISTRIBUTIONS, PriorSpec

BASE = {"name": "t", "data": "x.csv", "outcome": {"column": "q"}, "structure": {"area": "area"}}


@pytest.mark.parametrize(
    ("raw", "params", "support"),
    [
        ({"dist": "Normal", "mu": 0, "sigma": 2.5}, {"mu": 0.0, "sigma": 2.5}, "real"),
        ({"dist": "Normal", "sigma": 1, "mu": -3}, {"mu": -3.0, "sigma": 1.0}, "real"),
        (
            {"dist": "StudentT", "nu": 3, "mu": 0, "sigma": 1},
            {"nu": 3.0, "mu": 0.0, "sigma": 1.0},
            "real",
        ),
        ({"dist": "HalfNormal", "sigma": 0.5}, {"sigma": 0.5}, "positive"),
        ({"dist": "Exponential", "lam": 2}, {"lam": 2.0}, "positive"),
        ({"dist": "Gamma", "alpha": 2, "beta": 0.1}, {"alpha": 2.0, "beta": 0.1}, "positive"),
        ({"dist": "LogNormal", "mu": -1, "sigma": 1}, {"mu": -1.0, "sigma": 1.0}, "positive"),
        ({"dist": "ZeroSumNormal", "sigma": 1}, {"sigma": 1.0}, "zerosum"),
        ({"dist": "Beta", "alpha": 2, "beta": 3}, {"alpha": 2.0, "beta": 3.0}, "unit"),
    ],
)
def test_valid_priors(raw: dict, params: dict, support: str) -> None:
    prior = PriorSpec(**raw)
    assert prior.params == params
    assert list(prior.params) == list(DISTRIBUTIONS[raw["dist"]].params)  # canonical order
    assert all(isinstance(v, float) for v in prior.params.values())
    assert prior.support == support
    assert prior.to_dict() == {"dist": raw["dist"], **params}
    assert PriorSpec(**prior.to_dict()) == prior


def test_prior_text() -> None:
    prior = PriorSpec(dist="Normal", mu=0, sigma=2.5)
    assert str(prior) == "Normal(mu=0, sigma=2.5)"
    assert repr(prior) == "PriorSpec(Normal(mu=0.0, sigma=2.5))"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"dist": "Normall", "mu": 0, "sigma": 1}, ["unknown distribution 'Normall'", "'Normal'"]),
        ({"dist": "halfnormal", "sigma": 1}, ["unknown distribution", "did you mean 'HalfNormal'"]),
        ({"dist": "Dirichlet", "a": 1}, ["unknown distribution 'Dirichlet'", "choose one of"]),
        ({"dist": "Beta", "alpha": 1, "beta": 0}, ["'beta' must be > 0"]),
        ({"dist": "HalfNormal", "sigam": 1}, ["no parameter 'sigam'", "did you mean 'sigma'"]),
        ({"dist": "Normal", "mu": 0, "sd": 1}, ["no parameter 'sd'", "parameters are mu, sigma"]),
        ({"dist": "Normal", "mu": 0}, ["Normal needs parameter(s) sigma"]),
        ({"dist": "Gamma"}, ["needs parameter(s) alpha, beta"]),
        ({"dist": "HalfNormal", "sigma": 0}, ["'sigma' must be > 0, got 0"]),
        ({"dist": "Normal", "mu": 0, "sigma": -1}, ["'sigma' must be > 0"]),
        ({"dist": "StudentT", "nu": 0, "mu": 0, "sigma": 1}, ["'nu' must be > 0"]),
        ({"dist": "Exponential", "lam": -0.5}, ["'lam' must be > 0"]),
        ({"dist": "HalfNormal", "sigma": "1"}, ["'sigma' must be a number, got '1'"]),
        ({"dist": "HalfNormal", "sigma": True}, ["'sigma' must be a number"]),
        ({"dist": "HalfNormal", "sigma": [1]}, ["'sigma' must be a number"]),
        ({"dist": "Normal", "mu": "zero", "sigma": 1}, ["'mu' must be a number"]),
        ({"dist": "Normal", "mu": float("nan"), "sigma": 1}, ["'mu' must be finite"]),
        ({"dist": "Normal", "mu": 0, "sigma": float("inf")}, ["'sigma' must be finite"]),
        ({"dist": "HalfNormal", "sigma": float("nan")}, ["'sigma'"]),
    ],
)
def test_invalid_priors(raw: dict, expected: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        PriorSpec(**raw)
    for part in expected:
        assert part in str(info.value)
    # Through a spec, the same problem is a SpecError naming the prior's key.
    with pytest.raises(SpecError) as spec_info:
        parse_spec({**BASE, "priors": {"sigma_area": raw}}, source="spec.toml")
    message = str(spec_info.value)
    assert message.startswith("spec.toml:")
    assert "priors.sigma_area" in message
    for part in expected:
        assert part in message


def test_prior_without_dist() -> None:
    with pytest.raises(SpecError, match=r"missing required key 'priors\.b\.dist'"):
        parse_spec({**BASE, "priors": {"b": {"mu": 0, "sigma": 1}}}, source="s")


@pytest.mark.parametrize(
    ("dist", "support"),
    [("Normal", "real"), ("HalfCauchy", "positive"), ("ZeroSumNormal", "zerosum")],
)
def test_check_support_accepts_matching_support(dist: str, support: str) -> None:
    params = dict.fromkeys(DISTRIBUTIONS[dist].params, 1.0)
    PriorSpec(dist=dist, **params).check_support("term", support)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("prior", "support", "allowed"),
    [
        (PriorSpec(dist="HalfNormal", sigma=1), "real", "Normal, StudentT, Cauchy"),
        (PriorSpec(dist="Normal", mu=0, sigma=1), "positive", "HalfNormal, HalfStudentT"),
        (PriorSpec(dist="Normal", mu=0, sigma=1), "zerosum", "use one of ZeroSumNormal"),
    ],
)
def test_check_support_rejects_wrong_support(prior: PriorSpec, support: str, allowed: str) -> None:
    with pytest.raises(SpecError) as info:
        prior.check_support("sigma_area", support)  # type: ignore[arg-type]
    message = str(info.value)
    assert "'sigma_area'" in message
    assert f"needs a {support} prior" in message
    assert f"gives {prior.support} values" in message
    assert allowed in message


def test_priors_table_in_a_spec_file(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(
        'name = "t"\ndata = "s.csv"\n[outcome]\ncolumn = "q"\n[structure]\narea = "area"\n'
        "[priors]\n"
        'sigma_area = { dist = "HalfNormal", sigma = 0.5 }\n'
        'intercept = { dist = "Normal", mu = 0, sigma = 2.5 }\n',
        encoding="utf-8",
    )
    spec = load_spec(path)
    assert set(spec.priors) == {"sigma_area", "intercept"}
    assert spec.priors["sigma_area"] == PriorSpec(dist="HalfNormal", sigma=0.5)
    assert spec.priors["intercept"].params == {"mu": 0.0, "sigma": 2.5}

    path.write_text(
        path.read_text().replace("sigma = 0.5", "sigma = -0.5").replace("mu = 0", "m = 0"),
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert str(path) in message
    assert "priors.sigma_area" in message and "must be > 0" in message
    assert "priors.intercept" in message and "did you mean 'mu'" in message


def test_prior_must_be_a_table() -> None:
    with pytest.raises(SpecError, match=r"priors\.b"):
        parse_spec({**BASE, "priors": {"b": "Normal(0, 1)"}}, source="s")
