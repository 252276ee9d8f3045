#!/usr/bin/env bash
# Set up (scripts/setup.sh), check style, import layers and types, and run the whole test suite on
# every core (tests that share a graded class stay on one worker: --dist loadgroup).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/grading/test_cheats.py -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
layers=$(mktemp)
.venv/bin/lint-imports --no-cache >"$layers" || { cat "$layers"; exit 1; }
rm -f "$layers"
.venv/bin/mypy
workers=$(.venv/bin/python -c "import os; print(max(1, len(os.sched_getaffinity(0))))")
exec .venv/bin/python -m pytest -n "$workers" --dist loadgroup "$@"
