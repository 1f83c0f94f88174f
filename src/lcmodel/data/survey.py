"""Loading and validating survey microdata, the areas table and benchmarks.

This is the only module that checks raw input. It turns raw frames into a typed
:class:`SurveyData`; nothing downstream re-checks. Every error names the file, the column,
the first offending lines and how to fix it.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lcmodel.data.common import AREA, clean_labels
from lcmodel.data.population import check_frame_holds_sample, validate_frame
from lcmodel.errors import DataError, did_you_mean, first_rows, listed, shown
from lcmodel.families import Family, get_family
from lcmodel.io.tables import read_table
from lcmodel.spec import ModelSpec

__all__ = [
    "AREA",
    "SurveyData",
    "clean_labels",
    "integer_column",
    "load_survey_data",
    "parse_deprivation",
    "prepare_survey_data",
    "validate_areas",
    "validate_benchmarks",
]


@dataclass(frozen=True)
class SurveyData:
    """Validated, typed input for one indicator.

    Attributes
    ----------
    respondents
        One row per respondent with a non-missing answer: ``area``, ``wave`` (when modelled),
        the covariates (as strings), ``weight`` (when given) and the family's count columns.
    areas
        One row per area (index ``area``): ``name``, ``nation``, ``deprivation_decile`` when
        known, the area covariates, and ``n`` (respondents with an answer, 0 when unsurveyed).
    benchmarks
        Validated benchmark rows, or ``None`` when the spec has no benchmark.
    family
        The outcome family that coded the answers.
    covariates, area_covariates
        Names of the categorical respondent covariates and of the area covariates.
    numeric_covariates
        Names of the numeric respondent covariates.
    population
        Population means of the numeric covariates per area (index ``area``; a ``size``
        column when the spec names one), or ``None``.
    frame
        The validated population frame (``area``, covariates, ``count``), or ``None``.
    estimand
        What an area value estimates: ``finite_population``, ``superpopulation`` or
        ``sample`` (the spec's ``estimand``, or its default; see
        :attr:`lcmodel.spec.ModelSpec.target`).
    wave
        Whether a wave column is modelled.
    n_missing_outcome
        Respondents dropped because their answer is missing.
    n_missing_covariates
        Respondents dropped because a covariate is missing.
    data_hash
        SHA-256 of the validated respondents and areas, recorded with every result.
    """

    respondents: pd.DataFrame
    areas: pd.DataFrame
    benchmarks: pd.DataFrame | None
    family: Family
    covariates: tuple[str, ...]
    area_covariates: tuple[str, ...]
    wave: bool
    numeric_covariates: tuple[str, ...] = ()
    population: pd.DataFrame | None = None
    frame: pd.DataFrame | None = None
    n_missing_outcome: int = 0
    n_missing_covariates: int = 0
    weighted: bool = False
    estimand: str = "sample"
    data_hash: str = field(default="")

    @property
    def count_columns(self) -> list[str]:
        """The family's outcome count columns."""
        return self.family.count_columns


def _require_columns(frame: pd.DataFrame, columns: list[str], source: str, fix: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise DataError(
                f"{source}: column '{column}' not found{did_you_mean(column, frame.columns)}; "
                f"columns present: {', '.join(map(str, frame.columns))}. {fix}"
            )


def integer_column(series: pd.Series, column: str, source: str) -> pd.Series:
    """Whole numbers of a column, or a :class:`DataError` naming the lines that are not.

    ``series``' index labels are the file's data row positions (for the message).
    """
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna() | (numbers.round() != numbers)
    if bad.any():
        rows = list(series.index[bad.to_numpy()])  # labels are file row positions
        raise DataError(
            f"{source}: column '{column}' must hold whole numbers, but "
            f"{shown(series.loc[rows[0]])}{' and others are' if len(rows) > 1 else ' is'} not "
            f"({first_rows(rows)}). Fix or remove those rows."
        )
    return numbers.astype(np.int64)


def _reject(
    bad: pd.Series, values: pd.Series, source: str, subject: str, requirement: str, fix: str = ""
) -> None:
    """Raise :class:`DataError` naming the first bad value and its lines, if any is bad.

    Parameters
    ----------
    bad
        Which rows fail (aligned with ``values``; positions are file rows).
    values
        The raw values, for the message.
    source, subject, requirement, fix
        Message parts: ``"{source}: {subject} {requirement}, not {value} (lines). {fix}"``.
    """
    if bad.any():
        rows = list(np.flatnonzero(bad.to_numpy()))
        value = shown(values.iloc[rows[0]])
        message = f"{source}: {subject} {requirement}, not {value} ({first_rows(rows)})."
        raise DataError(f"{message} {fix}".rstrip())


def numeric_column(
    series: pd.Series,
    column: str,
    source: str,
    fix: str = "Fix the values, or list the column under 'structure.covariates' if it is "
    "categorical.",
) -> pd.Series:
    """Numbers, with blanks kept missing; text or infinities are errors naming the lines.

    Parameters
    ----------
    series
        Raw values (positions are file rows).
    column, source
        Column and file names for the message.
    fix
        What the message tells the user to do.
    """
    numbers = pd.to_numeric(series, errors="coerce")
    bad = (numbers.isna() & series.notna()) | np.isinf(numbers.fillna(0.0))
    _reject(bad, series, source, f"column '{column}'", "must hold finite numbers", fix)
    return numbers.astype(float)


def _year_text(value: object) -> str:
    """A benchmark year as text: 2021 (not 2021.0), "2021/22", or "" when blank."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def sort_areas(codes: object) -> list[str]:
    """Area codes in natural order (numerically when every code is a number)."""
    labels = [str(c) for c in codes]  # type: ignore[attr-defined]
    if labels and all(label.isdigit() for label in labels):
        return sorted(labels, key=int)
    return sorted(labels)


def validate_population(frame: pd.DataFrame, spec: ModelSpec, source: str) -> pd.DataFrame:
    """Validate a table of population covariate means (one row per area).

    Parameters
    ----------
    frame
        Raw table.
    spec
        The spec (its ``[population]`` section names the columns).
    source
        File name for messages.

    Returns
    -------
    pandas.DataFrame
        Indexed by area, one column per numeric covariate (its population mean), one column
        ``share:<covariate>:<level>`` per level of each categorical covariate, and ``size``
        when the spec names a size column.
    """
    assert spec.population is not None
    settings = spec.population
    columns = [settings.area, *settings.means.values()]
    columns += [column for levels in settings.shares.values() for column in levels.values()]
    columns += [settings.size] if settings.size else []
    _require_columns(frame, columns, source, "Fix the column names in [population].")
    table = pd.DataFrame(index=pd.Index(clean_labels(frame[settings.area]), name=AREA))
    blank = table.index.isna()
    if blank.any():
        raise DataError(
            f"{source}: column '{settings.area}' is blank in "
            f"{first_rows(list(np.flatnonzero(blank)))}."
        )
    duplicated = table.index.duplicated(keep=False)
    if duplicated.any():
        rows = list(np.flatnonzero(duplicated))
        raise DataError(
            f"{source}: area '{table.index[rows[0]]}' appears more than once "
            f"({first_rows(rows)}); give one row per area."
        )
    for covariate, column in settings.means.items():
        values = numeric_column(frame[column], column, source)
        blank = values.isna()
        if blank.any():
            raise DataError(
                f"{source}: column '{column}' (population mean of {covariate}) is blank in "
                f"{first_rows(list(np.flatnonzero(blank.to_numpy())))}."
            )
        table[covariate] = values.to_numpy()
    for covariate, levels in settings.shares.items():
        shares = pd.DataFrame(
            {
                level: numeric_column(frame[column], column, source)
                for level, column in levels.items()
            }
        )
        for level, column in levels.items():
            _reject(
                shares[level].isna() | ~shares[level].between(0, 1),
                frame[column],
                source,
                f"column '{column}' (share of {covariate} = {level})",
                "must be a share between 0 and 1",
                "Give shares, not counts or percentages.",
            )
        total = shares.sum(axis=1)
        _reject(
            (total - 1).abs() > 0.01,
            total,
            source,
            f"the shares of {covariate} ({', '.join(levels.values())})",
            "must add up to 1 in each area",
            "Every level of the covariate needs its share; fix rounding beyond 0.01.",
        )
        for level in levels:
            # rounding within 0.01 is absorbed: each area's shares are made to sum to 1
            table[f"share:{covariate}:{level}"] = (shares[level] / total).to_numpy()
    if settings.size:
        size = numeric_column(frame[settings.size], settings.size, source)
        _reject(
            size.isna() | ~(size > 0),
            frame[settings.size],
            source,
            f"column '{settings.size}' (population size)",
            "must be a positive number",
        )
        table["size"] = size.to_numpy()
    return table


def _check_benchmarks_fit(
    bench: pd.DataFrame, family: Family, areas: pd.DataFrame, source: str, areas_source: str
) -> None:
    """Check benchmarks against the model: quantities, share ranges, nation spellings."""
    kinds = {q.name: q.kind for q in family.quantities()}
    unknown = sorted(set(bench["quantity"]) - set(kinds))
    if unknown:
        raise DataError(
            f"{source}: quantity {shown(unknown[0])} of indicator "
            f"'{bench['indicator'].iloc[0]}' is not one this model reports"
            f"{did_you_mean(unknown[0], kinds)}; it reports {', '.join(kinds)}."
        )
    shares = bench["quantity"].map(kinds) == "share"
    outside = shares & ~bench["estimate"].between(0.0, 1.0)
    if outside.any():
        rows = list(np.flatnonzero(outside.to_numpy()))
        raise DataError(
            f"{source}: benchmark estimate {bench['estimate'].iloc[rows[0]]} for a share is "
            f"outside 0-1; shares are proportions (percentages? divide by 100)."
        )
    nations = set(bench["nation"])
    for nation in sorted(set(areas["nation"].dropna())) if "nation" in areas.columns else []:
        close = did_you_mean(nation, nations)
        if nation not in nations and close:
            raise DataError(
                f"{areas_source}: nation '{nation}' has no benchmark rows, but {source} has a "
                f"close spelling{close}. Use the same spelling in both files."
            )


def _check_population_areas(
    population: pd.DataFrame, respondents: pd.DataFrame, areas: pd.DataFrame, source: str
) -> None:
    missing = sorted(set(areas.index) - set(population.index))
    if missing:
        raise DataError(
            f"{source}: no population means for area(s) {listed(missing)}; every area of the "
            f"areas table (surveyed or not) needs a row."
        )
    unknown = sorted(set(population.index) - set(areas.index))
    if unknown:
        raise DataError(
            f"{source}: area(s) {listed(unknown)} are not in the areas table; add them there or "
            f"remove them here."
        )
    for column in [c for c in population.columns if c.startswith("share:")]:
        _, covariate, _ = column.split(":", 2)
        given = {
            c.split(":", 2)[2] for c in population.columns if c.startswith(f"share:{covariate}:")
        }
        answered = set(respondents[covariate].astype(str))
        if given != answered:
            raise DataError(
                f"{source}: the shares of '{covariate}' are for level(s) {listed(sorted(given))} "
                f"but respondents have {listed(sorted(answered))}; give one share per level the "
                f"survey has, spelled as in the survey (the model has an effect only for those)."
            )
    if "size" in population.columns:
        n = respondents.groupby(AREA).size()
        small = [a for a, k in n.items() if population.at[a, "size"] < k]
        if small:
            raise DataError(
                f"{source}: population size of area '{small[0]}' is smaller than its "
                f"{n[small[0]]} respondents; sizes count population units."
            )


def frame_hash(*frames: pd.DataFrame) -> str:
    """SHA-256 of the frames' columns and values (recorded with results)."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


_DEPRIVATION = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def parse_deprivation(value: object) -> tuple[int, int] | None:
    """Parse a benchmark deprivation group: ``"all"`` -> ``None``, ``"1-2"`` -> ``(1, 2)``.

    Parameters
    ----------
    value
        ``"all"``, a decile (``"3"``) or an inclusive decile range (``"1-3"``).

    Raises
    ------
    ValueError
        When the value is none of these, or the range is outside 1-10 or reversed.
    """
    text = str(value).strip().lower()
    if text == "all":
        return None
    match = _DEPRIVATION.match(text)
    if not match:
        raise ValueError(f"{shown(value)} is not 'all', a decile or a range like '1-2'")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not 1 <= low <= high <= 10:
        raise ValueError(f"{shown(value)} must be deciles between 1 and 10, low to high")
    return low, high


def validate_areas(
    frame: pd.DataFrame,
    source: str,
    area_covariates: list[str],
    *,
    need_nation: bool = False,
    need_deprivation: bool = False,
    key: str = AREA,
) -> pd.DataFrame:
    """Validate the areas table and return it indexed by area code.

    Parameters
    ----------
    frame
        Raw areas table.
    source
        File name for messages.
    area_covariates
        Columns the model uses as area covariates (must be complete).
    need_nation
        Whether ``nation`` is required (any benchmark comparison).
    need_deprivation
        Whether ``deprivation_decile`` is required (deprivation-matched benchmarks).
    key
        The survey's area column (``structure.area``): the areas table's key column has the
        same name, or is called ``area``.
    """
    frame = _area_key(frame, key, source)
    reserved = sorted({"n", "in_sample", "direct"} & set(area_covariates))
    if reserved:
        raise DataError(
            f"{source}: area covariate column '{reserved[0]}' has a name lcmodel uses "
            f"internally; rename it in the areas table and the spec."
        )
    required = [AREA, *area_covariates]
    required += ["nation"] if need_nation or need_deprivation else []
    required += ["deprivation_decile"] if need_deprivation else []
    _require_columns(frame, required, source, "The areas table needs one row per area.")
    areas = frame.copy()
    areas[AREA] = clean_labels(areas[AREA])
    for column in required:
        missing = areas[column].isna()
        if missing.any():
            raise DataError(
                f"{source}: column '{column}' is blank in "
                f"{first_rows(list(np.flatnonzero(missing.to_numpy())))}; fill it in."
            )
    duplicated = areas[AREA].duplicated(keep=False)
    if duplicated.any():
        rows = list(np.flatnonzero(duplicated.to_numpy()))
        raise DataError(
            f"{source}: area code '{areas[AREA].iloc[rows[0]]}' appears more than once "
            f"({first_rows(rows)}); each area needs exactly one row."
        )
    if "deprivation_decile" in areas.columns and areas["deprivation_decile"].notna().all():
        deciles = integer_column(areas["deprivation_decile"], "deprivation_decile", source)
        out = ~deciles.between(1, 10)
        if out.any():
            raise DataError(
                f"{source}: column 'deprivation_decile' must be 1-10 (1 = most deprived), "
                f"not {deciles[out].iloc[0]} ({first_rows(list(np.flatnonzero(out)))})."
            )
        areas["deprivation_decile"] = deciles
    if "nation" in areas.columns:
        areas["nation"] = clean_labels(areas["nation"])
    if "name" not in areas.columns:
        areas["name"] = areas[AREA]
    for column in area_covariates:
        if not pd.api.types.is_numeric_dtype(areas[column]):
            areas[column] = clean_labels(areas[column])
    return areas.set_index(AREA)


def _area_key(frame: pd.DataFrame, key: str, source: str) -> pd.DataFrame:
    """The areas table with its key column named ``area``.

    The key is the survey's area column name (``structure.area``, e.g. ``county``) or, failing
    that, ``area``; a table with both is ambiguous.
    """
    if key == AREA or key not in frame.columns:
        if AREA not in frame.columns:
            names = (
                f"'{key}' (the spec's structure.area) or '{AREA}'" if key != AREA else f"'{AREA}'"
            )
            raise DataError(
                f"{source}: no area key column: the areas table names its areas in a column "
                f"called {names}{did_you_mean(key, frame.columns)}; columns present: "
                f"{', '.join(map(str, frame.columns))}. Rename the key column."
            )
        return frame
    if AREA in frame.columns:
        raise DataError(
            f"{source}: has both '{key}' (the spec's structure.area) and '{AREA}' columns; "
            f"keep one as the area key (rename or drop the other)."
        )
    return frame.rename(columns={key: AREA})


def validate_benchmarks(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Validate a benchmarks table (DESIGN section 2).

    Parameters
    ----------
    frame
        Raw table with ``indicator``, ``nation``, ``deprivation``, ``estimate`` and optional
        ``quantity`` (default ``share``; e.g. ``mean`` or ``share:good or very good``),
        ``n``, ``source``, ``year``.
    source
        File name for messages.
    """
    _require_columns(
        frame,
        ["indicator", "nation", "deprivation", "estimate"],
        source,
        "Benchmarks need one row per indicator x nation x deprivation group.",
    )
    table = frame.copy()
    for column in ["indicator", "nation", "deprivation"]:
        table[column] = clean_labels(table[column])
        blank = table[column].isna()
        if blank.any():
            raise DataError(
                f"{source}: column '{column}' is blank in "
                f"{first_rows(list(np.flatnonzero(blank.to_numpy())))}."
            )
    estimate = pd.to_numeric(table["estimate"], errors="coerce")
    _reject(estimate.isna(), table["estimate"], source, "column 'estimate'", "must be a number")
    table["estimate"] = estimate.astype(float)
    groups = []
    for row, value in enumerate(table["deprivation"]):
        try:
            groups.append(parse_deprivation(value))
        except ValueError as exc:
            where = f"{source}: column 'deprivation', {first_rows([row])}"
            raise DataError(f"{where}: {exc}.") from None
    table["deprivation_low"] = [g[0] if g else pd.NA for g in groups]
    table["deprivation_high"] = [g[1] if g else pd.NA for g in groups]
    table["deprivation"] = ["all" if g is None else f"{g[0]}-{g[1]}" for g in groups]
    if "n" in table.columns:
        n = pd.to_numeric(table["n"], errors="coerce")
        _reject(
            table["n"].notna() & (n.isna() | (n <= 0)),
            table["n"],
            source,
            "column 'n' (benchmark sample size)",
            "must be a positive number or blank",
        )
        table["n"] = n.astype(float)
    else:
        table["n"] = np.nan
    if "quantity" not in table.columns:
        table["quantity"] = "share"
    table["quantity"] = clean_labels(table["quantity"]).fillna("share")
    if "source" not in table.columns:
        table["source"] = ""
    table["source"] = table["source"].fillna("").astype(str)
    if "year" not in table.columns:
        table["year"] = ""
    table["year"] = [_year_text(v) for v in table["year"]]
    key = ["indicator", "quantity", "nation", "deprivation"]
    duplicated = table.duplicated(key, keep=False)
    if duplicated.any():
        rows = list(np.flatnonzero(duplicated.to_numpy()))
        first = table.iloc[rows[0]]
        raise DataError(
            f"{source}: more than one benchmark for indicator '{first['indicator']}' "
            f"({first['quantity']}), nation '{first['nation']}', deprivation "
            f"'{first['deprivation']}' ({first_rows(rows)}); keep one row per indicator x "
            f"quantity x nation x deprivation group."
        )
    return table.reset_index(drop=True)


def _check_covariates_vary(
    respondents: pd.DataFrame, covariates: list[str], numeric: list[str], outcome: str
) -> None:
    """Every respondent covariate must vary among the respondents who answered."""
    for column in covariates:
        levels = respondents[column].unique()
        if len(levels) < 2:
            raise DataError(
                f"covariate '{column}' has a single level ({shown(str(levels[0]))}) among "
                f"respondents who answered '{outcome}'; it cannot be estimated. Drop it from "
                f"'structure.covariates'."
            )
    for column in numeric:
        if not respondents[column].to_numpy(dtype=float).std() > 0:
            raise DataError(
                f"numeric covariate '{column}' has the same value for every respondent who "
                f"answered '{outcome}'; drop it from 'structure.numeric_covariates'."
            )


def expand_trials(survey: pd.DataFrame, successes: str, trials: str, source: str) -> pd.DataFrame:
    """Rows of ``successes`` out of ``trials`` as one 0/1 row per trial.

    Published tables and many surveys give a binary outcome as counts per area or cell. Each
    row becomes ``trials`` rows with the same area, wave and covariates, ``successes`` of them
    1: the binomial cells the model builds from them are the row's own counts, so the
    posterior is that of the counts. A row with both counts blank stays one row with a missing
    answer; a row with 0 trials adds nothing.

    Parameters
    ----------
    survey
        Raw table (positions are file rows).
    successes, trials
        The count columns (``outcome.column`` and ``outcome.trials``).
    source
        File name for messages.

    Raises
    ------
    DataError
        When a count is not a whole number, is negative, or successes exceed trials.
    """
    blank = survey[successes].isna() & survey[trials].isna()
    given = ~blank
    counts = {}
    for column in (successes, trials):
        values = pd.to_numeric(survey[column], errors="coerce")
        bad = given & (values.isna() | (values.round() != values) | (values < 0))
        _reject(
            bad,
            survey[column],
            source,
            f"column '{column}' ({'successes' if column == successes else 'trials'})",
            "must hold whole numbers of 0 or more",
            "Give counts for every row, or leave both counts blank for a row without data.",
        )
        counts[column] = values.fillna(0).astype(np.int64)
    over = given & (counts[successes] > counts[trials])
    _reject(
        over,
        survey[successes],
        source,
        f"column '{successes}' (successes)",
        f"must not exceed column '{trials}' (trials)",
        "Check that the successes and trials columns are the right way round.",
    )
    size = np.where(blank.to_numpy(), 1, counts[trials].to_numpy())
    rows = survey.drop(columns=[trials, "respondent_id"], errors="ignore")
    expanded = rows.loc[rows.index.repeat(size)].reset_index(drop=True)
    first = np.repeat(np.cumsum(size) - size, size)
    rank = np.arange(int(size.sum())) - first
    success = rank < np.repeat(counts[successes].to_numpy(), size)
    expanded[successes] = np.where(np.repeat(blank.to_numpy(), size), np.nan, success.astype(float))
    return expanded


def prepare_survey_data(
    survey: pd.DataFrame,
    spec: ModelSpec,
    areas: pd.DataFrame | None = None,
    benchmarks: pd.DataFrame | None = None,
    population: pd.DataFrame | None = None,
    population_frame: pd.DataFrame | None = None,
    *,
    sources: dict[str, str] | None = None,
) -> SurveyData:
    """Validate raw frames against a spec and return :class:`SurveyData`.

    Parameters
    ----------
    survey
        Raw survey microdata, one row per respondent.
    spec
        The model spec (which columns play which role, how answers are coded).
    areas
        Raw areas table; required when the spec uses area covariates or benchmarks.
    benchmarks
        Raw benchmarks table; required when the spec has a ``[benchmark]`` section.
    population
        Raw table of population covariate means; required when the spec has a
        ``[population]`` section.
    population_frame
        Raw population frame (area x covariate cells with counts); required when the spec
        has a ``[frame]`` section.
    sources
        File names of the frames for messages (keys ``survey``, ``areas``, ``benchmarks``,
        ``population``, ``frame``).

    Raises
    ------
    DataError
        On any invalid input, naming file, column, lines and the fix.
    """
    defaults = {
        "survey": "survey data",
        "areas": "areas table",
        "benchmarks": "benchmarks",
        "population": "population table",
        "frame": "population frame",
    }
    sources = defaults | (sources or {})
    src = sources["survey"]
    # Positions, not index labels, are what error messages report as file lines.
    survey = survey.reset_index(drop=True)
    structure = spec.structure
    family = get_family(spec.outcome)
    covariates = list(structure.covariates)
    numeric = list(structure.numeric_covariates)
    needed = [structure.area, spec.outcome.column, *covariates, *numeric]
    needed += [c for c in (structure.wave, structure.weight, spec.outcome.trials) if c]
    _require_columns(survey, needed, src, "Fix the column name in the spec or the data file.")
    if spec.outcome.trials is not None:
        survey = expand_trials(survey, spec.outcome.column, spec.outcome.trials, src)
    reserved = {AREA, "wave", "weight", *family.count_columns}
    clashes = sorted(set(covariates + numeric) & reserved)
    if clashes:
        raise DataError(
            f"{src}: covariate column '{clashes[0]}' has a name lcmodel uses internally "
            f"({', '.join(sorted(reserved))}); rename the column in the data file and the spec."
        )

    if "respondent_id" in survey.columns:
        ids = survey["respondent_id"]
        duplicated = ids.duplicated(keep=False) & ids.notna()
        if duplicated.any():
            rows = list(np.flatnonzero(duplicated.to_numpy()))
            raise DataError(
                f"{src}: column 'respondent_id' repeats '{ids.iloc[rows[0]]}' "
                f"({first_rows(rows)}); each respondent must appear once. Remove duplicate rows."
            )

    frame = pd.DataFrame(index=survey.index)
    frame[AREA] = clean_labels(survey[structure.area])
    blank = frame[AREA].isna()
    if blank.any():
        raise DataError(
            f"{src}: column '{structure.area}' (area) is blank in "
            f"{first_rows(list(np.flatnonzero(blank.to_numpy())))}; every respondent needs an area."
        )
    if structure.wave is not None:
        wave = survey[structure.wave]
        frame["wave"] = pd.Series(pd.NA, index=survey.index, dtype="Int64")
        given = wave.notna() & (wave.astype(str).str.strip() != "")
        frame.loc[given, "wave"] = integer_column(wave[given], structure.wave, src).to_numpy()
    for column in covariates:
        frame[column] = clean_labels(survey[column])
    for column in numeric:
        frame[column] = numeric_column(survey[column], column, src)
    if structure.weight is not None:
        weight = pd.to_numeric(survey[structure.weight], errors="coerce")
        _reject(
            weight.isna() | ~(weight > 0) | ~np.isfinite(weight),
            survey[structure.weight],
            src,
            f"column '{structure.weight}' (weight)",
            "must be a positive number",
            "Fix the weights or drop 'structure.weight' from the spec.",
        )
        frame["weight"] = weight.astype(float)

    answers = survey[spec.outcome.column]
    if not pd.api.types.is_numeric_dtype(answers) and not pd.api.types.is_bool_dtype(answers):
        answers = clean_labels(answers)
    has_answer = answers.notna().to_numpy()
    structural = covariates + numeric + (["wave"] if structure.wave is not None else [])
    has_covariates = frame[structural].notna().all(axis=1).to_numpy()
    n_missing_outcome = int((~has_answer).sum())
    n_missing_covariates = int((has_answer & ~has_covariates).sum())
    keep = has_answer & has_covariates
    if not keep.any():
        raise DataError(
            f"{src}: column '{spec.outcome.column}' has no usable answers "
            f"({n_missing_outcome} missing, {n_missing_covariates} with a missing covariate)."
        )
    if n_missing_covariates:
        warnings.warn(
            f"{src}: dropped {n_missing_covariates} respondent(s) with a missing covariate "
            f"or wave ({', '.join(structural)}).",
            UserWarning,
            stacklevel=2,
        )
    counts = family.encode(answers[keep], src)
    respondents = pd.concat([frame[keep], counts], axis=1).reset_index(drop=True)
    for column in covariates:
        respondents[column] = respondents[column].astype(str)
    respondents[AREA] = respondents[AREA].astype(str)
    if structure.wave is not None:
        respondents["wave"] = respondents["wave"].astype(np.int64)
        if respondents["wave"].nunique() < 2:
            raise DataError(
                f"{src}: column '{structure.wave}' has a single wave among the respondents who "
                f"answered; a wave effect cannot be estimated. Drop 'structure.wave'."
            )
    _check_covariates_vary(respondents, covariates, numeric, spec.outcome.column)

    if spec.population is not None:
        if population is None:
            raise DataError("the spec has a [population] section but no population table")
        population = validate_population(population, spec, sources["population"])
    else:
        population = None
    need_areas = bool(structure.area_covariates) or spec.benchmark is not None
    if areas is None:
        if need_areas:
            raise DataError("the spec uses area covariates or a benchmark but no areas table")
        codes = set(respondents[AREA])
        if population is not None:
            codes |= set(population.index)
        area_table = pd.DataFrame(index=pd.Index(sort_areas(codes), name=AREA))
        area_table["name"] = area_table.index
    else:
        area_table = validate_areas(
            areas,
            sources["areas"],
            list(structure.area_covariates),
            need_nation=spec.benchmark is not None,
            need_deprivation=spec.benchmark is not None and spec.benchmark.match == "deprivation",
            key=structure.area,
        )
        unknown = sorted(set(frame[AREA]) - set(area_table.index))
        if unknown:
            rows = list(np.flatnonzero(frame[AREA].isin(unknown).to_numpy()))
            raise DataError(
                f"{src}: area(s) {listed(unknown)} in column "
                f"'{structure.area}' ({first_rows(rows)}) are missing from {sources['areas']}"
                f"{did_you_mean(unknown[0], area_table.index)}. Add a row for each area to "
                f"the areas table."
            )
        area_table = area_table.loc[sort_areas(area_table.index)]
    if population is not None:
        _check_population_areas(population, respondents, area_table, sources["population"])
    area_table["n"] = respondents.groupby(AREA).size().reindex(area_table.index).fillna(0)
    area_table["n"] = area_table["n"].astype(np.int64)
    cells = None
    if spec.frame is not None:
        if population_frame is None:
            raise DataError("the spec has a [frame] section but no population frame was given")
        cells = validate_frame(
            population_frame, spec.frame, covariates, respondents, area_table, sources["frame"]
        )
        if spec.target == "finite_population":
            check_frame_holds_sample(
                cells, respondents, covariates, structure.wave is not None, sources["frame"]
            )

    bench = None
    if spec.benchmark is not None:
        if benchmarks is None:
            raise DataError("the spec has a [benchmark] section but no benchmarks table was given")
        bench = validate_benchmarks(benchmarks, sources["benchmarks"])
        indicators = sorted(bench["indicator"].unique())
        if spec.benchmark.indicator not in indicators:
            raise DataError(
                f"{sources['benchmarks']}: no rows for indicator '{spec.benchmark.indicator}'"
                f"{did_you_mean(spec.benchmark.indicator, indicators)}; indicators present: "
                f"{', '.join(indicators)}. Fix 'benchmark.indicator' in the spec."
            )
        bench = bench[bench["indicator"] == spec.benchmark.indicator].reset_index(drop=True)
        _check_benchmarks_fit(bench, family, area_table, sources["benchmarks"], sources["areas"])

    return SurveyData(
        respondents=respondents,
        areas=area_table,
        benchmarks=bench,
        family=family,
        covariates=tuple(covariates),
        area_covariates=tuple(structure.area_covariates),
        wave=structure.wave is not None,
        numeric_covariates=tuple(numeric),
        population=population,
        frame=cells,
        n_missing_outcome=n_missing_outcome,
        n_missing_covariates=n_missing_covariates,
        weighted=structure.weight is not None,
        estimand=spec.target,
        data_hash=frame_hash(
            respondents,
            area_table,
            *(table for table in (bench, population, cells) if table is not None),
        ),
    )


def load_survey_data(spec: ModelSpec, data: str | Path | None = None) -> SurveyData:
    """Read the files a spec names (``data`` overrides the survey path) and validate them.

    Parameters
    ----------
    spec
        A spec with resolved paths (see :func:`lcmodel.spec.load_spec`).
    data
        Optional survey file replacing ``spec.data``.
    """
    survey_path = Path(data) if data is not None else spec.data
    survey = read_table(survey_path, "survey")
    areas = read_table(spec.areas, "areas") if spec.areas is not None else None
    benchmarks = (
        read_table(spec.benchmark.table, "benchmarks") if spec.benchmark is not None else None
    )
    population = (
        read_table(spec.population.table, "population") if spec.population is not None else None
    )
    cells = read_table(spec.frame.table, "population frame") if spec.frame is not None else None
    sources = {"survey": str(survey_path)}
    if spec.frame is not None:
        sources["frame"] = str(spec.frame.table)
    if spec.population is not None:
        sources["population"] = str(spec.population.table)
    if spec.areas is not None:
        sources["areas"] = str(spec.areas)
    if spec.benchmark is not None:
        sources["benchmarks"] = str(spec.benchmark.table)
    return prepare_survey_data(survey, spec, areas, benchmarks, population, cells, sources=sources)
