"""Many fits on Dask: plans, a 2-worker local cluster, resuming, dead workers, failed jobs."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lcmodel.cli import EXIT_BAD_INPUT, EXIT_DIAGNOSTICS, EXIT_JOBS_FAILED, main
from lcmodel.errors import LcmodelError, SpecError
from lcmodel.inference.diagnostics import Diagnostics
from lcmodel.io.atomic import atomic_folder, clear_staging
from lcmodel.results.fit_result import FILES, RESULT_MARKER
from lcmodel.spec.plan import load_plan
from lcmodel.workflows.fit_many import (
    PLAN_MARKER,
    SUMMARY_COLUMNS,
    cluster_size,
    fit_many,
    run_job,
    run_plan,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

TINY = f"""\
name = "tiny"
data = "{DATA / "survey.csv"}"
areas = "{DATA / "areas.csv"}"

[outcome]
column = "trust"
family = "bernoulli"
success = ["Many can be trusted", "Some can be trusted"]
failure = ["A few can be trusted", "None can be trusted"]

[structure]
area = "area"
"""
"""A small unit-level spec (areas only: quick to compile)."""

PLAN = """\
name = "grid"
seed = 20261202
allow_failed_diagnostics = true   # few draws: the gate is not the point here

[fit]
draws = 100
tune = 100
chains = 2
extend = 0

[grid]
specs = ["tiny.toml"]
data = ["survey.csv", "recent.csv", "broken.csv"]
"""


def _write_plan(folder: Path, plan: str = PLAN) -> Path:
    """A plan of the tiny spec on the shipped survey, its later waves, and a broken copy."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.toml").write_text(TINY)
    survey = pd.read_csv(DATA / "survey.csv")
    survey.to_csv(folder / "survey.csv", index=False)
    survey[survey["wave"] >= 4].to_csv(folder / "recent.csv", index=False)
    survey.drop(columns="trust").to_csv(folder / "broken.csv", index=False)  # bad input
    path = folder / "plan.toml"
    path.write_text(plan)
    return path


# ----------------------------------------------------------------------------- plans
def test_plan_jobs_in_order_with_spawned_seeds(tmp_path: Path) -> None:
    plan = load_plan(_write_plan(tmp_path))
    assert [job.id for job in plan.jobs] == ["tiny--survey", "tiny--recent", "tiny--broken"]
    assert plan.out == tmp_path / "out" / "grid"
    assert [job.folder for job in plan.jobs] == [plan.out / job.id for job in plan.jobs]
    children = np.random.SeedSequence(20261202).spawn(3)
    expected = [int(c.generate_state(1)[0]) % (2**31 - 1) for c in children]
    assert [job.seed for job in plan.jobs] == expected
    assert len(set(expected)) == 3
    first = plan.jobs[0]
    assert first.spec.fit.seed == first.seed  # the spec's own seed is replaced
    assert (first.spec.fit.draws, first.spec.fit.chains, first.spec.fit.extend) == (100, 2, 0)
    assert first.data == tmp_path / "survey.csv"
    assert first.allow_failed_diagnostics

    # a data file added at the end leaves every earlier job's seed as it was
    (tmp_path / "more.csv").write_text((tmp_path / "recent.csv").read_text())
    (tmp_path / "plan.toml").write_text(PLAN.replace('"broken.csv"]', '"broken.csv", "more.csv"]'))
    longer = load_plan(tmp_path / "plan.toml")
    assert [job.seed for job in longer.jobs[:3]] == expected
    assert longer.jobs[3].id == "tiny--more"


def test_plan_without_data_fits_each_spec_to_its_own(tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    shutil.copytree(DATA, tmp_path / "data")
    path = tmp_path / "plan.toml"
    path.write_text('name = "all"\nseed = 1\nout = "runs"\n[grid]\nspecs = ["models/*.toml"]\n')
    plan = load_plan(path)
    ids = [job.id for job in plan.jobs]
    assert ids == sorted(p.stem for p in models.glob("*.toml"))  # glob matches sorted by name
    assert plan.out == tmp_path / "runs"
    assert {job.data for job in plan.jobs} == {None}
    kinds = {job.id: job.spec.kind for job in plan.jobs}
    assert kinds["social_joint"] == "joint" and kinds["trust_fh"] == "area_level"
    assert load_plan(path, out=tmp_path / "elsewhere").out == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('specs = ["tiny.toml"]', 'specs = ["tiy.toml"]'),
            "'grid.specs[0]' = 'tiy.toml': no such file (did you mean 'tiny.toml'?)",
        ),
        (
            ('specs = ["tiny.toml"]', 'specs = ["nope/*.toml"]'),
            "'grid.specs[0]' = 'nope/*.toml' matches no file",
        ),
        (
            ('"broken.csv"]', '"brokn.csv"]'),
            "'grid.data[2]' = 'brokn.csv': no such file (did you mean 'broken.csv'?)",
        ),
        (("seed = 20261202", "sed = 20261202"), "unknown key 'sed' (did you mean 'seed'?)"),
        (("specs =", "spec ="), "unknown key 'grid.spec' (did you mean 'specs'?)"),
        (("draws = 100", "draw = 100"), "unknown key 'fit.draw' (did you mean 'draws'?)"),
        (("draws = 100", "draws = 0"), "'fit.draws': Input should be greater than 0"),
        (("draws = 100", "seed = 3"), "unknown key 'fit.seed'"),
        (('name = "grid"\n', ""), "missing required key 'name'"),
        (("[grid]\n", "[grid]\ncores = 2\n"), "unknown key 'grid.cores'"),
        (("[fit]\n", "[fit]\nsampler = 'stan'\n"), "'fit.sampler': Input should be 'auto'"),
    ],
)  # fmt: skip
def test_plan_errors_name_the_file_and_key(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    path = _write_plan(tmp_path, PLAN.replace(*edit))
    with pytest.raises(SpecError) as caught:
        load_plan(path)
    text = str(caught.value)
    assert text.startswith(str(path)) and message in text, text


def test_plan_errors_about_its_specs(tmp_path: Path) -> None:
    path = _write_plan(tmp_path)
    (tmp_path / "tiny.toml").write_text(TINY.replace("[outcome]", "[outcome]\nfamly = 'x'"))
    with pytest.raises(SpecError, match=r"(?s)plan.toml: 'grid.specs' lists an invalid spec: .*"
                       r"tiny.toml.*did you mean 'family'"):  # fmt: skip
        load_plan(path)

    (tmp_path / "tiny.toml").write_text(TINY)
    (tmp_path / "twin.toml").write_text(TINY)  # another file, the same name
    path.write_text(PLAN.replace('["tiny.toml"]', '["tiny.toml", "twin.toml"]'))
    with pytest.raises(SpecError, match="two jobs would write the folder 'tiny--survey'"):
        load_plan(path)

    shutil.copytree(ROOT / "models", tmp_path / "models")
    path.write_text(PLAN.replace('["tiny.toml"]', '["models/trust_fh.toml"]'))
    with pytest.raises(SpecError, match=r"trust_fh\.toml is an area-level spec"):
        load_plan(path)

    with pytest.raises(SpecError, match="is a model spec, not a plan"):
        load_plan(tmp_path / "tiny.toml")


def test_plan_error_without_pymc_or_dask(tmp_path: Path) -> None:
    path = _write_plan(tmp_path, PLAN.replace("seed =", "sede ="))
    code = (
        "import sys\nfrom lcmodel.cli import main\n"
        f"assert main(['fit-many', {str(path)!r}]) == {EXIT_BAD_INPUT}\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert "did you mean 'seed'" in " ".join(done.stderr.split())
    loaded = set(done.stdout.split())
    assert not {"pymc", "pytensor", "dask", "distributed"} & loaded


def test_cluster_size_shares_the_cores_among_fits() -> None:
    assert cluster_size(10, 4, usable=2) == (2, 1)
    assert cluster_size(10, 4, usable=64) == (10, 4)
    assert cluster_size(2, 4, usable=8) == (2, 4)
    assert cluster_size(1, 2, usable=16) == (1, 2)  # a fit uses no more cores than chains
    assert cluster_size(10, 4, usable=8, cores=4) == (2, 4)
    assert cluster_size(10, 4, usable=8, workers=3) == (3, 2)


def test_clear_staging_removes_only_its_folders_leftovers(tmp_path: Path) -> None:
    folder = tmp_path / "trust"
    with pytest.raises(RuntimeError), atomic_folder(folder, RESULT_MARKER) as staging:
        (staging / "half.csv").write_text("x")
        kept = tmp_path / f".{folder.name}.abcd1234"
        shutil.copytree(staging, kept)  # what a killed process leaves: its staging folder
        raise RuntimeError
    other = tmp_path / ".trust.v2.abcd1234"  # a staging folder of another job, 'trust.v2'
    other.mkdir()
    retired = tmp_path / ".trust.old.zzzz9999" / "trust"  # killed between the two renames
    retired.mkdir(parents=True)
    (retired / RESULT_MARKER).write_text("{}")
    removed = clear_staging(folder)
    assert sorted(p.name for p in removed) == [".trust.abcd1234", ".trust.old.zzzz9999"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".trust.v2.abcd1234", "trust"]
    assert (folder / RESULT_MARKER).is_file()  # the previous result, put back


# ----------------------------------------------------------------------------- one job
def test_failed_diagnostics_are_recorded_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``lcmodel fit``: a fit that fails its gate is not written (unless the plan allows)."""
    from lcmodel.models.base import Model

    failed = Diagnostics(
        max_rhat=1.2,
        min_ess_bulk=12.0,
        min_ess_tail=10.0,
        n_divergent=3,
        min_bfmi=0.5,
        draws=100,
        chains=2,
        failures=("R-hat above 1.01 for 3 quantities",),
    )

    class Failed:
        def diagnostics(self) -> Diagnostics:
            return failed

        def save(self, folder: Path) -> Path:
            raise AssertionError("a failed fit is not written")

    monkeypatch.setattr(Model, "fit", lambda self, **kwargs: Failed())
    job = load_plan(_write_plan(tmp_path, PLAN.replace("= true", "= false"))).jobs[1]
    record = run_job(job)
    assert record["status"] == "diagnostics_failed"
    assert record["error"] == "R-hat above 1.01 for 3 quantities (nothing written)"
    assert (record["max_rhat"], record["divergences"], record["diagnostics_passed"]) == (
        1.2,
        3,
        False,
    )
    assert record["worker"] == "in-process"
    assert not job.folder.exists()


def test_a_job_never_overwrites_an_unrelated_folder(tmp_path: Path) -> None:
    job = load_plan(_write_plan(tmp_path)).jobs[0]
    job.folder.mkdir(parents=True)
    (job.folder / "notes.txt").write_text("mine")
    record = run_job(job)
    assert record["status"] == "failed" and "is not an earlier lcmodel output" in record["error"]
    assert (job.folder / "notes.txt").read_text() == "mine"


def test_workers_apply_to_the_local_cluster_only(tmp_path: Path) -> None:
    path = _write_plan(tmp_path)
    with pytest.raises(LcmodelError, match="'workers' sizes the local cluster"):
        fit_many(path, scheduler="tcp://127.0.0.1:8786", workers=2)
    with pytest.raises(LcmodelError, match="'cores' must be at least 1, not 0"):
        fit_many(path, cores=0)
    assert not (tmp_path / "out").exists()


def test_a_plan_folder_holding_other_files_is_refused(tmp_path: Path) -> None:
    path = _write_plan(tmp_path)
    out = tmp_path / "out" / "grid"
    out.mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(LcmodelError, match="is not an earlier lcmodel output"):
        fit_many(path, scheduler="in-process", progressbar=False)


# ----------------------------------------------------------------------------- a cluster
@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A local cluster of 2 single-threaded worker processes; a job may die once and rerun."""
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    settings = {
        "distributed.scheduler.allowed-failures": 1,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with (
        dask.config.set(settings),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory, client: Any) -> Any:
    """The plan run once on the 2-worker cluster: two fits and a job with bad input."""
    path = _write_plan(tmp_path_factory.mktemp("plan"))
    return fit_many(path, scheduler=client, cores=1, progressbar=False)


def _mtimes(out: Path) -> dict[str, float]:
    return {
        str(p.relative_to(out)): p.stat().st_mtime_ns
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in ("summary.csv", PLAN_MARKER)
    }


@pytest.mark.sampling
def test_a_plan_on_a_two_worker_cluster(first_run: Any) -> None:
    from lcmodel.results.folder import load

    summary = first_run.summary
    out = first_run.plan.out
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert list(summary["job"]) == ["tiny--survey", "tiny--recent", "tiny--broken"]
    assert list(summary["status"]) == ["done", "done", "failed"]
    assert first_run.workers == 2 and first_run.cores == 1
    done = summary[summary["status"] == "done"]
    assert done["worker"].nunique() == 2  # the two fits ran side by side
    assert (done["min_ess_bulk"] > 0).all() and (done["max_rhat"] > 0.9).all()
    written = pd.read_csv(out / "summary.csv")
    assert list(written["status"]) == list(summary["status"])
    assert json.loads((out / PLAN_MARKER).read_text())["jobs"] == list(summary["job"])
    for job in first_run.plan.jobs[:2]:
        assert set(FILES) <= {p.name for p in job.folder.iterdir()}
        result = load(job.folder)
        assert result.metadata["seed"] == job.seed
        assert result.metadata["plan"]["job"] == job.id
        assert result.spec.data == job.data
    # the two data files are two fits: different answers, different estimates
    survey, recent = (load(job.folder).estimates() for job in first_run.plan.jobs[:2])
    assert (survey["n"] > recent["n"]).all()
    assert "Plan 'grid': 3 jobs, 2 done, 1 failed" in first_run.describe()


@pytest.mark.sampling
def test_a_job_with_bad_input_fails_alone(first_run: Any) -> None:
    broken = first_run.summary.set_index("job").loc["tiny--broken"]
    assert broken["status"] == "failed"
    assert "broken.csv: column 'trust' not found" in broken["error"]
    assert not (first_run.plan.out / "tiny--broken").exists()
    assert not first_run.ok


@pytest.mark.sampling
def test_a_resumed_run_refits_nothing(first_run: Any, client: Any) -> None:
    out = first_run.plan.out
    before = _mtimes(out)
    address = client.scheduler.address  # as --scheduler ADDRESS: an existing cluster
    again = fit_many(first_run.plan.source, scheduler=address, cores=1, progressbar=False)
    assert list(again.summary["status"]) == ["skipped", "skipped", "failed"]
    assert _mtimes(out) == before  # no folder written again
    previous = first_run.summary.set_index("job")
    for row in again.summary[again.summary["status"] == "skipped"].itertuples():
        assert row.min_ess_bulk == previous.loc[row.job, "min_ess_bulk"]
    assert list(pd.read_csv(out / "summary.csv")["status"]) == list(again.summary["status"])
    assert "were not refitted" in again.describe()


def _dying_runner(job: Any, marker: str) -> dict[str, Any]:
    """Run a job, except that some jobs kill their worker process (pickled by value)."""
    if job.id == "tiny--survey" and not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)  # dies once, before doing anything: rerun on a fresh worker
    if job.id == "tiny--doomed":
        with atomic_folder(job.folder, RESULT_MARKER) as staging:
            (staging / "estimates.csv").write_text("area,mean\nLC01,")
            os._exit(1)  # dies mid-write, on every try
    return run_job(job)


@pytest.mark.sampling
def test_a_worker_killed_mid_run(first_run: Any, client: Any, tmp_path: Path) -> None:
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    out = tmp_path / "out"
    shutil.copytree(first_run.plan.out, out)  # two finished jobs, and one with bad input
    folder = first_run.plan.source.parent
    shutil.copy(folder / "recent.csv", folder / "doomed.csv")
    plan_file = folder / "plan-with-doomed.toml"  # the same jobs, and one more at the end
    plan_file.write_text(PLAN.replace('"broken.csv"]', '"broken.csv", "doomed.csv"]'))
    plan = load_plan(plan_file, out=out)
    marker = tmp_path / "died-once"
    runner = functools.partial(_dying_runner, marker=str(marker))
    run = run_plan(plan, client, cores=1, runner=runner, progressbar=False)
    statuses = dict(zip(run.summary["job"], run.summary["status"], strict=True))
    assert marker.exists()  # the first try of tiny--survey killed its worker...
    assert statuses["tiny--survey"] == "skipped"  # ...and the rerun found it finished
    assert statuses == {
        "tiny--survey": "skipped",
        "tiny--recent": "skipped",
        "tiny--broken": "failed",
        "tiny--doomed": "failed",
    }
    doomed = run.summary.set_index("job").loc["tiny--doomed"]
    assert doomed["error"].startswith("KilledWorker")
    assert not (out / "tiny--doomed").exists()  # nothing half-written...
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # ...nor left behind
    assert list(pd.read_csv(out / "summary.csv")["job"]) == list(statuses)


@pytest.mark.sampling
def test_command_line_resumes_in_process(first_run: Any, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    shutil.copytree(first_run.plan.out, out)
    args = ["fit-many", str(first_run.plan.source), "--out", str(out), "--quiet"]
    code = main([*args, "--scheduler", "in-process"])
    printed = " ".join(capsys.readouterr().out.split())
    assert code == EXIT_JOBS_FAILED != EXIT_DIAGNOSTICS
    assert "tiny--survey skipped" in printed and "tiny--broken failed" in printed
    assert "2 skipped, 1 failed, in" in printed and "in this process" in printed
