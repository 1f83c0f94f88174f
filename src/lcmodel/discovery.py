"""Finding what a package defines, so that adding a module is enough to add a kind.

Families, spec kinds and model kinds register themselves when their class is defined
(:func:`register`); each package then imports all of its modules once
(:func:`import_modules`), so a new ``families/poisson.py`` or ``models/two_stage.py`` is found
without a line elsewhere (ARCHITECTURE.md, "Recipes").

Names that moved are found too, for one release: lcmodel 0.1.0's modules by their old names
(:class:`MovedModules`) and the names its modules defined that now live in a submodule
(:func:`moved_names`), each with a ``DeprecationWarning`` that gives the new name.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import pkgutil
import warnings
from collections.abc import Callable, Iterable, Mapping
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["MovedModules", "import_modules", "moved_names", "register", "warn_moved"]

_OUR_FRAMES = (str(Path(__file__).parent), "<frozen importlib")
"""Where a deprecation warning is not attributed: lcmodel itself and the import machinery."""


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


def warn_moved(old: str, new: str) -> None:
    """A ``DeprecationWarning`` that ``old`` is now ``new``, attributed to the user's code."""
    warnings.warn(
        f"{old} is now {new}; the old name will be removed in the next release",
        DeprecationWarning,
        skip_file_prefixes=_OUR_FRAMES,
    )


def moved_names(package: str, moved: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for names that moved from ``package`` into its submodules.

    Parameters
    ----------
    package
        The package's ``__name__``.
    moved
        Each old name -> the module that now defines it.

    Returns
    -------
    Callable
        ``__getattr__(name)``: warns and returns the moved name, else ``AttributeError``.
    """

    def __getattr__(name: str) -> Any:
        if name not in moved:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        warn_moved(f"{package}.{name}", f"{moved[name]}.{name}")
        return getattr(importlib.import_module(moved[name]), name)

    return __getattr__


class MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """An import hook that loads each old module name as the module that replaced it.

    ``import old`` warns and binds the new module object itself (no copy), so classes and
    functions are the same objects under both names.

    Parameters
    ----------
    moved
        Each old module name -> its new module name.
    """

    def __init__(self, moved: Mapping[str, str]) -> None:
        self.moved = dict(moved)
        self._specs: dict[str, ModuleSpec | None] = {}

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> ModuleSpec | None:
        """A spec loaded by this hook for an old module name, else ``None``."""
        if fullname not in self.moved:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        """Warn, and give the new module (imported if need be) as the old name's."""
        warn_moved(spec.name, self.moved[spec.name])
        module = importlib.import_module(self.moved[spec.name])
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run; the import system has set the old name's spec, so restore the own."""
        module.__spec__ = self._specs.pop(module.__spec__.name)
