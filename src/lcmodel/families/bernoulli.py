"""Binary indicators: Bernoulli respondents, Binomial cells, logit link.

An answer counts as a success when its label is in the spec's ``success`` list (or it is 1 in
a 0/1 column). The area quantity is the share of successes. Respondents sharing a cell
(area x wave x covariate levels) are exchangeable, so their Bernoulli likelihood equals a
Binomial likelihood of the cell's success count: the posterior is identical and sampling is
much faster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from lcmodel.errors import DataError, did_you_mean, first_rows, listed
from lcmodel.families.base import UNIT, Family, Quantity
from lcmodel.families.labels import check_known_labels, clean_answer_labels

if TYPE_CHECKING:
    from lcmodel.design.cells import Cells

__all__ = ["BernoulliFamily"]

_TRUE_WORDS = {"1", "true", "yes"}
_FALSE_WORDS = {"0", "false", "no"}


class BernoulliFamily(Family):
    """Binary outcome with a logit link."""

    name: ClassVar[str] = "bernoulli"

    @property
    def count_columns(self) -> list[str]:
        """One column: the number of successes."""
        return ["y"]

    def quantities(self) -> list[Quantity]:
        """The share of successes."""
        return [Quantity("share", "share")]

    def encode(self, answers: pd.Series, source: str) -> pd.DataFrame:
        """Code answers as 1 (success) or 0, validating every label.

        Parameters
        ----------
        answers
            Non-missing answers.
        source
            File name for error messages.
        """
        column = self.outcome.column
        if self.outcome.success is None:
            return pd.DataFrame({"y": self._code_zero_one(answers, source)}, index=answers.index)
        labels = clean_answer_labels(answers)
        success = set(self.outcome.success)
        present = set(labels.unique())
        # Without a 'failure' list an unknown label cannot be caught, so a success label that
        # never occurs is taken for a typo; with one, typos surface as unknown labels below and
        # a rare success label may simply be absent from this data.
        for label in self.outcome.success if self.outcome.failure is None else []:
            if label not in present:
                raise DataError(
                    f"{source}: column '{column}': success label '{label}' never occurs"
                    f"{did_you_mean(label, present)}; labels in the data: "
                    f"{listed(sorted(present), None)}. Fix 'outcome.success' in the spec."
                )
        if self.outcome.failure is not None:
            check_known_labels(
                labels,
                success | set(self.outcome.failure),
                column,
                source,
                "Add them to 'outcome.success' or 'outcome.failure' in the spec, or blank them "
                "to treat them as missing.",
            )
        return pd.DataFrame({"y": labels.isin(success).astype(np.int64)}, index=answers.index)

    def _code_zero_one(self, answers: pd.Series, source: str) -> np.ndarray:
        column = self.outcome.column
        if pd.api.types.is_bool_dtype(answers):
            return answers.to_numpy(dtype=np.int64)
        text = clean_answer_labels(answers).str.lower()
        ones = text.isin(_TRUE_WORDS)
        zeros = text.isin(_FALSE_WORDS)
        bad = ~(ones | zeros)
        if bad.any():
            rows = answers.index.to_numpy()[np.flatnonzero(bad.to_numpy())]
            numbers = pd.to_numeric(answers, errors="coerce")
            counts = bool(numbers.notna().all() and (numbers >= 0).all() and (numbers > 1).any())
            fix = (
                "These look like counts of successes: name the column of trials in "
                "'outcome.trials'."
                if counts
                else "List the labels that count as 1 in 'outcome.success'."
            )
            raise DataError(
                f"{source}: column '{column}' must hold 0/1 answers when the spec gives no "
                f"'outcome.success' labels, but has "
                f"{listed(sorted(set(answers[bad].astype(str))))} ({first_rows(list(rows))}). "
                f"{fix}"
            )
        return ones.to_numpy(dtype=np.int64)

    def information(self, counts: pd.DataFrame) -> float:
        """``p (1 - p)`` at the sample share ``p`` (kept within 0.01-0.99)."""
        p = float(np.clip(counts["y"].mean(), 0.01, 0.99))
        return p * (1.0 - p)

    def add_likelihood(
        self, eta: Any, units: Cells, params: dict[str, Any], dim: Callable[[str], str]
    ) -> None:
        """Binomial likelihood of success counts (Bernoulli when every unit has one trial)."""
        import pymc as pm

        successes = units.counts[:, 0]
        if np.all(units.trials == 1):
            pm.Bernoulli("y", logit_p=eta, observed=successes, dims=dim(UNIT))
        else:
            pm.Binomial("y", n=units.trials, logit_p=eta, observed=successes, dims=dim(UNIT))

    def expected_quantities(self, eta: Any, params: dict[str, Any]) -> Any:
        """Probability of success, as a one-column matrix."""
        import pymc as pm

        return pm.math.invlogit(eta)[:, None]

    def respondent_values(self, counts: pd.DataFrame) -> np.ndarray:
        """Each respondent's 0/1 outcome."""
        return counts[["y"]].to_numpy(dtype=float)

    def predictive_totals(
        self,
        rng: np.random.Generator,
        expected: np.ndarray,
        remaining: np.ndarray,
        params: dict[str, np.ndarray],
    ) -> np.ndarray:
        """Successes among the remaining units: ``Binomial(remaining, p)`` per draw and row."""
        n = np.broadcast_to(remaining.astype(np.int64)[None, :, None], expected.shape)
        return rng.binomial(n, np.clip(expected, 0.0, 1.0)).astype(float)
