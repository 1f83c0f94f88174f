"""The registries behind ARCHITECTURE.md's recipes: a new module is found, and its kind used.

A family, a spec kind and a model kind register themselves when their class is defined, and
each package imports all of its modules (``lcmodel.discovery``). These tests add a module to a
package and see it found, and define a new spec kind and model kind (as ``spec/<kind>.py`` and
``models/<kind>.py`` would) and see a spec file of that kind load, fit, save and load back.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytest

from conftest import DATA, MODELS, SMALL_TRUST_FIT
from lcmodel.discovery import import_modules, register
from lcmodel.families import FAMILIES
from lcmodel.families.bernoulli import BernoulliFamily
from lcmodel.models.registry import MODEL_TYPES, model_from_spec
from lcmodel.models.unit_level import UnitLevelModel
from lcmodel.results.fit_result import FitResult
from lcmodel.results.folder import load
from lcmodel.spec import KINDS, ModelSpec, load_spec


def test_a_new_module_of_a_package_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "plugins_for_test"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from lcmodel.discovery import import_modules\n"
        "FOUND = {}\n"
        "import_modules(__name__, __path__)\n"
    )
    (package / "poisson.py").write_text(
        "from plugins_for_test import FOUND\nFOUND['poisson'] = 1\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import plugins_for_test  # type: ignore[import-not-found]

    assert plugins_for_test.FOUND == {"poisson": 1}
    for name in [m for m in sys.modules if m.startswith("plugins_for_test")]:
        monkeypatch.delitem(sys.modules, name)


def test_the_packages_import_their_own_modules() -> None:
    """What the recipes rely on: every module of ``families/``, ``spec/``, ``models/`` loaded."""
    import lcmodel.families
    import lcmodel.models
    import lcmodel.spec

    for package in (lcmodel.families, lcmodel.models, lcmodel.spec):
        before = set(sys.modules)
        import_modules(package.__name__, package.__path__)
        assert set(sys.modules) == before, f"{package.__name__} had not imported every module"


def test_a_key_is_held_by_one_class() -> None:
    registry: dict[str, type] = {}
    first = type("First", (), {})
    register(registry, "x", first, "thing")
    register(registry, "x", first, "thing")  # the same class again (a reload) is fine
    with pytest.raises(TypeError, match=r"\.Second and .*\.First are both the thing 'x'"):
        register(registry, "x", type("Second", (), {}), "thing")


def test_families_register_by_name() -> None:
    assert {"bernoulli", "ordinal", "gaussian"} <= set(FAMILIES)

    class QuieterBernoulli(BernoulliFamily):  # keeps its parent's name: a variant, not a family
        pass

    assert FAMILIES["bernoulli"] is BernoulliFamily
    with pytest.raises(TypeError, match=r"both the family 'bernoulli'"):

        class OtherBernoulli(BernoulliFamily):
            name = "bernoulli"

    class CountsFamily(BernoulliFamily):
        name = "counts_for_test"

    try:
        assert FAMILIES["counts_for_test"] is CountsFamily
    finally:
        del FAMILIES["counts_for_test"]


class TwoStageSpec(ModelSpec):
    """A spec kind of the test's own: what a new ``spec/two_stage.py`` would define."""

    label = "two-stage spec"
    kind: Literal["two_stage"] = "two_stage"  # type: ignore[assignment]


class TwoStageModel(UnitLevelModel):
    """Its model: what a new ``models/two_stage.py`` would define."""

    kind = "two_stage"


REGISTERED = (KINDS.pop("two_stage", None), MODEL_TYPES.pop("two_stage", None))
"""What defining the two classes registered, taken out again so that no other test sees them."""


def test_defining_a_spec_and_a_model_class_registers_their_kind() -> None:
    assert REGISTERED == (TwoStageSpec, TwoStageModel)


@pytest.fixture
def two_stage() -> Iterator[None]:
    """The new kinds registered, as defining their classes did; removed afterwards."""
    KINDS["two_stage"], MODEL_TYPES["two_stage"] = TwoStageSpec, TwoStageModel
    yield
    del KINDS["two_stage"], MODEL_TYPES["two_stage"]


def _two_stage_file(folder: Path) -> Path:
    """``models/trust.toml`` declared as the new kind (its data paths made absolute)."""
    text = (MODELS / "trust.toml").read_text().replace('"../data/', f'"{DATA}/')
    path = folder / "two_stage.toml"
    path.write_text(f'kind = "two_stage"\n{text}')
    return path


def test_a_new_spec_kind_loads_and_finds_its_model(two_stage: None, tmp_path: Path) -> None:
    path = _two_stage_file(tmp_path)
    spec = load_spec(path)
    assert type(spec) is TwoStageSpec
    assert spec.data.is_absolute()  # resolved against the file's folder, keeping its class
    assert type(spec.with_overrides(draws=10)) is TwoStageSpec
    model = model_from_spec(path)
    assert type(model) is TwoStageModel
    with pytest.raises(Exception, match=r"is a two-stage spec, not a model spec"):
        load_spec(path, "unit_level")


@pytest.mark.sampling
def test_a_new_model_kind_fits_saves_and_loads_back(
    two_stage: None, tmp_path: Path, trust_fit: FitResult
) -> None:
    """The new kind goes through the one fit sequence: the trust model's draws, bit for bit.

    Its model is the trust model's, so the compiled model of the shared fit is reused.
    """
    model = model_from_spec(_two_stage_file(tmp_path))
    result = model.fit(progressbar=False, **SMALL_TRUST_FIT)
    assert isinstance(result, FitResult)
    np.testing.assert_array_equal(
        result.posterior["area_value"].to_numpy(), trust_fit.posterior["area_value"].to_numpy()
    )
    result.save(tmp_path / "out")
    again = load(tmp_path / "out")
    assert type(again.spec) is TwoStageSpec
    pd.testing.assert_frame_equal(again.estimates(), result.estimates())
