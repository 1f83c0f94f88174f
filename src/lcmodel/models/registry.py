"""From a spec's kind to its model class: the one place that decides it."""

from __future__ import annotations

from pathlib import Path

from lcmodel.models.base import Model
from lcmodel.models.fay_herriot import FayHerriotModel
from lcmodel.models.joint import JointModel
from lcmodel.models.unit_level import UnitLevelModel
from lcmodel.spec import AreaLevelSpec, JointSpec, ModelSpec, load_spec

__all__ = ["MODEL_TYPES", "model_from_spec"]

MODEL_TYPES: dict[str, type[Model]] = {
    UnitLevelModel.kind: UnitLevelModel,
    JointModel.kind: JointModel,
    FayHerriotModel.kind: FayHerriotModel,
}
"""The model class of each spec kind."""


def model_from_spec(
    spec: ModelSpec | JointSpec | AreaLevelSpec | str | Path, data: str | Path | None = None
) -> Model:
    """The model of any spec (object or TOML path), with its data loaded.

    Parameters
    ----------
    spec
        A spec of any kind, or the path of its TOML file.
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
