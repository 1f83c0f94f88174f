"""Spatial area effects (ICAR, BYM2): specs, model structure, and recovery on a map."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from lcmodel import SpecError, UnitLevelModel
from lcmodel.data.survey import prepare_survey_data
from lcmodel.design.adjacency import icar_scaling_factors
from lcmodel.models.fay_herriot import FayHerriotModel
from lcmodel.models.joint import JointModel
from lcmodel.spec import load_spec, parse_area_level_spec, parse_spec

MODELS = Path(__file__).resolve().parents[1] / "models"

# a path a-b-c, a pair d-e, and an island f
PAIRS = [("a", "b"), ("b", "c"), ("d", "e")]


def _spec(tmp_path: Path, area_effect: str, **structure: object) -> tuple:
    """A binary survey of six areas (f unsurveyed) with an adjacency table."""
    lines = ["area,neighbour", *(f"{x},{y}" for x, y in PAIRS), "f,"]
    (tmp_path / "adjacency.csv").write_text("\n".join(lines) + "\n")
    survey = pd.DataFrame(
        {
            "area": list("aaabbbcccdddeee"),
            "y": [1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1],
        }
    )
    areas = pd.DataFrame({"area": list("abcdef"), "name": list("ABCDEF")})
    raw = {
        "name": "spatial",
        "data": str(tmp_path / "survey.csv"),
        "outcome": {"column": "y"},
        "structure": {
            "area": "area",
            "area_effect": area_effect,
            "adjacency": str(tmp_path / "adjacency.csv"),
            **structure,
        },
    }
    spec = parse_spec(raw, "spatial")
    return UnitLevelModel(spec, prepare_survey_data(survey, spec, areas))


def _point(model, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.normal(0.0, 0.7, np.shape(v)) for k, v in model.initial_point().items()}


def _evaluate(model, names: list[str], point: dict) -> list[np.ndarray]:
    outs = model.replace_rvs_by_values([model[name] for name in names])
    return model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")(point)


# ------------------------------------------------------------------ specs
@pytest.mark.parametrize("kind", ["icar", "bym2"])
def test_a_spatial_effect_needs_the_areas_neighbours(kind: str) -> None:
    raw = {
        "name": "x",
        "data": "survey.csv",
        "outcome": {"column": "y"},
        "structure": {"area": "area", "area_effect": kind},
    }
    with pytest.raises(SpecError, match=f"area_effect = '{kind}' needs the areas' neighbours"):
        parse_spec(raw, "x.toml")
    raw["structure"] |= {"area_effect": "iid", "contiguity": "rook"}
    with pytest.raises(SpecError, match="'contiguity' applies to a boundary file"):
        parse_spec(raw, "x.toml")


def test_contiguity_is_for_boundary_files_not_tables(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"adjacency\.csv: contiguity = 'rook' applies to boundary"):
        _spec(tmp_path, "bym2", contiguity="rook")


# ------------------------------------------------------------------ structure
def test_bym2_mixes_independent_and_scaled_icar_effects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a map above the eigenbasis limit: the sparse ICAR field beside an independent one."""
    monkeypatch.setattr("lcmodel.design.adjacency.BYM2_MODES_LIMIT", 5)
    model = _spec(tmp_path, "bym2")
    assert model.with_fit_settings(draws=10).adjacency is model.adjacency  # not read again
    assert "rho_area" in model.prior_table().index
    assert str(model.default_priors()["rho_area"]) == "Beta(alpha=1, beta=1)"
    built = model.build()
    free = {rv.name for rv in built.free_RVs}
    assert {"rho_area", "z_area_independent", "u_area_spatial_1", "u_area_spatial_2"} <= free
    assert "z_area_island" in free
    assert built.coords["area_component_1"] == ("a", "b", "c")
    assert built.coords["area_component_2"] == ("d", "e")
    assert built.coords["area_island"] == ("f",)
    scaling = icar_scaling_factors(model.adjacency)
    # a 3-area path and a 2-area pair (Riebler scaling: geometric-mean variance 1)
    np.testing.assert_allclose(scaling[:3], (50 / 729) ** (1 / 3))
    np.testing.assert_allclose(scaling[3:5], 0.25)
    logp = built.compile_logp(vars=[built["u_area_spatial_1"]], jacobian=False)
    for seed in (1, 2):
        point = _point(built, seed)
        names = ["z_area", "area_effect", "rho_area", "sigma_area", "z_area_independent"]
        z, effect, rho, sigma, v = _evaluate(built, names, point)
        u1, u2, island = _evaluate(
            built, ["u_area_spatial_1", "u_area_spatial_2", "z_area_island"], point
        )
        assert abs(u1.sum()) < 1e-12 and abs(u2.sum()) < 1e-12  # sum to zero per component
        field = np.concatenate([u1 / np.sqrt(scaling[:3]), u2 / np.sqrt(scaling[3:5]), island])
        np.testing.assert_allclose(z, np.sqrt(1 - rho) * v + np.sqrt(rho) * field, atol=1e-12)
        np.testing.assert_allclose(effect, sigma * z, atol=1e-12)
        # the pairwise-difference density: -1/2 ((a - b)^2 + (b - c)^2)
        expected = -0.5 * ((u1[0] - u1[1]) ** 2 + (u1[1] - u1[2]) ** 2)
        assert logp(point) == pytest.approx(expected, abs=1e-10)


def _bym2_covariance(rho: float) -> np.ndarray:
    """BYM2's standardised covariance on the test map: ``rho U + (1 - rho) (I - 11'/n)``.

    ``U`` is the scaled ICAR covariance, ``pinv(Q_c) / s_c`` per component, and 1 for the island.
    """
    path = np.array([[1.0, -1, 0], [-1, 2, -1], [0, -1, 1]])
    pair = np.array([[1.0, -1], [-1, 1]])
    spatial = np.zeros((6, 6))
    spatial[:3, :3] = np.linalg.pinv(path) / (50 / 729) ** (1 / 3)
    spatial[3:5, 3:5] = np.linalg.pinv(pair) / 0.25
    spatial[5, 5] = 1.0
    return rho * spatial + (1 - rho) * (np.eye(6) - 1 / 6)


def test_bym2_is_sampled_in_its_eigenbasis_with_the_same_covariance(tmp_path: Path) -> None:
    """Unit normals per mode, scaled by rho: exactly BYM2's covariance, islands included."""
    model = _spec(tmp_path, "bym2")
    built = model.build()
    free = {rv.name for rv in built.free_RVs}
    latents = ["z_area_mode", "z_area_between", "z_area_island"]
    assert {"rho_area", *latents} <= free
    assert not {"z_area_independent", "u_area_spatial_1"} & free
    # 2 + 1 modes within the path and the pair; 3 components (the island one) less the mean
    assert [len(built.coords[d]) for d in ("area_mode", "area_between")] == [3, 2]
    assert built.coords["area_island"] == ("f",)
    point = _point(built, 4)
    sizes = [point[f"{name}"].size for name in latents]
    for rho in (0.0, 0.3, 0.9):
        point["rho_area_logodds__"] = np.log(rho / (1 - rho)) if 0 < rho else -50.0
        # z_area is linear in the latents: its columns are the fields of unit latents
        columns = []
        for k in range(sum(sizes)):
            unit = np.zeros(sum(sizes))
            unit[k] = 1.0
            for name, part in zip(latents, np.split(unit, np.cumsum(sizes)[:-1]), strict=True):
                point[name] = part
            columns.append(_evaluate(built, ["z_area"], point)[0])
        basis = np.stack(columns, axis=1)
        np.testing.assert_allclose(basis @ basis.T, _bym2_covariance(rho), atol=1e-8)


def test_icar_effects_are_the_scaled_field(tmp_path: Path) -> None:
    model = _spec(tmp_path, "icar")
    built = model.build()
    free = {rv.name for rv in built.free_RVs}
    assert "rho_area" not in free and "z_area_independent" not in free
    assert "rho_area" not in model.prior_table().index
    point = _point(built, 3)
    z, u1 = _evaluate(built, ["z_area", "u_area_spatial_1"], point)
    np.testing.assert_allclose(z[:3], u1 / np.sqrt((50 / 729) ** (1 / 3)), atol=1e-12)


def test_fay_herriot_gets_spatial_effects_too(tmp_path: Path) -> None:
    (tmp_path / "adjacency.csv").write_text("area,neighbour\na,b\nb,c\nc,d\nd,a\n")
    table = pd.DataFrame(
        {"area": list("abcd"), "y": [0.4, 0.5, 0.6, 0.55], "v": [0.01, 0.02, 0.01, 0.02]}
    )
    table.to_csv(tmp_path / "table.csv", index=False)
    section = {
        "table": str(tmp_path / "table.csv"),
        "estimate": "y",
        "variance": "v",
        "area_effect": "bym2",
        "adjacency": str(tmp_path / "adjacency.csv"),
    }
    spec = parse_area_level_spec({"name": "fh", "area_level": section}, "fh.toml")
    fh = FayHerriotModel.from_spec(spec)
    free = {rv.name for rv in fh.build().free_RVs}
    assert {"rho_area", "z_area_mode"} <= free
    assert "rho_area" in fh.prior_table().index
    # a refit with other [fit] settings keeps the neighbourhood instead of reading it again
    assert fh.with_fit_settings(draws=10).adjacency is fh.adjacency


def _joint(kinds: list[str]) -> JointModel:
    """The shipped social joint spec with its first indicators' area effects replaced."""
    spec = load_spec(MODELS / "social_joint.toml", "joint")
    models = [UnitLevelModel.from_spec(s) for s in spec.indicator_specs()][: len(kinds)]
    geometry = MODELS.parent / "data" / "areas.geojson"
    for index, kind in enumerate(kinds):
        if kind == "iid":
            continue
        model = models[index]
        structure = model.spec.structure.model_copy(
            update={"area_effect": kind, "adjacency": geometry}
        )
        spatial = model.spec.model_copy(update={"structure": structure})
        models[index] = UnitLevelModel(spatial, model.data)
    spec = spec.model_copy(update={"indicators": spec.indicators[: len(kinds)]})
    return JointModel(spec, models)


def test_joint_models_need_one_kind_of_area_effect() -> None:
    with pytest.raises(SpecError, match=r"area effects differ \(speak_neighbours: bym2 over"):
        _joint(["bym2", "iid"])


def test_joint_bym2_keeps_each_indicators_spatial_share_and_unit_variance() -> None:
    """z[:, k] = sqrt(1 - rho_k) (v L')[:, k] + sqrt(rho_k) (phi L')[:, k], per indicator."""
    joint = _joint(["bym2", "bym2", "bym2"])
    names = joint.names
    built = joint.build()
    free = {rv.name for rv in built.free_RVs}
    assert {"area_corr_chol", "u_area_independent"} <= free
    for name in names:
        assert {f"{name}::rho_area", f"{name}::u_area_spatial"} <= free
    assert "u_area" not in free
    scaling = icar_scaling_factors(joint.models[names[0]].adjacency)
    wanted = ["area_corr_chol", "u_area_independent"]
    for name in names:
        wanted += [f"{name}::{v}" for v in ("rho_area", "u_area_spatial", "z_area")]
    for seed in (4, 5):
        with warnings.catch_warnings():  # the LKJ factor's initial point: a dot without BLAS
            warnings.filterwarnings("ignore", "PyTensor could not link to a BLAS")
            point = _point(built, seed)
        values = dict(zip(wanted, _evaluate(built, wanted, point), strict=True))
        chol = values["area_corr_chol"]
        np.testing.assert_allclose((chol**2).sum(axis=1), 1.0)  # unit-length rows
        v = values["u_area_independent"].T  # (area, indicator), zero-sum over areas
        np.testing.assert_allclose(v.sum(axis=0), 0.0, atol=1e-10)
        phi = np.stack([values[f"{n}::u_area_spatial"] for n in names], axis=1)
        phi = phi / np.sqrt(scaling)[:, None]
        for k, name in enumerate(names):
            rho = values[f"{name}::rho_area"]
            expected = np.sqrt(1 - rho) * (v @ chol.T)[:, k] + np.sqrt(rho) * (phi @ chol.T)[:, k]
            np.testing.assert_allclose(values[f"{name}::z_area"], expected, atol=1e-10)


# ------------------------------------------------------------------ recovery
def _lattice_survey(tmp_path: Path, rows: int, columns: int, seed: int) -> pd.DataFrame:
    """A rook lattice of areas with a smooth true logit and ~15 respondents per area."""
    rng = np.random.default_rng(seed)
    codes = [f"A{r:02d}{c:02d}" for r in range(rows) for c in range(columns)]
    pairs = [
        (codes[r * columns + c], codes[(r + dr) * columns + c + dc])
        for r in range(rows)
        for c in range(columns)
        for dr, dc in [(0, 1), (1, 0)]
        if r + dr < rows and c + dc < columns
    ]
    table = pd.DataFrame(pairs, columns=["area", "neighbour"])
    table.to_csv(tmp_path / "adjacency.csv", index=False)
    r, c = np.divmod(np.arange(rows * columns), columns)
    smooth = np.sin(r / 2.5) + np.cos(c / 2.5)
    logit = -0.2 + 0.7 * (smooth - smooth.mean()) / smooth.std() + rng.normal(0, 0.15, len(r))
    n = rng.poisson(15, len(codes))
    n[rng.choice(len(codes), 6, replace=False)] = 0  # six areas without respondents
    survey = pd.DataFrame({"area": np.repeat(codes, n)})
    survey["y"] = rng.binomial(1, expit(np.repeat(logit, n)))
    survey.to_csv(tmp_path / "survey.csv", index=False)
    pd.DataFrame({"area": codes}).to_csv(tmp_path / "areas.csv", index=False)
    return pd.DataFrame({"area": codes, "truth": expit(logit), "n": n}).set_index("area")


@pytest.mark.sampling
def test_bym2_recovers_a_smooth_map_better_than_independent_effects(tmp_path: Path) -> None:
    """8 x 8 areas with a smooth truth: BYM2 finds the spatial share, its intervals cover the
    true shares, and its errors (above all in areas without respondents, predicted from
    their neighbours) are smaller than those of independent effects."""
    truth = _lattice_survey(tmp_path, 8, 8, seed=3)
    errors, coverage = {}, {}
    for kind in ("iid", "bym2"):
        raw = {
            "name": kind,
            "data": str(tmp_path / "survey.csv"),
            "areas": str(tmp_path / "areas.csv"),
            "outcome": {"column": "y"},
            "structure": {
                "area": "area",
                "area_effect": kind,
                "adjacency": str(tmp_path / "adjacency.csv"),
            },
            "fit": {"draws": 500, "tune": 500, "chains": 2, "seed": 5},
        }
        result = UnitLevelModel.from_spec(parse_spec(raw, kind)).fit(progressbar=False)
        print(kind, result.diagnostics().failures)  # 2 x 500 draws: the gate is not the point
        table = result.estimates().set_index("area").join(truth[["truth"]])
        surveyed = truth["n"].reindex(table.index) > 0
        errors[kind] = (table["mean"] - table["truth"]).pow(2).groupby(surveyed).mean()
        coverage[kind] = (
            (table["lower"] <= table["truth"]) & (table["truth"] <= table["upper"])
        ).mean()
        if kind == "bym2":
            rho = float(result.idata.posterior["rho_area"].mean())
    print(f"RMSE {dict((k, np.sqrt(v).round(4).to_dict()) for k, v in errors.items())}")
    print(f"coverage {coverage}, rho {rho:.2f}")
    assert rho > 0.5
    assert coverage["bym2"] >= 0.8
    assert errors["bym2"][False] < errors["iid"][False]  # areas without respondents
    assert errors["bym2"].mean() < errors["iid"].mean()


def test_spatial_effects_combine_with_area_wave_walks() -> None:
    """Spatio-temporal: BYM2 over the shipped map plus each area's own walk over the waves."""
    spec = load_spec(MODELS / "trust_waves.toml")
    structure = spec.structure.model_copy(
        update={"area_effect": "bym2", "adjacency": MODELS.parent / "data" / "areas.geojson"}
    )
    model = UnitLevelModel.from_spec(spec.model_copy(update={"structure": structure}))
    assert model.adjacency is not None and model.adjacency.n_components == 1
    built = model.build()
    free = {rv.name for rv in built.free_RVs}
    assert {"rho_area", "z_area_mode", "z_area_wave"} <= free
    assert built.named_vars_to_dims["area_wave_value"][:2] == ("area", "wave")
    assert np.isfinite(built.compile_logp()(built.initial_point()))
