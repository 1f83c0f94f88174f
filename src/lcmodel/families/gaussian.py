"""Continuous outcomes: the unit-level nested-error model (Battese, Harter and Fuller 1988).

``y = eta + e`` with ``e ~ Normal(0, sigma)``, where ``eta`` holds the covariates and the area
effect. Respondents sharing a cell (possible only without numeric covariates) are summarised
without loss by their count ``n``, mean ``ybar`` and within-cell sum of squares ``SS``: the
likelihood of the individual answers factorises as ``ybar ~ Normal(eta, sigma / sqrt(n))``
times ``sigma^-(n - 1) exp(-SS / (2 sigma^2))`` (a potential in ``sigma`` alone), which gives the
same posterior as the row-level likelihood.

Bands (``outcome.bands``) report the share of answers in score ranges, for example the ONS
wellbeing thresholds: answers are treated as rounded to whole numbers and clipped to the scale,
so a band ``[low, high]`` has probability ``P(low - 0.5 < y <= high + 0.5)`` under the model,
with the lowest band open below and the highest open above.

Priors are scaled to the data (the outcome's sample mean and sd), so the defaults are weakly
informative whatever the outcome's units.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from lcmodel.errors import DataError, first_rows, shown
from lcmodel.families.base import UNIT, Family, Quantity
from lcmodel.spec.priors import PriorSpec, PriorTerm

if TYPE_CHECKING:
    from lcmodel.design.cells import Cells

__all__ = ["GaussianFamily"]


class GaussianFamily(Family):
    """Normal outcome with identity link."""

    name: ClassVar[str] = "gaussian"
    link_scale: ClassVar[bool] = False
    parameters: ClassVar[tuple[str, ...]] = ("sigma",)

    @property
    def count_columns(self) -> list[str]:
        """Sum and sum of squares of the outcome (cells add them up)."""
        return ["y", "y2"]

    def quantities(self) -> list[Quantity]:
        """The area mean, then the share in each band the spec names."""
        return [Quantity("mean", "mean")] + [
            Quantity(f"share:{band}", "share") for band in self.outcome.bands
        ]

    def _edges(self) -> np.ndarray:
        """Band edges of the spec's bands (see :func:`band_edges`)."""
        return band_edges(list(self.outcome.bands.values()))

    def band_probabilities(self, eta: Any, params: dict[str, Any], bands: list) -> Any:
        """Probability of each band ``[low, high]`` (whole-number answers) per unit.

        Parameters
        ----------
        eta
            Expected answers, one per unit.
        params
            The family's parameters (``sigma``).
        bands
            ``[low, high]`` per band; the lowest band is open below, the highest above.
        """
        edges = band_edges(bands)
        z_high = (edges[None, :, 1] - eta[:, None]) / params["sigma"]
        z_low = (edges[None, :, 0] - eta[:, None]) / params["sigma"]
        return _normal_cdf(z_high) - _normal_cdf(z_low)

    def encode(self, answers: pd.Series, source: str) -> pd.DataFrame:
        """Numeric answers (and their squares), rejecting text and infinities."""
        values = pd.to_numeric(answers, errors="coerce")
        bad = values.isna() | ~np.isfinite(values)
        if bad.any():
            rows = answers.index.to_numpy()[np.flatnonzero(bad.to_numpy())]
            raise DataError(
                f"{source}: column '{self.outcome.column}' must hold numbers for the gaussian "
                f"family, not {shown(answers[bad].iloc[0])} ({first_rows(list(rows))}). Fix or "
                f"blank those values."
            )
        y = values.to_numpy(dtype=float)
        return pd.DataFrame({"y": y, "y2": y**2}, index=answers.index)

    def scale(self, counts: pd.DataFrame) -> float:
        """The outcome's sample sd."""
        sd = float(np.std(counts["y"], ddof=1)) if len(counts) > 1 else 0.0
        if not sd > 0:
            raise DataError(
                f"column '{self.outcome.column}' has the same value for every respondent; "
                f"there is nothing to model"
            )
        return sd

    def information(self, counts: pd.DataFrame) -> float:
        """``1 / var(y)``: a respondent's information about an area mean."""
        return 1.0 / self.scale(counts) ** 2

    def prior_terms(self, counts: pd.DataFrame) -> list[PriorTerm]:
        """Intercept centred on the sample mean, residual sd on the outcome's scale."""
        mean = float(np.mean(counts["y"]))
        sd = self.scale(counts)
        return [
            PriorTerm(
                "intercept",
                PriorSpec(dist="Normal", mu=round(mean, 6), sigma=round(2.5 * sd, 6)),
                "real",
                "mean of an average respondent: centred on the sample mean, sd 2.5 sample sds",
            ),
            PriorTerm(
                "sigma",
                PriorSpec(dist="HalfNormal", sigma=round(sd, 6)),
                "positive",
                "residual (within-area) sd: half-normal with scale one sample sd",
            ),
        ]

    def add_parameters(self, priors: dict[str, PriorSpec]) -> dict[str, Any]:
        """The residual sd."""
        return {"sigma": priors["sigma"].build("sigma")}

    def add_likelihood(
        self, eta: Any, units: Cells, params: dict[str, Any], dim: Callable[[str], str]
    ) -> None:
        """Normal rows, or cell means plus within-cell sums of squares."""
        import pymc as pm

        sigma = params["sigma"]
        n = units.trials.astype(float)
        total, squares = units.counts[:, 0], units.counts[:, 1]
        if np.all(units.trials == 1):
            pm.Normal("y", mu=eta, sigma=sigma, observed=total, dims=dim(UNIT))
            return
        mean = total / n
        pm.Normal("y", mu=eta, sigma=sigma / np.sqrt(n), observed=mean, dims=dim(UNIT))
        within = np.maximum(squares - n * mean**2, 0.0)
        if np.any(units.trials >= 2):
            # what the rows' likelihood holds beyond the cell means: a term in sigma only
            pm.Potential(
                "y_within",
                -(n - 1.0).sum() * pm.math.log(sigma) - within.sum() / (2.0 * sigma**2),
            )

    def expected_quantities(self, eta: Any, params: dict[str, Any]) -> Any:
        """The expected outcome, then the probability of each band."""
        import pytensor.tensor as pt

        columns = [eta[:, None]]
        if self.outcome.bands:
            bands = list(self.outcome.bands.values())
            columns.append(self.band_probabilities(eta, params, bands))
        return pt.concatenate(columns, axis=1)

    def respondent_values(self, counts: pd.DataFrame) -> np.ndarray:
        """Each respondent's outcome, then whether it falls in each band."""
        y = counts["y"].to_numpy(dtype=float)
        edges = self._edges()
        inside = (y[:, None] > edges[None, :, 0]) & (y[:, None] <= edges[None, :, 1])
        return np.column_stack([y, inside.astype(float)])

    def predictive_totals(
        self,
        rng: np.random.Generator,
        expected: np.ndarray,
        remaining: np.ndarray,
        params: dict[str, np.ndarray],
    ) -> np.ndarray:
        """Sums of the remaining units' answers, and counts of them in each band.

        The sum of ``m`` independent ``Normal(eta, sigma)`` answers is
        ``Normal(m eta, sqrt(m) sigma)``; each band's count is ``Binomial(m, P(band))``,
        drawn separately (each quantity's distribution is exact; draws of the mean and of
        the band counts are not tied to the same simulated units).
        """
        m = remaining.astype(float)[None, :]
        sigma = np.asarray(params["sigma"], dtype=float).reshape(-1, 1)
        out = np.empty_like(expected, dtype=float)
        mean = expected[..., 0]
        out[..., 0] = m * mean + np.sqrt(m) * sigma * rng.standard_normal(mean.shape)
        if expected.shape[-1] > 1:
            n = np.broadcast_to(remaining.astype(np.int64)[None, :, None], expected[..., 1:].shape)
            out[..., 1:] = rng.binomial(n, np.clip(expected[..., 1:], 0.0, 1.0))
        return out


def _normal_cdf(z: Any) -> Any:
    """Standard normal CDF that accepts infinite arguments (band edges)."""
    import pytensor.tensor as pt

    return 0.5 * pt.erfc(-z / np.sqrt(2.0))


def band_edges(bands: list) -> np.ndarray:
    """Edges of bands ``[low, high]`` of whole-number answers, shape ``(bands, 2)``.

    Answers are rounded, so a band runs half a unit beyond its ends; the lowest band is open
    below and the highest above, so that bands covering every score sum to 1.
    """
    bands = np.array(bands, dtype=float).reshape(-1, 2)
    edges = bands + np.array([-0.5, 0.5])
    if len(bands):
        edges[bands[:, 0] == bands[:, 0].min(), 0] = -np.inf
        edges[bands[:, 1] == bands[:, 1].max(), 1] = np.inf
    return edges
