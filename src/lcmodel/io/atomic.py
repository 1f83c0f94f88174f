"""Atomic file and folder writes: a reader sees the old output or the new one, never half."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lcmodel.errors import LcmodelError

__all__ = ["atomic_file", "atomic_folder", "check_replaceable", "clear_staging"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place if the block succeeds.

    Parameters
    ----------
    path
        Final file path (its folder must exist).
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    staging = Path(name)
    try:
        yield staging
        staging.chmod(0o666 & ~_umask())
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise


def check_replaceable(folder: str | Path, marker: str) -> Path:
    """Return ``folder`` resolved, or raise if writing there would destroy unrelated files.

    Parameters
    ----------
    folder
        Intended output folder.
    marker
        File name that identifies an earlier output of the same kind.

    Raises
    ------
    LcmodelError
        When ``folder`` exists, is not empty and does not hold ``marker``.
    """
    folder = Path(folder).resolve()
    if folder.exists() and (
        not folder.is_dir() or (any(folder.iterdir()) and not (folder / marker).is_file())
    ):
        raise LcmodelError(
            f"{folder}: exists and is not an earlier lcmodel output (no {marker}); choose "
            f"another output folder, or empty this one first"
        )
    return folder


@contextmanager
def atomic_folder(folder: str | Path, marker: str) -> Iterator[Path]:
    """Yield an empty staging folder that replaces ``folder`` when the block succeeds.

    If the block raises, the staging folder is removed and ``folder`` is left as it was (absent
    or holding its previous contents). An existing folder is replaced only when it is empty or
    holds ``marker`` (a previous output of the same kind), so a mistyped output path can never
    delete unrelated files.

    Parameters
    ----------
    folder
        Final folder path; its parent is created if needed.
    marker
        File name that identifies a folder this function may replace.

    Raises
    ------
    LcmodelError
        When ``folder`` exists, is not empty and does not hold ``marker``.
    """
    folder = check_replaceable(folder, marker)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        yield staging
        staging.chmod(0o777 & ~_umask())
        if folder.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
            os.replace(folder, retired / folder.name)
            try:
                os.replace(staging, folder)
            except BaseException:
                os.replace(retired / folder.name, folder)
                shutil.rmtree(retired, ignore_errors=True)
                raise
            shutil.rmtree(retired)
        else:
            os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def clear_staging(folder: str | Path) -> list[Path]:
    """Remove what an interrupted :func:`atomic_folder` of ``folder`` left beside it.

    A process killed inside the block (a worker that dies while saving) leaves its staging
    folder (``.<name>.XXXXXXXX``) beside ``folder``, and one killed between the two renames of a
    replacement leaves the previous contents in ``.<name>.old.XXXXXXXX``: those are put back
    when ``folder`` is missing, else removed. Call it only when no other process is writing
    ``folder``.

    Parameters
    ----------
    folder
        The folder whose leftovers to remove.

    Returns
    -------
    list of pathlib.Path
        The leftovers removed (or put back).
    """
    folder = Path(folder).resolve()
    if not folder.parent.is_dir():
        return []
    # tempfile.mkdtemp names: the prefix and eight characters of [a-z0-9_]
    pattern = re.compile(rf"^\.{re.escape(folder.name)}\.(old\.)?[a-z0-9_]{{8}}$")
    found = sorted(p for p in folder.parent.iterdir() if p.is_dir() and pattern.match(p.name))
    for leftover in found:
        previous = leftover / folder.name
        if leftover.name.startswith(f".{folder.name}.old.") and previous.is_dir():
            if not folder.exists():
                os.replace(previous, folder)
        shutil.rmtree(leftover, ignore_errors=True)
    return found
