"""Where the samplers run: ``[fit] device`` and the numpyro sampler's JAX devices."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
