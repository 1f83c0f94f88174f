"""The prior methods every model shares: defaults, spec overrides, and the prior table."""

from __future__ import annotations

from typing import Any

import pandas as pd

from lcmodel.spec.priors import PriorSpec, PriorTerm

__all__ = ["HasPriors", "prior_table"]


def prior_table(terms: dict[str, PriorTerm], overrides: dict[str, PriorSpec]) -> pd.DataFrame:
    """Default and effective prior of every term, with the reason for the default.

    Parameters
    ----------
    terms
        The model's terms with their defaults.
    overrides
        The spec's ``[priors]``.
    """
    rows = [
        {
            "term": name,
            "prior": str(overrides.get(name, term.default)),
            "default": str(term.default),
            "source": "spec" if name in overrides else "default",
            "why": term.why,
        }
        for name, term in terms.items()
    ]
    return pd.DataFrame(rows).set_index("term")


class HasPriors:
    """The prior methods every model shares, given its ``prior_terms()`` and ``spec.priors``."""

    spec: Any

    def prior_terms(self) -> dict[str, PriorTerm]:
        """Every term with a prior, with its default and rationale."""
        raise NotImplementedError

    def default_priors(self) -> dict[str, PriorSpec]:
        """The package's default prior for every term of this model."""
        return {name: term.default for name, term in self.prior_terms().items()}

    def priors(self) -> dict[str, PriorSpec]:
        """The priors the model uses: spec overrides on top of the defaults."""
        return self.default_priors() | dict(self.spec.priors)

    def prior_table(self) -> pd.DataFrame:
        """Default and effective prior of every term, with the reason for the default."""
        return prior_table(self.prior_terms(), dict(self.spec.priors))
