"""What a joint model buys: interval widths and PSIS-LOO against separate models.

Both models are fitted to the same answers with the same sampler settings. Interval widths are
compared per area, indicator and quantity. Predictive accuracy is compared by PSIS-LOO over
respondents' answers (leave one answer out): the pointwise log-likelihood of every answer is
computed from each posterior with the row-level likelihood, which has the same posterior as the
cells the models were sampled with, so the two models are scored on the same observations
whatever their cells. The separate models' posteriors are independent, so pairing their draws
by index gives draws of their product, which is the separate model's joint posterior.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from lcmodel.data.survey import AREA
from lcmodel.design.dims import INDICATOR
from lcmodel.inference.diagnostics import Diagnostics
from lcmodel.inference.sampling import reproducible_numerics
from lcmodel.io.atomic import atomic_folder
from lcmodel.models.joint import JointModel
from lcmodel.models.scoring import independent_indicator
from lcmodel.models.unit_level import UnitLevelModel
from lcmodel.results.estimates import interval_label
from lcmodel.results.fit_result import FitResult
from lcmodel.results.joint_result import JointFitResult

__all__ = ["COMPARISON_MARKER", "JointComparison", "compare_with_separate", "loo_by_answer"]

COMPARISON_MARKER = "loo.csv"
"""The file that marks a folder as a saved comparison (and so safe to replace)."""

PARETO_K_LIMIT = 0.7
"""Pareto k above which a PSIS-LOO term is unreliable (Vehtari et al. 2024)."""


@dataclass(frozen=True)
class Loo:
    """Pointwise PSIS-LOO of one indicator's answers under one model."""

    elpd: np.ndarray
    pareto_k: np.ndarray
    p_loo: float


@dataclass(frozen=True)
class JointComparison:
    """Joint against separate models on the same answers.

    Attributes
    ----------
    widths
        Per indicator, area and quantity: ``n``, the interval width of each model and their
        ratio (joint / separate; below 1: the joint interval is narrower).
    loo
        Per indicator and over all answers (``indicator = "all"``): number of answers, elpd
        and its se for each model, the difference (joint - separate, positive favours the
        joint model) with its se, p_loo, and how many answers have Pareto k above 0.7.
    interval
        The interval definition of the widths.
    diagnostics
        Convergence diagnostics of every fit compared (``"joint"`` and each indicator's
        separate fit).
    """

    widths: pd.DataFrame
    loo: pd.DataFrame
    interval: str
    diagnostics: dict[str, Diagnostics]

    def diagnostics_failures(self) -> list[str]:
        """One line per fit that failed its convergence gates (empty when all passed)."""
        return [
            f"{fit}: {'; '.join(check.failures)}"
            for fit, check in self.diagnostics.items()
            if not check.passed
        ]

    def smallest_areas(self, count: int = 3) -> pd.DataFrame:
        """Width ratios of the headline quantities in the ``count`` areas with fewest answers."""
        table = self.widths[self.widths["headline"]]
        smallest = table.groupby(AREA)["n"].min().nsmallest(count).index
        return table[table[AREA].isin(smallest)].sort_values(["n", INDICATOR])

    def describe(self) -> str:
        """A paragraph with the headline numbers."""
        headline = self.widths[self.widths["headline"]]
        small = self.smallest_areas()
        total = self.loo[self.loo[INDICATOR] == "all"].iloc[0]
        return (
            f"Joint against separate models ({self.interval} intervals of the headline "
            f"quantities): in the {small[AREA].nunique()} areas with fewest answers the joint "
            f"interval is {small['ratio'].median():.2f} times the separate width (median; range "
            f"{small['ratio'].min():.2f}-{small['ratio'].max():.2f}); over all areas the median "
            f"ratio is {headline['ratio'].median():.2f}. PSIS-LOO over {int(total['answers']):,} "
            f"answers: elpd joint {total['elpd_joint']:.1f} (se {total['se_joint']:.1f}), "
            f"separate {total['elpd_separate']:.1f} (se {total['se_separate']:.1f}), difference "
            f"{total['elpd_diff']:+.1f} (se {total['se_diff']:.1f}; positive favours the joint "
            f"model). Answers with Pareto k > {PARETO_K_LIMIT}: {int(total['k_high_joint'])} "
            f"joint, {int(total['k_high_separate'])} separate."
        )

    def save(self, folder: str | Path) -> Path:
        """Write ``widths.csv`` and ``loo.csv`` to ``folder`` atomically."""
        with atomic_folder(folder, marker=COMPARISON_MARKER) as staging:
            self.widths.to_csv(staging / "widths.csv", index=False)
            self.loo.to_csv(staging / COMPARISON_MARKER, index=False)
        return Path(folder).resolve()


def _widths(joint: JointFitResult, separate: dict[str, FitResult]) -> pd.DataFrame:
    keys = [AREA, "quantity"]
    parts = []
    for name, single in separate.items():
        mine = joint[name].estimates()
        theirs = single.estimates()
        table = mine[[AREA, "name", "quantity", "n"]].copy()
        table.insert(0, INDICATOR, name)
        table["headline"] = table["quantity"] == single.headline
        table["width_joint"] = (mine["upper"] - mine["lower"]).to_numpy()
        other = theirs.set_index(keys)
        widths = other["upper"] - other["lower"]
        table["width_separate"] = widths.reindex(pd.MultiIndex.from_frame(mine[keys])).to_numpy()
        table["ratio"] = table["width_joint"] / table["width_separate"]
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


def _loo_row(label: str, joint: list[Loo], separate: list[Loo]) -> dict[str, Any]:
    mine = np.concatenate([loo.elpd for loo in joint])
    theirs = np.concatenate([loo.elpd for loo in separate])
    n = len(mine)
    diff = mine - theirs
    return {
        INDICATOR: label,
        "answers": n,
        "elpd_joint": mine.sum(),
        "se_joint": np.sqrt(n * mine.var()),
        "elpd_separate": theirs.sum(),
        "se_separate": np.sqrt(n * theirs.var()),
        "elpd_diff": diff.sum(),
        "se_diff": np.sqrt(n * diff.var()),
        "p_loo_joint": sum(loo.p_loo for loo in joint),
        "p_loo_separate": sum(loo.p_loo for loo in separate),
        "k_high_joint": int(sum((loo.pareto_k > PARETO_K_LIMIT).sum() for loo in joint)),
        "k_high_separate": int(sum((loo.pareto_k > PARETO_K_LIMIT).sum() for loo in separate)),
    }


def compare_with_separate(
    joint: JointModel,
    *,
    joint_result: JointFitResult | None = None,
    separate: dict[str, FitResult] | None = None,
    progressbar: bool = False,
    **overrides: Any,
) -> JointComparison:
    """Fit (or take) the joint model and one model per indicator, and compare them.

    Parameters
    ----------
    joint
        The joint model.
    joint_result, separate
        Fits already made (with the same settings); fitted here when omitted.
    progressbar
        Show the sampler's progress bars.
    **overrides
        ``[fit]`` settings for the fits made here (the joint spec's otherwise).
    """
    if joint_result is None:
        joint_result = joint.fit(progressbar=progressbar, **overrides)
    settings = joint_result.spec.fit.model_dump()
    if separate is None:
        separate = {
            name: UnitLevelModel(joint_result[name].spec, joint[name].data).fit(
                progressbar=progressbar, **settings
            )
            for name in joint.names
        }
    joint_loo, separate_loo = {}, {}
    for name in joint.names:
        # each posterior is scored by a row-level model with its own parameterisation of the
        # area effects: the separate fit's (the default), and for the joint slice independent,
        # non-centred z_area (the correlated one it holds); the likelihood of the answers is
        # the same
        separate_loo[name] = loo_by_answer(
            joint[name].build(aggregate_cells=False), separate[name].idata
        )
        independent = independent_indicator(joint[name])
        joint_loo[name] = loo_by_answer(
            independent.build(aggregate_cells=False), joint_result[name].idata
        )
    table = [_loo_row(name, [joint_loo[name]], [separate_loo[name]]) for name in joint.names]
    table.append(_loo_row("all", list(joint_loo.values()), list(separate_loo.values())))
    fit = joint_result.spec.fit
    return JointComparison(
        widths=_widths(joint_result, separate),
        loo=pd.DataFrame(table),
        interval=interval_label(fit.interval, fit.interval_kind),
        diagnostics={"joint": joint_result.diagnostics()}
        | {f"{name} (separate)": result.diagnostics() for name, result in separate.items()},
    )


def loo_by_answer(rows: pm.Model, idata: xr.DataTree) -> Loo:
    """PSIS-LOO of every answer to one indicator, scored with a row-level likelihood.

    Parameters
    ----------
    rows
        The indicator's model built with ``aggregate_cells=False`` (one observation per
        answer).
    idata
        A posterior holding every free variable of ``rows``: a separate fit, or the
        indicator's slice of a joint fit.
    """
    for rv in rows.free_RVs:  # start values play no part in scoring, and PyMC refuses them
        rows.set_initval(rv, None)
    posterior = idata["posterior"].to_dataset()
    free = [rv.name for rv in rows.free_RVs]
    with reproducible_numerics():
        log_lik = pm.compute_log_likelihood(
            xr.DataTree.from_dict({"posterior": posterior[free]}),
            model=rows,
            extend_inferencedata=False,
            progressbar=False,
        )
    scored = xr.DataTree.from_dict({"posterior": posterior[free], "log_likelihood": log_lik})
    result = az.loo(scored, pointwise=True, var_name="y")
    return Loo(
        elpd=np.asarray(result.elpd_i).ravel(),
        pareto_k=np.asarray(result.pareto_k).ravel(),
        p_loo=float(result.p),
    )
