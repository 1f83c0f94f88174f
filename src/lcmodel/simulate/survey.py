"""Synthetic community surveys with known truth.

The simulator writes example data modelled on People's Health Trust's Local Conversations
evaluation: residents of a few dozen deprived neighbourhoods in England, Scotland and Wales,
surveyed over several waves, with very uneven numbers of respondents per area. Every number it
produces comes from the generative model below, so estimates can be checked against the truth.

Generative model
----------------
Areas
    ``n_areas`` areas with codes ``LC01``, ``LC02``, ... (sorted), nations in rough proportion
    70% England, 15% Scotland, 15% Wales (at least one of each when ``n_areas >= 3``), a
    nation-specific deprivation decile drawn uniformly from 1-3 and a fictional neighbourhood
    name. Each area has an adult population of 1,500-12,000 (log-uniform) whose age band x sex
    mix is Dirichlet around a national mix (``population``).
Map
    The areas lie on a synthetic map (:mod:`lcmodel.simulate.geography`): a rectangle in metres
    (British National Grid-like coordinates, CRS EPSG:27700, about 2.25 km2 per area) split
    into one rectangle per nation (Scotland across the north, Wales along the west, England
    the rest, in proportion to their numbers of areas), each area a seed point on a jittered
    grid in its nation's rectangle, assigned at random among the nation's points. With
    ``geometry``, each area's polygon is its seed point's Voronoi cell within its nation's
    rectangle (``boundaries``, ``areas.geojson``): the polygons tile the map, neighbours share
    vertices, and each nation is contiguous.
Sample sizes
    Area sizes are 5 plus a largest-remainder split of the other respondents in proportion to
    two-piece lognormal weights ``exp(1.5 z)`` for ``z < 0`` and ``exp(0.8 z)`` for ``z >= 0``
    (a long tail of small areas, a few large ones), where the ``z`` are stratified normal
    quantiles (one in each of ``n_areas`` equal-probability strata, randomly assigned to areas).
    Sizes are therefore always very uneven, sum exactly to ``n_respondents`` and are at least 5.
Waves
    Each area is surveyed in a contiguous run of waves (about half the areas in every wave, the
    others joining later or leaving earlier); every wave of the run has at least one respondent
    and the rest are spread uniformly over it.
Respondents
    Age band and sex are drawn from the area's population mix tilted towards older people
    (factors 0.7, 0.9, 1.2, 1.3 for 16-34, 35-54, 55-74, 75+), so the design ``weight`` (population
    share / sample share of the respondent's cell within the area, normalised to mean 1 in the
    area) is not constant.
Outcomes
    For respondent ``i`` in area ``a`` and wave ``t`` and each of the ten questions ``k``,
    ``eta = mu_k + u[a, k] + beta_age_k[age] + beta_sex_k[sex] + gamma_k * (decile - 2)
    + w[t, k]``, higher meaning a higher answer score (better, except for anxiety).

    Area effects mix a spatially smooth part and an independent one, as in BYM2:
    ``u[a] = sd * (L @ (sqrt(1 - rho) * v[a] + sqrt(rho) * s[a]))`` (``*`` elementwise), with
    ``rho = spatial_share``, ``sd`` the indicators' standard deviations (``area_sd``, half that
    for the 0-10 scales) and ``L`` the Cholesky factor of a fixed correlation matrix ``R``
    (0.4-0.6 among the four social indicators, weaker elsewhere, negative between anxiety and
    the other wellbeing scores), applied to both parts. ``v[a]`` is iid standard normal;
    ``s[., k]`` are ten independent Gaussian fields over the areas' seed points with
    exponential covariance ``exp(-d / l)``, ``l`` a quarter of the map's width but at least
    three area spacings, each standardised over the areas (mean 0, variance 1) and, on maps of
    100 areas or more, decorrelated from one another over them (``geography.smooth_field``;
    its module docstring says why small maps differ), and after mixing each indicator's smooth
    part is scaled to variance 1 over the areas. So the effects have standard deviations
    ``sd`` (the smooth part's ``sqrt(rho) * sd`` exactly, the independent part's in
    expectation) and correlations ``R`` (the smooth part's exactly over maps of 100 areas or
    more, else in expectation, the independent part's in expectation), a share ``rho`` of their
    variance is smooth over the map, and with ``rho = 0`` they are the independent
    multivariate normal effects of lcmodel 0.1.0 (the same numbers for the same seed: the map
    and the fields use random streams of their own). The two parts are the ``spatial`` and
    ``independent`` columns of ``area_effects``. Wave effects are Normal(0, 0.1).

    The default ``rho`` is 0.7: most of the variance between neighbourhoods beyond deprivation
    follows the map (housing, history and local economies change gradually across a town),
    and about a third does not (one estate differs from the next), so both parts of a BYM2
    model have something to find and neither an independent nor a purely spatial (ICAR) model
    is the truth. With 20 areas ``rho`` is weakly identified, so a share well away from 0 is
    needed for the example data to show spatial structure at all (on its map, the true trust
    effects have Moran's I 0.40 over the queen neighbours at 0.7, against -0.23 at 0), and one
    away from 1 keeps the independent part visible. The shipped example data (``lcmodel
    simulate --out data --seed 2026``) uses it.

    Binary questions: ``P(success) = logistic(eta)``, then the answer label is drawn among the
    success (or failure) labels with fixed within-group probabilities; ``mu_k`` is calibrated
    with ``scipy.optimize.brentq`` so that the expected share over the simulated respondents
    equals ``TARGET_SHARES[k]``. Ordinal questions and 0-10 scales: cumulative logit,
    ``P(score <= s) = logistic(theta_s - eta)`` with ``mu_k = 0`` and cutpoints ``theta`` fixed
    across areas and respondents, calibrated (also with brentq, once per simulation) so that the
    expected overall distribution equals the target one. Each answer is then missing completely
    at random with probability ``missing_rate``, independently per question.
Truth
    For every area, indicator and quantity: ``sample`` is the average of the respondent-level
    true value (probability, category probability or expected score) over the area's
    respondents who answered the question (NaN if none did); ``population`` is its expectation
    over the area's population age band x sex mix, averaged evenly over the waves in which the
    area was surveyed. ``area_effects`` holds each area's ``u[a, k]`` (``effect``) and its
    two parts.
Benchmarks
    Four rows are real published figures (Community Life Survey, England, as reported in the
    Local Conversations evaluation); all the others are illustrative values, labelled as such.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, ndtri

from lcmodel.errors import plain
from lcmodel.io.tables import write_table
from lcmodel.simulate.geography import (
    boundary_frame,
    field_length_scale,
    layout_areas,
    require_spatial,
    smooth_field,
    spatial_available,
    write_boundaries,
)

if TYPE_CHECKING:
    import geopandas

__all__ = [
    "AGE_BANDS",
    "FILE_FORMATS",
    "NATIONS",
    "QUESTIONS",
    "SEXES",
    "TARGET_SHARES",
    "Question",
    "SimulatedSurvey",
    "simulate_survey",
]

QuestionKind = Literal["binary", "ordinal", "scale"]
FileFormat = Literal["csv", "parquet"]
FILE_FORMATS: tuple[str, ...] = ("csv", "parquet")
"""The formats the simulator writes its tables in (``--format`` of ``lcmodel simulate``)."""


@dataclass(frozen=True)
class Question:
    """One survey question of the simulated survey.

    Attributes
    ----------
    column : str
        Column name in the survey table.
    kind : {"binary", "ordinal", "scale"}
        ``binary``: labelled answers that collapse to success/failure; ``ordinal``: ordered
        labels; ``scale``: an integer score 0-10 (ONS wellbeing).
    labels : tuple of str
        Answer labels in order from best/most to least (for 0-10 scales ``"10"`` to ``"0"``).
    success : tuple of str
        For binary questions, the labels that count as success; empty otherwise.
    text : str
        Short wording of the question.
    """

    column: str
    kind: QuestionKind
    labels: tuple[str, ...]
    success: tuple[str, ...]
    text: str


_SCALE_LABELS = tuple(str(v) for v in range(10, -1, -1))

QUESTIONS: Mapping[str, Question] = MappingProxyType(
    {
        q.column: q
        for q in (
            Question(
                "speak_neighbours",
                "binary",
                (
                    "On most days",
                    "Once or twice a week",
                    "Once or twice a month",
                    "Less than once a month",
                    "Never",
                ),
                ("On most days", "Once or twice a week", "Once or twice a month"),
                "How often do you chat to your neighbours, more than just to say hello?",
            ),
            Question(
                "trust",
                "binary",
                (
                    "Many can be trusted",
                    "Some can be trusted",
                    "A few can be trusted",
                    "None can be trusted",
                ),
                ("Many can be trusted", "Some can be trusted"),
                "How many of the people in your neighbourhood can be trusted?",
            ),
            Question(
                "belonging",
                "binary",
                ("Very strongly", "Fairly strongly", "Not very strongly", "Not at all strongly"),
                ("Very strongly", "Fairly strongly"),
                "How strongly do you feel you belong to your immediate neighbourhood?",
            ),
            Question(
                "collective_efficacy",
                "binary",
                ("Definitely agree", "Tend to agree", "Tend to disagree", "Definitely disagree"),
                ("Definitely agree", "Tend to agree"),
                "People in this area, working together, can change how the area is run.",
            ),
            Question(
                "health",
                "ordinal",
                ("Very good", "Good", "Fair", "Bad", "Very bad"),
                (),
                "How is your health in general?",
            ),
            Question(
                "life_satisfaction",
                "scale",
                _SCALE_LABELS,
                (),
                "Overall, how satisfied are you with your life nowadays? (0-10)",
            ),
            Question(
                "worthwhile",
                "scale",
                _SCALE_LABELS,
                (),
                "Overall, to what extent do you feel the things you do in your life are "
                "worthwhile? (0-10)",
            ),
            Question(
                "happiness",
                "scale",
                _SCALE_LABELS,
                (),
                "Overall, how happy did you feel yesterday? (0-10)",
            ),
            Question(
                "anxiety",
                "scale",
                _SCALE_LABELS,
                (),
                "Overall, how anxious did you feel yesterday? (0-10)",
            ),
            Question(
                "services",
                "ordinal",
                (
                    "Very satisfied",
                    "Fairly satisfied",
                    "Neither satisfied nor dissatisfied",
                    "Fairly dissatisfied",
                    "Very dissatisfied",
                ),
                (),
                "How satisfied are you with the local services in your area?",
            ),
        )
    }
)

TARGET_SHARES: Mapping[str, float] = MappingProxyType(
    {"speak_neighbours": 0.74, "trust": 0.73, "belonging": 0.81, "collective_efficacy": 0.83}
)

AGE_BANDS: tuple[str, ...] = ("16-34", "35-54", "55-74", "75+")
SEXES: tuple[str, ...] = ("Female", "Male")
NATIONS: tuple[str, ...] = ("England", "Scotland", "Wales")

_OUTCOMES: tuple[str, ...] = tuple(QUESTIONS)
_CELLS: tuple[tuple[str, str], ...] = tuple((a, s) for a in AGE_BANDS for s in SEXES)

# Target overall distributions of the non-binary questions, in label order (best/most first).
_TARGET_DISTRIBUTIONS: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        "health": (0.25, 0.40, 0.22, 0.09, 0.04),
        "services": (0.15, 0.40, 0.20, 0.15, 0.10),
        # 0-10 scales written from score 0 to 10 and reversed into label order below.
        "life_satisfaction": (
            0.010, 0.008, 0.012, 0.025, 0.040, 0.120, 0.160, 0.180, 0.170, 0.130, 0.145,
        )[::-1],
        "worthwhile": (
            0.005, 0.005, 0.010, 0.020, 0.030, 0.080, 0.110, 0.200, 0.260, 0.140, 0.140,
        )[::-1],
        "happiness": (
            0.020, 0.015, 0.025, 0.035, 0.040, 0.090, 0.090, 0.180, 0.220, 0.130, 0.155,
        )[::-1],
        "anxiety": (
            0.220, 0.140, 0.120, 0.100, 0.070, 0.100, 0.060, 0.070, 0.060, 0.030, 0.030,
        )[::-1],
    }
)  # fmt: skip

# Within-group label probabilities for binary questions: (success labels, failure labels).
_LABEL_SPLIT: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]] = MappingProxyType(
    {
        "speak_neighbours": ((0.30, 0.45, 0.25), (0.55, 0.45)),
        "trust": ((0.45, 0.55), (0.80, 0.20)),
        "belonging": ((0.35, 0.65), (0.70, 0.30)),
        "collective_efficacy": ((0.30, 0.70), (0.65, 0.35)),
    }
)

# Fixed effects on the latent scale, per outcome in _OUTCOMES order (higher = higher score).
_BETA_AGE = np.array(
    [
        [-0.40, 0.00, 0.30, 0.40],  # speak_neighbours
        [-0.50, -0.10, 0.30, 0.50],  # trust
        [-0.50, -0.10, 0.30, 0.60],  # belonging
        [0.10, 0.05, -0.05, -0.20],  # collective_efficacy
        [0.80, 0.30, -0.30, -1.00],  # health: worse with age
        [0.10, -0.20, 0.10, 0.10],  # life_satisfaction
        [-0.10, 0.00, 0.10, 0.00],  # worthwhile
        [0.00, -0.15, 0.15, 0.10],  # happiness
        [0.10, 0.15, -0.10, -0.20],  # anxiety
        [0.00, -0.10, 0.05, 0.20],  # services
    ]
)
_BETA_SEX = np.array(
    [
        [0.10, -0.10],
        [0.05, -0.05],
        [0.05, -0.05],
        [0.05, -0.05],
        [0.00, 0.00],
        [0.05, -0.05],
        [0.15, -0.15],
        [0.00, 0.00],
        [0.10, -0.10],
        [0.00, 0.00],
    ]
)
# Effect per deprivation decile above 2 (decile 1 = most deprived).
_GAMMA = np.array([0.15, 0.30, 0.20, 0.10, 0.25, 0.15, 0.10, 0.10, -0.15, 0.20])
_WAVE_SD = 0.1
_SCALE_AREA_SD_FACTOR = 0.5
_SIZE_SIGMA_LOW = 1.5  # log-scale spread of the smaller-than-median areas
_SIZE_SIGMA_HIGH = 0.8  # and of the larger ones
_MIN_AREA_SIZE = 5
_AGE_OVERSAMPLING = np.array([0.7, 0.9, 1.2, 1.3])
_NATIONAL_AGE_MIX = np.array([0.30, 0.32, 0.27, 0.11])
_NATIONAL_FEMALE_SHARE = np.array([0.50, 0.51, 0.52, 0.57])
_MIX_CONCENTRATION = 50.0
_POPULATION_RANGE = (1_500, 12_000)
_TRUTH_BLOCK = 4096  # areas per block of the population truth (bounds memory)


def _area_correlation() -> np.ndarray:
    """Return the correlation matrix of the area effects (order of ``_OUTCOMES``)."""
    idx = {k: i for i, k in enumerate(_OUTCOMES)}
    social = ("speak_neighbours", "trust", "belonging", "collective_efficacy")
    wellbeing = ("life_satisfaction", "worthwhile", "happiness")
    pairs: dict[tuple[str, str], float] = {
        ("speak_neighbours", "trust"): 0.50,
        ("speak_neighbours", "belonging"): 0.55,
        ("speak_neighbours", "collective_efficacy"): 0.40,
        ("trust", "belonging"): 0.60,
        ("trust", "collective_efficacy"): 0.45,
        ("belonging", "collective_efficacy"): 0.50,
        ("life_satisfaction", "worthwhile"): 0.50,
        ("life_satisfaction", "happiness"): 0.50,
        ("worthwhile", "happiness"): 0.40,
    }
    for s in social:
        pairs[(s, "health")] = 0.15
        pairs[(s, "services")] = 0.25
        pairs[(s, "anxiety")] = -0.10
        for w in wellbeing:
            pairs[(s, w)] = 0.20
    for w in wellbeing:
        pairs[(w, "anxiety")] = -0.30
        pairs[(w, "health")] = 0.20
        pairs[(w, "services")] = 0.10
    pairs[("health", "anxiety")] = -0.15
    pairs[("health", "services")] = 0.10
    pairs[("anxiety", "services")] = -0.05
    corr = np.eye(len(_OUTCOMES))
    for (a, b), r in pairs.items():
        corr[idx[a], idx[b]] = corr[idx[b], idx[a]] = r
    return corr


_AREA_CORRELATION = _area_correlation()
_AREA_CHOLESKY = np.linalg.cholesky(_AREA_CORRELATION)  # fails loudly if not positive definite

_AREA_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "England": (
            "Ashby Fields",
            "Bramley Vale",
            "Castleton Green",
            "Denholm Park",
            "Elmcroft",
            "Fairhaven Estate",
            "Greystones",
            "Hartley Cross",
            "Hollins Brook",
            "Kingsmead",
            "Larkfield Rise",
            "Millbrook",
            "Netherfield Rows",
            "Oakley Moor",
            "Pennington Hill",
            "Quarry Bank",
            "Riverside Flats",
            "Saltergate",
            "Thornbury Close",
            "Underhill",
            "Westwood Gardens",
            "Wyndham Heath",
        ),
        "Scotland": (
            "Auchenlea",
            "Balmore Park",
            "Craigend",
            "Dunmore Braes",
            "Glenburn",
            "Kirkton Road",
            "Strathview",
            "Torrance Mains",
        ),
        "Wales": (
            "Bryn Hyfryd",
            "Cwm Derwen",
            "Llanfair Isaf",
            "Maes-y-coed",
            "Pen-y-bryn",
            "Tregarth Fields",
            "Ty Gwyn",
            "Ystrad Heights",
        ),
    }
)
_NAME_SUFFIXES = ("North", "South", "East", "West", "Central")

# (nation, deprivation) -> indicator -> (estimate, n); n is None exactly for published figures.
_PUBLISHED_SOURCE = (
    "Community Life Survey (England), as reported in the Local Conversations evaluation"
)
_SURVEY_BY_NATION = {
    "England": "Community Life Survey (England)",
    "Scotland": "Scottish Household Survey",
    "Wales": "National Survey for Wales",
}
_BENCHMARK_VALUES: Mapping[tuple[str, str], Mapping[str, tuple[float, int | None]]] = (
    MappingProxyType(
        {
            ("England", "all"): {
                "speak_neighbours": (0.51, None),
                "trust": (0.63, 2900),
                "belonging": (0.62, None),
                "collective_efficacy": (0.54, None),
            },
            ("England", "1-3"): {
                "speak_neighbours": (0.47, 850),
                "trust": (0.56, None),
                "belonging": (0.58, 850),
                "collective_efficacy": (0.49, 850),
            },
            ("Scotland", "all"): {
                "speak_neighbours": (0.55, 2600),
                "trust": (0.66, 2600),
                "belonging": (0.70, 2600),
                "collective_efficacy": (0.52, 2600),
            },
            ("Scotland", "1-3"): {
                "speak_neighbours": (0.50, 700),
                "trust": (0.57, 700),
                "belonging": (0.64, 700),
                "collective_efficacy": (0.47, 700),
            },
            ("Wales", "all"): {
                "speak_neighbours": (0.56, 2300),
                "trust": (0.65, 2300),
                "belonging": (0.68, 2300),
                "collective_efficacy": (0.53, 2300),
            },
            ("Wales", "1-3"): {
                "speak_neighbours": (0.51, 600),
                "trust": (0.58, 600),
                "belonging": (0.63, 600),
                "collective_efficacy": (0.48, 600),
            },
        }
    )
)
_BENCHMARK_YEAR = 2021

# Illustrative benchmarks for the ordinal and 0-10 indicators: England's figure for all areas
# and for deciles 1-3, shifted by a fixed amount for Scotland and Wales. None is published.
_OTHER_BENCHMARKS: Mapping[tuple[str, str], tuple[float, float]] = MappingProxyType(
    {
        ("health", "share:good or very good"): (0.73, 0.64),
        ("health", "share:bad or very bad"): (0.06, 0.10),
        ("services", "share:satisfied"): (0.60, 0.55),
        ("life_satisfaction", "mean"): (7.5, 7.2),
        ("life_satisfaction", "share:low"): (0.05, 0.08),
        ("worthwhile", "mean"): (7.7, 7.5),
        ("happiness", "mean"): (7.4, 7.2),
        ("anxiety", "mean"): (3.2, 3.5),
        ("anxiety", "share:high"): (0.22, 0.26),
    }
)
_NATION_SHIFT = MappingProxyType({"England": 0.0, "Scotland": -0.01, "Wales": -0.02})
_OTHER_N = MappingProxyType({"all": 2500, "1-3": 700})

_FILES = ("survey", "areas", "benchmarks", "truth", "population")
_BOUNDARY_FILE = "areas.geojson"


@dataclass(frozen=True, eq=False)
class SimulatedSurvey:
    """A simulated survey with its known truth.

    Attributes
    ----------
    survey : pandas.DataFrame
        One row per respondent: ``respondent_id``, ``area``, ``wave``, ``age_band``, ``sex``,
        ``weight`` and one column per question of ``QUESTIONS`` (answer labels as strings; 0-10
        scales as nullable ``Int64``), blank when missing.
    areas : pandas.DataFrame
        ``area``, ``name``, ``nation``, ``deprivation_decile``.
    benchmarks : pandas.DataFrame
        ``indicator``, ``nation``, ``deprivation``, ``estimate``, ``n`` (``Int64``, blank when not
        published), ``source``, ``year``.
    truth : pandas.DataFrame
        Long table ``area``, ``indicator``, ``quantity``, ``population``, ``sample``.
    population : pandas.DataFrame
        Adult population frame ``area``, ``age_band``, ``sex``, ``count``.
    area_effects : pandas.DataFrame or None
        The true area effects on the latent (logit) scale, one row per area and indicator:
        ``area``, ``indicator``, ``effect`` (``u[a, k]``), ``spatial`` and ``independent``
        (its smooth and independent parts, ``effect = spatial + independent``).
    boundaries : geopandas.GeoDataFrame or None
        One polygon per area, ``area``, ``name``, ``nation`` and ``geometry`` (CRS EPSG:27700,
        metres), in the order of ``areas``; None when simulated with ``geometry=False``.
    """

    survey: pd.DataFrame
    areas: pd.DataFrame
    benchmarks: pd.DataFrame
    truth: pd.DataFrame
    population: pd.DataFrame
    area_effects: pd.DataFrame | None = None
    boundaries: geopandas.GeoDataFrame | None = None

    def write(self, folder: str | Path, *, file_format: FileFormat = "csv") -> None:
        """Write the tables as CSV (or Parquet) files in ``folder``, and the boundaries as GeoJSON.

        Files are ``survey.csv``, ``areas.csv``, ``benchmarks.csv``, ``truth.csv``,
        ``population.csv`` and ``area_effects.csv`` (``.parquet`` with ``file_format="parquet"``,
        which keeps the columns' types and is written and read many times faster at national
        scale), and ``areas.geojson`` when the survey has boundaries (written with geopandas'
        pyogrio engine). The folder is created if needed; each file is written to a temporary
        file in the same folder and then moved into place, so a reader never sees a
        half-written file.

        Parameters
        ----------
        folder : str or pathlib.Path
            Destination folder.
        file_format : {"csv", "parquet"}, default "csv"
            The tables' file format (``lcmodel.io.tables.read_table`` reads either).
        """
        tables = {name: getattr(self, name) for name in _FILES}
        if self.area_effects is not None:
            tables["area_effects"] = self.area_effects
        write_tables(folder, tables, file_format=file_format)
        if self.boundaries is not None:
            write_boundaries(Path(folder) / _BOUNDARY_FILE, self.boundaries)


def write_tables(
    folder: str | Path, tables: Mapping[str, pd.DataFrame], *, file_format: FileFormat = "csv"
) -> None:
    """Write each table as ``<name>.csv`` (or ``.parquet``) in ``folder``, atomically.

    The folder is created if needed. Each file is written to a temporary file in the same
    folder and then moved into place, so a reader never sees a half-written file
    (``lcmodel.io.tables.write_table``: the CSV has the bytes pandas' ``to_csv`` would write).
    """
    if file_format not in FILE_FORMATS:
        raise ValueError(
            f"file_format must be one of {', '.join(FILE_FORMATS)}, got {file_format!r}"
        )
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        write_table(target / f"{name}.{file_format}", table)


def checked_int(name: str, value: object, minimum: int) -> int:
    """``value`` as an int, or a ValueError naming the argument ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {plain(value)!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def checked_float(name: str, value: object, low: float, high: float, *, high_open: bool) -> float:
    """``value`` as a float in ``[low, high]`` (``[low, high)``), or a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number, got {plain(value)!r}")
    number = float(value)
    upper_ok = number < high if high_open else number <= high
    if not (math.isfinite(number) and number >= low and upper_ok):
        bracket = ")" if high_open else "]"
        raise ValueError(f"{name} must be in [{low}, {high}{bracket}, got {plain(value)!r}")
    return number


def _largest_remainder(total: int | np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``shares`` (largest remainder).

    ``shares`` may be a matrix with one row per total (``total`` an array): each row is split
    as a row alone would be (the row sums are numpy's sums of each row, bit for bit).
    """
    if shares.ndim == 1:
        return _largest_remainder(np.array([total]), shares[None, :])[0]
    total = np.asarray(total, dtype=np.int64)
    exact = total[:, None] * shares / shares.sum(axis=1, keepdims=True)
    counts = np.floor(exact).astype(np.int64)
    short = total - counts.sum(axis=1)
    order = np.argsort(-(exact - counts), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(shares.shape[1])[None, :], axis=1)
    counts += rank < short[:, None]  # the ``short`` largest remainders get one more
    return counts


def _assign_nations(n_areas: int, rng: np.random.Generator) -> np.ndarray:
    if n_areas >= 3:
        n_scotland = max(1, round(0.15 * n_areas))
        n_wales = max(1, round(0.15 * n_areas))
    else:
        n_scotland, n_wales = n_areas - 1, 0
    n_england = n_areas - n_scotland - n_wales
    nations = np.array(["England"] * n_england + ["Scotland"] * n_scotland + ["Wales"] * n_wales)
    return rng.permutation(nations)


def _area_names(nations: np.ndarray, rng: np.random.Generator) -> list[str]:
    names: list[str] = [""] * len(nations)
    for nation in NATIONS:
        where = np.flatnonzero(nations == nation)
        base = list(rng.permutation(np.array(_AREA_NAMES[nation])))
        pool = list(base)
        for suffix in _NAME_SUFFIXES:
            pool += [f"{b} {suffix}" for b in base]
        round_ = 2
        while len(pool) < len(where):
            pool += [f"{b} {round_}" for b in base]
            round_ += 1
        for i, name in zip(where, pool, strict=False):
            names[i] = str(name)
    return names


def _area_sizes(n_respondents: int, n_areas: int, rng: np.random.Generator) -> np.ndarray:
    strata = (np.arange(n_areas) + rng.random(n_areas)) / n_areas
    # ndtri is scipy.stats.norm.ppf (the same numbers) without importing scipy.stats (a second)
    z = rng.permutation(ndtri(strata))
    weights = np.exp(np.where(z < 0, _SIZE_SIGMA_LOW, _SIZE_SIGMA_HIGH) * z)
    extra = _largest_remainder(n_respondents - _MIN_AREA_SIZE * n_areas, weights)
    return _MIN_AREA_SIZE + extra


def _wave_runs(
    sizes: np.ndarray, n_waves: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each respondent's wave, and each area's first and last wave (its run of waves).

    Respondents are in area order (``sizes[a]`` of area ``a``). The one loop over areas left in
    the simulator: each area's draws depend on how many random numbers the areas before it
    took (bounded integers and shuffles reject some), so they cannot be drawn for all areas at
    once without changing the random stream, and so the data of a seed. The loop does only the
    draws (about 1.5 seconds for 33,000 areas); respondents' waves are drawn into their slice
    of one array, without copies.
    """
    n_areas = len(sizes)
    wave = np.empty(int(sizes.sum()), dtype=np.int64)
    wave_start = np.empty(n_areas, dtype=np.int64)
    wave_end = np.empty(n_areas, dtype=np.int64)
    half = math.ceil(n_waves / 2)
    offset = 0
    for a, size in enumerate(sizes.tolist()):
        length = n_waves
        if rng.random() < 0.5:
            length = int(rng.integers(half, n_waves + 1))
        length = min(length, size)
        start = int(rng.integers(1, n_waves - length + 2))
        wave_start[a], wave_end[a] = start, start + length - 1
        block = wave[offset : offset + size]
        block[:length] = np.arange(start, start + length)
        block[length:] = rng.integers(start, start + length, size=size - length)
        rng.shuffle(block)  # what permutation() does to a copy: the same draws
        offset += size
    return wave, wave_start, wave_end


def _population_mix(n_areas: int, rng: np.random.Generator) -> np.ndarray:
    national = np.array(
        [
            _NATIONAL_AGE_MIX[a] * (f if s == 0 else 1.0 - f)
            for a, f in enumerate(_NATIONAL_FEMALE_SHARE)
            for s in range(len(SEXES))
        ]
    )
    return rng.dirichlet(_MIX_CONCENTRATION * national, size=n_areas)


def _cumulative_probs(eta: np.ndarray, cutpoints: np.ndarray) -> np.ndarray:
    """Return ``P(score <= s)`` for ``s = 0 .. K-2``, shape ``(len(eta), K-1)``."""
    return expit(cutpoints[None, :] - eta[:, None])


def _label_probs(eta: np.ndarray, cutpoints: np.ndarray) -> np.ndarray:
    """Category probabilities in label order (highest score first), shape ``(len(eta), K)``.

    The differences of ``[0, P(score <= 0), ..., P(score <= K-2), 1]``, a view in reverse.
    """
    cum = _cumulative_probs(eta, cutpoints)
    by_score = np.empty((len(eta), cum.shape[1] + 1))
    by_score[:, 0] = cum[:, 0]
    np.subtract(cum[:, 1:], cum[:, :-1], out=by_score[:, 1:-1])
    np.subtract(1.0, cum[:, -1], out=by_score[:, -1])
    return by_score[:, ::-1]


class _MeanExpit:
    """``expit(shift + sign * x).mean()`` for many shifts, ``x = values[within]``.

    The same numbers as the expression: ``expit`` of each distinct value, gathered into one
    buffer of all respondents in their order, then the same mean over it. Far faster than
    the expression (``expit`` once per distinct value, no temporary arrays): the root finders
    below call it hundreds of times.
    """

    def __init__(self, values: np.ndarray, within: np.ndarray, sign: Literal[1, -1]) -> None:
        self.values = np.ascontiguousarray(values)
        self.within = within
        self.sign = sign
        self.distinct = np.empty_like(self.values)
        self.buffer = np.empty(len(within))

    def __call__(self, shift: float) -> float:
        if self.sign > 0:
            np.add(shift, self.values, out=self.distinct)
        else:
            np.subtract(shift, self.values, out=self.distinct)
        expit(self.distinct, out=self.distinct)
        np.take(self.distinct, self.within, out=self.buffer)
        return float(self.buffer.mean())


def _calibrate_intercept(rest: np.ndarray, within: np.ndarray, target: float) -> float:
    """The intercept that makes the mean of ``expit(mu + rest[within])`` equal ``target``."""
    share = _MeanExpit(rest, within, 1)

    def gap(mu: float) -> float:
        return share(mu) - target

    return float(brentq(gap, -40.0 - rest.max(), 40.0 - rest.min(), xtol=1e-12))


def _calibrate_cutpoints(
    eta: np.ndarray, within: np.ndarray, label_shares: tuple[float, ...]
) -> np.ndarray:
    """Cutpoints that give ``eta[within]`` the overall distribution ``label_shares``."""
    by_score = np.asarray(label_shares[::-1], dtype=float)
    cumulative = np.cumsum(by_score)[:-1]
    below = _MeanExpit(eta, within, -1)
    cuts = []
    for target in cumulative:

        def gap(theta: float, target: float = float(target)) -> float:
            return below(theta) - target

        cuts.append(brentq(gap, eta.min() - 40.0, eta.max() + 40.0, xtol=1e-12))
    return np.asarray(cuts)


def _quantities(column: str) -> list[str]:
    question = QUESTIONS[column]
    if question.kind == "binary":
        return ["share"]
    names = [f"share:{label}" for label in question.labels]
    if question.kind == "scale":
        names.append("mean")
    return names


def _true_values(column: str, eta: np.ndarray, cutpoints: np.ndarray | None) -> np.ndarray:
    """Respondent-level true values, shape ``(len(eta), n_quantities)``."""
    question = QUESTIONS[column]
    if question.kind == "binary":
        return expit(eta)[:, None]
    assert cutpoints is not None
    return _values_from_probs(column, _label_probs(eta, cutpoints))


def _values_from_probs(column: str, probs: np.ndarray) -> np.ndarray:
    """The true values of an ordinal question or 0-10 scale from its label probabilities."""
    if QUESTIONS[column].kind == "scale":
        scores = np.array([float(label) for label in QUESTIONS[column].labels])
        return np.hstack([probs, (probs @ scores)[:, None]])
    return probs


def _area_means(area: np.ndarray, values: np.ndarray, n_areas: int) -> np.ndarray:
    """Each area's mean of each column of ``values`` (rows in ``area``), NaN for none."""
    counts = np.bincount(area, minlength=n_areas).astype(float)
    sums = np.vstack(
        [np.bincount(area, weights=values[:, q], minlength=n_areas) for q in range(values.shape[1])]
    ).T
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]


def _text(
    codes: np.ndarray, labels: Sequence[str] | np.ndarray, missing: np.ndarray | None = None
) -> pd.Series:
    """A text column: ``labels[codes]``, missing where ``missing``; pandas' ``str`` dtype.

    Built by pyarrow from the codes (a dictionary array decoded in C), which is many times
    faster than pandas converting a million Python strings, and gives the same Series.
    """
    import pyarrow as pa

    indices = pa.array(codes.astype(np.int32), mask=missing)
    decoded = pa.DictionaryArray.from_arrays(indices, pa.array(labels, pa.large_string()))
    return pd.Series(pd.array(decoded.cast(pa.large_string()), dtype="str"))


def _answer_column(question: Question, label_idx: np.ndarray, missing: np.ndarray) -> pd.Series:
    """A question's answers in the survey table: labels, or ``Int64`` scores for 0-10 scales."""
    if question.kind == "scale":
        scores = np.array([int(label) for label in question.labels], dtype=np.int64)
        return pd.Series(pd.arrays.IntegerArray(scores[label_idx], missing))
    return _text(label_idx, question.labels, missing)


def _respondent_ids(n: int) -> pd.Series:
    """``R00001``, ``R00002``, ...: ``R`` and the number, zero-padded to at least 5 digits."""
    import pyarrow as pa
    import pyarrow.compute as pc

    width = max(5, len(str(n)))
    numbers = pc.cast(pa.array(np.arange(1, n + 1)), pa.large_string())
    ids = pc.binary_join_element_wise(
        pa.scalar("R", pa.large_string()),
        pc.utf8_lpad(numbers, width, "0"),
        pa.scalar("", pa.large_string()),
    )
    return pd.Series(pd.array(ids, dtype="str"))


def _population_truth(
    linear_part: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    mu: np.ndarray,
    cutpoints: Mapping[str, np.ndarray],
    pop_share: np.ndarray,
    wave_start: np.ndarray,
    wave_end: np.ndarray,
) -> dict[str, np.ndarray]:
    """Each area's population truth per indicator, shape ``(n_areas, n_quantities)``.

    An area's grid is its waves x cells (wave-major), weighted by the cell's population share
    over the number of waves. Areas with runs of the same length are computed together, in
    blocks of ``_TRUTH_BLOCK`` areas, with one matrix product per area of the same shapes and
    memory layout as ``grid_weight @ values`` for one area (``np.matmul`` over a stack calls
    the same dot, gemv or plain loop per area), so the sums are the same to the last bit.
    """
    n_areas, n_cells = pop_share.shape
    n_sexes = len(SEXES)
    out = {c: np.empty((n_areas, len(_quantities(c)))) for c in _OUTCOMES}
    lengths = wave_end - wave_start + 1
    for length in np.unique(lengths).tolist():
        group = np.flatnonzero(lengths == length)
        size = length * n_cells
        within = np.repeat(np.arange(length), n_cells)  # the wave's place in the run
        for first in range(0, len(group), _TRUTH_BLOCK):
            block = group[first : first + _TRUTH_BLOCK]
            grid_area = np.repeat(block, size)
            grid_cell = np.tile(np.arange(n_cells), len(block) * length)
            grid_wave = np.repeat(wave_start[block], size) + np.tile(within, len(block))
            weight = (pop_share[grid_area, grid_cell] / length).reshape(len(block), 1, size)
            grid_eta = (
                linear_part(grid_area, grid_cell // n_sexes, grid_cell % n_sexes, grid_wave)
                + mu[None, :]
            )
            for k, column in enumerate(_OUTCOMES):
                values = _true_values(column, grid_eta[:, k], cutpoints.get(column))
                stacked = values.reshape(len(block), size, values.shape[1])  # a view
                out[column][block] = np.matmul(weight, stacked)[:, 0, :]
    return out


def _benchmarks() -> pd.DataFrame:
    rows = []
    for indicator in TARGET_SHARES:
        for nation in NATIONS:
            for deprivation in ("all", "1-3"):
                estimate, n = _BENCHMARK_VALUES[(nation, deprivation)][indicator]
                if n is None:
                    source = f"published figure: {_PUBLISHED_SOURCE} (no sample size published)"
                else:
                    source = (
                        f"illustrative: {_SURVEY_BY_NATION[nation]}-style value for "
                        "demonstration, not a published figure"
                    )
                rows.append(
                    {
                        "indicator": indicator,
                        "quantity": "share",
                        "nation": nation,
                        "deprivation": deprivation,
                        "estimate": estimate,
                        "n": n,
                        "source": source,
                        "year": _BENCHMARK_YEAR,
                    }
                )
    for (indicator, quantity), values in _OTHER_BENCHMARKS.items():
        scale = 1.0 if quantity.startswith("share") else 10.0
        for nation in NATIONS:
            for deprivation, value in zip(("all", "1-3"), values, strict=True):
                rows.append(
                    {
                        "indicator": indicator,
                        "quantity": quantity,
                        "nation": nation,
                        "deprivation": deprivation,
                        "estimate": round(value + scale * _NATION_SHIFT[nation], 3),
                        "n": _OTHER_N[deprivation],
                        "source": (
                            f"illustrative: {_SURVEY_BY_NATION[nation]}-style value for "
                            "demonstration, not a published figure"
                        ),
                        "year": _BENCHMARK_YEAR,
                    }
                )
    frame = pd.DataFrame(rows)
    frame["n"] = pd.array([pd.NA if v is None else v for v in frame["n"]], dtype="Int64")
    frame["year"] = frame["year"].astype(np.int64)
    return frame


def simulate_survey(
    n_respondents: int = 2852,
    n_areas: int = 20,
    n_waves: int = 6,
    seed: int = 2026,
    *,
    area_sd: float = 0.45,
    missing_rate: float = 0.03,
    spatial_share: float = 0.7,
    geometry: bool | None = None,
) -> SimulatedSurvey:
    """Simulate a multi-area, multi-wave community survey with known truth.

    The generative model is described in the module docstring.

    Parameters
    ----------
    n_respondents : int, default 2852
        Total number of respondents; at least ``5 * n_areas`` (every area has at least 5).
    n_areas : int, default 20
        Number of areas, at least 2.
    n_waves : int, default 6
        Number of survey waves, at least 1.
    seed : int, default 2026
        Seed of the random generator (non-negative); the same seed gives the same data.
    area_sd : float, default 0.45
        Standard deviation of the area effects on the latent (logit) scale, in ``[0, 5]``; the
        0-10 scales use half of it.
    missing_rate : float, default 0.03
        Probability that an answer is missing, independently per question, in ``[0, 0.5)``.
    spatial_share : float, default 0.7
        Share of the area effects' variance that is spatially smooth (BYM2's ``rho``), in
        ``[0, 1]``. The default, which the shipped ``data/`` is written with, makes most of the
        variance between areas smooth over the map and keeps an independent part (the module
        docstring says why 0.7); 0 gives independent area effects, exactly those of lcmodel
        0.1.0 for the same seed (and the shipped data before 2026-12-02).
    geometry : bool or None, default None
        Whether to draw the areas' boundaries (``boundaries``, written as ``areas.geojson``).
        None (the default): whenever the optional spatial packages are installed (``pip install
        "lcmodel[spatial]"``: shapely, geopandas, pyogrio), so that a default call never fails
        without them. The areas lie on the same map either way (the smooth part of the area
        effects follows it), so this changes no number of any table.

    Returns
    -------
    SimulatedSurvey
        The survey, areas, benchmarks, truth and population tables.

    Raises
    ------
    ValueError
        If an argument is out of range; the message names the argument.
    LcmodelError
        If ``geometry=True`` and the spatial packages are missing (the message says what to
        install).
    """
    n_areas = checked_int("n_areas", n_areas, 2)
    n_respondents = checked_int("n_respondents", n_respondents, _MIN_AREA_SIZE * n_areas)
    n_waves = checked_int("n_waves", n_waves, 1)
    seed = checked_int("seed", seed, 0)
    area_sd = checked_float("area_sd", area_sd, 0.0, 5.0, high_open=False)
    missing_rate = checked_float("missing_rate", missing_rate, 0.0, 0.5, high_open=True)
    spatial_share = checked_float("spatial_share", spatial_share, 0.0, 1.0, high_open=False)
    if geometry is None:
        geometry = spatial_available()
    elif not isinstance(geometry, bool | np.bool_):
        raise ValueError(f"geometry must be True, False or None, got {plain(geometry)!r}")
    if geometry:
        require_spatial("area boundaries (geometry=True)")

    # Spawned children depend only on their position: the first eight streams are those of
    # lcmodel 0.1.0, which drew no map.
    streams = np.random.default_rng(seed).spawn(10)
    rng_areas, rng_sizes, rng_mix, rng_waves, rng_people, rng_effects, rng_answers, rng_miss = (
        streams[:8]
    )
    rng_map, rng_field = streams[8:]

    # Areas -------------------------------------------------------------------------------
    width = max(2, len(str(n_areas)))
    codes = np.array([f"LC{i:0{width}d}" for i in range(1, n_areas + 1)])
    nations = _assign_nations(n_areas, rng_areas)
    deciles = rng_areas.integers(1, 4, size=n_areas)
    names = _area_names(nations, rng_areas)
    areas = pd.DataFrame(
        {
            "area": codes,
            "name": names,
            "nation": nations,
            "deprivation_decile": deciles.astype(np.int64),
        }
    )
    layout = layout_areas(nations, rng_map)

    sizes = _area_sizes(n_respondents, n_areas, rng_sizes)

    low, high = _POPULATION_RANGE
    pop_size = np.round(np.exp(rng_mix.uniform(np.log(low), np.log(high), size=n_areas)))
    pop_share = _population_mix(n_areas, rng_mix)
    n_cells = len(_CELLS)
    pop_counts = 1 + _largest_remainder(pop_size.astype(np.int64) - n_cells, pop_share)
    pop_share = pop_counts / pop_counts.sum(axis=1, keepdims=True)
    population = pd.DataFrame(
        {
            "area": _text(np.repeat(np.arange(n_areas), n_cells), codes),
            "age_band": _text(np.tile(np.arange(n_cells) // len(SEXES), n_areas), AGE_BANDS),
            "sex": _text(np.tile(np.arange(n_cells) % len(SEXES), n_areas), SEXES),
            "count": pop_counts.ravel().astype(np.int64),
        }
    )

    # Waves -------------------------------------------------------------------------------
    area_of = np.repeat(np.arange(n_areas), sizes)
    wave, wave_start, wave_end = _wave_runs(sizes, n_waves, rng_waves)

    # Respondents -------------------------------------------------------------------------
    age_tilt = np.repeat(_AGE_OVERSAMPLING, len(SEXES))
    sample_prob = pop_share * age_tilt[None, :]
    sample_prob /= sample_prob.sum(axis=1, keepdims=True)
    cum = np.cumsum(sample_prob, axis=1)[area_of]
    cell = np.minimum((rng_people.random(n_respondents)[:, None] > cum).sum(axis=1), n_cells - 1)
    age_idx = cell // len(SEXES)
    sex_idx = cell % len(SEXES)

    cell_key = area_of * n_cells + cell
    cell_n = np.bincount(cell_key, minlength=n_areas * n_cells).reshape(n_areas, n_cells)
    raw_weight = pop_share[area_of, cell] / (cell_n[area_of, cell] / sizes[area_of])
    area_mean = np.bincount(area_of, weights=raw_weight, minlength=n_areas) / sizes
    weight = raw_weight / area_mean[area_of]

    # Effects -----------------------------------------------------------------------------
    n_outcomes = len(_OUTCOMES)
    sd = np.array(
        [
            area_sd * (_SCALE_AREA_SD_FACTOR if QUESTIONS[k].kind == "scale" else 1.0)
            for k in _OUTCOMES
        ]
    )
    v = rng_effects.standard_normal((n_areas, n_outcomes))
    independent = (v @ _AREA_CHOLESKY.T) * sd[None, :]
    spatial = np.zeros_like(independent)
    if spatial_share > 0:
        smooth = smooth_field(layout.points, n_outcomes, field_length_scale(layout), rng_field)
        mixed = smooth @ _AREA_CHOLESKY.T
        # unit variance over the areas also where the fields were not decorrelated (small maps)
        mixed /= mixed.std(axis=0)
        spatial = mixed * (sd * math.sqrt(spatial_share))[None, :]
        independent = independent * math.sqrt(1.0 - spatial_share)
    u = independent + spatial  # with spatial_share = 0, exactly lcmodel 0.1.0's effects
    wave_effect = rng_effects.normal(0.0, _WAVE_SD, size=(n_waves, n_outcomes))
    dep_term = (deciles - 2).astype(float)

    def linear_part(
        areas_i: np.ndarray, age: np.ndarray, sex: np.ndarray, waves: np.ndarray
    ) -> np.ndarray:
        return (
            u[areas_i]
            + _BETA_AGE[:, age].T
            + _BETA_SEX[:, sex].T
            + dep_term[areas_i, None] * _GAMMA[None, :]
            + wave_effect[waves - 1]
        )

    # A respondent's linear predictor depends only on their area, cell and wave: computed
    # once per combination that occurs (a third to a half as many at 200-1,000,000
    # respondents), and the same numbers as computed per respondent, which every
    # respondent-level array below is gathered from (``[within]``).
    combination = (area_of * n_waves + (wave - 1)) * n_cells + cell
    _, first, within = np.unique(combination, return_index=True, return_inverse=True)
    del combination
    rest = linear_part(area_of[first], age_idx[first], sex_idx[first], wave[first])
    mu = np.zeros(n_outcomes)
    cutpoints: dict[str, np.ndarray] = {}
    for k, column in enumerate(_OUTCOMES):
        if QUESTIONS[column].kind == "binary":
            mu[k] = _calibrate_intercept(rest[:, k], within, TARGET_SHARES[column])
        else:
            cutpoints[column] = _calibrate_cutpoints(
                rest[:, k], within, _TARGET_DISTRIBUTIONS[column]
            )
    eta = rest + mu[None, :]

    # Answers, and the truth of the respondents who gave them -------------------------------
    order = np.lexsort((area_of, wave))  # the survey's rows: by wave, then area
    answers: dict[str, pd.Series] = {}
    sample_truth: dict[str, np.ndarray] = {}
    for k, column in enumerate(_OUTCOMES):
        question = QUESTIONS[column]
        draw = rng_answers.random(n_respondents)
        if question.kind == "binary":
            person = expit(eta[:, k])[within][:, None]
            success = draw < person[:, 0]
            ok_probs, bad_probs = _LABEL_SPLIT[column]
            failures = tuple(lab for lab in question.labels if lab not in question.success)
            # choice(k, p=...) draws the indices that choice(labels, p=...) takes labels at
            ok = rng_answers.choice(len(question.success), size=n_respondents, p=ok_probs)
            bad = rng_answers.choice(len(failures), size=n_respondents, p=bad_probs)
            ok_at = np.array([question.labels.index(lab) for lab in question.success])
            bad_at = np.array([question.labels.index(lab) for lab in failures])
            label_idx = np.where(success, ok_at[ok], bad_at[bad])
            del draw, success, ok, bad
        else:
            probs = _label_probs(eta[:, k], cutpoints[column])
            below = np.cumsum(probs, axis=1)[within]
            label_idx = np.minimum((draw[:, None] > below).sum(axis=1), len(question.labels) - 1)
            person = _values_from_probs(column, probs)[within]
            del draw, probs, below
        missing = rng_miss.random(n_respondents) < missing_rate
        answers[column] = _answer_column(question, label_idx[order], missing[order])
        sample_truth[column] = _area_means(area_of[~missing], person[~missing], n_areas)
        del person, label_idx

    # Survey table, ordered by wave then area -----------------------------------------------
    survey = pd.DataFrame(
        {
            "respondent_id": _respondent_ids(n_respondents),
            "area": _text(area_of[order], codes),
            "wave": wave[order],
            "age_band": _text(age_idx[order], AGE_BANDS),
            "sex": _text(sex_idx[order], SEXES),
            "weight": weight[order],
            **answers,
        }
    )
    del answers, eta

    # Truth -------------------------------------------------------------------------------
    population_truth = _population_truth(
        linear_part, mu, cutpoints, pop_share, wave_start, wave_end
    )
    blocks = [
        np.stack([population_truth[column], sample_truth[column]], axis=-1) for column in _OUTCOMES
    ]
    # one row per area, indicator and quantity, areas (sorted codes) outermost
    indicators = np.concatenate(
        [np.repeat(k, len(_quantities(c))) for k, c in enumerate(_OUTCOMES)]
    )
    names, quantity = np.unique(
        np.concatenate([_quantities(c) for c in _OUTCOMES]), return_inverse=True
    )
    values = np.concatenate(blocks, axis=1).reshape(-1, 2)
    truth = pd.DataFrame(
        {
            "area": _text(np.repeat(np.arange(n_areas), len(indicators)), codes),
            "indicator": _text(np.tile(indicators, n_areas), _OUTCOMES),
            "quantity": _text(np.tile(quantity, n_areas), names),
            "population": values[:, 0],
            "sample": values[:, 1],
        }
    )

    area_effects = pd.DataFrame(
        {
            "area": _text(np.repeat(np.arange(n_areas), n_outcomes), codes),
            "indicator": _text(np.tile(np.arange(n_outcomes), n_areas), _OUTCOMES),
            "effect": u.ravel(),
            "spatial": spatial.ravel(),
            "independent": independent.ravel(),
        }
    )
    return SimulatedSurvey(
        survey=survey,
        areas=areas,
        benchmarks=_benchmarks(),
        truth=truth,
        population=population,
        area_effects=area_effects,
        boundaries=boundary_frame(areas, layout) if geometry else None,
    )
