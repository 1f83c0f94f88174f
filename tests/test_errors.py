"""Messages show values as a user wrote them: ``3`` or ``'3'``, never ``np.int64(3)``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lcmodel.data.population import validate_frame
from lcmodel.data.survey import parse_deprivation, prepare_survey_data
from lcmodel.design.covariates import area_covariate_design
from lcmodel.errors import DataError, LcmodelError, listed, plain, shown
from lcmodel.results.waves import changes
from lcmodel.simulate import simulate_survey
from lcmodel.spec import FrameSpec, parse_spec


def _prepare(survey: pd.DataFrame, areas: pd.DataFrame | None = None, **outcome: object):
    raw = {
        "name": "t",
        "data": "survey.csv",
        "outcome": {"column": "q", "success": ["Yes"], "failure": ["No"]} | outcome,
        "structure": {"area": "area"},
    } | ({"areas": "areas.csv"} if areas is not None else {})
    spec = parse_spec(raw, source="test")
    sources = {"survey": "survey.csv", "areas": "areas.csv"}
    return prepare_survey_data(survey, spec, areas, None, sources=sources)


def _survey(**columns: object) -> pd.DataFrame:
    base = {"area": ["1", "1", "2", "2", "3", "3"], "q": ["Yes", "No"] * 3}
    return pd.DataFrame(base | columns)


def _areas(codes: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"area": np.array(codes, dtype=np.int64), "name": "x", "nation": "E"})


def _clean(message: str, *names: str) -> None:
    assert "np." not in message, message
    for name in names:
        assert name in message, f"{name!r} not in {message!r}"


# --- the helpers ---------------------------------------------------------------------------


def test_plain_unwraps_numpy_scalars_only() -> None:
    assert plain(np.int64(3)) == 3 and type(plain(np.int64(3))) is int
    assert type(plain(np.float64(2.5))) is float
    assert type(plain(np.str_("x"))) is str
    assert type(plain(np.bool_(True))) is bool
    assert plain("x") == "x" and plain(None) is None


def test_shown_and_listed() -> None:
    assert shown(np.float64(2.5)) == "2.5"
    assert shown(np.str_("x")) == "'x'"
    assert shown(np.nan) == "a blank" and shown(pd.NA) == "a blank"
    assert listed(np.array([1, 2])) == "[1, 2]"
    assert listed(pd.Series(["a", "b"], dtype="string")) == "['a', 'b']"
    assert listed(range(8)) == "[0, 1, 2, 3, 4] and 3 more"
    assert listed(range(8), limit=None) == "[0, 1, 2, 3, 4, 5, 6, 7]"
    assert listed([]) == "[]"


# --- real errors with numpy-typed values ----------------------------------------------------


def test_integer_area_column_unknown_area() -> None:
    survey = _survey(area=np.array([1, 1, 2, 2, 9, 3], dtype=np.int64))
    with pytest.raises(DataError) as info:
        _prepare(survey, _areas([1, 2, 3, 4]))
    _clean(str(info.value), "['9']", "line 6")


def test_integer_area_column_repeated_area() -> None:
    with pytest.raises(DataError) as info:
        _prepare(_survey(), _areas([1, 2, 3, 2]))
    _clean(str(info.value), "'2' appears more than once", "lines 3, 5")


def test_frame_with_an_unknown_integer_area() -> None:
    frame = pd.DataFrame(
        {
            "area": np.array([1, 2, 7], dtype=np.int64),
            "sex": ["F", "F", "F"],
            "count": np.array([10, 20, 30], dtype=np.int64),
        }
    )
    areas = pd.DataFrame(index=pd.Index(["1", "2"], name="area"))
    respondents = pd.DataFrame({"sex": ["F"]})
    settings = FrameSpec(table="frame.csv")
    with pytest.raises(DataError) as info:
        validate_frame(frame, settings, ["sex"], respondents, areas, "frame.csv")
    _clean(str(info.value), "area(s) ['7']", "not in the areas table")


def test_frame_with_integer_levels_no_respondent_has() -> None:
    frame = pd.DataFrame(
        {"area": ["1", "1"], "band": np.array([1, 5], dtype=np.int64), "count": [10.0, 20.0]}
    )
    areas = pd.DataFrame(index=pd.Index(["1"], name="area"))
    respondents = pd.DataFrame({"band": np.array([1, 2], dtype=np.int64)})
    settings = FrameSpec(table="frame.csv")
    with pytest.raises(DataError) as info:
        validate_frame(frame, settings, ["band"], respondents, areas, "frame.csv")
    _clean(str(info.value), "level(s) ['5']", "levels in the survey: ['1', '2']")


ORDINAL = {"family": "ordinal", "categories": [1, 2, 3, 4], "success": None, "failure": None}


def test_ordinal_category_never_answered_given_as_numbers() -> None:
    survey = _survey(q=np.array([1, 2, 3, 1, 2, 3], dtype=np.int64))
    with pytest.raises(DataError) as info:
        _prepare(survey, **ORDINAL)
    _clean(str(info.value), "category '4'", "never answered")


def test_ordinal_scores_out_of_range_given_as_numbers() -> None:
    survey = _survey(q=np.array([1, 2, 3, 1, 7, 4], dtype=np.int64))
    with pytest.raises(DataError) as info:
        _prepare(survey, **ORDINAL)
    _clean(str(info.value), "outside 1-4: ['7']", "line 6")


def test_single_level_integer_area_covariate() -> None:
    areas = pd.DataFrame({"urban": np.array([1, 1, 1], dtype=np.int64)})
    with pytest.raises(DataError) as info:
        area_covariate_design(areas, {"urban": "categorical"}, "structure.area_covariates")
    _clean(str(info.value), "single level ('1')")


def test_unknown_wave_lists_the_waves_as_numbers() -> None:
    inputs = pd.DataFrame({"area": ["A", "A"], "wave": np.array([1, 2], dtype=np.int64)})
    with pytest.raises(LcmodelError) as info:
        changes(
            None,  # type: ignore[arg-type]  # never reached: the wave is checked first
            inputs,
            first=np.int64(1),  # type: ignore[arg-type]
            last=np.int64(3),  # type: ignore[arg-type]
            prob=0.9,
            kind="equal-tailed",
            higher_is_better=True,
            headline="share",
        )
    _clean(str(info.value), "no wave 3", "waves are [1, 2]")


def test_benchmark_deprivation_given_as_a_number() -> None:
    with pytest.raises(ValueError) as info:
        parse_deprivation(np.int64(13))
    _clean(str(info.value), "13 must be deciles")


def test_simulate_rejects_numpy_values_by_their_value() -> None:
    with pytest.raises(ValueError) as info:
        simulate_survey(n_areas=np.float64(2.5))  # type: ignore[arg-type]
    _clean(str(info.value), "n_areas must be an integer, got 2.5")
    with pytest.raises(ValueError) as info:
        simulate_survey(area_sd=np.float64(-1.0))
    _clean(str(info.value), "got -1.0")
