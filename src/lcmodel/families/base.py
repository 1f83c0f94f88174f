"""The interface every outcome family implements.

A family knows how to turn a survey column into outcome counts (validating the answers), which
parameters of its own it has (cutpoints, a residual sd), how to write the likelihood of the
counts given the linear predictor, and which area quantities it reports (a share, the share in
each category, a mean score) and their expected value for one respondent. Everything else (data
validation, the linear predictor, fitting, estimates, files) is shared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

from lcmodel.discovery import register
from lcmodel.spec import OutcomeSpec
from lcmodel.spec.priors import PriorSpec, PriorTerm

if TYPE_CHECKING:
    from lcmodel.design.cells import Cells

UNIT = "cell"
"""Dimension name of the likelihood's observation units (cells, or respondent rows)."""

__all__ = ["FAMILIES", "Family", "Quantity"]


@dataclass(frozen=True)
class Quantity:
    """An area quantity a family reports: its name and whether it is a share or a mean."""

    name: str
    kind: Literal["share", "mean"]


FAMILIES: dict[str, type[Family]] = {}
"""The family class of each name, filled as the classes are defined."""


class Family(ABC):
    """An outcome family: coding, parameters, likelihood and area quantities."""

    name: ClassVar[str]
    """Name used in specs (``family = "..."``)."""

    link_scale: ClassVar[bool] = True
    """Whether effects live on a fixed link scale (logit); otherwise on the outcome's scale."""

    has_intercept: ClassVar[bool] = True
    """Whether the linear predictor has an intercept (ordinal cutpoints absorb it)."""

    parameters: ClassVar[tuple[str, ...]] = ()
    """Names of the family's own parameters that :meth:`predictive_totals` needs."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in vars(cls):  # a family of its own, not a variant that keeps its parent's
            register(FAMILIES, cls.name, cls, "family")

    def __init__(self, outcome: OutcomeSpec) -> None:
        self.outcome = outcome

    @property
    @abstractmethod
    def count_columns(self) -> list[str]:
        """Columns of per-respondent counts that :meth:`encode` returns and cells sum."""

    @abstractmethod
    def quantities(self) -> list[Quantity]:
        """The area quantities this family reports, in order."""

    def headline(self) -> str:
        """The quantity shown first (terminal table, forest plot, summary sentence)."""
        return self.quantities()[0].name

    @abstractmethod
    def encode(self, answers: pd.Series, source: str) -> pd.DataFrame:
        """Turn the non-missing answers of the outcome column into count columns.

        Parameters
        ----------
        answers
            The outcome column with missing answers already removed (index = row positions).
        source
            File name for error messages.

        Raises
        ------
        DataError
            When an answer cannot be coded (unknown label, value out of range).
        """

    def coords(self) -> dict[str, list[str]]:
        """Extra model coordinates the family needs (e.g. its categories)."""
        return {}

    def scale(self, counts: pd.DataFrame) -> float:
        """Scale of effects: 1 on a link scale, the outcome's sd for Gaussian outcomes."""
        return 1.0

    @abstractmethod
    def information(self, counts: pd.DataFrame) -> float:
        """Fisher information of one respondent about an area's effect, on the link scale.

        Used to choose, per area, a centred or non-centred area effect: an area of ``n``
        respondents carries about ``n`` times this much information about its own effect.

        Parameters
        ----------
        counts
            Every respondent's count columns.
        """

    def prior_terms(self, counts: pd.DataFrame) -> list[PriorTerm]:
        """The family's own terms (intercept, cutpoints, residual sd) with default priors.

        Parameters
        ----------
        counts
            Every respondent's count columns (for data-scaled defaults).
        """
        return [
            PriorTerm(
                "intercept",
                PriorSpec(dist="Normal", mu=0, sigma=2.5),
                "real",
                "log-odds of an average respondent; sd 2.5 spreads mass over shares 1%-99%",
            )
        ]

    def add_parameters(self, priors: dict[str, PriorSpec]) -> dict[str, Any]:
        """Create the family's own random variables in the model in context."""
        return {}

    @abstractmethod
    def add_likelihood(
        self, eta: Any, units: Cells, params: dict[str, Any], dim: Callable[[str], str]
    ) -> None:
        """Add the observed-data likelihood to the model in context.

        Parameters
        ----------
        eta
            Linear predictor, one entry per unit.
        units
            Cells or rows with their counts.
        params
            The family's parameters from :meth:`add_parameters`.
        dim
            Maps a dimension name (:data:`lcmodel.design.cells.UNIT`, or one of :meth:`coords`) to
            its name in the model (a joint model prefixes each indicator's dimensions).
        """

    @abstractmethod
    def expected_quantities(self, eta: Any, params: dict[str, Any]) -> Any:
        """Expected value of each quantity for one respondent per entry of ``eta``.

        Returns a tensor of shape ``(len(eta), len(quantities()))``.
        """

    @abstractmethod
    def respondent_values(self, counts: pd.DataFrame) -> np.ndarray:
        """Each respondent's observed value of every quantity, shape ``(n, quantities)``."""

    @abstractmethod
    def predictive_totals(
        self,
        rng: np.random.Generator,
        expected: np.ndarray,
        remaining: np.ndarray,
        params: dict[str, np.ndarray],
    ) -> np.ndarray:
        """Posterior predictive sums of each quantity over units nobody sampled.

        The finite-population estimand adds these to the sampled units' known answers: draws
        of the answers themselves (binomial, multinomial, normal), not their expectations.

        Parameters
        ----------
        rng
            The random generator (seeded from the fit's seed).
        expected
            :meth:`expected_quantities` per posterior draw and reference row, shape
            ``(draws, rows, quantities)``.
        remaining
            Units to predict in each row (whole numbers, 0 or more).
        params
            Posterior draws of the family's :attr:`parameters`, each with the draws first.

        Returns
        -------
        numpy.ndarray
            Sums over each row's remaining units, shape ``(draws, rows, quantities)``.
        """
