"""Input validation: survey microdata, areas, benchmarks and the files they come from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcmodel.data.survey import (
    load_survey_data,
    parse_deprivation,
    prepare_survey_data,
    validate_areas,
    validate_benchmarks,
)
from lcmodel.errors import DataError
from lcmodel.io.tables import _write_csv_fast, read_table, write_table
from lcmodel.spec import ModelSpec, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"survey": "survey.csv", "areas": "areas.csv", "benchmarks": "bench.csv"}


def make_spec(
    *,
    outcome: dict | None = None,
    structure: dict | None = None,
    benchmark: dict | None = None,
    areas: bool = True,
    bench: bool = True,
) -> ModelSpec:
    raw: dict = {
        "name": "t",
        "data": "survey.csv",
        "outcome": {"column": "q", "success": ["Yes"], "failure": ["No"]} | (outcome or {}),
        "structure": {
            "area": "area",
            "wave": "wave",
            "covariates": ["age_band", "sex"],
            "area_covariates": ["deprivation_decile"],
            "weight": "weight",
        }
        | (structure or {}),
    }
    if bench:
        raw["benchmark"] = {"table": "bench.csv", "indicator": "q"} | (benchmark or {})
    if areas:
        raw["areas"] = "areas.csv"
    return parse_spec(raw, source="test")


def survey_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "respondent_id": ["R1", "R2", "R3", "R4", "R5", "R6"],
            "area": ["A", "A", "B", "B", "B", "C"],
            "wave": [1, 1, 1, 2, 2, 2],
            "age_band": ["16-34", "35-54", "16-34", "55+", "35-54", "55+"],
            "sex": ["Female", "Male", "Male", "Female", "Female", "Male"],
            "weight": [1.0, 0.5, 2.0, 1.5, 1.0, 0.8],
            "q": ["Yes", "No", "Yes", None, "No", "Yes"],
        }
    )


def areas_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area": ["A", "B", "C", "D"],
            "name": ["Aford", "Bton", "Cley", "Dale"],
            "nation": ["England", "England", "Wales", "Scotland"],
            "deprivation_decile": [1, 3, 2, 10],
        }
    )


def bench_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator": ["q", "q", "q", "other"],
            "nation": ["England", "England", "Wales", "England"],
            "deprivation": ["all", "1-3", "all", "all"],
            "estimate": [0.5, 0.4, 0.6, 0.7],
            "n": [1000, None, 500, 100],
            "source": ["CLS", "CLS", "NSW", "CLS"],
            "year": [2021, 2021, 2021, 2021],
        }
    )


def prepare(
    survey: pd.DataFrame | None = None,
    spec: ModelSpec | None = None,
    areas: pd.DataFrame | None = None,
    bench: pd.DataFrame | None = None,
):
    return prepare_survey_data(
        survey_frame() if survey is None else survey,
        make_spec() if spec is None else spec,
        areas_frame() if areas is None else areas,
        bench_frame() if bench is None else bench,
        sources=SOURCES,
    )


# --- shipped data ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trust_spec() -> ModelSpec:
    return load_spec(ROOT / "models" / "trust.toml")


@pytest.fixture(scope="module")
def raw_survey() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "survey.csv")


def test_shipped_trust_data(trust_spec: ModelSpec, raw_survey: pd.DataFrame) -> None:
    data = load_survey_data(trust_spec)
    answered = raw_survey["trust"].notna()
    assert answered.sum() > 0 and (~answered).sum() > 0  # the test data has blanks
    assert len(data.respondents) == answered.sum()
    assert data.n_missing_outcome == (~answered).sum()
    assert data.n_missing_covariates == 0
    assert data.count_columns == ["y"]
    y = data.respondents["y"]
    assert y.dtype == np.int64
    assert set(y.unique()) == {0, 1}
    success = raw_survey.loc[answered, "trust"].isin(trust_spec.outcome.success)
    assert y.mean() == pytest.approx(success.mean())
    assert y.sum() == success.sum()
    assert data.areas["n"].sum() == len(data.respondents)
    by_area = raw_survey[answered].groupby("area").size()
    assert data.areas["n"].to_dict() == by_area.to_dict()
    assert data.areas.index.is_monotonic_increasing
    assert data.areas["deprivation_decile"].between(1, 10).all()
    assert data.wave and data.covariates == ("age_band", "sex")
    assert data.area_covariates == ("deprivation_decile",)
    assert data.benchmarks is not None
    assert set(data.benchmarks["indicator"]) == {"trust"}
    assert len(data.benchmarks) == 6
    assert len(data.data_hash) == 64


def test_data_hash_is_stable_and_sees_every_input(trust_spec: ModelSpec) -> None:
    """Same data, same hash; one changed answer or benchmark figure, another hash."""
    from lcmodel.io.tables import read_table

    survey = read_table(trust_spec.data, "survey")
    areas = read_table(trust_spec.areas, "areas")
    bench = read_table(trust_spec.benchmark.table, "benchmarks")
    reference = prepare_survey_data(survey, trust_spec, areas, bench).data_hash
    assert reference == load_survey_data(trust_spec).data_hash
    flipped = survey.copy()
    row = flipped.index[flipped["trust"] == "Many can be trusted"][0]
    flipped.loc[row, "trust"] = "None can be trusted"
    assert prepare_survey_data(flipped, trust_spec, areas, bench).data_hash != reference
    moved = bench.copy()
    moved.loc[moved["indicator"] == "trust", "estimate"] += 0.01
    assert prepare_survey_data(survey, trust_spec, areas, moved).data_hash != reference


def test_rare_success_label_may_be_absent_when_failure_labels_are_listed() -> None:
    survey = survey_frame()
    spec = make_spec(outcome={"success": ["Yes", "Definitely"], "failure": ["No"]})
    data = prepare(survey, spec)
    assert data.respondents["y"].sum() == (survey["q"] == "Yes").sum()


def test_data_argument_overrides_the_spec_path(trust_spec: ModelSpec, tmp_path: Path) -> None:
    frame = pd.read_csv(ROOT / "data" / "survey.csv").sample(300, random_state=1)
    path = tmp_path / "part.csv"
    frame.to_csv(path, index=False)
    data = load_survey_data(trust_spec, data=path)
    assert len(data.respondents) == frame["trust"].notna().sum()


def test_parquet_input(trust_spec: ModelSpec, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "survey.parquet"
    pd.read_csv(ROOT / "data" / "survey.csv").to_parquet(path)
    from_parquet = load_survey_data(trust_spec, data=path)
    from_csv = load_survey_data(trust_spec)
    pd.testing.assert_frame_equal(from_parquet.respondents, from_csv.respondents)
    assert from_parquet.n_missing_outcome == from_csv.n_missing_outcome


# --- happy paths on small frames -----------------------------------------------------------


def test_small_frame_happy_path() -> None:
    data = prepare()
    assert data.respondents["y"].tolist() == [1, 0, 1, 0, 1]
    assert data.n_missing_outcome == 1
    assert data.weighted
    assert data.respondents["weight"].tolist() == [1.0, 0.5, 2.0, 1.0, 0.8]
    assert data.areas["n"].to_dict() == {"A": 2, "B": 2, "C": 1, "D": 0}
    assert data.areas.loc["D", "name"] == "Dale"
    assert data.benchmarks is not None
    assert data.benchmarks["deprivation"].tolist() == ["all", "1-3", "all"]
    assert data.benchmarks["n"].isna().tolist() == [False, True, False]


def test_labels_are_stripped_and_blank_is_missing() -> None:
    survey = survey_frame()
    survey["q"] = [" Yes", "No ", "", "   ", "No", "Yes"]
    survey["area"] = ["A ", " A", "B", "B", "B", "C"]
    data = prepare(survey)
    assert data.n_missing_outcome == 2
    assert data.respondents["y"].tolist() == [1, 0, 0, 1]
    assert data.areas["n"].to_dict() == {"A": 2, "B": 1, "C": 1, "D": 0}


def test_without_areas_table() -> None:
    spec = make_spec(structure={"area_covariates": []}, areas=False, bench=False)
    data = prepare_survey_data(survey_frame(), spec, sources=SOURCES)
    assert list(data.areas.index) == ["A", "B", "C"]
    assert data.areas["n"].tolist() == [2, 2, 1]
    assert data.benchmarks is None


def test_success_without_failure_codes_others_as_zero() -> None:
    survey = survey_frame()
    survey["q"] = ["Yes", "No", "Maybe", "Yes", None, "Dunno"]
    data = prepare(survey, make_spec(outcome={"failure": None}))
    assert data.respondents["y"].tolist() == [1, 0, 0, 1, 0]


@pytest.mark.parametrize(
    "values",
    [
        [1, 0, 1, 0, 0, 1],
        [1.0, 0.0, 1.0, np.nan, 0.0, 1.0],
        [True, False, True, False, False, True],
        ["yes", "No", "1", "0", "FALSE", "True"],
    ],
)
def test_zero_one_column_without_success_labels(values: list) -> None:
    survey = survey_frame()
    survey["q"] = values
    data = prepare(survey, make_spec(outcome={"success": None, "failure": None}))
    expected = [int(v) for v in [1, 0, 1, 0, 0, 1]]
    if isinstance(values[3], float) and np.isnan(values[3]):
        expected.pop(3)
    assert data.respondents["y"].tolist() == expected


def test_numeric_codes_with_blanks_match_text_labels() -> None:
    survey = survey_frame()
    survey["q"] = [5, 1, 4, np.nan, 2, 5]  # read as floats because of the blank
    data = prepare(survey, make_spec(outcome={"success": ["4", "5"], "failure": ["1", "2"]}))
    assert data.respondents["y"].tolist() == [1, 0, 1, 0, 1]


def test_missing_covariate_is_dropped_with_a_warning() -> None:
    survey = survey_frame()
    survey.loc[2, "sex"] = None
    survey.loc[3, "age_band"] = " "  # missing answer too: counted as missing outcome only
    with pytest.warns(UserWarning, match=r"survey\.csv: dropped 1 respondent"):
        data = prepare(survey)
    assert data.n_missing_covariates == 1
    assert data.n_missing_outcome == 1
    assert len(data.respondents) == 4
    assert data.areas["n"].to_dict() == {"A": 2, "B": 1, "C": 1, "D": 0}


def test_non_default_index_reports_file_lines() -> None:
    survey = survey_frame().set_index("respondent_id")
    survey.loc["R3", "q"] = "Maybe"
    with pytest.raises(DataError, match=r"\['Maybe'\] \(line 4\)"):
        prepare(survey)


# --- survey errors -----------------------------------------------------------------------


def set_cell(column: str, row: int, value) -> Callable[[pd.DataFrame], None]:
    def change(frame: pd.DataFrame) -> None:
        if column in frame and not isinstance(value, type(frame[column].iloc[0])):
            frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value

    return change


def apply(change: Callable, frame: pd.DataFrame) -> pd.DataFrame:
    """Run ``change`` on ``frame``; it edits in place or returns a new frame."""
    result = change(frame)
    return result if isinstance(result, pd.DataFrame) else frame


# id: (spec changes, survey change, substrings)
SURVEY_ERRORS = {
    "unknown outcome column": (
        {"outcome": {"column": "qq"}},
        None,
        ["column 'qq' not found", "did you mean 'q'", "Fix the column name"],
    ),
    "unknown covariate column": (
        {"structure": {"covariates": ["age_band", "sexx"]}},
        None,
        ["column 'sexx' not found", "did you mean 'sex'", "columns present: respondent_id"],
    ),
    "unknown weight column": (
        {"structure": {"weight": "wieght"}},
        None,
        ["column 'wieght' not found", "did you mean 'weight'"],
    ),
    "unknown answer label": (
        {},
        set_cell("q", 4, "Yess"),
        ["column 'q'", "['Yess']", "line 6", "close to the spec's 'Yes'", "'outcome.failure'"],
    ),
    "success label never occurs": (
        {"outcome": {"success": ["yes"], "failure": None}},
        None,
        ["column 'q'", "success label 'yes' never occurs", "did you mean 'Yes'", "Fix"],
    ),
    "non-numeric weight": (
        {},
        set_cell("weight", 2, "heavy"),
        ["column 'weight'", "'heavy'", "line 4", "positive number", "Fix the weights"],
    ),
    "zero weight": ({}, set_cell("weight", 1, 0.0), ["column 'weight'", "line 3"]),
    "negative weight": ({}, set_cell("weight", 5, -1.0), ["column 'weight'", "line 7"]),
    "blank weight": ({}, set_cell("weight", 0, np.nan), ["column 'weight'", "line 2"]),
    "infinite weight": ({}, set_cell("weight", 0, np.inf), ["column 'weight'", "line 2"]),
    "duplicate respondent ids": (
        {},
        set_cell("respondent_id", 4, "R2"),
        ["column 'respondent_id'", "'R2'", "lines 3, 6", "Remove duplicate rows"],
    ),
    "blank area": (
        {},
        set_cell("area", 3, "  "),
        ["column 'area'", "blank", "line 5", "every respondent needs an area"],
    ),
    "missing area": (
        {},
        set_cell("area", 3, None),
        ["column 'area'", "blank", "line 5"],
    ),
    "area not in areas table": (
        {},
        set_cell("area", 2, "AA"),
        ["['AA']", "column 'area'", "line 4", "areas.csv", "did you mean 'A'", "Add a row"],
    ),
    "non-integer wave text": (
        {},
        set_cell("wave", 1, "two"),
        ["column 'wave'", "whole numbers", "'two'", "line 3", "Fix or remove"],
    ),
    "non-integer wave fraction": ({}, set_cell("wave", 4, 1.5), ["column 'wave'", "line 6"]),
    "zero/one column with other values": (
        {"outcome": {"success": None, "failure": None}},
        lambda f: f.__setitem__("q", [1, 0, 2, 1, "x", 0]),
        ["column 'q'", "0/1", "['2', 'x']", "lines 4, 6", "'outcome.success'"],
    ),
    "no usable answers": (
        {},
        lambda f: f.__setitem__("q", [None] * 6),
        ["column 'q'", "no usable answers", "6 missing"],
    ),
}


@pytest.mark.parametrize(
    ("spec_changes", "change", "expected"), SURVEY_ERRORS.values(), ids=SURVEY_ERRORS.keys()
)
def test_survey_errors(spec_changes: dict, change, expected: list[str]) -> None:
    survey = survey_frame() if change is None else apply(change, survey_frame())
    with pytest.raises(DataError) as info:
        prepare(survey, make_spec(**spec_changes))
    message = str(info.value)
    assert message.startswith("survey.csv: ")
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_blank_wave_drops_the_respondent_with_a_count() -> None:
    survey = survey_frame()
    survey.loc[0, "wave"] = np.nan
    with pytest.warns(UserWarning, match="dropped 1 respondent"):
        data = prepare(survey, make_spec())
    assert data.n_missing_covariates == 1
    assert len(data.respondents) == survey["q"].notna().sum() - 1


def test_single_wave_is_an_error() -> None:
    survey = survey_frame()
    survey["wave"] = 1
    with pytest.raises(DataError, match="single wave"):
        prepare(survey, make_spec())


def test_covariate_named_like_an_internal_column_is_an_error() -> None:
    survey = survey_frame().rename(columns={"sex": "y"})
    with pytest.raises(DataError, match="uses internally"):
        prepare(survey, make_spec(structure={"covariates": ["age_band", "y"]}))


def test_benchmark_percentages_and_nation_typos_are_caught() -> None:
    bench = bench_frame()
    bench["estimate"] = bench["estimate"] * 100
    with pytest.raises(DataError, match="divide by 100"):
        prepare(bench=bench)
    bench = bench_frame()
    bench["nation"] = bench["nation"].str.replace("England", "Englnd")
    with pytest.raises(DataError, match="did you mean"):
        prepare(bench=bench)


def test_many_offending_rows_are_summarised() -> None:
    survey = pd.concat([survey_frame()] * 3, ignore_index=True)
    survey["respondent_id"] = [f"R{i}" for i in range(len(survey))]
    survey["weight"] = -1.0
    with pytest.raises(DataError, match=r"lines 2, 3, 4, 5, 6 and 13 more"):
        prepare(survey)


def test_areas_needed_but_missing() -> None:
    with pytest.raises(DataError, match="no areas table"):
        prepare_survey_data(survey_frame(), make_spec(), None, bench_frame())


def test_benchmarks_needed_but_missing() -> None:
    with pytest.raises(DataError, match="no benchmarks table"):
        prepare_survey_data(survey_frame(), make_spec(), areas_frame(), None)


# --- areas -------------------------------------------------------------------------------

AREA_ERRORS = {
    "duplicate area rows": (
        set_cell("area", 3, "B"),
        ["areas.csv", "'B' appears more than once", "lines 3, 5", "exactly one row"],
    ),
    "duplicate after stripping": (set_cell("area", 0, "B "), ["'B'", "lines 2, 3"]),
    "decile zero": (
        set_cell("deprivation_decile", 2, 0),
        ["areas.csv", "'deprivation_decile'", "1-10", "not 0", "line 4"],
    ),
    "decile eleven": (set_cell("deprivation_decile", 1, 11), ["not 11", "line 3"]),
    "decile not integer": (
        set_cell("deprivation_decile", 1, "high"),
        ["'deprivation_decile'", "whole numbers", "'high'", "line 3"],
    ),
    "decile blank": (
        set_cell("deprivation_decile", 3, np.nan),
        ["'deprivation_decile' is blank", "line 5", "fill it in"],
    ),
    "nation blank": (set_cell("nation", 0, None), ["'nation' is blank", "line 2"]),
    "area blank": (set_cell("area", 2, ""), ["'area' is blank", "line 4"]),
    "nation column missing": (
        lambda f: f.rename(columns={"nation": "country"}),
        ["areas.csv", "column 'nation' not found"],
    ),
    "area column misspelt": (
        lambda f: f.rename(columns={"area": "areas"}),
        ["no area key column", "column called 'area'", "did you mean 'areas'"],
    ),
}


@pytest.mark.parametrize(("change", "expected"), AREA_ERRORS.values(), ids=AREA_ERRORS.keys())
def test_area_errors(change, expected: list[str]) -> None:
    areas = apply(change, areas_frame())
    with pytest.raises(DataError) as info:
        prepare(areas=areas)
    for part in expected:
        assert part in str(info.value), f"{part!r} not in {info.value}"


def test_validate_areas_directly() -> None:
    frame = areas_frame().drop(columns=["name"])
    frame["urban"] = [" yes", "no", "yes", "no "]
    areas = validate_areas(frame, "areas.csv", ["urban"], need_deprivation=False)
    assert areas.index.name == "area"
    assert areas.loc["A", "name"] == "A"  # name defaults to the code
    assert areas["urban"].tolist() == ["yes", "no", "yes", "no"]
    assert areas["deprivation_decile"].dtype == np.int64


def test_deprivation_not_needed_for_national_match() -> None:
    areas = areas_frame().drop(columns=["deprivation_decile"])
    spec = make_spec(structure={"area_covariates": []}, benchmark={"match": "national"})
    assert prepare(spec=spec, areas=areas).areas["n"].sum() == 5


# --- benchmarks --------------------------------------------------------------------------

BENCH_ERRORS = {
    "non-numeric estimate": (
        set_cell("estimate", 1, "about half"),
        ["bench.csv", "column 'estimate'", "number", "'about half'", "line 3"],
    ),
    "blank estimate": (set_cell("estimate", 2, np.nan), ["column 'estimate'", "line 4"]),
    "deprivation open range": (
        set_cell("deprivation", 1, "1-"),
        ["bench.csv", "column 'deprivation'", "line 3", "'1-'", "a range like '1-2'"],
    ),
    "deprivation reversed": (
        set_cell("deprivation", 2, "3-1"),
        ["column 'deprivation'", "line 4", "'3-1'", "between 1 and 10"],
    ),
    "deprivation eleven": (set_cell("deprivation", 0, "11"), ["line 2", "'11'", "1 and 10"]),
    "deprivation zero": (set_cell("deprivation", 0, "0-2"), ["line 2", "'0-2'"]),
    "deprivation word": (set_cell("deprivation", 3, "most"), ["line 5", "'most'"]),
    "duplicate group": (
        lambda f: (set_cell("nation", 2, "England")(f), set_cell("deprivation", 2, "all")(f)),
        ["more than one benchmark", "nation 'England'", "deprivation 'all'", "lines 2, 4"],
    ),
    "duplicate after normalising": (
        lambda f: (set_cell("nation", 2, "England")(f), set_cell("deprivation", 2, " 1 - 3")(f)),
        ["more than one benchmark", "'q'", "'England'", "'1-3'", "lines 3, 4", "keep one row"],
    ),
    "zero n": (
        set_cell("n", 0, 0),
        ["bench.csv", "column 'n'", "positive number or blank", "line 2"],
    ),
    "negative n": (set_cell("n", 2, -5), ["column 'n'", "line 4"]),
    "text n": (set_cell("n", 3, "many"), ["column 'n'", "'many'", "line 5"]),
    "blank indicator": (set_cell("indicator", 1, " "), ["column 'indicator' is blank", "line 3"]),
    "missing column": (
        lambda f: f.drop(columns=["deprivation"]),
        ["bench.csv", "column 'deprivation' not found"],
    ),
}


@pytest.mark.parametrize(("change", "expected"), BENCH_ERRORS.values(), ids=BENCH_ERRORS.keys())
def test_benchmark_errors(change, expected: list[str]) -> None:
    bench = apply(change, bench_frame())
    with pytest.raises(DataError) as info:
        prepare(bench=bench)
    for part in expected:
        assert part in str(info.value), f"{part!r} not in {info.value}"


def test_benchmark_indicator_missing() -> None:
    with pytest.raises(DataError) as info:
        prepare(spec=make_spec(benchmark={"indicator": "qq"}))
    message = str(info.value)
    for part in [
        "bench.csv",
        "no rows for indicator 'qq'",
        "did you mean 'q'",
        "indicators present: other, q",
        "benchmark.indicator",
    ]:
        assert part in message


def test_validate_benchmarks_directly() -> None:
    frame = bench_frame().drop(columns=["n", "source", "year"])
    frame["deprivation"] = ["ALL", " 1 - 3 ", "all", "7"]
    table = validate_benchmarks(frame, "bench.csv")
    assert table["deprivation"].tolist() == ["all", "1-3", "all", "7-7"]
    assert table["deprivation_low"].tolist()[1:] == [1, pd.NA, 7]
    assert table["deprivation_high"].tolist()[1] == 3
    assert table["n"].isna().all()
    assert table["source"].tolist() == ["", "", "", ""]
    assert table["estimate"].dtype == float


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all", None),
        (" ALL ", None),
        ("2", (2, 2)),
        (" 1 - 3 ", (1, 3)),
        ("1-10", (1, 10)),
        (4, (4, 4)),
    ],
)
def test_parse_deprivation(text, expected) -> None:
    assert parse_deprivation(text) == expected


@pytest.mark.parametrize("text", ["1-", "3-1", "11", "0", "-2", "1-2-3", "two", "", "1.5"])
def test_parse_deprivation_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text).replace("\\", "\\\\")):
        parse_deprivation(text)


# --- files -------------------------------------------------------------------------------


@pytest.fixture
def spec_in(tmp_path: Path) -> Callable[..., ModelSpec]:
    """Write the small frames as files next to a spec and return a loader."""

    def make(survey: str | None = None, **files: str) -> ModelSpec:
        survey_frame().to_csv(tmp_path / "survey.csv", index=False)
        areas_frame().to_csv(tmp_path / "areas.csv", index=False)
        bench_frame().to_csv(tmp_path / "bench.csv", index=False)
        if survey is not None:
            (tmp_path / "survey.csv").write_text(survey, encoding="utf-8")
        for name, text in files.items():
            (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
        path = tmp_path / "spec.toml"
        path.write_text(
            'name = "t"\ndata = "survey.csv"\nareas = "areas.csv"\n'
            '[outcome]\ncolumn = "q"\nsuccess = ["Yes"]\nfailure = ["No"]\n'
            '[structure]\narea = "area"\nwave = "wave"\nweight = "weight"\n'
            'covariates = ["age_band", "sex"]\narea_covariates = ["deprivation_decile"]\n'
            '[benchmark]\ntable = "bench.csv"\nindicator = "q"\n',
            encoding="utf-8",
        )
        return load_spec(path)

    return make


def test_files_happy_path(spec_in) -> None:
    data = load_survey_data(spec_in())
    assert data.respondents["y"].tolist() == [1, 0, 1, 0, 1]
    assert data.n_missing_outcome == 1


def test_none_is_an_answer_not_a_missing_value(spec_in) -> None:
    survey = survey_frame()
    survey["q"] = ["Some", "None", "Some", "", "None", "NA"]
    text = survey.to_csv(index=False)
    outcome = {"column": "q", "success": ["Some"], "failure": ["None"]}
    spec = parse_spec(spec_in(text).model_dump() | {"outcome": outcome}, source="t")
    data = load_survey_data(spec)
    assert data.n_missing_outcome == 2  # "" and "NA"
    assert data.respondents["y"].tolist() == [1, 0, 1, 0]


def test_file_errors_name_the_file_and_line(spec_in, tmp_path: Path) -> None:
    text = survey_frame().to_csv(index=False).replace("R5,B,2,35-54,Female,1.0,No", "R5,B,2,,,x,No")
    with pytest.raises(DataError) as info:
        load_survey_data(spec_in(text))
    message = str(info.value)
    assert str(tmp_path / "survey.csv") in message
    assert "column 'weight'" in message and "line 6" in message


@pytest.mark.parametrize(
    ("role", "text", "expected"),
    [
        ("survey", "", "survey file is empty"),
        ("survey", "respondent_id,area,wave,age_band,sex,weight,q\n", "no data rows"),
        ("areas", "", "areas file is empty"),
        ("areas", "area,name,nation,deprivation_decile\n", "areas file has a header but no data"),
        ("bench", "indicator,nation,deprivation,estimate\n", "benchmarks file has a header"),
    ],
)
def test_empty_files(spec_in, tmp_path: Path, role: str, text: str, expected: str) -> None:
    spec = spec_in(**{role: text})
    with pytest.raises(DataError, match=expected) as info:
        load_survey_data(spec)
    assert str(tmp_path / f"{role}.csv") in str(info.value)


def test_missing_files(spec_in, tmp_path: Path) -> None:
    spec = spec_in()
    (tmp_path / "areas.csv").unlink()
    with pytest.raises(DataError, match="areas file not found") as info:
        load_survey_data(spec)
    assert str(tmp_path / "areas.csv") in str(info.value)
    with pytest.raises(DataError, match="survey file not found; check the path"):
        load_survey_data(spec, data=tmp_path / "nope.csv")


def test_read_table(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(" a , b\n1, x\n2,\n", encoding="utf-8")
    frame = read_table(path, "survey")
    assert list(frame.columns) == ["a", "b"]
    assert frame["b"].iloc[0] == "x"
    assert pd.isna(frame["b"].iloc[1])
    with pytest.raises(DataError, match="areas file not found"):
        read_table(tmp_path / "missing.csv", "areas")
    with pytest.raises(DataError, match="areas file not found"):
        read_table(tmp_path, "areas")


def test_read_table_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1, 2], "b": ["x", None]}).to_parquet(path)
    frame = read_table(path, "survey")
    assert frame["a"].tolist() == [1, 2]
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet", encoding="utf-8")
    with pytest.raises(DataError, match="cannot read survey file") as info:
        read_table(bad, "survey")
    assert str(bad) in str(info.value)


def _mixed_frame(n: int = 1_000) -> pd.DataFrame:
    """Every column kind the fast CSV writer formats, with missing values and odd floats."""
    rng = np.random.default_rng(5)
    odd = [0.0, -0.0, 1e16, 9999999999999998.0, 1e-4, 9.99e-5, 5e-324, 1.7976931348623157e308]
    floats = np.concatenate(
        [
            rng.normal(size=n - len(odd) - 2) * 10.0 ** rng.integers(-30, 30, n - len(odd) - 2),
            odd,
            [np.nan, np.inf],
        ]
    )
    labels = np.array(["Very good", "Ça va", "None", "", "1-3"], dtype=object)[
        rng.integers(0, 5, n)
    ]
    labels[::7] = np.nan
    scores = pd.array(rng.integers(0, 11, n), dtype="Int64")
    scores[::5] = pd.NA
    return pd.DataFrame(
        {
            "text": pd.Series(labels, dtype="str"),
            "integer": rng.integers(-(10**12), 10**12, n),
            "score": scores,
            "value": floats,
            "small": rng.random(n).astype(np.float32),
        }
    )


def test_write_table_csv_has_the_bytes_of_to_csv(tmp_path: Path) -> None:
    frame = _mixed_frame()
    assert _write_csv_fast(tmp_path / "fast.csv", frame)  # the fast path, not pandas
    frame.to_csv(tmp_path / "pandas.csv", index=False)
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    write_table(tmp_path / "table.csv", frame)
    assert (tmp_path / "table.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    # more rows than one block
    big = pd.concat([frame] * 3, ignore_index=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("lcmodel.io.tables._CSV_ROWS", 700)
        write_table(tmp_path / "blocks.csv", big)
    assert (tmp_path / "blocks.csv").read_bytes() == big.to_csv(index=False).encode()


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.assign(text=f["text"].str.replace("Ça va", "yes, fine")),  # needs quotes
        lambda f: f.assign(text=f["text"].str.replace("Ça va", 'say "hi"')),
        lambda f: f.assign(text=f["text"].str.replace("Ça va", "two\nlines")),
        lambda f: f.assign(flag=f["integer"] > 0),  # bool: left to pandas
        lambda f: f.assign(other=f["text"].astype(object)),
        lambda f: f.rename(columns={"text": "a, b"}),
        lambda f: f[["text"]],  # one column
        lambda f: f.iloc[:0],  # no rows
    ],
)
def test_write_table_leaves_other_tables_to_pandas(tmp_path: Path, change: Callable) -> None:
    frame = change(_mixed_frame(200))
    assert not _write_csv_fast(tmp_path / "fast.csv", frame)
    assert not (tmp_path / "fast.csv").exists()
    write_table(tmp_path / "t.csv", frame)
    assert (tmp_path / "t.csv").read_bytes() == frame.to_csv(index=False).encode()


def test_write_table_parquet_round_trips_through_read_table(tmp_path: Path) -> None:
    frame = _mixed_frame()
    write_table(tmp_path / "t.parquet", frame)
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet", "survey"), frame)
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]  # no staging file left


# --- what a new user hit ------------------------------------------------------------------
def test_areas_key_column_follows_structure_area() -> None:
    survey = survey_frame().rename(columns={"area": "county"})
    areas = areas_frame().rename(columns={"area": "county"})
    spec = make_spec(structure={"area": "county"})
    data = prepare(survey, spec, areas)
    assert data.areas["n"].to_dict() == {"A": 2, "B": 2, "C": 1, "D": 0}
    # an areas table keyed 'area' still works with any survey column name
    assert prepare(survey, spec, areas_frame()).areas["n"].sum() == 5


def test_areas_key_column_missing_names_both_choices() -> None:
    survey = survey_frame().rename(columns={"area": "county"})
    areas = areas_frame().rename(columns={"area": "code"})
    with pytest.raises(DataError, match=r"'county' \(the spec's structure\.area\) or 'area'"):
        prepare(survey, make_spec(structure={"area": "county"}), areas)
    both = areas_frame().assign(county=lambda f: f["area"])
    with pytest.raises(DataError, match="has both 'county'"):
        prepare(survey, make_spec(structure={"area": "county"}), both)


def _counts_survey() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area": ["A", "A", "B", "C"],
            "wave": [1, 2, 1, 2],
            "age_band": ["16-34", "55+", "16-34", "55+"],
            "sex": ["Female", "Male", "Male", "Female"],
            "weight": [1.0, 1.0, 1.0, 1.0],
            "yes": [3, 0, 5, 2],
            "asked": [4, 2, 5, 6],
        }
    )


def test_binary_counts_out_of_trials() -> None:
    spec = make_spec(outcome={"column": "yes", "trials": "asked", "success": None, "failure": None})
    data = prepare(_counts_survey(), spec)
    assert data.areas["n"].to_dict() == {"A": 6, "B": 5, "C": 6, "D": 0}
    by_area = data.respondents.groupby("area")["y"].sum().to_dict()
    assert by_area == {"A": 3, "B": 5, "C": 2}
    from lcmodel.design.cells import aggregate

    cells = aggregate(data.respondents, ["area", "wave", "age_band", "sex"], ["y"])
    assert cells.trials.tolist() == [4, 2, 5, 6]
    assert cells.counts[:, 0].tolist() == [3, 0, 5, 2]


@pytest.mark.parametrize(
    ("yes", "asked", "expected"),
    [
        ([3, 0, 7, 2], [4, 2, 5, 6], "must not exceed column 'asked'"),
        ([3, 0, 1.5, 2], [4, 2, 5, 6], "whole numbers of 0 or more, not 1.5 \\(line 4\\)"),
        ([3, 0, 1, 2], [4, -2, 5, 6], "column 'asked' \\(trials\\) must hold whole numbers"),
    ],
)
def test_binary_counts_are_checked(yes: list, asked: list, expected: str) -> None:
    survey = _counts_survey().assign(yes=yes, asked=asked)
    spec = make_spec(outcome={"column": "yes", "trials": "asked", "success": None, "failure": None})
    with pytest.raises(DataError, match=expected):
        prepare(survey, spec)


def test_counts_without_trials_suggest_trials() -> None:
    spec = make_spec(outcome={"column": "yes", "success": None, "failure": None})
    with pytest.raises(DataError, match=r"name the column of trials in 'outcome\.trials'"):
        prepare(_counts_survey(), spec)
