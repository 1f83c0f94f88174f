"""The kinds of spec, and reading a spec file of any kind.

Each kind of model has one top-level spec class, a :class:`KindSpec` whose ``kind`` field is a
one-value ``Literal``; defining the class registers it in :data:`SPEC_KINDS`, and
``lcmodel.spec`` imports every module of its package, so a new ``spec/<kind>.py`` is all a new
kind of spec needs (ARCHITECTURE.md, "Add a model kind"). A file's kind is its ``kind`` key, or,
when it has none, the first kind whose :attr:`~KindSpec.markers` it contains, or
:data:`DEFAULT_KIND`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

from lcmodel.discovery import register
from lcmodel.errors import SpecError
from lcmodel.spec.common import Strict, read_toml, validate

__all__ = ["DEFAULT_KIND", "SPEC_KINDS", "KindSpec", "load_spec", "parse_any_spec", "spec_kind"]

DEFAULT_KIND = "unit_level"
"""The kind of a spec file that neither says its kind nor has another kind's markers."""

SPEC_KINDS: dict[str, type[KindSpec]] = {}
"""The spec class of each kind, filled as the classes are defined."""


class KindSpec(Strict):
    """Base of the top-level spec of a kind of model (unit-level, joint, area-level, ...).

    A subclass declares ``kind: Literal["<kind>"] = "<kind>"`` and is registered under it.
    """

    how_to_fit: ClassVar[str] = "lcmodel.model_from_spec()"
    """The Python call that fits a spec of this kind (said when a file of it is misloaded)."""

    markers: ClassVar[tuple[str, ...]] = ()
    """Top-level keys that make a file without ``kind`` this kind (``indicators``: joint)."""

    kind: str
    name: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "kind" in vars(cls).get("__annotations__", {}):  # declared here, not inherited
            register(SPEC_KINDS, str(cls.model_fields["kind"].default), cls, "spec kind")

    @classmethod
    def parse(cls, raw: dict[str, Any], source: str) -> Self:
        """Validate a dictionary as this kind, as one :class:`SpecError` naming ``source``."""
        return validate(cls, raw, source)

    @classmethod
    def from_toml(cls, path: Path, raw: dict[str, Any]) -> Self:
        """The spec of a file's parsed TOML, its relative paths resolved against its folder."""
        return cls.parse(raw, str(path)).resolved(path.parent.resolve())

    def resolved(self, base: Path) -> Self:
        """A copy whose relative file paths are absolute against ``base`` (none by default)."""
        return self


def _a(label: str) -> str:
    return f"{'an' if label[0] in 'aeiou' else 'a'} {label}"


def spec_kind(raw: dict[str, Any]) -> str:
    """The kind of a raw spec: its ``kind`` key, else what its tables say.

    A spec that lists ``indicators`` is joint; one with an ``[area_level]`` table is
    area-level; any other is unit-level (:data:`DEFAULT_KIND`).
    """
    if "kind" in raw:
        kind = raw["kind"]
        if kind not in SPEC_KINDS:
            raise SpecError(f"unknown spec kind {kind!r}; choose one of {', '.join(SPEC_KINDS)}")
        return str(kind)
    for kind, cls in SPEC_KINDS.items():
        if any(marker in raw for marker in cls.markers):
            return kind
    return DEFAULT_KIND


def parse_any_spec(raw: dict[str, Any], source: str) -> KindSpec:
    """Validate a spec dictionary of any kind (as saved in a result's ``result.json``).

    Parameters
    ----------
    raw
        The spec as a dictionary; its kind is read or inferred (see :func:`spec_kind`).
    source
        Where it came from, for messages.
    """
    return SPEC_KINDS[spec_kind(raw)].parse(raw, source)


def load_spec(path: str | Path, kind: str | None = None) -> Any:
    """Read a spec file of any kind, or of ``kind`` (see :func:`lcmodel.spec.load_spec`)."""
    path = Path(path)
    raw = read_toml(path)
    found = SPEC_KINDS[spec_kind(raw)]
    if kind is not None and found is not SPEC_KINDS[kind]:
        raise SpecError(
            f"{path}: is {_a(found.label)}, not {_a(SPEC_KINDS[kind].label)}; load it with "
            f"lcmodel.load_spec() or {found.how_to_fit}"
        )
    return found.from_toml(path, raw)
