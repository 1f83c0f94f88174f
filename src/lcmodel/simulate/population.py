"""Finite populations with known unit values, and informative stratified samples from them.

The survey simulator (:mod:`lcmodel.simulate.survey`) knows only superpopulation truth. This module
builds a whole finite population first, every unit with its outcome values, and then draws
samples from it, so that estimates of *finite* area values (the mean over an area's actual
units) can be checked against the truth: areas of 10 to 5,000 units, sampling fractions from 1%
to 50%, an informative stratified design and areas with no sample at all.

Generative model
----------------
Areas
    ``n_areas`` areas with codes ``A001``, ``A002``, ... (sorted; at least three digits). Sizes
    ``N_a`` are log-uniform between ``min_units`` and ``max_units``, drawn by stratified
    sampling: area ``a`` gets ``exp(log(min_units) + q_a * (log(max_units) - log(min_units)))``
    rounded half up, where ``q_a = (k_a + U_a) / n_areas`` with ``k`` a random permutation of
    ``0 .. n_areas - 1`` and ``U_a ~ Uniform(0, 1)``. The area with the smallest ``q`` then gets
    exactly ``min_units`` and the one with the largest exactly ``max_units``, so both ends of
    the range are always present (and a few areas lie near each end). Each area has a
    deprivation score ``deprivation_a ~ Normal(0, 1)``, an area effect ``u_a ~ Normal(0,
    area_sd)`` for the binary outcome (logit scale) and ``v_a ~ Normal(0, area_sd * sigma)`` for
    the score (so ``0.5 * sigma`` at the default ``area_sd = 0.5``).
Strata
    Each unit is in one tenure stratum ``h`` of ``STRATA`` = (owner, social, private). An area's
    stratum shares are ``Dirichlet(20 * (0.5, 0.3, 0.2))`` and its stratum counts ``N_ah`` are
    ``Multinomial(N_a, shares)`` (so small areas may lack a stratum).
Units
    For unit ``i`` in area ``a`` and stratum ``h``:

    - ``x_i ~ Normal(45 + X_SHIFT[h], 15)`` clipped to ``[16, 95]`` (age-like; ``X_SHIFT`` is
      owner +5, social -5, private 0);
    - ``p_i = logistic(-0.3 + Y_STRATUM[h] + 0.4 * deprivation_a + u_a)`` with ``Y_STRATUM``
      owner 0.6, social -0.6, private 0, and ``y_i ~ Bernoulli(p_i)``;
    - ``mu_i = 50 + SCORE_STRATUM[h] + 0.2 * (x_i - 45) + 3 * deprivation_a + v_a`` with
      ``SCORE_STRATUM`` owner 5, social -5, private 0, and ``score_i = mu_i + e_i`` with
      ``e_i ~ Normal(0, sigma)``.

    Units are numbered ``unit_id = 1, 2, ...`` in area then stratum order.

Sampling design (:meth:`FinitePopulation.sample`)
-------------------------------------------------
Fractions
    Every area gets a sampling fraction ``f_a`` log-uniform between 0.01 and 0.5
    (``exp(Uniform(log 0.01, log 0.5))``, independently per area).
Unsampled areas
    ``max(1, round(unsampled_share * n_areas))`` areas, chosen uniformly at random in each
    sample (none when ``unsampled_share`` is 0), get no sample.
Strata
    Within every other area, stratum ``h`` is sampled by simple random sampling without
    replacement of ``n_ah = min(N_ah, floor(f_a * RATES[h] * N_ah + 0.5))`` units, with
    ``RATES`` owner 0.5, social 2.0, private 1.0: social renters are oversampled and owners
    undersampled, and since both differ in ``y`` and ``score`` the design is informative. If
    every ``n_ah`` of a sampled area rounds to 0, the stratum with the largest
    ``f_a * RATES[h] * N_ah`` gets one unit instead, so exactly the unsampled areas have no
    sample. Small areas and small fractions leave many areas with 1-5 sampled units.
Weights
    A sampled unit's design weight is ``N_ah / n_ah``, the inverse of its inclusion probability;
    the weights of a sampled stratum sum to ``N_ah``.

Truth
-----
Per area: ``finite_y`` and ``finite_score`` are the means of ``y`` and ``score`` over all the
area's units (the finite-population values); ``expected_y`` and ``expected_score`` are the
means of ``p`` and ``mu`` over the same units (the superpopulation values given the area's
actual units).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

from lcmodel.simulate.survey import checked_float, checked_int, write_tables

__all__ = [
    "RATES",
    "STRATA",
    "FinitePopulation",
    "PopulationSample",
    "simulate_population",
]

STRATA: tuple[str, ...] = ("owner", "social", "private")
"""The tenure strata, in the order of every per-stratum constant."""

RATES: tuple[float, ...] = (0.5, 2.0, 1.0)
"""Relative sampling rates of the strata (the fraction in stratum ``h`` is ``f_a * RATES[h]``)."""

_STRATUM_SHARES = np.array([0.5, 0.3, 0.2])
_SHARE_CONCENTRATION = 20.0
_X_MEAN, _X_SD, _X_LOW, _X_HIGH = 45.0, 15.0, 16.0, 95.0
_X_SHIFT = np.array([5.0, -5.0, 0.0])
_Y_INTERCEPT, _Y_DEPRIVATION = -0.3, 0.4
_Y_STRATUM = np.array([0.6, -0.6, 0.0])
_SCORE_INTERCEPT, _SCORE_X, _SCORE_DEPRIVATION = 50.0, 0.2, 3.0
_SCORE_STRATUM = np.array([5.0, -5.0, 0.0])
_FRACTION_RANGE = (0.01, 0.5)
_SAMPLE_STREAM = 0x53414D50  # keeps sample streams apart from the population's
_FILES = ("survey", "frame", "population", "areas", "truth")


def _n_unsampled(n_areas: int, unsampled_share: float) -> int:
    """Number of areas a sample leaves out: none for share 0, else at least one."""
    if unsampled_share == 0:
        return 0
    return max(1, math.floor(unsampled_share * n_areas + 0.5))


def _round_half_up(values: np.ndarray) -> np.ndarray:
    return np.floor(values + 0.5).astype(np.int64)


def _strata(codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=list(STRATA))


@dataclass(frozen=True, eq=False)
class PopulationSample:
    """One informative stratified sample from a finite population, with the truth.

    Attributes
    ----------
    survey : pandas.DataFrame
        One row per sampled unit, in ``unit_id`` order: ``respondent_id`` (the unit's
        ``unit_id``), ``area``, ``stratum`` (categorical), ``x``, ``y`` (0/1 integers),
        ``score`` and ``weight`` (``N_ah / n_ah``).
    frame : pandas.DataFrame
        Population frame ``area``, ``stratum``, ``count``: one row per area x stratum cell with
        ``count > 0``, sampled or not.
    population : pandas.DataFrame
        One row per area: ``area``, ``size``, ``mean_x`` (population mean of ``x``) and the
        stratum shares ``share_owner``, ``share_social``, ``share_private``.
    areas : pandas.DataFrame
        One row per area: ``area``, ``deprivation``, ``name`` (the area code).
    truth : pandas.DataFrame
        One row per area: ``area``, ``size``, ``n`` (sampled units; 0 for unsampled areas),
        ``finite_y``, ``finite_score`` (means over all the area's units), ``expected_y`` and
        ``expected_score`` (means of the units' ``p`` and ``mu``).
    design : pandas.DataFrame
        The design, one row per frame cell: ``area``, ``stratum``, ``fraction`` (the area's
        ``f_a``, drawn for unsampled areas too), ``sampled`` (whether the area is sampled),
        ``count`` (``N_ah``) and ``n`` (``n_ah``). Not written by :meth:`write`.
    """

    survey: pd.DataFrame
    frame: pd.DataFrame
    population: pd.DataFrame
    areas: pd.DataFrame
    truth: pd.DataFrame
    design: pd.DataFrame

    def write(self, folder: str | Path) -> None:
        """Write the five tables as CSV files in ``folder``.

        Files are ``survey.csv``, ``frame.csv``, ``population.csv``, ``areas.csv`` and
        ``truth.csv``. The folder is created if needed; each file is written to a temporary file
        in the same folder and then moved into place, so a reader never sees a half-written
        file.

        Parameters
        ----------
        folder : str or pathlib.Path
            Destination folder.
        """
        write_tables(folder, {name: getattr(self, name) for name in _FILES})


@dataclass(frozen=True, eq=False)
class FinitePopulation:
    """A finite population of areas and units with every unit's values known.

    Attributes
    ----------
    units : pandas.DataFrame
        One row per unit, in area then stratum order: ``unit_id`` (1, 2, ...), ``area``
        (categorical, categories the area codes), ``stratum`` (categorical, categories
        ``STRATA``), ``x``, ``y`` (0/1 integers),
        ``score``, and the unit's true ``p`` (probability that ``y = 1``) and ``mu`` (expected
        score).
    areas : pandas.DataFrame
        One row per area, sorted: ``area``, ``deprivation``, ``size``.
    seed : int
        The seed the population was simulated with; samples draw from streams derived from it
        and their own seed.
    unsampled_share : float
        Share of areas each sample leaves without respondents.
    """

    units: pd.DataFrame
    areas: pd.DataFrame
    seed: int
    unsampled_share: float

    def sample(self, seed: int) -> PopulationSample:
        """Draw an informative stratified sample (the design in the module docstring).

        Parameters
        ----------
        seed : int
            Seed of the sample (non-negative); the same population and seed give the same
            sample.

        Returns
        -------
        PopulationSample
            The survey, the population frame and means, the areas and the per-area truth.

        Raises
        ------
        ValueError
            If ``seed`` is not a non-negative integer.
        """
        seed = checked_int("seed", seed, 0)
        design_rng, unit_rng = np.random.default_rng([seed, self.seed, _SAMPLE_STREAM]).spawn(2)
        codes = self.areas["area"].to_numpy()
        sizes = self.areas["size"].to_numpy()
        n_areas, n_strata = len(codes), len(STRATA)
        units = self.units
        area = units["area"]
        if isinstance(area.dtype, pd.CategoricalDtype) and area.cat.categories.equals(
            pd.Index(codes)
        ):
            area_of = area.cat.codes.to_numpy().astype(np.int64)
        else:
            area_of = pd.Index(codes).get_indexer(area)
        stratum = units["stratum"].cat.codes.to_numpy().astype(np.int64)
        cell = area_of * n_strata + stratum
        counts = np.bincount(cell, minlength=n_areas * n_strata).reshape(n_areas, n_strata)

        # Design: fractions, unsampled areas, stratum sample sizes ---------------------------
        low, high = _FRACTION_RANGE
        fraction = np.exp(design_rng.uniform(math.log(low), math.log(high), size=n_areas))
        unsampled = np.zeros(n_areas, dtype=bool)
        chosen = design_rng.choice(
            n_areas, size=_n_unsampled(n_areas, self.unsampled_share), replace=False
        )
        unsampled[chosen] = True
        planned = fraction[:, None] * np.asarray(RATES)[None, :] * counts
        take = np.minimum(_round_half_up(planned), counts)
        empty = (take.sum(axis=1) == 0) & ~unsampled
        take[empty, np.argmax(planned[empty], axis=1)] = 1
        take[unsampled] = 0

        # Simple random sampling without replacement within cells: a random order per cell ---
        order = np.argsort(cell + unit_rng.random(len(cell)), kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts.ravel())[:-1]])
        sorted_cell = cell[order]
        rank = np.arange(len(cell)) - starts[sorted_cell]
        picked = np.sort(order[rank < take.ravel()[sorted_cell]])

        cell_weight = np.where(take > 0, counts / np.maximum(take, 1), np.nan).ravel()
        survey = pd.DataFrame(
            {
                "respondent_id": units["unit_id"].to_numpy()[picked],
                "area": codes[area_of[picked]],
                "stratum": _strata(stratum[picked]),
                "x": units["x"].to_numpy()[picked],
                "y": units["y"].to_numpy()[picked],
                "score": units["score"].to_numpy()[picked],
                "weight": cell_weight[cell[picked]],
            }
        )

        # Population tables and truth --------------------------------------------------------
        nonzero = counts.ravel() > 0
        frame = pd.DataFrame(
            {
                "area": np.repeat(codes, n_strata)[nonzero],
                "stratum": _strata(np.tile(np.arange(n_strata), n_areas)[nonzero]),
                "count": counts.ravel()[nonzero].astype(np.int64),
            }
        )

        def area_mean(column: str) -> np.ndarray:
            values = units[column].to_numpy(dtype=float)
            return np.bincount(area_of, weights=values, minlength=n_areas) / sizes

        population = pd.DataFrame({"area": codes, "size": sizes, "mean_x": area_mean("x")})
        for h, name in enumerate(STRATA):
            population[f"share_{name}"] = counts[:, h] / sizes
        areas = pd.DataFrame(
            {"area": codes, "deprivation": self.areas["deprivation"].to_numpy(), "name": codes}
        )
        truth = pd.DataFrame(
            {
                "area": codes,
                "size": sizes,
                "n": take.sum(axis=1).astype(np.int64),
                "finite_y": area_mean("y"),
                "finite_score": area_mean("score"),
                "expected_y": area_mean("p"),
                "expected_score": area_mean("mu"),
            }
        )
        design = frame.assign(
            fraction=np.repeat(fraction, n_strata)[nonzero],
            sampled=np.repeat(~unsampled, n_strata)[nonzero],
        )[["area", "stratum", "fraction", "sampled", "count"]]
        design["n"] = take.ravel()[nonzero].astype(np.int64)
        return PopulationSample(
            survey=survey,
            frame=frame,
            population=population,
            areas=areas,
            truth=truth,
            design=design,
        )


def simulate_population(
    n_areas: int = 60,
    seed: int = 0,
    *,
    min_units: int = 10,
    max_units: int = 5000,
    unsampled_share: float = 0.1,
    area_sd: float = 0.5,
    sigma: float = 10.0,
) -> FinitePopulation:
    """Simulate a finite population of areas and units with known values.

    The generative model and the sampling design of :meth:`FinitePopulation.sample` are
    described in the module docstring.

    Parameters
    ----------
    n_areas : int, default 60
        Number of areas, at least 2.
    seed : int, default 0
        Seed of the random generator (non-negative); the same seed gives the same population.
    min_units : int, default 10
        Size of the smallest area, at least 1.
    max_units : int, default 5000
        Size of the largest area, at least ``min_units``.
    unsampled_share : float, default 0.1
        Share of areas each sample leaves without respondents, in ``[0, 1)``; when positive at
        least one area is left out and at least one must remain sampled.
    area_sd : float, default 0.5
        Standard deviation of the area effects of ``y`` (logit scale), in ``[0, 5]``; the area
        effects of ``score`` have standard deviation ``area_sd * sigma``.
    sigma : float, default 10.0
        Residual standard deviation of ``score``, finite and non-negative.

    Returns
    -------
    FinitePopulation
        The units and areas; draw samples with :meth:`FinitePopulation.sample`.

    Raises
    ------
    ValueError
        If an argument is out of range; the message names the argument.
    """
    n_areas = checked_int("n_areas", n_areas, 2)
    seed = checked_int("seed", seed, 0)
    min_units = checked_int("min_units", min_units, 1)
    max_units = checked_int("max_units", max_units, 1)
    if max_units < min_units:
        raise ValueError(f"max_units must be at least min_units ({min_units}), got {max_units}")
    unsampled_share = checked_float("unsampled_share", unsampled_share, 0.0, 1.0, high_open=True)
    if _n_unsampled(n_areas, unsampled_share) > n_areas - 1:
        raise ValueError(
            f"unsampled_share {unsampled_share} would leave none of the {n_areas} areas sampled"
        )
    area_sd = checked_float("area_sd", area_sd, 0.0, 5.0, high_open=False)
    sigma = checked_float("sigma", sigma, 0.0, math.inf, high_open=True)

    size_rng, area_rng, stratum_rng, unit_rng = np.random.default_rng(seed).spawn(4)

    # Areas -----------------------------------------------------------------------------------
    width = max(3, len(str(n_areas)))
    codes = np.array([f"A{i:0{width}d}" for i in range(1, n_areas + 1)])
    quantile = (size_rng.permutation(n_areas) + size_rng.random(n_areas)) / n_areas
    log_low, log_high = math.log(min_units), math.log(max_units)
    sizes = np.clip(
        _round_half_up(np.exp(log_low + quantile * (log_high - log_low))), min_units, max_units
    )
    sizes[np.argmin(quantile)] = min_units
    sizes[np.argmax(quantile)] = max_units
    deprivation = area_rng.standard_normal(n_areas)
    u = area_rng.normal(0.0, area_sd, size=n_areas)
    v = area_rng.normal(0.0, area_sd * sigma, size=n_areas)

    # Strata ----------------------------------------------------------------------------------
    shares = stratum_rng.dirichlet(_SHARE_CONCENTRATION * _STRATUM_SHARES, size=n_areas)
    counts = stratum_rng.multinomial(sizes, shares)
    n_strata = len(STRATA)
    cell = np.repeat(np.arange(n_areas * n_strata), counts.ravel())
    area_of, stratum = cell // n_strata, cell % n_strata

    # Units -----------------------------------------------------------------------------------
    n_units = len(cell)
    x = np.clip(unit_rng.normal(_X_MEAN + _X_SHIFT[stratum], _X_SD), _X_LOW, _X_HIGH)
    p = expit(
        _Y_INTERCEPT + _Y_STRATUM[stratum] + _Y_DEPRIVATION * deprivation[area_of] + u[area_of]
    )
    y = (unit_rng.random(n_units) < p).astype(np.int64)
    mu = (
        _SCORE_INTERCEPT
        + _SCORE_STRATUM[stratum]
        + _SCORE_X * (x - _X_MEAN)
        + _SCORE_DEPRIVATION * deprivation[area_of]
        + v[area_of]
    )
    score = mu + unit_rng.normal(0.0, sigma, size=n_units)

    units = pd.DataFrame(
        {
            "unit_id": np.arange(1, n_units + 1, dtype=np.int64),
            "area": pd.Categorical.from_codes(area_of, categories=list(codes)),
            "stratum": _strata(stratum),
            "x": x,
            "y": y,
            "score": score,
            "p": p,
            "mu": mu,
        }
    )
    areas = pd.DataFrame(
        {"area": codes, "deprivation": deprivation, "size": sizes.astype(np.int64)}
    )
    return FinitePopulation(units=units, areas=areas, seed=seed, unsampled_share=unsampled_share)
