#!/bin/sh
# The national workloads with the JAX sampler (numpyro) on a GPU: benchmarks/scale.py's
# shipped and 32,844-area rows, 4 chains x 1,000 draws, chains vectorised on the one device.
#
# Needs JAX with GPU support in the Python that runs it (pip install 'lcmodel[numpyro]'
# 'jax[cuda12]'); says so and exits 3 when JAX sees no GPU. Writes the table to
# $OUT/gpu.md (or ./gpu.md) and the per-stage records beside it.
#
#   sh benchmarks/gpu.sh            # from the repository root
set -eu
python=${PYTHON:-python3}
out=${OUT:-.}
if ! "$python" -c "import jax, sys; sys.exit(not any(d.platform == 'gpu' for d in jax.devices()))" 2>/dev/null
then
    echo "JAX sees no GPU here ($("$python" -c 'import jax; print(jax.devices())' 2>&1 | tail -1));"
    echo "install JAX with GPU support (pip install 'jax[cuda12]') and run this again."
    exit 3
fi
"$python" -c "import jax; print('JAX', jax.__version__, jax.devices())"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
"$python" benchmarks/scale.py --workloads shipped,32844 --sampler numpyro --device gpu \
    --chains 4 --draws 1000 --tune 1000 --timeout 540 --data "$out/gpu-data" \
    --markdown "$out/gpu.md"
