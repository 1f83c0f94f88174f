"""Real (small) fits: estimates, reproducibility, cells vs rows, save/load, recovery of truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lcmodel
from conftest import SMALL_TRUST_FIT
from lcmodel import FitResult, UnitLevelModel
from lcmodel.errors import SpecError
from lcmodel.inference.samplers import available_samplers
from lcmodel.results.estimates import ESTIMATE_COLUMNS, OPTIONAL_COLUMNS

MODELS = Path(__file__).resolve().parents[1] / "models"
SMALL = SMALL_TRUST_FIT  # the settings of the session's shared trust_fit

pytestmark = pytest.mark.sampling


class TestEstimates:
    def test_table_columns_and_ranges(self, trust_fit: FitResult) -> None:
        table = trust_fit.estimates()
        assert list(table.columns) == [c for c in ESTIMATE_COLUMNS if c not in OPTIONAL_COLUMNS]
        assert len(table) == 20
        assert table["n"].sum() == trust_fit.metadata["n_respondents"]
        assert ((table["mean"] > 0) & (table["mean"] < 1)).all()
        assert (table["lower"] < table["mean"]).all() and (table["mean"] < table["upper"]).all()
        assert (table["interval"] == "90% equal-tailed").all()
        assert table["p_above_benchmark"].between(0, 1).all()
        assert (table["diff_lower"] < table["diff_mean"]).all()
        # every shipped area is in deciles 1-3, so it matches the 1-3 benchmark of its nation
        assert table["benchmark_match"].str.contains("deciles 1-3").all()

    def test_direct_is_sample_share(
        self, trust_fit: FitResult, trust_model: UnitLevelModel
    ) -> None:
        respondents = trust_model.data.respondents
        direct = respondents.groupby("area")["y"].mean()
        table = trust_fit.estimates().set_index("area")
        np.testing.assert_allclose(table["direct"], direct.reindex(table.index))

    def test_small_areas_shrink_towards_their_deprivation_level(self, trust_fit: FitResult) -> None:
        """Small areas move furthest, each towards the pooled level of its deprivation decile.

        The spec has ``deprivation_decile`` as an area covariate, so an area is shrunk towards
        what areas of its decile show, not towards the overall level: on the shipped data an
        area of decile 3 whose direct share is at the overall level moves up, away from it.
        """
        table = trust_fit.estimates()
        decile = table["deprivation_decile"]
        answers = table["n"].groupby(decile).transform("sum")
        level = (table["direct"] * table["n"]).groupby(decile).transform("sum") / answers
        shift = (table["mean"] - table["direct"]).abs()
        gap = (table["direct"] - level).abs()
        small = table["n"] < 30
        large = table["n"] > 200
        assert (shift[small] / gap[small]).median() > 3 * (shift[large] / gap[large]).median()
        # shrinkage moves estimates towards that level, not away from it
        assert ((table["mean"] - level).abs() <= gap + 0.01).all()

    def test_p_above_benchmark_matches_fixed_benchmark_draws(self, trust_fit: FitResult) -> None:
        """England's trust benchmark is published without n: P(above) is a plain tail share."""
        table = trust_fit.estimates().set_index("area")
        area = table.index[(table["nation"] == "England")][0]
        assert np.isnan(table.loc[area, "benchmark_n"])
        draws = trust_fit.posterior["area_value"].sel(area=area, quantity="share")
        draws = draws.to_numpy().ravel()
        benchmark = table.loc[area, "benchmark"]
        assert table.loc[area, "p_above_benchmark"] == pytest.approx(np.mean(draws > benchmark))
        assert table.loc[area, "diff_mean"] == pytest.approx(draws.mean() - benchmark)

    def test_benchmark_uncertainty_widens_difference(self, trust_fit: FitResult) -> None:
        table = trust_fit.estimates().set_index("area")
        known_n = table["benchmark_n"].notna()
        area = known_n[known_n].index[0]
        width_diff = table.loc[area, "diff_upper"] - table.loc[area, "diff_lower"]
        width_area = table.loc[area, "upper"] - table.loc[area, "lower"]
        assert width_diff > width_area * 1.02

    def test_hdi_intervals_on_request(self, trust_fit: FitResult) -> None:
        table = trust_fit.estimates(prob=0.5, kind="hdi")
        assert (table["interval"] == "50% highest-density").all()
        default = trust_fit.estimates()
        assert ((table["upper"] - table["lower"]) < (default["upper"] - default["lower"])).all()

    def test_summary_describe_and_diagnostics(self, trust_fit: FitResult) -> None:
        summary = trust_fit.summary()
        assert "sigma_area" in summary.index
        assert not any(str(name).startswith("z_") for name in summary.index)
        diagnostics = trust_fit.diagnostics()
        assert diagnostics.chains == 2 and diagnostics.draws == 300
        assert diagnostics.n_divergent == 0
        text = trust_fit.describe()
        assert "90% equal-tailed" in text and "Diagnostics" in text

    def test_plot(self, trust_fit: FitResult) -> None:
        _fig, ax = trust_fit.plot_forest()
        assert len(ax.get_yticklabels()) == 20
        assert ax.get_xlabel() == "Share (%)"


class TestSaveLoad:
    def test_round_trip_is_exact(self, trust_fit: FitResult, tmp_path: Path) -> None:
        folder = trust_fit.save(tmp_path / "result")
        assert sorted(p.name for p in folder.iterdir()) == sorted(lcmodel.results.fit_result.FILES)
        loaded = lcmodel.load(folder)
        pd.testing.assert_frame_equal(loaded.estimates(), trust_fit.estimates())
        pd.testing.assert_frame_equal(loaded.inputs, trust_fit.inputs)
        assert loaded.spec == trust_fit.spec
        assert loaded.metadata == trust_fit.metadata
        assert loaded.diagnostics() == trust_fit.diagnostics()
        np.testing.assert_array_equal(
            loaded.posterior["area_value"].to_numpy(),
            trust_fit.posterior["area_value"].to_numpy(),
        )
        # per-area quantities in single precision, parameters (the model's inputs) in double
        for posterior in (trust_fit.posterior, loaded.posterior):
            assert {posterior[v].dtype for v in ("area_value", "area_effect", "z_area")} == {
                np.dtype(np.float32)
            }
            assert posterior["sigma_area"].dtype == np.float64
            assert posterior["z_area_noncentred"].dtype == np.float64
        csv = pd.read_csv(folder / "estimates.csv")
        assert list(csv.columns) == [c for c in ESTIMATE_COLUMNS if c not in OPTIONAL_COLUMNS]

    def test_metadata_records_provenance(self, trust_fit: FitResult) -> None:
        meta = trust_fit.metadata
        assert meta["lcmodel_version"] == lcmodel.__version__
        assert len(meta["data_hash"]) == 64
        assert meta["seed"] == SMALL["seed"]
        assert trust_fit.spec.fit.seed == SMALL["seed"]

    def test_failed_save_leaves_previous_folder(
        self, trust_fit: FitResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        folder = tmp_path / "out"
        folder.mkdir()
        (folder / "result.json").write_text("{}")  # an earlier result may be replaced
        (folder / "old.txt").write_text("previous run")

        def broken(*args: object, **kwargs: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(FitResult, "plot_forest", broken)
        with pytest.raises(OSError, match="disk full"):
            trust_fit.save(folder)
        assert [p.name for p in tmp_path.iterdir()] == ["out"]
        assert sorted(p.name for p in folder.iterdir()) == ["old.txt", "result.json"]

    def test_load_rejects_other_folders(self, tmp_path: Path) -> None:
        with pytest.raises(lcmodel.LcmodelError, match="not a saved lcmodel result"):
            lcmodel.load(tmp_path)


class TestSampling:
    def test_same_seed_same_posterior(
        self, trust_model: UnitLevelModel, trust_fit: FitResult
    ) -> None:
        again = trust_model.fit(progressbar=False, **SMALL)
        np.testing.assert_array_equal(
            again.posterior["area_value"].to_numpy(),
            trust_fit.posterior["area_value"].to_numpy(),
        )

    def test_nutpie_fits_match_pymc_and_compile_once_per_structure(
        self, trust_model: UnitLevelModel, trust_fit: FitResult
    ) -> None:
        """lcmodel calls nutpie itself, to reuse compiled code: the draws must be PyMC's."""
        import pymc as pm

        from lcmodel.inference.sampling import compiled_models, reproducible_numerics

        if trust_fit.metadata["sampler"] != "nutpie":
            pytest.skip("nutpie is not installed")
        compiled = compiled_models()["compiled"]
        again = trust_model.fit(progressbar=False, **(SMALL | {"seed": 12, "draws": 50}))
        assert compiled_models()["compiled"] == compiled  # same structure: no new compile
        assert again.posterior.sizes["draw"] == 50
        with reproducible_numerics():
            theirs = pm.sample(
                draws=SMALL["draws"],
                tune=SMALL["tune"],
                chains=SMALL["chains"],
                cores=SMALL["chains"],
                random_seed=SMALL["seed"],
                nuts_sampler="nutpie",
                progressbar=False,
                compute_convergence_checks=False,
                model=trust_model.build(),
                nuts={"target_accept": trust_model.spec.fit.target_accept, "adaptation": "diag"},
            )
        for name in ("intercept", "sigma_area", "area_value"):
            ours = trust_fit.posterior[name].to_numpy()  # area values kept in single precision
            np.testing.assert_array_equal(
                ours, theirs["posterior"][name].to_numpy().astype(ours.dtype)
            )
        other = trust_model.with_fit_settings(centring="non-centred")
        other.fit(progressbar=False, **(SMALL | {"draws": 20, "tune": 20}))
        assert compiled_models()["compiled"] == compiled + 1  # another structure compiles

    def test_a_fit_short_of_the_gate_is_sampled_again_with_longer_chains(
        self, trust_model: UnitLevelModel
    ) -> None:
        """2 x 100 draws cannot reach a bulk ESS of 400: one more attempt, twice as long."""
        short = {"draws": 100, "tune": 300, "chains": 2, "seed": 3}
        result = trust_model.fit(progressbar=False, extend=1, **short)
        attempts = result.metadata["attempts"]
        assert [(a["draws"], a["tune"]) for a in attempts] == [(100, 300), (200, 600)]
        assert not attempts[0]["passed"]
        assert result.posterior.sizes["draw"] == 200
        assert (result.spec.fit.draws, result.spec.fit.tune) == (200, 600)
        assert result.metadata["wall_seconds"] == pytest.approx(
            sum(a["wall_seconds"] for a in attempts), abs=0.01
        )
        once = trust_model.fit(progressbar=False, extend=0, **short)
        assert len(once.metadata["attempts"]) == 1 and once.posterior.sizes["draw"] == 100

    def test_auto_prefers_nutpie(self, trust_fit: FitResult) -> None:
        expected = "nutpie" if "nutpie" in available_samplers() else "pymc"
        assert trust_fit.metadata["sampler"] == expected

    def test_unseeded_fit_records_its_seed(self, trust_model: UnitLevelModel) -> None:
        raw = trust_model.spec.model_dump()
        raw["fit"].pop("seed")
        unseeded = UnitLevelModel(lcmodel.spec.parse_spec(raw, "unseeded"), trust_model.data)
        tiny = {"draws": 30, "tune": 30, "chains": 2}
        first = unseeded.fit(progressbar=False, **tiny)
        second = unseeded.fit(progressbar=False, **tiny)
        assert first.metadata["seed"] != second.metadata["seed"]
        assert first.spec.fit.seed == first.metadata["seed"]
        again = unseeded.fit(progressbar=False, seed=first.metadata["seed"], **tiny)
        np.testing.assert_array_equal(
            again.posterior["area_value"].to_numpy(), first.posterior["area_value"].to_numpy()
        )

    def test_thinning_keeps_every_nth_draw_of_the_same_run(
        self, trust_model: UnitLevelModel
    ) -> None:
        settings = {"draws": 60, "tune": 60, "chains": 2, "seed": 17}
        full = trust_model.fit(progressbar=False, **settings)
        thin = trust_model.fit(progressbar=False, thin=4, **settings)
        assert thin.posterior.sizes["draw"] == 15
        assert thin.spec.fit.thin == 4
        for name in ("intercept", "sigma_area", "area_value"):
            np.testing.assert_array_equal(
                thin.posterior[name].to_numpy(), full.posterior[name].to_numpy()[:, ::4]
            )
        assert thin.idata["sample_stats"].sizes["draw"] == 15
        assert thin.diagnostics().draws == 15  # the gate judges the draws kept
        with pytest.raises(SpecError, match=r"thin \(70\).*cannot exceed draws \(60\)"):
            trust_model.fit(progressbar=False, thin=70, **settings)

    def test_pymc_sampler_is_reproducible(self, trust_model: UnitLevelModel) -> None:
        settings = {"draws": 100, "tune": 100, "chains": 2, "seed": 5, "sampler": "pymc"}
        first = trust_model.fit(progressbar=False, **settings)
        second = trust_model.fit(progressbar=False, **settings)
        assert first.metadata["sampler"] == "pymc"
        np.testing.assert_array_equal(
            first.posterior["area_value"].to_numpy(), second.posterior["area_value"].to_numpy()
        )

    def test_cells_and_rows_give_the_same_posterior(self, trust_model: UnitLevelModel) -> None:
        settings = {"draws": 1000, "tune": 500, "chains": 2}
        cells = trust_model.fit(progressbar=False, seed=1, aggregate=True, **settings)
        rows = trust_model.fit(progressbar=False, seed=2, aggregate=False, **settings)
        a = cells.estimates().set_index("area")
        b = rows.estimates().set_index("area")
        # posterior means agree within Monte Carlo error (sd / sqrt(ESS), both fits)
        mcse = np.sqrt(a["sd"] ** 2 / a["ess_bulk"] + b["sd"] ** 2 / b["ess_bulk"])
        assert (np.abs(a["mean"] - b["mean"]) < 4.5 * mcse).all()
        np.testing.assert_allclose(a["sd"], b["sd"], rtol=0.15)
        s_a = cells.posterior["sigma_area"].to_numpy().ravel()
        s_b = rows.posterior["sigma_area"].to_numpy().ravel()
        assert abs(np.median(s_a) - np.median(s_b)) < 0.1 * np.median(s_a)
