#!/usr/bin/env bash
# Makes sure the benchmark venv (~/.cache/keel/bench-venv, shared with bench:train) has SciPy and
# NumPy, the reference of `npm run bench:drift`. Idempotent: creates the venv if missing and
# installs only what is missing. Python is never a runtime dependency of keel.
# Prints the venv's python path on its last line.
set -euo pipefail
VENV="${KEEL_BENCH_VENV:-$HOME/.cache/keel/bench-venv}"
PYTHON="${PYTHON:-python3}"
PACKAGES=("scipy>=1.13,<2" "numpy>=2,<3")
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import scipy, numpy' 2>/dev/null; then
  echo "installing ${PACKAGES[*]} into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PACKAGES[@]}" >&2
fi
echo "$VENV/bin/python"
