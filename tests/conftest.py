"""Shared fixtures and the ``--run-slow`` option."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
DATA = ROOT / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow", action="store_true", default=False, help="run slow calibration suites"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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
