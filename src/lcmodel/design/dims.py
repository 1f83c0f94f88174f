"""Dimension names that models write and results read (besides ``area``)."""

from __future__ import annotations

import itertools

__all__ = ["INDICATOR", "PAIR", "SEPARATOR", "pair_labels"]

INDICATOR = "indicator"
"""Dimension of the indicators in a joint model."""

PAIR = "indicator_pair"
"""Dimension of the pairs of indicators whose area-effect correlation is reported."""

SEPARATOR = "::"
"""Between an indicator's name and its variables' and dimensions' names (PyMC's own)."""


def pair_labels(names: list[str]) -> list[str]:
    """Labels of every pair of indicators, ``"a|b"``, in the order of ``names``."""
    return [f"{a}|{b}" for a, b in itertools.combinations(names, 2)]
