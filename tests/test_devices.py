"""Where the samplers run: ``[fit] device`` and the numpyro sampler's JAX devices."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MODELS
from lcmodel.errors import SpecError
from lcmodel.inference.samplers import resolve_sampler


def test_a_gpu_needs_a_sampler_that_runs_on_one() -> None:
    with pytest.raises(SpecError, match=r"sampler 'nutpie' runs on CPU only; device = 'gpu'"):
        resolve_sampler("nutpie", "gpu")
    assert resolve_sampler("pymc", "cpu") == "pymc"


def test_auto_on_a_gpu_is_numpyro() -> None:
    pytest.importorskip("numpyro")
    assert resolve_sampler("auto", "gpu") == "numpyro"


def _in_fresh_python(code: str) -> str:
    """Run ``code`` where JAX has not started yet, as in a new ``lcmodel fit``."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_numpyro_gets_one_cpu_device_per_chain() -> None:
    """Without it numpyro draws the chains one after another on JAX's single CPU device."""
    pytest.importorskip("jax")
    printed = _in_fresh_python(
        "from lcmodel.inference.sampling import jax_device\n"
        "import os\n"
        "os.environ.pop('XLA_FLAGS', None)\n"
        "with jax_device('cpu', 3) as how:\n"
        "    import jax\n"
        "    print(how, jax.device_count('cpu'), jax.numpy.zeros(2).devices().pop().platform)\n"
    )
    assert printed == "parallel 3 cpu"


def test_asking_for_a_missing_gpu_says_what_jax_sees() -> None:
    jax = pytest.importorskip("jax")
    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("this machine has a GPU")
    from lcmodel.inference.sampling import jax_device

    with pytest.raises(SpecError, match=r"JAX sees no GPU \(it sees: cpu\).*jax\[cuda12\]"):
        with jax_device("gpu", 2):
            pass


NUMPYRO_FIT = """
import hashlib, os
from pathlib import Path
from lcmodel import UnitLevelModel
model = UnitLevelModel.from_spec('{spec}')
result = model.fit(progressbar=False, draws=30, tune=30, chains=2, seed=7, sampler='numpyro',
                   device='cpu')
draws = result.posterior['area_value'].to_numpy()
folder = Path(os.environ['XDG_CACHE_HOME']) / 'lcmodel' / 'jax'
means = result.estimates()['mean']
print(result.metadata['sampler'], bool(means.between(0, 1).all()),
      hashlib.sha256(draws.tobytes()).hexdigest(), len(list(folder.iterdir())))
"""


@pytest.mark.sampling
def test_numpyro_keeps_compiled_code_between_processes(tmp_path: Path) -> None:
    """numpyro fits, and JAX's compilation cache is filled by one process and read by the next.

    The second process must draw exactly what the first drew: code read back from the cache
    computes the same bits as code compiled afresh.
    """
    pytest.importorskip("numpyro")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("JAX_COMPILATION_CACHE", "JAX_ENABLE_COMPILATION_CACHE"))
    }
    env["XDG_CACHE_HOME"] = str(tmp_path)
    code = NUMPYRO_FIT.format(spec=MODELS / "trust.toml")
    runs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
        )
        assert done.returncode == 0, done.stderr
        runs.append(done.stdout.split())
    assert [run[:2] for run in runs] == [["numpyro", "True"]] * 2  # estimates in [0, 1]
    (first_draws, first_entries), (second_draws, second_entries) = (run[2:] for run in runs)
    assert int(first_entries) > 10  # every compilation kept, not only those over 1 s
    assert second_entries == first_entries  # nothing compiled afresh
    assert second_draws == first_draws
