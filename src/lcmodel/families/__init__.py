"""Outcome families, looked up by the name a spec gives."""

from __future__ import annotations

from lcmodel.families.base import Family, Quantity
from lcmodel.families.bernoulli import BernoulliFamily
from lcmodel.families.gaussian import GaussianFamily
from lcmodel.families.ordinal import OrdinalFamily
from lcmodel.spec import FAMILY_NAMES, OutcomeSpec

__all__ = ["FAMILIES", "Family", "Quantity", "get_family"]

FAMILIES: dict[str, type[Family]] = {
    family.name: family for family in (BernoulliFamily, OrdinalFamily, GaussianFamily)
}

assert set(FAMILIES) == set(FAMILY_NAMES), "spec.FAMILY_NAMES must list every family"


def get_family(outcome: OutcomeSpec) -> Family:
    """Return the family object for an outcome spec."""
    return FAMILIES[outcome.family](outcome)
