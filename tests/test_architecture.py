"""The layer rule of ARCHITECTURE.md: each layer imports only from the layers below it.

Imports are read from the source (any ``import lcmodel...`` outside an ``if TYPE_CHECKING:``
block, including imports inside functions), so a lazy import cannot hide an upward dependency.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "lcmodel"

LAYERS = [
    "errors",
    "discovery",
    "spec",
    "io",
    "families",
    "data",
    "design",
    "inference",
    "results",
    "models",
    "workflows",
    "reporting",
    "simulate",
    "cli",
    "__init__",
]
"""Bottom to top; the same list as ARCHITECTURE.md."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(path: Path) -> set[str]:
    """Every lcmodel module ``path`` imports at run time (at any depth)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("lcmodel"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lcmodel"):
            found.add(str(node.module))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_is_in_a_layer() -> None:
    unknown = sorted({_layer(m) for m in _modules()} - set(LAYERS))
    assert not unknown, f"modules outside every layer (add them to LAYERS): {unknown}"


def test_no_layer_imports_from_a_layer_above_it() -> None:
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = [
        f"{module} ({_layer(module)}) imports {target} ({_layer(target)})"
        for module, path in _modules().items()
        for target in _runtime_imports(path)
        if rank[_layer(target)] > rank[_layer(module)]
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycles_between_modules() -> None:
    modules = _modules()
    graph = {
        m: {t for t in _runtime_imports(p) if t in modules and t != m} for m, p in modules.items()
    }
    # a package's __init__ re-exporting its own modules is not a cycle of theirs
    graph = {m: {t for t in ts if not m.startswith(f"{t}.")} for m, ts in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def walk(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                walk(target, [*trail, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_layer_test_catches_an_upward_import(tmp_path: Path) -> None:
    """A negative control: an upward import in a low layer is found."""
    path = tmp_path / "spec_module.py"
    path.write_text("def f():\n    from lcmodel.models.base import Model\n    return Model\n")
    assert _runtime_imports(path) == {"lcmodel.models.base"}
    guarded = tmp_path / "guarded.py"
    guarded.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import lcmodel.cli\n"
    )
    assert _runtime_imports(guarded) == set()


def _imports_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    return set(done.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "import lcmodel",
        "from lcmodel.cli import build_parser; build_parser().format_help()",
        "import lcmodel.spec; lcmodel.spec.load_spec('models/social_joint.toml')",
    ],
    ids=["import", "help", "load-spec"],
)
def test_start_up_does_not_import_pymc(code: str) -> None:
    loaded = _imports_after(code)
    assert "lcmodel" in loaded
    assert not {"pymc", "pytensor", "arviz", "matplotlib", "dask", "distributed"} & loaded


def test_bad_spec_error_without_pymc(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text('name = "bad"\ndata = "x.csv"\n[outcome]\ncolumn = "trust"\nfamly = "x"\n')
    code = f"from lcmodel.cli import main\nassert main(['fit', {str(spec)!r}]) == 2\n"
    loaded = _imports_after(code)
    assert "lcmodel.cli" in loaded
    assert "pymc" not in loaded


def test_bad_data_error_without_pymc_or_scipy(tmp_path: Path) -> None:
    """A data error is the path a user meets most: it builds the model's data (pandas) and
    stops there, without PyMC, and without SciPy's optimisers and sparse matrices (0.3 s)."""
    spec = tmp_path / "bad.toml"
    spec.write_text(
        f'name = "bad"\ndata = "{ROOT / "data" / "survey.csv"}"\n[outcome]\n'
        'column = "trusst"\n[structure]\narea = "area"\n'
    )
    code = f"from lcmodel.cli import main\nassert main(['fit', {str(spec)!r}]) == 2\n"
    loaded = _imports_after(code)
    assert "lcmodel.data.survey" in loaded
    assert not {"pymc", "pytensor", "arviz", "scipy.optimize", "scipy.sparse"} & loaded


def test_old_name_warns_and_is_the_new_class() -> None:
    import lcmodel
    from lcmodel.models.unit_level import UnitLevelModel

    with pytest.warns(DeprecationWarning, match="lcmodel.UnitLevelModel"):
        old = lcmodel.AreaModel
    assert old is UnitLevelModel
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lcmodel.UnitLevelModel is UnitLevelModel


OLD_IMPORTS = """
import warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    from lcmodel.model import AreaModel
    from lcmodel.checks import score_distribution_check
    import lcmodel.area_level as area_level
    from lcmodel.data import SurveyData
    from lcmodel.results import FitResult, load
import lcmodel.models.unit_level, lcmodel.models.fay_herriot, lcmodel.workflows.checks
import lcmodel.data.survey, lcmodel.results.fit_result, lcmodel.results.folder
assert AreaModel is lcmodel.models.unit_level.UnitLevelModel
assert score_distribution_check is lcmodel.workflows.checks.score_distribution_check
assert area_level is lcmodel.models.fay_herriot
assert area_level.__spec__.name == "lcmodel.models.fay_herriot"
assert SurveyData is lcmodel.data.survey.SurveyData
assert (FitResult, load) == (lcmodel.results.fit_result.FitResult, lcmodel.results.folder.load)
for warning in caught:
    print(warning.category.__name__, warning.filename, str(warning.message), sep=" | ")
"""


def test_old_module_names_warn_and_are_the_new_modules() -> None:
    done = subprocess.run(
        [sys.executable, "-c", OLD_IMPORTS], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = set(done.stdout.splitlines())
    for old, new in [
        ("lcmodel.model", "lcmodel.models.unit_level"),
        ("lcmodel.checks", "lcmodel.workflows.checks"),
        ("lcmodel.area_level", "lcmodel.models.fay_herriot"),
        ("lcmodel.data.SurveyData", "lcmodel.data.survey.SurveyData"),
        ("lcmodel.results.load", "lcmodel.results.folder.load"),
    ]:
        message = f"{old} is now {new}; the old name will be removed in the next release"
        # attributed to the line that imports, not to lcmodel or the import machinery
        assert f"DeprecationWarning | <string> | {message}" in lines, done.stdout


def test_every_moved_module_exists() -> None:
    import lcmodel

    for old, new in lcmodel._MOVED_MODULES.items():
        assert importlib.util.find_spec(new) is not None, new
        assert not (ROOT / "src" / f"{old.replace('.', '/')}.py").exists(), old


def test_sampler_names_are_the_registry() -> None:
    from lcmodel.inference.samplers import SAMPLERS
    from lcmodel.spec.common import SAMPLERS as NAMES

    assert NAMES == ("auto", *SAMPLERS)


def test_the_layer_table_of_architecture_md_is_layers() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    table = re.findall(r"^\| (\d+) \| `([^`]+?)/?` \|", text, flags=re.MULTILINE)
    assert [int(number) for number, _ in table] == list(range(len(table)))
    assert [name for _, name in table] == LAYERS
