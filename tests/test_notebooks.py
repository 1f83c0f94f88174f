"""Execute every notebook in ``notebooks/`` with a small MCMC run; any cell error fails."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

SMALL_RUN = {
    "LCMODEL_DRAWS": "200",
    "LCMODEL_TUNE": "200",
    "LCMODEL_CHAINS": "2",
    "LCMODEL_EXTEND": "0",
}
CELL_TIMEOUT_S = 600

# Cells tagged with this must produce output; each notebook listed here must have one.
OUTPUT_TAG = "estimates"
MUST_HAVE_TAG = {"01-quickstart.ipynb"}


class _ThisInterpreter(KernelSpecManager):
    """Kernel specs that always run ipykernel under the interpreter running the tests.

    A user-level ``python3`` kernelspec could point at another Python (without lcmodel);
    this makes the kernel use ``sys.executable`` whatever is installed where.
    """

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python ({sys.executable})",
            language="python",
            name=kernel_name,
        )


def _output_text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            parts.append(output["text"])
        for value in output.get("data", {}).values():
            parts.append(value if isinstance(value, str) else "")
    return "".join(parts)


def test_notebooks_found() -> None:
    assert NOTEBOOK_PATHS, f"no notebooks in {NOTEBOOKS}"


@pytest.mark.sampling
@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[p.name for p in NOTEBOOK_PATHS])
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SMALL_RUN.items():
        monkeypatch.setenv(name, value)  # the kernel inherits the test's environment
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}: store the notebook without outputs"

    km = KernelManager(kernel_name="python3", kernel_spec_manager=_ThisInterpreter())
    assert km.kernel_spec is not None
    assert km.kernel_spec.argv[0] == sys.executable
    client = NotebookClient(
        notebook,
        km=km,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        allow_errors=False,  # a failing cell raises CellExecutionError
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute(cleanup_kc=True)  # we own km: shut the kernel down and close channels

    tagged = [c for c in notebook.cells if OUTPUT_TAG in c.get("metadata", {}).get("tags", [])]
    if path.name in MUST_HAVE_TAG:
        assert tagged, f"{path.name}: no cell tagged '{OUTPUT_TAG}'"
    for cell in tagged:
        assert cell.outputs, f"{path.name}: the '{OUTPUT_TAG}' cell produced no output"
        assert _output_text(cell).strip(), f"{path.name}: the '{OUTPUT_TAG}' cell output is empty"
    if path.name == "01-quickstart.ipynb":
        assert "Hartley Cross" in _output_text(tagged[0])
        forest = [c for c in notebook.cells if "forest" in c.get("metadata", {}).get("tags", [])]
        assert any("image/png" in o.get("data", {}) for c in forest for o in c.outputs), (
            "the forest plot was not displayed"
        )
