"""Any two or more models compared by PSIS-LOO on the same observations.

Each model is a spec (fitted here), an unfitted model, a fit result or a saved result folder
(read back, with its spec rebuilt into the model against its data files). Models are compared
only when they score the same observations:

- unit-level models score every answer (one respondent's answer, or one trial of a count):
  the pointwise log-likelihood is computed from each posterior with the model built on
  respondent rows (``aggregate_cells=False``), as :func:`~lcmodel.workflows.joint_comparison.
  loo_by_answer` does, so models with different covariates, and so different cells, are scored
  on the same answers;
- area-level (Fay-Herriot) models score every area's direct estimate (the normal density of
  the estimate, or the binomial log-likelihood of its effective counts).

A unit-level model and an area-level one score different things and are not compared; nor are
models of different outcomes, of different areas, or of different answers or estimates (other
data files, other coding of the answers, other respondents dropped for missing covariates).
Saved results are checked against the data files their spec names: a result whose recorded
data hash differs from what the files give now is refused.

The pointwise log-likelihood is computed here from the saved posterior's free variables by
:func:`lcmodel.models.scoring.pointwise_log_likelihood` (the model checks' too): with
:func:`pymc.compute_log_likelihood` on the rebuilt model (unit level), or directly from
``area_value`` (and the modelled ``sampling_variance``) for Fay-Herriot models. ELPD, its
standard error, the differences and stacking weights come from :func:`arviz.loo` and
:func:`arviz.compare`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lcmodel.data.survey import AREA, frame_hash
from lcmodel.errors import LcmodelError, listed
from lcmodel.inference.diagnostics import Diagnostics
from lcmodel.io.atomic import atomic_folder
from lcmodel.models.base import Model
from lcmodel.models.fay_herriot import FayHerriotModel
from lcmodel.models.joint import JointModel
from lcmodel.models.registry import model_from_spec
from lcmodel.models.scoring import OBSERVATION, pointwise_log_likelihood
from lcmodel.models.unit_level import UnitLevelModel
from lcmodel.results.fit_result import FitResult
from lcmodel.results.folder import load
from lcmodel.results.result import Result
from lcmodel.workflows.joint_comparison import COMPARISON_MARKER, PARETO_K_LIMIT

__all__ = [
    "LOO_COLUMNS",
    "OBSERVATION",
    "ModelComparison",
    "Observations",
    "compare_models",
    "pointwise_log_likelihood",
]

LOO_COLUMNS = [
    "model",
    "elpd_loo",
    "se",
    "elpd_diff",
    "dse",
    "p_loo",
    "n_obs",
    "pareto_k_over_0_7",
    "weight",
    "diagnostics_ok",
    "source",
]
"""The columns of :attr:`ModelComparison.table` (``loo.csv``), best model first."""

LEVELS = {
    "unit_level": "a unit-level model (scored per answer)",
    "area_level": "an area-level (Fay-Herriot) model (scored per area's direct estimate)",
}


@dataclass(frozen=True)
class Observations:
    """What a model's PSIS-LOO scores: the same for every model compared.

    Attributes
    ----------
    level
        ``unit_level`` (answers) or ``area_level`` (areas' direct estimates).
    unit
        The observation in words: ``answer`` or ``area estimate``.
    outcome
        What is observed, for messages: the column and family or likelihood.
    areas
        The areas with observations, in order.
    count
        Number of observations.
    fingerprint
        SHA-256 of the observations themselves (area and coded answer of every answer, in
        order; or area, estimate and effective size of every direct estimate).
    data
        The data file the observations were read from.
    """

    level: str
    unit: str
    outcome: str
    areas: tuple[str, ...]
    count: int
    fingerprint: str
    data: str


@dataclass(frozen=True)
class _Candidate:
    name: str
    source: str
    model: Model
    result: FitResult | None
    observations: Observations


@dataclass(frozen=True)
class ModelComparison:
    """Two or more models compared by PSIS-LOO on the same observations.

    Attributes
    ----------
    table
        One row per model, best first (:data:`LOO_COLUMNS`): ``elpd_loo`` and its ``se``;
        ``elpd_diff``, the model's elpd minus the best model's (0 for the best, negative for
        the others) with ``dse``, the standard error of that difference; ``p_loo``, the
        effective number of parameters; ``n_obs``; how many observations have Pareto k above
        0.7 (their terms are unreliable); the stacking ``weight``; whether the fit passed its
        convergence gates; and the spec file or result folder.
    unit
        What one observation is (``answer`` or ``area estimate``).
    diagnostics
        Convergence diagnostics of every model, by name.
    """

    table: pd.DataFrame
    unit: str
    diagnostics: dict[str, Diagnostics]

    def diagnostics_failures(self) -> list[str]:
        """One line per fit that failed its convergence gates (empty when all passed)."""
        return [
            f"{name}: {'; '.join(check.failures)}"
            for name, check in self.diagnostics.items()
            if not check.passed
        ]

    def describe(self) -> str:
        """Which model predicts best, and whether each difference exceeds 2 standard errors."""
        best = self.table.iloc[0]
        n = int(best["n_obs"])
        text = (
            f"PSIS-LOO over the same {n:,} {self.unit}s: '{best['model']}' has the highest "
            f"expected log predictive density (elpd_loo {best['elpd_loo']:.1f}, se "
            f"{best['se']:.1f})."
        )
        for _, row in self.table.iloc[1:].iterrows():
            diff, dse = -float(row["elpd_diff"]), float(row["dse"])
            ratio = diff / dse if dse > 0 else float("inf")
            if ratio > 2 and diff >= 4:
                verdict = (
                    f"more than 2 standard errors, so '{best['model']}' predicts these "
                    f"{self.unit}s better"
                )
            elif ratio > 2:
                verdict = (
                    "more than 2 standard errors but under 4 in elpd, a small difference: the "
                    "two models predict about equally well"
                )
            else:
                verdict = f"within 2 standard errors, so not clearly worse than '{best['model']}'"
            text += (
                f" '{row['model']}' is {diff:.1f} lower (se of the difference {dse:.1f}; "
                f"{ratio:.1f} se): {verdict}."
            )
        if n < 100:
            text += f" With fewer than 100 {self.unit}s the standard errors are themselves rough."
        unreliable = self.table[self.table["pareto_k_over_0_7"] > 0]
        if len(unreliable):
            counts = ", ".join(
                f"'{row['model']}' {int(row['pareto_k_over_0_7'])}"
                for _, row in unreliable.iterrows()
            )
            text += (
                f" {self.unit.capitalize()}s with Pareto k above {PARETO_K_LIMIT} ({counts}) "
                f"have unreliable PSIS-LOO terms, which can bias the comparison."
            )
        failures = self.diagnostics_failures()
        if failures:
            text += f" Convergence gates failed: {'; '.join(failures)}."
        return text

    def save(self, folder: str | Path) -> Path:
        """Write ``loo.csv`` and ``summary.txt`` (:meth:`describe`) to ``folder`` atomically."""
        with atomic_folder(folder, marker=COMPARISON_MARKER) as staging:
            self.table.to_csv(staging / COMPARISON_MARKER, index=False)
            (staging / "summary.txt").write_text(self.describe() + "\n")
        return Path(folder).resolve()


def observations_of(model: Model) -> Observations:
    """The observations a model's PSIS-LOO scores (see :class:`Observations`).

    Parameters
    ----------
    model
        A unit-level or area-level model with its data loaded.

    Raises
    ------
    LcmodelError
        For a joint model (compared with its separate fits by :func:`~lcmodel.workflows.
        joint_comparison.compare_with_separate`).
    """
    if isinstance(model, UnitLevelModel):
        data = model.data
        answers = data.respondents[[AREA, *data.count_columns]]
        return Observations(
            level="unit_level",
            unit="answer",
            outcome=f"'{model.spec.outcome.column}' ({model.family.name} family)",
            areas=tuple(sorted(answers[AREA].unique())),
            count=len(answers),
            fingerprint=frame_hash(answers),
            data=str(model.spec.data),
        )
    if isinstance(model, FayHerriotModel):
        section = model.spec.area_level
        observed = model.observed_estimates()
        return Observations(
            level="area_level",
            unit="area estimate",
            outcome=f"{model.quantity} of '{model.outcome}' ({section.likelihood} likelihood)",
            areas=tuple(str(a) for a in observed.index),
            count=len(observed),
            fingerprint=frame_hash(observed.drop(columns="variance", errors="ignore")),
            data=str(section.table if section.table is not None else section.survey),
        )
    raise LcmodelError(
        f"'{model.spec.name}' is a joint model; compare a joint spec with its indicators' "
        f"separate fits by giving it alone (`lcmodel compare JOINT.toml`), or compare its "
        f"indicators' specs one by one"
    )


def _differences(a: _Candidate, b: _Candidate) -> str | None:
    """Why ``a`` and ``b`` do not score the same observations (``None`` when they do)."""
    mine, theirs = a.observations, b.observations
    if mine.level != theirs.level:
        return (
            f"'{a.name}' is {LEVELS[mine.level]} and '{b.name}' is {LEVELS[theirs.level]}; their "
            f"PSIS-LOO are over different observations and cannot be compared"
        )
    if mine.outcome != theirs.outcome:
        return (
            f"different outcomes: '{a.name}' models {mine.outcome}, '{b.name}' models "
            f"{theirs.outcome}"
        )
    if mine.areas != theirs.areas:
        only_a = sorted(set(mine.areas) - set(theirs.areas))
        only_b = sorted(set(theirs.areas) - set(mine.areas))
        return (
            f"different areas with {mine.unit}s: only '{a.name}' has {listed(only_a)}, only "
            f"'{b.name}' has {listed(only_b)}"
        )
    if mine.fingerprint != theirs.fingerprint:
        return (
            f"different data: '{a.name}' has {mine.count:,} {mine.unit}s from {mine.data} "
            f"(observations hash {mine.fingerprint[:12]}), '{b.name}' has {theirs.count:,} from "
            f"{theirs.data} (hash {theirs.fingerprint[:12]}); other data files, another coding "
            f"of the answers, or other respondents dropped for a missing covariate"
        )
    return None


def _from_result(result: FitResult, source: str, data: str | Path | None) -> _Candidate:
    if data is not None:
        raise LcmodelError(
            f"{source}: --data replaces a spec's survey; a saved result keeps its own"
        )
    model = model_from_spec(result.spec)
    recorded = result.data_hashes()[result.spec.name]
    current = model.data_hashes()[result.spec.name]
    if recorded != current:
        raise LcmodelError(
            f"{source}: the data files have changed since this result was fitted (result.json "
            f"records data hash {str(recorded)[:12]}, the files its spec names now give "
            f"{str(current)[:12]}); refit it with `lcmodel fit` before comparing"
        )
    return _Candidate(result.spec.name, source, model, result, observations_of(model))


def _candidate(item: Any, data: str | Path | None) -> _Candidate:
    """One model to compare, from whatever was given."""
    if isinstance(item, JointModel) or (isinstance(item, Result) and item.is_joint):
        raise LcmodelError(
            f"'{item.spec.name}' is a joint model; compare a joint spec with its indicators' "
            f"separate fits by giving it alone (`lcmodel compare JOINT.toml`)"
        )
    if isinstance(item, FitResult):
        return _from_result(item, f"result '{item.spec.name}'", data)
    if isinstance(item, Model):
        return _Candidate(
            item.spec.name, f"model '{item.spec.name}'", item, None, observations_of(item)
        )
    path = Path(item)
    if path.is_dir():
        result = load(path)
        if result.is_joint:
            return _candidate(result, data)
        return _from_result(result, str(path), data)
    if not path.is_file():
        raise LcmodelError(f"{path}: no such spec file or result folder")
    model = model_from_spec(path, None if data is None else Path(data).resolve())
    return _Candidate(model.spec.name, str(path), model, None, observations_of(model))


def _unique_names(candidates: list[_Candidate]) -> list[str]:
    names = [c.name for c in candidates]
    return [
        name if names.count(name) == 1 else f"{name} ({c.source})"
        for name, c in zip(names, candidates, strict=True)
    ]


def compare_models(
    models: Sequence[FitResult | Model | str | Path],
    *,
    data: str | Path | None = None,
    progressbar: bool = False,
    **overrides: Any,
) -> ModelComparison:
    """Compare two or more models by PSIS-LOO on the same observations.

    Every model is checked before anything is fitted: all must score the same observations
    (the same answers, or the same areas' direct estimates), and a saved result must match
    the data files its spec names.

    Parameters
    ----------
    models
        Two or more of: spec files (TOML, fitted here), saved result folders (from
        ``lcmodel fit`` or ``save()``), models (fitted here) and fit results.
    data
        Survey file replacing the ``data`` of the unit-level specs fitted here.
    progressbar
        Show the sampler's progress bars.
    **overrides
        ``[fit]`` settings for the fits made here (each spec's own otherwise).

    Returns
    -------
    ModelComparison
        The table (best model first), what one observation is, and every fit's diagnostics.

    Raises
    ------
    LcmodelError
        With fewer than two models, for a joint model, and when two models do not score the
        same observations (the message says what differs).

    Examples
    --------
    >>> specs = ["models/trust.toml", "models/trust_bym2.toml"]
    >>> comparison = compare_models(specs)  # doctest: +SKIP
    >>> comparison.table  # doctest: +SKIP
    >>> print(comparison.describe())  # doctest: +SKIP
    """
    import arviz as az

    if len(models) < 2:
        raise LcmodelError(
            "compare_models needs two or more models (specs, result folders or results); a "
            "joint model is compared with its separate fits by compare_with_separate"
        )
    candidates = [_candidate(item, data) for item in models]
    first = candidates[0]
    for other in candidates[1:]:
        why = _differences(first, other)
        if why is not None:
            raise LcmodelError(
                f"cannot compare '{first.name}' ({first.source}) with '{other.name}' "
                f"({other.source}) by PSIS-LOO: {why}"
            )
    names = _unique_names(candidates)
    results: dict[str, FitResult] = {}
    for name, candidate in zip(names, candidates, strict=True):
        results[name] = candidate.result or candidate.model.fit(
            progressbar=progressbar, **overrides
        )
    loo = {}
    for name, candidate in zip(names, candidates, strict=True):
        scored = pointwise_log_likelihood(candidate.model, results[name])
        loo[name] = az.loo(scored, pointwise=True, var_name="y")
    compared = az.compare(loo, round_to="none")
    table = pd.DataFrame(
        {
            "model": compared.index.astype(str),
            "elpd_loo": compared["elpd"].to_numpy(dtype=float),
            "se": compared["se"].to_numpy(dtype=float),
            "elpd_diff": compared["elpd_diff"].to_numpy(dtype=float),
            "dse": compared["dse"].to_numpy(dtype=float),
            "p_loo": compared["p"].to_numpy(dtype=float),
            "n_obs": [int(np.size(loo[name].elpd_i)) for name in compared.index],
            "pareto_k_over_0_7": [
                int((np.asarray(loo[name].pareto_k) > PARETO_K_LIMIT).sum())
                for name in compared.index
            ],
            "weight": compared["weight"].to_numpy(dtype=float),
            "diagnostics_ok": [results[name].diagnostics().passed for name in compared.index],
            "source": [candidates[names.index(name)].source for name in compared.index],
        }
    )[LOO_COLUMNS]
    return ModelComparison(
        table=table,
        unit=first.observations.unit,
        diagnostics={name: result.diagnostics() for name, result in results.items()},
    )
