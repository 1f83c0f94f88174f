"""The command line: outputs, exit codes, messages, and the no-partial-output rule."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcmodel.cli import EXIT_BAD_INPUT, EXIT_DIAGNOSTICS, main
from lcmodel.results.estimates import ESTIMATE_COLUMNS, OPTIONAL_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "models" / "trust.toml"
SMALL = ["--draws", "300", "--tune", "300", "--chains", "2", "--seed", "4", "--quiet"]


def _err(capsys) -> str:
    """Captured stderr with line wrapping undone."""
    return " ".join(capsys.readouterr().err.split())


def _copy_example(tmp_path: Path) -> Path:
    """Copy the shipped specs and data so a test can break them."""
    shutil.copytree(ROOT / "models", tmp_path / "models")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path / "models" / "trust.toml"


@pytest.mark.sampling
def test_fit_writes_outputs_and_prints_table(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = main(["fit", str(SPEC), "--out", str(out), "--allow-failed-diagnostics", *SMALL])
    printed = capsys.readouterr().out
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["estimates.csv", "posterior.nc", "diagnostics.json", "forest.png", "result.json"]
    )
    table = pd.read_csv(out / "estimates.csv")
    assert list(table.columns) == [c for c in ESTIMATE_COLUMNS if c not in OPTIONAL_COLUMNS]
    assert len(table) == 20
    diagnostics = json.loads((out / "diagnostics.json").read_text())
    assert diagnostics["chains"] == 2 and "passed" in diagnostics
    assert (out / "forest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Hartley Cross" in printed and "90% equal-tailed" in printed
    assert "P(above)" in printed

    assert main(["summarize", str(out)]) == 0
    assert "Hartley Cross" in capsys.readouterr().out


@pytest.mark.sampling
def test_failed_diagnostics_exit_code_and_no_output(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    tiny = ["--draws", "30", "--tune", "30", "--chains", "2", "--seed", "1", "--quiet"]
    code = main(["fit", str(SPEC), "--out", str(out), *tiny])
    captured = capsys.readouterr()
    assert code == EXIT_DIAGNOSTICS
    assert "Diagnostics FAILED" in captured.out
    assert "--allow-failed-diagnostics" in captured.err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []

    code = main(["fit", str(SPEC), "--out", str(out), "--allow-failed-diagnostics", *tiny])
    assert code == 0
    assert json.loads((out / "diagnostics.json").read_text())["passed"] is False
    assert (pd.read_csv(out / "estimates.csv")["diagnostics_ok"] == False).all()  # noqa: E712


def test_refuses_to_replace_an_unrelated_folder(tmp_path: Path, capsys) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("months of work")
    code = main(["fit", str(SPEC), "--out", str(precious), *SMALL])
    assert code == EXIT_BAD_INPUT
    assert "not an earlier lcmodel output" in _err(capsys)
    assert (precious / "chapter1.tex").read_text() == "months of work"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.replace("family = ", "famly = "), "did you mean 'family'"),
        (lambda s: s.replace("draws = 1000", "draws = -5"), "fit.draws"),
        (lambda s: s.replace('"A few can be trusted", ', ""), "does not know"),
        (lambda s: s.replace('"Many can be trusted"', '"Many can be trustd"'), "does not know"),
        (lambda s: s.replace('indicator = "trust"', 'indicator = "trst"'), "did you mean"),
        (lambda s: s.replace('covariates = ["age_band", "sex"]', 'covariates = ["age"]'), "age"),
    ],
)
def test_bad_spec_or_data_exits_2_without_output(tmp_path: Path, capsys, edit, message) -> None:
    spec = _copy_example(tmp_path)
    spec.write_text(edit(spec.read_text()))
    out = tmp_path / "out"
    code = main(["fit", str(spec), "--out", str(out), *SMALL])
    err = _err(capsys)
    assert code == EXIT_BAD_INPUT
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()


def test_area_missing_from_areas_table(tmp_path: Path, capsys) -> None:
    spec = _copy_example(tmp_path)
    areas = tmp_path / "data" / "areas.csv"
    lines = areas.read_text().splitlines()
    areas.write_text("\n".join(line for line in lines if not line.startswith("LC07")) + "\n")
    code = main(["fit", str(spec), "--out", str(tmp_path / "out"), *SMALL])
    err = _err(capsys)
    assert code == EXIT_BAD_INPUT
    assert "LC07" in err and "areas.csv" in err and "Add a row" in err


def test_data_override_with_empty_file(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code = main(["fit", str(SPEC), "--data", str(empty), "--out", str(tmp_path / "o"), *SMALL])
    assert code == EXIT_BAD_INPUT
    assert "empty.csv: survey file is empty" in _err(capsys)
    assert not (tmp_path / "o").exists()


def test_missing_spec(tmp_path: Path, capsys) -> None:
    assert main(["fit", str(tmp_path / "nope.toml")]) == EXIT_BAD_INPUT
    assert "spec file not found" in _err(capsys)


def test_unavailable_sampler_is_a_clear_error(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("lcmodel.inference.samplers.available_samplers", lambda: ["pymc"])
    code = main(["fit", str(SPEC), "--sampler", "nutpie", "--out", str(tmp_path / "o"), *SMALL])
    assert code == EXIT_BAD_INPUT
    assert "pip install 'lcmodel[nutpie]'" in _err(capsys)


def test_priors_command(capsys) -> None:
    assert main(["priors", str(SPEC)]) == 0
    out = capsys.readouterr().out
    assert "sigma_area" in out and "HalfNormal(sigma=1)" in out and "gamma_deprivation" in out


def test_simulate_command(tmp_path: Path, capsys) -> None:
    code = main(["simulate", "--out", str(tmp_path), "--respondents", "400", "--areas", "8"])
    assert code == 0
    assert "400 respondents in 8 areas" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "survey.csv")) == 400
    assert main(["simulate", "--out", str(tmp_path), "--areas", "1"]) == EXIT_BAD_INPUT


FLOAT_RTOL = 1e-12
"""Relative tolerance for floats regenerated on another machine.

The last bit of a float sum depends on the numpy build and the processor's vector instructions,
so the same seed gives the same floats only to about 1e-15 across machines; 1e-12 leaves room
for that and still catches any change of the simulation itself.
"""


def assert_same_table(fresh: pd.DataFrame, shipped: pd.DataFrame, name: str) -> None:
    """Text and integer columns equal exactly, float columns to ``FLOAT_RTOL``."""
    assert list(fresh.columns) == list(shipped.columns), name
    assert len(fresh) == len(shipped), name
    for column in shipped.columns:
        a, b = fresh[column], shipped[column]
        if pd.api.types.is_float_dtype(b) or pd.api.types.is_float_dtype(a):
            np.testing.assert_allclose(
                a.to_numpy(dtype=float),
                b.to_numpy(dtype=float),
                rtol=FLOAT_RTOL,
                atol=0,
                err_msg=f"{name}.csv column {column}",
            )
        else:
            pd.testing.assert_series_equal(a, b, check_exact=True, obj=f"{name}.csv {column}")


def test_shipped_data_is_what_the_simulator_writes(tmp_path: Path) -> None:
    """data/ is generated by `lcmodel simulate` with its defaults: regenerate and compare.

    Text and integers must match exactly; floats to a relative 1e-12, which no change of the
    simulation passes but which any machine's rounding of float sums does.
    """
    assert main(["simulate", "--out", str(tmp_path)]) == 0
    for name in ["survey", "areas", "benchmarks", "truth", "population"]:
        fresh = pd.read_csv(tmp_path / f"{name}.csv", keep_default_na=False, na_values=[""])
        shipped = pd.read_csv(ROOT / "data" / f"{name}.csv", keep_default_na=False, na_values=[""])
        assert_same_table(fresh, shipped, name)


def test_shipped_data_comparison_catches_a_changed_value() -> None:
    """The tolerant comparison still fails on a real change (a negative control)."""
    shipped = pd.read_csv(ROOT / "data" / "truth.csv")
    rounded = shipped.assign(population=shipped["population"] * (1 + 1e-15))
    assert_same_table(rounded, shipped, "truth")  # machine-level noise passes
    changed = shipped.assign(population=shipped["population"] * (1 + 1e-9))
    with pytest.raises(AssertionError):
        assert_same_table(changed, shipped, "truth")
    relabelled = shipped.assign(area=shipped["area"].str.replace("LC01", "LC99"))
    with pytest.raises(AssertionError):
        assert_same_table(relabelled, shipped, "truth")


def test_console_script_is_installed() -> None:
    lcmodel = Path(sys.executable).parent / "lcmodel"
    done = subprocess.run([str(lcmodel), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "fit" in done.stdout and "simulate" in done.stdout


@pytest.mark.sampling
def test_check_command_prints_and_writes_every_check(capsys, tmp_path: Path) -> None:
    spec = ROOT / "models" / "anxiety_gaussian.toml"
    out = tmp_path / "checks"
    small = ["--draws", "200", "--tune", "200", "--chains", "2", "--quiet"]
    code = main(["check", str(spec), "--out", str(out), *small])
    printed = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert "Distribution of scores" in printed
    assert "posterior predictive p-value" in printed
    names = {"area_ppc", "loo_pit", "loo", "direct_vs_model", "area_effects_qq"}
    names |= {"prior_sensitivity", "score_distribution"}
    assert {p.name for p in out.iterdir()} == (
        {f"{n}.csv" for n in names} | {f"{n}.png" for n in names} | {"summary.txt"}
    )
    scores = pd.read_csv(out / "score_distribution.csv")
    assert list(scores.columns) == ["score", "observed", "mean", "lower", "upper", "outside"]


def test_check_command_checks_a_saved_folder_without_refitting(capsys, tmp_path: Path) -> None:
    """A result saved by lcmodel 0.1.0 whose data files are gone: the checks that need no
    model run, and the others say why they did not."""
    folder = tmp_path / "trust"
    shutil.copytree(ROOT / "tests" / "fixtures" / "saved-0.1.0" / "trust", folder)
    assert main(["check", str(folder)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "Posterior predictive check per area" in printed
    assert "Not run, loo:" in printed and "could not be rebuilt" in printed
    written = {p.name for p in (folder / "checks").iterdir()}
    assert {"area_ppc.csv", "area_ppc.png", "direct_vs_model.csv", "summary.txt"} <= written
    assert main(["check", str(folder)]) == 0  # earlier checks are replaced


# ------------------------------------------------------------ what a new user hit
def test_closed_pipe_is_not_an_error() -> None:
    """`lcmodel priors SPEC | head -1`: the reader leaves early; no traceback follows."""
    process = subprocess.Popen(
        [sys.executable, "-m", "lcmodel.cli", "priors", str(SPEC)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `head` exiting before lcmodel has printed
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=120) == 0
    assert "BrokenPipeError" not in stderr and "Traceback" not in stderr


def _estimates_without_benchmark() -> pd.DataFrame:
    table = pd.DataFrame({column: [np.nan, np.nan] for column in ESTIMATE_COLUMNS})
    table["area"] = ["A1", "A2"]
    table["name"] = ["A1", "A2"]
    table["quantity"] = "share"
    table["interval"] = "90% equal-tailed"
    table["reliability"] = "publish"
    table[["n", "direct", "mean", "lower", "upper", "rhat", "ess_bulk"]] = [
        [10, 0.5, 0.52, 0.4, 0.6, 1.001, 900],
        [20, 0.6, 0.58, 0.5, 0.7, 1.002, 950],
    ]
    return table


def test_printed_table_leaves_out_empty_columns() -> None:
    from lcmodel.cli import format_estimates

    table = _estimates_without_benchmark()
    header = format_estimates(table, "share").splitlines()[1].split()
    assert header == ["area", "n", "direct", "mean", "lower", "upper", "rhat", "ess", "flag"]
    named = table.assign(name=["Aford", "Bton"], benchmark=[0.5, 0.5], diff_mean=[0.0, 0.1])
    header = format_estimates(named, "share").splitlines()[1].split()
    assert {"name", "benchmark", "diff"} <= set(header)
    no_sizes = table.assign(n=np.nan)  # an area table without sample sizes
    assert "n" not in format_estimates(no_sizes, "share").splitlines()[1].split()


def test_cores_budget_from_the_command_line() -> None:
    from lcmodel.cli import _sampling, build_parser
    from lcmodel.models.registry import model_from_spec

    args = build_parser().parse_args(["fit", str(SPEC), "--cores", "1", "--thin", "5"])
    assert _sampling(args)["cores"] == 1
    model = model_from_spec(SPEC).with_fit_settings(**_sampling(args))
    assert model.spec.fit.cores == 1
    assert model.spec.fit.thin == 5


def _survey_with_a_blank_covariate(tmp_path: Path) -> Path:
    survey = pd.read_csv(ROOT / "data" / "survey.csv")
    survey.loc[0, "age_band"] = None
    path = tmp_path / "survey.csv"
    survey.to_csv(path, index=False)
    return path


def test_warnings_are_one_plain_line(tmp_path: Path) -> None:
    """The console shows `warning: <message>`, not Python's file:line and source line."""
    survey = _survey_with_a_blank_covariate(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "lcmodel.cli", "priors", str(SPEC), "--data", str(survey)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    expected = (
        f"warning: {survey}: dropped 1 respondent(s) with a missing covariate or wave "
        f"(age_band, sex, wave)."
    )
    lines = done.stderr.splitlines()
    assert expected in lines
    assert all(line.startswith("warning: ") for line in lines)  # one line per warning
    assert ".py:" not in done.stderr and "warnings.warn" not in done.stderr


def test_library_warnings_too_and_only_during_the_run(capsys, monkeypatch) -> None:
    import warnings

    def noisy(args) -> int:
        warnings.warn("a library's\n   multi-line   notice", FutureWarning, stacklevel=1)
        warnings.warn("old name", DeprecationWarning, stacklevel=1)
        return 0

    monkeypatch.setattr("lcmodel.cli._priors", noisy)
    before = warnings.showwarning, list(warnings.filters)
    assert main(["priors", str(SPEC)]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == ["warning: a library's multi-line notice", "warning: old name"]
    assert (warnings.showwarning, list(warnings.filters)) == before  # Python API unchanged
