"""Outcome families, looked up by the name a spec gives."""

from __future__ import annotations

from lcmodel.families.base import Family
from lcmodel.families.bernoulli import BernoulliFamily
from lcmodel.spec import FAMILY_NAMES, OutcomeSpec

__all__ = ["FAMILIES", "Family", "get_family"]

FAMILIES: dict[str, type[Family]] = {BernoulliFamily.name: BernoulliFamily}

assert set(FAMILIES) == set(FAMILY_NAMES), "spec.FAMILY_NAMES must list every family"


def get_family(outcome: OutcomeSpec) -> Family:
    """Return the family object for an outcome spec."""
    return FAMILIES[outcome.family](outcome)
