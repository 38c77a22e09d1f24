#!/usr/bin/env bash
# Adds Optuna (the tuning benchmark's reference) to the bench virtualenv the train benchmark
# creates. Python is never a runtime dependency of keel. Prints the venv's python on its last line.
set -euo pipefail
PYTHON_BIN="$(bash "$(dirname "$0")/../train/setup-python.sh" | tail -n 1)"
VENV="$(dirname "$(dirname "$PYTHON_BIN")")"
exec 9>"$VENV.lock"
flock 9
if ! "$PYTHON_BIN" -c 'import optuna' 2>/dev/null; then
  echo "adding optuna to $VENV" >&2
  "$PYTHON_BIN" -m pip install --quiet --disable-pip-version-check "optuna>=4,<5" >&2
fi
echo "$PYTHON_BIN"
