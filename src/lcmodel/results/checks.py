"""Model checks of a fitted result: each a table, a figure and the areas it flags.

:func:`model_checks` (``result.checks()``) computes, from a result's saved posterior and
inputs, without the model and without refitting:

``area_ppc``
    Per area, the headline quantity's direct estimate against its posterior predictive
    interval for the area's own sample: shares ``Binomial(n_eff, p) / n_eff`` with
    ``n_eff = n / deff`` (the area's respondents, over the design effect of a weighted direct
    estimate) and ``p`` the model's value for the area; means ``Normal(mu, direct_se)``.
``loo``
    PSIS-LOO (:func:`arviz.loo`) over every answer (or Fay-Herriot area estimate), with each
    area's elpd and its answers' Pareto k.
``loo_pit``
    LOO-PIT values (:func:`arviz.loo_pit`; randomised for discrete answers), overall and per
    area: calibrated predictions give uniform values.
``direct_vs_model``
    Direct against model estimates (with the 45-degree line), and the coefficient of variation
    of both against the area's sample size (as emdi's ``compare_plot``).
``area_effects_qq``
    The areas' estimated effects, standardised by ``sigma_area``, against the quantiles of
    their normal prior.
``prior_sensitivity``
    Power-scaling sensitivity (:func:`arviz.psense`) of each parameter to its prior and to
    the likelihood.
``score_distribution``
    For 0-10 style scores (ordinal with numeric categories, or Gaussian whole-number answers):
    observed against replicated share of each score.

``loo``, ``loo_pit``, ``prior_sensitivity`` and ``score_distribution`` read the
``log_likelihood``, ``posterior_predictive``, ``observed_data`` (variable ``y_i``) and
``log_prior`` groups that :meth:`lcmodel.models.base.Model.fit` stores with the posterior
(``[fit] pointwise``); a result without them (fitted with ``pointwise = false`` or by an older
lcmodel) lists those checks in :attr:`ModelChecks.missing` with the reason
(:func:`lcmodel.workflows.checks.with_check_groups` adds the groups from the rebuilt model).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from lcmodel.errors import LcmodelError, did_you_mean
from lcmodel.io.atomic import atomic_folder

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from lcmodel.results.fit_result import FitResult

__all__ = [
    "CHECKS_MARKER",
    "CHECK_NAMES",
    "PARETO_K_LIMIT",
    "PSENSE_THRESHOLD",
    "Check",
    "ModelChecks",
    "model_checks",
]

CHECK_NAMES = (
    "area_ppc",
    "loo_pit",
    "loo",
    "direct_vs_model",
    "area_effects_qq",
    "prior_sensitivity",
    "score_distribution",
)
"""Every check, in the order they are run and reported."""

CHECKS_MARKER = "summary.txt"
"""The file that marks a folder of saved checks (and so safe to replace)."""

PARETO_K_LIMIT = 0.7
"""Pareto k above which a PSIS-LOO term is unreliable."""

PSENSE_THRESHOLD = 0.05
"""Power-scaling sensitivity at or above which a component is said to matter."""

POINTWISE = "y_i"
"""The pointwise variable of the stored groups (see :mod:`lcmodel.models.scoring`)."""

OBSERVATION_AREA = "observation_area"

CV_TOLERANCE = 1.1
"""``direct_vs_model`` flags an area whose model CV exceeds its direct CV by more than this."""

SCORED = ("ordinal", "gaussian")
"""Families whose answers may be scores (checked by ``score_distribution``)."""

QQ_LIMIT = 2.0
"""A standardised area effect beyond this (posterior mean) is flagged as outlying."""

PIT_Z_LIMIT = 3.0
"""An area whose mean LOO-PIT is this many standard errors from 0.5 is flagged."""


@dataclass(frozen=True)
class Check:
    """One model check: a table, the areas (or parameters) it flags, and a figure.

    Attributes
    ----------
    name
        One of :data:`CHECK_NAMES`.
    title
        Plain-language title.
    summary
        One or two sentences: what it shows and what is flagged.
    table
        The check's table (columns in ``docs/outputs.md``).
    flagged
        Areas flagged (parameters for ``prior_sensitivity``, scores for
        ``score_distribution``).
    plot
        Draws the figure (called by :meth:`figure`).
    statistics
        The check's headline numbers (e.g. ``p_value``), by name.
    """

    name: str
    title: str
    summary: str
    table: pd.DataFrame
    flagged: list[str]
    plot: Callable[[], tuple[Figure, Any]] = field(repr=False, compare=False)
    statistics: dict[str, float] = field(default_factory=dict)

    def figure(self) -> tuple[Figure, Any]:
        """Draw the check's figure (matplotlib); returns ``(fig, axes)``."""
        return self.plot()


@dataclass(frozen=True)
class ModelChecks:
    """The checks of one fitted model (one indicator of a joint fit).

    Iterable over :class:`Check` and indexable by name.

    Attributes
    ----------
    model
        The model's (indicator's) name.
    checks
        The checks run, in the order of :data:`CHECK_NAMES`.
    missing
        Checks not run, with the reason (no stored pointwise groups; a family without scores).
    """

    model: str
    checks: list[Check]
    missing: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def __len__(self) -> int:
        return len(self.checks)

    def __getitem__(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        if name in self.missing:
            raise LcmodelError(f"'{self.model}': no {name} check: {self.missing[name]}")
        names = [c.name for c in self.checks]
        raise LcmodelError(
            f"no check '{name}'{did_you_mean(name, names)}; checks: {', '.join(names)}"
        )

    @property
    def names(self) -> list[str]:
        """The names of the checks run."""
        return [check.name for check in self.checks]

    def describe(self) -> str:
        """Every check's summary, one paragraph each, then the checks not run."""
        parts = [f"{check.title}: {check.summary}" for check in self.checks]
        parts += [f"Not run, {name}: {why}" for name, why in self.missing.items()]
        return "\n\n".join(parts)

    def save(self, folder: str | Path, subfolder: str | None = "checks") -> Path:
        """Write ``<name>.csv`` and ``<name>.png`` of every check, and ``summary.txt``.

        Parameters
        ----------
        folder
            A result folder: the files go to its ``checks/`` subfolder.
        subfolder
            The subfolder written (``None``: ``folder`` itself). It is replaced atomically
            when it is empty or holds earlier checks (a ``summary.txt``).

        Returns
        -------
        pathlib.Path
            The folder written.
        """
        import matplotlib.pyplot as plt

        target = Path(folder) / subfolder if subfolder else Path(folder)
        with atomic_folder(target, marker=CHECKS_MARKER) as staging:
            for check in self.checks:
                check.table.to_csv(staging / f"{check.name}.csv", index=False)
                fig, _ = check.figure()
                try:
                    fig.savefig(staging / f"{check.name}.png", dpi=110)
                finally:
                    plt.close(fig)
            (staging / CHECKS_MARKER).write_text(self.describe() + "\n")
        return target.resolve()


# ---------------------------------------------------------------------------------------------
# helpers


def _draws(values: xr.DataArray) -> np.ndarray:
    """``(samples, ...)``: chains and draws stacked first."""
    stacked = values.stack(sample=("chain", "draw"))
    return stacked.transpose("sample", ...).to_numpy()


def _headline(result: FitResult) -> pd.DataFrame:
    table = result.estimates()
    return table[table["quantity"] == result.headline].reset_index(drop=True)


def _names(areas: list[str], table: pd.DataFrame) -> str:
    """``LC03 (Name), LC07 (Name)``, or ``none``."""
    if not areas:
        return "none"
    lookup = dict(zip(table["area"].astype(str), table["name"].astype(str), strict=False))
    return ", ".join(a if lookup.get(a, a) == a else f"{a} ({lookup[a]})" for a in areas)


def _has_pointwise(result: FitResult) -> str | None:
    """Why the stored pointwise groups cannot be used (``None`` when they can)."""
    idata = result.idata
    for group in ("log_likelihood", "posterior_predictive", "observed_data"):
        if group not in idata.children or POINTWISE not in idata[group].data_vars:
            return (
                f"the result has no pointwise '{group}' group (fitted with [fit] pointwise = "
                f"false, or by an older lcmodel); `lcmodel check` on its folder adds it from "
                f"the rebuilt model, without refitting"
            )
    return None


def _observation_areas(result: FitResult) -> np.ndarray:
    observed = result.idata["observed_data"].to_dataset()
    coord = next(c for c in observed[POINTWISE].coords if str(c).endswith(OBSERVATION_AREA))
    return observed[POINTWISE][coord].to_numpy().astype(str)


def _pointwise_tree(result: FitResult) -> xr.DataTree:
    """Posterior, log-likelihood, predictive and observed ``y_i`` only (what ArviZ reads)."""
    idata = result.idata
    groups = {
        "posterior": idata["posterior"].to_dataset(),
        "log_likelihood": idata["log_likelihood"].to_dataset()[[POINTWISE]].astype(float),
        "posterior_predictive": idata["posterior_predictive"].to_dataset()[[POINTWISE]],
        "observed_data": idata["observed_data"].to_dataset()[[POINTWISE]],
    }
    if "sample_stats" in idata.children:
        groups["sample_stats"] = idata["sample_stats"].to_dataset()
    return xr.DataTree.from_dict(groups)


@contextmanager
def _own_pareto_warnings() -> Iterator[None]:
    """ArviZ's warning about Pareto k is left out: the checks report every k themselves."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Estimated shape parameter of Pareto", category=UserWarning
        )
        yield


def _rng(result: FitResult, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(result.metadata.get("seed", 0)), 7, stream])


def _interval_text(prob: float) -> str:
    return f"{prob * 100:g}%"


# ---------------------------------------------------------------------------------------------
# area_ppc

PPC_COLUMNS = [
    "area",
    "name",
    "quantity",
    "n",
    "n_eff",
    "direct",
    "predictive_mean",
    "predictive_lower",
    "predictive_upper",
    "p_value",
    "outside",
]
"""Columns of the ``area_ppc`` table."""


def area_ppc(result: FitResult) -> Check:
    """Each area's direct estimate against its posterior predictive interval (headline)."""
    table = _headline(result)
    quantity = result.headline
    prob = result.spec.fit.interval
    surveyed = table[table["direct"].notna() & (table["n"] > 0)].reset_index(drop=True)
    values = result.posterior["area_value"].sel(quantity=quantity)
    values = _draws(values.sel(area=list(surveyed["area"])))  # (samples, areas)
    rng = _rng(result, 1)
    share = quantity.startswith("share")
    deff = surveyed["deff"].fillna(1.0).clip(lower=1e-9).to_numpy(dtype=float)
    n = surveyed["n"].to_numpy(dtype=float)
    if share:
        n_eff = np.maximum(np.round(n / deff), 1.0)
        replicated = rng.binomial(n_eff.astype(np.int64), np.clip(values, 0.0, 1.0)) / n_eff
    else:
        n_eff = n / deff
        se = surveyed["direct_se"].to_numpy(dtype=float)
        replicated = values + se * rng.standard_normal(values.shape)
    direct = surveyed["direct"].to_numpy(dtype=float)
    lower, upper = np.quantile(replicated, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    below = (replicated <= direct).mean(axis=0)
    above = (replicated >= direct).mean(axis=0)
    checked = np.isfinite(replicated).all(axis=0)
    out = pd.DataFrame(
        {
            "area": surveyed["area"].astype(str),
            "name": surveyed["name"],
            "quantity": quantity,
            "n": surveyed["n"].astype(int),
            "n_eff": n_eff,
            "direct": direct,
            "predictive_mean": replicated.mean(axis=0),
            "predictive_lower": lower,
            "predictive_upper": upper,
            "p_value": np.minimum(1.0, 2 * np.minimum(below, above)),
            "outside": checked & ((direct < lower) | (direct > upper)),
        }
    )[PPC_COLUMNS]
    flagged = list(out.loc[out["outside"], "area"])
    estimand = str(table["estimand"].iloc[0]) if "estimand" in table else ""
    note = ""
    if estimand and "sample" not in estimand and result.spec.kind != "area_level":
        note = (
            f" The model value used is the {estimand} estimate, not the value for the area's "
            f"own respondents, so the check is approximate."
        )
    expected = (1 - prob) * len(out)
    summary = (
        f"{len(flagged)} of {len(out)} surveyed areas have a direct {quantity} outside the "
        f"{_interval_text(prob)} posterior predictive interval for their own sample "
        f"(about {expected:.1f} expected by chance): {_names(flagged, out)}.{note}"
    )

    def plot() -> tuple[Figure, Any]:
        import matplotlib.pyplot as plt

        order = out.sort_values("n").reset_index(drop=True)
        fig, ax = plt.subplots(figsize=(8, 0.3 * len(order) + 1.5))
        y = np.arange(len(order))
        ax.hlines(
            y,
            order["predictive_lower"],
            order["predictive_upper"],
            color="0.6",
            lw=3,
            label=f"{_interval_text(prob)} predictive interval",
        )
        colours = np.where(order["outside"], "C3", "C0")
        ax.scatter(order["direct"], y, c=colours, zorder=3, label="direct estimate")
        ax.set_yticks(y, [f"{a} (n={k})" for a, k in zip(order["area"], order["n"], strict=True)])
        ax.set_xlabel(quantity)
        ax.set_title(f"{result.spec.name}: direct {quantity} against the posterior predictive")
        ax.legend(loc="best", fontsize="small")
        fig.tight_layout()
        return fig, ax

    return Check("area_ppc", "Posterior predictive check per area", summary, out, flagged, plot)


# ---------------------------------------------------------------------------------------------
# loo and loo_pit

LOO_COLUMNS = [
    "area",
    "name",
    "observations",
    "elpd_loo",
    "p_loo",
    "pareto_k_max",
    "pareto_k_over_0_7",
]
"""Columns of the ``loo`` table (one row per area with observations, then ``all``)."""


def _unit(result: FitResult) -> str:
    return "area estimate" if result.spec.kind == "area_level" else "answer"


def loo(result: FitResult, tree: xr.DataTree | None = None) -> tuple[Check, Any]:
    """PSIS-LOO over every observation, summed per area, with Pareto k counts."""
    import arviz as az

    tree = _pointwise_tree(result) if tree is None else tree
    with _own_pareto_warnings():
        computed = az.loo(tree, pointwise=True, var_name=POINTWISE)
    areas = _observation_areas(result)
    pointwise = pd.DataFrame(
        {
            "area": areas,
            "elpd": np.asarray(computed.elpd_i).ravel(),
            "k": np.asarray(computed.pareto_k).ravel(),
        }
    )
    names = _headline(result).set_index("area")["name"]
    by_area = pointwise.assign(bad=pointwise["k"] > PARETO_K_LIMIT).groupby("area")
    out = (
        pd.DataFrame(
            {
                "observations": by_area.size(),
                "elpd_loo": by_area["elpd"].sum(),
                "pareto_k_max": by_area["k"].max(),
                "pareto_k_over_0_7": by_area["bad"].sum().astype(int),
            }
        )
        .rename_axis("area")
        .reset_index()
    )
    out["name"] = out["area"].map(names).fillna(out["area"])
    # p_loo per area: lppd minus elpd (the total's definition, area by area)
    log_lik = tree["log_likelihood"][POINTWISE].stack(sample=("chain", "draw"))
    lppd_i = _logmeanexp(log_lik.transpose(..., "sample").to_numpy())
    out["p_loo"] = (
        pd.Series(lppd_i - pointwise["elpd"].to_numpy())
        .groupby(pointwise["area"].to_numpy())
        .sum()
        .reindex(out["area"])
        .to_numpy()
    )
    total = {
        "area": "all",
        "name": "all",
        "observations": len(pointwise),
        "elpd_loo": float(computed.elpd),
        "p_loo": float(computed.p),
        "pareto_k_max": float(pointwise["k"].max()),
        "pareto_k_over_0_7": int((pointwise["k"] > PARETO_K_LIMIT).sum()),
    }
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)[LOO_COLUMNS]
    areas_out = out[out["area"] != "all"]
    flagged = list(areas_out.loc[areas_out["pareto_k_over_0_7"] > 0, "area"])
    unit = _unit(result)
    summary = (
        f"PSIS-LOO over {len(pointwise):,} {unit}s: elpd_loo {float(computed.elpd):.1f} (se "
        f"{float(computed.se):.1f}), p_loo {float(computed.p):.1f}; "
        f"{total['pareto_k_over_0_7']} {unit}s have Pareto k above {PARETO_K_LIMIT} "
        f"(unreliable terms), in {len(flagged)} areas: {_names(flagged, areas_out)}."
    )

    def plot() -> tuple[Figure, Any]:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 3.5))
        order = pd.Categorical(pointwise["area"], categories=list(areas_out["area"]))
        x = np.arange(len(pointwise))
        bad = pointwise["k"].to_numpy() > PARETO_K_LIMIT
        ax.scatter(
            x[~bad], pointwise["k"][~bad], s=6, c=order.codes[~bad] % 10, cmap="tab10", alpha=0.6
        )
        ax.scatter(
            x[bad], pointwise["k"][bad], s=18, c="C3", marker="x", label=f"k > {PARETO_K_LIMIT}"
        )
        ax.axhline(PARETO_K_LIMIT, color="C3", ls="--", lw=1)
        ax.set_xlabel(f"{unit} (coloured by area)")
        ax.set_ylabel("Pareto k")
        ax.set_title(f"{result.spec.name}: PSIS-LOO Pareto k per {unit}")
        if bad.any():
            ax.legend(loc="best", fontsize="small")
        fig.tight_layout()
        return fig, ax

    return Check("loo", "PSIS-LOO and Pareto k", summary, out, flagged, plot), computed


def _logmeanexp(values: np.ndarray) -> np.ndarray:
    top = values.max(axis=-1, keepdims=True)
    return (top + np.log(np.exp(values - top).mean(axis=-1, keepdims=True)))[..., 0]


PIT_COLUMNS = ["area", "name", "observations", "pit_mean", "pit_z", "share_extreme", "flagged"]
"""Columns of the ``loo_pit`` table (one row per area with observations, then ``all``)."""


def loo_pit(result: FitResult, tree: xr.DataTree | None = None) -> Check:
    """LOO-PIT values: uniform when the predictions are calibrated."""
    import arviz as az
    from scipy.stats import kstest

    tree = _pointwise_tree(result) if tree is None else tree
    with _own_pareto_warnings():
        pit = az.loo_pit(tree, var_names=POINTWISE, random_state=_rng(result, 2))
    values = np.asarray(pit[POINTWISE]).ravel()
    pointwise = pd.DataFrame({"area": _observation_areas(result), "pit": values})
    names = _headline(result).set_index("area")["name"]
    pointwise["extreme"] = (pointwise["pit"] < 0.05) | (pointwise["pit"] > 0.95)
    by_area = pointwise.groupby("area")
    count = by_area.size()
    mean = by_area["pit"].mean()
    z = (mean - 0.5) / (np.sqrt(1.0 / 12.0) / np.sqrt(count))
    out = (
        pd.DataFrame(
            {
                "observations": count,
                "pit_mean": mean,
                "pit_z": z,
                "share_extreme": by_area["extreme"].mean(),
                "flagged": z.abs() > PIT_Z_LIMIT,
            }
        )
        .rename_axis("area")
        .reset_index()
    )
    out["name"] = out["area"].map(names).fillna(out["area"])
    ks = kstest(values, "uniform")
    total = {
        "area": "all",
        "name": "all",
        "observations": len(values),
        "pit_mean": float(values.mean()),
        "pit_z": float((values.mean() - 0.5) / (np.sqrt(1.0 / 12.0) / np.sqrt(len(values)))),
        "share_extreme": float(((values < 0.05) | (values > 0.95)).mean()),
        "flagged": bool(ks.pvalue < 0.01),
    }
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)[PIT_COLUMNS]
    areas_out = out[out["area"] != "all"]
    flagged = list(areas_out.loc[areas_out["flagged"].astype(bool), "area"])
    unit = _unit(result)
    summary = (
        f"LOO-PIT of {len(values):,} {unit}s: mean {values.mean():.3f} (0.5 if calibrated), "
        f"{total['share_extreme']:.1%} beyond 0.05 or 0.95 (10% if calibrated), "
        f"Kolmogorov-Smirnov p-value against uniform {ks.pvalue:.3f}. Areas whose mean PIT is "
        f"more than {PIT_Z_LIMIT:g} standard errors from 0.5 (answers predicted too high or "
        f"too low): {_names(flagged, areas_out)}."
    )

    def plot() -> tuple[Figure, Any]:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        bins = 20
        axes[0].hist(values, bins=bins, range=(0, 1), color="C0", alpha=0.7)
        expected = len(values) / bins
        band = 2.58 * np.sqrt(expected * (1 - 1 / bins))
        axes[0].axhspan(
            expected - band, expected + band, color="0.85", zorder=0, label="99% range if uniform"
        )
        axes[0].axhline(expected, color="0.3", lw=1)
        axes[0].set_xlabel("LOO-PIT")
        axes[0].set_ylabel(f"{unit}s")
        axes[0].legend(loc="best", fontsize="small")
        axes[0].set_title("all")
        y = np.arange(len(areas_out))
        colours = np.where(areas_out["flagged"].astype(bool), "C3", "C0")
        se = np.sqrt(1.0 / 12.0) / np.sqrt(areas_out["observations"].to_numpy(dtype=float))
        axes[1].fill_betweenx(
            y, 0.5 - PIT_Z_LIMIT * se, 0.5 + PIT_Z_LIMIT * se, color="0.85", step="mid"
        )
        axes[1].scatter(areas_out["pit_mean"], y, c=colours, zorder=3)
        axes[1].axvline(0.5, color="0.3", lw=1)
        axes[1].set_yticks(y, list(areas_out["area"]), fontsize="small")
        axes[1].set_xlabel(f"mean LOO-PIT per area (band: 0.5 +/- {PIT_Z_LIMIT:g} se)")
        fig.suptitle(f"{result.spec.name}: LOO-PIT calibration")
        fig.tight_layout()
        return fig, axes

    return Check("loo_pit", "LOO-PIT calibration", summary, out, flagged, plot)


# ---------------------------------------------------------------------------------------------
# direct_vs_model

DIRECT_COLUMNS = [
    "area",
    "name",
    "n",
    "direct",
    "direct_se",
    "model",
    "model_sd",
    "direct_cv",
    "model_cv",
    "cv_ratio",
    "model_less_precise",
]
"""Columns of the ``direct_vs_model`` table (one row per area of the estimates)."""


def direct_vs_model(result: FitResult) -> Check:
    """Direct against model estimates, and both coefficients of variation against ``n``."""
    table = _headline(result)
    quantity = result.headline
    direct_cv = table["direct_se"] / table["direct"].abs()
    out = pd.DataFrame(
        {
            "area": table["area"].astype(str),
            "name": table["name"],
            "n": table["n"].astype(int),
            "direct": table["direct"],
            "direct_se": table["direct_se"],
            "model": table["mean"],
            "model_sd": table["sd"],
            "direct_cv": direct_cv.replace([np.inf, -np.inf], np.nan),
            "model_cv": table["cv"],
        }
    )
    out["cv_ratio"] = out["model_cv"] / out["direct_cv"]
    # a direct se of 0 (a share of 0 or 1) says nothing about precision
    usable = out["direct_se"] > 0
    out["model_less_precise"] = usable & (out["model_cv"] > CV_TOLERANCE * out["direct_cv"])
    out = out[DIRECT_COLUMNS]
    flagged = list(out.loc[out["model_less_precise"], "area"])
    both = out[out["direct_se"] > 0].dropna(subset=["direct_cv", "model_cv"])
    summary = (
        f"Model {quantity} against direct estimates in {int(out['direct'].notna().sum())} "
        f"surveyed areas; the model's coefficient of variation is a median "
        f"{np.nanmedian(both['cv_ratio']) if len(both) else float('nan'):.2f} times the direct "
        f"one. Areas where the model's CV is over {CV_TOLERANCE:g} times the direct one "
        f"(the model less precise than the direct estimate, whose se is above 0): "
        f"{_names(flagged, out)}."
    )

    def plot() -> tuple[Figure, Any]:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        shown = out.dropna(subset=["direct"])
        size = 10 + 60 * shown["n"] / max(shown["n"].max(), 1)
        axes[0].scatter(shown["direct"], shown["model"], s=size, alpha=0.7)
        low = float(np.nanmin([shown["direct"].min(), shown["model"].min()]))
        high = float(np.nanmax([shown["direct"].max(), shown["model"].max()]))
        axes[0].plot([low, high], [low, high], color="0.3", lw=1, label="45-degree line")
        axes[0].set_xlabel(f"direct {quantity}")
        axes[0].set_ylabel(f"model {quantity}")
        axes[0].legend(loc="best", fontsize="small")
        axes[0].set_title("direct vs model (size: n)")
        order = out.sort_values("n")
        axes[1].plot(order["n"], order["direct_cv"], "o", label="direct", color="C1")
        axes[1].plot(order["n"], order["model_cv"], "s", label="model", color="C0")
        axes[1].axhline(result.spec.fit.cv_caution, color="0.5", ls=":", lw=1)
        axes[1].axhline(result.spec.fit.cv_suppress, color="0.5", ls="--", lw=1)
        axes[1].set_xscale("log")
        axes[1].set_xlabel("respondents in the area (n)")
        axes[1].set_ylabel("coefficient of variation")
        axes[1].legend(loc="best", fontsize="small")
        axes[1].set_title("CV against sample size")
        fig.suptitle(f"{result.spec.name}: direct and model estimates")
        fig.tight_layout()
        return fig, axes

    return Check("direct_vs_model", "Direct against model estimates", summary, out, flagged, plot)


# ---------------------------------------------------------------------------------------------
# area_effects_qq

QQ_COLUMNS = [
    "area",
    "name",
    "n",
    "effect",
    "standardised",
    "standardised_lower",
    "standardised_upper",
    "normal_quantile",
    "outlying",
]
"""Columns of the ``area_effects_qq`` table (one row per surveyed area, by effect)."""


def area_effects_qq(result: FitResult) -> Check:
    """The areas' standardised effects against the quantiles of their normal prior."""
    from scipy.stats import norm

    posterior = result.posterior
    table = _headline(result)
    surveyed = table[table["in_sample"].astype(bool)]
    areas = list(surveyed["area"].astype(str))
    effect = posterior["area_effect"].sel(area=areas)
    sigma = posterior["sigma_area"]
    standardised = _draws(effect / sigma)
    prob = result.spec.fit.interval
    mean = standardised.mean(axis=0)
    lower, upper = np.quantile(standardised, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    out = pd.DataFrame(
        {
            "area": areas,
            "name": surveyed["name"].to_numpy(),
            "n": surveyed["n"].astype(int).to_numpy(),
            "effect": _draws(effect).mean(axis=0),
            "standardised": mean,
            "standardised_lower": lower,
            "standardised_upper": upper,
        }
    ).sort_values("standardised", ignore_index=True)
    count = len(out)
    out["normal_quantile"] = norm.ppf((np.arange(1, count + 1) - 0.375) / (count + 0.25))
    out["outlying"] = out["standardised"].abs() > QQ_LIMIT
    out = out[QQ_COLUMNS]
    flagged = list(out.loc[out["outlying"], "area"])
    summary = (
        f"The {count} surveyed areas' effects, standardised by sigma_area, against their "
        f"normal prior: a straight line means the prior's shape fits. Areas with a standardised "
        f"effect beyond +/-{QQ_LIMIT:g} (posterior mean): {_names(flagged, out)}."
    )

    def plot() -> tuple[Figure, Any]:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.5, 5))
        colours = np.where(out["outlying"], "C3", "C0")
        ax.vlines(
            out["normal_quantile"],
            out["standardised_lower"],
            out["standardised_upper"],
            color="0.75",
            lw=2,
        )
        ax.scatter(out["normal_quantile"], out["standardised"], c=colours, zorder=3)
        edge = float(
            max(3.0, np.abs(out[["standardised_lower", "standardised_upper"]]).max().max())
        )
        ax.plot([-edge, edge], [-edge, edge], color="0.3", lw=1)
        for _, row in out[out["outlying"]].iterrows():
            ax.annotate(
                row["area"],
                (row["normal_quantile"], row["standardised"]),
                xytext=(4, 0),
                textcoords="offset points",
                fontsize="small",
            )
        ax.set_xlabel("normal quantile")
        ax.set_ylabel(f"standardised area effect ({_interval_text(prob)} interval)")
        ax.set_title(f"{result.spec.name}: area effects against their prior")
        fig.tight_layout()
        return fig, ax

    return Check("area_effects_qq", "Area effects against their prior", summary, out, flagged, plot)


# ---------------------------------------------------------------------------------------------
# prior_sensitivity

PSENSE_COLUMNS = ["parameter", "prior", "likelihood", "diagnosis"]
"""Columns of the ``prior_sensitivity`` table (one row per parameter element)."""


def _diagnosis(prior: float, likelihood: float) -> str:
    if prior >= PSENSE_THRESHOLD and likelihood >= PSENSE_THRESHOLD:
        return "prior-data conflict"
    if prior >= PSENSE_THRESHOLD:
        return "prior-dominated"
    if likelihood >= PSENSE_THRESHOLD:
        return "likelihood-dominated"
    return "insensitive"


def _sensitivity_parameters(result: FitResult) -> list[str]:
    """The model's parameters: free variables other than standardised offsets and per-area ones."""
    posterior = result.posterior
    names = list(result.idata["log_prior"].data_vars)
    return [
        str(v)
        for v in names
        if v in posterior
        and not str(v).startswith("z_")
        and "area" not in posterior[v].dims
        and not str(v).endswith(("_centred", "_noncentred", "_balance"))
    ]


def prior_sensitivity(result: FitResult) -> Check:
    """Power-scaling sensitivity of each parameter to its prior and to the likelihood."""
    import arviz as az

    idata = result.idata
    parameters = _sensitivity_parameters(result)
    tree = xr.DataTree.from_dict(
        {
            "posterior": idata["posterior"].to_dataset()[parameters],
            "log_likelihood": idata["log_likelihood"].to_dataset()[[POINTWISE]].astype(float),
            "log_prior": idata["log_prior"].to_dataset(),
        }
    )
    # only the parameters' own priors are power-scaled, not the standard-normal offsets of the
    # hierarchical effects (which act as part of the likelihood for sigma_area)
    with _own_pareto_warnings():
        prior = az.psense(tree, group="prior", group_var_names=parameters)
        likelihood = az.psense(tree, group="likelihood")
    rows = []
    for name in parameters:
        p, lik = prior[name], likelihood[name]
        extra = [d for d in p.dims]
        if not extra:
            rows.append((name, float(p), float(lik)))
            continue
        stacked_p = p.stack(element=extra)
        stacked_l = lik.stack(element=extra)
        for i, label in enumerate(stacked_p["element"].to_numpy()):
            label = label if isinstance(label, tuple) else (label,)
            text = ", ".join(str(x) for x in label)
            rows.append((f"{name}[{text}]", float(stacked_p[i]), float(stacked_l[i])))
    out = pd.DataFrame(rows, columns=["parameter", "prior", "likelihood"])
    out["diagnosis"] = [
        _diagnosis(p, lik) for p, lik in zip(out["prior"], out["likelihood"], strict=True)
    ]
    out = out[PSENSE_COLUMNS]
    flagged = list(
        out.loc[out["diagnosis"].isin(["prior-data conflict", "prior-dominated"]), "parameter"]
    )
    conflict = list(out.loc[out["diagnosis"] == "prior-data conflict", "parameter"])
    dominated = list(out.loc[out["diagnosis"] == "prior-dominated", "parameter"])
    summary = (
        f"Power-scaling sensitivity of {len(out)} parameters to their own priors and to the "
        f"likelihood (at or above {PSENSE_THRESHOLD:g} "
        f"the component matters): prior-data conflict in "
        f"{', '.join(conflict) or 'none'}; prior-dominated (weak likelihood) "
        f"{', '.join(dominated) or 'none'}; the others are likelihood-dominated or "
        f"insensitive."
    )

    def plot() -> tuple[Figure, Any]:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 5))
        colours = {
            "prior-data conflict": "C3",
            "prior-dominated": "C1",
            "likelihood-dominated": "C0",
            "insensitive": "0.5",
        }
        for diagnosis, part in out.groupby("diagnosis"):
            ax.scatter(
                part["likelihood"], part["prior"], c=colours[str(diagnosis)], label=str(diagnosis)
            )
        for _, row in out[out["parameter"].isin(flagged)].iterrows():
            ax.annotate(
                row["parameter"],
                (row["likelihood"], row["prior"]),
                xytext=(4, 2),
                textcoords="offset points",
                fontsize="x-small",
            )
        ax.axhline(PSENSE_THRESHOLD, color="0.5", ls="--", lw=1)
        ax.axvline(PSENSE_THRESHOLD, color="0.5", ls="--", lw=1)
        ax.set_xlabel("likelihood sensitivity")
        ax.set_ylabel("prior sensitivity")
        ax.set_title(f"{result.spec.name}: power-scaling sensitivity")
        ax.legend(loc="best", fontsize="small")
        fig.tight_layout()
        return fig, ax

    return Check(
        "prior_sensitivity", "Prior sensitivity (power-scaling)", summary, out, flagged, plot
    )


# ---------------------------------------------------------------------------------------------
# score_distribution

SCORE_COLUMNS = ["score", "observed", "mean", "lower", "upper", "outside"]
"""Columns of the ``score_distribution`` table (one row per score)."""


def _scores(result: FitResult) -> tuple[np.ndarray, np.ndarray, np.ndarray] | str:
    """Scores, observed scores and replicated scores (samples, answers), or why not."""
    spec = result.spec
    family = getattr(getattr(spec, "outcome", None), "family", None)
    if family not in ("ordinal", "gaussian"):
        return "it needs an ordinal or gaussian outcome (scores)"
    observed = result.idata["observed_data"][POINTWISE].to_numpy()
    replicated = _draws(result.idata["posterior_predictive"][POINTWISE])
    if family == "ordinal":
        labels = list(spec.outcome.category_labels)
        if not all(str(c).lstrip("-").isdigit() for c in labels):
            return "it needs numeric categories (such as 0-10); these are labels"
        scores = np.array([float(c) for c in labels])
        return scores, scores[observed.astype(int)], scores[replicated.astype(int)]
    if not np.all(observed == np.round(observed)):
        return "it needs whole-number answers"
    scores = np.arange(observed.min(), observed.max() + 1.0)
    # a replicated answer is read as the nearest score on the scale (the ends are open)
    replicated = np.clip(np.round(replicated), scores[0], scores[-1])
    return scores, observed, replicated


def score_distribution(result: FitResult) -> Check | str:
    """Observed against replicated share of each score (or why there is no such check)."""
    found = _scores(result)
    if isinstance(found, str):
        return found
    scores, observed, replicated = found
    total = len(observed)
    counts = np.array([(observed == s).sum() for s in scores], dtype=float)
    shares = np.stack([(replicated == s).mean(axis=1) for s in scores], axis=1)  # (samples, k)
    prob = result.spec.fit.interval
    lower, upper = np.quantile(shares, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    expected = np.clip(total * shares.mean(axis=0), 1e-9, None)
    d_observed = ((counts - expected) ** 2 / expected).sum()
    d_replicated = ((total * shares - expected) ** 2 / expected).sum(axis=1)
    p_value = float((d_replicated >= d_observed).mean())
    share = counts / total
    out = pd.DataFrame(
        {
            "score": scores,
            "observed": share,
            "mean": shares.mean(axis=0),
            "lower": lower,
            "upper": upper,
            "outside": (share < lower) | (share > upper),
        }
    )[SCORE_COLUMNS]
    total_variation = float(0.5 * np.abs(shares - share).sum(axis=1).mean())
    flagged = [f"{s:g}" for s in out.loc[out["outside"], "score"]]
    summary = (
        f"Observed against replicated share of each score over {total:,} answers: mean total "
        f"variation distance {total_variation:.3f}, posterior predictive p-value of the "
        f"chi-square discrepancy {p_value:.2f} (near 0: the model does not reproduce the "
        f"distribution of answers). Scores outside their {_interval_text(prob)} interval: "
        f"{', '.join(flagged) or 'none'}."
    )

    def plot() -> tuple[Figure, Any]:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 3.8))
        ax.bar(out["score"], out["observed"], color="0.8", label="observed")
        ax.errorbar(
            out["score"],
            out["mean"],
            yerr=[out["mean"] - out["lower"], out["upper"] - out["mean"]],
            fmt="o",
            color="C0",
            label=f"replicated ({_interval_text(prob)})",
        )
        ax.set_xlabel("score")
        ax.set_ylabel("share of answers")
        ax.set_title(f"{result.spec.name}: distribution of scores")
        ax.legend(loc="best", fontsize="small")
        fig.tight_layout()
        return fig, ax

    statistics = {"total_variation": total_variation, "p_value": p_value}
    return Check(
        "score_distribution", "Distribution of scores", summary, out, flagged, plot, statistics
    )


# ---------------------------------------------------------------------------------------------


def model_checks(result: FitResult) -> ModelChecks:
    """Every check a result's saved posterior allows (see the module docstring).

    Parameters
    ----------
    result
        A unit-level or Fay-Herriot result (or one indicator of a joint result).

    Returns
    -------
    ModelChecks
        The checks run, in the order of :data:`CHECK_NAMES`, and those not run with why.
    """
    found: dict[str, Check] = {}
    missing: dict[str, str] = {}
    found["area_ppc"] = area_ppc(result)
    found["direct_vs_model"] = direct_vs_model(result)
    if {"area_effect", "sigma_area"} <= set(result.posterior.data_vars):
        found["area_effects_qq"] = area_effects_qq(result)
    else:
        missing["area_effects_qq"] = "the posterior has no area_effect and sigma_area"
    why = _has_pointwise(result)
    if why is None:
        tree = _pointwise_tree(result)
        found["loo"], _ = loo(result, tree)
        found["loo_pit"] = loo_pit(result, tree)
        if "log_prior" in result.idata.children:
            found["prior_sensitivity"] = prior_sensitivity(result)
        else:
            missing["prior_sensitivity"] = "the result has no log_prior group"
        scores = score_distribution(result)
        if isinstance(scores, str):
            if getattr(getattr(result.spec, "outcome", None), "family", None) in SCORED:
                missing["score_distribution"] = scores
        else:
            found["score_distribution"] = scores
    else:
        for name in ("loo_pit", "loo", "prior_sensitivity", "score_distribution"):
            missing[name] = why
    checks = [found[name] for name in CHECK_NAMES if name in found]
    return ModelChecks(str(result.spec.name), checks, missing)
