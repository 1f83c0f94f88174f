"""Binary indicators: Bernoulli respondents, Binomial cells, logit link.

An answer counts as a success when its label is in the spec's ``success`` list (or it is 1 in
a 0/1 column). The area quantity is the share of successes. Respondents sharing a cell
(area x wave x covariate levels) are exchangeable, so their Bernoulli likelihood equals a
Binomial likelihood of the cell's success count: the posterior is identical and sampling is
much faster.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pymc as pm

from lcmodel.errors import DataError, did_you_mean, first_rows
from lcmodel.families.base import Family

__all__ = ["BernoulliFamily"]

_TRUE_WORDS = {"1", "1.0", "true", "yes"}
_FALSE_WORDS = {"0", "0.0", "false", "no"}


class BernoulliFamily(Family):
    """Binary outcome with a logit link."""

    name: ClassVar[str] = "bernoulli"
    quantity: ClassVar[str] = "share"

    @property
    def count_columns(self) -> list[str]:
        """One column: the number of successes."""
        return ["y"]

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
        values = answers
        if pd.api.types.is_float_dtype(values) and np.all(np.isfinite(values)):
            if (values == values.round()).all():
                # Numeric codes read as floats because of blanks: 4.0 is the label "4".
                values = values.astype(np.int64)
        labels = values.astype(str).str.strip()
        success = set(self.outcome.success)
        present = set(labels.unique())
        for label in self.outcome.success:
            if label not in present:
                raise DataError(
                    f"{source}: column '{column}': success label '{label}' never occurs"
                    f"{did_you_mean(label, present)}; labels in the data: {sorted(present)}. "
                    f"Fix 'outcome.success' in the spec."
                )
        if self.outcome.failure is not None:
            known = success | set(self.outcome.failure)
            unknown = ~labels.isin(known)
            if unknown.any():
                bad = labels[unknown]
                positions = np.flatnonzero(unknown.to_numpy())
                rows = answers.index.to_numpy()[positions]
                hint = did_you_mean(str(bad.iloc[0]), known)
                raise DataError(
                    f"{source}: column '{column}' has answer label(s) the spec does not know: "
                    f"{sorted(set(bad))[:5]} ({first_rows(list(rows))}){hint}."
                    f" Add them to 'outcome.success' or 'outcome.failure' in the spec, or blank "
                    f"them to treat them as missing."
                )
        return pd.DataFrame({"y": labels.isin(success).astype(np.int64)}, index=answers.index)

    def _code_zero_one(self, answers: pd.Series, source: str) -> np.ndarray:
        column = self.outcome.column
        if pd.api.types.is_bool_dtype(answers):
            return answers.to_numpy(dtype=np.int64)
        text = answers.astype(str).str.strip().str.lower()
        ones = text.isin(_TRUE_WORDS)
        zeros = text.isin(_FALSE_WORDS)
        bad = ~(ones | zeros)
        if bad.any():
            rows = answers.index.to_numpy()[np.flatnonzero(bad.to_numpy())]
            raise DataError(
                f"{source}: column '{column}' must hold 0/1 answers when the spec gives no "
                f"'outcome.success' labels, but has {sorted(set(answers[bad].astype(str)))[:5]} "
                f"({first_rows(list(rows))}). List the labels that count as 1 in "
                f"'outcome.success'."
            )
        return ones.to_numpy(dtype=np.int64)

    def add_likelihood(self, eta: Any, counts: np.ndarray, trials: np.ndarray, dims: str) -> None:
        """Binomial likelihood of success counts (Bernoulli when every unit has one trial)."""
        successes = counts[:, 0]
        if np.all(trials == 1):
            pm.Bernoulli("y", logit_p=eta, observed=successes, dims=dims)
        else:
            pm.Binomial("y", n=trials, logit_p=eta, observed=successes, dims=dims)

    def expected_value(self, eta: Any) -> Any:
        """Probability of success."""
        return pm.math.invlogit(eta)

    def respondent_values(self, counts: pd.DataFrame) -> np.ndarray:
        """Each respondent's 0/1 outcome."""
        return counts["y"].to_numpy(dtype=float)
