"""The same spec, data and seed give the same draws whether the compile cache is empty or warm.

Each fit runs in a fresh Python process, so nothing compiled stays in memory between them: the
first with empty PyTensor and Numba caches (everything compiled afresh), the second with the
caches the first one filled (everything loaded from disk). With Numba's fast-math flags these
two differed in the last bits of the log density, and NUTS turned that into different draws.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lcmodel

DATA = Path(__file__).resolve().parents[1] / "data"

pytestmark = pytest.mark.sampling

SPEC = """\
name = "small"
data = "{data}/survey.csv"
areas = "{data}/areas.csv"

[outcome]
column = "trust"
family = "bernoulli"
success = ["Many can be trusted", "Some can be trusted"]
failure = ["A few can be trusted", "None can be trusted"]

[structure]
area = "area"

[fit]
draws = 50
tune = 50
chains = 2
seed = 7
extend = 0
"""

FIT = """\
import sys
import numpy as np
import lcmodel

result = lcmodel.model_from_spec(sys.argv[1]).fit(progressbar=False)
posterior = result.idata["posterior"]
np.savez(sys.argv[2], **{name: posterior[name].to_numpy() for name in posterior.data_vars})
"""


def _fit_in_fresh_process(spec: Path, cache: Path, out: Path) -> dict[str, np.ndarray]:
    source = str(Path(lcmodel.__file__).resolve().parents[1])
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
        "PYTENSOR_FLAGS": ",".join(filter(None, [flags, f"base_compiledir={cache / 'pytensor'}"])),
        "NUMBA_CACHE_DIR": str(cache / "numba"),
    }
    done = subprocess.run(
        [sys.executable, "-c", FIT, str(spec), str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(out) as saved:
        return {name: saved[name] for name in saved.files}


def test_empty_and_warm_compile_caches_give_identical_draws(tmp_path: Path) -> None:
    spec = tmp_path / "small.toml"
    spec.write_text(SPEC.format(data=DATA.as_posix()))
    cache = tmp_path / "cache"
    assert not cache.exists()
    cold = _fit_in_fresh_process(spec, cache, tmp_path / "cold.npz")
    assert any((cache / "pytensor" / "numba").iterdir()), "the first fit filled no cache"
    warm = _fit_in_fresh_process(spec, cache, tmp_path / "warm.npz")
    assert {"intercept", "sigma_area", "z_area", "area_value"} <= set(cold)
    assert cold.keys() == warm.keys()
    differing = [name for name in cold if not np.array_equal(cold[name], warm[name])]
    assert not differing, {name: float(np.abs(cold[name] - warm[name]).max()) for name in differing}
