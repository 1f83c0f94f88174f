"""From a spec's kind to its model class: the one place that decides it.

A model class registers itself under its ``kind`` when it is defined
(:data:`~lcmodel.models.base.MODEL_TYPES`), and every module of ``lcmodel.models`` is imported
here, so a new model kind is a new ``models/<kind>.py`` (and its spec, ``spec/<kind>.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lcmodel.models
from lcmodel.discovery import import_modules
from lcmodel.models.base import MODEL_TYPES, Model
from lcmodel.spec import KINDS, load_spec

__all__ = ["MODEL_TYPES", "model_from_spec"]

import_modules(lcmodel.models.__name__, lcmodel.models.__path__)

if missing := sorted(set(KINDS) - set(MODEL_TYPES)):
    raise ImportError(f"spec kinds without a model class (add one in models/): {missing}")


def model_from_spec(spec: Any, data: str | Path | None = None) -> Model:
    """The model of any spec (object or TOML path), with its data loaded.

    Parameters
    ----------
    spec
        A spec of any kind (:class:`~lcmodel.spec.KindSpec`), or the path of its TOML file.
    data
        Optional survey file replacing the spec's ``data`` (unit-level and joint specs).

    Examples
    --------
    >>> model = model_from_spec("models/social_joint.toml")  # doctest: +SKIP
    >>> result = model.fit()  # doctest: +SKIP
    """
    if isinstance(spec, str | Path):
        spec = load_spec(spec)
    return MODEL_TYPES[spec.kind].from_spec(spec, data)
