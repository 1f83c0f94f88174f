"""Outcome families, looked up by the name a spec gives.

Each family is a :class:`Family` subclass in a module of its own; defining it registers it in
:data:`FAMILIES` under its ``name``, and every module of this package is imported here, so a
new family is one new module and its name in :data:`lcmodel.spec.FAMILY_NAMES` (which the spec
layer checks names against, without importing the families).
"""

from __future__ import annotations

from lcmodel.discovery import import_modules
from lcmodel.families.base import FAMILIES, Family, Quantity
from lcmodel.spec import FAMILY_NAMES, OutcomeSpec

__all__ = ["FAMILIES", "Family", "Quantity", "get_family"]

import_modules(__name__, __path__)

if set(FAMILIES) != set(FAMILY_NAMES):
    raise ImportError(
        f"the families defined ({', '.join(sorted(FAMILIES))}) differ from "
        f"lcmodel.spec.FAMILY_NAMES ({', '.join(sorted(FAMILY_NAMES))}): list every family "
        f"in spec/common.py"
    )


def get_family(outcome: OutcomeSpec) -> Family:
    """Return the family object for an outcome spec."""
    return FAMILIES[outcome.family](outcome)
