"""Convergence diagnostics and the gates a fit must pass (DESIGN section 4).

Gates: rank-normalised split R-hat <= 1.01, bulk and tail ESS >= 400, no divergent
transitions, and E-BFMI >= 0.3 in every chain. They are checked on every sampled parameter
and on the area values.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["APPROXIMATE_LABELS", "Diagnostics", "Thresholds", "compute_diagnostics"]

APPROXIMATE_LABELS = {"advi": "ADVI, approximate"}
"""How each approximate method is labelled in every table and file a fit writes."""


@dataclass(frozen=True)
class Thresholds:
    """Limits a fit must meet to pass."""

    rhat_max: float = 1.01
    ess_min: float = 400.0
    bfmi_min: float = 0.3
    divergences_max: int = 0


@dataclass(frozen=True)
class Diagnostics:
    """Summary of a fit's convergence, and whether it passes the gates.

    Attributes
    ----------
    max_rhat, min_ess_bulk, min_ess_tail
        Worst values over all checked quantities.
    n_divergent
        Divergent transitions after tuning.
    min_bfmi
        Lowest per-chain E-BFMI (NaN when the sampler gives no energy).
    failures
        One sentence per failed gate (empty when the fit passes).
    worst
        The checked quantities with the lowest bulk ESS (name, R-hat, bulk, tail ESS).
    """

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    n_divergent: int
    min_bfmi: float
    draws: int
    chains: int
    thresholds: Thresholds = field(default_factory=Thresholds)
    failures: tuple[str, ...] = ()
    worst: tuple[dict[str, Any], ...] = ()
    method: str = "nuts"

    @classmethod
    def of_approximation(cls, method: str, draws: int) -> Diagnostics:
        """The gate of an approximate fit: failed, as its draws are not the posterior's.

        An approximation (``[fit] method = "advi"``) has no R-hat, ESS, divergences or E-BFMI
        to check, and nothing measures how far it is from the posterior, so it never passes:
        its estimates are for exploration, and say so (``diagnostics_ok = False``).
        """
        nan = float("nan")
        return cls(
            max_rhat=nan,
            min_ess_bulk=nan,
            min_ess_tail=nan,
            n_divergent=0,
            min_bfmi=nan,
            draws=draws,
            chains=1,
            failures=(
                f"approximate fit ({APPROXIMATE_LABELS[method]}): its draws come from an "
                f"approximation of the posterior, which no convergence check can vouch for",
            ),
            method=method,
        )

    @property
    def approximate(self) -> bool:
        """Whether the draws come from an approximation (not from NUTS)."""
        return self.method != "nuts"

    @property
    def passed(self) -> bool:
        """Whether every gate passes."""
        return not self.failures

    @property
    def more_draws_may_help(self) -> bool:
        """Whether the fit fails on R-hat or ESS alone, which longer chains can cure.

        Divergences, a low E-BFMI, a single chain or a quantity with no R-hat say the geometry
        or the set-up is wrong; more draws of the same sampler do not fix those.
        """
        mixing = ("R-hat above", "bulk ESS below", "tail ESS below")
        return not self.passed and all(f.startswith(mixing) for f in self.failures)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (``passed`` included)."""
        out = asdict(self)
        out["passed"] = self.passed
        out["failures"] = list(self.failures)
        out["worst"] = list(self.worst)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnostics:
        """Rebuild from :meth:`to_dict` output."""
        data = {k: float("nan") if v is None else v for k, v in data.items()}
        data.pop("passed", None)
        data["thresholds"] = Thresholds(**data["thresholds"])
        data["failures"] = tuple(data["failures"])
        data["worst"] = tuple(data["worst"])
        return cls(**data)

    def message(self) -> str:
        """One paragraph saying whether the fit passed and, if not, what to do."""
        summary = (
            f"max R-hat {self.max_rhat:.3f}, min bulk ESS {self.min_ess_bulk:.0f}, "
            f"min tail ESS {self.min_ess_tail:.0f}, {self.n_divergent} divergences, "
            f"min E-BFMI {self.min_bfmi:.2f} ({self.chains} chains x {self.draws} draws)"
        )
        if self.passed:
            return f"Diagnostics passed: {summary}."
        if self.approximate:
            return (
                f"APPROXIMATE: {self.failures[0]}. Its intervals can be too narrow or too "
                f"wide (docs/scaling.md compares them with NUTS's); use it to explore, and "
                f"refit with method = 'nuts' before reporting."
            )
        return (
            f"Diagnostics FAILED: {'; '.join(self.failures)}. Overall: {summary}. Estimates "
            f"from this run are not reliable. Try more draws and tuning (--draws, --tune), "
            f"more chains, or a higher target_accept in [fit]; divergences usually mean the "
            f"priors or the model structure need a look."
        )


def compute_diagnostics(
    idata: xr.DataTree, var_names: list[str], thresholds: Thresholds | None = None
) -> Diagnostics:
    """Compute R-hat, ESS, divergences and E-BFMI and check them against ``thresholds``.

    Parameters
    ----------
    idata
        Posterior from the sampler (groups ``posterior`` and ``sample_stats``).
    var_names
        Variables to check (sampled parameters and the area values).
    thresholds
        Gates; the defaults of :class:`Thresholds` when omitted.
    """
    import arviz as az

    thresholds = thresholds or Thresholds()
    posterior = idata["posterior"]
    chains = int(posterior.sizes["chain"])
    draws = int(posterior.sizes["draw"])
    with constants_allowed():
        table = az.summary(idata, var_names=var_names, kind="diagnostics", round_to="none")
    table = table[["r_hat", "ess_bulk", "ess_tail"]].astype(float)
    stats = idata["sample_stats"] if "sample_stats" in idata.children else None
    failures = []
    n_divergent = 0
    if stats is not None and "diverging" in stats.data_vars:
        n_divergent = int(stats["diverging"].values.sum())
    else:
        failures.append("the sampler reported no divergence information, so it was not checked")
    min_bfmi = float("nan")
    if stats is not None and "energy" in stats.data_vars and draws > 1:
        min_bfmi = float(np.min(az.bfmi(idata)["energy"].values))

    max_rhat = float(table["r_hat"].max()) if chains > 1 else float("nan")
    min_bulk = float(table["ess_bulk"].min())
    min_tail = float(table["ess_tail"].min())
    unknown = table.index[table.isna().any(axis=1)]
    if len(unknown):
        # a quantity that is constant across draws (an area fully enumerated by the finite-
        # population correction) has no R-hat or ESS, and nothing to converge
        sd = az.summary(idata, var_names=var_names, kind="stats", round_to="none")["sd"]
        unknown = unknown[sd.reindex(unknown).to_numpy() != 0]
    if chains >= 2 and len(unknown):
        failures.append(
            f"R-hat or ESS could not be computed for {len(unknown)} quantities "
            f"(first: {unknown[0]}); they may be constant across draws"
        )
    if chains < 2:
        failures.append("R-hat cannot be checked with one chain; run at least 2 chains")
    elif not max_rhat <= thresholds.rhat_max:
        bad = table.index[table["r_hat"] > thresholds.rhat_max]
        failures.append(
            f"R-hat above {thresholds.rhat_max} for {len(bad)} quantities "
            f"(worst {table['r_hat'].idxmax()} = {max_rhat:.3f})"
        )
    for column, label, worst in [("ess_bulk", "bulk", min_bulk), ("ess_tail", "tail", min_tail)]:
        if not worst >= thresholds.ess_min:
            bad = table.index[table[column] < thresholds.ess_min]
            failures.append(
                f"{label} ESS below {thresholds.ess_min:.0f} for {len(bad)} quantities "
                f"(worst {table[column].idxmin()} = {worst:.0f})"
            )
    if n_divergent > thresholds.divergences_max:
        failures.append(f"{n_divergent} divergent transitions after tuning")
    if not np.isnan(min_bfmi) and min_bfmi < thresholds.bfmi_min:
        failures.append(f"E-BFMI {min_bfmi:.2f} below {thresholds.bfmi_min} in some chain")
    worst_rows = table.sort_values("ess_bulk").head(5)
    worst = tuple(
        {"name": str(name), **{k: float(v) for k, v in row.items()}}
        for name, row in worst_rows.iterrows()
    )
    return Diagnostics(
        max_rhat=max_rhat,
        min_ess_bulk=min_bulk,
        min_ess_tail=min_tail,
        n_divergent=n_divergent,
        min_bfmi=min_bfmi,
        draws=draws,
        chains=chains,
        thresholds=thresholds,
        failures=tuple(failures),
        worst=worst,
    )


def summary_table(idata: xr.DataTree, var_names: list[str], prob: float, kind: str) -> pd.DataFrame:
    """Posterior summary (mean, sd, interval, R-hat, ESS) of ``var_names``.

    Parameters
    ----------
    idata
        Posterior.
    var_names
        Variables to summarise.
    prob
        Interval probability.
    kind
        ``"eti"`` (equal-tailed) or ``"hdi"``.
    """
    import arviz as az

    with constants_allowed():
        return az.summary(
            idata, var_names=var_names, kind="all", ci_prob=prob, ci_kind=kind, round_to="none"
        )


@contextmanager
def constants_allowed() -> Iterator[None]:
    """Silence the 0/0 warnings R-hat and ESS raise for a quantity constant across draws.

    A fully enumerated area (every resident sampled) has a finite-population value known
    exactly; its R-hat and ESS are NaN, which :func:`compute_diagnostics` accounts for.
    """
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        warnings.filterwarnings("ignore", "divide by zero encountered", RuntimeWarning)
        yield
