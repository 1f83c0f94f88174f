"""The interface every outcome family implements.

A family knows three things: how to turn a survey column into outcome counts (validating the
answer labels), how to write the likelihood of those counts given the linear predictor, and
how to turn the linear predictor of a reference cell into the area quantity being estimated.
Everything else (data validation, the linear predictor, fitting, estimates, files) is shared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from lcmodel.spec import OutcomeSpec

__all__ = ["Family"]


class Family(ABC):
    """An outcome family: coding, likelihood and area quantity."""

    name: ClassVar[str]
    """Name used in specs (``family = "..."``)."""

    quantity: ClassVar[str]
    """What an area value is, in words (``"share"``, ``"mean score"``)."""

    def __init__(self, outcome: OutcomeSpec) -> None:
        self.outcome = outcome

    @property
    @abstractmethod
    def count_columns(self) -> list[str]:
        """Columns of per-respondent counts that :meth:`encode` returns and cells sum."""

    @abstractmethod
    def encode(self, answers: pd.Series, source: str) -> pd.DataFrame:
        """Turn the non-missing answers of the outcome column into count columns.

        Parameters
        ----------
        answers
            The outcome column with missing answers already removed (original index kept).
        source
            File name for error messages.

        Raises
        ------
        DataError
            When an answer cannot be coded (unknown label, value out of range).
        """

    @abstractmethod
    def add_likelihood(self, eta: Any, counts: np.ndarray, trials: np.ndarray, dims: str) -> None:
        """Add the observed-data likelihood to the model in context.

        Parameters
        ----------
        eta
            Linear predictor, one entry per observation unit (cell or respondent).
        counts
            Array of the :attr:`count_columns` summed per unit, shape ``(units, columns)``.
        trials
            Respondents per unit.
        dims
            Name of the unit dimension.
        """

    @abstractmethod
    def expected_value(self, eta: Any) -> Any:
        """Expected outcome (the area quantity) of one respondent with predictor ``eta``."""

    def direct(self, counts: pd.DataFrame, weights: pd.Series | None) -> float:
        """Direct (design-based) estimate of the area quantity from respondents' counts.

        Parameters
        ----------
        counts
            Per-respondent :attr:`count_columns`.
        weights
            Design weights, or ``None`` for the unweighted estimate.
        """
        value = self.respondent_values(counts)
        return float(np.average(value, weights=None if weights is None else weights.to_numpy()))

    @abstractmethod
    def respondent_values(self, counts: pd.DataFrame) -> np.ndarray:
        """Each respondent's observed value of the area quantity (e.g. 0/1)."""
