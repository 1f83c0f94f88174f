"""Ordered categories: cumulative logit with ordered cutpoints.

For a respondent with linear predictor ``eta`` and cutpoints ``c_1 < ... < c_{K-1}``::

    P(Y > k) = invlogit(eta - c_k),   so   P(Y = k) = P(Y > k - 1) - P(Y > k)

Categories are listed in the spec from lowest to highest, so a larger ``eta`` moves answers up
the list. The cutpoints absorb the intercept, so the predictor has none. Respondents sharing a
cell are exchangeable: their category counts are Multinomial with the cell's category
probabilities, which gives the same posterior as the row-level ordered-logistic likelihood (the
two differ by the multinomial coefficients, a constant).

Area quantities: the share in every category, the share in every group the spec names (for
example "good or very good"), and, when the categories are scores (0-10 wellbeing scales), the
mean score.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from lcmodel.errors import DataError, first_rows, listed, shown
from lcmodel.families.base import UNIT, Family, Quantity
from lcmodel.families.labels import check_known_labels, clean_answer_labels
from lcmodel.spec.priors import PriorSpec, PriorTerm

if TYPE_CHECKING:
    from lcmodel.design.cells import Cells

__all__ = ["OrdinalFamily"]


class OrdinalFamily(Family):
    """Ordered categorical outcome (cumulative logit)."""

    name: ClassVar[str] = "ordinal"
    has_intercept: ClassVar[bool] = False

    @property
    def labels(self) -> list[str]:
        """Category labels, lowest first."""
        return self.outcome.category_labels

    @property
    def scores(self) -> np.ndarray | None:
        """Numeric scores of the categories when every label is a number (0-10 scales)."""
        try:
            return np.array([float(label) for label in self.labels])
        except ValueError:
            return None

    @property
    def count_columns(self) -> list[str]:
        """One count column per category."""
        return [f"n_{k}" for k in range(len(self.labels))]

    def coords(self) -> dict[str, list[str]]:
        """The categories, for the Multinomial counts."""
        return {"category": self.labels}

    def quantities(self) -> list[Quantity]:
        """Category shares, group shares, and the mean score for numeric categories."""
        out = [Quantity(f"share:{label}", "share") for label in self.labels]
        out += [Quantity(f"share:{group}", "share") for group in self.outcome.groups]
        if self.scores is not None:
            out.append(Quantity("mean", "mean"))
        return out

    def headline(self) -> str:
        """The mean score for scales, else the first named group, else the first category."""
        if self.scores is not None:
            return "mean"
        if self.outcome.groups:
            return f"share:{next(iter(self.outcome.groups))}"
        return f"share:{self.labels[0]}"

    def _quantity_matrix(self) -> np.ndarray:
        """Map category probabilities to quantities: shape ``(categories, quantities)``."""
        k = len(self.labels)
        columns = [np.eye(k)[:, i] for i in range(k)]
        for members in self.outcome.groups.values():
            names = {str(m) for m in members}
            columns.append(np.array([1.0 if label in names else 0.0 for label in self.labels]))
        if self.scores is not None:
            columns.append(self.scores)
        return np.column_stack(columns)

    def encode(self, answers: pd.Series, source: str) -> pd.DataFrame:
        """One-hot counts of each answer's category, validating labels and coverage.

        Parameters
        ----------
        answers
            Non-missing answers.
        source
            File name for error messages.
        """
        column = self.outcome.column
        labels = clean_answer_labels(answers)
        if self.scores is not None and pd.api.types.is_numeric_dtype(answers):
            out_of_range = ~labels.isin(self.labels)
            if out_of_range.any():
                rows = labels.index.to_numpy()[np.flatnonzero(out_of_range.to_numpy())]
                raise DataError(
                    f"{source}: column '{column}' has score(s) outside "
                    f"{self.labels[0]}-{self.labels[-1]}: "
                    f"{listed(sorted(set(labels[out_of_range])))} ({first_rows(list(rows))}). "
                    f"Fix the data or list every score in 'outcome.categories'."
                )
        check_known_labels(
            labels,
            self.labels,
            column,
            source,
            "Add them to 'outcome.categories' in the spec (in order), or blank them to treat "
            "them as missing.",
        )
        index = pd.Index(self.labels).get_indexer(labels)
        counts = np.bincount(index, minlength=len(self.labels))
        empty = [label for label, n in zip(self.labels, counts, strict=True) if n == 0]
        if empty:
            raise DataError(
                f"{source}: column '{column}': category {shown(empty[0])} of "
                f"'outcome.categories' is never answered, so its cutpoint is not identified by "
                f"the data. Merge it with a neighbouring category in the data and the spec, or "
                f"check the label's spelling."
            )
        onehot = np.zeros((len(labels), len(self.labels)), dtype=np.int64)
        onehot[np.arange(len(labels)), index] = 1
        return pd.DataFrame(onehot, columns=self.count_columns, index=answers.index)

    def prior_terms(self, counts: pd.DataFrame) -> list[PriorTerm]:
        """Ordered cutpoints instead of an intercept."""
        return [
            PriorTerm(
                "cutpoints",
                PriorSpec(dist="Normal", mu=0, sigma=2.5),
                "real",
                "ordered thresholds on the logit scale (no intercept: they absorb it); sd 2.5 "
                "lets any category hold 1%-99% of answers",
            )
        ]

    def information(self, counts: pd.DataFrame) -> float:
        """``(1 - sum_k p_k^3) / 3``, the cumulative logit's location information at the shares."""
        shares = counts[self.count_columns].to_numpy(dtype=float).sum(axis=0)
        shares = shares / shares.sum()
        return float((1.0 - (shares**3).sum()) / 3.0)

    def add_parameters(self, priors: dict[str, PriorSpec]) -> dict[str, Any]:
        """Ordered cutpoints, started evenly spaced."""
        import pymc as pm

        k = len(self.labels)
        cutpoints = priors["cutpoints"].build(
            "cutpoints",
            shape=k - 1,
            transform=pm.distributions.transforms.ordered,
            initval=np.linspace(-2.0, 2.0, k - 1),
        )
        return {"cutpoints": cutpoints}

    def _probabilities(self, eta: Any, cutpoints: Any) -> Any:
        import pymc as pm
        import pytensor.tensor as pt

        above = pm.math.invlogit(eta[:, None] - cutpoints[None, :])
        ones = pt.ones_like(eta)[:, None]
        zeros = pt.zeros_like(eta)[:, None]
        upper = pt.concatenate([ones, above], axis=1)
        lower = pt.concatenate([above, zeros], axis=1)
        return upper - lower

    def add_likelihood(
        self, eta: Any, units: Cells, params: dict[str, Any], dim: Callable[[str], str]
    ) -> None:
        """Multinomial counts per cell (ordered logistic when every unit is one respondent)."""
        import pymc as pm

        cutpoints = params["cutpoints"]
        if np.all(units.trials == 1):
            category = units.counts.argmax(axis=1)
            pm.OrderedLogistic("y", eta=eta, cutpoints=cutpoints, observed=category, dims=dim(UNIT))
        else:
            p = self._probabilities(eta, cutpoints)
            pm.Multinomial(
                "y", n=units.trials, p=p, observed=units.counts, dims=(dim(UNIT), dim("category"))
            )

    def expected_quantities(self, eta: Any, params: dict[str, Any]) -> Any:
        """Category probabilities mapped to shares, group shares and the mean score."""
        import pytensor.tensor as pt

        p = self._probabilities(eta, params["cutpoints"])
        return pt.dot(p, pt.as_tensor(self._quantity_matrix()))

    def respondent_values(self, counts: pd.DataFrame) -> np.ndarray:
        """Each respondent's category indicators, group indicators and score."""
        return counts[self.count_columns].to_numpy(dtype=float) @ self._quantity_matrix()

    def predictive_totals(
        self,
        rng: np.random.Generator,
        expected: np.ndarray,
        remaining: np.ndarray,
        params: dict[str, np.ndarray],
    ) -> np.ndarray:
        """Answers of the remaining units: ``Multinomial(remaining, p)`` over the categories.

        The category probabilities are the first quantities (one share per category); group
        shares and the score sum follow from the same draw of category counts.
        """
        k = len(self.labels)
        p = np.clip(expected[..., :k], 0.0, None)
        p = p / p.sum(axis=-1, keepdims=True)
        n = np.broadcast_to(remaining.astype(np.int64)[None, :], p.shape[:-1])
        counts = rng.multinomial(n, p).astype(float)
        return counts @ self._quantity_matrix()
