"""Answer labels shared by the label-coded families (bernoulli, ordinal)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from lcmodel.errors import DataError, did_you_mean, first_rows, listed

__all__ = ["check_known_labels", "clean_answer_labels"]


def clean_answer_labels(answers: pd.Series) -> pd.Series:
    """Answers as stripped text labels; whole-number floats lose their ``.0``.

    Numeric codes in a column with blanks are read as floats, so the answer 4 arrives as 4.0;
    it must still match the label "4" (or the score 4) in the spec.
    """
    values = answers
    if pd.api.types.is_float_dtype(values) and np.all(np.isfinite(values)):
        if (values == values.round()).all():
            values = values.astype(np.int64)
    return values.astype(str).str.strip()


def check_known_labels(
    labels: pd.Series, known: Iterable[str], column: str, source: str, fix: str
) -> None:
    """Raise :class:`DataError` naming the lines whose label is not in ``known``.

    Parameters
    ----------
    labels
        Cleaned answer labels (index = row positions in the file).
    known
        Labels the spec accounts for.
    column
        Survey column (for the message).
    source
        File name (for the message).
    fix
        How to fix it, appended to the message.
    """
    known = set(known)
    unknown = ~labels.isin(known)
    if unknown.any():
        bad = labels[unknown]
        rows = labels.index.to_numpy()[np.flatnonzero(unknown.to_numpy())]
        close = did_you_mean(str(bad.iloc[0]), known).removeprefix(" (did you mean ")
        hint = f" (close to the spec's {close.removesuffix('?)')}: check both spellings)"
        raise DataError(
            f"{source}: column '{column}' has answer label(s) the spec does not know: "
            f"{listed(sorted(set(bad)))} ({first_rows(list(rows))}){hint if close else ''}. {fix}"
        )
