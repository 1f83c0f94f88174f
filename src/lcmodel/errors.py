"""Exceptions raised by lcmodel.

Every error a user can cause derives from :class:`LcmodelError`, so the command line can
turn it into a one-paragraph message and a non-zero exit code instead of a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = [
    "DataError",
    "LcmodelError",
    "SpecError",
    "did_you_mean",
    "first_rows",
    "listed",
    "plain",
    "shown",
]


class LcmodelError(ValueError):
    """Base class of every error caused by user input."""


class DataError(LcmodelError):
    """A data file (survey, areas, benchmarks) fails validation."""


class SpecError(LcmodelError):
    """A model spec is invalid: unknown key, wrong type, inconsistent options."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return a ``" (did you mean 'x'?)"`` hint, or an empty string when nothing is close.

    Parameters
    ----------
    word
        The unknown word the user wrote.
    choices
        The words that would have been accepted.
    """
    matches = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def first_rows(rows: Sequence[int], limit: int = 5) -> str:
    """Format the first offending data rows as file line numbers (header is line 1).

    Parameters
    ----------
    rows
        Zero-based row positions in the data frame.
    limit
        How many to show before summarising the rest.
    """
    shown = ", ".join(str(int(r) + 2) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"line{'s' if len(rows) > 1 else ''} {shown}{more}"


def plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (``np.int64(3)`` -> ``3``); others unchanged.

    Messages format values with ``repr``, which numpy 2 spells ``np.int64(3)``; every value a
    message shows goes through here first (by :func:`shown` or :func:`listed`).

    Parameters
    ----------
    value
        Any value, often a cell of a table (a Python, numpy or pandas scalar).
    """
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


def shown(value: object) -> str:
    """A data value as a message shows it: ``1.5`` or ``'abc'``, never ``np.float64(1.5)``.

    Parameters
    ----------
    value
        A cell of a table (a Python, numpy or pandas scalar).
    """
    value = plain(value)
    if (
        value is None
        or (isinstance(value, float) and value != value)
        or str(value) in {"<NA>", "nan"}
    ):
        return "a blank"
    return repr(value)


def listed(values: Iterable[object], limit: int | None = 5) -> str:
    """Values as a message lists them: ``['a', 'b']`` or ``[1, 2]``, never ``[np.int64(1)]``.

    Parameters
    ----------
    values
        The values (Python, numpy or pandas scalars), in the order to show them.
    limit
        How many to show before summarising the rest (``['a', 'b'] and 3 more``); ``None``
        shows all.
    """
    values = [plain(v) for v in values]
    head = values if limit is None else values[:limit]
    more = f" and {len(values) - len(head)} more" if len(values) > len(head) else ""
    return f"[{', '.join(repr(v) for v in head)}]{more}"
