"""Finding what a package defines, so that adding a module is enough to add a kind.

Families, spec kinds and model kinds register themselves when their class is defined
(:func:`register`); each package then imports all of its modules once
(:func:`import_modules`), so a new ``families/poisson.py`` or ``models/two_stage.py`` is found
without a line elsewhere (ARCHITECTURE.md, "Recipes").
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

__all__ = ["import_modules", "register"]


def import_modules(package: str, path: Iterable[str]) -> None:
    """Import every module of ``package`` (its ``__name__`` and ``__path__``), in name order."""
    for info in sorted(pkgutil.iter_modules(path), key=lambda found: found.name):
        importlib.import_module(f"{package}.{info.name}")


def register[T: type](registry: dict[str, T], key: str, cls: T, what: str) -> None:
    """Put ``cls`` in ``registry`` under ``key``; a second class for the same key is an error.

    The same class defined again (a module reloaded in a notebook) replaces the first.

    Raises
    ------
    TypeError
        When another class already holds ``key``.
    """
    held = registry.get(key)
    if held is not None and _qualified(held) != _qualified(cls):
        raise TypeError(
            f"{_qualified(cls)} and {_qualified(held)} are both the {what} {key!r}; give the "
            f"new one another name"
        )
    registry[key] = cls


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
