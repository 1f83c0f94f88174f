"""Model specs: loading, validation messages, path resolution and overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from lcmodel.errors import SpecError
from lcmodel.spec import DEFAULT_INTERVAL, ModelSpec, load_any_spec, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[1]
ALL_SHIPPED = sorted((ROOT / "models").glob("*.toml"))
SHIPPED = [
    p for p in ALL_SHIPPED if not {"indicators", "area_level"} & tomllib.loads(p.read_text()).keys()
]
"""The single-indicator, unit-level specs (the joint and area-level ones build on them)."""

MINIMAL = """\
name = "trust"
data = "survey.csv"

[outcome]
column = "trust"

[structure]
area = "area"
"""

FULL = """\
name = "trust"
data = "survey.csv"
areas = "areas.csv"

[outcome]
column = "trust"
family = "bernoulli"
success = ["Yes"]
failure = ["No"]

[structure]
area = "area"
wave = "wave"
covariates = ["age_band", "sex"]
area_covariates = ["deprivation_decile"]

[benchmark]
table = "benchmarks.csv"
indicator = "trust"

[fit]
draws = 500
seed = 7
"""


def write_spec(folder: Path, text: str, name: str = "spec.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_survey_question_has_a_spec() -> None:
    from lcmodel.simulate import QUESTIONS

    columns = {load_spec(p).outcome.column for p in SHIPPED}
    assert columns == set(QUESTIONS)
    assert {"life_satisfaction_gaussian", "anxiety_gaussian"} <= {p.stem for p in SHIPPED}


@pytest.mark.parametrize("path", ALL_SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_spec_loads_under_its_file_name(path: Path) -> None:
    assert load_any_spec(path).name == path.stem


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_specs_load_and_point_at_existing_files(path: Path) -> None:
    spec = load_spec(path)
    assert spec.name == path.stem
    assert path.stem.startswith(spec.outcome.column)
    assert spec.benchmark is not None and spec.benchmark.indicator == spec.outcome.column
    assert spec.areas is not None
    for file in (spec.data, spec.areas, spec.benchmark.table):
        assert file.is_absolute()
        assert file.is_file(), file
    assert spec.data == (ROOT / "data" / "survey.csv").resolve()


def test_minimal_spec_is_valid_with_defaults(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, MINIMAL))
    assert spec.data == (tmp_path / "survey.csv").resolve()
    assert spec.areas is None
    assert spec.benchmark is None
    assert spec.priors == {}
    assert spec.outcome.family == "bernoulli"
    assert spec.outcome.success is None and spec.outcome.failure is None
    assert spec.structure.wave is None
    assert spec.structure.covariates == [] and spec.structure.area_covariates == []
    assert spec.fit.interval == DEFAULT_INTERVAL == 0.9
    assert (spec.fit.draws, spec.fit.tune, spec.fit.chains) == (1000, 1000, 4)
    assert spec.fit.seed is None


def test_relative_paths_resolve_against_the_spec_folder(tmp_path: Path, monkeypatch) -> None:
    text = FULL.replace('"survey.csv"', '"../data/survey.csv"').replace(
        '"benchmarks.csv"', '"../data/bench.csv"'
    )
    absolute = (tmp_path / "elsewhere" / "areas.csv").resolve()
    text = text.replace('"areas.csv"', f'"{absolute.as_posix()}"')
    path = write_spec(tmp_path / "models", text)
    monkeypatch.chdir(ROOT)  # the working directory must not matter
    spec = load_spec(path)
    assert spec.data == (tmp_path / "data" / "survey.csv").resolve()
    assert spec.benchmark is not None
    assert spec.benchmark.table == (tmp_path / "data" / "bench.csv").resolve()
    assert spec.areas == absolute
    assert spec.fit.draws == 500 and spec.fit.seed == 7


def test_spec_path_may_be_relative_to_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    write_spec(tmp_path / "models", MINIMAL)
    monkeypatch.chdir(tmp_path)
    spec = load_spec("models/spec.toml")
    assert spec.data == (tmp_path / "models" / "survey.csv").resolve()


def replace(old: str, new: str, text: str = FULL) -> str:
    assert old in text
    return text.replace(old, new, 1)


# (spec text, substrings the message must hold besides the file name)
SPEC_ERRORS = {
    "unknown top-level key": (
        'benchmarks = "x"\n' + MINIMAL,
        ["unknown key 'benchmarks'", "did you mean 'benchmark'"],
    ),
    "unknown top-level key before tables": (
        'nmae = "x"\n' + MINIMAL,
        ["unknown key 'nmae'", "did you mean 'name'"],
    ),
    "unknown outcome key": (
        replace('column = "trust"', 'column = "trust"\nsucess = ["Yes"]', MINIMAL),
        ["unknown key 'outcome.sucess'", "did you mean 'success'"],
    ),
    "unknown fit key": (
        replace("draws = 500", "draw = 500"),
        ["unknown key 'fit.draw'", "did you mean 'draws'"],
    ),
    "unknown benchmark key": (
        replace('indicator = "trust"', 'indicater = "trust"'),
        ["unknown key 'benchmark.indicater'", "did you mean 'indicator'"],
    ),
    "unknown structure key": (
        replace('wave = "wave"', 'waves = "wave"'),
        ["unknown key 'structure.waves'", "did you mean 'wave'"],
    ),
    "misspelt family": (
        replace('family = "bernoulli"', 'family = "bernouli"'),
        ["outcome.family", "unknown family 'bernouli'", "did you mean 'bernoulli'"],
    ),
    "missing name": (MINIMAL.replace('name = "trust"\n', ""), ["missing required key 'name'"]),
    "missing data": (
        MINIMAL.replace('data = "survey.csv"\n', ""),
        ["missing required key 'data'"],
    ),
    "missing outcome column": (
        replace('column = "trust"', 'family = "bernoulli"', MINIMAL),
        ["missing required key 'outcome.column'"],
    ),
    "missing outcome table": (
        MINIMAL.replace('[outcome]\ncolumn = "trust"\n', ""),
        ["missing required key 'outcome'"],
    ),
    "missing structure area": (
        replace('area = "area"', 'wave = "wave"', MINIMAL),
        ["missing required key 'structure.area'"],
    ),
    "draws not a number": (replace("draws = 500", 'draws = "many"'), ["fit.draws", "integer"]),
    "draws zero": (replace("draws = 500", "draws = 0"), ["fit.draws", "greater than 0"]),
    "negative seed": (replace("seed = 7", "seed = -1"), ["fit.seed"]),
    "interval one": (MINIMAL + "[fit]\ninterval = 1.0\n", ["fit.interval", "less than 1"]),
    "interval above one": (MINIMAL + "[fit]\ninterval = 90\n", ["fit.interval"]),
    "interval zero": (MINIMAL + "[fit]\ninterval = 0\n", ["fit.interval", "greater than 0"]),
    "unknown sampler": (MINIMAL + '[fit]\nsampler = "stan"\n', ["fit.sampler"]),
    "zero cores": (MINIMAL + "[fit]\ncores = 0\n", ["fit.cores", "greater than 0"]),
    "unknown match": (replace('indicator = "trust"', 'indicator = "t"\nmatch = "x"'), ["match"]),
    "failure without success": (
        replace('success = ["Yes"]\n', ""),
        ["'outcome'", "'failure' labels are given without 'success'"],
    ),
    "label in both": (
        replace('failure = ["No"]', 'failure = ["No", "Yes"]'),
        ["'outcome'", "['Yes']", "both 'success' and 'failure'"],
    ),
    "empty success": (replace('success = ["Yes"]', "success = []"), ["'success' must list"]),
    "column in two roles": (
        replace('covariates = ["age_band", "sex"]', 'covariates = ["age_band", "wave"]'),
        ["'structure'", "['wave']", "more than one role"],
    ),
    "area_covariates without areas": (
        replace('areas = "areas.csv"\n', "").split("[benchmark]")[0],
        ["structure.area_covariates", "'areas' table"],
    ),
    "benchmark without areas": (
        replace('areas = "areas.csv"\n', "").replace(
            'area_covariates = ["deprivation_decile"]\n', ""
        ),
        ["'benchmark' needs an 'areas' table"],
    ),
    "name empty": (MINIMAL.replace('name = "trust"', 'name = ""'), ["'name'"]),
    "joint table in a single spec": (
        MINIMAL + "[correlation]\neta = 2\n",
        ["unknown key 'correlation': it belongs in a joint spec"],
    ),
    "true as a success label": (
        MINIMAL.replace('column = "trust"', 'column = "trust"\nsuccess = [true]'),
        ["not true; write 1"],
    ),
    "trials with labels": (
        MINIMAL.replace('column = "trust"', 'column = "trust"\ntrials = "n"\nsuccess = ["y"]'),
        ["with 'trials', 'column' holds counts of successes"],
    ),
    "trials outside bernoulli": (
        MINIMAL.replace('column = "trust"', 'column = "score"\nfamily = "gaussian"\ntrials = "n"'),
        ["'trials' belongs to the bernoulli family"],
    ),
}


@pytest.mark.parametrize(
    ("labels", "expected"), [("[1]", ["1"]), ('[1, 2.0, "a"]', ["1", "2", "a"])]
)
def test_numeric_success_labels_are_read_as_text(
    tmp_path: Path, labels: str, expected: list[str]
) -> None:
    text = MINIMAL.replace('column = "trust"', f'column = "trust"\nsuccess = {labels}')
    assert load_spec(write_spec(tmp_path, text)).outcome.success == expected


@pytest.mark.parametrize(("text", "expected"), SPEC_ERRORS.values(), ids=SPEC_ERRORS.keys())
def test_invalid_specs_raise_spec_error_naming_file_and_key(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write_spec(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = replace("draws = 500", "draw = 500").replace('family = "bernoulli"', 'family = "x"')
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(tmp_path, text))
    assert "fit.draw" in str(info.value) and "outcome.family" in str(info.value)


def test_invalid_toml(tmp_path: Path) -> None:
    path = write_spec(tmp_path, MINIMAL + "[fit\ndraws = 3\n")
    with pytest.raises(SpecError, match="not valid TOML") as info:
        load_spec(path)
    assert str(path) in str(info.value)


def test_missing_spec_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(SpecError, match="spec file not found") as info:
        load_spec(path)
    assert str(path) in str(info.value)


def test_spec_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path)


def test_parse_spec_uses_the_source_in_messages() -> None:
    with pytest.raises(SpecError, match=r"^my-source: invalid model spec"):
        parse_spec({"name": "x"}, source="my-source")


def test_core_budget_from_the_spec_is_what_the_sampler_gets(tmp_path: Path) -> None:
    from lcmodel.inference.sampling import available_cores, sampling_cores

    budget = load_spec(write_spec(tmp_path, MINIMAL + "[fit]\ncores = 1\nchains = 4\n"))
    assert budget.fit.cores == 1
    assert sampling_cores(budget.fit) == 1
    default = load_spec(write_spec(tmp_path, MINIMAL + "[fit]\nchains = 4\n"))
    assert default.fit.cores is None
    assert sampling_cores(default.fit) == available_cores(4)
    assert sampling_cores(default.with_overrides(cores=3).fit) == 3  # --cores


def test_spec_is_frozen(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, MINIMAL))
    with pytest.raises(ValueError, match="frozen"):
        spec.name = "other"  # type: ignore[misc]


@pytest.fixture
def full_spec(tmp_path: Path) -> ModelSpec:
    return load_spec(write_spec(tmp_path, FULL))


def test_with_overrides_changes_fit_settings(full_spec: ModelSpec) -> None:
    new = full_spec.with_overrides(draws=50, chains=2, seed=3, interval=0.8, tune=None)
    assert (new.fit.draws, new.fit.chains, new.fit.seed, new.fit.interval) == (50, 2, 3, 0.8)
    assert new.fit.tune == full_spec.fit.tune  # None means "leave as is"
    assert full_spec.fit.draws == 500  # the original is untouched
    assert new.outcome == full_spec.outcome and new.structure == full_spec.structure
    assert new.benchmark == full_spec.benchmark


def test_with_overrides_changes_data(full_spec: ModelSpec, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    new = full_spec.with_overrides(data=other, areas=str(tmp_path / "a2.csv"))
    assert new.data == other
    assert new.areas == tmp_path / "a2.csv"
    assert new.fit == full_spec.fit


def test_with_overrides_keeps_priors(tmp_path: Path) -> None:
    text = MINIMAL + '\n[priors]\nsigma_area = { dist = "HalfNormal", sigma = 0.5 }\n'
    spec = load_spec(write_spec(tmp_path, text)).with_overrides(draws=10)
    assert spec.priors["sigma_area"].params == {"sigma": 0.5}


@pytest.mark.parametrize("changes", [{"colour": "red"}, {"draws": 10, "sampl": "pymc"}])
def test_with_overrides_rejects_unknown_fields(full_spec: ModelSpec, changes: dict) -> None:
    with pytest.raises(SpecError, match="unknown spec field"):
        full_spec.with_overrides(**changes)


@pytest.mark.parametrize(
    ("changes", "key"), [({"draws": 0}, "fit.draws"), ({"interval": 1.5}, "fit.interval")]
)
def test_with_overrides_validates_values(full_spec: ModelSpec, changes: dict, key: str) -> None:
    with pytest.raises(SpecError, match=key):
        full_spec.with_overrides(**changes)
