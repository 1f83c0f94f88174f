"""Shared fixtures and the ``--run-slow`` option."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from lcmodel import FitResult, UnitLevelModel

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
DATA = ROOT / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow", action="store_true", default=False, help="run slow calibration suites"
    )


LONGEST_FIRST = [
    "test_notebooks.py",
    "test_joint.py",
    "test_recovery.py",
    "test_finite_population.py",
    "test_golden.py",
    "test_fit.py",
    "test_area_level.py",
    "test_families.py",
]
"""The files that take longest (about 100-250 s each with two workers), run first.

pytest-xdist's ``--dist loadfile`` hands out files in collection order, so a long file that
comes last runs alone while the other worker idles; starting with the longest lets the two
workers finish together (longest-processing-time-first scheduling).
"""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order kept within
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow calibration suite: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _no_automatic_extension() -> Iterator[None]:
    """Fits in tests are not sampled again when they miss the gate, unless a test asks.

    The suite's fits use few draws on purpose, and most would miss the gate and run a second,
    twice-as-long time (``fit.extend``, default 1), doubling the suite's time without testing
    anything more. A test that passes ``extend`` (``tests/test_fit.py`` tests the extension
    itself) gets what it asks for; the notebooks get ``LCMODEL_EXTEND=0``. Session-scoped, so
    that module-scoped fitted fixtures are covered too.
    """
    from lcmodel.models.base import Model

    fit = Model.fit

    def fit_once(self: Model, *, progressbar: bool = True, **overrides: object) -> object:
        if overrides.get("extend") is None:
            overrides["extend"] = 0
        return fit(self, progressbar=progressbar, **overrides)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Model, "fit", fit_once)
        yield


@pytest.fixture(autouse=True)
def _reseed() -> None:
    """Reseed numpy's global generator before every test (nothing should rely on it)."""
    np.random.seed(12345)  # noqa: NPY002 - reseeds the legacy global state on purpose


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


SMALL_TRUST_FIT = {"draws": 300, "tune": 300, "chains": 2, "seed": 11}
"""The settings of the shared small fit of ``models/trust.toml`` (:func:`trust_fit`)."""


@pytest.fixture(scope="session")
def trust_model() -> UnitLevelModel:
    """``models/trust.toml`` on the shipped data, built once per test process."""
    from lcmodel import UnitLevelModel

    return UnitLevelModel.from_spec(MODELS / "trust.toml")


@pytest.fixture(scope="session")
def trust_fit(trust_model: UnitLevelModel) -> FitResult:
    """One small fit of ``models/trust.toml`` (:data:`SMALL_TRUST_FIT`), shared by every file.

    Tests read it and must not change it: one that adds groups to its posterior (the model
    checks do) works on ``trust_fit.with_posterior(trust_fit.idata.copy())``.
    """
    return trust_model.fit(progressbar=False, **SMALL_TRUST_FIT)
