#!/usr/bin/env bash
# Creates (once) the Python environment of the train benchmark's reference: LightGBM, scikit-learn
# NumPy, onnx (its model checker) and moto in a virtualenv under ~/.cache/keel/bench-venv. Python is never a runtime dependency of
# keel; the benchmarks and the cross-checks in the tests use it (moto: the S3-compatible server the
# S3 artifact store is tested against; onnx: onnx.checker on exported models). Prints the venv's python path on its last line.
set -euo pipefail
VENV="${KEEL_BENCH_VENV:-$HOME/.cache/keel/bench-venv}"
PYTHON="${PYTHON:-python3}"
# Bounded to major versions; the bench prints the versions it ran with.
PACKAGES=("lightgbm>=4.6,<5" "scikit-learn>=1.5,<2" "numpy>=2,<3" "moto[server]>=5,<6" "onnx>=1.17,<2")
# Test files may ask at the same time: one creates the venv, the others wait for it.
mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import lightgbm, sklearn, numpy, moto.server, onnx' 2>/dev/null; then
  echo "creating $VENV (${PACKAGES[*]})" >&2
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PACKAGES[@]}" >&2
fi
echo "$VENV/bin/python"
